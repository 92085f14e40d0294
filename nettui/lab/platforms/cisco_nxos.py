"""Cisco NX-OS (a Nexus 93180YC-FX): privileged on login, ``vrf context``, two-space config."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from nettui.lab.platforms.base import FileProblem, FileSystem, Response, route_age
from nettui.lab.platforms.cisco_common import CiscoLikePlatform, Handler
from nettui.lab.state import DeviceConfig, DeviceState, Interface, StaticRoute

if TYPE_CHECKING:
    from nettui.lab.device import CliSession

__all__ = ["CiscoNxos"]

# The features NX-OS knows, in the order ``show running-config`` lists them.
_FEATURES = (
    "telnet",
    "nxapi",
    "bash-shell",
    "scp-server",
    "sftp-server",
    "tacacs+",
    "ospf",
    "bgp",
    "pim",
    "udld",
    "interface-vlan",
    "hsrp",
    "lacp",
    "dhcp",
    "vpc",
    "lldp",
)
_DEFAULT_FEATURES = ("interface-vlan", "lldp")  # what a factory-fresh lab switch has on


def _nxos_hash(text: str) -> str:
    import hashlib

    return "$5$LAB$" + hashlib.sha256(f"nettui-lab:{text}".encode()).hexdigest()[:40]


class CiscoNxos(CiscoLikePlatform):
    """NX-OS 10.3 on a Nexus 9300."""

    name = "cisco_nxos"
    manufacturer = "Cisco"
    default_model = "N9K-C93180YC-FX"
    default_version = "10.3(4a)"
    netmiko_device_type = "cisco_nxos"
    scrapli_definition = "cisco_nxos"
    interface_types: ClassVar[list[tuple[str, str, bool]]] = [
        ("Ethernet", "Eth", False),
        ("loopback", "Lo", True),
        ("Vlan", "Vlan", True),
        ("port-channel", "Po", True),
        ("mgmt", "mgmt", False),
    ]
    prompt_space = " "
    serial_prefix = "FDO"
    mac_oui = "00a7.42"
    vrf_command = "vrf context"
    interface_vrf_command = "vrf member"
    starts_privileged = True
    mgmt_vrf = "management"
    mgmt_interface = "mgmt0"
    image_prefix = "bootflash:"
    boot_command = "boot nxos"
    ntp_source_command = "ntp source-interface"
    ntp_keeps_default_vrf = True
    banner_kinds = ("motd",)  # NX-OS has no login banner
    file_systems = (
        FileSystem(
            "bootflash:",
            53_999_287_744,
            3_841_650_688,
            aliases=("bootflash:///", "bootflash://sup-local/", "bootflash:/", "/bootflash/"),
            mount="/bootflash",
        ),
    )

    def physical_ports(self, count: int) -> list[tuple[str, str]]:
        """Ethernet1/1 .. Ethernet1/N."""
        return [(f"Ethernet1/{n}", "10G") for n in range(1, count + 1)]

    def default_image(self) -> str:
        """The NX-OS 64-bit image."""
        return "bootflash:nxos64-cs.10.3.4a.M.bin"

    def version_from_image(self, image: str) -> str | None:
        """``nxos64-cs.10.4.2.F.bin`` -> ``10.4(2)``."""
        name = image.split(":")[-1].lstrip("/")
        parts = name.split(".")
        if len(parts) >= 4 and parts[1].isdigit() and parts[2].isdigit():
            return f"{parts[1]}.{parts[2]}({parts[3]})"
        return None

    def system_description(self) -> str:
        """The LLDP system description."""
        return f"Cisco Nexus Operating System (NX-OS) Software {self.default_version}"

    def default_hostname(self) -> str:
        """NX-OS calls an unnamed device ``switch``."""
        return "switch"

    def invalid(self, session: CliSession, line: str, index: int, incomplete: bool) -> Response:
        """``% Invalid command at '^' marker.``."""
        line = session.data.get("line", line)
        caret = self.caret_line(session, line, index)
        if incomplete:
            return Response(caret + "\n% Incomplete command at '^' marker.\n")
        return Response(caret + "\n% Invalid command at '^' marker.\n")

    def reject_message(self, line: str) -> str:
        """What role-based access control says."""
        return "% Permission denied for the role\n"

    def handle(self, session: CliSession, line: str) -> Response:
        """Remember the raw line, for caret positions, then run it."""
        session.data["line"] = line
        return super().handle(session, line)

    def config_commands(self) -> list[tuple[str, Handler]]:
        """NX-OS turns features on and off."""
        return [
            *super().config_commands(),
            ("feature <name>", self.c_feature),
            ("no feature <name>", self.c_no_feature),
        ]

    def vrf_commands(self) -> list[tuple[str, Handler]]:
        """NX-OS configures a VRF's static routes inside ``vrf context``."""
        return [
            ("ip route <route...>", self.v_ip_route),
            ("no ip route <route...>", self.v_no_ip_route),
            *super().vrf_commands(),
        ]

    def v_ip_route(self, s: CliSession, a: dict[str, str]) -> Response:
        return self.c_ip_route(s, a, vrf=s.context)

    def v_no_ip_route(self, s: CliSession, a: dict[str, str]) -> Response:
        return self.c_no_ip_route(s, a, vrf=s.context)

    def static_route_words(self, route: StaticRoute, with_vrf: bool = False) -> str:
        """NX-OS lists a VRF's routes under ``vrf context``, without the VRF."""
        return super().static_route_words(route, with_vrf=False)

    def no_such_vrf(self, vrf: str) -> str:
        """NX-OS's word for an unknown VRF."""
        return f'% VRF "{vrf}" not found'

    def show_ip_route(self, session: CliSession, vrf: str | None) -> str:
        """``show ip route [vrf V]`` in the NX-OS format (a prefix line, then its ``*via`` lines)."""
        age = route_age(time.time() - session.state.booted_at)
        lines = [
            f'IP Route Table for VRF "{vrf or "default"}"',
            "'*' denotes best ucast next-hop",
            "'**' denotes best mcast next-hop",
            "'[x/y]' denotes [preference/metric]",
            "'%<string>' in via output denotes VRF <string>",
            "",
        ]
        routes = self.routes(session, vrf)
        if not routes:
            lines.append("Route not found")
        previous = None
        for route in routes:
            if route.network != previous:
                count = sum(1 for r in routes if r.network == route.network)
                attached = ", attached" if route.source in ("connected", "local") else ""
                lines.append(f"{route.network}, ubest/mbest: {count}/0{attached}")
                previous = route.network
            if route.source in ("connected", "local"):
                kind = "direct" if route.source == "connected" else "local"
                name = self.short_name(route.interface or "")
                lines.append(f"    *via {route.address}, {name}, [0/0], {age}, {kind}")
            elif route.next_hop and route.interface:
                name = self.short_name(route.interface)
                lines.append(f"    *via {route.next_hop}, {name}, [{route.distance}/0], {age}, static")
            elif route.next_hop:
                lines.append(f"    *via {route.next_hop}, [{route.distance}/0], {age}, static")
            else:
                name = self.short_name(route.interface or "")
                lines.append(f"    *via {name}, [{route.distance}/0], {age}, static")
        return "\n".join(lines) + "\n"

    def c_feature(self, s: CliSession, a: dict[str, str]) -> Response:
        name = a["name"].lower()
        if name not in _FEATURES:
            return self.invalid(s, f"feature {a['name']}", 1, False)
        config = self.cfg(s)
        if name not in _DEFAULT_FEATURES and name not in config.features:
            config.features.append(name)
        return Response()

    def c_no_feature(self, s: CliSession, a: dict[str, str]) -> Response:
        name = a["name"].lower()
        if name not in _FEATURES:
            return self.invalid(s, f"no feature {a['name']}", 2, False)
        config = self.cfg(s)
        if name in config.features:
            config.features.remove(name)
        return Response()

    def feature_lines(self, config: DeviceConfig) -> list[str]:
        """``feature X`` lines, in the order NX-OS prints them."""
        names = sorted({*config.features, *_DEFAULT_FEATURES}, key=_FEATURES.index)
        return [f"feature {name}" for name in names]

    def user_suffix(
        self, privilege: str | None, role: str | None, kind: str | None, value: str, hashed: str | None
    ) -> str:
        """NX-OS keeps a type 5 hash and prints the role last (two spaces before it)."""
        shown = f"password {hashed or '5 ' + _nxos_hash(value)}" if kind else ""
        return f"{shown}  role {role or 'network-operator'}".strip()

    terminal_settings: ClassVar[tuple[str, ...]] = ("monitor", "no monitor", "dont-ask", "session-timeout 0")

    def exec_commands(self) -> list[tuple[str, Handler]]:
        """NX-OS spells a few EXEC commands its own way."""
        return [
            ("show interface brief", self.x_show_int_brief),
            ("show bootvar", self.x_show_boot),
            ("show running-config ntp", self.x_show_running_ntp),
            ("copy running-config startup-config", self.x_copy_run_start),
            *super().exec_commands(),
        ]

    def digest_commands(self) -> list[tuple[str, Handler]]:
        """NX-OS has no ``verify``: ``show file bootflash:x.bin md5sum`` prints the bare digest."""
        return [("show file <path> <algorithm:md5sum|sha256sum|sha512sum>", self.x_show_file_digest)]

    def x_show_file_digest(self, s: CliSession, a: dict[str, str]) -> Response:
        path = a["path"]
        try:
            key = self.existing_file(s.state, path)
        except FileProblem as exc:
            return Response(f"{path}: {exc.reason}")
        return Response(s.state.file_digest(key, a["algorithm"].removesuffix("sum")))

    def dir_error(self, path: str, reason: str) -> str:
        """NX-OS says just that."""
        return reason

    def file_error(self, verb: str, path: str, reason: str) -> str:
        """``No such file or directory`` / ``No space left on device``, as NX-OS words them."""
        return f"{path}: {reason}" if verb != "deleting" else reason

    def configure_message(self) -> str:
        """NX-OS's line on entering configuration mode."""
        return "Enter configuration commands, one per line. End with CNTL/Z."

    def access_vlan_created_message(self, vid: int) -> str:
        """NX-OS creates the VLAN without a word... but warns."""
        return f"Warning: Vlan {vid} does not exist. Creating it."

    def vrf_removed_ip_message(self, interface: str, vrf: str) -> str:
        """NX-OS warns that the L3 configuration was removed."""
        return f"Warning: Deleted all L3 config on interface {interface}"

    # -- show output ---------------------------------------------------------------------

    def show_version(self, session: CliSession) -> str:
        """NX-OS ``show version``."""
        state = session.state
        version = state.installed_version or state.version
        seconds = int(time.time() - state.booted_at)
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        image = state.boot_image or self.default_image()
        return f"""Cisco Nexus Operating System (NX-OS) Software
TAC support: http://www.cisco.com/tac
Documents: http://www.cisco.com/en/US/products/ps9372/tsd_products_support_series_home.html
Copyright (c) 2002-2023, Cisco Systems, Inc. All rights reserved.
The copyrights to certain works contained herein are owned by
other third parties and are used and distributed under license.
Some parts of this software are covered under the GNU Public
License. A copy of the license is available at
http://www.gnu.org/licenses/gpl.html.

Software
  BIOS: version 05.47
 NXOS: version {version} [Maintenance Release]
  BIOS compile time:  04/28/2022
  NXOS image file is: {image.replace("bootflash:", "bootflash:///")}
  NXOS compile time:  12/18/2023 12:00:00 [12/19/2023 06:51:36]


Hardware
  cisco Nexus9000 C93180YC-FX Chassis
  Intel(R) Xeon(R) CPU  D-1528 @ 1.90GHz with 24632008 kB of memory.
  Processor Board ID {state.serial}

  Device name: {self.cfg(session).hostname}
  bootflash:   53298520 kB

Kernel uptime is {days} day(s), {hours} hour(s), {minutes} minute(s), {secs} second(s)

Last reset at 235124 usecs after Mon Nov 20 10:00:00 2023
  Reason: Reset Requested by CLI command reload
  System version: {version}
  Service:

plugin
  Core Plugin, Ethernet Plugin

Active Package(s):
"""

    def running_config(self, state: DeviceState, config: DeviceConfig) -> str:
        """NX-OS ``show running-config``."""
        stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
        version = state.installed_version or state.version
        out = [
            "",
            "!Command: show running-config",
            f"!Running configuration last done at: {stamp}",
            f"!Time: {stamp}",
            "",
            f"version {version} Bios:version 05.47",
        ]
        if config.boot_system:
            out.append(f"boot nxos {config.boot_system}")
        out += [
            f"hostname {config.hostname}",
            f"vdc {config.hostname} id 1",
            "  limit-resource vlan minimum 16 maximum 4094",
            "",
            *self.feature_lines(config),
            "",
            *self.user_lines(
                config, f"username {config.username} password 5 $5$LAB$xxxxxxxxxxxxxxxxxxxx  role network-admin"
            ),
            f"ip domain-name {config.domain_name}",
            *self.ordered_aaa(config),
        ]
        if config.banner_motd is not None:
            out += [f"banner motd #{config.banner_motd}#", ""]
        if config.snmp_contact is not None:
            out.append(f"snmp-server contact {config.snmp_contact}")
        if config.snmp_location is not None:
            out.append(f"snmp-server location {config.snmp_location}")
        for community, mode in config.snmp_communities.items():
            group = "network-admin" if mode == "RW" else "network-operator"
            out.append(f"snmp-server community {community} group {group}")
            if community in config.snmp_acls:
                out.append(f"snmp-server community {community} use-ipv4acl {config.snmp_acls[community]}")
        out += self._ntp_lines(config)
        out += [f"ip route {self.static_route_words(r)}" for r in config.static_routes if r.vrf is None]
        out.append("")
        vids = sorted(config.vlans)
        out.append("vlan " + ",".join(str(v) for v in vids))
        for vid in vids:
            if vid != 1 and config.vlans[vid] != f"VLAN{vid:04d}":
                out += [f"vlan {vid}", f"  name {config.vlans[vid]}"]
        out.append("")
        for vrf in config.vrfs.values():
            out.append(f"vrf context {vrf.name}")
            if vrf.rd:
                out.append(f"  rd {vrf.rd}")
            out += [f"  ip route {self.static_route_words(r)}" for r in config.static_routes if r.vrf == vrf.name]
        for iface in config.interfaces.values():
            out += ["", f"interface {iface.name}"]
            out += self._interface_lines(iface)
        out += ["line console", "line vty", ""]
        return "\n".join(out)

    def _ntp_lines(self, config: DeviceConfig) -> list[str]:
        # ``use-vrf V`` only when it was given (NX-OS 9.x and later), ``use-vrf default`` too.
        out = [
            f"ntp server {server}{' use-vrf ' + config.ntp_vrfs[server] if server in config.ntp_vrfs else ''}"
            for server in config.ntp_servers
        ]
        if config.ntp_source:
            out.append(f"ntp source-interface {config.ntp_source}")
        return out

    def x_show_running_ntp(self, s: CliSession, a: dict[str, str]) -> Response:
        """``show running-config ntp``: the NTP feature's lines under NX-OS's header."""
        stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
        version = s.state.installed_version or s.state.version
        header = [
            "",
            "!Command: show running-config ntp",
            f"!Time: {stamp}",
            "",
            f"version {version} Bios:version 05.47",
        ]
        return Response("\n".join(header + self._ntp_lines(self.cfg(s))) + "\n")

    def show_switchport(self, session: CliSession, iface: Interface) -> str:
        """``show interface X switchport`` in the NX-OS format."""
        config = self.cfg(session)
        if not iface.switchport or not iface.physical or iface.name == self.mgmt_interface:
            return f"Name: {iface.name}\n  Switchport: Disabled\n"
        allowed = "1-4094" if iface.trunk_allowed == "1-4094" else (iface.trunk_allowed or "none")
        lines = [
            f"Name: {iface.name}",
            "  Switchport: Enabled",
            "  Switchport Monitor: Not enabled",
            "  Switchport Isolated : Disabled",
            "  Switchport Block Multicast: Not enabled",
            "  Switchport Block Unicast: Not enabled",
            f"  Operational Mode: {iface.mode}",
            f"  Access Mode VLAN: {self.vlan_label(config, iface.access_vlan)}",
            f"  Trunking Native Mode VLAN: {self.vlan_label(config, iface.native_vlan)}",
            f"  Trunking VLANs Allowed: {allowed}",
            "  FabricPath Topology List Allowed: 0",
            "  Administrative private-vlan primary host-association: none",
            "  Administrative private-vlan secondary host-association: none",
        ]
        return "\n".join(lines) + "\n"

    def vlan_label(self, config: DeviceConfig, vid: int) -> str:
        """NX-OS names a VLAN it does not have by its default name."""
        return f"{vid} ({config.vlans.get(vid, f'VLAN{vid:04d}')})"

    def vlan_not_found(self, vid: int) -> str:
        """NX-OS's answer for a VLAN it does not have."""
        return f"VLAN {vid} not found in current VLAN database\n"

    def show_snmp_community(self, session: CliSession) -> str:
        """``show snmp community``: one table."""
        config = self.cfg(session)
        lines = [
            "Community            Group / Access      context    acl_filter",
            "---------            --------------      -------    ----------",
        ]
        for community, mode in config.snmp_communities.items():
            group = "network-admin" if mode == "RW" else "network-operator"
            lines.append(f"{community:<21}{group:<20}{'':<11}{config.snmp_acls.get(community, '')}".rstrip())
        return "\n".join(lines) + "\n"

    def show_vrf(self, session: CliSession) -> str:
        """``show vrf``: every VRF with its id (default is 1, management 2)."""
        config = self.cfg(session)
        ids = {"default": 1, "management": 2}
        for name in config.vrfs:
            ids.setdefault(name, len(ids) + 1)
        lines = ["VRF-Name                           VRF-ID State   Reason"]
        for name in sorted(ids):
            lines.append(f"{name:<35}{ids[name]:>6} {'Up':<7} --")
        return "\n".join(lines) + "\n"

    def _interface_lines(self, iface: Interface) -> list[str]:
        out: list[str] = []
        if iface.description:
            out.append(f"  description {iface.description}")
        if iface.physical and iface.name != self.mgmt_interface:
            if iface.switchport:
                if iface.mode == "trunk":
                    out.append("  switchport mode trunk")
                if iface.native_vlan != 1:
                    out.append(f"  switchport trunk native vlan {iface.native_vlan}")
                if iface.trunk_allowed != "1-4094":
                    out.append(f"  switchport trunk allowed vlan {iface.trunk_allowed or 'none'}")
                if iface.access_vlan != 1:
                    out.append(f"  switchport access vlan {iface.access_vlan}")
            else:
                out.append("  no switchport")
        if iface.shutdown and iface.physical:
            out.append("  shutdown")
        elif not iface.shutdown and not iface.physical:
            out.append("  no shutdown")
        if iface.vrf:
            out.append(f"  vrf member {iface.vrf}")
        if iface.ipv4:
            out.append(f"  ip address {iface.ipv4}")
        return out

    def running_interface_header(self, s: CliSession) -> str:
        """NX-OS prints the command and time before one interface's configuration."""
        return "\n!Command: show running-config interface\n!Time: now\n\nversion 10.3(4a) Bios:version 05.47\n\n"

    def running_interface_footer(self) -> str:
        """Nothing follows on NX-OS."""
        return ""

    def show_ip_interface_brief(self, session: CliSession) -> str:
        """``show ip interface brief``: L3 interfaces of one VRF (default unless asked)."""
        config = self.cfg(session)
        vrf = session.data.get("vrf_filter") or "default"
        neighbors = self.neighbor_ports(session)
        lines = [f'IP Interface Status for VRF "{vrf}"(1)', "Interface            IP Address      Interface Status"]
        for iface in config.interfaces.values():
            if not iface.ipv4 or ((iface.vrf or "default") != vrf and vrf != "all"):
                continue
            up = self.is_connected(session.state, iface, neighbors)
            admin = "admin-down" if iface.shutdown else "admin-up"
            state = "up" if up else "down"
            lines.append(
                f"{self.short_name(iface.name):<21}{iface.ipv4.split('/')[0]:<16}protocol-{state}/link-{state}/{admin}"
            )
        return "\n".join(lines)

    def show_interfaces_status(self, session: CliSession) -> str:
        """``show interface status``."""
        config = self.cfg(session)
        neighbors = self.neighbor_ports(session)
        rule = "-" * 80
        lines = ["", rule, "Port          Name               Status    Vlan      Duplex  Speed   Type", rule]
        for iface in config.interfaces.values():
            if not iface.physical:
                continue
            up = self.is_connected(session.state, iface, neighbors)
            status = "disabled" if iface.shutdown else ("connected" if up else "notconnec")
            if not iface.switchport or iface.name == self.mgmt_interface:
                vlan = "routed"
            else:
                vlan = "trunk" if iface.mode == "trunk" else str(iface.access_vlan)
            kind = "--" if iface.name == self.mgmt_interface else "10Gbase-SR"
            speed = "1000" if iface.name == self.mgmt_interface else ("10G" if up else "auto")
            lines.append(
                f"{self.short_name(iface.name):<14}{(iface.description or '--')[:18]:<19}{status:<10}{vlan:<10}"
                f"{'full' if up else 'auto':<8}{speed:<8}{kind}"
            )
        return "\n".join(lines)

    def x_show_int_brief(self, s: CliSession, a: dict[str, str]) -> Response:
        config = self.cfg(s)
        neighbors = self.neighbor_ports(s)
        rule = "-" * 80
        lines = [
            "",
            rule,
            "Ethernet      VLAN    Type Mode   Status  Reason                   Speed     Port",
            "Interface                                                                    Ch #",
            rule,
        ]
        for iface in config.interfaces.values():
            if not iface.physical or iface.name == self.mgmt_interface:
                continue
            up = self.is_connected(s.state, iface, neighbors)
            vlan = str(iface.access_vlan) if iface.switchport else "--"
            mode = iface.mode if iface.switchport else "routed"
            reason = "Administratively down" if iface.shutdown else ("none" if up else "Link not connected")
            lines.append(
                f"{self.short_name(iface.name):<14}{vlan:<8}eth  {mode:<7}{'up' if up else 'down':<8}"
                f"{reason:<25}{'10G(D)' if up else 'auto(D)':<10}--"
            )
        return Response("\n".join(lines))

    def show_vlan(self, session: CliSession, brief: bool) -> str:
        """``show vlan brief`` / ``show vlan``."""
        config = self.cfg(session)
        ports = self.access_ports_by_vlan(config)
        lines = [
            "",
            "VLAN Name                             Status    Ports",
            "---- -------------------------------- --------- -------------------------------",
        ]
        for vid in sorted(config.vlans):
            members = ports.get(vid, [])
            chunks = [", ".join(members[i : i + 4]) for i in range(0, len(members), 4)] or [""]
            for index, chunk in enumerate(chunks):
                if index == 0:
                    lines.append(f"{vid:<4} {config.vlans[vid]:<32} {'active':<9} {chunk}".rstrip())
                else:
                    lines.append(f"{'':<48}{chunk}")
        if not brief:
            lines += ["", "VLAN Type         Vlan-mode", "---- -----        ----------"]
            for vid in sorted(config.vlans):
                lines.append(f"{vid:<4} enet         CE")
            lines += [
                "",
                "Remote SPAN VLANs",
                "-" * 79,
                "",
                "Primary  Secondary  Type             Ports",
                "-------  ---------  ---------------  -------------------------------------------",
            ]
        return "\n".join(lines)

    def show_lldp_neighbors(self, session: CliSession, detail: bool) -> str:
        """``show lldp neighbors [detail]``."""
        neighbors = session.device.neighbors
        lines = [
            "Capability codes:",
            "  (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device",
            "  (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other",
            "Device ID            Local Intf      Hold-time  Capability  Port ID",
        ]
        if not detail:
            for n in neighbors:
                lines.append(f"{n.name[:20]:<21}{self.short_name(n.local_port):<16}{120:<11}{'BR':<12}{n.port}")
            lines += ["", f"Total entries displayed: {len(neighbors)}"]
            return "\n".join(lines)
        lines.append("")
        for n in neighbors:
            lines += [
                f"Chassis id: {n.chassis_mac}",
                f"Port id: {n.port}",
                f"Local Port id: {self.short_name(n.local_port)}",
                f"Port Description: {n.port}",
                f"System Name: {n.name}",
                f"System Description: {n.description}",
                "Time remaining: 105 seconds",
                "System Capabilities: B, R",
                "Enabled Capabilities: B, R",
                f"Management Address: {n.mgmt_address}",
                "Management Address IPV6: not advertised",
                "Vlan ID: 1",
                "",
            ]
        lines += ["", f"Total entries displayed: {len(neighbors)}"]
        return "\n".join(lines)

    def show_inventory(self, session: CliSession) -> str:
        """``show inventory``."""
        state = session.state
        return (
            'NAME: "Chassis",  DESCR: "Nexus9000 C93180YC-FX Chassis"\n'
            f"PID: {state.model:<20},  VID: V04 ,  SN: {state.serial}\n\n"
            'NAME: "Slot 1",  DESCR: "48x10/25G + 6x40/100G Ethernet Module"\n'
            f"PID: {state.model:<20},  VID: V04 ,  SN: {state.serial}\n\n"
            'NAME: "Power Supply 1",  DESCR: "Nexus9000 C93180YC-FX Chassis Power Supply"\n'
            f"PID: NXA-PAC-650W-PE     ,  VID: V01 ,  SN: ART{state.serial[3:]}\n\n"
            'NAME: "Fan 1",  DESCR: "Nexus9000 C93180YC-FX Chassis Fan Module"\n'
            "PID: NXA-FAN-30CFM-F     ,  VID: V01 ,  SN: N/A\n"
        )

    def show_interface(self, session: CliSession, iface: Interface) -> str:
        """``show interface X``: its first lines."""
        up = self.is_connected(session.state, iface, self.neighbor_ports(session))
        state = "up" if up else "down"
        lines = [f"{iface.name} is {state}"]
        if iface.shutdown:
            lines[0] += " (Administratively down)"
        lines.append(f"admin state is {'down' if iface.shutdown else 'up'}, Dedicated Interface")
        lines.append(f"  Hardware: 100/1000/10000/25000 Ethernet, address: {session.state.mac}")
        if iface.description:
            lines.append(f"  Description: {iface.description}")
        if iface.ipv4:
            lines.append(f"  Internet Address is {iface.ipv4}")
        lines += ["  MTU 1500 bytes, BW 10000000 Kbit , DLY 10 usec", f"  Port mode is {iface.mode}"]
        return "\n".join(lines)

    def dir_listing(self, session: CliSession, fs: FileSystem, name: str, entries: list[tuple[str, int]]) -> str:
        """``dir bootflash:`` / ``dir bootflash:x.bin``."""
        lines = [f"{size:>12}    Dec 19 06:51:36 2023  {file_name}" for file_name, size in entries]
        used = self.used_bytes(session.state, fs)
        lines += [
            "",
            f"Usage for {fs.prefix}//sup-local",
            f"{used:>11} bytes used",
            f"{self.free_bytes(session.state, fs):>11} bytes free",
            f"{fs.total:>11} bytes total",
        ]
        return "\n".join(lines)

    def show_file_systems(self, session: CliSession) -> str:
        """``show file systems``."""
        fs = self.file_systems[0]
        free = self.free_bytes(session.state, fs)
        return (
            "File Systems:\n\n     Size(b)     Free(b)      Type  Flags  Prefixes\n"
            f" {fs.total:>11} {free:>11}      disk     rw   bootflash:\n"
            "      524288      524288     nvram     rw   nvram:\n"
            "           -           -   network     rw   scp: sftp: tftp: http:"
        )

    def save_output(self) -> str:
        """``copy running-config startup-config``."""
        return (
            "[########################################] 100%\n"
            "Copy complete, now saving to disk (please wait)...\nCopy complete."
        )
