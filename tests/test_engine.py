"""The engine against the lab: built-in workflows run for real and as dry runs, every step
writes its record, and on_failure, conditions and approvals behave as named."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from catalog import models as m
from catalog.context import InputError
from catalog.models.choices import ExecutionStatus, StepStatus
from catalog.store import Store
from catalog.sync import import_catalog
from drivers.connect import connect
from nettui.engine.runner import ExecutionError, run_execution, submit
from nettui.lab import LabThread, run_lab_in_thread
from tests.lab_store import seed_lab_store

pytestmark = pytest.mark.slow

PLATFORMS = ["cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos"]


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=4, platforms=PLATFORMS, password="eng-pw", enable_secret="eng-en") as handle:
        yield handle


@pytest.fixture
def engine_store(sqlite_store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch) -> Store:
    seed_lab_store(sqlite_store, lab, monkeypatch, password="eng-pw", enable_secret="eng-en")
    with sqlite_store.session() as session:
        session.add(m.User(username="watcher", role="viewer"))
    return sqlite_store


def _steps(store: Store, execution_id: int) -> list[m.ExecutionStep]:
    with store.read_session() as session:
        rows = list(
            session.scalars(
                select(m.ExecutionStep)
                .where(m.ExecutionStep.execution_id == execution_id)
                .order_by(m.ExecutionStep.order, m.ExecutionStep.id)
            )
        )
        session.expunge_all()  # keep the loaded values after the read transaction ends
        return rows


def _status(store: Store, execution_id: int) -> ExecutionStatus:
    with store.read_session() as session:
        execution = session.get(m.Execution, execution_id)
        assert execution is not None
        return execution.status


async def _config(store: Store, name: str) -> str:
    provider = await connect(store, name)
    try:
        return await provider.get_config()
    finally:
        await provider.close()


def test_create_vlan_on_four_platforms_dry_run_then_for_real(lab: LabThread, engine_store: Store) -> None:
    names = [d.name for d in lab.devices]
    inputs = {"device": names[0], "vid": 612, "name": "engine-test"}
    dry = submit(engine_store, "create-vlan", names, inputs, requested_by="ops", dry_run=True)
    assert asyncio.run(run_execution(engine_store, dry)) == ExecutionStatus.COMPLETED
    task_rows = [r for r in _steps(engine_store, dry) if r.task_implementation_id is not None]
    assert len(task_rows) == 4 and all(r.status == StepStatus.COMPLETED for r in task_rows)
    assert all("612" in r.rendered_content and "dry run" in r.logs for r in task_rows)
    assert all("engine-test" not in asyncio.run(_config(engine_store, n)) for n in names)  # nothing sent

    real = submit(engine_store, "create-vlan", names, inputs, requested_by="ops")
    status = asyncio.run(run_execution(engine_store, real))
    rows = _steps(engine_store, real)
    assert status == ExecutionStatus.COMPLETED, [r.error_message for r in rows if r.error_message]
    task_rows = [r for r in rows if r.task_implementation_id is not None]
    assert {r.device_id for r in task_rows} == {r.device_id for r in task_rows if r.status == StepStatus.COMPLETED}
    assert all(r.outputs["changed"] and all(c["passed"] for c in r.outputs["checks"]) for r in task_rows)
    assert all(r.outputs["checks"] for r in task_rows)  # the library's checks really ran
    for name in names:
        assert "engine-test" in asyncio.run(_config(engine_store, name))
    notification = [r for r in rows if r.device_id is None]
    assert notification and "VLAN 612 (engine-test) exists on" in notification[-1].logs
    with pytest.raises(ExecutionError, match="is completed, not pending"):
        asyncio.run(run_execution(engine_store, real))


def _workflow(store: Store, tmp_path: Path, steps: str) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(
        "kind: workflow\nslug: probe\nname: Probe\ninput_schema:\n  type: object\n"
        "  properties:\n    flag: {type: boolean, default: false}\nsteps:\n" + steps
    )
    import_catalog(store, [path])


def test_an_input_mapping_that_reads_only_inputs_resolves_once_for_all_devices(
    lab: LabThread, engine_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Step inputs that depend on the execution's inputs alone are resolved once per step, each
    device getting its own copy; a mapping that reads the device, or draws a random value, is
    resolved per device as before."""
    from nettui.engine import runner as runner_module

    _workflow(
        engine_store,
        tmp_path,
        "  - name: Shared\n    step_type: task\n    task: create-vlan\n"
        "    input_mapping: {vlan: {vid: '{{ 700 + (inputs.flag | int) }}', name: 'n{{ inputs.flag }}'}}\n"
        "  - name: Per device\n    step_type: task\n    task: create-vlan\n"
        "    input_mapping: {vlan: {vid: 701, name: '{{ device.name }}'}}\n"
        "  - name: Random\n    step_type: task\n    task: create-vlan\n"
        "    input_mapping: {vlan: {vid: '{{ [702, 703] | random }}', name: r}}\n",
    )
    resolved: dict[str, int] = {}
    resolve = runner_module._resolve_mapping

    def counting(mapping: object, context: dict[str, object], where: str) -> object:
        if where.endswith("input_mapping"):  # the whole mapping, not its parts (recursion)
            resolved[where] = resolved.get(where, 0) + 1
        return resolve(mapping, context, where)

    monkeypatch.setattr(runner_module, "_resolve_mapping", counting)
    names = [d.name for d in lab.devices]
    execution = submit(engine_store, "probe", names, {"flag": True}, requested_by="ops", dry_run=True)
    assert asyncio.run(run_execution(engine_store, execution)) == ExecutionStatus.COMPLETED
    assert resolved == {
        "step 'Shared' input_mapping": 1,
        "step 'Per device' input_mapping": len(names),
        "step 'Random' input_mapping": len(names),
    }
    rows = _steps(engine_store, execution)
    assert [r.inputs for r in rows if r.order == 1] == [{"vlan": {"vid": 701, "name": "nTrue"}}] * len(names)
    with engine_store.read_session() as session:
        device_names = {d.id: d.name for d in session.scalars(select(m.Device))}
    assert all(r.inputs == {"vlan": {"vid": 701, "name": device_names[r.device_id]}} for r in rows if r.order == 2)


