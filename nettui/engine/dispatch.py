"""Scale-out on PostgreSQL: executions as procrastinate jobs, exactly one active scheduler.

- ``nettui engine --worker`` runs procrastinate workers on the queue ``nettui-executions``;
  a job runs one execution (``run_execution``). The execution's own claim (one conditional
  UPDATE, pending -> running) makes a job that is delivered twice a no-op, and the per-device
  locks (``device_lock`` rows) hold across every process.
- ``nettui engine --scheduler`` takes a PostgreSQL advisory lock, on a connection it keeps
  open, before it fires anything: one scheduler is active, the others stand by and try again
  every second; when the active one dies its connection closes, the lock is released and a
  standby takes over. The active scheduler fires schedules (APScheduler), expires approvals,
  fails executions whose engine is gone, and hands every pending execution to the workers
  (a job per execution, at most one queued at a time thanks to procrastinate's queueing lock),
  so whatever wrote the execution (CLI, TUI, schedule, approval) needs no queue of its own.
- Every engine process registers an ``engine_node`` row and refreshes it every few seconds;
  ``nettui run`` hands an execution over only when a live engine will run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text, update

from catalog import models as m
from catalog.errors import NettuiError
from catalog.store import Store

if TYPE_CHECKING:
    import procrastinate

log = logging.getLogger(__name__)

QUEUE = "nettui-executions"
TASK_NAME = "nettui.run_execution"
NODE_HEARTBEAT_S = 5.0
NODE_STALE_S = 20.0
SCHEDULER_LOCK = "nettui-scheduler"


class DispatchError(NettuiError):
    """Scale-out cannot work as asked."""


def require_postgres(store: Store, what: str) -> None:
    if store.is_sqlite:
        raise DispatchError(
            f"{what} needs a PostgreSQL store; this one is SQLite",
            where=store.display_url,
            hint="set NETTUI_DATABASE_URL=postgresql+psycopg://USER@HOST/DB, or run `nettui engine` alone",
        )


def conninfo(store: Store) -> str:
    """The store's URL as libpq understands it (options such as search_path kept)."""
    return store.url.set(drivername="postgresql").render_as_string(hide_password=False)


# -- engine nodes -------------------------------------------------------------------------------


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def register_node(store: Store, roles: Iterable[str]) -> str:
    name = node_name()
    now = m.utcnow()
    with store.session() as session:
        node = session.scalars(select(m.EngineNode).where(m.EngineNode.name == name)).one_or_none()
        if node is None:
            node = m.EngineNode(name=name)
            session.add(node)
        node.roles, node.started_at, node.heartbeat_at = sorted(set(roles)), now, now
        node.stopped_at, node.active_scheduler = None, False
    return name


def node_heartbeat(store: Store, name: str, *, active_scheduler: bool | None = None) -> None:
    values: dict[str, Any] = {"heartbeat_at": m.utcnow()}
    if active_scheduler is not None:
        values["active_scheduler"] = active_scheduler
    with store.session() as session:
        session.execute(update(m.EngineNode).where(m.EngineNode.name == name).values(**values))


def node_stopped(store: Store, name: str) -> None:
    with store.session() as session:
        session.execute(
            update(m.EngineNode).where(m.EngineNode.name == name).values(stopped_at=m.utcnow(), active_scheduler=False)
        )


def live_nodes(store: Store, *, stale_after: float = NODE_STALE_S) -> list[m.EngineNode]:
    """Engines that said they were alive within ``stale_after`` seconds and have not stopped
    (on this host: whose process still exists)."""
    from nettui.engine.service import owner_gone

    now = m.utcnow()
    since = now - timedelta(seconds=stale_after)
    with store.read_session() as session:
        nodes = list(
            session.scalars(
                select(m.EngineNode)
                .where(m.EngineNode.stopped_at.is_(None), m.EngineNode.heartbeat_at >= since)
                .order_by(m.EngineNode.name)
            )
        )
        session.expunge_all()  # plain objects: the read transaction ends here
    return [n for n in nodes if n.name == node_name() or not owner_gone(n.name, n.heartbeat_at, now, stale_after)]


def engine_will_run(store: Store) -> str | None:
    """What will run a pending execution if this process does not: a description, or None.

    A plain engine (role runner) polls for pending executions; workers need an active
    scheduler to hand executions to them (or a deferred job, which ``nettui run`` adds)."""
    nodes = live_nodes(store)
    if any("runner" in n.roles for n in nodes):
        return "the engine"
    if any("worker" in n.roles for n in nodes):
        return "the engine workers"
    return None


# -- procrastinate --------------------------------------------------------------------------------


