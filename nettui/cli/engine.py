"""`nettui engine`: the headless engine service."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import click

from nettui.cli import AppContext, pass_app
from nettui.cli.output import progress


@click.command(name="engine")
@click.option("--once", is_flag=True, help="Run what is pending, then exit (for cron and tests).")
@click.option("--concurrency", type=click.IntRange(1, 1000), default=4, show_default=True, help="Executions at a time.")
@click.option("--no-scheduler", is_flag=True, help="Run executions only; fire no schedules.")
@click.option(
    "--worker",
    is_flag=True,
    help="Scale-out (PostgreSQL): run executions handed out as jobs; start as many workers as you like.",
)
@click.option(
    "--scheduler",
    "scheduler_role",
    is_flag=True,
    help="Scale-out (PostgreSQL): fire schedules and hand executions to the workers; one is active, others stand by.",
)
@pass_app
def group(
    app: AppContext, once: bool, concurrency: int, no_scheduler: bool, worker: bool, scheduler_role: bool
) -> None:
    """Run pending executions and fire schedules; first fail the executions a stopped engine
    left running.

    \b
    One machine:   nettui engine
    Scale-out:     nettui engine --scheduler      (two or more, for a standby)
                   nettui engine --worker         (as many as you need)
                   nettui engine --worker --scheduler   (both in one process)

    Stops cleanly on SIGTERM or Ctrl-C (running executions finish their current work).
    """
    store = app.store()
    if (worker or scheduler_role) and (once or no_scheduler):
        raise click.UsageError("--once and --no-scheduler apply to the one-machine engine, not to --worker/--scheduler")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if worker or scheduler_role:
            from nettui.engine.dispatch import serve_distributed

            roles = " and ".join(r for r, on in (("worker", worker), ("scheduler", scheduler_role)) if on)
            progress(f"engine {roles} on {store.display_url}" + (f": {concurrency} at a time" if worker else ""))
            await serve_distributed(
                store, stop, worker=worker, scheduler=scheduler_role, concurrency=concurrency, on_event=progress
            )
            return
        await _one_machine(store, stop, once=once, concurrency=concurrency, with_scheduler=not no_scheduler)

    asyncio.run(main())


async def _one_machine(store: Any, stop: asyncio.Event, *, once: bool, concurrency: int, with_scheduler: bool) -> None:
    from nettui.engine.service import serve

    progress(f"engine on {store.display_url}: {concurrency} execution(s) at a time")
    if not with_scheduler:
        await serve(store, once=once, concurrency=concurrency, stop=stop, on_event=progress)
        return
    if not store.is_sqlite:
        # Several engines may share a PostgreSQL store: only the one holding the scheduler
        # lock fires schedules.
        from nettui.engine.dispatch import run_scheduler

        leader = asyncio.create_task(run_scheduler(store, stop, dispatch=False, on_event=progress))
        try:
            await serve(store, once=once, concurrency=concurrency, stop=stop, on_event=progress)
        finally:
            stop.set()
            await asyncio.gather(leader, return_exceptions=True)
        return
    from nettui.engine.scheduling import Scheduler

    scheduler = Scheduler(store)
    scheduler.start()  # fires a run missed while the engine was down, within the grace period
    try:
        await serve(store, once=once, concurrency=concurrency, stop=stop, on_event=progress, scheduler=scheduler)
    finally:
        scheduler.shutdown()
