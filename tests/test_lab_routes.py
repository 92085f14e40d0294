"""The lab's routing tables over real SSH with unmodified netmiko: connected routes from the
configured interface addresses (and the management network), static routes from ``ip route`` /
``set routing-options static route``, shown by ``show ip route`` (IOS, NX-OS, EOS, parsed by
ntc-templates) and ``show route`` (Junos); a route goes away while its interface is shut, and
static routes are in the running configuration, the startup copy and the state file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

netmiko = pytest.importorskip("netmiko")

from ntc_templates.parse import parse_output  # noqa: E402

from nettui.lab import LabThread, run_lab_in_thread  # noqa: E402
from nettui.lab.state import DeviceState  # noqa: E402
from nettui.lifecycle.upgrade import PROFILES  # noqa: E402
from tests.lab_cli import apply_config, netmiko_session, running_config  # noqa: E402

pytestmark = pytest.mark.slow

PLATFORMS = ["cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos"]


@dataclass
class Setup:
    """How one platform gets a routed port, a loopback and static routes, shuts the port and
    removes a static route; what its configuration then shows."""

    configure: list[str]
    shut: list[str]
    no_shut: list[str]
    remove_static: list[str]
    config_lines: list[str]  # in the running configuration
    mgmt_command: str  # the table the management network is in
    port: str  # the routed port as the table names it


SETUPS = {
    "cisco_ios": Setup(
        configure=[
            "interface GigabitEthernet1/0/1",
            "no switchport",
            "ip address 10.1.2.1 255.255.255.0",
            "interface Loopback0",
            "ip address 10.255.0.1 255.255.255.255",
            "exit",
            "ip route 10.20.0.0 255.255.0.0 10.1.2.2",
            "ip route 0.0.0.0 0.0.0.0 10.1.2.254",
            "ip route 10.30.0.0 255.255.0.0 10.99.0.1",  # resolved through the default route
            "ip route 10.40.0.0 255.255.0.0 Null0",
        ],
        shut=["interface GigabitEthernet1/0/1", "shutdown"],
        no_shut=["interface GigabitEthernet1/0/1", "no shutdown"],
        remove_static=["no ip route 10.20.0.0 255.255.0.0 10.1.2.2"],
        config_lines=[
            "ip route 10.20.0.0 255.255.0.0 10.1.2.2",
            "ip route 0.0.0.0 0.0.0.0 10.1.2.254",
            "ip route 10.40.0.0 255.255.0.0 Null0",
        ],
        mgmt_command="show ip route vrf Mgmt-vrf",
        port="GigabitEthernet1/0/1",
    ),
    "cisco_nxos": Setup(
        configure=[
            "interface Ethernet1/1",
            "no switchport",
            "ip address 10.1.2.1/24",
            "no shutdown",
            "interface loopback0",
            "ip address 10.255.0.1/32",
            "exit",
            "ip route 10.20.0.0/16 10.1.2.2",
            "ip route 0.0.0.0/0 10.1.2.254",
            "ip route 10.30.0.0/16 10.99.0.1",
            "ip route 10.40.0.0/16 Null0",
            "vrf context management",
            "ip route 0.0.0.0/0 10.200.0.254",
        ],
        shut=["interface Ethernet1/1", "shutdown"],
        no_shut=["interface Ethernet1/1", "no shutdown"],
        remove_static=["no ip route 10.20.0.0/16 10.1.2.2"],
        config_lines=[
            "ip route 10.20.0.0/16 10.1.2.2",
            "ip route 0.0.0.0/0 10.1.2.254",
            "vrf context management\n  ip route 0.0.0.0/0 10.200.0.254",
        ],
        mgmt_command="show ip route vrf management",
        port="Eth1/1",
    ),
    "arista_eos": Setup(
        configure=[
            "interface Ethernet1",
            "no switchport",
            "ip address 10.1.2.1/24",
            "interface Loopback0",
            "ip address 10.255.0.1/32",
            "exit",
            "ip route 10.20.0.0/16 10.1.2.2",
            "ip route 0.0.0.0/0 10.1.2.254",
            "ip route 10.30.0.0/16 10.99.0.1",
            "ip route 10.40.0.0/16 Null0",
            "ip route vrf MGMT 0.0.0.0/0 10.200.0.254",
        ],
        shut=["interface Ethernet1", "shutdown"],
        no_shut=["interface Ethernet1", "no shutdown"],
        remove_static=["no ip route 10.20.0.0/16 10.1.2.2"],
        config_lines=[
            "ip routing\n!\nip route 10.20.0.0/16 10.1.2.2",
            "ip route 0.0.0.0/0 10.1.2.254",
            "ip route vrf MGMT 0.0.0.0/0 10.200.0.254",
        ],
        mgmt_command="show ip route vrf MGMT",
        port="Ethernet1",
    ),
    "juniper_junos": Setup(
        configure=[
            "delete interfaces ge-0/0/0 unit 0 family ethernet-switching",
            "set interfaces ge-0/0/0 unit 0 family inet address 10.1.2.1/24",
            "set interfaces lo0 unit 0 family inet address 10.255.0.1/32",
            "set routing-options static route 10.20.0.0/16 next-hop 10.1.2.2",
            "set routing-options static route 0.0.0.0/0 next-hop 10.1.2.254",
            "set routing-options static route 10.30.0.0/16 next-hop 10.99.0.1",
            "set routing-options static route 10.40.0.0/16 discard",
        ],
        shut=["set interfaces ge-0/0/0 disable"],
        no_shut=["delete interfaces ge-0/0/0 disable"],
        remove_static=["delete routing-options static route 10.20.0.0/16"],
        config_lines=[
            "set routing-options static route 10.20.0.0/16 next-hop 10.1.2.2",
            "set routing-options static route 0.0.0.0/0 next-hop 10.1.2.254",
        ],
        mgmt_command="show route",
        port="ge-0/0/0.0",
    ),
}


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=len(PLATFORMS), platforms=PLATFORMS, password="rt-pw", enable_secret="rt-en") as lab:
        yield lab


def _apply(conn: netmiko.BaseConnection, platform: str, lines: list[str]) -> None:
    output = apply_config(conn, platform, lines)
    for rejection in ("% Invalid", "% Incomplete", "syntax error", "error:", "% Inconsistent"):
        assert rejection not in output, output


def _table(conn: netmiko.BaseConnection, platform: str, command: str | None = None) -> dict[str, str]:
    """prefix -> protocol of the device's table (ntc-templates for the Cisco-like platforms)."""
    command = command or PROFILES[platform].routes
    output = str(conn.send_command(command))
    if platform == "juniper_junos":
        table: dict[str, str] = {}
        for line in output.splitlines():
            if line[:1].isdigit():
                prefix, kind = line.split()[0], line.split("[")[1].split("/")[0]
                table[prefix] = kind.lower()
        return table
    rows = parse_output(platform=platform, command=command, data=output)
    codes = {"C": "direct", "L": "local", "S": "static", "direct": "direct", "local": "local", "static": "static"}
    found: dict[str, str] = {}
    for row in rows:
        if not row["network"]:  # NX-OS: "Route not found"
            continue
        protocol = str(row["protocol"]).strip()
        prefix = f"{row['network']}/{row['prefix_length']}"
        found[prefix] = codes.get(protocol, protocol)
    return found


