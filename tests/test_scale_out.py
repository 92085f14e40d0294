"""Scale-out on PostgreSQL, with real processes: two `nettui engine --worker` and two
`nettui engine --scheduler` on one store, executions against lab devices over real SSH.

Every execution runs exactly once, no device is changed by two executions at once, and when
the active scheduler is killed (SIGKILL) the standby takes over and fires the next schedule."""

from __future__ import annotations

import asyncio
import getpass
import itertools
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog import models as m
from catalog.models.choices import ExecutionStatus, ScheduleTrigger, StepStatus
from catalog.store import Store
from catalog.sync import import_catalog
from nettui.engine.dispatch import (
    DispatchError,
    defer_executions,
    engine_will_run,
    ensure_queue_schema,
    live_nodes,
    queue_installed,
)
from nettui.engine.runner import submit
from nettui.engine.scheduling import add_schedule
from nettui.lab import LabThread, run_lab_in_thread
from tests.conftest import run_cli
from tests.lab_store import seed_lab_store

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PLATFORMS = ["cisco_ios", "arista_eos", "cisco_nxos"]
SLOW_VLAN = (
    "kind: workflow\nslug: slow-vlan\nname: Slow VLAN\nschedule_allowed: true\n"
    "input_schema: {type: object, required: [vid], properties: {vid: {type: integer}}}\n"
    "steps:\n"
    "  - name: Change\n    step_type: task\n    task: create-vlan\n"
    "    input_mapping: {vlan: {vid: '{{ inputs.vid }}', name: 'scale{{ inputs.vid }}'}}\n"
    "  - name: Soak\n    step_type: wait\n    config: {duration: 0.4s}\n"
)


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=3, platforms=PLATFORMS, password="so-pw", enable_secret="so-en") as handle:
        yield handle


