"""OS upgrades on lab devices over real SSH: an upgrade end to end (show version changes after
the reload), a failing post-check that rolls back (version and configuration restored), a batch
of 20 with one failure and the stop rule, scheduling through the engine, and bad input."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.models.choices import ExecutionStatus, StepStatus, UpgradeStatus
from catalog.store import Store
from drivers.connect import connect
from nettui.lab import LabDevice, LabThread, run_lab_in_thread
from nettui.lifecycle import upgrade
from tests.conftest import run_cli
from tests.lab_store import seed_lab_store

pytestmark = pytest.mark.slow

PASSWORD = "Upgrade-Pa55word-never-shown"
ENABLE = "Upgrade-En4ble-never-shown"
OLD = "17.9.4a"  # what the lab's cisco_ios devices run out of the box
TARGET = "17.12.03"
IMAGE = "cat9k_iosxe.17.12.03.SPA.bin"  # the lab boots the version an image's name carries
FAST = ("--reload-timeout", "30", "--poll-interval", "0.1")
_T = TypeVar("_T")


@pytest.fixture
def make_lab() -> Iterator[Callable[..., LabThread]]:
    """Start a lab of N devices (sw1 .. swN, in a chain; cisco_ios unless told) that reload in 0.3 s."""
    with ExitStack() as stack:

        def start(count: int, platform: str = "cisco_ios") -> LabThread:
            return stack.enter_context(
                run_lab_in_thread(
                    devices=count,
                    platforms=[platform],
                    password=PASSWORD,
                    enable_secret=ENABLE,
                    reload_seconds=0.3,
                )
            )

        yield start


def _seed(store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch) -> Store:
    seeded = seed_lab_store(store, lab, monkeypatch, password=PASSWORD, enable_secret=ENABLE)
    with seeded.session() as session:
        session.add(m.User(username=getpass.getuser(), role="operator"))  # the CLI acts as the OS user
    return seeded


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / IMAGE
    path.write_bytes(os.urandom(150_000))
    return path


def _on_lab(lab: LabThread, action: Callable[[], _T]) -> _T:
    """Run ``action`` in the lab's event loop (its state is only touched there)."""

    async def run() -> _T:
        return action()

    return lab.call(run())


def _show(store: Store, device: str, command: str) -> str:
    async def run() -> str:
        async with await connect(store, device, "asyncssh", retries=3) as provider:
            return (await provider.send_command(command)).output

    return asyncio.run(run())


def _fill(lab: LabThread, device: LabDevice, leave: int) -> None:
    """Take all but ``leave`` bytes of the device's flash with a (simulated) file."""

    def fill() -> None:
        platform, state = device.platform, device.state
        fs = platform.file_systems[0]
        state.write_file(fs.prefix + "filler.bin", platform.free_bytes(state, fs) - leave)

    _on_lab(lab, fill)


def _break_interface_on_boot(lab: LabThread, name: str, interface: str) -> None:
    """The new software comes up with ``interface`` shut (as a bad release might): a reload
    into TARGET boots a startup configuration that has it shut."""
    device = lab.device(name)
    original = device.on_reload
    assert original is not None

    def broken(dev: LabDevice) -> None:
        state = dev.state
        if state.installed_version and upgrade.same_version(state.installed_version, TARGET):
            assert state.startup is not None
            state.startup.interfaces[interface].shutdown = True
        original(dev)

    device.on_reload = broken


def _steps(store: Store, execution_id: int) -> list[dict[str, Any]]:
    """The execution's steps as plain data: device, status, logs, error and outputs."""
    with store.read_session() as session:
        rows = session.scalars(
            select(m.ExecutionStep)
            .where(m.ExecutionStep.execution_id == execution_id)
            .order_by(m.ExecutionStep.order, m.ExecutionStep.id)
            .options(selectinload(m.ExecutionStep.device))
        ).all()
        return [
            {
                "device": row.device.name if row.device else None,
                "status": row.status,
                "logs": row.logs,
                "error": row.error_message,
                "outputs": row.outputs,
            }
            for row in rows
        ]


