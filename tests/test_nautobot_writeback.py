"""Update Nautobot first, then render (issue 10, part 3), against a real Nautobot 3.2 and the lab.

The library workflow ``nautobot-switchport`` sets a port's mode and VLANs in Nautobot through the
``nettui_nautobot_update`` hook, reads the port back through GraphQL, renders the switch's
configuration from what Nautobot now says and pushes it to a lab device. The tests check the
result both in Nautobot (pynautobot, many-to-many fields included) and on the device (its
running configuration); that a push the device refuses leaves Nautobot as it was, with the
execution saying "Nautobot change reverted"; and that a revert that cannot be done (someone
changed the port in Nautobot meanwhile) is recorded plainly and overwrites nothing.

The Nautobot server comes from tests/nautobot_harness.py (one per pytest-xdist worker); every
test works on Nautobot devices of its own (unique names), so tests and workers do not disturb
each other.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pynautobot  # type: ignore[import-untyped]
import pytest
import yaml
from sqlalchemy import select, update

from catalog import models as m
from catalog.models.choices import ExecutionStatus, StepStatus
from catalog.store import Store
from catalog.sync import import_catalog
from drivers.connect import connect
from nettui.engine.approvals import decide
from nettui.engine.runner import run_execution, submit
from nettui.lab import LabThread, run_lab_in_thread
from nettui.sync.writeback import WritebackError, parse_changes
from tests.lab_store import seed_lab_store
from tests.nautobot_harness import NautobotServer, nautobot_fixture  # noqa: F401 (the session's server)

PLATFORMS = ["cisco_ios", "arista_eos"]
TOKEN_VARIABLE = "NB_WRITEBACK_TOKEN"


# -- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=2, platforms=PLATFORMS, password="wb-pw", enable_secret="wb-en") as handle:
        yield handle


@dataclass(frozen=True)
class Site:
    """What the module's seeding created in Nautobot: a site with VLANs 120, 130 and 140."""

    suffix: str
    active: str
    location: str
    role: str
    device_types: dict[str, str]  # network driver -> device type id
    platforms: dict[str, str]  # network driver -> platform id
    vlans: dict[int, str]  # vid -> VLAN id
    vlan_names: dict[int, str]


def _api(server: NautobotServer) -> Any:
    return pynautobot.api(server.url, token=server.token)


@pytest.fixture(scope="module")
def site(nautobot: NautobotServer) -> Site:
    api = _api(nautobot)
    s = uuid.uuid4().hex[:6]
    active = api.extras.statuses.get(name="Active").id
    kind = api.dcim.location_types.create(name=f"WbSite-{s}", content_types=["dcim.device", "ipam.vlan"])
    location = api.dcim.locations.create(name=f"wb-{s}", location_type=kind.id, status=active)
    role = api.extras.roles.create(name=f"wb-access-{s}", content_types=["dcim.device"])
    device_types, platforms = {}, {}
    for driver, maker_name in (("cisco_ios", "Cisco"), ("arista_eos", "Arista")):
        maker = api.dcim.manufacturers.get(name=maker_name) or api.dcim.manufacturers.create(name=maker_name)
        device_types[driver] = api.dcim.device_types.create(manufacturer=maker.id, model=f"{driver}-{s}").id
        platforms[driver] = api.dcim.platforms.create(
            name=f"{driver}-{s}", manufacturer=maker.id, network_driver=driver
        ).id
    names = {120: f"USERS-{s}", 130: f"VOICE-{s}", 140: f"PRINTERS-{s}"}
    vlans = {
        vid: api.ipam.vlans.create(vid=vid, name=name, status=active, locations=[location.id]).id
        for vid, name in names.items()
    }
    return Site(s, active, location.id, role.id, device_types, platforms, vlans, names)


