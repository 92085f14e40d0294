"""Unmodified netmiko 4.8 against the lab: session setup, show commands parsed by TextFSM, configuration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

netmiko = pytest.importorskip("netmiko")

from nettui.lab import LabDevice, LabThread, run_lab_in_thread  # noqa: E402
from tests.lab_cli import netmiko_session  # noqa: E402

pytestmark = pytest.mark.slow

PLATFORMS = ["cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos"]


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    # Two devices per platform: sw1..sw4 for the read-only tests, sw5..sw8 for those that change things.
    with run_lab_in_thread(devices=8, platforms=PLATFORMS, password="s3cret-pw", enable_secret="en-s3cret") as handle:
        yield handle


def _device(lab: LabThread, platform: str, spare: bool = False) -> LabDevice:
    matches = [d for d in lab.devices if d.platform_name == platform]
    return matches[1 if spare else 0]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_session_setup_prompt_and_enable(lab: LabThread, platform: str) -> None:
    device = _device(lab, platform)
    conn = netmiko_session(device, enable=False)
    try:
        if platform in ("cisco_ios", "arista_eos"):
            assert conn.find_prompt() == f"{device.name}>"  # user EXEC until enable
            conn.enable()
            assert conn.find_prompt() == f"{device.name}#"
        elif platform == "cisco_nxos":
            assert conn.find_prompt() == f"{device.name}#"  # NX-OS logs in privileged
        else:
            assert conn.find_prompt() == f"admin@{device.name}>"
    finally:
        conn.disconnect()


IOS_PARSED = {
    "show version": {"hostname": "sw1", "version": "17.9.4a", "software_image": "CAT9K_IOSXE"},
    "show ip interface brief": {"interface": "GigabitEthernet0/0", "ip_address": "10.200.0.1"},
    "show interfaces status": {"port": "Gi0/0", "vlan_id": "routed"},
    "show vlan brief": {"vlan_id": "1", "vlan_name": "default"},
    "show lldp neighbors detail": {"local_interface": "Gi1/0/1", "neighbor_name": "sw2"},
    "show inventory": {"name": "c93xx Stack", "pid": "C9300-24P"},
}


def test_ios_show_commands_parse_with_textfsm(lab: LabThread) -> None:
    device = _device(lab, "cisco_ios")
    conn = netmiko_session(device, enable=False)
    try:
        conn.enable()
        for command, expected in IOS_PARSED.items():
            rows = conn.send_command(command, use_textfsm=True)
            assert isinstance(rows, list) and rows, f"{command}: not parsed: {rows!r}"
            for key, value in expected.items():
                assert rows[0][key] == value, (command, key, rows[0])
        serial = conn.send_command("show version", use_textfsm=True)[0]["serial"]
        assert serial == [device.state.serial]
    finally:
        conn.disconnect()


@pytest.mark.parametrize(
    ("platform", "commands"),
    [
        (
            "cisco_nxos",
            ["show version", "show interface status", "show vlan", "show lldp neighbors detail", "show inventory"],
        ),
        (
            "arista_eos",
            [
                "show version",
                "show ip interface brief",
                "show interfaces status",
                "show vlan",
                "show lldp neighbors detail",
                "show inventory",
            ],
        ),
        ("juniper_junos", ["show version", "show lldp neighbors"]),
    ],
)
def test_other_platforms_show_commands_parse(lab: LabThread, platform: str, commands: list[str]) -> None:
    device = _device(lab, platform)
    conn = netmiko_session(device, enable=False)
    try:
        if platform != "juniper_junos":
            conn.enable()
        for command in commands:
            rows = conn.send_command(command, use_textfsm=True)
            assert isinstance(rows, list) and rows, f"{platform} {command}: not parsed: {rows!r}"
        for command in ("show running-config", "show startup-config", "dir", "show file systems"):
            if platform == "juniper_junos":
                break
            assert "Invalid" not in conn.send_command(command), command
    finally:
        conn.disconnect()


CISCO_LIKE_CONFIG = {
    "cisco_ios": (
        [
            "vlan 310",
            "name lab-users",
            "interface GigabitEthernet1/0/5",
            "description to printer",
            "switchport mode access",
            "switchport access vlan 310",
            "interface Gi1/0/6",
            "switchport mode trunk",
            "switchport trunk allowed vlan 10,310",
            "switchport trunk native vlan 99",
            "shutdown",
            "vrf definition BLUE",
            "rd 65000:1",
            "interface Loopback7",
            "vrf forwarding BLUE",
            "ip address 192.0.2.7 255.255.255.255",
            "ntp server 192.0.2.123",
            "snmp-server community labro RO",
            "banner motd ^Authorised users only^",
            "aaa new-model",
        ],
        [
            "vlan 310\n name lab-users",
            " description to printer\n switchport access vlan 310\n switchport mode access",
            " switchport trunk native vlan 99\n switchport trunk allowed vlan 10,310\n"
            " switchport mode trunk\n shutdown",
            "vrf definition BLUE\n rd 65000:1",
            "interface Loopback7\n vrf forwarding BLUE\n ip address 192.0.2.7 255.255.255.255",
            "ntp server 192.0.2.123",
            "snmp-server community labro RO",
            "banner motd ^CAuthorised users only^C",
            "aaa new-model",
        ],
    ),
    "cisco_nxos": (
        [
            "vlan 310",
            "name lab-users",
            "interface Ethernet1/5",
            "description to printer",
            "switchport access vlan 310",
            "vrf context BLUE",
            "interface loopback7",
            "vrf member BLUE",
            "ip address 192.0.2.7/32",
            "ntp server 192.0.2.123",
            "snmp-server community labro ro",
        ],
        [
            "vlan 310\n  name lab-users",
            "interface Ethernet1/5\n  description to printer\n  switchport access vlan 310",
            "vrf context BLUE",
            "interface loopback7\n  no shutdown\n  vrf member BLUE\n  ip address 192.0.2.7/32",
            "ntp server 192.0.2.123",
            "snmp-server community labro group network-operator",
        ],
    ),
    "arista_eos": (
        [
            "vlan 310",
            "name lab-users",
            "interface Ethernet5",
            "description to printer",
            "switchport access vlan 310",
            "vrf instance BLUE",
            "interface Loopback7",
            "vrf BLUE",
            "ip address 192.0.2.7/32",
            "ntp server 192.0.2.123",
            "snmp-server community labro ro",
        ],
        [
            "vlan 310\n   name lab-users",
            "interface Ethernet5\n   description to printer\n   switchport access vlan 310",
            "vrf instance BLUE",
            "interface Loopback7\n   vrf BLUE\n   ip address 192.0.2.7/32",
            "ntp server 192.0.2.123",
            "snmp-server community labro ro",
        ],
    ),
}


@pytest.mark.parametrize("platform", sorted(CISCO_LIKE_CONFIG))
def test_configuration_changes_state_and_save(lab: LabThread, platform: str) -> None:
    device = _device(lab, platform, spare=True)
    commands, expected = CISCO_LIKE_CONFIG[platform]
    conn = netmiko_session(device, enable=False)
    try:
        conn.enable()
        output = conn.send_config_set(commands)
        assert "Invalid" not in output and "% " not in output.replace("% Access VLAN", ""), output
        running = conn.send_command("show running-config")
        for block in expected:
            assert block in running, (platform, block)
        vlans = conn.send_command("show vlan brief" if platform == "cisco_ios" else "show vlan", use_textfsm=True)
        assert {"vlan_id": "310", "vlan_name": "lab-users"}.items() <= next(
            v for v in vlans if v["vlan_id"] == "310"
        ).items()
        assert "310" not in conn.send_command("show startup-config | include vlan 310")
        conn.save_config()
        assert "vlan 310" in conn.send_command("show startup-config")
        # The no forms undo.
        conn.send_config_set(["no vlan 310", "no ntp server 192.0.2.123"])
        running = conn.send_command("show running-config")
        assert "\nvlan 310\n" not in running and "192.0.2.123" not in running
    finally:
        conn.disconnect()


INVALID = {
    "cisco_ios": "% Invalid input detected at '^' marker.",
    "cisco_nxos": "% Invalid command at '^' marker.",
    "arista_eos": "% Invalid input (at token 1: 'fnord')",
    "juniper_junos": "syntax error, expecting <command>.",
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_invalid_command_gives_the_platform_error(lab: LabThread, platform: str) -> None:
    device = _device(lab, platform)
    conn = netmiko_session(device, enable=False)
    try:
        output = conn.send_command("show fnord")
        assert INVALID[platform] in output
        if platform in ("cisco_ios", "cisco_nxos", "juniper_junos"):
            caret = next(line for line in output.splitlines() if line.strip() == "^")
            prompt = conn.find_prompt()
            # The caret stands under "fnord", counting the prompt the command was typed after.
            assert caret.index("^") == len(prompt) + (1 if platform != "cisco_ios" else 0) + len("show ")
    finally:
        conn.disconnect()


@pytest.mark.parametrize("platform", ["cisco_ios", "cisco_nxos", "arista_eos"])
def test_hostname_change_changes_prompt(lab: LabThread, platform: str) -> None:
    device = _device(lab, platform, spare=True)
    conn = netmiko_session(device, enable=False)
    try:
        conn.enable()
        conn.config_mode()
        new = f"renamed-{platform.split('_')[1]}"
        conn.write_channel(f"hostname {new}\n")
        conn.read_until_pattern(pattern=rf"{new}\(config\)# ?$")
        conn.write_channel("end\n")
        conn.read_until_pattern(pattern=rf"{new}# ?$")
        conn.set_base_prompt()
        assert conn.find_prompt() == f"{new}#"
        conn.send_config_set([f"hostname {device.name}"])
    finally:
        conn.disconnect()


def test_junos_set_commit_rollback_compare(lab: LabThread) -> None:
    device = _device(lab, "juniper_junos", spare=True)
    conn = netmiko_session(device, enable=False)
    try:
        conn.send_config_set(
            [
                "set vlans users vlan-id 310",
                "set interfaces ge-0/0/5 description to-printer",
                "set interfaces ge-0/0/5 unit 0 family ethernet-switching vlan members users",
                "set system ntp server 192.0.2.123",
            ],
            exit_config_mode=False,
        )
        compare = conn.send_command("show | compare", expect_string=r"#")
        assert "+   vlan-id 310;" in compare
        assert "commit complete" in conn.commit()
        conn.exit_config_mode()
        assert "set vlans users vlan-id 310" in conn.send_command("show configuration | display set")
        curly = conn.send_command("show configuration interfaces ge-0/0/5")
        assert "description to-printer;" in curly
        vlans = conn.send_command("show vlans")
        assert "users" in vlans and "ge-0/0/5.0*" in vlans
        # delete + rollback 1 brings the committed VLAN back into the candidate.
        conn.send_config_set(["delete vlans users", "commit", "rollback 1", "commit"], exit_config_mode=False)
        conn.exit_config_mode()
        assert "vlan-id 310" in conn.send_command("show configuration vlans")
        error = conn.send_config_set(["set fnord 1"], exit_config_mode=False)
        assert "syntax error." in error
        conn.exit_config_mode()
        # A committed host name changes the prompt.
        conn.send_config_set(["set system host-name junos-renamed"], exit_config_mode=False)
        conn.write_channel("commit and-quit\n")
        conn.read_until_pattern(pattern=r"admin@junos-renamed> $")
        conn.set_base_prompt()
        assert conn.find_prompt() == "admin@junos-renamed>"
    finally:
        conn.disconnect()