def _device_step(store: Store, execution_id: int | None, device: str) -> dict[str, Any]:
    return next(s for s in _steps(store, execution_id or 0) if s["device"] == device)


def _stages(logs: str) -> list[str]:
    return [line.split("stage: ")[1] for line in logs.splitlines() if "stage: " in line]


def test_an_upgrade_end_to_end_changes_the_version_after_the_reload(
    store: Store, make_lab: Callable[[int], LabThread], monkeypatch: pytest.MonkeyPatch, image: Path
) -> None:
    lab = make_lab(2)
    store = _seed(store, lab, monkeypatch)
    assert f"Version {OLD.replace('.9.4a', '.09.04a')}" in _show(store, "sw1", "show version")

    planned = run_cli(
        store, "upgrade", "plan", "--device", "sw1", "--target-version", TARGET, "--image", str(image), "--json"
    )
    assert planned.exit_code == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["status"] == "planned" and plan["target"] == "sw1" and plan["devices"][0]["status"] == "pending"
    assert plan["request"]["image_name"] == IMAGE and plan["request"]["image_size"] == 150_000

    ran = run_cli(store, "upgrade", "run", str(plan["id"]), *FAST)
    assert ran.exit_code == 0, ran.stderr
    assert "sw1: stage: reload" in ran.stderr and "completed" in ran.stderr

    # The device runs the new software: show version, after the reload.
    assert f"Cisco IOS XE Software, Version {TARGET}" in _show(store, "sw1", "show version")
    assert f"flash:{IMAGE}" in _show(store, "sw1", "show boot")

    shown = run_cli(store, "upgrade", "show", str(plan["id"]), "--json")
    detail = json.loads(shown.stdout)
    assert detail["status"] == "completed" and detail["counts"] == {"completed": 1}
    (device,) = detail["devices"]
    assert device["status"] == "completed" and device["error"] == ""
    assert upgrade.same_version(device["pre"]["version"], OLD)
    assert upgrade.same_version(device["post"]["version"], TARGET)
    assert device["pre"]["lldp_neighbors"] == device["post"]["lldp_neighbors"] == ["sw2"]
    assert "GigabitEthernet1/0/1" in device["pre"]["interfaces_up"]
    assert device["comparison"]["passed"] and device["comparison"]["version"]["ok"]
    assert device["previous_image"].endswith(".17.09.04a.SPA.bin")
    # The backup taken before the change is the plan's backup reference.
    assert detail["backup_reference"] == device["backup_id"]
    with store.read_session() as session:
        record = session.get(m.BackupRecord, detail["backup_reference"])
        assert record is not None and record.device.name == "sw1" and "hostname sw1" in record.backup_data
        saved = session.get(m.UpgradePlan, plan["id"])
        assert saved is not None and saved.status == UpgradeStatus.COMPLETED
        assert upgrade.same_version(saved.current_version, OLD)
        execution = session.get(m.Execution, saved.execution_id)
        assert execution is not None and execution.status == ExecutionStatus.COMPLETED
        assert execution.workflow.slug == "os-upgrade" and execution.inputs["plan_id"] == plan["id"]

    # Every stage is on the execution's step for the device, in order.
    step = _device_step(store, detail["execution_id"], "sw1")
    assert step["status"] == StepStatus.COMPLETED
    assert _stages(step["logs"]) == ["backup", "transfer", "boot", "reload", "wait", "post-checks"]
    assert "md5" in step["logs"] and "verified" in step["logs"]
    assert step["outputs"]["result"]["status"] == "completed"
    assert PASSWORD not in step["logs"] and ENABLE not in step["logs"] and PASSWORD not in shown.stdout

    text = run_cli(store, "upgrade", "show", str(plan["id"]))
    assert "sw1: completed" in text.stdout and "LLDP neighbours" in text.stdout and "sw2" in text.stdout
    listed = json.loads(run_cli(store, "upgrade", "list", "--json").stdout)
    assert [(p["id"], p["status"]) for p in listed] == [(plan["id"], "completed")]
    assert "completed" in run_cli(store, "upgrade", "list", "--status", "completed").stdout

    # A completed plan does not run again.
    again = run_cli(store, "upgrade", "run", str(plan["id"]), *FAST)
    assert again.exit_code == 1 and "is completed" in again.stderr


