"""Cisco IOS-XE (a Catalyst 9300): prompts, errors and show output in IOS-XE 17 formats.

The show output follows real devices closely enough for ntc-templates to parse it
(``show version``, ``show ip interface brief``, ``show interfaces status``, ``show vlan``,
``show lldp neighbors detail``, ``show inventory``); the tests check that.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from typing import TYPE_CHECKING, ClassVar

from nettui.lab.platforms.base import FileProblem, FileSystem, Response, Route
from nettui.lab.platforms.cisco_common import CiscoLikePlatform, Handler, colon_mac
from nettui.lab.state import DeviceConfig, DeviceState, Interface

if TYPE_CHECKING:
    from nettui.lab.device import CliSession

__all__ = ["CiscoIos"]


def _secret_hash(text: str) -> str:
    # A stable stand-in for a type-9 hash: never the secret itself.
    return "$9$" + hashlib.sha256(text.encode()).hexdigest()[:40]


def _ios_version_long(version: str) -> str:
    """``17.09.04a`` -> ``17.9.4a`` (the classic IOS line prints it without leading zeros)."""
    parts = version.split(".")
    out = []
    for part in parts:
        digits = part.lstrip("0") or "0"
        out.append(digits if part[:1].isdigit() else part)
    return ".".join(out)


class CiscoIos(CiscoLikePlatform):
    """IOS-XE on a Catalyst 9300-24P."""

    name = "cisco_ios"
    manufacturer = "Cisco"
    default_model = "C9300-24P"
    default_version = "17.09.04a"
    netmiko_device_type = "cisco_ios"
    scrapli_definition = "cisco_iosxe"
    interface_types: ClassVar[list[tuple[str, str, bool]]] = [
        ("GigabitEthernet", "Gi", False),
        ("TenGigabitEthernet", "Te", False),
        ("FastEthernet", "Fa", False),
        ("Loopback", "Lo", True),
        ("Vlan", "Vl", True),
        ("Port-channel", "Po", True),
    ]
    serial_prefix = "FOC"
    mac_oui = "001e.14"
    has_aaa_new_model = True
    route_mask_dotted = True
    # A Catalyst 9300's flash: (bootflash: is another name for it); the software takes what
    # is not listed, so that a factory-fresh switch shows the free space a real one does.
    file_systems = (
        FileSystem("flash:", 11_353_194_496, 1_508_605_952, aliases=("flash:/", "bootflash:", "bootflash:/")),
    )

    def config_commands(self) -> list[tuple[str, Handler]]:
        """IOS also configures SSH and its terminal lines."""
        return [
            *super().config_commands(),
            ("ip ssh version <version:1|2>", self.c_ssh_version),
            ("no ip ssh version", self.c_no_ssh_version),
            ("no ip ssh version <version:1|2>", self.c_no_ssh_version),
            ("line vty <first> <last>", self.c_line_vty),
            ("line vty <first>", self.c_line_vty),
            ("line con 0", self.c_line_other),
            ("line console 0", self.c_line_other),
        ]

    def extra_sub_modes(self) -> dict[str, list[tuple[str, Handler]]]:
        """``line vty 0 4`` takes the line's own commands."""
        return {
            "config-line": [
                ("transport input <protocols...>", self.l_transport),
                ("no transport input", self.l_no_transport),
                ("no transport input <protocols...>", self.l_no_transport),
                ("login", self.i_noop),
                ("login local", self.i_noop),
                ("login authentication <list>", self.i_noop),
                ("exec-timeout <minutes>", self.i_noop),
                ("exec-timeout <minutes> <seconds>", self.i_noop),
                ("stopbits <n>", self.i_noop),
                ("exit", self.c_exit),
                ("end", self.c_end),
            ]
        }

    def c_ssh_version(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).ssh_version = int(a["version"])
        return Response()

    def c_no_ssh_version(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).ssh_version = None
        return Response()

    def c_line_vty(self, s: CliSession, a: dict[str, str]) -> Response:
        """``line vty A [B]``: the command applies to every configured range it overlaps."""
        first, last = a["first"], a.get("last", a["first"])
        line = f"line vty {first} {last}"
        if not (first.isdigit() and last.isdigit() and int(first) <= int(last) <= 15):
            return self.invalid(s, line, 2 if not first.isdigit() or int(first) > 15 else 3, False)
        ranges = [
            key
            for key in self.cfg(s).vty_transport
            if int(key.split()[0]) <= int(last) and int(first) <= int(key.split()[-1])
        ]
        s.mode, s.context = "config-line", ",".join(ranges)
        return Response()

    def c_line_other(self, s: CliSession, a: dict[str, str]) -> Response:
        s.mode, s.context = "config-line", ""
        return Response()

    _TRANSPORTS = frozenset(("ssh", "telnet", "all", "none"))

    def l_transport(self, s: CliSession, a: dict[str, str]) -> Response:
        words = [w.lower() for w in a["protocols"].split()]
        line = f"transport input {a['protocols']}"
        for index, word in enumerate(words):
            if word not in self._TRANSPORTS or (word in ("all", "none") and len(words) > 1):
                return self.invalid(s, line, 2 + index, False)
        value = " ".join(sorted(set(words), key=("telnet", "ssh", "all", "none").index))
        config = self.cfg(s)
        for key in (s.context or "").split(","):
            if key in config.vty_transport:
                config.vty_transport[key] = value
        return Response()

    def l_no_transport(self, s: CliSession, a: dict[str, str]) -> Response:
        config = self.cfg(s)
        for key in (s.context or "").split(","):
            if key in config.vty_transport:
                config.vty_transport[key] = ""  # no transport input line: the default
        return Response()

    def exec_commands(self) -> list[tuple[str, Handler]]:
        """IOS-XE also installs software in install mode."""
        return [
            *super().exec_commands(),
            ("install add file <path> activate commit", self.x_install),
            ("install add file <path> activate commit prompt-level none", self.x_install_no_prompt),
        ]

    def x_install_no_prompt(self, s: CliSession, a: dict[str, str]) -> Response:
        """``install add file flash:X activate commit prompt-level none``: no question asked."""
        return self.x_install(s, a, ask=False)

    def x_install(self, s: CliSession, a: dict[str, str], ask: bool = True) -> Response:
        """``install add file flash:X activate commit``: asks, then reloads into the new version."""
        path = a["path"]
        try:
            key = self.existing_file(s.state, path)
        except FileProblem as exc:
            return Response(f"FAILED: install_add_activate_commit : {path}: {exc.reason}")
        version = self.version_from_image(key)
        if version is None:
            return Response(f"FAILED: install_add_activate_commit : {path} is not a valid IOS-XE image")
        started = (
            "install_add_activate_commit: START\n"
            f"install_add_activate_commit: Adding PACKAGE\n--- Starting initial file syncing ---\n"
            f"Info: Finished copying {path} to the selected switch(es)\nFinished initial file syncing\n"
            "install_add_activate_commit: Activating PACKAGE\n"
        )

        def answer(session: CliSession, reply: str) -> Response:
            if reply.strip().lower() not in ("y", "yes"):
                return Response("install_add_activate_commit: Aborted by user")
            session.state.installed_version = version
            session.state.boot_image = key
            return Response("--- Starting Commit ---\nFinished Commit\nReloading", prompt=False, reload=True)

        if not ask:
            response = answer(s, "y")
            response.output = started + response.output
            return response
        s.data["confirm"] = answer
        return Response(
            started + "This operation may require a reload of the system. Do you want to proceed? [y/n]",
            prompt=False,
        )

    def physical_ports(self, count: int) -> list[tuple[str, str]]:
        """Gi1/0/1 .. Gi1/0/N."""
        return [(f"GigabitEthernet1/0/{n}", "1000") for n in range(1, count + 1)]

    def system_description(self) -> str:
        """The LLDP system description (the first line of ``show version``'s IOS banner)."""
        return (
            "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), "
            f"Version {_ios_version_long(self.default_version)}, RELEASE SOFTWARE (fc3)"
        )

    def default_image(self) -> str:
        """IOS-XE boots ``packages.conf`` in install mode; the bundle is on flash too."""
        return f"flash:cat9k_iosxe.{self.default_version}.SPA.bin"

    def invalid(self, session: CliSession, line: str, index: int, incomplete: bool) -> Response:
        """``% Invalid input detected at '^' marker.`` under the offending word."""
        line = session.data.get("line", line)
        if incomplete:
            return Response("% Incomplete command.\n")
        return Response(self.caret_line(session, line, index) + "\n% Invalid input detected at '^' marker.\n")

    def reject_message(self, line: str) -> str:
        """What AAA command authorisation says."""
        return "Command authorization failed.\n"

    def handle(self, session: CliSession, line: str) -> Response:
        """Remember the raw line, for caret positions, then run it."""
        session.data["line"] = line
        return super().handle(session, line)

    # -- show output ---------------------------------------------------------------------

    def show_version(self, session: CliSession) -> str:
        """IOS-XE 17 ``show version``."""
        state = session.state
        version = state.installed_version or state.version
        host = self.cfg(session).hostname
        long_version = _ios_version_long(version)
        return f"""Cisco IOS XE Software, Version {version}
{self.system_description().replace(_ios_version_long(self.default_version), long_version)}
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2023 by Cisco Systems, Inc.
Compiled Fri 20-Oct-23 10:44 by mcpre


Cisco IOS-XE software, Copyright (c) 2005-2023 by cisco Systems, Inc.
All rights reserved.  Certain components of Cisco IOS-XE software are
licensed under the GNU General Public License ("GPL") Version 2.0.  The
software code licensed under GPL Version 2.0 is free software that comes
with ABSOLUTELY NO WARRANTY.  You can redistribute and/or modify such
GPL code under the terms of GPL Version 2.0.  For more details, see the
documentation or "License Notice" file accompanying the IOS-XE software,
or the applicable URL provided on the flyer accompanying the IOS-XE
software.


ROM: IOS-XE ROMMON
BOOTLDR: System Bootstrap, Version 17.9.1r, RELEASE SOFTWARE (P)

{host} uptime is {state.uptime()}
Uptime for this control processor is {state.uptime()}
System returned to ROM by Reload Command
System image file is "flash:packages.conf"
Last reload reason: Reload Command



This product contains cryptographic features and is subject to United
States and local country laws governing import, export, transfer and
use. Delivery of Cisco cryptographic products does not imply
third-party authority to import, export, distribute or use encryption.


Technology Package License Information:

------------------------------------------------------------------------------
Technology-package                                     Technology-package
Current                        Type                       Next reboot
------------------------------------------------------------------------------
network-advantage       Smart License                 network-advantage
dna-advantage           Subscription Smart License    dna-advantage


Smart Licensing Status: Smart Licensing Using Policy

cisco {state.model} (X86) processor with 1331521K/6147K bytes of memory.
Processor board ID {state.serial}
1 Virtual Ethernet interface
{self.interface_count} Gigabit Ethernet interfaces
4 Ten Gigabit Ethernet interfaces
2048K bytes of non-volatile configuration memory.
8388608K bytes of physical memory.
1638400K bytes of Crash Files at crashinfo:.
11264000K bytes of Flash at flash:.

Base Ethernet MAC Address          : {colon_mac(state.mac)}
Motherboard Assembly Number        : 73-17956-04
Motherboard Serial Number          : {state.serial}
Model Revision Number              : A0
Motherboard Revision Number        : A0
Model Number                       : {state.model}
System Serial Number               : {state.serial}
CLEI Code Number                   : INM1S00ARA


Switch Ports Model              SW Version        SW Image              Mode
------ ----- -----              ----------        ----------            ----
*    1 {self.interface_count + 4:<5} {state.model:<18} {version:<17} CAT9K_IOSXE           INSTALL


Configuration register is 0x102
"""

    def running_config(self, state: DeviceState, config: DeviceConfig) -> str:
        """``show running-config`` in IOS-XE order, VLANs included (VTP transparent)."""
        out: list[str] = []
        out.append("!")
        out.append(f"version {'.'.join(_ios_version_long(state.installed_version or state.version).split('.')[:2])}")
        out += [
            "service timestamps debug datetime msec",
            "service timestamps log datetime msec",
            "service password-encryption",
            "service call-home",
            "no platform punt-keepalive disable-kernel-core",
            "!",
            f"hostname {config.hostname}",
            "!",
        ]
        if config.boot_system:
            out += [f"boot system {config.boot_system}", "!"]
        for vrf in config.vrfs.values():
            out.append(f"vrf definition {vrf.name}")
            if vrf.rd:
                out.append(f" rd {vrf.rd}")
            out += [" !", " address-family ipv4", " exit-address-family", "!"]
        out += [f"enable secret 9 {_secret_hash('enable' + config.hostname)}", "!"]
        out.append("aaa new-model" if config.aaa_new_model else "no aaa new-model")
        if config.aaa_new_model and config.aaa_lines:
            out += ["!", "!", *self.ordered_aaa(config), "!", "!", "!", "aaa session-id common"]
        out += ["switch 1 provision c9300-24p", "!", "!", "!", f"ip domain name {config.domain_name}", "!"]
        out += ["login on-success log", "vtp mode transparent", "!", "!"]
        login_user = f"username {config.username} privilege 15 secret 9 {_secret_hash(config.username)}"
        out += [
            *self.user_lines(config, login_user),
            "!",
            "redundancy",
            " mode sso",
            "!",
        ]
        for vid in sorted(config.vlans):
            if vid == 1:
                continue
            out.append(f"vlan {vid}")
            if config.vlans[vid] != f"VLAN{vid:04d}":
                out.append(f" name {config.vlans[vid]}")
            out.append("!")
        for iface in self._ordered(config):
            out.append(f"interface {iface.name}")
            out += self._interface_lines(iface)
            out.append("!")
        out += ["ip forward-protocol nd", "no ip http server", "no ip http secure-server"]
        out += [f"ip route {self.static_route_words(r)}" for r in config.static_routes]
        if config.ssh_version is not None:
            out.append(f"ip ssh version {config.ssh_version}")
        out.append("!")
        for community, mode in config.snmp_communities.items():
            acl = config.snmp_acls.get(community)
            out.append(f"snmp-server community {community} {mode}{' ' + acl if acl else ''}")
        out += self.snmp_info_lines(config)
        if config.snmp_communities or config.snmp_location is not None or config.snmp_contact is not None:
            out.append("!")
        if config.banner_login is not None:
            out.append(f"banner login ^C{config.banner_login}^C")
        if config.banner_motd is not None:
            out.append(f"banner motd ^C{config.banner_motd}^C")
        if config.banner_login is not None or config.banner_motd is not None:
            out.append("!")
        out += ["line con 0", " stopbits 1"]
        for key, transport in config.vty_transport.items():
            out.append(f"line vty {key}")
            if transport:
                out.append(f" transport input {transport}")
        out.append("!")
        if config.ntp_source:
            out.append(f"ntp source {config.ntp_source}")
        for server in config.ntp_servers:
            server_vrf = config.ntp_vrfs.get(server)
            out.append(f"ntp server {'vrf ' + server_vrf + ' ' if server_vrf else ''}{server}")
        out.append("!")
        out.append("end")
        body = "\n".join(out) + "\n"
        stamp = time.strftime("%H:%M:%S UTC %a %b %d %Y", time.gmtime())
        header = (
            "Building configuration...\n\n"
            f"Current configuration : {len(body)} bytes\n!\n"
            f"! Last configuration change at {stamp} by {config.username}\n"
        )
        return header + body

    def startup_config(self, state: DeviceState, config: DeviceConfig) -> str:
        """``show startup-config``: the saved configuration, with IOS's header."""
        text = self.running_config(state, config)
        body = text.split("!\n", 1)[1]
        return f"Using {len(body)} out of 2097152 bytes\n!\n" + body

    def _ordered(self, config: DeviceConfig) -> list[Interface]:
        # IOS lists the management port, physical ports, then logical interfaces by type.
        def key(iface: Interface) -> tuple[int, str]:
            if iface.name == self.mgmt_interface:
                return (1, "")
            if iface.physical:
                return (2, "")
            return (3 if iface.name.startswith("Port") else 4 if iface.name.startswith("Loop") else 5, iface.name)

        return sorted(config.interfaces.values(), key=key)

    def _interface_lines(self, iface: Interface) -> list[str]:
        out: list[str] = []
        if iface.description:
            out.append(f" description {iface.description}")
        if iface.physical and iface.name != self.mgmt_interface:
            if iface.switchport:
                if iface.access_vlan != 1:
                    out.append(f" switchport access vlan {iface.access_vlan}")
                if iface.native_vlan != 1:
                    out.append(f" switchport trunk native vlan {iface.native_vlan}")
                if iface.trunk_allowed != "1-4094":
                    out.append(f" switchport trunk allowed vlan {iface.trunk_allowed or 'none'}")
                if iface.mode == "trunk":
                    out.append(" switchport mode trunk")
                elif iface.mode == "access" and (iface.access_vlan != 1 or iface.description):
                    out.append(" switchport mode access")
            else:
                out.append(" no switchport")
        if iface.vrf:
            out.append(f" vrf forwarding {iface.vrf}")
        if not iface.switchport or not iface.physical or iface.name == self.mgmt_interface:
            pair = iface.ipv4_address_mask()
            out.append(f" ip address {pair[0]} {pair[1]}" if pair else " no ip address")
        if iface.shutdown:
            out.append(" shutdown")
        if iface.name == self.mgmt_interface:
            out.append(" negotiation auto")
        return out

    def show_ip_interface_brief(self, session: CliSession) -> str:
        """``show ip interface brief``."""
        config = self.cfg(session)
        neighbors = self.neighbor_ports(session)
        lines = ["Interface              IP-Address      OK? Method Status                Protocol"]
        for iface in self._ordered(config):
            if iface.switchport and iface.physical and iface.name != self.mgmt_interface:
                address = "unassigned"
            else:
                address = iface.ipv4.split("/")[0] if iface.ipv4 else "unassigned"
            up = self.is_connected(session.state, iface, neighbors)
            status = "administratively down" if iface.shutdown else ("up" if up else "down")
            method = "NVRAM" if iface.ipv4 else "unset"
            lines.append(f"{iface.name:<23}{address:<16}YES {method:<7}{status:<22}{'up' if up else 'down'}")
        return "\n".join(lines)

    def show_interfaces_status(self, session: CliSession) -> str:
        """``show interfaces status``."""
        config = self.cfg(session)
        neighbors = self.neighbor_ports(session)
        lines = ["", "Port         Name               Status       Vlan       Duplex  Speed Type"]
        for iface in config.interfaces.values():
            if not iface.physical:
                continue
            up = self.is_connected(session.state, iface, neighbors)
            status = "disabled" if iface.shutdown else ("connected" if up else "notconnect")
            if iface.name == self.mgmt_interface or not iface.switchport:
                vlan = "routed"
            else:
                vlan = "trunk" if iface.mode == "trunk" else str(iface.access_vlan)
            duplex, speed = ("a-full", "a-1000") if up else ("auto", "auto")
            kind = "RJ45" if iface.name == self.mgmt_interface else "10/100/1000BaseTX"
            lines.append(
                f"{self.short_name(iface.name):<13}{iface.description[:18]:<19}{status:<13}{vlan:<11}"
                f"{duplex:>6} {speed:>6} {kind}"
            )
        return "\n".join(lines)

    def show_vlan(self, session: CliSession, brief: bool) -> str:
        """``show vlan brief`` and ``show vlan`` (with its second table)."""
        config = self.cfg(session)
        ports = self.access_ports_by_vlan(config)
        lines = [
            "",
            "VLAN Name                             Status    Ports",
            "---- -------------------------------- --------- -------------------------------",
        ]
        reserved = {1002: "fddi-default", 1003: "token-ring-default", 1004: "fddinet-default", 1005: "trnet-default"}
        for vid in sorted(set(config.vlans) | set(reserved)):
            name = config.vlans.get(vid) or reserved[vid]
            status = "act/unsup" if vid in reserved else "active"
            members = ports.get(vid, [])
            chunks = [", ".join(members[i : i + 4]) for i in range(0, len(members), 4)] or [""]
            for index, chunk in enumerate(chunks):
                if index == 0:
                    lines.append(f"{vid:<4} {name:<32} {status:<9} {chunk}".rstrip())
                else:
                    lines.append(f"{'':<48}{chunk}")
        if not brief:
            lines += [
                "",
                "VLAN Type  SAID       MTU   Parent RingNo BridgeNo Stp  BrdgMode Trans1 Trans2",
                "---- ----- ---------- ----- ------ ------ -------- ---- -------- ------ ------",
            ]
            for vid in sorted(set(config.vlans) | set(reserved)):
                kind = {1002: "fddi", 1003: "tr", 1004: "fdnet", 1005: "trnet"}.get(vid, "enet")
                lines.append(
                    f"{vid:<4} {kind:<5} {100000 + vid:<10} 1500  -      -      -        -    -        0      0"
                )
            lines += [
                "",
                "Remote SPAN VLANs",
                "------------------------------------------------------------------------------",
                "",
                "",
                "Primary Secondary Type              Ports",
                "------- --------- ----------------- ------------------------------------------",
            ]
        return "\n".join(lines)

    def show_lldp_neighbors(self, session: CliSession, detail: bool) -> str:
        """``show lldp neighbors [detail]``."""
        neighbors = session.device.neighbors
        if not detail:
            lines = [
                "Capability codes:",
                "    (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device",
                "    (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other",
                "",
                "Device ID           Local Intf     Hold-time  Capability      Port ID",
            ]
            for n in neighbors:
                lines.append(f"{n.name[:20]:<20}{self.short_name(n.local_port):<15}{120:<11}{'B,R':<16}{n.port}")
            lines += ["", f"Total entries displayed: {len(neighbors)}"]
            return "\n".join(lines)
        lines = []
        for n in neighbors:
            lines += [
                "------------------------------------------------",
                f"Local Intf: {self.short_name(n.local_port)}",
                f"Chassis id: {n.chassis_mac}",
                f"Port id: {n.port}",
                f"Port Description: {n.port}",
                f"System Name: {n.name}",
                "",
                "System Description: ",
                n.description,
                "",
                "Time remaining: 105 seconds",
                "System Capabilities: B,R",
                "Enabled Capabilities: B,R",
                "Management Addresses:",
                f"    IP: {n.mgmt_address}",
                "Auto Negotiation - not supported",
                "Physical media capabilities - not advertised",
                "Media Attachment Unit type - not advertised",
                "Vlan ID: - not advertised",
                "",
            ]
        lines += ["", f"Total entries displayed: {len(neighbors)}"]
        return "\n".join(lines)

    def show_ip_route(self, session: CliSession, vrf: str | None) -> str:
        """``show ip route [vrf V]`` in the IOS-XE format: routes under their classful network's
        ``is (variably) subnetted`` line, as the real device groups them."""
        routes = self.routes(session, vrf)
        lines = [f"\nRouting Table: {vrf}"] if vrf else []
        lines.append(_IOS_ROUTE_CODES)
        default = [r for r in routes if r.network.prefixlen == 0 and r.next_hop]
        if default:
            lines.append(f"Gateway of last resort is {default[0].next_hop} to network 0.0.0.0\n")
        else:
            lines.append("Gateway of last resort is not set\n")
        groups: list[tuple[ipaddress.IPv4Network | None, list[Route]]] = []
        for route in routes:
            major = _classful(route.network)
            if groups and groups[-1][0] == major and major is not None:
                groups[-1][1].append(route)
            else:
                groups.append((major, [route]))
        for major, members in groups:
            header = major is not None and not (len(members) == 1 and members[0].network == major)
            if header and major is not None:
                masks = sorted({r.network.prefixlen for r in members})
                count = len({r.network for r in members})
                if len(masks) == 1:
                    text = f"{major.network_address}/{masks[0]} is subnetted, {count} subnets"
                else:
                    text = f"{major} is variably subnetted, {count} subnets, {len(masks)} masks"
                lines.append(f"      {text}")
            width = 9 if header else 6
            previous: ipaddress.IPv4Network | None = None
            for route in members:
                lines.append(self._route_line(route, width, continued=route.network == previous))
                previous = route.network
        return "\n".join(lines) + "\n"

    @staticmethod
    def _route_line(route: Route, width: int, continued: bool) -> str:
        if route.source in ("connected", "local"):
            code = "C" if route.source == "connected" else "L"
            return f"{code:<{width}}{route.network} is directly connected, {route.interface}"
        via = f"[{route.distance}/0] via {route.next_hop}" if route.next_hop else ""
        if continued:
            lead = " " * (width + len(str(route.network)) + 1)
            return f"{lead}{via}" + (f", {route.interface}" if route.interface else "")
        code = "S*" if route.network.prefixlen == 0 else "S"
        if not via:
            return f"{code:<{width}}{route.network} is directly connected, {route.interface}"
        return f"{code:<{width}}{route.network} {via}" + (f", {route.interface}" if route.interface else "")

    def show_inventory(self, session: CliSession) -> str:
        """``show inventory``."""
        state = session.state
        return (
            'NAME: "c93xx Stack", DESCR: "c93xx Stack"\n'
            f"PID: {state.model:<18}, VID: V02  , SN: {state.serial}\n\n"
            f'NAME: "Switch 1", DESCR: "{state.model}"\n'
            f"PID: {state.model:<18}, VID: V02  , SN: {state.serial}\n\n"
            'NAME: "Switch 1 - Power Supply A", DESCR: "Switch 1 - Power Supply A"\n'
            f"PID: PWR-C1-715WAC      , VID: V02  , SN: LIT{state.serial[3:]}\n\n"
            'NAME: "Switch 1 FRU Uplink Module 1", DESCR: "4x10G Uplink Module"\n'
            f"PID: C9300-NM-4G        , VID: V01  , SN: FOC{state.serial[3:]}Z\n"
        )

    def show_interface(self, session: CliSession, iface: Interface) -> str:
        """``show interfaces X``: the first lines of the real thing."""
        up = self.is_connected(session.state, iface, self.neighbor_ports(session))
        status = "administratively down" if iface.shutdown else ("up" if up else "down")
        lines = [
            f"{iface.name} is {status}, line protocol is {'up' if up else 'down'} "
            f"({'connected' if up else 'notconnect'})",
            f"  Hardware is Gigabit Ethernet, address is {session.state.mac} (bia {session.state.mac})",
        ]
        if iface.description:
            lines.append(f"  Description: {iface.description}")
        if iface.ipv4:
            lines.append(f"  Internet address is {iface.ipv4}")
        lines += [
            "  MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec,",
            "     reliability 255/255, txload 1/255, rxload 1/255",
            "  Encapsulation ARPA, loopback not set",
            "  Full-duplex, 1000Mb/s, media type is 10/100/1000BaseTX" if up else "  Auto-duplex, Auto-speed",
            "     0 packets input, 0 bytes, 0 no buffer",
            "     0 packets output, 0 bytes, 0 underruns",
        ]
        return "\n".join(lines)

    def dir_listing(self, session: CliSession, fs: FileSystem, name: str, entries: list[tuple[str, int]]) -> str:
        """``dir flash:`` / ``dir flash:/x.bin``."""
        lines = [f"Directory of {fs.prefix}/{name}", ""]
        for number, (file_name, size) in enumerate(entries, start=1):
            lines.append(f"{number * 1000 + 3:>8}  -rw-{size:>15}  Oct 20 2023 10:44:00 +00:00  {file_name}")
        free = self.free_bytes(session.state, fs)
        lines += ["", f"{fs.total} bytes total ({free} bytes free)"]
        return "\n".join(lines)

    def show_file_systems(self, session: CliSession) -> str:
        """``show file systems``."""
        fs = self.file_systems[0]
        free = self.free_bytes(session.state, fs)
        return f"""File Systems:

       Size(b)       Free(b)      Type  Flags  Prefixes
*  {fs.total:>11}   {free:>11}      disk     rw   flash:
    1651314688    1647255552      disk     rw   crashinfo:
        2097152       2097152     nvram     rw   nvram:
             -             -   network     rw   tftp: scp: http: https: ftp:"""

    def save_output(self) -> str:
        """``write memory``."""
        return "Building configuration...\n[OK]"

    def x_copy_run_start(self, s: CliSession, a: dict[str, str]) -> Response:
        """IOS asks for the destination file name before copying."""

        def confirm(session: CliSession, line: str) -> Response:
            return self.x_write(session, {})

        s.data["confirm"] = confirm
        return Response("Destination filename [startup-config]? ", prompt=False)


_IOS_ROUTE_CODES = """Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP
       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area
       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2
       E1 - OSPF external type 1, E2 - OSPF external type 2, m - OMP
       n - NAT, Ni - NAT inside, No - NAT outside, Nd - NAT DIA
       i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2
       ia - IS-IS inter area, * - candidate default, U - per-user static route
       H - NHRP, G - NHRP registered, g - NHRP registration summary
       o - ODR, P - periodic downloaded static route, l - LISP
       a - application route
       + - replicated route, % - next hop override, p - overrides from PfR
       & - replicated local route overrides by connected
"""


def _classful(network: ipaddress.IPv4Network) -> ipaddress.IPv4Network | None:
    """The classful network a route is listed under (None: a supernet or class D/E)."""
    first = int(network.network_address) >> 24
    length = 8 if first < 128 else 16 if first < 192 else 24 if first < 224 else 0
    if not length or network.prefixlen < length:
        return None
    return ipaddress.IPv4Network(f"{network.network_address}/{length}", strict=False)
