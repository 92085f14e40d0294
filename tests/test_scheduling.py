"""Schedules on SQLite and PostgreSQL: kept in the store, fired by the engine's APScheduler,
surviving a restart, a missed run fired once on start within the grace period (and dropped
outside it). The clock is controlled by moving the job's next run time, as a stopped engine
would find it."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from catalog import models as m
from catalog.models.choices import ScheduleTrigger
from catalog.store import Store
from catalog.sync import import_catalog
from nettui.engine.scheduling import JOB_PREFIX, ScheduleError, Scheduler, add_schedule
from tests.conftest import run_cli


@pytest.fixture
def sched_store(store: Store, tmp_path: Path) -> Store:
    with store.engine.begin() as conn:  # APScheduler's own table is not emptied by the fixture
        conn.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
    (tmp_path / "wf.yaml").write_text(
        "kind: workflow\nslug: nightly\nname: Nightly\nschedule_allowed: true\nsteps:\n"
        "  - name: Check\n    step_type: validation\n    config: {expression: 'true'}\n"
    )
    (tmp_path / "manual.yaml").write_text("kind: workflow\nslug: manual\nname: Manual only\n")
    import_catalog(store, [tmp_path])
    with store.session() as session:
        session.add(m.User(username="ops", role="operator"))
        session.add(m.User(username="watcher", role="viewer"))
        session.add(m.Device(name="sw1", host="192.0.2.1"))
    return store


def _executions(store: Store) -> list[int]:
    with store.read_session() as session:
        return list(session.scalars(select(m.Execution.id).order_by(m.Execution.id)))


def test_bad_schedules_are_refused(sched_store: Store) -> None:
    def add(**kw: object) -> None:
        args: dict[str, object] = {
            "name": "x",
            "workflow_slug": "nightly",
            "trigger": ScheduleTrigger.INTERVAL,
            "expression": "1h",
            "devices": ["sw1"],
            "inputs": {},
            "requested_by": "ops",
        }
        args.update(kw)
        add_schedule(sched_store, **args)  # type: ignore[arg-type]

    with pytest.raises(ScheduleError, match="does not allow schedules"):
        add(workflow_slug="manual")
    with pytest.raises(ScheduleError, match="not an operator"):
        add(requested_by="watcher")
    with pytest.raises(ScheduleError, match="bad cron line"):
        add(trigger=ScheduleTrigger.CRON, expression="61 * * * *")
    with pytest.raises(ScheduleError, match="bad interval"):
        add(expression="0m")
    add()
    with pytest.raises(ScheduleError, match="a schedule named 'x' exists"):
        add()


def _run_scheduler(store: Store, action, grace_s: int = 3600) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        scheduler = Scheduler(store, grace_s=grace_s)
        scheduler.start()
        try:
            await action(scheduler)
        finally:
            scheduler.shutdown()

    asyncio.run(main())


def _wait_for(predicate, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(("missed_by", "fires"), [(timedelta(minutes=10), True), (timedelta(hours=3), False)])
def test_a_run_missed_while_the_engine_was_down(sched_store: Store, missed_by: timedelta, fires: bool) -> None:
    # Daily, so that the only run time between "then" and now is the missed one.
    schedule_id = add_schedule(
        sched_store,
        "daily",
        "nightly",
        ScheduleTrigger.CRON,
        "30 2 * * *",
        devices=["sw1"],
        inputs={},
        requested_by="ops",
    )
    job_id = JOB_PREFIX + str(schedule_id)

    async def first_engine(scheduler: Scheduler) -> None:
        job = scheduler.scheduler.get_job(job_id)
        assert job is not None and job.next_run_time > datetime.now(UTC)
        # The engine goes down just before this run was due: it is now `missed_by` late.
        scheduler.scheduler.pause()  # this engine processes nothing more
        scheduler.scheduler.modify_job(job_id, next_run_time=datetime.now(UTC) - missed_by)

    _run_scheduler(sched_store, first_engine)
    assert _executions(sched_store) == []

    async def restarted_engine(scheduler: Scheduler) -> None:
        await asyncio.sleep(1.5)  # APScheduler processes due jobs right after start
        job = scheduler.scheduler.get_job(job_id)
        assert job is not None and job.next_run_time > datetime.now(UTC)  # and it stays scheduled

    _run_scheduler(sched_store, restarted_engine)
    if fires:
        assert _wait_for(lambda: len(_executions(sched_store)) == 1)
        with sched_store.read_session() as session:
            events = session.scalars(select(m.ExecutionEvent.kind).order_by(m.ExecutionEvent.id)).all()
            assert events == ["submitted", "scheduled"]
    else:
        time.sleep(0.5)
        assert _executions(sched_store) == []  # too late: dropped, not run hours after its time


def test_paused_schedules_do_not_fire_and_cli(sched_store: Store) -> None:
    import getpass

    with sched_store.session() as session:
        session.add(m.User(username=getpass.getuser(), role="operator"))
    added = run_cli(
        sched_store,
        "schedules",
        "add",
        "nightly-ntp",
        "--workflow",
        "nightly",
        "--device",
        "sw1",
        "--cron",
        "0 2 * * *",
    )
    assert added.exit_code == 0, added.output
    assert run_cli(sched_store, "schedules", "pause", "nightly-ntp").exit_code == 0
    listed = run_cli(sched_store, "schedules", "list", "--json")
    assert '"enabled": false' in listed.stdout and '"expression": "0 2 * * *"' in listed.stdout

    async def check(scheduler: Scheduler) -> None:
        (job,) = scheduler.scheduler.get_jobs()
        assert job.next_run_time is None  # paused
        assert run_cli(sched_store, "schedules", "resume", "nightly-ntp").exit_code == 0
        scheduler.sync()
        (job,) = scheduler.scheduler.get_jobs()
        assert job.next_run_time is not None and job.next_run_time.hour == 2
        assert run_cli(sched_store, "schedules", "remove", "nightly-ntp").exit_code == 0
        scheduler.sync()
        assert scheduler.scheduler.get_jobs() == []

    _run_scheduler(sched_store, check)
    both = run_cli(
        sched_store,
        "schedules",
        "add",
        "y",
        "--workflow",
        "nightly",
        "--device",
        "sw1",
        "--every",
        "1h",
        "--cron",
        "0 2 * * *",
    )
    assert both.exit_code != 0 and "exactly one of --every, --cron and --at" in both.output