def test_a_failing_post_check_rolls_back_version_and_configuration(
    sqlite_store: Store, make_lab: Callable[[int], LabThread], monkeypatch: pytest.MonkeyPatch, image: Path
) -> None:
    lab = make_lab(2)
    store = _seed(sqlite_store, lab, monkeypatch)
    _break_interface_on_boot(lab, "sw1", "GigabitEthernet1/0/2")
    plan_id = upgrade.create_plan(store, device="sw1", target_version=TARGET, image=image)
    lines: list[str] = []

    execution_id, status = upgrade.start_plan(
        store, plan_id, requested_by="ops", reload_timeout=30, poll_interval=0.1, on_progress=lines.append
    )

    assert status == "rolled_back"
    detail = upgrade.plan_detail(store, plan_id)
    (device,) = detail.devices
    assert device.status == "rolled_back" and device.stage == "rolled back"
    assert "interfaces down that were up: GigabitEthernet1/0/2" in device.error
    assert device.comparison is not None and not device.comparison["passed"]
    assert device.comparison["version"]["ok"]  # the new version booted; the interface did not come up
    assert device.rollback is not None and device.rollback["ok"] and device.rollback["config_lines"] >= 1
    assert device.rollback["config_drift"] == []
    # The device runs the previous software again, with its configuration as backed up.
    assert "Cisco IOS XE Software, Version 17.09.04a" in _show(store, "sw1", "show version")
    brief = _show(store, "sw1", "show ip interface brief")
    assert next(line for line in brief.splitlines() if line.startswith("GigabitEthernet1/0/2 ")).split()[-2:] == [
        "up",
        "up",
    ]
    assert "interface GigabitEthernet1/0/2\n shutdown" not in _show(store, "sw1", "show running-config")
    with store.read_session() as session:
        record = session.get(m.BackupRecord, device.backup_id)
        assert record is not None and record.restore_count == 1
        execution = session.get(m.Execution, execution_id)
        assert execution is not None and execution.status == ExecutionStatus.FAILED
    step = _device_step(store, execution_id, "sw1")
    assert step["status"] == StepStatus.FAILED and "rolled back to 17.9.4a" in step["error"]
    assert _stages(step["logs"])[-4:] == ["rollback", "reload", "wait", "rollback checks"]
    assert any("rolled back: sw1 runs" in line for line in lines)
    shown = run_cli(store, "upgrade", "show", str(plan_id))
    assert "sw1: rolled_back" in shown.stdout and "rollback: restored" in shown.stdout and "NO" in shown.stdout