@pytest.mark.parametrize(
    ("on_failure", "final", "after"),
    [
        ("stop", ExecutionStatus.FAILED, StepStatus.SKIPPED),
        ("continue", ExecutionStatus.COMPLETED, StepStatus.COMPLETED),
        ("skip_remaining", ExecutionStatus.COMPLETED, StepStatus.SKIPPED),
    ],
)
def test_on_failure_modes(
    lab: LabThread, engine_store: Store, tmp_path: Path, on_failure: str, final: ExecutionStatus, after: StepStatus
) -> None:
    _workflow(
        engine_store,
        tmp_path,
        "  - name: Must hold\n    step_type: validation\n"
        f"    on_failure: {on_failure}\n"
        "    config: {expression: 'device.name == \"nobody\"', message: not this device}\n"
        "  - name: Afterwards\n    step_type: notification\n    config: {subject: done}\n",
    )
    names = [d.name for d in lab.devices[:2]]
    execution = submit(engine_store, "probe", names, {}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, execution)) == final
    rows = _steps(engine_store, execution)
    assert [r.status for r in rows if r.order == 1] == [StepStatus.FAILED, StepStatus.FAILED]
    assert all(r.error_message == "not this device" for r in rows if r.order == 1)
    assert [r.status for r in rows if r.order == 2] == [after]


def test_a_false_condition_skips_what_it_guards(lab: LabThread, engine_store: Store, tmp_path: Path) -> None:
    _workflow(
        engine_store,
        tmp_path,
        "  - name: Only if flagged\n    step_type: condition\n    config: {expression: inputs.flag}\n"
        "  - name: Guarded\n    step_type: validation\n    config: {expression: 'false'}\n"
        "  - name: Always\n    step_type: validation\n    condition: '{{ not inputs.flag }}'\n"
        "    config: {expression: 'true'}\n",
    )
    execution = submit(engine_store, "probe", [lab.devices[0].name], {}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, execution)) == ExecutionStatus.COMPLETED
    assert [r.status for r in _steps(engine_store, execution)] == [
        StepStatus.COMPLETED,
        StepStatus.SKIPPED,
        StepStatus.COMPLETED,
    ]


def test_an_approval_step_pauses_the_execution(lab: LabThread, engine_store: Store, tmp_path: Path) -> None:
    _workflow(
        engine_store,
        tmp_path,
        "  - name: Check\n    step_type: validation\n    config: {expression: 'true'}\n"
        "  - name: Approve\n    step_type: approval\n    config: {approvers_role: approver}\n"
        "  - name: After\n    step_type: notification\n    config: {subject: done}\n",
    )
    execution = submit(engine_store, "probe", [lab.devices[0].name], {}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, execution)) == ExecutionStatus.AWAITING_APPROVAL
    assert _status(engine_store, execution) == ExecutionStatus.AWAITING_APPROVAL
    assert [r.status for r in _steps(engine_store, execution)] == [StepStatus.COMPLETED, StepStatus.PENDING]


def test_a_workflow_that_requires_approval_cannot_run_without_it(
    lab: LabThread, engine_store: Store, tmp_path: Path
) -> None:
    (tmp_path / "wf.yaml").write_text(
        "kind: workflow\nslug: gated\nname: Gated\napproval_required: true\nsteps:\n"
        "  - name: Change\n    step_type: task\n    task: create-vlan\n"
        "    input_mapping: {vlan: {vid: 870, name: gated}}\n"
        "  - name: Approve later\n    step_type: approval\n    config: {approvers_role: approver}\n"
    )
    import_catalog(engine_store, [tmp_path / "wf.yaml"])
    name = lab.devices[0].name
    execution = submit(engine_store, "gated", [name], {}, requested_by="ops")
    assert _status(engine_store, execution) == ExecutionStatus.AWAITING_APPROVAL  # a task comes first
    with pytest.raises(ExecutionError, match="is awaiting_approval, not pending"):
        asyncio.run(run_execution(engine_store, execution))
    assert _steps(engine_store, execution) == []


