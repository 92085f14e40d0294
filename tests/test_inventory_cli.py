"""`nettui inventory list` and `show`: filters an operator would type, and what they print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from catalog.inventory import list_devices
from catalog.models import SecretsGroup
from catalog.store import Store
from tests.conftest import run_cli

DATA = Path(__file__).parent / "data" / "inventory"
DEVICES = [
    "name,host,platform,role,status,location,tenant,tags,software_version,serial,secrets_group",
    "ams-core1,10.1.0.1,cisco_ios,core,active,Amsterdam,Acme,pci;core,17.9.4,S1,lab",
    "ams-acc1,10.1.0.11,cisco_ios,access,active,Amsterdam,Acme,pci,17.6.1,S2,",
    "ams-acc2,10.1.0.12,arista_eos,access,planned,Amsterdam,Globex,,4.30.1F,S3,",
    "ber-core1,10.2.0.1,juniper_junos,core,active,Berlin,Globex,core,22.4R1,S4,lab",
    "ber-acc1,10.2.0.11,cisco_ios,access,offline,Berlin,,,17.9.4,S5,",
]


@pytest.fixture
def inventory(store: Store, tmp_path: Path) -> Store:
    with store.session() as session:
        session.add(SecretsGroup(name="lab"))
    path = tmp_path / "devices.csv"
    path.write_text("\n".join(DEVICES) + "\n")
    result = run_cli(store, "inventory", "import", str(path))
    assert result.exit_code == 0, result.stderr
    return store


def names(store: Store, *filters: str) -> list[str]:
    args = [arg for f in filters for arg in ("--filter", f)]
    result = run_cli(store, "inventory", "list", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return [device["name"] for device in json.loads(result.stdout)]


def test_list_prints_a_table_in_name_order(inventory: Store) -> None:
    result = run_cli(inventory, "inventory", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "HOST", "PLATFORM", "LOCATION", "ROLE", "STATUS", "VERSION"]
    assert [line.split()[0] for line in lines[1:]] == ["ams-acc1", "ams-acc2", "ams-core1", "ber-acc1", "ber-core1"]
    assert lines[3].split() == ["ams-core1", "10.1.0.1", "cisco_ios", "Amsterdam", "core", "active", "17.9.4"]


def test_list_json_has_every_field(inventory: Store) -> None:
    result = run_cli(inventory, "inventory", "list", "--json", "-f", "name=ams-core1")
    (device,) = json.loads(result.stdout)
    assert device["tags"] == ["core", "pci"]
    assert device["secrets_group"] == "lab"
    assert device["network_driver"] == "cisco_ios"
    assert (device["tenant"], device["serial"], device["ssh_port"]) == ("Acme", "S1", 22)


FILTER_CASES = [
    (["location=Berlin"], ["ber-acc1", "ber-core1"]),
    (["location=amsterdam", "role=core"], ["ams-core1"]),  # a location by its slug; AND
    (["role=core", "role=access", "location=berlin"], ["ber-acc1", "ber-core1"]),  # OR within a key
    (["name=ams-acc*"], ["ams-acc1", "ams-acc2"]),
    (["name=*CORE*"], ["ams-core1", "ber-core1"]),  # globs ignore case
    (["name=ams_acc1"], []),  # "_" is a plain character, not a SQL wildcard
    (["tag=pci"], ["ams-acc1", "ams-core1"]),
    (["tag=pci", "tag=core"], ["ams-acc1", "ams-core1", "ber-core1"]),
    (["tenant=Globex", "status=planned"], ["ams-acc2"]),
    (["platform=juniper_junos"], ["ber-core1"]),
    (["software_version=17.*", "status=active"], ["ams-acc1", "ams-core1"]),
    (["serial=S5"], ["ber-acc1"]),
    (["host=10.1.0.12"], ["ams-acc2"]),
    (["name=nothing-like-this"], []),
]


def test_list_filters_same_key_or_different_keys_and(inventory: Store) -> None:
    # One store for every case: each case only reads.
    for filters, expected in FILTER_CASES:
        assert names(inventory, *filters) == expected, filters


def test_list_refuses_an_unknown_filter_key_naming_the_valid_ones(inventory: Store) -> None:
    result = run_cli(inventory, "inventory", "list", "-f", "site=Berlin")
    assert result.exit_code == 1
    assert "unknown filter key 'site'" in result.stderr
    assert "name, host, location, tenant, tag, role, platform, manufacturer, status, software_version, serial" in (
        result.stderr
    )
    result = run_cli(inventory, "inventory", "list", "-f", "status=up")
    assert result.exit_code == 1
    assert "unknown device status 'up'" in result.stderr
    result = run_cli(inventory, "inventory", "list", "-f", "Berlin")
    assert result.exit_code == 1
    assert "is not KEY=VALUE" in result.stderr


def test_list_loads_related_objects_in_a_fixed_number_of_queries(inventory: Store) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(inventory.read_engine, "before_cursor_execute", count)
    try:
        with inventory.read_session() as session:
            devices = list_devices(session, {"location": ["Amsterdam", "Berlin"]})
            before = len(statements)
            assert all(d.platform and d.location and d.role is not None for d in devices)
            assert [t.name for d in devices for t in d.tags]
            assert len(statements) == before  # nothing loaded lazily, per device
    finally:
        event.remove(inventory.read_engine, "before_cursor_execute", count)
    assert len(devices) == 5
    assert before <= 3


def test_show_prints_everything_about_a_device(inventory: Store) -> None:
    result = run_cli(inventory, "inventory", "show", "ams-core1")
    assert result.exit_code == 0, result.stderr
    fields = dict(line.split(None, 1) for line in result.stdout.splitlines() if line and not line.startswith(" "))
    assert fields["host"] == "10.1.0.1"
    assert fields["tags"] == "core,pci"
    assert fields["secrets_group"] == "lab"
    assert fields["location"] == "Amsterdam"


def test_show_json_includes_interfaces_vlans_and_addresses(store: Store) -> None:
    assert run_cli(store, "inventory", "import", str(DATA / "full.yaml")).exit_code == 0
    result = run_cli(store, "inventory", "show", "core1", "--json")
    assert result.exit_code == 0, result.stderr
    device = json.loads(result.stdout)
    assert device["platform"] == "IOS-XE"
    assert device["secrets_group"] is None
    uplink, svi = device["interfaces"]
    assert (uplink["untagged_vlan"], uplink["tagged_vlans"], uplink["mode"]) == (999, [10, 20], "tagged")
    assert svi["ip_addresses"] == [{"address": "192.168.0.1/24", "vrf": "MGMT", "status": "active"}]

    text = run_cli(store, "inventory", "show", "core1").stdout
    assert "192.168.0.1/24 (vrf MGMT)" in text
    assert "tagged_vlans=10,20" in text


def test_show_an_unknown_device_suggests_close_names(inventory: Store) -> None:
    result = run_cli(inventory, "inventory", "show", "ams-core")
    assert result.exit_code == 1
    assert "no device named 'ams-core'" in result.stderr
    assert "did you mean ams-core1" in result.stderr