def test_a_connected_route_lost_after_the_upgrade_is_a_reason_for_the_rollback(
    sqlite_store: Store, make_lab: Callable[[int], LabThread], monkeypatch: pytest.MonkeyPatch, image: Path
) -> None:
    lab = make_lab(2)
    store = _seed(sqlite_store, lab, monkeypatch)

    def route_the_port() -> None:  # a routed port with an address, saved: 10.1.2.0/24 is connected
        state = lab.device("sw1").state
        for config in (state.config, state.startup):
            assert config is not None
            port = config.interfaces["GigabitEthernet1/0/2"]
            port.switchport, port.ipv4 = False, "10.1.2.1/24"

    _on_lab(lab, route_the_port)
    _break_interface_on_boot(lab, "sw1", "GigabitEthernet1/0/2")
    plan_id = upgrade.create_plan(store, device="sw1", target_version=TARGET, image=image)

    execution_id, status = upgrade.start_plan(store, plan_id, requested_by="ops", reload_timeout=30, poll_interval=0.1)

    assert status == "rolled_back"
    (device,) = upgrade.plan_detail(store, plan_id).devices
    assert device.pre is not None and device.post is not None and device.comparison is not None
    assert "10.1.2.0/24" in device.pre["routes"] and "10.1.2.0/24" not in device.post["routes"]
    routes = device.comparison["routes"]
    assert routes["available"] and not routes["ok"]
    assert routes["lost"] == ["10.1.2.0/24", "10.1.2.1/32"]
    assert "routes gone: 10.1.2.0/24, 10.1.2.1/32" in device.comparison["problems"]
    assert "routes gone: 10.1.2.0/24" in device.error
    # Rolled back: the port is up again and the route is back.
    assert device.rollback is not None and device.rollback["ok"], device.rollback
    assert device.rollback["comparison"]["routes"]["ok"]
    assert "10.1.2.0/24 is directly connected, GigabitEthernet1/0/2" in _show(store, "sw1", "show ip route")
    step = _device_step(store, execution_id, "sw1")
    assert "pre-checks: " in step["logs"] and "2 route(s)" in step["logs"]


def test_a_batch_of_20_with_one_failure_stops_starting_devices(
    store: Store, make_lab: Callable[[int], LabThread], monkeypatch: pytest.MonkeyPatch, image: Path
) -> None:
    lab = make_lab(20)
    store = _seed(store, lab, monkeypatch)
    _fill(lab, lab.device("sw1"), leave=10_000)  # sw1 (the first by name) has no room for the image
    planned = run_cli(
        store, "upgrade", "plan", "--filter", "location=Lab", "--target-version", TARGET, "--image", str(image)
    )
    assert planned.exit_code == 0, planned.stderr
    plan_id = int(planned.stdout.strip())

    ran = run_cli(store, "upgrade", "run", str(plan_id), "--parallel", "4", "--max-failures", "0", *FAST)

    assert ran.exit_code == 1
    detail = upgrade.plan_detail(store, plan_id)
    assert detail.summary.status == "failed" and detail.summary.devices == 20
    states = {d.name: d for d in detail.devices}
    assert states["sw1"].status == "failed"
    assert "no room" in states["sw1"].error and "150,000 bytes" in states["sw1"].error
    assert states["sw1"].stage == "transfer" and states["sw1"].backup_id is not None
    started = [d for d in detail.devices if d.status != "not_started"]
    not_started = [d for d in detail.devices if d.status == "not_started"]
    # The devices running when sw1 failed finished; no other device started after it.
    assert [d.status for d in started].count("failed") == 1
    assert all(d.status == "completed" for d in started if d.name != "sw1")
    # Devices start in the plan's order (by name here), four at a time: sw1 was in the first four.
    assert [d.name for d in started] == ["sw1", "sw10", "sw11", "sw12"] and len(not_started) == 16
    assert all("stop rule: 1 device(s) failed, more than max_failures=0" in d.error for d in not_started)
    assert detail.stopped.startswith("stop rule")
    assert detail.summary.counts == {"failed": 1, "completed": len(started) - 1, "not_started": len(not_started)}
    # What ran changed the devices; what did not start did not; sw1 kept its software and boot image.
    for d in started[1:2] + not_started[:1] + [states["sw1"]]:
        version = _show(store, d.name, "show version").splitlines()[0]
        assert version.endswith(TARGET if d.status == "completed" else "17.09.04a"), (d.name, version)
    assert "17.09.04a" in _show(store, "sw1", "show boot")
    step = _device_step(store, detail.summary.execution_id, "sw1")
    assert step["status"] == StepStatus.FAILED and "no room" in step["error"]
    # The audit trail agrees: what never started is a skipped step, with the stop rule as its reason.
    for d in not_started:
        step = _device_step(store, detail.summary.execution_id, d.name)
        assert step["status"] == StepStatus.SKIPPED, (d.name, step)
        assert step["error"].startswith(f"skipped: {d.name} not started: stop rule"), step["error"]
    assert "150,000 bytes" in ran.stderr and "not started" in ran.stderr


