"""Every built-in task, run for real through the engine on the lab's four platforms.

Each task runs as a one-step workflow with the realistic payload of its golden sample
(``tests/golden/<implementation>/context.yaml``, with interface names the lab device has),
and every pre- and post-check must pass. Before the change, the post-checks are read back
from the device too: at least one must fail then, so a check that passes proves the change.
Where a task needs something on the device first (a VLAN, a VRF), the test shows the
pre-check failing without it, then creates it and runs the task again.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from catalog import models as m
from catalog.models.choices import ExecutionStatus, InterfaceMode, StepStatus
from catalog.rendering import evaluate, render_template
from catalog.store import Store
from catalog.sync import LIBRARY_DIR, import_catalog
from drivers.connect import connect
from nettui.engine.runner import run_execution, submit
from nettui.lab import LabThread, run_lab_in_thread
from tests.lab_store import seed_lab_store

pytestmark = pytest.mark.slow

PLATFORMS = ["cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos"]
# The nautobot-* tasks talk to Nautobot, not to the device: tests/test_nautobot_writeback.py runs
# them, with the lab, against a real Nautobot.
# upgrade-device works on an upgrade plan: tests/test_upgrade.py runs it on the lab with one.
RUN_ELSEWHERE = {"upgrade-device"}
TASKS = sorted(
    path.stem
    for path in (LIBRARY_DIR / "tasks").glob("*.yaml")
    if not path.stem.startswith("nautobot-") and path.stem not in RUN_ELSEWHERE
)
GOLDEN = Path(__file__).parent / "golden"

# The golden samples come from bigger switches: these ports do not exist on the lab's devices.
RENAMED_PORTS = {
    ("set-interface-description", "cisco_ios"): {"Te1/1/1": "Gi1/0/20"},
    ("change-vlan", "cisco_nxos"): {"Ethernet1/49": "Ethernet1/20"},
    ("change-vlan", "arista_eos"): {"Et49/1": "Et20"},
}
# Inventory the templates read: IOS adds `no switchport` to a port the inventory knows as a
# switchport; Junos takes the NTP source address from the inventory's lo0.0.
INVENTORY_INTERFACES: dict[str, list[tuple[str, InterfaceMode | None, str | None]]] = {
    "cisco_ios": [("GigabitEthernet1/0/24", InterfaceMode.ACCESS, None)],
    "juniper_junos": [("lo0.0", None, "10.255.3.11/32")],
}
# The VRF the l3-interface-vrf payload names, as the network's design would configure it.
VRF_CONFIG = {
    "cisco_ios": ["vrf definition GUEST", " rd 65000:200", " address-family ipv4", " exit-address-family"],
    "cisco_nxos": ["vrf context TENANT-A"],
    "arista_eos": ["vrf instance TENANT-A"],
    "juniper_junos": [
        "set routing-instances TENANT-A instance-type vrf",
        "set routing-instances TENANT-A route-distinguisher 65030:100",
        "set routing-instances TENANT-A vrf-target target:65030:100",
    ],
}
_counter = itertools.count(1)


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=4, platforms=PLATFORMS, password="lib-pw", enable_secret="lib-en") as handle:
        yield handle


@pytest.fixture
def store(sqlite_store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch) -> Store:
    return seed_lab_store(
        sqlite_store, lab, monkeypatch, password="lib-pw", enable_secret="lib-en", interfaces=INVENTORY_INTERFACES
    )


def _intended(task: str, platform: str) -> dict[str, Any]:
    """The golden sample's payload, with the lab's port names."""
    context = yaml.safe_load((GOLDEN / f"{task}-{platform.replace('_', '-')}" / "context.yaml").read_text())
    intended: dict[str, Any] = copy.deepcopy(context["intended"])
    for section in intended.values():
        for key, value in section.items():
            if key in ("name", "interface") and isinstance(value, str):
                section[key] = RENAMED_PORTS.get((task, platform), {}).get(value, value)
    return intended


def _run(store: Store, tmp_path: Path, task: str, device: str, payload: dict[str, Any]) -> m.ExecutionStep:
    """Run ``task`` on ``device`` as a one-step workflow; its task step (status, outputs, error)."""
    slug = f"lab-{task}-{next(_counter)}"
    workflow = {
        "kind": "workflow",
        "slug": slug,
        "name": slug,
        "input_schema": {"type": "object"},
        "steps": [{"name": f"Run {task}", "step_type": "task", "task": task, "input_mapping": payload}],
    }
    path = tmp_path / f"{slug}.yaml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    import_catalog(store, [path])
    execution = submit(store, slug, [device], {}, requested_by="ops")
    asyncio.run(run_execution(store, execution))
    with store.read_session() as session:
        (row,) = session.scalars(select(m.ExecutionStep).where(m.ExecutionStep.execution_id == execution)).all()
        session.expunge_all()
    return row


def _assert_all_checks_passed(row: m.ExecutionStep, what: str) -> None:
    checks = (row.outputs or {}).get("checks", [])
    assert row.status == StepStatus.COMPLETED, f"{what}: {row.error_message}\n{row.logs}\n{checks}"
    failed = [c for c in checks if not c["passed"]]
    assert not failed, f"{what}: checks failed: {failed}"


def _implementation(store: Store, task: str, platform: str) -> m.TaskImplementation:
    with store.read_session() as session:
        impl = session.scalars(
            select(m.TaskImplementation).where(m.TaskImplementation.slug == f"{task}-{platform.replace('_', '-')}")
        ).one()
        session.expunge_all()
    return impl


async def _read_checks(store: Store, device: str, checks: list[dict[str, Any]], payload: dict[str, Any]) -> list[bool]:
    """Each check's verdict on the device as it is now (outside the engine)."""
    context = {"intended": payload}
    provider = await connect(store, device)
    try:
        verdicts = []
        for check in checks:
            output = (await provider.send_command(render_template(check["command"], context).strip())).output
            verdicts.append(bool(evaluate(check["expect"], {**context, "output": output})))
        return verdicts
    finally:
        await provider.close()