@dataclass
class Setup:
    """A store seeded with the library and the lab's devices (renamed to unique names that
    Nautobot devices also carry), a Nautobot provider config and an approver."""

    store: Store
    api: Any
    site: Site
    devices: dict[str, str]  # network driver -> device name (nettui and Nautobot)
    nautobot_ids: dict[str, str]  # device name -> Nautobot id

    def port(self, device: str, name: str, **fields: Any) -> str:
        """A new port on the Nautobot device; its id."""
        created = self.api.dcim.interfaces.create(
            device=self.nautobot_ids[device], name=name, type="1000base-t", status=self.site.active, **fields
        )
        return str(created.id)

    def read_port(self, port_id: str) -> dict[str, Any]:
        """The port as Nautobot has it now: mode, untagged VLAN id, tagged VLAN ids, description."""
        found = self.api.dcim.interfaces.filter(id=port_id, exclude_m2m=False)
        assert len(found) == 1
        port = dict(found[0])
        return {
            "mode": (port["mode"] or {}).get("value"),
            "untagged_vlan": (port["untagged_vlan"] or {}).get("id"),
            "tagged_vlans": sorted(v["id"] for v in port["tagged_vlans"]),
            "description": port["description"],
        }


def _add_nautobot_config(store: Store, url: str, monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, token)
    with store.session() as session:
        provider = session.scalars(select(m.Provider).where(m.Provider.name == "nautobot")).one()
        session.add(
            m.ProviderConfig(
                provider=provider,
                name="lab nautobot",
                settings={"url": url},
                credentials=m.SecretsGroup(
                    name="nautobot",
                    entries=[m.SecretsGroupEntry(name="token", backend="env", reference=TOKEN_VARIABLE)],
                ),
            )
        )
        session.add(m.User(username="boss", role="approver"))


@pytest.fixture
def setup(
    sqlite_store: Store, lab: LabThread, nautobot: NautobotServer, site: Site, monkeypatch: pytest.MonkeyPatch
) -> Setup:
    store = seed_lab_store(sqlite_store, lab, monkeypatch, password="wb-pw", enable_secret="wb-en")
    _add_nautobot_config(store, nautobot.url, monkeypatch, nautobot.token)
    api = _api(nautobot)
    tag = uuid.uuid4().hex[:6]
    devices: dict[str, str] = {}
    nautobot_ids: dict[str, str] = {}
    with store.session() as session:
        for lab_device in lab.devices:
            name = f"{lab_device.name}-{tag}"
            session.execute(update(m.Device).where(m.Device.name == lab_device.name).values(name=name))
            devices[lab_device.platform_name] = name
            created = api.dcim.devices.create(
                name=name,
                device_type=site.device_types[lab_device.platform_name],
                location=site.location,
                role=site.role,
                status=site.active,
                platform=site.platforms[lab_device.platform_name],
            )
            nautobot_ids[name] = str(created.id)
    return Setup(store, api, site, devices, nautobot_ids)


# -- helpers -------------------------------------------------------------------------------------------


def _run(
    store: Store, device: str, inputs: dict[str, Any], on_event: Callable[[str], None] | None = None
) -> tuple[int, ExecutionStatus]:
    """Submit nautobot-switchport as ops, approve it as boss, run it to its end."""
    execution = submit(store, "nautobot-switchport", [device], {"device": device, **inputs}, requested_by="ops")
    assert asyncio.run(run_execution(store, execution)) == ExecutionStatus.AWAITING_APPROVAL
    decide(store, execution, "boss", approve=True, comment="change window")
    return execution, asyncio.run(run_execution(store, execution, on_event=on_event or (lambda _text: None)))


def _steps(store: Store, execution: int) -> dict[str, m.ExecutionStep]:
    with store.read_session() as session:
        rows = session.scalars(
            select(m.ExecutionStep)
            .join(m.WorkflowStep, m.WorkflowStep.id == m.ExecutionStep.workflow_step_id)
            .where(m.ExecutionStep.execution_id == execution)
            .order_by(m.ExecutionStep.id)
        ).all()
        names = {row.id: row.workflow_step.name for row in rows}
        session.expunge_all()
    return {names[row.id]: row for row in rows}


def _events(store: Store, execution: int) -> list[tuple[str, str]]:
    with store.read_session() as session:
        return [
            (e.kind, e.detail)
            for e in session.scalars(
                select(m.ExecutionEvent).where(m.ExecutionEvent.execution_id == execution).order_by(m.ExecutionEvent.id)
            )
        ]


def _show(store: Store, device: str, command: str) -> str:
    async def run() -> str:
        provider = await connect(store, device)
        try:
            return (await provider.send_command(command)).output
        finally:
            await provider.close()

    return asyncio.run(run())


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


