"""`nettui inventory import`: CSV and YAML, all or nothing, every problem named by file:line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from catalog.errors import NettuiError
from catalog.inventory_io import InventoryImportError, import_inventory_file
from catalog.models import (
    VLAN,
    VRF,
    Device,
    DeviceRole,
    Interface,
    IPAddress,
    Location,
    Manufacturer,
    Platform,
    Prefix,
    SecretsGroup,
    Tag,
    Tenant,
)
from catalog.naming import is_valid_slug, network_driver_for, slugify
from catalog.store import Store
from catalog.yamlfile import YamlList, YamlMap, line_of, parse_yaml
from tests.conftest import run_cli

DATA = Path(__file__).parent / "data" / "inventory"
HEADER = (
    "name,host,ssh_port,platform,manufacturer,model,role,status,location,tenant,tags,software_version,serial,"
    "secrets_group"
)
ROWS = [
    "core1,10.0.0.1,2222,cisco_ios,Cisco,C9500,Core Switch,active,DC 1,Acme,core;pci,17.9.4,FOC001,lab",
    "edge1,edge1.example.net,,eos,,DCS-7050,Edge Router,planned,DC 1,,edge,4.30.1F,JPE002,",
    "fw1,2001:db8::1,,,Palo Alto,PA-3220,,offline,DC 2,Acme,,,,",
]


def write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def add_secrets_group(store: Store, name: str = "lab") -> None:
    with store.session() as session:
        session.add(SecretsGroup(name=name))


def import_ok(store: Store, path: Path) -> dict[str, Any]:
    result = run_cli(store, "inventory", "import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def snapshot(store: Store) -> dict[str, Any]:
    """Everything an import can change, to prove a failed one changed nothing."""
    with store.read_session() as session:
        devices = session.scalars(select(Device).options(selectinload(Device.tags)).order_by(Device.name)).all()
        return {
            "devices": [
                (d.name, d.host, d.ssh_port, d.status, d.software_version, d.location_id, [t.name for t in d.tags])
                for d in devices
            ],
            **{
                model.__name__: session.scalar(select(func.count()).select_from(model))
                for model in (Location, Tenant, Tag, DeviceRole, Manufacturer, Platform, VLAN, Interface)
            },
        }


# -- CSV ---------------------------------------------------------------------------------------


def test_csv_import_creates_devices_with_every_column(store: Store, tmp_path: Path) -> None:
    add_secrets_group(store)
    summary = import_ok(store, write(tmp_path, "devices.csv", HEADER, *ROWS))

    assert summary["devices"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert summary["auto_created"]["locations"] == ["DC 1", "DC 2"]
    assert summary["auto_created"]["platforms"] == ["cisco_ios", "arista_eos"]
    assert summary["auto_created"]["tags"] == ["core", "pci", "edge"]
    with store.read_session() as session:
        core1 = session.scalars(select(Device).where(Device.name == "core1")).one()
        assert (core1.host, core1.ssh_port, core1.model, core1.status) == ("10.0.0.1", 2222, "C9500", "active")
        assert (core1.software_version, core1.serial) == ("17.9.4", "FOC001")
        assert core1.platform is not None and core1.platform.network_driver == "cisco_ios"
        assert core1.manufacturer is not None and core1.manufacturer.name == "Cisco"
        assert core1.role is not None and core1.role.name == "Core Switch"
        assert core1.location is not None and core1.location.slug == "dc-1"
        assert core1.tenant is not None and core1.tenant.name == "Acme"
        assert [t.name for t in core1.tags] == ["core", "pci"]
        assert core1.secrets_group is not None and core1.secrets_group.name == "lab"

        edge1 = session.scalars(select(Device).where(Device.name == "edge1")).one()
        # napalm's "eos" becomes the platform netutils calls arista_eos; port and tenant default
        assert edge1.platform is not None and edge1.platform.name == "arista_eos"
        assert (edge1.ssh_port, edge1.status, edge1.tenant, edge1.secrets_group) == (22, "planned", None, None)

        fw1 = session.scalars(select(Device).where(Device.name == "fw1")).one()
        assert (fw1.host, fw1.platform, fw1.tags, fw1.software_version) == ("2001:db8::1", None, [], "")
        assert fw1.manufacturer is not None and fw1.manufacturer.name == "Palo Alto"


def test_reimport_changes_nothing(store: Store, tmp_path: Path) -> None:
    add_secrets_group(store)
    path = write(tmp_path, "devices.csv", HEADER, *ROWS)
    import_ok(store, path)
    with store.read_session() as session:
        stamps = dict(session.execute(select(Device.name, Device.updated_at)).all())

    again = import_ok(store, path)

    assert again["devices"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert again["auto_created"] == {}
    with store.read_session() as session:
        assert dict(session.execute(select(Device.name, Device.updated_at)).all()) == stamps
        assert session.scalar(select(func.count()).select_from(Location)) == 2


def test_reimport_with_a_changed_row_updates_only_that_device(store: Store, tmp_path: Path) -> None:
    add_secrets_group(store)
    import_ok(store, write(tmp_path, "devices.csv", HEADER, *ROWS))
    changed = ROWS[0].replace("17.9.4", "17.12.1").replace("core;pci", "core")

    summary = import_ok(store, write(tmp_path, "changed.csv", HEADER, changed, *ROWS[1:]))

    assert summary["devices"] == {"created": 0, "updated": 1, "unchanged": 2}
    with store.read_session() as session:
        core1 = session.scalars(select(Device).where(Device.name == "core1")).one()
        assert core1.software_version == "17.12.1"
        assert [t.name for t in core1.tags] == ["core"]


def test_a_column_left_out_keeps_the_field_and_an_empty_cell_clears_it(store: Store, tmp_path: Path) -> None:
    add_secrets_group(store)
    import_ok(store, write(tmp_path, "devices.csv", HEADER, *ROWS))

    summary = import_ok(store, write(tmp_path, "partial.csv", "name,host,serial", "core1,10.0.0.1,"))

    assert summary["devices"] == {"created": 0, "updated": 1, "unchanged": 0}
    with store.read_session() as session:
        core1 = session.scalars(select(Device).where(Device.name == "core1")).one()
        assert core1.serial == ""  # empty cell: cleared
        assert core1.software_version == "17.9.4"  # no column: kept
        assert [t.name for t in core1.tags] == ["core", "pci"]


def test_tag_change_alone_counts_as_an_update(store: Store, tmp_path: Path) -> None:
    import_ok(store, write(tmp_path, "a.csv", "name,host,tags", "sw1,10.0.0.1,a;b"))
    summary = import_ok(store, write(tmp_path, "b.csv", "name,host,tags", "sw1,10.0.0.1,b;c"))
    assert summary["devices"]["updated"] == 1
    with store.read_session() as session:
        device = session.scalars(select(Device)).one()
        assert [t.name for t in device.tags] == ["b", "c"]


def test_platform_by_driver_name_reuses_the_platform_that_has_that_driver(store: Store, tmp_path: Path) -> None:
    with store.session() as session:
        cisco = Manufacturer(name="Cisco", slug="cisco")
        session.add(Platform(name="Cisco IOS", slug="cisco-ios", network_driver="cisco_ios", manufacturer=cisco))

    summary = import_ok(store, write(tmp_path, "d.csv", "name,host,platform", "sw1,10.0.0.1,ios"))

    assert "platforms" not in summary["auto_created"]
    with store.read_session() as session:
        device = session.scalars(select(Device)).one()
        assert device.platform is not None and device.platform.name == "Cisco IOS"
        # a device is made by its platform's manufacturer unless the file says otherwise
        assert device.manufacturer is not None and device.manufacturer.name == "Cisco"


def test_names_with_the_same_slug_are_one_object(sqlite_store: Store, tmp_path: Path) -> None:
    rows = ["sw1,10.0.0.1,DC 1", "sw2,10.0.0.2,dc 1", "sw3,10.0.0.3,DC-1", "sw4,10.0.0.4,dc-1"]
    summary = import_ok(sqlite_store, write(tmp_path, "d.csv", "name,host,location", *rows))
    assert summary["auto_created"]["locations"] == ["DC 1"]
    with sqlite_store.read_session() as session:
        assert session.scalars(select(Location.slug)).all() == ["dc-1"]


def test_a_cell_spanning_lines_keeps_later_line_numbers_right(sqlite_store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path, "d.csv", "name,host,location", 'sw1,10.0.0.1,"DC\n1"', "sw2,10.0.0.2,DC 2", "sw3,10.0.0.3:22,"
    )
    result = run_cli(sqlite_store, "inventory", "import", str(path))
    assert result.exit_code == 1
    assert f"{path}:2: column 'location': must be one line, without control characters (got 'DC\\n1')" in (
        result.stderr
    )
    assert f"{path}:5: column 'host'" in result.stderr  # the quoted cell took lines 2 and 3


BAD_ROWS = {
    "sw9,10.0.0.9,70000,,,,,,,,,,,": "column 'ssh_port': must be between 1 and 65535 (got '70000')",
    "sw9,10.0.0.9,,,,,,up,,,,,,": "column 'status': must be one of",
    "sw9,999.0.0.1,,,,,,,,,,,,": "column 'host': is not a valid IPv4 address (got '999.0.0.1')",
    "sw9,bad_host!,,,,,,,,,,,,": "column 'host': must be an IPv4 or IPv6 address or a DNS hostname",
    "sw9,10.0.0.9,,cisco_iso,,,,,,,,,,": "column 'platform': unknown platform; did you mean",
    "sw9,10.0.0.9,,,,,,,,,,,,vault": "column 'secrets_group': no such secrets group (got 'vault')",
    ROWS[0]: "column 'name': duplicate device name, also on line 2 (got 'core1')",
}


def test_a_bad_row_after_good_ones_imports_nothing(store: Store, tmp_path: Path) -> None:
    add_secrets_group(store)
    import_ok(store, write(tmp_path, "first.csv", HEADER, *ROWS))
    before = snapshot(store)
    # the good rows change something and add a device, so a partial import would show
    changed = [row.replace("active", "staged").replace("DC 2", "DC 3") for row in ROWS]

    for bad_row, message in BAD_ROWS.items():
        path = write(tmp_path, "second.csv", HEADER, *changed, "new1,10.0.0.50,,,,,,,,,,,,", bad_row)
        result = run_cli(store, "inventory", "import", str(path))

        assert result.exit_code == 1, bad_row
        assert f"{path}:6: {message}" in result.stderr, result.stderr
        assert "1 problem found; nothing was imported" in result.stderr
        assert snapshot(store) == before, bad_row


def test_unknown_column_is_named_on_line_1(sqlite_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "name,host,colour,vendor", "sw1,10.0.0.1,red,x")
    result = run_cli(sqlite_store, "inventory", "import", str(path))
    assert result.exit_code == 1
    assert f"{path}:1: column 'colour': unknown column" in result.stderr
    assert f"{path}:1: column 'vendor': unknown column" in result.stderr
    assert "hint: valid columns are name, host, ssh_port" in result.stderr
    assert snapshot(sqlite_store)["devices"] == []


def test_missing_required_column(sqlite_store: Store, tmp_path: Path) -> None:
    result = run_cli(sqlite_store, "inventory", "import", str(write(tmp_path, "d.csv", "name,platform", "sw1,ios")))
    assert result.exit_code == 1
    assert "d.csv:1: column 'host': required column is missing from the header" in result.stderr


def test_every_problem_is_reported_not_just_the_first(sqlite_store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "d.csv",
        "name,host,ssh_port,platform",
        "sw1,10.0.0.1,0,",  # line 2
        "sw2,10.0.0.2,22,",  # fine
        "sw3,10.0.0.300,22,nope",  # line 4: two problems in one row
        "sw1,10.0.0.5,22,",  # line 5: duplicate of line 2
    )
    result = run_cli(sqlite_store, "inventory", "import", str(path), "--json")

    assert result.exit_code == 1
    assert "4 problems found; nothing was imported" in result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert [(p["line"], p["column"]) for p in problems] == [(2, "ssh_port"), (4, "host"), (4, "platform"), (5, "name")]
    assert problems[0]["value"] == "0"


def test_a_long_list_of_problems_is_cut_short(sqlite_store: Store, tmp_path: Path) -> None:
    rows = [f"sw{n},10.0.0.{n},99999" for n in range(60)]
    result = run_cli(sqlite_store, "inventory", "import", str(write(tmp_path, "d.csv", "name,host,ssh_port", *rows)))
    assert result.exit_code == 1
    assert "60 problems found" in result.stderr
    assert result.stderr.count("column 'ssh_port'") == 50
    assert "... and 10 more" in result.stderr


def test_unknown_file_type_and_missing_file(sqlite_store: Store, tmp_path: Path) -> None:
    result = run_cli(sqlite_store, "inventory", "import", str(write(tmp_path, "devices.txt", "x")))
    assert result.exit_code == 1
    assert "cannot tell the format" in result.stderr
    result = run_cli(sqlite_store, "inventory", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code != 0


def test_the_import_function_raises_with_every_problem(sqlite_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "name,host", "sw1,", ",10.0.0.2")
    with pytest.raises(InventoryImportError) as caught, sqlite_store.session() as session:
        import_inventory_file(session, path)
    assert [(p.line, p.field, p.message) for p in caught.value.problems] == [
        (2, "host", "is required"),
        (3, "name", "is required"),
    ]


# -- YAML --------------------------------------------------------------------------------------


def test_yaml_import_of_every_section(store: Store) -> None:
    summary = import_ok(store, DATA / "full.yaml")

    assert summary["devices"]["created"] == 2
    assert summary["interfaces"]["created"] == 2
    assert summary["vlans"]["created"] == 3
    assert summary["prefixes"]["created"] == 2
    assert summary["ip_addresses"]["created"] == 2
    with store.read_session() as session:
        core1 = session.scalars(select(Device).where(Device.name == "core1")).one()
        assert core1.platform is not None
        assert (core1.platform.name, core1.platform.slug, core1.platform.network_driver) == (
            "IOS-XE",
            "ios-xe",
            "cisco_ios",
        )
        assert core1.manufacturer is not None and core1.manufacturer.name == "Cisco"
        assert core1.location is not None and core1.location.slug == "dc1"
        assert core1.location.parent is not None and core1.location.parent.name == "Europe"
        assert [t.name for t in core1.tags] == ["core", "edge"]
        uplink, svi = core1.interfaces
        assert (uplink.name, uplink.type, uplink.mode, uplink.mtu) == (
            "GigabitEthernet1/0/1",
            "1000base-t",
            "tagged",
            9000,
        )
        assert uplink.mac_address == "00:11:22:33:44:aa"
        assert uplink.untagged_vlan is not None and uplink.untagged_vlan.vid == 999
        assert uplink.untagged_vlan.location is None  # the global VLAN: DC 1 has no VLAN 999
        assert [(v.vid, v.location.name if v.location else None) for v in uplink.tagged_vlans] == [
            (10, "DC 1"),
            (20, "DC 1"),
        ]
        assert (svi.name, svi.enabled) == ("Vlan999", False)
        assert [(ip.address, ip.vrf.name if ip.vrf else None) for ip in svi.ip_addresses] == [
            ("192.168.0.1/24", "MGMT")
        ]
        leaf = session.scalars(select(Device).where(Device.name == "leaf1")).one()
        assert (leaf.ssh_port, leaf.status) == (2222, "planned")
        assert leaf.manufacturer is not None and leaf.manufacturer.name == "Arista"
        prefix = session.scalars(select(Prefix).where(Prefix.prefix == "10.0.10.0/24")).one()
        assert prefix.vlan is not None and prefix.vlan.vid == 10
        assert session.scalars(select(VRF.rd)).all() == ["65000:1"]
        assert session.scalars(select(Tag.color).where(Tag.name == "core")).one() == "ff8800"
        gateway = session.scalars(select(IPAddress).where(IPAddress.address == "10.0.10.1/24")).one()
        assert (gateway.interface, gateway.dns_name) == (None, "gw.example.net")

    again = import_ok(store, DATA / "full.yaml")
    assert all(again[kind]["created"] == again[kind]["updated"] == 0 for kind in again if isinstance(again[kind], dict)
               and "created" in again[kind])  # fmt: skip
    assert again["interfaces"]["unchanged"] == 2


def test_yaml_updates_an_interface_and_keeps_those_not_listed(store: Store, tmp_path: Path) -> None:
    import_ok(store, DATA / "full.yaml")
    path = write(
        tmp_path,
        "more.yaml",
        "devices:",
        "  - name: core1",
        "    host: 10.0.0.1",
        "    interfaces:",
        "      - name: GigabitEthernet1/0/1",
        "        description: to leaf1",
        "        tagged_vlans: []",
    )
    summary = import_ok(store, path)
    assert summary["interfaces"] == {"created": 0, "updated": 1, "unchanged": 0}
    with store.read_session() as session:
        uplink = session.scalars(select(Interface).where(Interface.name == "GigabitEthernet1/0/1")).one()
        assert (uplink.description, uplink.tagged_vlans, uplink.mtu) == ("to leaf1", [], 9000)
        assert session.scalar(select(func.count()).select_from(Interface)) == 2


def test_yaml_problems_name_the_line_and_key(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        "locations:",  # 1
        "  - name: DC 1",
        "    parent: Nowhere",  # 3
        "devices:",
        "  - name: sw1",  # 5
        "    host: 10.0.0.1",
        "    interfaces:",
        "      - name: Gi1",
        "        mode: access",
        "        untagged_vlan: 10",  # 10: no such VLAN
        "        tagged_vlans: [20]",  # 11: needs mode tagged (and no VLAN 20)
        "      - name: Gi1",  # 12: twice
        "        mtu: 10",  # 13
        "  - name: sw2",
        "    host: 10.0.0.2",
        "    colour: blue",  # 16
        "vlans:",
        "  - vid: 5000",  # 18
        "    name: x",
        "prefixes:",
        "  - prefix: 10.0.0.1/24",  # 21
        "ip_addresses:",
        "  - address: 10.0.0.2/24",
        "    device: sw2",
        "    interface: Gi9",  # 25
        "widgets: []",  # 26
    )
    result = run_cli(store, "inventory", "import", str(path), "--json")

    assert result.exit_code == 1
    found = [(p["line"], p["key"], p["message"]) for p in json.loads(result.stdout)["problems"]]
    assert found == [
        (3, "locations[0].parent", "no such location"),
        (9, "devices[0].interfaces[0].mode", "must be 'tagged' to carry tagged_vlans"),
        (10, "devices[0].interfaces[0].untagged_vlan", "no such VLAN"),
        (11, "devices[0].interfaces[0].tagged_vlans[0]", "no such VLAN"),
        (12, "devices[0].interfaces[1].name", "listed twice, also on line 8"),
        (13, "devices[0].interfaces[1].mtu", "must be between 64 and 65536"),
        (16, "devices[1].colour", "unknown key"),
        (18, "vlans[0].vid", "must be between 1 and 4094"),
        (21, "prefixes[0].prefix", "has host bits set; did you mean 10.0.0.0/24?"),
        # sw2 has a problem of its own, but it is in the file: no "no such device" follows from it
        (25, "ip_addresses[0].interface", "device 'sw2' has no such interface"),
        (26, "widgets", "unknown section"),
    ]
    assert f"{path}:16: key 'devices[1].colour': unknown key" in result.stderr
    assert snapshot(store)["devices"] == []


def test_yaml_duplicate_interface_and_unknown_interface(sqlite_store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        "devices:",
        "  - name: sw1",
        "    host: 10.0.0.1",
        "    interfaces:",
        "      - name: Gi1",
        "      - name: Gi1",  # 6
        "ip_addresses:",
        "  - address: 10.0.0.2/24",
        "    device: sw1",
        "    interface: Gi9",  # 10
    )
    result = run_cli(sqlite_store, "inventory", "import", str(path))
    assert result.exit_code == 1
    assert f"{path}:6: key 'devices[0].interfaces[1].name': listed twice, also on line 5" in result.stderr
    assert f"{path}:10: key 'ip_addresses[0].interface': device 'sw1' has no such interface" in result.stderr


def test_yaml_syntax_error_names_the_line(sqlite_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yml", "devices:", "  - name: sw1", "   host: 10.0.0.1")
    result = run_cli(sqlite_store, "inventory", "import", str(path))
    assert result.exit_code == 1
    assert f"error: {path}:3: YAML syntax error" in result.stderr


# -- the building blocks -----------------------------------------------------------------------


def test_yaml_nodes_know_their_lines() -> None:
    data = parse_yaml("a: 1\nb:\n  - x\n  - {y: 2}\nbase: &b {k: 1}\nm:\n  <<: *b\n  j: 3\n", "f.yaml")
    assert isinstance(data, YamlMap) and isinstance(data["b"], YamlList)
    assert (data.line_of("a"), data.line_of("b"), data["b"].line_of(1)) == (1, 2, 4)
    assert line_of(data, ["b", 1, "y"]) == 4
    assert line_of(data, ["b", 7]) == 2  # no such item: the list's own line
    assert data["m"] == {"k": 1, "j": 3}


def test_yaml_duplicate_keys_and_python_tags_are_refused() -> None:
    with pytest.raises(NettuiError, match=r"f\.yaml:3: duplicate key 'a' \(first on line 1\)"):
        parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    with pytest.raises(NettuiError, match=r"f\.yaml:1"):
        parse_yaml("!!python/object/apply:os.system [echo]\n", "f.yaml")


def test_slugs_and_network_drivers() -> None:
    assert slugify("Core Switch / DC 1") == "core-switch-dc-1"
    assert slugify("Zürich__HQ") == "zurich_hq"
    assert slugify("!!!") == ""
    assert is_valid_slug("dc-1") and not is_valid_slug("DC 1") and not is_valid_slug("-x")
    assert network_driver_for("cisco_xe") == "cisco_xe"
    assert network_driver_for("ios") == "cisco_ios"  # napalm
    assert network_driver_for("cisco.nxos.nxos") == "cisco_nxos"  # ansible
    assert network_driver_for("no_such_os") is None