@pytest.mark.parametrize("platform", PLATFORMS)
def test_routes_follow_the_configuration_and_the_interface_state(lab: LabThread, platform: str) -> None:
    device = next(d for d in lab.devices if d.platform_name == platform)
    setup = SETUPS[platform]
    conn = netmiko_session(device)
    try:
        before = _table(conn, platform)
        assert "10.1.2.0/24" not in before and "10.20.0.0/16" not in before

        _apply(conn, platform, setup.configure)
        table = _table(conn, platform)
        assert table["10.1.2.0/24"] == "direct"
        assert table["10.255.0.1/32"] in ("direct", "local")
        assert table["10.20.0.0/16"] == "static" and table["0.0.0.0/0"] == "static"
        assert table["10.40.0.0/16"] == "static"  # to Null0 / discard: always there
        assert table["10.30.0.0/16"] == "static"  # its next hop is reached through the default route
        if platform != "arista_eos":  # EOS does not list the local /32s
            assert table["10.1.2.1/32"] == "local"
        raw = str(conn.send_command(PROFILES[platform].routes))
        assert setup.port in raw
        running = running_config(conn, platform)
        for block in setup.config_lines:
            assert block in running, (block, running)

        # The management network is in the table of its VRF (inet.0 on Junos).
        mgmt = str(conn.send_command(setup.mgmt_command))
        assert "10.200.0.0/16" in mgmt, mgmt

        # Shut the port: its connected route, and the statics through it, go away.
        _apply(conn, platform, setup.shut)
        shut = _table(conn, platform)
        assert not {"10.1.2.0/24", "10.1.2.1/32", "10.20.0.0/16", "0.0.0.0/0", "10.30.0.0/16"} & set(shut), shut
        assert "10.255.0.1/32" in shut and "10.40.0.0/16" in shut

        _apply(conn, platform, setup.no_shut)
        _apply(conn, platform, setup.remove_static)
        back = _table(conn, platform)
        assert back["10.1.2.0/24"] == "direct" and back["0.0.0.0/0"] == "static"
        assert "10.20.0.0/16" not in back
    finally:
        conn.disconnect()


def test_static_routes_are_saved_copied_and_kept_in_the_state_file(lab: LabThread) -> None:
    device = next(d for d in lab.devices if d.platform_name == "arista_eos")
    conn = netmiko_session(device)
    try:
        _apply(conn, "arista_eos", ["ip route 192.168.50.0/24 Null0 200 name SINK"])
        conn.save_config()
        _apply(conn, "arista_eos", ["no ip route 192.168.50.0/24"])
        startup = str(conn.send_command("show startup-config"))
        running = str(conn.send_command("show running-config"))
        bad = str(conn.send_config_set(["ip route 10.1.2.3/24 10.1.2.2", "ip route 10.9.0.0/16"]))
    finally:
        conn.disconnect()
    assert "ip route 192.168.50.0/24 Null0 200 name SINK" in startup
    assert "192.168.50.0" not in running
    assert "% Inconsistent address and mask" in bad and "% Incomplete command" in bad

    state = lab.device(device.name).state
    restored = DeviceState.from_json(json.loads(json.dumps(state.to_json())))
    assert restored.startup == state.startup and restored.config == state.config
    assert state.startup is not None and state.config is not None
    assert [r.prefix for r in state.startup.static_routes if r.name == "SINK"] == ["192.168.50.0/24"]
    assert not any(r.name == "SINK" for r in state.config.static_routes)


def test_unknown_vrf_and_user_exec(lab: LabThread) -> None:
    device = next(d for d in lab.devices if d.platform_name == "cisco_ios")
    conn = netmiko_session(device, enable=False)
    try:
        # show ip route works in user EXEC, as on the real device.
        assert "Gateway of last resort" in str(conn.send_command("show ip route"))
        assert "% IP routing table NOPE does not exist" in str(conn.send_command("show ip route vrf NOPE"))
    finally:
        conn.disconnect()