# -- the workflow, for real ----------------------------------------------------------------------------


@pytest.mark.slow
def test_update_then_render_changes_nautobot_and_the_device(setup: Setup) -> None:
    site, ios, eos = setup.site, setup.devices["cisco_ios"], setup.devices["arista_eos"]
    access = setup.port(ios, "GigabitEthernet1/0/5", mode="access", untagged_vlan=site.vlans[120])
    trunk = setup.port(eos, "Ethernet6")

    # An access port moves from VLAN 120 to 130 (the form's short name is normalised).
    execution, status = _run(setup.store, ios, {"interface": "Gi1/0/5", "mode": "access", "vlan": 130})
    steps = _steps(setup.store, execution)
    assert status == ExecutionStatus.COMPLETED, {n: (s.status, s.error_message) for n, s in steps.items()}
    assert setup.read_port(access) == {
        "mode": "access",
        "untagged_vlan": site.vlans[130],
        "tagged_vlans": [],
        "description": "",
    }
    change = steps["Update Nautobot"].outputs["result"]["changes"][0]
    assert change["object"] == "dcim.interfaces" and change["id"] == access
    assert change["fields"]["untagged_vlan"] == {"before": site.vlans[120], "after": site.vlans[130]}
    shown = f"untagged_vlan {site.vlan_names[120]} (120) -> {site.vlan_names[130]} (130)"
    assert shown in steps["Update Nautobot"].logs
    assert setup.api.token not in json.dumps(steps["Update Nautobot"].outputs) + steps["Update Nautobot"].logs
    # The switch got what Nautobot says now: the VLAN (with Nautobot's name) and the port.
    running = _lines(_show(setup.store, ios, "show running-config interface GigabitEthernet1/0/5"))
    assert "switchport mode access" in running and "switchport access vlan 130" in running
    assert site.vlan_names[130] in _show(setup.store, ios, "show vlan brief").split()
    assert steps["Configure the port"].inputs["port"] == {
        "name": "GigabitEthernet1/0/5",
        "mode": "access",
        "untagged_vlan": 130,
        "tagged_vlans": [],
    }
    assert not [kind for kind, _ in _events(setup.store, execution) if kind.startswith("undo")]

    # A trunk on EOS: native VLAN 120, tagged 130 and 140.
    execution, status = _run(
        setup.store, eos, {"interface": "Ethernet6", "mode": "trunk", "vlan": 120, "allowed_vlans": "130, 140"}
    )
    steps = _steps(setup.store, execution)
    assert status == ExecutionStatus.COMPLETED, {n: (s.status, s.error_message) for n, s in steps.items()}
    assert setup.read_port(trunk) == {
        "mode": "tagged",
        "untagged_vlan": site.vlans[120],
        "tagged_vlans": sorted([site.vlans[130], site.vlans[140]]),
        "description": "",
    }
    running = _lines(_show(setup.store, eos, "show running-config interfaces Ethernet6"))
    assert "switchport mode trunk" in running
    assert "switchport trunk native vlan 120" in running
    assert "switchport trunk allowed vlan 120,130,140" in running


@pytest.mark.slow
def test_a_dry_run_reads_nautobot_renders_and_changes_nothing(setup: Setup) -> None:
    """The GraphQL steps read (they run in a dry run); the Nautobot update and the pushes do
    not: the port's configuration is rendered from Nautobot as it is now."""
    site, ios = setup.site, setup.devices["cisco_ios"]
    access = setup.port(ios, "GigabitEthernet1/0/7", mode="access", untagged_vlan=site.vlans[120])
    port_before = setup.read_port(access)
    config_before = _show(setup.store, ios, "show running-config interface GigabitEthernet1/0/7")
    inputs = {"device": ios, "interface": "Gi1/0/7", "mode": "access", "vlan": 130}
    execution = submit(setup.store, "nautobot-switchport", [ios], inputs, requested_by="ops", dry_run=True)
    status = asyncio.run(run_execution(setup.store, execution))
    if status == ExecutionStatus.AWAITING_APPROVAL:
        decide(setup.store, execution, "boss", approve=True, comment="dry run")
        status = asyncio.run(run_execution(setup.store, execution))
    steps = _steps(setup.store, execution)
    failed = {n: s.error_message for n, s in steps.items() if s.status == StepStatus.FAILED}
    assert status == ExecutionStatus.COMPLETED and not failed, failed
    assert "reads only; it runs" in steps["Find the port in Nautobot"].logs
    assert steps["Find the port in Nautobot"].outputs["data"]
    assert "nothing sent" in steps["Update Nautobot"].logs
    assert setup.read_port(access) == port_before  # Nautobot untouched
    assert _show(setup.store, ios, "show running-config interface GigabitEthernet1/0/7") == config_before
    rendered = _lines(steps["Configure the port"].rendered_content)
    assert "interface GigabitEthernet1/0/7" in rendered and "switchport access vlan 120" in rendered


