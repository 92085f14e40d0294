"""Network discovery against the lab over real SSH: CIDR and ports, ranges, CSV files, a
controller's device list over HTTP on loopback, and LLDP crawls through a 30-device topology."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.models.choices import SecretBackend
from catalog.store import Store
from nettui.discovery import (
    DiscoveryConfigError,
    detect_platform,
    discover,
    get_job,
    parse_lldp_neighbors,
    parse_ports,
)
from nettui.lab import LabThread, run_lab_in_thread
from nettui.lab.inventory import inventory_data
from nettui.lab.platforms import get_platform
from nettui.lab.topology import Link, Topology, TopologyDevice, mgmt_address_map
from tests.conftest import run_cli

PASSWORD = "disc-Pass-1"
ENABLE = "disc-Enable-1"
TOKEN = "controller-token-77"
PLATFORMS = ["cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos"]


# -- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=4, platforms=PLATFORMS, password=PASSWORD, enable_secret=ENABLE) as running:
        yield running


def tree_topology(count: int = 30) -> Topology:
    """A tree: device i is cabled to device i // 2 (its parent). Inner devices are IOS, NX-OS
    and EOS in turn; the last five leaves are Junos (whose LLDP lists no addresses)."""
    inner = ["cisco_ios", "cisco_nxos", "arista_eos"]
    names = [f"d{i:02d}" for i in range(1, count + 1)]
    platforms = {name: inner[i % 3] if i < count - 5 else "juniper_junos" for i, name in enumerate(names)}
    devices = [TopologyDevice(name, platforms[name]) for name in names]
    used: dict[str, int] = dict.fromkeys(names, 0)
    links = []
    for child in range(2, count + 1):
        parent = child // 2
        a, b = names[parent - 1], names[child - 1]
        a_port = get_platform(platforms[a]).port_names()[used[a]]
        b_port = get_platform(platforms[b]).port_names()[used[b]]
        used[a] += 1
        used[b] += 1
        links.append(Link(a, a_port, b, b_port))
    return Topology(devices=devices, links=links)


@pytest.fixture(scope="module")
def tree_lab() -> Iterator[LabThread]:
    with run_lab_in_thread(topology=tree_topology(), password=PASSWORD, enable_secret=ENABLE) as running:
        yield running


def add_groups(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """``wrong`` (a password the lab refuses) and ``lab`` (the right one), as env references."""
    monkeypatch.setenv("DISC_USERNAME", "admin")
    monkeypatch.setenv("DISC_PASSWORD", PASSWORD)
    monkeypatch.setenv("DISC_ENABLE", ENABLE)
    monkeypatch.setenv("DISC_WRONG_PASSWORD", "not-the-password")
    monkeypatch.setenv("CONTROLLER_TOKEN", TOKEN)
    with store.session() as session:
        for name, password in (("lab", "DISC_PASSWORD"), ("wrong", "DISC_WRONG_PASSWORD")):
            session.add(
                m.SecretsGroup(
                    name=name,
                    entries=[
                        m.SecretsGroupEntry(name="username", backend=SecretBackend.ENV, reference="DISC_USERNAME"),
                        m.SecretsGroupEntry(name="password", backend=SecretBackend.ENV, reference=password),
                        m.SecretsGroupEntry(name="enable_secret", backend=SecretBackend.ENV, reference="DISC_ENABLE"),
                    ],
                )
            )


def ports_of(lab: LabThread) -> str:
    return ",".join(str(d.port) for d in lab.devices)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def devices_in(store: Store) -> dict[str, dict[str, Any]]:
    """Every device in the store as plain values (a read session's objects expire with it)."""
    with store.read_session() as session:
        rows = session.scalars(
            select(m.Device).options(
                selectinload(m.Device.platform),
                selectinload(m.Device.manufacturer),
                selectinload(m.Device.secrets_group),
                selectinload(m.Device.interfaces),
            )
        )
        return {
            d.name: {
                "host": d.host,
                "ssh_port": d.ssh_port,
                "driver": d.platform.network_driver if d.platform else None,
                "manufacturer": d.manufacturer.name if d.manufacturer else None,
                "serial": d.serial,
                "model": d.model,
                "software_version": d.software_version,
                "secrets_group": d.secrets_group.name if d.secrets_group else None,
                "interfaces": [i.name for i in d.interfaces],
            }
            for d in rows
        }


def expected_facts(lab: LabThread) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in inventory_data(lab.devices)["devices"]}


