"""The lab's configuration commands that compliance checks and their remediations use, over real
SSH with unmodified netmiko: each family is configured, seen in the running configuration as the
platform prints it, and removed again (``no ...``, ``delete ...``). The state that holds them
is copied (startup-config, Junos candidates) and saved to the state file with everything else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

netmiko = pytest.importorskip("netmiko")

from nettui.lab import LabDevice, LabThread, run_lab_in_thread  # noqa: E402
from nettui.lab.state import DeviceState  # noqa: E402
from tests.lab_cli import apply_config, netmiko_session, running_config  # noqa: E402

pytestmark = pytest.mark.slow

PLATFORMS = ["cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos"]
TACACS = "group tacacs+"


@dataclass
class Family:
    """One command family: what to send, what ``show running-config`` then holds, how to undo it."""

    platform: str
    name: str
    configure: list[str]
    shown: list[str]  # blocks (lines joined by new lines) that must be in the configuration
    remove: list[str]
    gone: list[str] = field(default_factory=list)  # what must not be there afterwards (default: shown)
    before: list[str] = field(default_factory=list)  # what is there out of the box instead


FAMILIES = [
    # -- IOS -----------------------------------------------------------------------------------
    Family(
        "cisco_ios",
        "banner",
        ["banner login ^CAuthorised staff only^C", "banner motd ^CMaintenance on Sunday^C"],
        ["banner login ^CAuthorised staff only^C\nbanner motd ^CMaintenance on Sunday^C\n!"],
        ["no banner login", "no banner motd"],
        ["banner login", "banner motd"],
    ),
    Family(
        "cisco_ios",
        "aaa",
        [
            "aaa new-model",
            f"aaa authentication login default {TACACS} local",
            f"aaa authorization exec default {TACACS} local",
            f"aaa accounting exec default start-stop {TACACS}",
            f"aaa accounting commands 15 default start-stop {TACACS}",
            f"aaa authentication login default {TACACS} local",  # again: replaces, not added
        ],
        [
            "aaa new-model\n!\n!\n"
            f"aaa authentication login default {TACACS} local\n"
            f"aaa authorization exec default {TACACS} local\n"
            f"aaa accounting exec default start-stop {TACACS}\n"
            f"aaa accounting commands 15 default start-stop {TACACS}\n"
        ],
        ["no aaa accounting commands 15 default", "no aaa new-model"],
        ["\naaa new-model", "aaa authentication", "aaa accounting"],
        ["no aaa new-model"],
    ),
    Family(
        "cisco_ios",
        "ssh and vty lines",
        ["no ip ssh version", "line vty 0 15", "transport input telnet ssh", "exit"],
        ["line vty 0 4\n transport input telnet ssh\nline vty 5 15\n transport input telnet ssh\n"],
        ["ip ssh version 2", "line vty 0 4", "transport input ssh", "line vty 5 15", "no transport input"],
        ["transport input telnet", "line vty 5 15\n transport"],
        ["ip ssh version 2\n", "line vty 0 4\n transport input ssh\nline vty 5 15\n transport input ssh\n"],
    ),
    Family(
        "cisco_ios",
        "users",
        ["username netops privilege 15 secret N3tops-Secret", "username audit password Aud1t-Pw"],
        ["username netops privilege 15 secret 9 $9$", "username audit password 7 "],
        ["no username netops", "no username audit"],
        ["username netops", "username audit"],
    ),
    Family(
        "cisco_ios",
        "snmp",
        ["snmp-server community public RO", "snmp-server location Berlin DC1", "snmp-server contact noc@example.net"],
        ["snmp-server community public RO\nsnmp-server location Berlin DC1\nsnmp-server contact noc@example.net\n"],
        ["no snmp-server community public", "no snmp-server location", "no snmp-server contact"],
        ["snmp-server"],
    ),
    Family(
        "cisco_ios",
        "ntp",
        ["ntp server 192.0.2.1", "ntp source Loopback0"],
        ["ntp source Loopback0\nntp server 192.0.2.1\n"],
        ["no ntp server 192.0.2.1", "no ntp source"],
        ["ntp "],
    ),
    # -- NX-OS ---------------------------------------------------------------------------------
    Family(
        "cisco_nxos",
        "features",
        ["feature telnet", "feature tacacs+"],
        ["feature telnet\nfeature tacacs+\nfeature interface-vlan\nfeature lldp\n"],
        ["no feature telnet", "no feature tacacs+"],
        ["feature telnet", "feature tacacs+"],
    ),
    Family(
        "cisco_nxos",
        "aaa",
        [
            f"aaa authentication login default {TACACS}",
            f"aaa authorization commands default {TACACS} local",
            f"aaa accounting default {TACACS}",
        ],
        [
            f"aaa authentication login default {TACACS}\n"
            f"aaa authorization commands default {TACACS} local\n"
            f"aaa accounting default {TACACS}\n"
        ],
        [
            f"no aaa authentication login default {TACACS}",
            "no aaa authorization commands default",
            "no aaa accounting default",
        ],
        ["aaa "],
    ),
    Family(
        "cisco_nxos",
        "banner",
        ["banner motd #Authorised staff only#"],
        ["banner motd #Authorised staff only#\n"],
        ["no banner motd"],
        ["banner motd"],
    ),
    Family(
        "cisco_nxos",
        "ntp use-vrf",
        ["ntp server 192.0.2.1", "ntp server 192.0.2.2 use-vrf default", "ntp server 192.0.2.3 use-vrf management"],
        ["ntp server 192.0.2.1\nntp server 192.0.2.2 use-vrf default\nntp server 192.0.2.3 use-vrf management\n"],
        ["no ntp server 192.0.2.1", "no ntp server 192.0.2.2", "no ntp server 192.0.2.3 use-vrf management"],
        ["ntp server"],
    ),
    Family(
        "cisco_nxos",
        "snmp and users",
        [
            "snmp-server community private group network-admin",
            "snmp-server contact noc@example.net",
            "snmp-server location Berlin DC1",
            "username netops password N3tops-Pw role network-admin",
        ],
        [
            "snmp-server contact noc@example.net\nsnmp-server location Berlin DC1\n"
            "snmp-server community private group network-admin\n",
            "username netops password 5 $5$",
            "  role network-admin\n",
        ],
        ["no snmp-server community private", "no snmp-server contact", "no snmp-server location", "no username netops"],
        ["snmp-server", "username netops"],
    ),
    # -- EOS -----------------------------------------------------------------------------------
    Family(
        "arista_eos",
        "management telnet",
        ["management telnet", "no shutdown", "exit"],
        ["management telnet\n   no shutdown\n"],
        ["no management telnet"],
        ["management telnet"],
    ),
    Family(
        "arista_eos",
        "aaa",
        [
            f"aaa authentication login default {TACACS} local",
            f"aaa authorization exec default {TACACS} local",
            f"aaa authorization commands all default {TACACS} local",
            f"aaa accounting exec default start-stop {TACACS}",
            f"aaa accounting commands all default start-stop {TACACS}",
        ],
        [
            f"aaa authentication login default {TACACS} local\n"
            f"aaa authorization exec default {TACACS} local\n"
            f"aaa authorization commands all default {TACACS} local\n"
            f"aaa accounting exec default start-stop {TACACS}\n"
            f"aaa accounting commands all default start-stop {TACACS}\n!\nno aaa root\n"
        ],
        [
            "no aaa authentication login default",
            "no aaa authorization exec default",
            "no aaa authorization commands all default",
            "no aaa accounting exec default",
            "no aaa accounting commands all default",
        ],
        ["aaa authentication", "aaa authorization", "aaa accounting"],
    ),
    Family(
        "arista_eos",
        "banner",
        ["banner login", "Authorised staff only", "EOF"],
        ["banner login\nAuthorised staff only\nEOF\n!\n"],
        ["no banner login"],
        ["banner login"],
    ),
    Family(
        "arista_eos",
        "snmp and users",
        [
            "snmp-server community public ro",
            "snmp-server contact noc@example.net",
            "snmp-server location Berlin DC1",
            "username netops privilege 15 secret N3tops-Secret",
        ],
        [
            "snmp-server community public ro\nsnmp-server contact noc@example.net\nsnmp-server location Berlin DC1\n",
            "username netops privilege 15 secret sha512 $6$",
        ],
        ["no snmp-server community public", "no snmp-server contact", "no snmp-server location", "no username netops"],
        ["snmp-server", "username netops"],
    ),
    # -- Junos ---------------------------------------------------------------------------------
    Family(
        "juniper_junos",
        "login message",
        ['set system login message "Authorised staff only"'],
        ['set system login message "Authorised staff only"'],
        ["delete system login message"],
    ),
    Family(
        "juniper_junos",
        "services",
        ["set system services telnet", "set system services ssh root-login deny"],
        ["set system services telnet\nset system services ssh root-login deny"],
        ["delete system services telnet", "delete system services ssh root-login"],
        ["telnet", "root-login"],
        # A container with something inside is not printed on its own line.
        ["set system services ssh\n"],
    ),
    Family(
        "juniper_junos",
        "aaa",
        [
            "set system authentication-order [ tacplus password ]",
            "set system accounting events [ login change-log interactive-commands ]",
            "set system accounting destination tacplus",
        ],
        [
            "set system authentication-order [ tacplus password ]",
            "set system accounting events [ login change-log interactive-commands ]\n"
            "set system accounting destination tacplus",
        ],
        ["delete system authentication-order", "delete system accounting"],
        ["authentication-order", "accounting"],
    ),
]


def _id(family: Family) -> str:
    return f"{family.platform}-{family.name.replace(' ', '-')}"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    per_platform = max(sum(1 for f in FAMILIES if f.platform == p) for p in PLATFORMS)
    with run_lab_in_thread(
        devices=per_platform * len(PLATFORMS), platforms=PLATFORMS, password="cfg-pw", enable_secret="cfg-en"
    ) as handle:
        yield handle


def _device_for(lab: LabThread, family: Family) -> LabDevice:
    """A device of the family's platform that no other family uses."""
    same = [f for f in FAMILIES if f.platform == family.platform]
    return [d for d in lab.devices if d.platform_name == family.platform][same.index(family)]