def test_an_approval_step_before_any_change_is_the_one_approval(lab: LabThread, engine_store: Store) -> None:
    """provision-access-port requires approval and has its own approval step after checking
    the VLAN: the requester is asked once, at that step, with the check's result to see."""
    from nettui.engine.approvals import decide

    with engine_store.session() as session:
        session.add(m.User(username="boss", role="approver"))
    name = next(d.name for d in lab.devices if d.platform_name == "cisco_ios")
    with engine_store.session() as session:
        device = session.scalars(select(m.Device).where(m.Device.name == name)).one()
        session.add(m.VLAN(vid=871, name="users", location_id=device.location_id))
    lab.device(name).state.config.vlans[871] = "users"  # type: ignore[union-attr]
    inputs = {"device": name, "interface": "GigabitEthernet1/0/5", "vlan": 871}
    execution = submit(engine_store, "provision-access-port", [name], inputs, requested_by="ops")
    assert _status(engine_store, execution) == ExecutionStatus.PENDING
    assert asyncio.run(run_execution(engine_store, execution)) == ExecutionStatus.AWAITING_APPROVAL
    assert [(r.order, r.status) for r in _steps(engine_store, execution)] == [
        (1, StepStatus.COMPLETED),
        (2, StepStatus.PENDING),
    ]
    decide(engine_store, execution, "boss", approve=True, comment="ok")
    final = asyncio.run(run_execution(engine_store, execution))
    assert final == ExecutionStatus.COMPLETED, [
        (r.order, r.status.value, r.error_message, r.logs) for r in _steps(engine_store, execution)
    ]
    with engine_store.read_session() as session:
        kinds = session.scalars(select(m.ExecutionEvent.kind).where(m.ExecutionEvent.execution_id == execution)).all()
    assert kinds.count("approved") == 1 and kinds.count("paused") == 1


def test_submissions_are_checked(lab: LabThread, engine_store: Store) -> None:
    name = lab.devices[0].name
    with pytest.raises(InputError) as info:
        submit(engine_store, "create-vlan", [name], {"device": name, "vid": 5000, "name": "x"}, requested_by="ops")
    assert "$.vid: 5000 is greater than the maximum of 4094" in info.value.render()
    with pytest.raises(ExecutionError, match="is a viewer"):
        submit(engine_store, "create-vlan", [name], {"device": name, "vid": 5, "name": "x"}, requested_by="watcher")
    with pytest.raises(ExecutionError, match="no active user 'mallory'"):
        submit(engine_store, "create-vlan", [name], {"device": name, "vid": 5, "name": "x"}, requested_by="mallory")
    with pytest.raises(Exception, match="no device 'ghost'"):
        submit(engine_store, "create-vlan", ["ghost"], {"device": "ghost", "vid": 5, "name": "x"}, requested_by="ops")
    with engine_store.read_session() as session:
        assert session.scalars(select(m.Execution)).all() == []


