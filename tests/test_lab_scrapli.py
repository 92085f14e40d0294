"""scrapli (the 2026 FFI release) against the lab: on_open setup, show commands, configuration, failures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

scrapli = pytest.importorskip("scrapli")

from nettui.lab import LabDevice, LabThread, run_lab_in_thread  # noqa: E402

pytestmark = pytest.mark.slow

DEFINITIONS = {
    "cisco_ios": "cisco_iosxe",
    "cisco_nxos": "cisco_nxos",
    "arista_eos": "arista_eos",
    "juniper_junos": "juniper_junos",
}
SHOWS = {
    "cisco_ios": [
        "show version",
        "show running-config",
        "show startup-config",
        "show ip interface brief",
        "show interfaces status",
        "show vlan brief",
        "show lldp neighbors detail",
        "show inventory",
        "dir",
    ],
    "cisco_nxos": [
        "show version",
        "show running-config",
        "show interface status",
        "show ip interface brief",
        "show vlan brief",
        "show lldp neighbors detail",
        "show inventory",
        "dir",
    ],
    "arista_eos": [
        "show version",
        "show running-config",
        "show interfaces status",
        "show ip interface brief",
        "show vlan",
        "show lldp neighbors detail",
        "show inventory",
        "dir",
    ],
    "juniper_junos": [
        "show version",
        "show configuration",
        "show configuration | display set",
        "show interfaces terse",
        "show vlans",
        "show lldp neighbors",
        "show chassis hardware",
    ],
}
CONFIG = {
    "cisco_ios": (
        ["vlan 420", "name scrapli-vlan", "interface Gi1/0/9", "description via scrapli"],
        "show running-config",
    ),
    "cisco_nxos": (
        ["vlan 420", "name scrapli-vlan", "interface Ethernet1/9", "description via scrapli"],
        "show running-config",
    ),
    "arista_eos": (
        ["vlan 420", "name scrapli-vlan", "interface Ethernet9", "description via scrapli"],
        "show running-config",
    ),
    "juniper_junos": (
        ["set vlans scrapli-vlan vlan-id 420", 'set interfaces ge-0/0/9 description "via scrapli"', "commit"],
        "show configuration | display set",
    ),
}


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=4, platforms=list(DEFINITIONS), password="pw-scr", enable_secret="en-scr") as handle:
        yield handle


# libscrapli's I/O thread can log once more after close() returned, through the Cli's ctypes
# callback: the Cli objects are kept until the module ends (see drivers/scrapli_provider.py).
_KEEP_ALIVE: list[scrapli.Cli] = []


def _cli(device: LabDevice, transport: str = "ssh2") -> scrapli.Cli:
    options = scrapli.TransportSsh2Options() if transport == "ssh2" else scrapli.TransportBinOptions()
    cli = scrapli.Cli(
        host=device.host,
        port=device.port,
        definition_file_or_name=DEFINITIONS[device.platform_name],
        auth_options=scrapli.AuthOptions(
            username=device.username,
            password=device.password,
            lookups=[scrapli.LookupKeyValue("enable", device.enable_secret)],
        ),
        session_options=scrapli.SessionOptions(operation_timeout_s=15),
        transport_options=options,
    )
    _KEEP_ALIVE.append(cli)
    return cli


@pytest.mark.parametrize("platform", list(DEFINITIONS))
def test_scrapli_show_config_and_failure(lab: LabThread, platform: str) -> None:
    device = next(d for d in lab.devices if d.platform_name == platform)
    with _cli(device) as cli:
        for command in SHOWS[platform]:
            result = cli.send_input(command)
            assert not result.failed, (platform, command, result.result)
            assert result.result.strip(), (platform, command)
        version = cli.send_input("show version").result
        assert device.state.version in version
        commands, show = CONFIG[platform]
        result = cli.send_inputs(commands, requested_mode="configuration")
        assert not result.failed, result.result
        text = cli.send_input(show).result
        assert "scrapli-vlan" in text and "via scrapli" in text
        assert cli.send_input("show fnord").failed


@pytest.mark.parametrize("platform", ["cisco_ios", "juniper_junos"])
def test_scrapli_through_openssh_binary(lab: LabThread, platform: str) -> None:
    device = next(d for d in lab.devices if d.platform_name == platform)
    with _cli(device, transport="bin") as cli:
        assert not cli.send_input("show version").failed