@pytest.mark.parametrize("family", FAMILIES, ids=_id)
def test_configure_show_and_remove(lab: LabThread, family: Family) -> None:
    device = _device_for(lab, family)
    conn = netmiko_session(device)
    try:
        before = running_config(conn, family.platform)
        for block in family.before:
            assert block in before, (block, before)
        output = apply_config(conn, family.platform, family.configure)
        for rejection in ("% Invalid", "% Incomplete", "syntax error", "error:"):
            assert rejection not in output, output
        shown = running_config(conn, family.platform)
        for block in family.shown:
            assert block in shown, (block, shown)
        apply_config(conn, family.platform, family.remove)
        after = running_config(conn, family.platform)
        for text in family.gone or family.shown:
            assert text not in after, (text, after)
    finally:
        conn.disconnect()
    # No password reaches the running configuration or the state file, only hashes.
    state = json.dumps(lab.device(device.name).state.to_json())
    for secret in ("N3tops-Secret", "N3tops-Pw", "Aud1t-Pw"):
        assert secret not in shown and secret not in state


def test_new_configuration_is_copied_and_saved(lab: LabThread) -> None:
    """startup-config and Junos candidates are independent copies; the state file keeps it all."""
    family = FAMILIES[0]
    device = _device_for(lab, family)
    conn = netmiko_session(device)
    try:
        apply_config(
            conn,
            "cisco_ios",
            [
                "banner login ^CSaved banner^C",
                "aaa new-model",
                f"aaa authentication login default {TACACS} local",
                "line vty 0 4",
                "transport input none",
                "end",
            ],
        )
        conn.save_config()
        apply_config(
            conn, "cisco_ios", ["no banner login", "no aaa new-model", "line vty 0 4", "transport input ssh", "end"]
        )
        startup = str(conn.send_command("show startup-config"))
        running = running_config(conn, "cisco_ios")
    finally:
        conn.disconnect()
    assert "banner login ^CSaved banner^C" in startup and "banner login" not in running
    assert f"aaa authentication login default {TACACS} local" in startup and "aaa authentication" not in running
    assert "line vty 0 4\n transport input none" in startup and "line vty 0 4\n transport input ssh" in running

    state = lab.device(device.name).state
    restored = DeviceState.from_json(json.loads(json.dumps(state.to_json())))
    assert restored.startup is not None and state.startup is not None
    assert restored.startup == state.startup and restored.config == state.config
    assert restored.startup.banner_login == "Saved banner"
    assert restored.startup.vty_transport == {"0 4": "none", "5 15": "ssh"}
    copied = state.startup.copy()
    copied.aaa_lines.append("aaa accounting exec default start-stop group tacacs+")
    copied.vty_transport["5 15"] = "all"
    copied.users["x"] = "privilege 1"
    copied.features.append("telnet")
    assert state.startup.aaa_lines == [f"aaa authentication login default {TACACS} local"]
    assert state.startup.vty_transport["5 15"] == "ssh" and not state.startup.users and not state.startup.features