def test_pre_and_post_checks_decide(
    lab: LabThread, engine_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task whose post-check reads the device back: passes on the change, fails otherwise.
    Two checks of one phase that read the same command read it once."""
    from drivers.asyncssh_provider import AsyncsshProvider
    from drivers.netmiko_provider import NetmikoProvider
    from drivers.scrapli_provider import ScrapliProvider

    sent: list[str] = []
    for provider in (AsyncsshProvider, NetmikoProvider, ScrapliProvider):

        def counting(original: Any) -> Any:
            async def send_command(self: Any, command: str, **kwargs: Any) -> Any:
                sent.append(command)
                return await original(self, command, **kwargs)

            return send_command

        monkeypatch.setattr(provider, "send_command", counting(provider.send_command))
    (tmp_path / "task.yaml").write_text(
        "kind: task\nslug: set-hostname-probe\nname: Hostname probe\n"
        "input_schema: {type: object, properties: {banner: {type: string}}}\n"
        "implementations:\n"
        "  - slug: probe-ios\n    name: probe ios\n    manufacturer: Cisco\n    platform: cisco_ios\n"
        "    implementation_type: jinja2_config\n"
        '    template_content: "vlan 733\\n name {{ intended.banner }}\\n"\n'
        "    pre_checks:\n      - {name: reachable, command: show version, expect: \"'IOS' in output\"}\n"
        "    post_checks:\n      - {name: present, command: show vlan brief, expect: 'intended.banner in output'}\n"
        "      - {name: impossible, command: show vlan brief, expect: \"'no-such-vlan' in output\"}\n"
    )
    (tmp_path / "wf.yaml").write_text(
        "kind: workflow\nslug: probe-wf\nname: Probe wf\n"
        "input_schema: {type: object, properties: {banner: {type: string}}}\nsteps:\n"
        "  - name: Push\n    step_type: task\n    task: set-hostname-probe\n"
        "    input_mapping: {banner: '{{ inputs.banner }}'}\n    output_mapping: {pushed: '{{ outputs }}'}\n"
    )
    import_catalog(engine_store, [tmp_path])
    name = next(d.name for d in lab.devices if d.platform_name == "cisco_ios")
    execution = submit(engine_store, "probe-wf", [name], {"banner": "checked-vlan"}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, execution)) == ExecutionStatus.FAILED
    (row,) = _steps(engine_store, execution)
    assert row.status == StepStatus.FAILED and "post-check 'impossible' did not pass" in row.error_message
    assert "pre-check reachable: passed" in row.logs and "post-check present: passed" in row.logs
    assert "checked-vlan" in asyncio.run(_config(engine_store, name))  # the change itself went through
    assert sent.count("show version") == 1 and sent.count("show vlan brief") == 1, sent


def test_run_and_executions_commands(lab: LabThread, engine_store: Store, tmp_path: Path) -> None:
    import getpass
    import json

    from tests.conftest import run_cli

    with engine_store.session() as session:
        session.add(m.User(username=getpass.getuser(), role="operator"))
    name = lab.devices[1].name
    ran = run_cli(
        engine_store,
        "run",
        "create-vlan",
        "--device",
        name,
        "--input",
        f"device={name}",
        "--input",
        "vid=701",
        "--input",
        "name=from-cli",
        "--dry-run",
        "--json",
    )
    assert ran.exit_code == 0, ran.output
    record = json.loads(ran.stdout)
    assert record["status"] == "completed" and record["dry_run"] and record["devices"] == [name]
    assert any("701" in s["rendered_content"] for s in record["steps"])
    assert "execution 1: completed" in ran.stderr

    _workflow(
        engine_store,
        tmp_path,
        "  - name: Fails\n    step_type: validation\n    config: {expression: 'false', message: nope}\n",
    )
    failed = run_cli(engine_store, "run", "probe", "--device", name)
    assert failed.exit_code == 1 and "step Fails failed: nope" in failed.stderr
    listed = json.loads(run_cli(engine_store, "executions", "list", "--json").stdout)
    assert [(e["id"], e["status"]) for e in listed] == [(2, "failed"), (1, "completed")]
    shown = run_cli(engine_store, "executions", "show", "2")
    assert shown.exit_code == 0 and "nope" in shown.stdout
    refused = run_cli(engine_store, "run", "probe", "--device", name, "--as", "someone-else")
    assert refused.exit_code == 1 and "only an admin may act as another user" in refused.stderr


def test_approvals(lab: LabThread, engine_store: Store, tmp_path: Path) -> None:
    import getpass

    from nettui.engine.approvals import decide
    from tests.conftest import run_cli

    with engine_store.session() as session:
        session.add(m.User(username="boss", role="approver"))
        session.add(m.User(username=getpass.getuser(), role="approver"))
    _workflow(
        engine_store,
        tmp_path,
        "  - name: Before\n    step_type: validation\n    config: {expression: 'true'}\n"
        "    output_mapping: {seen: '{{ device.name }}'}\n"
        "  - name: Approve\n    step_type: approval\n    config: {approvers_role: approver}\n"
        "  - name: After\n    step_type: validation\n    config: {expression: 'seen == device.name'}\n",
    )
    name = lab.devices[0].name
    execution = submit(engine_store, "probe", [name], {}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, execution)) == ExecutionStatus.AWAITING_APPROVAL
    with pytest.raises(ExecutionError, match=r"requested execution \d+ and cannot approve"):
        decide(engine_store, execution, "ops", approve=True, comment="mine")
    with pytest.raises(ExecutionError, match="is viewer, not an approver"):
        decide(engine_store, execution, "watcher", approve=True, comment="sure")
    with pytest.raises(ExecutionError, match="needs a comment"):
        decide(engine_store, execution, "boss", approve=True, comment=" ")
    listed = run_cli(engine_store, "approvals", "list", "--json")
    assert f'"id": {execution}' in listed.stdout
    approved = run_cli(engine_store, "approve", str(execution), "--comment", "go ahead")
    assert approved.exit_code == 0, approved.output
    assert _status(engine_store, execution) == ExecutionStatus.COMPLETED
    rows = _steps(engine_store, execution)
    assert [(r.order, r.status) for r in rows] == [
        (1, StepStatus.COMPLETED),
        (2, StepStatus.COMPLETED),
        (3, StepStatus.COMPLETED),
    ]
    assert f"approved by {getpass.getuser()}: go ahead" in rows[1].logs  # outputs survived the pause too
    with engine_store.read_session() as session:
        events = session.scalars(
            select(m.ExecutionEvent).where(m.ExecutionEvent.execution_id == execution).order_by(m.ExecutionEvent.id)
        ).all()
        assert [e.kind for e in events] == ["submitted", "started", "paused", "approved", "started", "finished"]
        assert events[3].detail == "go ahead" and events[3].actor is not None

    second = submit(engine_store, "probe", [name], {}, requested_by="ops")
    asyncio.run(run_execution(engine_store, second))
    rejected = run_cli(engine_store, "approve", str(second), "--reject", "--comment", "not today")
    assert rejected.exit_code == 4
    assert _status(engine_store, second) == ExecutionStatus.CANCELLED
    again = run_cli(engine_store, "approve", str(second), "--comment", "changed my mind")
    assert again.exit_code == 1 and "is cancelled, not awaiting approval" in again.stderr


def test_a_killed_engine_s_execution_is_failed_on_restart(lab: LabThread, engine_store: Store, tmp_path: Path) -> None:
    """A real engine process, killed with SIGKILL in the middle of a wait step."""
    import os
    import signal
    import subprocess
    import sys
    import time

    _workflow(
        engine_store,
        tmp_path,
        "  - name: First\n    step_type: validation\n    config: {expression: 'true'}\n"
        "  - name: Long wait\n    step_type: wait\n    config: {duration: 60s}\n"
        "  - name: Never\n    step_type: notification\n    config: {subject: never}\n",
    )
    execution = submit(engine_store, "probe", [lab.devices[0].name], {}, requested_by="ops")
    url = engine_store.url.render_as_string(hide_password=False)
    engine = subprocess.Popen(
        [sys.executable, "-m", "nettui.cli", "--database", url, "engine"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = _steps(engine_store, execution)
            if any(r.order == 2 and r.status == StepStatus.RUNNING for r in rows):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the engine never reached the wait step")
        engine.send_signal(signal.SIGKILL)
        engine.wait(10)
    finally:
        if engine.poll() is None:
            engine.kill()
    assert _status(engine_store, execution) == ExecutionStatus.RUNNING  # what a crash leaves behind
    from nettui.engine.service import INTERRUPTED, recover_interrupted, serve

    asyncio.run(serve(engine_store, once=True))  # a restarted engine
    assert _status(engine_store, execution) == ExecutionStatus.FAILED
    with engine_store.read_session() as session:
        execution_row = session.get(m.Execution, execution)
        assert execution_row is not None and execution_row.context["error"] == INTERRUPTED
    rows = _steps(engine_store, execution)
    assert [(r.order, r.status) for r in rows] == [(1, StepStatus.COMPLETED), (2, StepStatus.FAILED)]
    assert rows[0].logs == "passed: true\n" and rows[1].error_message == INTERRUPTED
    assert recover_interrupted(engine_store) == []  # nothing left running


def _first_holds_the_device(lab: LabThread, store: Store, vid: int) -> tuple[int, int]:
    """Two create-vlan executions for one switch (VLANs ``vid`` and ``vid + 1``), the first
    holding the switch's lock as another process would."""
    name = next(d.name for d in lab.devices if d.platform_name == "cisco_ios")
    first, second = (
        submit(store, "create-vlan", [name], {"device": name, "vid": v, "name": "a"}, requested_by="ops")
        for v in (vid, vid + 1)
    )
    with store.session() as session:
        device_id = session.scalars(select(m.Device.id).where(m.Device.name == name)).one()
        session.add(m.DeviceLock(device_id=device_id, execution_id=first, owner="elsewhere:1"))
    return first, second


def test_no_two_executions_change_a_device_at_once(lab: LabThread, engine_store: Store) -> None:
    first, second = _first_holds_the_device(lab, engine_store, 801)
    assert asyncio.run(run_execution(engine_store, second, lock_timeout=1)) == ExecutionStatus.FAILED
    (task_row,) = [r for r in _steps(engine_store, second) if r.order == 2]
    assert f"stayed locked by execution {first}" in task_row.error_message
    assert "waiting: execution" in task_row.logs
    with engine_store.session() as session:
        session.execute(m.DeviceLock.__table__.delete())
    assert asyncio.run(run_execution(engine_store, first)) == ExecutionStatus.COMPLETED
    with engine_store.read_session() as session:
        assert session.scalars(select(m.DeviceLock)).all() == []  # released at the end


def test_a_lock_is_recorded_when_it_is_taken_not_when_it_was_asked_for(lab: LabThread, engine_store: Store) -> None:
    """The audit trail's device_locked time comes after the previous holder let go. It used to be
    the time the runner asked, and a request queued behind the holder's release then appeared
    to take the device before the release (two executions on one device, as the log read)."""
    import threading
    import time

    _, second = _first_holds_the_device(lab, engine_store, 803)
    outcome: list[ExecutionStatus] = []
    runner = threading.Thread(target=lambda: outcome.append(asyncio.run(run_execution(engine_store, second))))
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the second execution is waiting for the device
            with engine_store.read_session() as session:
                logs = session.scalars(select(m.ExecutionStep.logs).where(m.ExecutionStep.execution_id == second))
                if any("waiting: execution" in (text or "") for text in logs):
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the second execution never waited for the lock")
        # The holder releases in a transaction that takes a while to commit: the waiting
        # runner asks for the lock (more than once) while the release is not in yet.
        with engine_store.session() as session:
            session.execute(m.DeviceLock.__table__.delete())
            time.sleep(1.5)
            released = m.utcnow()
    finally:
        runner.join(60)
    assert outcome == [ExecutionStatus.COMPLETED]
    with engine_store.read_session() as session:
        (locked,) = session.scalars(
            select(m.ExecutionEvent.at).where(
                m.ExecutionEvent.execution_id == second, m.ExecutionEvent.kind == "device_locked"
            )
        ).all()
    assert locked.replace(tzinfo=released.tzinfo) >= released


def test_cancel_stops_at_a_safe_point_and_says_what_changed(
    lab: LabThread, engine_store: Store, tmp_path: Path
) -> None:
    import getpass
    import threading
    import time

    from tests.conftest import run_cli

    with engine_store.session() as session:
        session.add(m.User(username=getpass.getuser(), role="admin"))
    (tmp_path / "wf.yaml").write_text(
        "kind: workflow\nslug: slow-change\nname: Slow change\nsteps:\n"
        "  - name: Change\n    step_type: task\n    task: create-vlan\n"
        "    input_mapping: {vlan: {vid: 903, name: cancel-me}}\n"
        "  - name: Soak\n    step_type: wait\n    config: {duration: 60s}\n"
        "  - name: Never\n    step_type: notification\n    config: {subject: never}\n"
    )
    import_catalog(engine_store, [tmp_path / "wf.yaml"])
    name = next(d.name for d in lab.devices if d.platform_name == "arista_eos")
    execution = submit(engine_store, "slow-change", [name], {}, requested_by="ops")
    outcome: list[ExecutionStatus] = []
    runner = threading.Thread(target=lambda: outcome.append(asyncio.run(run_execution(engine_store, execution))))
    runner.start()
    deadline = time.monotonic() + 60
    while not any(r.order == 2 and r.status == StepStatus.RUNNING for r in _steps(engine_store, execution)):
        assert time.monotonic() < deadline, "the wait step never started"
        time.sleep(0.2)
    result = run_cli(engine_store, "executions", "cancel", str(execution), "--reason", "change window closed")
    assert result.exit_code == 0 and "stops at its next safe point" in result.stderr
    runner.join(30)
    assert outcome == [ExecutionStatus.CANCELLED]
    rows = _steps(engine_store, execution)
    assert [(r.order, r.status) for r in rows] == [
        (1, StepStatus.COMPLETED),
        (2, StepStatus.FAILED),
        (3, StepStatus.SKIPPED),
    ]
    assert rows[2].error_message == "skipped: the execution was cancelled"
    with engine_store.read_session() as session:
        execution_row = session.get(m.Execution, execution)
        assert execution_row is not None and execution_row.context["changed_devices"] == [name]
    pending = submit(engine_store, "slow-change", [name], {}, requested_by="ops")
    assert run_cli(engine_store, "executions", "cancel", str(pending)).exit_code == 0
    assert _status(engine_store, pending) == ExecutionStatus.CANCELLED
    again = run_cli(engine_store, "executions", "cancel", str(pending))
    assert again.exit_code == 1 and "nothing to cancel" in again.stderr


def test_execution_logs(lab: LabThread, engine_store: Store, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    _workflow(
        engine_store,
        tmp_path,
        "  - name: Check\n    step_type: validation\n    config: {expression: 'true'}\n"
        "  - name: Tell\n    step_type: notification\n    config: {subject: 'hello {{ inputs.flag }}'}\n",
    )
    name = lab.devices[0].name
    execution = submit(engine_store, "probe", [name], {}, requested_by="ops")
    asyncio.run(run_execution(engine_store, execution))
    result = run_cli(engine_store, "executions", "logs", str(execution), "--follow")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"[1 Check @ {name}] passed: true",
        "[2 Tell] notify log: hello False",
    ]
    assert "completed" in result.stderr


def test_validation_by_schema_and_by_device_command(lab: LabThread, engine_store: Store, tmp_path: Path) -> None:
    _workflow(
        engine_store,
        tmp_path,
        "  - name: Shape\n    step_type: validation\n"
        "    config: {value: inputs, schema: {type: object, required: [flag]}, message: no flag}\n"
        "  - name: Version\n    step_type: validation\n"
        "    config:\n      command: show version\n"
        "      expression: parsed[0].hostname == device.name and 'Version' in output\n"
        "  - name: Wrong version\n    step_type: validation\n    on_failure: continue\n"
        "    config: {command: show version, expression: \"parsed[0].version == '1.0'\", message: old version}\n",
    )
    name = next(d.name for d in lab.devices if d.platform_name == "cisco_ios")
    execution = submit(engine_store, "probe", [name], {"flag": True}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, execution)) == ExecutionStatus.COMPLETED
    rows = _steps(engine_store, execution)
    assert [r.status for r in rows] == [StepStatus.COMPLETED, StepStatus.COMPLETED, StepStatus.FAILED]
    assert "ran: show version" in rows[1].logs and rows[2].error_message == "old version"
    with engine_store.session() as session:  # the schema step now fails: no flag input
        wf = session.scalars(select(m.Workflow).where(m.Workflow.slug == "probe")).one()
        wf.input_schema = {"type": "object"}
    second = submit(engine_store, "probe", [name], {"other": 1}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, second)) == ExecutionStatus.FAILED
    assert _steps(engine_store, second)[0].error_message == "no flag"