@pytest.mark.slow
def test_a_push_the_device_refuses_leaves_nautobot_as_it_was(setup: Setup, lab: LabThread) -> None:
    site, ios = setup.site, setup.devices["cisco_ios"]
    port = setup.port(ios, "GigabitEthernet1/0/7", mode="access", untagged_vlan=site.vlans[120], description="desk")
    before = setup.read_port(port)
    lab_name = next(d.name for d in lab.devices if d.platform_name == "cisco_ios")
    lab.set_faults(lab_name, reject_commands=["switchport access vlan"])
    try:
        execution, status = _run(setup.store, ios, {"interface": "Gi1/0/7", "mode": "access", "vlan": 140})
    finally:
        lab.clear_faults(lab_name)

    assert status == ExecutionStatus.FAILED
    assert setup.read_port(port) == before  # Nautobot as it was
    steps = _steps(setup.store, execution)
    assert steps["Configure the port"].status == StepStatus.FAILED
    assert "configuration refused" in steps["Configure the port"].error_message
    update_step = steps["Update Nautobot"]
    assert update_step.status == StepStatus.COMPLETED  # it did its part; the revert is recorded on it
    assert update_step.error_message.startswith("Nautobot change reverted (step 'Configure the port' failed)")
    assert update_step.outputs["undo"]["status"] == "reverted"
    assert "Nautobot change reverted" in update_step.logs
    assert steps["Tell the requester"].status == StepStatus.SKIPPED
    events = _events(setup.store, execution)
    assert ("undone", f"{ios}: {update_step.error_message}") in events
    with setup.store.read_session() as session:
        execution_row = session.get(m.Execution, execution)
        assert execution_row is not None
        (record,) = execution_row.context["devices"][ios]["_undo"]
        assert record["status"] == "reverted" and record["label"] == "Nautobot change"
    # The switch kept its old access VLAN.
    assert "switchport access vlan 140" not in _lines(
        _show(setup.store, ios, "show running-config interface GigabitEthernet1/0/7")
    )


@pytest.mark.slow
def test_a_revert_that_cannot_be_done_is_recorded_and_overwrites_nothing(setup: Setup, lab: LabThread) -> None:
    site, ios = setup.site, setup.devices["cisco_ios"]
    port = setup.port(ios, "GigabitEthernet1/0/8", mode="access", untagged_vlan=site.vlans[120])
    lab_name = next(d.name for d in lab.devices if d.platform_name == "cisco_ios")

    def colleague_edits_the_port(text: str) -> None:
        # While the switch is being configured, someone else moves the port to VLAN 140 in Nautobot.
        if "Configure the port" in text and text.startswith("step "):
            setup.api.dcim.interfaces.update([{"id": port, "untagged_vlan": site.vlans[140]}])

    lab.set_faults(lab_name, reject_commands=["switchport access vlan"])
    try:
        execution, status = _run(
            setup.store, ios, {"interface": "Gi1/0/8", "mode": "access", "vlan": 130}, colleague_edits_the_port
        )
    finally:
        lab.clear_faults(lab_name)

    assert status == ExecutionStatus.FAILED
    assert setup.read_port(port)["untagged_vlan"] == site.vlans[140]  # the colleague's edit stands
    update_step = _steps(setup.store, execution)["Update Nautobot"]
    message = update_step.error_message
    assert message.startswith("Nautobot change NOT reverted (step 'Configure the port' failed): dcim.interfaces")
    assert "changed in Nautobot since nettui wrote it" in message
    assert f"untagged_vlan (now {site.vlan_names[140]} (140), nettui set {site.vlan_names[130]} (130))" in message
    assert message.endswith("left as it is")
    assert update_step.outputs["undo"]["status"] == "not reverted"
    assert ("undo_failed", f"{ios}: {message}") in _events(setup.store, execution)


