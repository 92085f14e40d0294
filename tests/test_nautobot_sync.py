"""``nettui inventory sync nautobot`` and graphql_query steps, against a real Nautobot 3.2.

The server comes from tests/nautobot_harness.py (one per pytest-xdist worker). A session fixture
seeds it in bulk through pynautobot with 200 devices, 1000 interfaces, VLANs, a VRF, a prefix and
200 IP addresses; each test run then adds a few objects of its own (unique names) for the changes
and deletions it makes, so runs on SQLite and PostgreSQL do not disturb each other.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pynautobot  # type: ignore[import-untyped]
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.models.choices import ExecutionStatus
from catalog.secrets import Secret
from catalog.store import Store
from catalog.sync import import_catalog
from drivers.nautobot_provider import NautobotProvider
from nettui.engine.runner import run_execution, submit
from nettui.sync.nautobot import MARK_TAG, fetch, source_name, sync_nautobot
from tests.conftest import run_cli
from tests.nautobot_harness import NautobotServer, nautobot_fixture  # noqa: F401 (the session's server)

pytestmark = pytest.mark.slow

DEVICES = 200
INTERFACES_PER_DEVICE = 2


@dataclass(frozen=True)
class Seed:
    suffix: str
    region: str
    site: str
    tenant: str
    tags: list[str]
    platform: str
    manufacturer: str
    role: str
    version: str
    vrf: str
    prefix: str
    vlan_vid: int
    active: str
    site_id: str
    device_type: str
    role_id: str
    platform_id: str
    namespace: str


def _api(server: NautobotServer) -> Any:
    return pynautobot.api(server.url, token=server.token)


def _seed(api: Any) -> Seed:
    """Lookups, then 200 devices with 5 interfaces each and a primary IP each, all in bulk."""
    s = uuid.uuid4().hex[:6]
    active = api.extras.statuses.get(name="Active").id
    namespace = api.ipam.namespaces.get(name="Global").id
    region_type = api.dcim.location_types.create(name=f"Region-{s}", content_types=[])
    site_type = api.dcim.location_types.create(
        name=f"Site-{s}",
        parent=region_type.id,
        content_types=["dcim.device", "ipam.vlan", "ipam.prefix"],
    )
    region = api.dcim.locations.create(name=f"emea-{s}", location_type=region_type.id, status=active)
    site = api.dcim.locations.create(
        name=f"dc1-{s}", location_type=site_type.id, parent=region.id, status=active, description="main DC"
    )
    tenant = api.tenancy.tenants.create(name=f"acme-{s}")
    tags = [api.extras.tags.create(name=f"{n}-{s}", color="ff8800", content_types=["dcim.device"]) for n in "ab"]
    maker = api.dcim.manufacturers.get(name="Cisco") or api.dcim.manufacturers.create(name="Cisco")
    device_type = api.dcim.device_types.create(manufacturer=maker.id, model=f"C9300-{s}")
    platform = api.dcim.platforms.create(name=f"ios-{s}", manufacturer=maker.id, network_driver="cisco_ios")
    role = api.extras.roles.create(name=f"access-{s}", content_types=["dcim.device"])
    version = api.dcim.software_versions.create(platform=platform.id, version="17.9.4", status=active)
    vlan = api.ipam.vlans.create(vid=110, name=f"users-{s}", status=active, locations=[site.id])
    vrf = api.ipam.vrfs.create(name=f"prod-{s}", rd=f"65000:{int(s, 16) % 60000}", namespace=namespace)
    second = int(s, 16) % 200 + 20
    prefix = api.ipam.prefixes.create(
        prefix=f"10.{second}.0.0/16", status=active, namespace=namespace, type="network", locations=[site.id]
    )
    devices = api.dcim.devices.create(
        [
            {
                "name": f"sw{i:03d}-{s}",
                "device_type": device_type.id,
                "location": site.id,
                "role": role.id,
                "status": active,
                "platform": platform.id,
                "tenant": tenant.id,
                "serial": f"SER{i:05d}{s}",
                "software_version": version.id,
                "tags": [tags[i % 2].id],
            }
            for i in range(DEVICES)
        ]
    )
    interfaces = api.dcim.interfaces.create(
        [
            {
                "device": d.id,
                "name": f"GigabitEthernet1/0/{n + 1}",
                "type": "1000base-t",
                "status": active,
                "description": f"port {n + 1}",
                **({"mode": "access", "untagged_vlan": vlan.id} if n == 1 else {}),
            }
            for d in devices
            for n in range(INTERFACES_PER_DEVICE)
        ]
    )
    first_ports = [i for i in interfaces if i.name == "GigabitEthernet1/0/1"]
    ips = api.ipam.ip_addresses.create(
        [
            {"address": f"10.{second}.{i // 250}.{i % 250 + 1}/16", "status": active, "namespace": namespace}
            for i in range(len(first_ports))
        ]
    )
    api.ipam.ip_address_to_interface.create(
        [{"ip_address": ip.id, "interface": port.id} for ip, port in zip(ips, first_ports, strict=True)]
    )
    by_device = {port.device.id: ip.id for ip, port in zip(ips, first_ports, strict=True)}
    api.dcim.devices.update([{"id": d.id, "primary_ip4": by_device[d.id]} for d in devices])
    return Seed(
        suffix=s,
        region=region.name,
        site=site.name,
        tenant=tenant.name,
        tags=[t.name for t in tags],
        platform=platform.name,
        manufacturer=maker.name,
        role=role.name,
        version="17.9.4",
        vrf=vrf.name,
        prefix=prefix.prefix,
        vlan_vid=110,
        active=active,
        site_id=site.id,
        device_type=device_type.id,
        role_id=role.id,
        platform_id=platform.id,
        namespace=namespace,
    )


@pytest.fixture(scope="session")
def seeded(nautobot: NautobotServer) -> Seed:
    started = time.perf_counter()
    seed = _seed(_api(nautobot))
    print(f"\nseeded Nautobot with {DEVICES} devices in {time.perf_counter() - started:.1f} s")
    return seed


@pytest.fixture
def token_env(nautobot: NautobotServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NB_SYNC_TOKEN", nautobot.token)
    return "env:NB_SYNC_TOKEN"


def _own_devices(api: Any, seed: Seed, count: int) -> tuple[str, list[Any]]:
    """A few devices (one interface each) only this test run changes."""
    tag = uuid.uuid4().hex[:6]
    devices = api.dcim.devices.create(
        [
            {
                "name": f"own{i}-{tag}",
                "device_type": seed.device_type,
                "location": seed.site_id,
                "role": seed.role_id,
                "status": seed.active,
                "platform": seed.platform_id,
                "serial": f"OWN{i}",
            }
            for i in range(count)
        ]
    )
    api.dcim.interfaces.create(
        [{"device": d.id, "name": "Ethernet0", "type": "1000base-t", "status": seed.active} for d in devices]
    )
    return tag, devices


def _count(store: Store, model: Any) -> int:
    with store.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _nautobot_counts(api: Any) -> dict[str, int]:
    return {
        "devices": api.dcim.devices.count(),
        "interfaces": api.dcim.interfaces.count(),
        "locations": api.dcim.locations.count(),
        "ip_addresses": api.ipam.ip_addresses.count(),
    }


def _device(store: Store, name: str) -> m.Device | None:
    with store.read_session() as session:
        found = session.scalars(
            select(m.Device)
            .where(m.Device.name == name)
            .options(
                selectinload(m.Device.tags),
                selectinload(m.Device.platform),
                selectinload(m.Device.location).selectinload(m.Location.parent),
                selectinload(m.Device.tenant),
                selectinload(m.Device.role),
                selectinload(m.Device.manufacturer),
                selectinload(m.Device.interfaces).selectinload(m.Interface.untagged_vlan),
                selectinload(m.Device.interfaces).selectinload(m.Interface.ip_addresses),
            )
        ).first()
        session.expunge_all()  # keep what was loaded: the read session's rollback would expire it
        return found


def test_sync_full_incremental_deletions_and_dry_run(
    store: Store, nautobot: NautobotServer, seeded: Seed, token_env: str
) -> None:
    api = _api(nautobot)
    tag, own = _own_devices(api, seeded, 4)
    time.sleep(1.5)  # past the sync's one-second margin: the incremental sync must not refetch these
    expected = _nautobot_counts(api)

    # A dry run reports what a first sync would create and writes nothing.
    dry = run_cli(
        store, "inventory", "sync", "nautobot", "--url", nautobot.url, "--token-ref", token_env, "--dry-run", "--json"
    )
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True and report["incremental"] is False
    assert report["counts"]["devices"]["created"] == expected["devices"]
    assert report["counts"]["interfaces"]["created"] == expected["interfaces"]
    assert "would change" in dry.stderr and nautobot.token not in dry.output
    assert _count(store, m.Device) == 0 and _count(store, m.InventorySource) == 0

    # The full sync, through the CLI.
    started = time.perf_counter()
    full = run_cli(store, "inventory", "sync", "nautobot", "--url", nautobot.url, "--token-ref", token_env, "--json")
    elapsed = time.perf_counter() - started
    assert full.exit_code == 0, full.output
    summary = json.loads(full.stdout)
    print(
        f"\nfull sync of {expected['devices']} devices / {expected['interfaces']} interfaces "
        f"({store.url.get_backend_name()}): {elapsed:.2f} s (fetch {summary['seconds']['fetch']:.2f} s, "
        f"write {summary['seconds']['write']:.2f} s)"
    )
    assert summary["counts"]["devices"] == {"created": expected["devices"]}
    assert _count(store, m.Device) == expected["devices"]
    assert _count(store, m.Interface) == expected["interfaces"]
    assert _count(store, m.IPAddress) == expected["ip_addresses"]
    assert _count(store, m.Location) == expected["locations"]
    assert nautobot.token not in full.output

    # A few objects, field by field.
    device = _device(store, f"sw007-{seeded.suffix}")
    assert device is not None
    second = seeded.prefix.split(".")[1]
    assert device.host == f"10.{second}.0.8"
    assert device.serial == f"SER00007{seeded.suffix}"
    assert device.software_version == seeded.version
    assert device.status == "active"
    assert device.platform is not None and device.platform.name == seeded.platform
    assert device.platform.network_driver == "cisco_ios"
    assert device.manufacturer is not None and device.manufacturer.name == "Cisco"
    assert device.model == f"C9300-{seeded.suffix}"
    assert device.role is not None and device.role.name == seeded.role
    assert device.location is not None and device.location.name == seeded.site
    assert device.location.parent is not None and device.location.parent.name == seeded.region
    assert device.tenant is not None and device.tenant.name == seeded.tenant
    assert [t.name for t in device.tags] == [seeded.tags[1]]
    ports = {i.name: i for i in device.interfaces}
    assert len(ports) == INTERFACES_PER_DEVICE
    assert ports["GigabitEthernet1/0/1"].type == "1000base-t"
    assert ports["GigabitEthernet1/0/1"].description == "port 1"
    assert [ip.address for ip in ports["GigabitEthernet1/0/1"].ip_addresses] == [f"10.{second}.0.8/16"]
    access = ports["GigabitEthernet1/0/2"]
    assert access.mode == "access"
    assert access.untagged_vlan is not None and access.untagged_vlan.vid == seeded.vlan_vid
    with store.read_session() as session:
        vrf = session.scalars(select(m.VRF).where(m.VRF.name == seeded.vrf)).one()
        assert vrf.rd is not None and vrf.rd.startswith("65000:")
        prefix = session.scalars(select(m.Prefix).where(m.Prefix.prefix == seeded.prefix)).one()
        assert prefix.status == "active"
        refs = session.scalar(select(func.count()).select_from(m.ExternalRef).where(m.ExternalRef.kind == "devices"))
        assert refs == expected["devices"]
        source = session.scalars(select(m.InventorySource)).one()
        assert source.name == source_name(nautobot.url) and source.last_synced_at is not None

    # Changes in Nautobot: two serials, one rename, one interface description.
    api.dcim.devices.update([{"id": own[0].id, "serial": "NEW0"}, {"id": own[1].id, "serial": "NEW1"}])
    api.dcim.devices.update([{"id": own[2].id, "name": f"renamed-{tag}"}])
    (iface,) = api.dcim.interfaces.filter(device_id=own[3].id)
    iface.update({"description": "changed in Nautobot"})
    own2_id = _device(store, own[2].name)
    assert own2_id is not None

    token = Secret(nautobot.token)
    again = sync_nautobot(store, nautobot.url, token)
    assert again.incremental
    assert again.fetched["devices"] == 3  # only the changed ones
    assert again.fetched["interfaces"] == 1
    assert again.fetched["locations"] == 0 and again.fetched["ip_addresses"] == 0
    # Two serials, and the renamed device (its host is its name: it has no primary IP).
    assert again.counts["devices"]["renamed"] == 1 and again.counts["devices"]["updated"] == 3
    assert again.counts["interfaces"]["updated"] == 1
    first = _device(store, own[0].name)
    assert first is not None and first.serial == "NEW0"
    renamed = _device(store, f"renamed-{tag}")
    assert renamed is not None and renamed.id == own2_id.id  # the same row: matched by UUID
    assert _device(store, own[2].name) is None
    changed = _device(store, own[3].name)
    assert changed is not None and changed.interfaces[0].description == "changed in Nautobot"
    assert _count(store, m.Device) == expected["devices"]

    # A dry run of a change writes nothing, not even the sync time.
    with store.read_session() as session:
        synced_at = session.scalars(select(m.InventorySource.last_synced_at)).one()
    api.dcim.devices.update([{"id": own[0].id, "serial": "DRY"}])
    dry_change = sync_nautobot(store, nautobot.url, token, dry_run=True)
    assert dry_change.counts["devices"]["updated"] == 1
    again_first = _device(store, own[0].name)
    assert again_first is not None and again_first.serial == "NEW0"
    with store.read_session() as session:
        assert session.scalars(select(m.InventorySource.last_synced_at)).one() == synced_at

    # Deletions: keep, then mark, then delete.
    api.dcim.devices.delete([own[1].id])
    kept = sync_nautobot(store, nautobot.url, token, delete_policy="keep")
    assert kept.counts["devices"]["missing_kept"] == 1
    assert _device(store, own[1].name) is not None
    marked = sync_nautobot(store, nautobot.url, token, delete_policy="mark")
    assert marked.counts["devices"]["marked"] == 1 and marked.counts["interfaces"]["marked"] == 1
    gone = _device(store, own[1].name)
    assert gone is not None and MARK_TAG in [t.name for t in gone.tags]
    deleted = run_cli(
        store,
        "inventory",
        "sync",
        "nautobot",
        "--url",
        nautobot.url,
        "--token-ref",
        token_env,
        "--delete",
        "delete",
        "--json",
    )
    assert deleted.exit_code == 0, deleted.output
    counts = json.loads(deleted.stdout)["counts"]
    assert counts["devices"]["deleted"] == 1 and counts["interfaces"]["deleted"] == 1
    assert _device(store, own[1].name) is None
    assert _count(store, m.Device) == expected["devices"] - 1
    # The serial changed by the dry run is picked up now.
    now_first = _device(store, own[0].name)
    assert now_first is not None and now_first.serial == "DRY"


def test_bad_token_references_are_refused_without_echo(
    store: Store, nautobot: NautobotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli(store, "inventory", "sync", "nautobot", "--url", nautobot.url, "--token-ref", "hunter2")
    assert result.exit_code != 0 and "not a secret reference" in result.output and "hunter2" not in result.output
    monkeypatch.delenv("NB_UNSET_X", raising=False)
    result = run_cli(store, "inventory", "sync", "nautobot", "--url", nautobot.url, "--token-ref", "env:NB_UNSET_X")
    assert result.exit_code != 0 and "NB_UNSET_X is not set" in result.output
    assert _count(store, m.InventorySource) == 0


def test_graphql_query_step_output_feeds_a_later_step(
    sqlite_store: Store, nautobot: NautobotServer, seeded: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = sqlite_store
    sync_nautobot(store, nautobot.url, Secret(nautobot.token))
    monkeypatch.setenv("NB_GQL_TOKEN", nautobot.token)
    with store.session() as session:
        session.add(m.User(username="ops", role="operator"))
        session.add(
            m.ProviderConfig(
                provider=m.Provider(name="nautobot", driver_class="drivers.nautobot_provider:NautobotProvider"),
                name="lab nautobot",
                settings={"url": nautobot.url},
                credentials=m.SecretsGroup(
                    name="nb", entries=[m.SecretsGroupEntry(name="token", backend="env", reference="NB_GQL_TOKEN")]
                ),
            )
        )
    (tmp_path / "providers.yaml").write_text(
        "kind: provider\nname: nautobot\ndriver_class: drivers.nautobot_provider:NautobotProvider\n"
    )
    (tmp_path / "task.yaml").write_text(
        "kind: task\nslug: nb-device\nname: Device from Nautobot\nimplementations:\n"
        "  - slug: nb-device-ios\n    name: nb device ios\n    manufacturer: Cisco\n    platform: cisco_ios\n"
        "    implementation_type: graphql_query\n    provider: nautobot\n"
        "    action_config:\n"
        "      query: 'query ($name: [String]) { devices(name: $name) { name serial interfaces { name } } }'\n"
        "      variables: {name: ['{{ device.name }}']}\n"
    )
    (tmp_path / "wf.yaml").write_text(
        "kind: workflow\nslug: nb-wf\nname: Nautobot wf\nsteps:\n"
        "  - name: Ask Nautobot\n    step_type: task\n    task: nb-device\n"
        "    output_mapping: {nb_serial: '{{ outputs.data.devices[0].serial }}',"
        " nb_ports: '{{ outputs.data.devices[0].interfaces | length }}'}\n"
        "  - name: Check serial\n    step_type: validation\n"
        f"    config: {{expression: \"nb_serial == 'SER00042{seeded.suffix}' and nb_ports == 2\"}}\n"
    )
    import_catalog(store, [tmp_path])
    name = f"sw042-{seeded.suffix}"
    execution = submit(store, "nb-wf", [name], {}, requested_by="ops")
    assert asyncio.run(run_execution(store, execution)) == ExecutionStatus.COMPLETED
    with store.read_session() as session:
        rows = session.scalars(
            select(m.ExecutionStep).where(m.ExecutionStep.execution_id == execution).order_by(m.ExecutionStep.id)
        ).all()
        session.expunge_all()
    ask, check = rows
    assert ask.outputs["data"]["devices"][0]["serial"] == f"SER00042{seeded.suffix}"
    assert "via lab nautobot" in ask.logs and nautobot.token not in ask.logs
    assert "passed" in check.logs


def test_graphql_bulk_read_is_faster_than_rest_paging(nautobot: NautobotServer, seeded: Seed) -> None:
    """Prints both figures (no timed assertion): why the sync reads through GraphQL."""

    async def measure() -> tuple[float, float, int, int]:
        async with NautobotProvider(nautobot.url, Secret(nautobot.token), timeout=120) as nb:
            began = time.perf_counter()
            fetched = await fetch(nb, None)
            graphql = time.perf_counter() - began
            began = time.perf_counter()
            devices = await nb.get("dcim", "devices")
            interfaces = await nb.get("dcim", "interfaces")
            rest = time.perf_counter() - began
        assert len(devices) == len(fetched.objects["devices"])
        assert len(interfaces) == len(fetched.objects["interfaces"])
        return graphql, rest, len(devices), len(interfaces)

    graphql, rest, devices, interfaces = asyncio.run(measure())
    print(
        f"\nread {devices} devices + {interfaces} interfaces: GraphQL (all 11 kinds) {graphql:.2f} s; "
        f"REST paging (devices and interfaces only) {rest:.2f} s"
    )


def test_a_failing_sync_leaves_the_store_as_it_was(
    sqlite_store: Store, nautobot: NautobotServer, seeded: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nettui.sync.nautobot as sync_module
    from catalog.errors import NettuiError

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise NettuiError("simulated failure after the import was written")

    monkeypatch.setattr(sync_module, "_apply_deletions", broken)
    with pytest.raises(NettuiError, match="simulated failure"):
        sync_nautobot(sqlite_store, nautobot.url, Secret(nautobot.token))
    assert _count(sqlite_store, m.Device) == 0
    assert _count(sqlite_store, m.Location) == 0
    assert _count(sqlite_store, m.InventorySource) == 0