def test_approval_timeout_and_wait_until(lab: LabThread, engine_store: Store, tmp_path: Path) -> None:
    import time
    from datetime import UTC, datetime, timedelta

    from nettui.engine.service import serve

    _workflow(
        engine_store,
        tmp_path,
        "  - name: Approve\n    step_type: approval\n    config: {timeout: 1s}\n",
    )
    name = lab.devices[0].name
    execution = submit(engine_store, "probe", [name], {}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, execution)) == ExecutionStatus.AWAITING_APPROVAL
    asyncio.run(serve(engine_store, once=True))  # not yet due
    assert _status(engine_store, execution) == ExecutionStatus.AWAITING_APPROVAL
    time.sleep(1.2)
    asyncio.run(serve(engine_store, once=True))
    assert _status(engine_store, execution) == ExecutionStatus.CANCELLED
    (row,) = _steps(engine_store, execution)
    assert row.status == StepStatus.FAILED and row.error_message == "approval timed out"

    until = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    (tmp_path / "wait.yaml").write_text(
        "kind: workflow\nslug: wait-until\nname: Wait until\nsteps:\n"
        f"  - name: Hold\n    step_type: wait\n    config: {{until: '{until}'}}\n"
    )
    import_catalog(engine_store, [tmp_path / "wait.yaml"])
    waiting = submit(engine_store, "wait-until", [name], {}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, waiting)) == ExecutionStatus.COMPLETED
    (hold,) = _steps(engine_store, waiting)
    assert hold.completed_at is not None and hold.completed_at >= datetime.fromisoformat(until)