def test_a_scheduled_plan_runs_when_the_engine_fires_it(
    sqlite_store: Store, make_lab: Callable[[int], LabThread], monkeypatch: pytest.MonkeyPatch, image: Path
) -> None:
    from nettui.engine import scheduling
    from nettui.engine.runner import run_execution

    lab = make_lab(2)
    store = _seed(sqlite_store, lab, monkeypatch)
    plan_id = upgrade.create_plan(store, device="sw2", target_version=TARGET, image=image)
    when = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)

    done = run_cli(store, "upgrade", "schedule", str(plan_id), "--at", when.isoformat(), *FAST)

    assert done.exit_code == 0, done.stderr
    summary = upgrade.list_plans(store, status="scheduled")[0]
    assert summary.id == plan_id and summary.scheduled_time is not None
    assert summary.scheduled_time.replace(tzinfo=UTC) == when
    with store.read_session() as session:
        schedule = session.scalars(select(m.Schedule)).one()
        assert schedule.workflow.slug == "os-upgrade" and schedule.devices == ["sw2"]
        assert schedule.inputs["plan_id"] == plan_id and schedule.expression == when.isoformat()
        schedule_id = schedule.id
    # What the engine's scheduler does at that time: fire the schedule, run the execution.
    monkeypatch.setattr(scheduling, "_ACTIVE_STORE", [store])
    execution_id = scheduling.fire(schedule_id)
    assert execution_id is not None
    assert asyncio.run(run_execution(store, execution_id)) == ExecutionStatus.COMPLETED
    detail = upgrade.plan_detail(store, plan_id)
    assert detail.summary.status == "completed" and detail.summary.execution_id == execution_id
    assert f"Version {TARGET}" in _show(store, "sw2", "show version")
    # The same schedule firing again (or a plan run by hand meanwhile) does not run it twice.
    second = scheduling.fire(schedule_id)
    assert second is not None and asyncio.run(run_execution(store, second)) == ExecutionStatus.FAILED
    assert f"was run by execution {execution_id} (completed)" in _device_step(store, second, "sw2")["error"]
    assert upgrade.plan_detail(store, plan_id).summary.execution_id == execution_id


def test_bad_input_is_refused_with_what_where_and_what_to_do(
    sqlite_store: Store, make_lab: Callable[[int], LabThread], monkeypatch: pytest.MonkeyPatch, image: Path
) -> None:
    lab = make_lab(2)
    store = _seed(sqlite_store, lab, monkeypatch)

    def plan(*args: str) -> Any:
        return run_cli(store, "upgrade", "plan", "--target-version", TARGET, *args)

    unknown = plan("--device", "nope", "--image", str(image))
    assert unknown.exit_code == 1 and "no device 'nope'" in unknown.stderr and "inventory list" in unknown.stderr
    missing = plan("--device", "sw1", "--image", str(image.parent / "gone.bin"))
    assert missing.exit_code == 1 and "--image: no image file" in missing.stderr and "gone.bin" in missing.stderr
    nothing = plan("--filter", "location=Nowhere", "--image", str(image))
    assert nothing.exit_code == 1 and "no device matches" in nothing.stderr
    neither = plan("--image", str(image))
    assert neither.exit_code == 2 and "--device NAME" in neither.stderr
    assert run_cli(store, "upgrade", "show", "99").exit_code == 1
    with store.read_session() as session:
        assert session.scalars(select(m.UpgradePlan)).first() is None  # nothing half-written

    # No room on the device: refused before anything is sent or changed.
    _fill(lab, lab.device("sw2"), leave=1_000)
    plan_id = upgrade.create_plan(store, device="sw2", target_version=TARGET, image=image)
    ran = run_cli(store, "upgrade", "run", str(plan_id), *FAST)
    assert ran.exit_code == 1
    (device,) = upgrade.plan_detail(store, plan_id).devices
    assert device.status == "failed" and "no room" in device.error and "sw2" in device.error
    assert "Version 17.09.04a" in _show(store, "sw2", "show version")
    assert IMAGE not in _show(store, "sw2", "dir flash:")

    # The image file went away between planning and running.
    other = upgrade.create_plan(store, device="sw1", target_version=TARGET, image=image)
    image.unlink()
    gone = run_cli(store, "upgrade", "run", str(other), *FAST)
    assert gone.exit_code == 1 and "image file" in gone.stderr and "is gone" in gone.stderr
    bad_rate = run_cli(store, "upgrade", "run", str(other), "--max-failure-rate", "2")
    assert bad_rate.exit_code == 2
    past = run_cli(store, "upgrade", "schedule", str(other), "--at", "2001-01-01T00:00:00")
    assert past.exit_code == 1 and "in the past" in past.stderr


