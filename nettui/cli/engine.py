"""`nettui engine`: the headless engine service."""

from __future__ import annotations

import asyncio
import signal

import click

from nettui.cli import AppContext, pass_app
from nettui.cli.output import progress


@click.command(name="engine")
@click.option("--once", is_flag=True, help="Run what is pending, then exit (for cron and tests).")
@click.option("--concurrency", type=click.IntRange(1, 1000), default=4, show_default=True, help="Executions at a time.")
@click.option("--no-scheduler", is_flag=True, help="Run executions only; fire no schedules.")
@pass_app
def group(app: AppContext, once: bool, concurrency: int, no_scheduler: bool) -> None:
    """Run pending executions and fire schedules; first fail the executions a stopped engine
    left running.

    Stops cleanly on SIGTERM or Ctrl-C (running executions finish their current work).
    """
    from nettui.engine.service import serve

    store = app.store()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        scheduler = None
        if not no_scheduler:
            from nettui.engine.scheduling import Scheduler

            scheduler = Scheduler(store)
            scheduler.start()  # fires a run missed while the engine was down, within the grace period
        progress(f"engine on {store.display_url}: {concurrency} execution(s) at a time")
        try:
            await serve(store, once=once, concurrency=concurrency, stop=stop, on_event=progress, scheduler=scheduler)
        finally:
            if scheduler is not None:
                scheduler.shutdown()

    asyncio.run(main())