# -- the hook on its own -------------------------------------------------------------------------------


def _workflow(store: Store, tmp_path: Path, steps: list[dict[str, Any]]) -> str:
    """Import a workflow of these steps; its slug."""
    slug = f"nb-wf-{uuid.uuid4().hex[:6]}"
    path = tmp_path / f"{slug}.yaml"
    workflow = {"kind": "workflow", "slug": slug, "name": slug, "input_schema": {"type": "object"}, "steps": steps}
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    import_catalog(store, [path])
    return slug


def _one_step_workflow(store: Store, tmp_path: Path, changes: list[dict[str, Any]]) -> str:
    step = {"name": "Update Nautobot", "step_type": "task", "task": "nautobot-update"}
    return _workflow(store, tmp_path, [{**step, "input_mapping": {"nautobot": {"changes": changes}}}])


def _run_one(store: Store, slug: str, device: str) -> tuple[ExecutionStatus, m.ExecutionStep]:
    execution = submit(store, slug, [device], {}, requested_by="ops")
    status = asyncio.run(run_execution(store, execution))
    (row,) = _steps(store, execution).values()
    return status, row


@pytest.mark.slow
def test_a_failing_change_puts_back_the_ones_before_it(setup: Setup, tmp_path: Path) -> None:
    ios = setup.devices["cisco_ios"]
    port = setup.port(ios, "GigabitEthernet1/0/9", description="before")
    before = setup.read_port(port)
    slug = _one_step_workflow(
        setup.store,
        tmp_path,
        [
            {"object": "dcim.interfaces", "id": port, "fields": {"description": "after"}},
            {"object": "dcim.interfaces", "lookup": {"device": ios, "name": "Gi9/9/9"}, "fields": {"enabled": False}},
        ],
    )
    status, row = _run_one(setup.store, slug, ios)
    assert status == ExecutionStatus.FAILED and row.status == StepStatus.FAILED
    assert "change 2 (dcim.interfaces device=" in row.error_message and "no object matches" in row.error_message
    assert "the 1 change(s) made: put back dcim.interfaces" in row.error_message
    assert setup.read_port(port) == before
    assert "put back dcim.interfaces" in row.logs

    # A field Nautobot does not have is refused before anything is written.
    slug = _one_step_workflow(
        setup.store, tmp_path, [{"object": "dcim.interfaces", "id": port, "fields": {"untaged_vlan": None}}]
    )
    status, row = _run_one(setup.store, slug, ios)
    assert status == ExecutionStatus.FAILED
    assert "dcim.interfaces has no field 'untaged_vlan'" in row.error_message
    assert setup.read_port(port) == before


@pytest.mark.slow
def test_the_engine_reverts_where_the_work_stops(setup: Setup, tmp_path: Path) -> None:
    ios, eos = setup.devices["cisco_ios"], setup.devices["arista_eos"]
    ports = {name: setup.port(name, "Port-10", description="as it was") for name in (ios, eos)}
    update_step = {
        "name": "Update Nautobot",
        "step_type": "task",
        "task": "nautobot-update",
        "input_mapping": {
            "nautobot": {
                "changes": [
                    {
                        "object": "dcim.interfaces",
                        "lookup": {"device": "{{ device.name }}", "name": "Port-10"},
                        "fields": {"description": "set by nettui"},
                    }
                ]
            }
        },
    }
    check = {"step_type": "validation", "config": {"expression": "device.name != inputs.bad"}}
    notify = {"name": "Tell", "step_type": "notification", "config": {"subject": "done"}}

    def descriptions() -> dict[str, str]:
        return {name: setup.read_port(port)["description"] for name, port in ports.items()}

    # A failure with on_failure: continue undoes nothing; one in the last step undoes only the
    # device it failed on (the other device's work is complete).
    slug = _workflow(
        setup.store,
        tmp_path,
        [update_step, {**check, "name": "Soft check", "on_failure": "continue"}, {**check, "name": "Hard check"}],
    )
    execution = submit(setup.store, slug, [ios, eos], {"bad": eos}, requested_by="ops")
    assert asyncio.run(run_execution(setup.store, execution)) == ExecutionStatus.FAILED
    assert descriptions() == {ios: "set by nettui", eos: "as it was"}
    assert [kind for kind, _ in _events(setup.store, execution) if kind.startswith("undo")] == ["undone"]

    # A failure before later steps: every device stops there, so every device's change is undone.
    setup.api.dcim.interfaces.update([{"id": port, "description": "as it was"} for port in ports.values()])
    slug = _workflow(setup.store, tmp_path, [update_step, {**check, "name": "Hard check"}, notify])
    execution = submit(setup.store, slug, [ios, eos], {"bad": eos}, requested_by="ops")
    assert asyncio.run(run_execution(setup.store, execution)) == ExecutionStatus.FAILED
    assert descriptions() == {ios: "as it was", eos: "as it was"}
    undone = sorted(detail.split(":")[0] for kind, detail in _events(setup.store, execution) if kind == "undone")
    assert undone == sorted([ios, eos])
    rows = [r for r in _steps_per_device(setup.store, execution) if r[0] == "Update Nautobot"]
    assert {
        device: error.startswith("Nautobot change reverted (step 'Hard check' failed)") for _, device, error in rows
    } == {
        ios: True,
        eos: True,
    }