def ensure_queue_schema(store: Store) -> bool:
    """Install procrastinate's tables in the store once (several processes may race); True
    when this call installed them."""
    require_postgres(store, "the job queue")
    from procrastinate.schema import SchemaManager

    key = "nettui-procrastinate-schema"
    exists = text("SELECT to_regclass('procrastinate_jobs')")
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.execute(exists).scalar() is not None:
            return False
        # A session lock, and each check in a statement of its own: a transaction that waited
        # for the lock could still see the catalog as it was before the winner's commit.
        conn.execute(text("SELECT pg_advisory_lock(hashtext(current_schema() || :key))"), {"key": key})
        try:
            if conn.execute(exists).scalar() is not None:
                return False
            driver = conn.connection.driver_connection
            assert driver is not None
            with driver.transaction():
                driver.execute(SchemaManager.get_schema())  # several statements, no parameters
            return True
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(hashtext(current_schema() || :key))"), {"key": key})


def queue_installed(store: Store) -> bool:
    if store.is_sqlite:
        return False
    with store.read_session() as session:
        return session.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None


def queued_execution_ids(store: Store) -> set[int]:
    """Executions with a job waiting or running."""
    with store.read_session() as session:
        rows = session.execute(
            text(
                "SELECT (args->>'execution_id')::int FROM procrastinate_jobs"
                " WHERE task_name = :task AND status IN ('todo', 'doing')"
            ),
            {"task": TASK_NAME},
        )
        return {int(r[0]) for r in rows}


def make_app(store: Store, *, on_event: Callable[[str], None] | None = None) -> procrastinate.App:
    """A procrastinate App on the store's database, with the one task nettui defers."""
    import procrastinate

    say = on_event or (lambda _text: None)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(store), min_size=1, max_size=8))

    @app.task(name=TASK_NAME, queue=QUEUE)
    async def run_execution_job(execution_id: int) -> str:
        from nettui.engine.runner import run_execution

        say(f"execution {execution_id}: starting")
        try:
            status = await run_execution(
                store, execution_id, on_event=lambda line: say(f"execution {execution_id}: {line}")
            )
        except NettuiError as exc:  # already claimed by another worker, or not runnable any more
            say(f"execution {execution_id}: {exc.what}")
            return exc.what
        say(f"execution {execution_id}: {status.value}")
        return status.value

    return app


def _defer_one(app: procrastinate.App, execution_id: int) -> bool:
    from procrastinate.exceptions import AlreadyEnqueued

    try:
        app.tasks[TASK_NAME].configure(queueing_lock=f"execution-{execution_id}").defer(execution_id=execution_id)
    except AlreadyEnqueued:
        return False
    return True


async def _defer_one_async(app: procrastinate.App, execution_id: int) -> bool:
    from procrastinate.exceptions import AlreadyEnqueued

    try:
        await (
            app.tasks[TASK_NAME]
            .configure(queueing_lock=f"execution-{execution_id}")
            .defer_async(execution_id=execution_id)
        )
    except AlreadyEnqueued:
        return False
    return True


def defer_executions(store: Store, execution_ids: Iterable[int]) -> list[int]:
    """Queue a job for each execution that has none queued yet; the ids queued now."""
    ensure_queue_schema(store)
    app = make_app(store)
    queued = []
    with app.open():
        for execution_id in execution_ids:
            if _defer_one(app, execution_id):
                queued.append(execution_id)
    return queued


# -- the roles of `nettui engine` -----------------------------------------------------------------


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _node_heartbeats(store: Store, name: str, stop: asyncio.Event, state: dict[str, bool]) -> None:
    while not stop.is_set():
        try:
            await asyncio.to_thread(node_heartbeat, store, name, active_scheduler=state.get("active", False))
        except Exception as exc:  # the database is away for a moment: say so, keep going
            log.warning("engine heartbeat failed: %s", exc)
        await _sleep_unless(stop, NODE_HEARTBEAT_S)