# -- pure functions ---------------------------------------------------------------------------------


def test_ports_platform_signatures_and_lldp_text_are_read_as_devices_print_them() -> None:
    assert parse_ports("22, 830,10022-10024") == [22, 830, 10022, 10023, 10024]
    assert parse_ports(None) == [22]
    with pytest.raises(DiscoveryConfigError, match="bad port range"):
        parse_ports("70000")
    assert detect_platform("Cisco Nexus Operating System (NX-OS) Software\n") == "cisco_nxos"
    assert detect_platform("Cisco IOS XE Software, Version 17.09.04a") == "cisco_ios"
    assert detect_platform("Arista DCS-7050SX3-48YC8\n") == "arista_eos"
    assert detect_platform("Hostname: sw4\nJunos: 21.4R3-S5.4") == "juniper_junos"
    assert detect_platform("Linux box 6.1") is None
    eos = '  - System Name: "sw2"\n    Management Address         : 10.200.0.2\n  - System Name: "sw4"\n'
    assert parse_lldp_neighbors("arista_eos", eos) == [
        {"name": "sw2", "mgmt_address": "10.200.0.2"},
        {"name": "sw4", "mgmt_address": ""},
    ]


# -- cidr, ports, credentials, re-runs -------------------------------------------------------------------


def test_cidr_over_lab_ports_finds_every_device_with_its_platform_and_facts(
    store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`nettui discover --cidr 127.0.0.1/32 --ports ...` with a wrong secrets group first: every
    lab device is created with the right platform, serial, model, version and interfaces, its
    host key trusted; the closed port is reported with its reason."""
    add_groups(store, monkeypatch)
    closed = closed_port()
    result = run_cli(
        store,
        "discover",
        "--cidr",
        "127.0.0.1/32",
        "--ports",
        f"{ports_of(lab)},{closed}",
        "--secrets-group",
        "wrong",
        "--secrets-group",
        "lab",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    job = json.loads(result.stdout)
    assert job["status"] == "completed"
    assert (job["devices_discovered"], job["devices_created"], job["devices_updated"]) == (4, 4, 0)
    assert job["devices"] == ["sw1", "sw2", "sw3", "sw4"]
    assert job["errors"] == [{"address": f"127.0.0.1:{closed}", "reason": job["errors"][0]["reason"], "stage": "reach"}]
    assert "unreachable" in job["errors"][0]["reason"]
    assert "[5/5]" in result.stderr and "created" in result.stderr  # progress on stderr
    assert PASSWORD not in result.output + result.stderr

    expected = expected_facts(lab)
    devices = devices_in(store)
    assert sorted(devices) == ["sw1", "sw2", "sw3", "sw4"]
    for name, device in devices.items():
        assert device["driver"] == expected[name]["platform"]
        assert device["serial"] == expected[name]["serial"]
        assert device["model"] == expected[name]["model"]
        assert device["software_version"]  # as show version prints it
        assert (device["host"], device["ssh_port"]) == ("127.0.0.1", lab.device(name).port)
        assert device["secrets_group"] == "lab"
        assert device["manufacturer"]
        assert len(device["interfaces"]) >= 2
    with store.read_session() as session:
        assert session.scalar(select(func.count()).select_from(m.DeviceHostKey)) == 4

    listed = run_cli(store, "discover", "list", "--json")
    assert [j["id"] for j in json.loads(listed.stdout)] == [job["id"]]
    shown = run_cli(store, "discover", "show", str(job["id"]))
    assert shown.exit_code == 0 and f"127.0.0.1:{closed}  [reach] unreachable" in shown.stdout
    # Every address's outcome is kept with the job: the device it became, or the reason.
    for name, facts in expected.items():
        assert f"127.0.0.1:{lab.device(name).port}  created  {name} ({facts['platform']}, serial {facts['serial']}" in (
            shown.stdout
        )
    record = json.loads(run_cli(store, "discover", "show", str(job["id"]), "--json").stdout)
    results = {r["address"]: r for r in record["results"]}
    assert len(results) == 5 and "results" not in record["discovery_config"]
    for name, facts in expected.items():
        result = results[f"127.0.0.1:{lab.device(name).port}"]
        assert (result["outcome"], result["device"], result["platform"]) == ("created", name, facts["platform"])
        assert result["serial"] == facts["serial"] and result["model"] == facts["model"] and result["version"]
    assert results[f"127.0.0.1:{closed}"]["outcome"] == "failed"
    assert results[f"127.0.0.1:{closed}"]["stage"] == "reach"
    assert "unreachable" in results[f"127.0.0.1:{closed}"]["reason"]
    assert record["errors"] == job["errors"]  # errors still mean errors only
    assert PASSWORD not in json.dumps(record)


async def test_a_cidr_over_several_loopback_addresses_finds_the_lab_where_it_listens(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lab listens on 127.0.0.2 only; 127.0.0.0/30 (hosts .1 and .2) on its ports finds its
    devices there and reports the other address's ports as unreachable."""
    add_groups(sqlite_store, monkeypatch)
    with run_lab_in_thread(
        devices=2, platforms=["arista_eos"], host="127.0.0.2", password=PASSWORD, enable_secret=ENABLE
    ) as other:
        job = await discover(
            sqlite_store, "cidr", {"cidr": "127.0.0.0/30", "ports": ports_of(other), "secrets_groups": ["lab"]}
        )
    found = {n: d for n, d in devices_in(sqlite_store).items() if d["host"] == "127.0.0.2"}
    assert sorted(found) == ["sw1", "sw2"]
    assert {(d["ssh_port"], d["driver"]) for d in found.values()} == {(d.port, "arista_eos") for d in other.devices}
    # Another test's lab may listen on 127.0.0.1 at one of these ports; whatever is not a device is a reason.
    assert all(e["address"].startswith("127.0.0.1:") for e in job["errors"])
    assert job["devices_discovered"] + len(job["errors"]) == 4


async def test_a_rerun_updates_the_devices_matched_by_serial_instead_of_duplicating(
    sqlite_store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = sqlite_store
    add_groups(store, monkeypatch)
    config = {"cidr": "127.0.0.1/32", "ports": ports_of(lab), "secrets_groups": ["lab"]}
    first = await discover(store, "cidr", config)
    assert (first["devices_created"], first["devices_updated"]) == (4, 0)
    # An operator renamed one device and moved another in the store: the serial still finds them.
    with store.session() as session:
        sw1 = session.scalars(select(m.Device).where(m.Device.name == "sw1")).one()
        sw1.name = "core-1"
        sw2 = session.scalars(select(m.Device).where(m.Device.name == "sw2")).one()
        sw2.host, sw2.software_version = "192.0.2.9", "old"
    second = await discover(store, "cidr", config)
    assert (second["devices_discovered"], second["devices_created"], second["devices_updated"]) == (4, 0, 4)
    assert second["errors"] == []
    devices = devices_in(store)
    assert sorted(devices) == ["core-1", "sw2", "sw3", "sw4"]
    assert devices["sw2"]["host"] == "127.0.0.1" and devices["sw2"]["software_version"] != "old"

    # A device whose SSH host key is not the one trusted is not updated: that is what a
    # man-in-the-middle looks like.
    with store.session() as session:
        sw3 = session.scalars(select(m.Device).where(m.Device.name == "sw3")).one()
        key = session.scalars(select(m.DeviceHostKey).where(m.DeviceHostKey.device_id == sw3.id)).one()
        key.public_key, key.fingerprint = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKey", "SHA256:other"
        sw3.model = "edited"
    outcomes = {r["address"]: (r["outcome"], r["device"]) for r in second["results"]}
    assert outcomes[f"127.0.0.1:{lab.device('sw1').port}"] == ("updated", "core-1")
    assert sorted(o for o, _ in outcomes.values()) == ["updated"] * 4
    third = await discover(store, "cidr", config)
    assert third["devices_updated"] == 3
    (error,) = third["errors"]
    assert error["address"] == f"127.0.0.1:{lab.device('sw3').port}" and error["stage"] == "store"
    assert "matches device sw3 by serial, but its SSH host key changed" in error["reason"]
    refused = next(r for r in third["results"] if r["address"] == error["address"])
    assert refused["outcome"] == "failed" and refused["reason"] == error["reason"]
    # A past job read back later shows the same outcomes.
    assert get_job(store, third["id"])["results"] == third["results"]
    assert devices_in(store)["sw3"]["model"] == "edited"


async def test_wrong_credentials_in_every_group_and_unreachable_addresses_are_reported_quickly(
    sqlite_store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each address's reason: login refused (naming the groups tried), refused connection,
    and a port that accepts TCP but never speaks SSH (the connect timeout)."""
    store = sqlite_store
    add_groups(store, monkeypatch)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        silent_port, closed = silent.getsockname()[1], closed_port()
        started = time.monotonic()
        job = await discover(
            store,
            "ip_range",
            {
                "range": "127.0.0.1-1",
                "ports": f"{lab.devices[0].port},{closed},{silent_port}",
                "secrets_groups": ["wrong"],
                "connect_timeout": 0.5,
            },
        )
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    print(f"3 failing addresses reported in {elapsed:.2f} s (connect timeout 0.5 s)")
    assert job["status"] == "completed" and job["devices_discovered"] == 0
    reasons = {e["address"]: (e["stage"], e["reason"]) for e in job["errors"]}
    assert reasons[f"127.0.0.1:{lab.devices[0].port}"] == (
        "login",
        "login refused with every secrets group tried (wrong)",
    )
    assert reasons[f"127.0.0.1:{closed}"][0] == "reach"
    assert "refused" in reasons[f"127.0.0.1:{closed}"][1] or "failed" in reasons[f"127.0.0.1:{closed}"][1]
    assert reasons[f"127.0.0.1:{silent_port}"] == ("reach", "unreachable: no answer within 0.5 s")
    assert devices_in(store) == {}


def test_netmiko_autodetect_tells_the_platform_too(
    sqlite_store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_groups(sqlite_store, monkeypatch)
    nxos = next(d for d in lab.devices if d.platform_name == "cisco_nxos")
    result = run_cli(
        sqlite_store,
        "discover",
        "--range",
        "127.0.0.1-127.0.0.1",
        "--ports",
        str(nxos.port),
        "--secrets-group",
        "lab",
        "--detect",
        "netmiko",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["devices"] == [nxos.name]
    assert devices_in(sqlite_store)[nxos.name]["driver"] == "cisco_nxos"


def test_bad_input_is_refused_before_anything_is_written(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    add_groups(sqlite_store, monkeypatch)
    bad_prefix = run_cli(sqlite_store, "discover", "--cidr", "300.1.1.0/24", "--secrets-group", "lab")
    assert bad_prefix.exit_code == 1 and "not a prefix" in bad_prefix.stderr
    no_group = run_cli(sqlite_store, "discover", "--cidr", "127.0.0.1/32", "--secrets-group", "nope")
    assert no_group.exit_code == 1 and "no secrets group 'nope'" in no_group.stderr
    no_source = run_cli(sqlite_store, "discover", "--ports", "22")
    assert no_source.exit_code == 2 and "give one of --cidr" in no_source.stderr
    crawl = run_cli(sqlite_store, "discover", "--lldp-seed", "127.0.0.1:22", "--secrets-group", "lab")
    assert crawl.exit_code == 1 and "allowed prefixes" in crawl.stderr
    assert "Traceback" not in bad_prefix.output + no_group.output + crawl.output
    assert json.loads(run_cli(sqlite_store, "discover", "list", "--json").stdout) == []


# -- csv ------------------------------------------------------------------------------------------------


def test_csv_import_probes_good_rows_and_reports_bad_ones_by_line(
    store: Store, lab: LabThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_groups(store, monkeypatch)
    sw1, sw2, sw3 = lab.devices[:3]
    path = tmp_path / "devices.csv"
    path.write_text(
        "host,ssh_port,name,platform,secrets_group\n"
        f"127.0.0.1,{sw1.port},,,lab\n"
        f"127.0.0.1,{sw2.port},,cisco_nxos,lab\n"
        "127.0.0.1,not-a-port,,,lab\n"
        "not an address!,22,,,lab\n"
        f"127.0.0.1,{sw3.port},,no_such_os,lab\n"
        "127.0.0.1,22\n"
        f"127.0.0.1,{sw3.port},,,wrong\n"
    )
    result = run_cli(store, "discover", "--csv", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    job = json.loads(result.stdout)
    assert (job["discovery_type"], job["devices_created"]) == ("csv_import", 2)
    errors = {e["address"]: e for e in job["errors"]}
    assert errors[f"{path}:4"]["reason"] == "ssh_port 'not-a-port' is not a port (1-65535)"
    assert "is not an address or a host name" in errors[f"{path}:5"]["reason"]
    assert "no_such_os" in errors[f"{path}:6"]["reason"]
    assert errors[f"{path}:7"]["reason"] == "has 2 cells but the header has 5"
    assert errors[f"127.0.0.1:{sw3.port}"]["reason"] == "login refused with every secrets group tried (wrong)"
    assert errors[f"127.0.0.1:{sw3.port}"]["origin"] == f"{path}:8"
    assert sorted(devices_in(store)) == ["sw1", "sw2"]

    header = tmp_path / "bad-header.csv"
    header.write_text("address,port\n127.0.0.1,22\n")
    refused = run_cli(store, "discover", "--csv", str(header))
    assert refused.exit_code == 1 and "unknown column port" in refused.stderr


# -- controller ----------------------------------------------------------------------------------------


class _Controller(BaseHTTPRequestHandler):
    devices: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            body, status = b'{"detail": "no"}', 401
        elif self.path.startswith("/dna/intent/api/v1/network-device"):
            body, status = json.dumps({"response": self.devices}).encode(), 200
        else:
            body, status = b'{"detail": "not found"}', 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def controller(lab: LabThread) -> Iterator[str]:
    """A controller-like API on loopback listing the lab's devices (and one it cannot reach)."""
    facts = expected_facts(lab)
    devices: list[dict[str, Any]] = [
        {
            "hostname": d.name,
            "managementIpAddress": "127.0.0.1",
            "ssh_port": d.port,
            "serialNumber": facts[d.name]["serial"],
            "platformId": facts[d.name]["model"],
            "softwareVersion": facts[d.name]["software_version"],
            "platform": d.platform_name,
        }
        for d in lab.devices
    ]
    devices.append({"hostname": "ghost", "softwareVersion": "1.0"})
    handler = type("Handler", (_Controller,), {"devices": devices})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def add_controller_config(store: Store, base_url: str) -> None:
    with store.session() as session:
        provider = m.Provider(name="http_api", driver_class="drivers.http_provider.HttpApiProvider")
        token = m.SecretsGroup(
            name="controller",
            entries=[m.SecretsGroupEntry(name="token", backend=SecretBackend.ENV, reference="CONTROLLER_TOKEN")],
        )
        session.add(
            m.ProviderConfig(
                provider=provider,
                name="dnac",
                credentials=token,
                settings={"base_url": base_url, "devices_path": "/dna/intent/api/v1/network-device"},
            )
        )


def test_controller_api_lists_devices_that_are_then_probed_over_ssh(
    store: Store, lab: LabThread, controller: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_groups(store, monkeypatch)
    add_controller_config(store, controller)
    result = run_cli(store, "discover", "--controller", "dnac", "--secrets-group", "lab", "--json")
    assert result.exit_code == 0, result.stderr
    job = json.loads(result.stdout)
    assert (job["discovery_type"], job["devices_discovered"], job["devices_created"]) == ("controller_api", 4, 4)
    assert [e["reason"] for e in job["errors"]] == ["ghost has no management address"]
    assert TOKEN not in result.output + result.stderr
    devices = devices_in(store)
    assert {n: d["driver"] for n, d in devices.items()} == {d.name: d.platform_name for d in lab.devices}
    with store.read_session() as session:
        assert session.scalar(select(func.count()).select_from(m.DeviceHostKey)) == 4


async def test_controller_api_without_probing_records_what_the_controller_says(
    sqlite_store: Store, lab: LabThread, controller: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_groups(sqlite_store, monkeypatch)
    add_controller_config(sqlite_store, controller)
    job = await discover(sqlite_store, "controller_api", {"controller": "dnac", "probe": False})
    assert (job["devices_created"], job["status"]) == (4, "completed")
    facts = expected_facts(lab)
    for name, device in devices_in(sqlite_store).items():
        assert (device["serial"], device["model"]) == (facts[name]["serial"], facts[name]["model"])
        assert device["secrets_group"] is None  # nobody logged in
    monkeypatch.setenv("CONTROLLER_TOKEN", "wrong-token")
    failed = await discover(sqlite_store, "controller_api", {"controller": "dnac", "probe": False})
    assert failed["status"] == "failed"
    assert "HTTP 401" in failed["errors"][0]["reason"] and TOKEN not in json.dumps(failed, default=str)


# -- lldp crawl -------------------------------------------------------------------------------------------


def seed_store(store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The seed d01 discovered by its port; the lab's address map written for the CLI."""
    add_groups(store, monkeypatch)
    seed = run_cli(
        store, "discover", "--cidr", "127.0.0.1/32", "--ports", str(lab.device("d01").port), "--secrets-group", "lab"
    )
    assert seed.exit_code == 0, seed.stderr
    path = tmp_path / "address-map.json"
    path.write_text(json.dumps(mgmt_address_map(lab.devices)))
    return path


def crawl(store: Store, address_map: Path, *args: str) -> dict[str, Any]:
    result = run_cli(store, "discover", "--lldp-seed", "d01", "--address-map", str(address_map), "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_an_lldp_crawl_from_one_seed_finds_the_whole_30_device_topology(
    store: Store, tree_lab: LabThread, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    address_map = seed_store(store, tree_lab, monkeypatch, tmp_path)
    started = time.monotonic()
    job = crawl(store, address_map, "--depth", "10", "--allow", "10.200.0.0/24")
    print(f"LLDP crawl of 30 lab devices: {time.monotonic() - started:.2f} s")
    assert job["discovery_type"] == "lldp_crawl"
    assert (job["devices_discovered"], job["devices_created"], job["devices_updated"]) == (30, 29, 1)
    assert job["errors"] == []
    devices = devices_in(store)
    assert sorted(devices) == [f"d{i:02d}" for i in range(1, 31)]
    for device in tree_lab.devices:
        row = devices[device.name]
        assert row["driver"] == device.platform_name
        assert (row["host"], row["ssh_port"]) == ("127.0.0.1", device.port)
    again = crawl(store, address_map, "--depth", "10", "--allow", "10.200.0.0/24")
    assert (again["devices_created"], again["devices_updated"]) == (0, 30)


def test_an_lldp_crawl_stops_at_its_depth_its_count_and_the_allowed_prefixes(
    sqlite_store: Store, tree_lab: LabThread, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store = sqlite_store
    address_map = seed_store(store, tree_lab, monkeypatch, tmp_path)
    shallow = crawl(store, address_map, "--depth", "1", "--allow", "10.200.0.0/24")
    assert shallow["devices"] == ["d01", "d02", "d03"]  # the seed and its two neighbours

    counted = crawl(store, address_map, "--depth", "10", "--max-devices", "5", "--allow", "10.200.0.0/24")
    assert counted["devices_discovered"] == 5
    assert counted["devices"] == ["d01", "d02", "d03", "d04", "d05"]  # breadth first, in address order
    assert {e["stage"] for e in counted["errors"]} == {"limit"}

    # 10.200.0.0/29 holds the management addresses of d01..d07: d08 and beyond are never probed.
    filtered = crawl(store, address_map, "--depth", "10", "--allow", "10.200.0.0/29")
    assert filtered["devices"] == [f"d{i:02d}" for i in range(1, 8)]
    outside = sorted(e["address"] for e in filtered["errors"] if e["stage"] == "filter")
    assert outside == sorted(f"10.200.0.{i}" for i in range(8, 16))
    assert all(e["stage"] == "filter" for e in filtered["errors"])
    assert sorted(devices_in(store)) == [f"d{i:02d}" for i in range(1, 8)]