async def _configure(store: Store, device: str, lines: list[str]) -> None:
    provider = await connect(store, device)
    try:
        await provider.send_config(lines)
    finally:
        await provider.close()


def _prerequisites(
    store: Store, tmp_path: Path, task: str, platform: str, device: str, payload: dict[str, Any]
) -> None:
    """What the task needs on the device: its pre-check fails without it, then it is created."""
    if task == "change-vlan":
        vid = payload["port"].get("untagged_vlan")
        if vid is None:
            return
        before = _run(store, tmp_path, task, device, payload)
        assert before.status == StepStatus.FAILED, f"change-vlan ran although VLAN {vid} is missing"
        assert "pre-check 'Access or native VLAN exists on the switch' did not pass" in before.error_message
        created = _run(store, tmp_path, "create-vlan", device, {"vlan": {"vid": vid, "name": f"LAB-{vid}"}})
        _assert_all_checks_passed(created, f"create-vlan {vid} on {platform}")
    elif task == "l3-interface-vrf":
        before = _run(store, tmp_path, task, device, payload)
        assert before.status == StepStatus.FAILED, f"l3-interface-vrf ran although {payload['l3']['vrf']} is missing"
        assert "pre-check" in before.error_message and "did not pass" in before.error_message
        asyncio.run(_configure(store, device, VRF_CONFIG[platform]))


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("task", TASKS)
def test_task_runs_on_the_lab_with_every_check_passing(
    lab: LabThread, store: Store, tmp_path: Path, task: str, platform: str
) -> None:
    device = next(d.name for d in lab.devices if d.platform_name == platform)
    payload = _intended(task, platform)
    impl = _implementation(store, task, platform)
    if impl.post_checks:
        before = asyncio.run(_read_checks(store, device, impl.post_checks, payload))
        assert not all(before), f"{impl.slug}: every post-check passes before the change: {impl.post_checks}"
    _prerequisites(store, tmp_path, task, platform, device, payload)

    row = _run(store, tmp_path, task, device, payload)

    _assert_all_checks_passed(row, impl.slug)
    assert row.task_implementation_id == impl.id
    checks = row.outputs["checks"]
    assert [c["name"] for c in checks] == [c["name"] for c in [*impl.pre_checks, *impl.post_checks]]
    with store.read_session() as session:
        execution = session.get(m.Execution, row.execution_id)
        assert execution is not None and execution.status == ExecutionStatus.COMPLETED


def test_a_failed_pre_check_stops_the_task_before_anything_is_sent(
    lab: LabThread, store: Store, tmp_path: Path
) -> None:
    device = next(d.name for d in lab.devices if d.platform_name == "cisco_ios")
    payload = {"port": {"name": "Gi1/0/15", "mode": "access", "untagged_vlan": 3999}}
    row = _run(store, tmp_path, "change-vlan", device, payload)
    assert row.status == StepStatus.FAILED and "pre-check" in row.error_message
    check = {"command": "show vlan brief", "expect": '"3999" not in output.split()'}
    assert asyncio.run(_read_checks(store, device, [check], payload)) == [True]
