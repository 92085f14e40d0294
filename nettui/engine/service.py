"""`nettui engine`: recover what a stopped engine left behind, then run pending executions.

A killed engine leaves executions "running" with its ``host:pid`` as owner. On start, an
engine marks every such execution whose owner is gone (a dead pid on this host, or no
heartbeat for a while from another host) as failed with the reason, fails its unfinished
steps, and frees its device locks. Completed steps stay as they were written; the undo records
they registered and that the dead runner had not run yet are run then (nettui.engine.undo).
"""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from catalog import models as m
from catalog.models.choices import ExecutionStatus, StepStatus
from catalog.store import Store
from nettui.engine.approvals import expire_approvals
from nettui.engine.runner import RUNNABLE, record_event, run_execution
from nettui.engine.undo import undo_pending_now

INTERRUPTED = "interrupted: engine stopped"
UNDO_WHY = "the engine running the execution stopped"
STALE_AFTER_S = 60.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def owner_gone(owner: str, heartbeat: Any, now: Any, stale_after: float) -> bool:
    host, _, pid = owner.rpartition(":")
    if not owner or not pid.isdigit():
        return True
    if host == socket.gethostname():
        return int(pid) != os.getpid() and not _pid_alive(int(pid))
    return heartbeat is None or (now - heartbeat) > timedelta(seconds=stale_after)


def recover_interrupted(store: Store, *, stale_after: float = STALE_AFTER_S) -> list[int]:
    """Fail the running executions whose engine is gone; their ids."""
    now = m.utcnow()
    recovered = []
    with store.session() as session:
        for execution in session.scalars(select(m.Execution).where(m.Execution.status == ExecutionStatus.RUNNING)):
            if not owner_gone(execution.owner, execution.heartbeat_at, now, stale_after):
                continue
            # One conditional UPDATE: two engines recovering at once do not both recover it
            # (and run its undo records twice).
            won: Any = session.execute(
                update(m.Execution)
                .where(m.Execution.id == execution.id, m.Execution.status == ExecutionStatus.RUNNING)
                .values(status=ExecutionStatus.FAILED, completed_at=now)
            )
            if won.rowcount != 1:
                continue
            execution.context = {**execution.context, "error": INTERRUPTED}
            session.execute(
                update(m.ExecutionStep)
                .where(
                    m.ExecutionStep.execution_id == execution.id,
                    m.ExecutionStep.status.in_((StepStatus.RUNNING, StepStatus.PENDING)),
                )
                .values(status=StepStatus.FAILED, completed_at=now, error_message=INTERRUPTED)
            )
            session.execute(delete(m.DeviceLock).where(m.DeviceLock.execution_id == execution.id))
            record_event(session, execution.id, "interrupted", f"owner {execution.owner} is gone")
            recovered.append(execution.id)
    # What its steps registered as undoable (e.g. a Nautobot change made before the device push)
    # died with its runner's memory: found in the store and run now, or recorded as not undone.
    for execution_id in recovered:
        undo_pending_now(store, execution_id, UNDO_WHY)
    return recovered


def pending_executions(store: Store) -> list[int]:
    with store.read_session() as session:
        return list(
            session.scalars(
                select(m.Execution.id)
                .where(m.Execution.status.in_(RUNNABLE))
                .where((m.Execution.scheduled_for.is_(None)) | (m.Execution.scheduled_for <= m.utcnow()))
                .order_by(m.Execution.id)
            )
        )


async def serve(
    store: Store,
    *,
    once: bool = False,
    concurrency: int = 4,
    poll_s: float = 1.0,
    stop: asyncio.Event | None = None,
    on_event: Any = None,
    scheduler: Any = None,
    sync_every_s: float = 5.0,
) -> None:
    """Recover, then run pending executions (``concurrency`` at a time) until ``stop`` is set;
    with ``once``, until nothing is pending."""
    from nettui.engine.dispatch import node_stopped, register_node

    say = on_event or (lambda _text: None)
    for execution_id in await asyncio.to_thread(recover_interrupted, store):
        say(f"execution {execution_id}: {INTERRUPTED}")
    stop = stop or asyncio.Event()
    running: dict[int, asyncio.Task[Any]] = {}
    # Say that an engine runs here, so `nettui run` elsewhere hands executions over to it.
    node = await asyncio.to_thread(register_node, store, ["runner"] + (["scheduler"] if scheduler else []))
    try:
        await _serve_loop(store, once, concurrency, poll_s, stop, say, scheduler, sync_every_s, node, running)
    finally:
        if running:
            await asyncio.gather(*running.values(), return_exceptions=True)
        await asyncio.to_thread(node_stopped, store, node)


async def _serve_loop(
    store: Store,
    once: bool,
    concurrency: int,
    poll_s: float,
    stop: asyncio.Event,
    say: Any,
    scheduler: Any,
    sync_every_s: float,
    node: str,
    running: dict[int, asyncio.Task[Any]],
) -> None:
    from nettui.engine.dispatch import NODE_HEARTBEAT_S, node_heartbeat

    synced = beat = 0.0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        if loop.time() - beat >= NODE_HEARTBEAT_S:
            await asyncio.to_thread(node_heartbeat, store, node)
            beat = loop.time()
        if loop.time() - synced >= sync_every_s:
            if scheduler is not None:
                await asyncio.to_thread(scheduler.sync)  # schedules added or changed since
            for execution_id in await asyncio.to_thread(expire_approvals, store):
                say(f"execution {execution_id}: approval timed out")
            synced = loop.time()
        for done in [i for i, t in running.items() if t.done()]:
            running.pop(done)
        free = concurrency - len(running)
        pending = [i for i in await asyncio.to_thread(pending_executions, store) if i not in running]
        for execution_id in pending[:free]:
            say(f"execution {execution_id}: starting")
            running[execution_id] = asyncio.create_task(_run_one(store, execution_id, say))
        if once and not running and not pending:
            break
        # Wake up when asked to stop, when an execution ends (a slot is free), or to poll.
        waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(stop.wait()), *running.values()}
        await asyncio.wait(waiters, timeout=poll_s, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            if waiter not in running.values() and not waiter.done():
                waiter.cancel()


async def _run_one(store: Store, execution_id: int, say: Any) -> None:
    from catalog.errors import NettuiError

    try:
        status = await run_execution(
            store, execution_id, on_event=lambda text: say(f"execution {execution_id}: {text}")
        )
        say(f"execution {execution_id}: {status.value}")
    except NettuiError as exc:  # another engine claimed it first, or it cannot run
        say(f"execution {execution_id}: {exc.what}")