def _steps_per_device(store: Store, execution: int) -> list[tuple[str, str, str]]:
    with store.read_session() as session:
        return [
            (row.workflow_step.name, row.device.name if row.device else "", row.error_message)
            for row in session.scalars(select(m.ExecutionStep).where(m.ExecutionStep.execution_id == execution))
        ]


# -- without a server ----------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def offline(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The library and one IOS device that is never contacted (the hook talks to Nautobot only)."""
    from catalog.sync import LIBRARY_DIR

    import_catalog(sqlite_store, [LIBRARY_DIR])
    with sqlite_store.session() as session:
        ios = session.scalars(select(m.Platform).where(m.Platform.network_driver == "cisco_ios")).one()
        session.add(m.Device(name="sw-offline", host="192.0.2.1", platform=ios, manufacturer=ios.manufacturer))
        session.add(m.User(username="ops", role="operator"))
    return sqlite_store


def test_the_hook_says_what_is_missing_without_a_nautobot(
    offline: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changes = [
        {"object": "dcim.interfaces", "lookup": {"device": "sw-offline", "name": "Gi1"}, "fields": {"mtu": 9000}}
    ]
    slug = _one_step_workflow(offline, tmp_path, changes)
    status, row = _run_one(offline, slug, "sw-offline")
    assert status == ExecutionStatus.FAILED
    assert "no Nautobot provider config for sw-offline" in row.error_message
    assert "provider config" in row.error_message and "hint:" in row.error_message

    _add_nautobot_config(offline, f"http://127.0.0.1:{_closed_port()}", monkeypatch, "0123456789abcdef" * 2)
    status, row = _run_one(offline, slug, "sw-offline")
    assert status == ExecutionStatus.FAILED
    assert "cannot connect" in row.error_message and "0123456789abcdef" not in (row.error_message + row.logs)


def test_bad_changes_are_refused_with_where_and_what() -> None:
    with pytest.raises(WritebackError, match="no changes given"):
        parse_changes({"changes": []})
    with pytest.raises(WritebackError, match=r"changes\[0\]: object must be app.endpoint"):
        parse_changes({"changes": [{"object": "../users", "id": "x", "fields": {"a": 1}}]})
    with pytest.raises(WritebackError, match="exactly one of id and lookup"):
        parse_changes({"changes": [{"object": "dcim.interfaces", "id": "x", "lookup": {"a": 1}, "fields": {"a": 1}}]})
    with pytest.raises(WritebackError, match=r"changes\[1\]: fields must map"):
        parse_changes(
            {
                "changes": [
                    {"object": "dcim.interfaces", "id": "x", "fields": {"a": 1}},
                    {"object": "ipam.vlans", "id": "y", "fields": {}},
                ]
            }
        )
    (change,) = parse_changes({"changes": [{"object": "plugins/golden-config.configs", "id": "z", "fields": {"b": 2}}]})
    assert (change.app, change.endpoint) == ("plugins/golden-config", "configs")
