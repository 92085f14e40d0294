"""Undo when an execution ends without its runner (issue 10, part 3): a Nautobot change made
before the device push is put back, or the execution says plainly that it was not, when

* the engine dies (SIGKILL) between the Nautobot update and the push: a restarted engine's
  recovery finds the pending undo in the store and runs it;
* the approval placed after the update is rejected, times out, or the execution is cancelled
  while it waits (or after approval, before it resumes).

Against the real Nautobot 3.2 of tests/nautobot_harness.py and a real engine process; the fixtures
and helpers are those of tests/test_nautobot_writeback.py. The fast tests at the end need no
Nautobot: the store holds what a runner would have left, and recovery or a rejection runs it.
"""

# The fixtures come from test_nautobot_writeback; a test's parameter of the same name is them.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from catalog import models as m
from catalog.models.choices import ExecutionStatus, StepStatus
from catalog.store import Store
from nettui.engine.approvals import cancel, decide, expire_approvals
from nettui.engine.runner import run_execution, submit
from nettui.engine.service import INTERRUPTED, recover_interrupted, serve
from tests.nautobot_harness import nautobot_fixture  # noqa: F401 (the session's server)
from tests.test_nautobot_writeback import (  # noqa: F401 (fixtures)
    Setup,
    _events,
    _steps,
    _workflow,
    lab,
    offline,
    setup,
    site,
)

ENGINE_WAIT_S = 60.0  # bound on the engine reaching the wait step


def _update_step(port: str) -> dict[str, Any]:
    """The library's nautobot-update task setting the description of ``port`` on the device."""
    change = {
        "object": "dcim.interfaces",
        "lookup": {"device": "{{ device.name }}", "name": port},
        "fields": {"description": "set by nettui"},
    }
    return {
        "name": "Update Nautobot",
        "step_type": "task",
        "task": "nautobot-update",
        "input_mapping": {"nautobot": {"changes": [change]}},
    }


PUSH = {"name": "Push", "step_type": "validation", "config": {"expression": "true"}}


def _status(store: Store, execution: int) -> tuple[ExecutionStatus, dict[str, Any]]:
    with store.read_session() as session:
        row = session.get(m.Execution, execution)
        assert row is not None
        return row.status, dict(row.context)


def _undo_events(store: Store, execution: int) -> list[tuple[str, str]]:
    return [(kind, detail) for kind, detail in _events(store, execution) if kind.startswith("undo")]


def _assert_reverted(setup: Setup, execution: int, device: str, why: str) -> None:
    """The update step says the Nautobot change was reverted (why), in its error column, logs and
    outputs, the audit trail says so once, and the saved device context keeps the outcome."""
    row = _steps(setup.store, execution)["Update Nautobot"]
    assert row.status == StepStatus.COMPLETED
    assert row.error_message.startswith(f"Nautobot change reverted ({why}): put back dcim.interfaces")
    assert row.outputs["undo"]["status"] == "reverted" and row.error_message in row.logs
    assert _undo_events(setup.store, execution) == [("undone", f"{device}: {row.error_message}")]
    _, context = _status(setup.store, execution)
    (record,) = context["devices"][device]["_undo"]
    assert record["status"] == "reverted" and record["row"] == row.id


# -- a real engine killed between the Nautobot update and the push -------------------------------------