def test_a_cancel_stops_before_the_boot_image_changes_and_starts_no_more_devices(
    sqlite_store: Store, make_lab: Callable[[int], LabThread], monkeypatch: pytest.MonkeyPatch, image: Path
) -> None:
    from nettui.engine.approvals import cancel

    lab = make_lab(3)
    store = _seed(sqlite_store, lab, monkeypatch)
    plan_id = upgrade.create_plan(store, devices=["sw1", "sw2", "sw3"], target_version=TARGET, image=image)

    def cancel_during_the_transfer(line: str) -> None:
        if line == "sw1: stage: transfer":
            with store.read_session() as session:
                plan = session.get(m.UpgradePlan, plan_id)
                assert plan is not None and plan.execution_id is not None
                execution_id = plan.execution_id
            assert cancel(store, execution_id, "ops", reason="change window closed") == ExecutionStatus.RUNNING

    execution_id, status = upgrade.start_plan(
        store,
        plan_id,
        requested_by="ops",
        parallel=1,
        reload_timeout=30,
        poll_interval=0.1,
        on_progress=cancel_during_the_transfer,
    )

    assert status == "failed"
    states = {d.name: d for d in upgrade.plan_detail(store, plan_id).devices}
    assert states["sw1"].status == "failed" and "cancelled before the boot image was changed" in states["sw1"].error
    assert states["sw1"].stage == "transfer"
    assert [states[n].status for n in ("sw2", "sw3")] == ["not_started", "not_started"]
    assert all(states[n].error == "the execution was cancelled" for n in ("sw2", "sw3"))
    with store.read_session() as session:
        execution = session.get(m.Execution, execution_id)
        assert execution is not None and execution.status == ExecutionStatus.CANCELLED
    assert "17.09.04a" in _show(store, "sw1", "show boot") and "Version 17.09.04a" in _show(
        store, "sw1", "show version"
    )


def test_an_upgrade_workflow_that_needs_approval_runs_once_approved(
    sqlite_store: Store, make_lab: Callable[[int], LabThread], monkeypatch: pytest.MonkeyPatch, image: Path
) -> None:
    from nettui.engine.approvals import decide
    from nettui.engine.runner import run_execution

    lab = make_lab(2)
    store = _seed(sqlite_store, lab, monkeypatch)
    with store.session() as session:
        session.add(m.User(username="boss", role="approver"))
        workflow = session.scalars(select(m.Workflow).where(m.Workflow.slug == "os-upgrade")).one()
        workflow.approval_required = True  # as an organisation may require of upgrades
    plan_id = upgrade.create_plan(store, device="sw1", target_version=TARGET, image=image)

    ran = run_cli(store, "upgrade", "run", str(plan_id), *FAST)

    assert ran.exit_code == 3  # awaiting approval, as `nettui run`
    execution_id = upgrade.plan_detail(store, plan_id).summary.execution_id
    assert execution_id is not None and upgrade.list_plans(store)[0].status == "in_progress"
    assert "Version 17.09.04a" in _show(store, "sw1", "show version")  # nothing ran before the approval
    decide(store, execution_id, "boss", approve=True, comment="upgrade window")
    assert asyncio.run(run_execution(store, execution_id)) == ExecutionStatus.COMPLETED
    assert upgrade.plan_detail(store, plan_id).summary.status == "completed"
    assert f"Version {TARGET}" in _show(store, "sw1", "show version")


