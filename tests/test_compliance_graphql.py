"""graphql_query compliance checks against a real Nautobot 3.2 (tests/nautobot_harness.py).

The check asks Nautobot, the source of truth, about each device and judges the answer with its
``expect`` expression: here, that the serial number Nautobot has is the one nettui's inventory
has. Two devices are synced from Nautobot; then one of them gets a new serial in Nautobot (a
replaced chassis not yet in nettui): the check passes for the first and fails for the second,
and each run keeps what Nautobot answered.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pynautobot  # type: ignore[import-untyped]
import pytest

from catalog import models as m
from catalog.models.choices import CheckType, Severity
from catalog.secrets import Secret
from catalog.store import Store
from nettui.lifecycle import compliance
from nettui.sync.nautobot import sync_nautobot
from tests.conftest import run_cli
from tests.nautobot_harness import NautobotServer, nautobot_fixture  # noqa: F401 (the session's server)

pytestmark = pytest.mark.slow

CHECK_LOGIC = """\
provider: lab nautobot
query: 'query ($name: [String]) { devices(name: $name) { name serial status { name } } }'
variables: {name: ['{{ device.name }}']}
expect: data.devices | length == 1 and data.devices[0].serial == device.serial
"""


def _two_devices(server: NautobotServer) -> tuple[list[str], Any]:
    """Two devices of their own (unique names) in Nautobot; their names and the API."""
    api = pynautobot.api(server.url, token=server.token)
    s = uuid.uuid4().hex[:6]
    active = api.extras.statuses.get(name="Active").id
    site_type = api.dcim.location_types.create(name=f"GqlSite-{s}", content_types=["dcim.device"])
    site = api.dcim.locations.create(name=f"gql-{s}", location_type=site_type.id, status=active)
    maker = api.dcim.manufacturers.get(name="Cisco") or api.dcim.manufacturers.create(name="Cisco")
    device_type = api.dcim.device_types.create(manufacturer=maker.id, model=f"GQL-{s}")
    platform = api.dcim.platforms.create(name=f"gql-ios-{s}", manufacturer=maker.id, network_driver="cisco_ios")
    role = api.extras.roles.create(name=f"gql-edge-{s}", content_types=["dcim.device"])
    names = [f"gql-a-{s}", f"gql-b-{s}"]
    api.dcim.devices.create(
        [
            {
                "name": name,
                "device_type": device_type.id,
                "location": site.id,
                "role": role.id,
                "status": active,
                "platform": platform.id,
                "serial": f"SN-{i}-{s}",
            }
            for i, name in enumerate(names)
        ]
    )
    return names, api


def test_a_graphql_query_check_passes_for_one_device_and_fails_for_another(
    sqlite_store: Store,
    nautobot: NautobotServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = sqlite_store
    names, api = _two_devices(nautobot)
    sync_nautobot(store, nautobot.url, Secret(nautobot.token))
    # The second device's chassis is replaced: Nautobot knows, nettui's inventory does not yet.
    changed = api.dcim.devices.get(name=names[1])
    changed.serial = f"NEW-{changed.serial}"
    changed.save()

    monkeypatch.setenv("NB_COMPLIANCE_TOKEN", nautobot.token)
    with store.session() as session:
        session.add(
            m.ProviderConfig(
                provider=m.Provider(name="nautobot", driver_class="drivers.nautobot_provider:NautobotProvider"),
                name="lab nautobot",
                settings={"url": nautobot.url},
                credentials=m.SecretsGroup(
                    name="nb-compliance",
                    entries=[m.SecretsGroupEntry(name="token", backend="env", reference="NB_COMPLIANCE_TOKEN")],
                ),
            )
        )
        session.add(
            m.ComplianceCheck(
                name="Serial matches the source of truth",
                slug="serial-in-nautobot",
                standard="inventory",
                check_type=CheckType.GRAPHQL_QUERY,
                severity=Severity.CRITICAL,
                check_logic=CHECK_LOGIC,
            )
        )

    result = compliance.compliance_run(store, checks=["serial-in-nautobot"], devices=names, requested_by=None)
    assert {r["device"]: r["status"] for r in result.runs} == {names[0]: "passed", names[1]: "failed"}
    assert all(r["error"] == "" for r in result.runs)

    with store.read_session() as session:
        rows = {
            row.device.name: row.result_data
            for row in session.query(m.ComplianceRun).filter(m.ComplianceRun.id.in_([r["id"] for r in result.runs]))
        }
    passed, failed = rows[names[0]], rows[names[1]]
    for data in (passed, failed):
        assert data["check_type"] == "graphql_query" and data["source"] == "api"
        assert data["provider"] == "lab nautobot"
        assert data["query"].startswith("query ($name: [String]) { devices(name: $name)")
        assert data["expect"] == "data.devices | length == 1 and data.devices[0].serial == device.serial"
        assert data["severity"] == "critical" and data["standard"] == "inventory"
        assert nautobot.token not in repr(data)
    # What Nautobot answered, for each device: its own record, nothing else.
    [answer] = passed["data"]["devices"]
    assert answer["name"] == names[0] and answer["status"] == {"name": "Active"}
    [answer] = failed["data"]["devices"]
    assert answer["name"] == names[1] and answer["serial"].startswith("NEW-SN-1-")

    report = run_cli(store, "compliance", "report", "--json")
    assert report.exit_code == 0, report.output
    assert nautobot.token not in report.output
    [standard] = json.loads(report.output)["standards"]
    assert standard["standard"] == "inventory" and (standard["passed"], standard["failed"]) == (1, 1)
    assert standard["score"] == 50.0