def test_webhook_notifications(
    lab: LabThread, engine_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[tuple[str, str, dict[str, object]]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received.append((self.path, self.headers.get("Authorization", ""), json.loads(self.rfile.read(length))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HOOK_TOKEN", "hook-token-123")
    with engine_store.session() as session:
        session.add(
            m.ProviderConfig(
                provider=m.Provider(name="http_api", driver_class="drivers.http_provider:HttpApiProvider"),
                name="chatops",
                settings={"base_url": f"http://127.0.0.1:{server.server_address[1]}", "retries": 0},
                credentials=m.SecretsGroup(
                    name="chatops-token",
                    entries=[m.SecretsGroupEntry(name="token", backend="env", reference="HOOK_TOKEN")],
                ),
            )
        )
    _workflow(
        engine_store,
        tmp_path,
        "  - name: Tell\n    step_type: notification\n"
        "    config: {webhook: chatops, path: /hooks/net, subject: 'done on {{ inputs.flag }}'}\n"
        "  - name: Must tell\n    step_type: notification\n"
        "    config: {webhook: chatops, path: /hooks/net, required: true, body: {text: '{{ inputs.flag }}'}}\n",
    )
    name = lab.devices[0].name
    first = submit(engine_store, "probe", [name], {"flag": True}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, first)) == ExecutionStatus.COMPLETED
    assert received == [
        ("/hooks/net", "Bearer hook-token-123", {"subject": "done on True"}),
        ("/hooks/net", "Bearer hook-token-123", {"text": True}),
    ]
    server.shutdown()
    server.server_close()
    second = submit(engine_store, "probe", [name], {}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, second)) == ExecutionStatus.FAILED
    tell, must = _steps(engine_store, second)
    assert tell.status == StepStatus.COMPLETED and "webhook chatops: not delivered" in tell.logs
    assert must.status == StepStatus.FAILED
    assert "hook-token-123" not in tell.logs + must.logs + must.error_message


class _SmtpSink:
    """A minimal SMTP server on 127.0.0.1 that keeps what it is sent (tests only)."""

    def __init__(self) -> None:
        import threading

        self.messages: list[tuple[list[str], str]] = []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def start() -> None:
            self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()

        self.thread = threading.Thread(target=lambda: (self.loop.run_until_complete(start()), self.loop.run_forever()))
        self.thread.daemon = True
        self.thread.start()
        ready.wait(10)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        recipients: list[str] = []
        while line := await reader.readline():
            verb = line.decode().strip().upper()
            if verb.startswith(("EHLO", "HELO")):
                writer.write(b"250 sink\r\n")
            elif verb.startswith("MAIL FROM"):
                writer.write(b"250 ok\r\n")
            elif verb.startswith("RCPT TO"):
                recipients.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                writer.write(b"250 ok\r\n")
            elif verb == "DATA":
                writer.write(b"354 go on\r\n")
                await writer.drain()
                data = await reader.readuntil(b"\r\n.\r\n")
                self.messages.append((recipients, data.decode()))
                writer.write(b"250 queued\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


def test_email_notifications(lab: LabThread, engine_store: Store, tmp_path: Path) -> None:
    sink = _SmtpSink()
    try:
        with engine_store.session() as session:
            session.add(
                m.ProviderConfig(
                    provider=m.Provider(name="smtp", driver_class="smtplib:SMTP"),
                    name="mail",
                    settings={"host": "127.0.0.1", "port": sink.port, "sender": "nettui@example.net"},
                )
            )
        _workflow(
            engine_store,
            tmp_path,
            "  - name: Mail\n    step_type: notification\n"
            "    config: {email: [noc@example.net], smtp: mail, subject: 'flag is {{ inputs.flag }}', "
            "body: 'details: {{ inputs.flag }}'}\n",
        )
        execution = submit(engine_store, "probe", [lab.devices[0].name], {"flag": True}, requested_by="ops")
        assert asyncio.run(run_execution(engine_store, execution)) == ExecutionStatus.COMPLETED
        ((recipients, data),) = sink.messages
        assert recipients == ["noc@example.net"]
        assert "Subject: flag is True" in data and "details: True" in data and "From: nettui@example.net" in data
        (row,) = _steps(engine_store, execution)
        assert "email via mail: delivered" in row.logs
    finally:
        sink.stop()


def test_python_hook_tasks_run_only_registered_hooks(
    lab: LabThread, engine_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.syspath_prepend(str(Path(__file__).parent / "hookplugin"))  # registers the test hooks
    monkeypatch.delitem(sys.modules, "nettui_test_hooks", raising=False)
    (tmp_path / "task.yaml").write_text(
        "kind: task\nslug: hooked\nname: Hooked\nimplementations:\n"
        "  - slug: hooked-ios\n    name: hooked ios\n    manufacturer: Cisco\n    platform: cisco_ios\n"
        "    implementation_type: python_hook\n    action_config: {hook: echo, kwargs: {ticket: CHG-42}}\n"
    )
    (tmp_path / "wf.yaml").write_text(
        "kind: workflow\nslug: hook-wf\nname: Hook wf\nsteps:\n  - name: Run\n    step_type: task\n    task: hooked\n"
    )
    import_catalog(engine_store, [tmp_path])
    name = next(d.name for d in lab.devices if d.platform_name == "cisco_ios")
    execution = submit(engine_store, "hook-wf", [name], {}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, execution)) == ExecutionStatus.COMPLETED
    (row,) = _steps(engine_store, execution)
    assert row.outputs["result"]["kwargs"] == {"ticket": "CHG-42"}
    assert row.outputs["result"]["device"]["name"] == name
    with engine_store.session() as session:
        impl = session.scalars(select(m.TaskImplementation).where(m.TaskImplementation.slug == "hooked-ios")).one()
        impl.action_config = {"hook": "os:system"}
    refused = submit(engine_store, "hook-wf", [name], {}, requested_by="ops")
    assert asyncio.run(run_execution(engine_store, refused)) == ExecutionStatus.FAILED
    (row,) = _steps(engine_store, refused)
    assert "'os:system': not a registered hook" in row.error_message


def test_api_call_tasks_go_through_the_selected_http_provider(
    lab: LabThread, engine_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    calls: list[tuple[str, str, object]] = []

    class Controller(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            calls.append((self.path, self.headers.get("Authorization", ""), body))
            answer = json.dumps({"id": 7, "vid": body["vid"]}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Controller)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("CTRL_TOKEN", "ctrl-token-9")
    try:
        with engine_store.session() as session:
            session.add(
                m.ProviderConfig(
                    provider=m.Provider(name="controller", driver_class="drivers.http_provider:HttpApiProvider"),
                    name="lab controller",
                    settings={"base_url": f"http://127.0.0.1:{server.server_address[1]}"},
                    credentials=m.SecretsGroup(
                        name="ctrl", entries=[m.SecretsGroupEntry(name="token", backend="env", reference="CTRL_TOKEN")]
                    ),
                )
            )
        (tmp_path / "providers.yaml").write_text(
            "kind: provider\nname: controller\ndriver_class: drivers.http_provider:HttpApiProvider\n"
        )
        (tmp_path / "task.yaml").write_text(
            "kind: task\nslug: api-vlan\nname: API VLAN\n"
            "input_schema: {type: object, properties: {vid: {type: integer}}}\nimplementations:\n"
            "  - slug: api-vlan-eos\n    name: api vlan eos\n    manufacturer: Arista\n    platform: arista_eos\n"
            "    implementation_type: api_call\n    provider: controller\n"
            "    action_config: {method: POST, path: '/api/devices/{{ device.name }}/vlans', "
            "body: {vid: '{{ intended.vid }}'}, expect_status: 201}\n"
        )
        (tmp_path / "wf.yaml").write_text(
            "kind: workflow\nslug: api-wf\nname: API wf\nsteps:\n  - name: Call\n    step_type: task\n"
            "    task: api-vlan\n    input_mapping: {vid: 42}\n"
        )
        import_catalog(engine_store, [tmp_path])
        name = next(d.name for d in lab.devices if d.platform_name == "arista_eos")
        execution = submit(engine_store, "api-wf", [name], {}, requested_by="ops")
        assert asyncio.run(run_execution(engine_store, execution)) == ExecutionStatus.COMPLETED
        assert calls == [(f"/api/devices/{name}/vlans", "Bearer ctrl-token-9", {"vid": 42})]
        (row,) = _steps(engine_store, execution)
        assert row.outputs["status"] == 201 and row.outputs["response"] == {"id": 7, "vid": 42}
        assert "via lab controller: 201" in row.logs and "ctrl-token-9" not in row.logs
    finally:
        server.shutdown()
        server.server_close()