def test_the_stop_rule_counts_failures_and_rolled_back_devices() -> None:
    states = {f"sw{i}": {"status": "completed"} for i in range(1, 9)}
    assert upgrade.stop_rule(states, None, None) == ""
    states["sw9"] = {"status": "rolled_back"}
    states["sw10"] = {"status": "pending"}
    assert upgrade.stop_rule(states, 1, None) == ""  # one failure: not more than 1
    assert upgrade.stop_rule(states, 0, None) == "stop rule: 1 device(s) failed, more than max_failures=0"
    assert upgrade.stop_rule(states, None, 0.1) == ""  # 1 of 10 is not more than 10 %
    states["sw8"] = {"status": "failed"}
    assert "2 of 10 device(s) failed (20%), more than max_failure_rate=0.1" in upgrade.stop_rule(states, None, 0.1)
    assert upgrade.same_version("17.12.03", "17.12.3") and upgrade.same_version("10.4(2)", "10.4.2")
    assert not upgrade.same_version("17.12.3", "17.12.4") and not upgrade.same_version("", "")


OTHER_IMAGES = {
    "cisco_nxos": ("nxos64-cs.10.4.2.F.bin", "10.4(2)", "NXOS: version 10.4(2)"),
    "arista_eos": ("EOS-4.32.1F.swi", "4.32.1F", "Software image version: 4.32.1F"),
    "juniper_junos": ("junos-arm-32-22.4R3.25.tgz", "22.4R3.25", "Junos: 22.4R3.25"),
}


@pytest.mark.parametrize("platform", sorted(OTHER_IMAGES))
def test_nxos_eos_and_junos_roll_back_a_wrong_version_then_upgrade(
    sqlite_store: Store,
    make_lab: Callable[..., LabThread],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    platform: str,
) -> None:
    lab = make_lab(2, platform)
    store = _seed(sqlite_store, lab, monkeypatch)
    name, version, line = OTHER_IMAGES[platform]
    path = tmp_path / name
    path.write_bytes(os.urandom(60_000))
    before = _show(store, "sw1", "show version")
    assert line not in before

    # The image boots another version than the plan expects: the post-check fails, it rolls back.
    wrong = upgrade.create_plan(store, device="sw1", target_version="99.1", image=path)
    _, status = upgrade.start_plan(store, wrong, requested_by="ops", reload_timeout=30, poll_interval=0.1)
    (device,) = upgrade.plan_detail(store, wrong).devices
    assert status == "rolled_back", device.error
    assert device.comparison is not None and device.comparison["problems"] == [
        f"version is {device.post['version'] if device.post else '?'}, expected 99.1"
    ]
    assert upgrade.same_version(device.post["version"] if device.post else "", version)
    assert device.rollback is not None and device.rollback["ok"] and device.rollback["config_drift"] == []
    assert line not in _show(store, "sw1", "show version")

    right = upgrade.create_plan(store, device="sw1", target_version=version, image=path)
    _, status = upgrade.start_plan(store, right, requested_by="ops", reload_timeout=30, poll_interval=0.1)
    (device,) = upgrade.plan_detail(store, right).devices
    assert status == "completed", device.error
    assert line in _show(store, "sw1", "show version")
    assert device.pre is not None and device.pre["lldp_neighbors"] and device.pre["interfaces_up"]
    # Routes are read and compared on every platform (Junos has its management network in inet.0).
    assert device.pre["routes"] is not None and device.comparison is not None
    assert device.comparison["routes"]["available"] and device.comparison["routes"]["ok"]
    if platform == "juniper_junos":
        assert "10.200.0.0/16" in device.pre["routes"]