@pytest.mark.slow
def test_a_killed_engine_s_nautobot_change_is_reverted_on_recovery(setup: Setup, tmp_path: Path) -> None:
    ios = setup.devices["cisco_ios"]
    port = setup.port(ios, "Port-20", description="as it was")
    hold = {"name": "Hold", "step_type": "wait", "config": {"duration": "60s"}}
    slug = _workflow(setup.store, tmp_path, [_update_step("Port-20"), hold, PUSH])
    execution = submit(setup.store, slug, [ios], {}, requested_by="ops")
    url = setup.store.url.render_as_string(hide_password=False)
    engine = subprocess.Popen(
        [sys.executable, "-m", "nettui.cli", "--database", url, "engine"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + ENGINE_WAIT_S
        while time.monotonic() < deadline:
            rows = _steps(setup.store, execution)
            if "Hold" in rows and rows["Hold"].status == StepStatus.RUNNING:
                break
            assert engine.poll() is None, "the engine stopped by itself"
            time.sleep(0.2)
        else:
            pytest.fail("the engine never reached the wait step")
        engine.send_signal(signal.SIGKILL)
        engine.wait(10)
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.wait(10)
    # What the crash leaves: the execution "running", Nautobot changed, the push never made.
    assert _status(setup.store, execution)[0] == ExecutionStatus.RUNNING
    assert setup.read_port(port)["description"] == "set by nettui"
    assert _undo_events(setup.store, execution) == []

    said: list[str] = []
    asyncio.run(serve(setup.store, once=True, on_event=said.append))  # a restarted engine
    assert f"execution {execution}: {INTERRUPTED}" in said
    status, context = _status(setup.store, execution)
    assert status == ExecutionStatus.FAILED and context["error"] == INTERRUPTED
    assert setup.read_port(port)["description"] == "as it was"  # Nautobot as it was
    _assert_reverted(setup, execution, ios, "the engine running the execution stopped")
    rows = _steps(setup.store, execution)
    assert rows["Hold"].status == StepStatus.FAILED and rows["Hold"].error_message == INTERRUPTED
    assert "Push" not in rows
    # Recovery again finds nothing, and undoes nothing twice.
    assert recover_interrupted(setup.store) == []
    assert len(_undo_events(setup.store, execution)) == 1


# -- an execution that ends while it waits for approval -----------------------------------------------


def _paused(setup: Setup, tmp_path: Path, port_name: str, approval: dict[str, Any] | None = None) -> tuple[int, str]:
    """Run update -> approval -> push up to the approval; (the execution, the port's id)."""
    ios = setup.devices["cisco_ios"]
    port = setup.port(ios, port_name, description="as it was")
    approve = {"name": "Approve", "step_type": "approval", "config": approval or {}}
    slug = _workflow(setup.store, tmp_path, [_update_step(port_name), approve, PUSH])
    execution = submit(setup.store, slug, [ios], {}, requested_by="ops")
    assert asyncio.run(run_execution(setup.store, execution)) == ExecutionStatus.AWAITING_APPROVAL
    assert setup.read_port(port)["description"] == "set by nettui"
    return execution, port


@pytest.mark.slow
def test_a_rejected_approval_reverts_the_nautobot_change(setup: Setup, tmp_path: Path) -> None:
    ios = setup.devices["cisco_ios"]
    execution, port = _paused(setup, tmp_path, "Port-21")
    assert decide(setup.store, execution, "boss", approve=False, comment="not now") == ExecutionStatus.CANCELLED
    assert setup.read_port(port)["description"] == "as it was"
    _assert_reverted(setup, execution, ios, "the approval was rejected by boss")
    assert _steps(setup.store, execution)["Approve"].status == StepStatus.FAILED


@pytest.mark.slow
def test_a_timed_out_or_cancelled_approval_reverts_the_nautobot_change(setup: Setup, tmp_path: Path) -> None:
    ios = setup.devices["cisco_ios"]
    # The approval times out (its deadline moved into the past rather than waited for).
    execution, port = _paused(setup, tmp_path, "Port-22", {"timeout": "4h"})
    with setup.store.session() as session:
        row = session.get(m.Execution, execution)
        assert row is not None
        row.context = {**row.context, "approval_deadline": (m.utcnow() - timedelta(seconds=1)).isoformat()}
    assert expire_approvals(setup.store) == [execution]
    assert setup.read_port(port)["description"] == "as it was"
    _assert_reverted(setup, execution, ios, "the approval timed out")

    # Cancelled while it waits for approval.
    execution, port = _paused(setup, tmp_path, "Port-23")
    assert cancel(setup.store, execution, "ops", reason="wrong port") == ExecutionStatus.CANCELLED
    assert setup.read_port(port)["description"] == "as it was"
    _assert_reverted(setup, execution, ios, "the execution was cancelled")

    # Approved, then cancelled before an engine resumed it: nothing else would undo it.
    execution, port = _paused(setup, tmp_path, "Port-24")
    assert decide(setup.store, execution, "boss", approve=True, comment="ok") == ExecutionStatus.PENDING
    assert setup.read_port(port)["description"] == "set by nettui"
    assert cancel(setup.store, execution, "ops", reason="changed my mind") == ExecutionStatus.CANCELLED
    assert setup.read_port(port)["description"] == "as it was"
    _assert_reverted(setup, execution, ios, "the execution was cancelled")


@pytest.mark.slow
def test_an_undo_that_cannot_run_is_recorded_plainly(setup: Setup, tmp_path: Path) -> None:
    """The undo record names a hook no installed package registers (e.g. uninstalled since): the
    change stays, and the step says it was NOT reverted and why."""
    ios = setup.devices["cisco_ios"]
    execution, port = _paused(setup, tmp_path, "Port-25")
    with setup.store.session() as session:
        row = session.get(m.ExecutionStep, _steps(setup.store, execution)["Update Nautobot"].id)
        assert row is not None
        result = dict(row.outputs["result"])
        result["undo"] = {**result["undo"], "hook": "nettui_no_such_hook"}
        row.outputs = {**row.outputs, "result": result}
    decide(setup.store, execution, "boss", approve=False, comment="not now")
    assert setup.read_port(port)["description"] == "set by nettui"  # not reverted ...
    update_row = _steps(setup.store, execution)["Update Nautobot"]
    message = update_row.error_message
    # ... and said so, with the reason.
    assert message.startswith("Nautobot change NOT reverted (the approval was rejected by boss): ")
    assert "not a registered hook" in message
    assert update_row.outputs["undo"]["status"] == "not reverted"
    assert _undo_events(setup.store, execution) == [("undo_failed", f"{ios}: {message}")]


# -- without a Nautobot: what a dead runner left in the store ------------------------------------------


def _left_by_a_dead_runner(store: Store, tmp_path: Path, hook: str, *, finished: bool = False) -> int:
    """An execution of update -> wait -> push on sw-offline, as a killed engine leaves it: the
    update completed with an undo record (``hook``), the wait running (or, ``finished``, every
    step completed), the owner a process that is gone."""
    slug = _workflow(store, tmp_path, [_update_step("Gi1"), {"name": "Hold", "step_type": "wait"}, PUSH])
    execution = submit(store, slug, ["sw-offline"], {}, requested_by="ops")
    undo = {"hook": hook, "label": "Nautobot change", "kwargs": {"implementation": "x", "changes": [{"id": "1"}]}}
    with store.session() as session:
        steps = session.scalars(
            select(m.WorkflowStep).join(m.Workflow).where(m.Workflow.slug == slug).order_by(m.WorkflowStep.order)
        ).all()
        device = session.scalars(select(m.Device).where(m.Device.name == "sw-offline")).one()
        session.execute(
            update(m.Execution)
            .where(m.Execution.id == execution)
            .values(status=ExecutionStatus.RUNNING, owner="a-host-long-gone:1", heartbeat_at=None)
        )
        statuses = [StepStatus.COMPLETED] * 3 if finished else [StepStatus.COMPLETED, StepStatus.RUNNING]
        for step, status in zip(steps, statuses, strict=False):
            session.add(
                m.ExecutionStep(
                    execution_id=execution,
                    workflow_step_id=step.id,
                    device_id=device.id if step.step_type.value != "wait" else None,
                    order=step.order,
                    status=status,
                    outputs={"result": {"undo": undo}} if step.order == steps[0].order else {},
                )
            )
    return execution


def _update_row(store: Store, execution: int) -> m.ExecutionStep:
    with store.read_session() as session:
        row = session.scalars(
            select(m.ExecutionStep).where(m.ExecutionStep.execution_id == execution).order_by(m.ExecutionStep.order)
        ).first()
        assert row is not None
        session.expunge(row)
        return row


def test_recovery_runs_what_a_dead_runner_left_or_says_why_not(offline: Store, tmp_path: Path) -> None:
    why = "the engine running the execution stopped"
    # The revert hook runs (with the device's context) and says why it cannot put anything back.
    execution = _left_by_a_dead_runner(offline, tmp_path, "nettui_nautobot_revert")
    assert recover_interrupted(offline) == [execution]
    row = _update_row(offline, execution)
    assert row.error_message.startswith(f"Nautobot change NOT reverted ({why}): ")
    assert "no implementation 'x' in the store" in row.error_message  # it found device sw-offline
    assert row.outputs["undo"]["status"] == "not reverted"
    assert _undo_events(offline, execution) == [("undo_failed", f"sw-offline: {row.error_message}")]
    assert recover_interrupted(offline) == [] and len(_undo_events(offline, execution)) == 1

    # A hook no package registers.
    execution = _left_by_a_dead_runner(offline, tmp_path, "nettui_no_such_hook")
    assert recover_interrupted(offline) == [execution]
    message = _update_row(offline, execution).error_message
    assert message.startswith(f"Nautobot change NOT reverted ({why}): ") and "not a registered hook" in message

    # The device was deleted since: nothing can run; said so.
    execution = _left_by_a_dead_runner(offline, tmp_path, "nettui_nautobot_revert")
    with offline.session() as session:
        session.execute(delete(m.Device).where(m.Device.name == "sw-offline"))
    assert recover_interrupted(offline) == [execution]
    message = _update_row(offline, execution).error_message
    assert message.startswith(f"Nautobot change NOT reverted ({why}): its device was deleted from the store")
    assert [kind for kind, _ in _undo_events(offline, execution)] == ["undo_failed"]


def test_a_device_whose_work_had_finished_is_left_alone(offline: Store, tmp_path: Path) -> None:
    """Every step done, the engine killed before it wrote the end: as the runner, recovery leaves
    the change (the push was made)."""
    execution = _left_by_a_dead_runner(offline, tmp_path, "nettui_nautobot_revert", finished=True)
    assert recover_interrupted(offline) == [execution]
    assert _status(offline, execution)[0] == ExecutionStatus.FAILED
    assert _undo_events(offline, execution) == []
    assert "undo" not in _update_row(offline, execution).outputs


def test_a_rejection_with_nothing_to_undo_records_nothing_more(offline: Store, tmp_path: Path) -> None:
    with offline.session() as session:
        session.add(m.User(username="boss", role="approver"))
    slug = _workflow(offline, tmp_path, [{"name": "Approve", "step_type": "approval"}, PUSH])
    execution = submit(offline, slug, ["sw-offline"], {}, requested_by="ops")
    assert asyncio.run(run_execution(offline, execution)) == ExecutionStatus.AWAITING_APPROVAL
    assert decide(offline, execution, "boss", approve=False, comment="no") == ExecutionStatus.CANCELLED
    kinds = [kind for kind, _ in _events(offline, execution)]
    assert kinds[-1] == "rejected" and not [k for k in kinds if k.startswith("undo")]