async def run_worker(
    store: Store,
    stop: asyncio.Event,
    *,
    concurrency: int = 4,
    on_event: Callable[[str], None] | None = None,
    app: procrastinate.App | None = None,
) -> None:
    """Run execution jobs until ``stop`` is set; running jobs finish first."""
    say = on_event or (lambda _text: None)
    app = app or make_app(store, on_event=say)
    async with app.open_async():
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=[QUEUE],
                concurrency=concurrency,
                name=node_name(),
                install_signal_handlers=False,
                fetch_job_polling_interval=1.0,
                delete_jobs="successful",
            )
        )
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({worker, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not worker.done():
            worker.cancel()  # procrastinate stops fetching and waits for the jobs it runs
        stopper.cancel()
        await asyncio.gather(worker, return_exceptions=True)


class LeaderLock:
    """A PostgreSQL session advisory lock held on a connection of its own: whoever holds it
    is the active scheduler. Scoped to the store's schema, so stores in one database do not
    compete."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn: Any = None

    async def try_acquire(self) -> bool:
        import psycopg

        try:
            if self.conn is None or self.conn.closed:
                self.conn = await psycopg.AsyncConnection.connect(conninfo(self.store), autocommit=True)
            cursor = await self.conn.execute(
                "SELECT pg_try_advisory_lock(hashtext(current_schema() || %s))", (SCHEDULER_LOCK,)
            )
            row = await cursor.fetchone()
            return bool(row and row[0])
        except psycopg.Error as exc:
            log.warning("scheduler lock: %s", exc)
            await self.release()
            return False

    async def still_held(self) -> bool:
        import psycopg

        if self.conn is None or self.conn.closed:
            return False
        try:
            await self.conn.execute("SELECT 1")
        except psycopg.Error:
            await self.release()
            return False
        return True

    async def release(self) -> None:
        if self.conn is not None:
            try:
                await self.conn.close()  # closing the session releases its advisory locks
            except Exception as exc:
                log.debug("closing the scheduler lock connection: %s", exc)
            self.conn = None


async def run_scheduler(
    store: Store,
    stop: asyncio.Event,
    *,
    dispatch: bool = True,
    on_event: Callable[[str], None] | None = None,
    state: dict[str, bool] | None = None,
    poll_s: float = 1.0,
    grace_s: int | None = None,
) -> None:
    """Stand by until this process holds the scheduler lock, then fire schedules (and, with
    ``dispatch``, hand pending executions to the workers) until ``stop`` is set; if the lock's
    connection is lost, stand by again."""
    from contextlib import AsyncExitStack

    state = state if state is not None else {}
    say = on_event or (lambda _text: None)
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(make_app(store, on_event=say).open_async()) if dispatch else None
        lock = LeaderLock(store)
        stack.push_async_callback(lock.release)
        await _lead(store, stop, lock, app, say, state, poll_s, grace_s)


async def _lead(
    store: Store,
    stop: asyncio.Event,
    lock: LeaderLock,
    app: procrastinate.App | None,
    say: Callable[[str], None],
    state: dict[str, bool],
    poll_s: float,
    grace_s: int | None,
) -> None:
    from nettui.engine.approvals import expire_approvals
    from nettui.engine.scheduling import Scheduler
    from nettui.engine.service import pending_executions, recover_interrupted

    scheduler: Scheduler | None = None
    say("scheduler: standing by")
    loop = asyncio.get_running_loop()
    synced = 0.0
    try:
        while not stop.is_set():
            if scheduler is None:
                if await lock.try_acquire():
                    state["active"] = True
                    await asyncio.to_thread(node_heartbeat, store, node_name(), active_scheduler=True)
                    say("scheduler: active")
                    scheduler = Scheduler(store) if grace_s is None else Scheduler(store, grace_s=grace_s)
                    scheduler.start()  # a run missed while no scheduler was active fires now
                    synced = loop.time()
            elif not await lock.still_held():
                say("scheduler: lost the database connection; standing by")
                scheduler.shutdown()
                scheduler, state["active"] = None, False
            if scheduler is not None:
                if loop.time() - synced >= 5.0:
                    await asyncio.to_thread(scheduler.sync)
                    for execution_id in await asyncio.to_thread(expire_approvals, store):
                        say(f"execution {execution_id}: approval timed out")
                    for execution_id in await asyncio.to_thread(recover_interrupted, store):
                        say(f"execution {execution_id}: interrupted: engine stopped")
                    synced = loop.time()
                if app is not None:
                    queued = await asyncio.to_thread(queued_execution_ids, store)
                    for execution_id in await asyncio.to_thread(pending_executions, store):
                        if execution_id not in queued and await _defer_one_async(app, execution_id):
                            say(f"execution {execution_id}: queued")
            await _sleep_unless(stop, poll_s)
    finally:
        if scheduler is not None:
            scheduler.shutdown()
        state["active"] = False


async def serve_distributed(
    store: Store,
    stop: asyncio.Event,
    *,
    worker: bool,
    scheduler: bool,
    concurrency: int = 4,
    on_event: Callable[[str], None] | None = None,
) -> None:
    """`nettui engine --worker` and/or `--scheduler`."""
    from nettui.engine.service import recover_interrupted

    require_postgres(store, "`nettui engine --worker/--scheduler`")
    say = on_event or (lambda _text: None)
    await asyncio.to_thread(ensure_queue_schema, store)
    roles = (["worker"] if worker else []) + (["scheduler"] if scheduler else [])
    name = await asyncio.to_thread(register_node, store, roles)
    for execution_id in await asyncio.to_thread(recover_interrupted, store):
        say(f"execution {execution_id}: interrupted: engine stopped")
    state: dict[str, bool] = {}
    tasks = [asyncio.create_task(_node_heartbeats(store, name, stop, state))]
    if worker:  # each role opens its own connection pool
        tasks.append(asyncio.create_task(run_worker(store, stop, concurrency=concurrency, on_event=say)))
    if scheduler:
        tasks.append(asyncio.create_task(run_scheduler(store, stop, dispatch=True, on_event=say, state=state)))
    try:
        await asyncio.gather(*tasks)
    finally:
        await asyncio.to_thread(node_stopped, store, name)