@pytest.fixture
def pg_store(empty_postgres_url: str, lab: LabThread, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Store:
    store = Store(empty_postgres_url)
    store.upgrade()
    seed_lab_store(store, lab, monkeypatch, password="so-pw", enable_secret="so-en")
    with store.session() as session:  # `nettui run` acts as the OS login
        session.add(m.User(username=getpass.getuser(), role="operator"))
    (tmp_path / "wf.yaml").write_text(SLOW_VLAN)
    import_catalog(store, [tmp_path / "wf.yaml"])
    return store


class Engines:
    def __init__(self, store: Store, logs: Path) -> None:
        self.url = store.url.render_as_string(hide_password=False)
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, label: str, *flags: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{label}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "nettui.cli", "--database", self.url, "engine", *flags],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ},
        )
        self.procs[label] = proc
        return proc

    def log(self, label: str) -> str:
        return (self.logs / f"{label}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _wait_for(predicate: object, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def _statuses(store: Store, ids: list[int]) -> dict[int, ExecutionStatus]:
    with store.read_session() as session:
        return dict(session.execute(select(m.Execution.id, m.Execution.status).where(m.Execution.id.in_(ids))).all())


def _vlans(lab: LabThread, name: str) -> dict[int, str]:
    return dict(lab.device(name).state.config.vlans)  # type: ignore[union-attr]


def _active_schedulers(store: Store) -> list[str]:
    return [n.name for n in live_nodes(store) if n.active_scheduler]


def test_two_workers_two_schedulers_run_each_execution_once_and_the_standby_takes_over(
    lab: LabThread, pg_store: Store, tmp_path: Path
) -> None:
    store = pg_store
    engines = Engines(store, tmp_path)
    try:
        for label in ("worker-a", "worker-b"):
            engines.start(label, "--worker", "--concurrency", "3")
        schedulers = {label: engines.start(label, "--scheduler") for label in ("scheduler-a", "scheduler-b")}
        _wait_for(lambda: len(_active_schedulers(store)) == 1, "one active scheduler")
        _wait_for(lambda: sum("worker" in n.roles for n in live_nodes(store)) == 2, "two live workers")
        assert engine_will_run(store) == "the engine workers"

        # 12 executions over 3 devices: 4 want each device, all at once.
        devices = [d.name for d in lab.devices]
        ids = [submit(store, "slow-vlan", [devices[i % 3]], {"vid": 900 + i}, requested_by="ops") for i in range(12)]
        _wait_for(lambda: set(_statuses(store, ids).values()) == {ExecutionStatus.COMPLETED}, "12 completed")

        with store.read_session() as session:
            # exactly once: one "started" event and one row per step per execution
            started = dict(
                session.execute(
                    select(m.ExecutionEvent.execution_id, func.count())
                    .where(m.ExecutionEvent.execution_id.in_(ids), m.ExecutionEvent.kind == "started")
                    .group_by(m.ExecutionEvent.execution_id)
                ).all()
            )
            assert started == dict.fromkeys(ids, 1)
            steps = session.scalars(select(m.ExecutionStep).where(m.ExecutionStep.execution_id.in_(ids))).all()
            per_execution: dict[int, list[int]] = defaultdict(list)
            for step in steps:
                per_execution[step.execution_id].append(step.order)
                assert step.status == StepStatus.COMPLETED
            assert {i: sorted(o) for i, o in per_execution.items()} == {i: [1, 2] for i in ids}
            # both workers took work
            owners = {e.owner for e in session.scalars(select(m.Execution).where(m.Execution.id.in_(ids)))}
            worker_pids = {str(engines.procs[w].pid) for w in ("worker-a", "worker-b")}
            assert {o.rsplit(":", 1)[1] for o in owners} == worker_pids
            # no device changed by two executions at once: between an execution taking a
            # device's lock and releasing it (after the change and the soak), no other does
            events = session.scalars(
                select(m.ExecutionEvent)
                .where(m.ExecutionEvent.kind.in_(("device_locked", "device_released")))
                .order_by(m.ExecutionEvent.id)
            ).all()
            taken: dict[tuple[int, str], datetime] = {}
            spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
            for event in events:
                if event.kind == "device_locked":
                    taken[(event.execution_id, event.detail)] = event.at
                else:
                    spans[event.detail].append((taken.pop((event.execution_id, event.detail)), event.at))
            assert taken == {} and sorted(spans) == sorted(devices) and sum(map(len, spans.values())) == 12
            for device_spans in spans.values():
                device_spans.sort()
                for (_, end), (start, _) in itertools.pairwise(device_spans):
                    assert end <= start, "two executions changed one device at the same time"
        for i in range(12):
            assert _vlans(lab, devices[i % 3]).get(900 + i) == f"scale{900 + i}"

        # The active scheduler dies; the standby takes over and fires the next schedule.
        (active,) = _active_schedulers(store)
        killed = next(label for label, proc in schedulers.items() if active.endswith(f":{proc.pid}"))
        schedulers[killed].send_signal(signal.SIGKILL)
        schedulers[killed].wait(10)
        standby = next(label for label in schedulers if label != killed)
        when = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
        add_schedule(
            store,
            "after-failover",
            "slow-vlan",
            ScheduleTrigger.DATE,
            when,
            devices=[devices[0]],
            inputs={"vid": 950},
            requested_by="ops",
        )

        def fired() -> bool:
            with store.read_session() as session:
                return (
                    session.scalars(
                        select(m.Execution.id)
                        .join(m.ExecutionEvent)
                        .where(m.ExecutionEvent.kind == "scheduled", m.Execution.status == ExecutionStatus.COMPLETED)
                    ).first()
                    is not None
                )

        _wait_for(fired, "the schedule to fire after the failover")
        assert _active_schedulers(store) == [f"{active.rsplit(':', 1)[0]}:{schedulers[standby].pid}"]
        assert "scheduler: active" in engines.log(standby)
        assert _vlans(lab, devices[0]).get(950) == "scale950"
    finally:
        engines.stop_all()
    assert all(proc.returncode is not None for proc in engines.procs.values())
    with store.read_session() as session:  # all but the killed one said they stopped
        running = session.scalars(select(m.EngineNode.name).where(m.EngineNode.stopped_at.is_(None))).all()
    codes = {label: proc.returncode for label, proc in engines.procs.items()}
    assert running == [active], f"{codes} {[(label, p.pid) for label, p in engines.procs.items()]}"
    store.dispose()


def test_run_hands_over_to_live_workers_and_waits(lab: LabThread, pg_store: Store, tmp_path: Path) -> None:
    store = pg_store
    engines = Engines(store, tmp_path)
    device = lab.devices[1].name
    try:
        engines.start("both", "--worker", "--scheduler")
        _wait_for(lambda: len(_active_schedulers(store)) == 1, "the scheduler")
        # Without --wait: handed over, the id on stdout, exit 0 at once.
        result = run_cli(store, "run", "slow-vlan", "--device", device, "--input", "vid=960")
        assert result.exit_code == 0, result.output
        execution_id = int(result.stdout.strip())
        assert "handed to the engine workers" in result.stderr
        _wait_for(lambda: _statuses(store, [execution_id])[execution_id] == ExecutionStatus.COMPLETED, "it to run")
        # With --wait: follows the logs and exits with the execution's status.
        result = run_cli(store, "run", "slow-vlan", "--device", device, "--input", "vid=961", "--wait")
        assert result.exit_code == 0, result.output
        assert "[2 Soak] waiting" in result.stdout and "completed" in result.stderr
    finally:
        engines.stop_all()
    assert _vlans(lab, device).get(961) == "scale961"


def test_scale_out_needs_postgres_and_says_so(sqlite_store: Store) -> None:
    with pytest.raises(DispatchError) as caught:
        ensure_queue_schema(sqlite_store)
    assert "needs a PostgreSQL store" in caught.value.what and "NETTUI_DATABASE_URL" in (caught.value.hint or "")
    result = run_cli(sqlite_store, "engine", "--worker")
    assert result.exit_code != 0 and "needs a PostgreSQL store" in result.stderr
    assert "Traceback" not in result.output
    assert queue_installed(sqlite_store) is False


def test_the_queue_schema_installs_once_and_a_job_is_queued_once(empty_postgres_url: str) -> None:
    store = Store(empty_postgres_url)
    store.upgrade()
    results = asyncio.run(_race(store))
    assert sorted(results) == [False, False, False, True]  # four processes' worth of racing: one installs
    assert queue_installed(store)
    assert defer_executions(store, [41]) == [41]
    assert defer_executions(store, [41, 42]) == [42]  # 41 is queued already
    with store.read_session() as session:
        from sqlalchemy import text

        rows = session.execute(text("SELECT args->>'execution_id', status FROM procrastinate_jobs ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("41", "todo"), ("42", "todo")]
    store.dispose()


async def _race(store: Store) -> list[bool]:
    stores = [Store(store.url) for _ in range(4)]
    try:
        return list(await asyncio.gather(*(asyncio.to_thread(ensure_queue_schema, s) for s in stores)))
    finally:
        for s in stores:
            s.dispose()
