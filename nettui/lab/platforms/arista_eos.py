"""Arista EOS (a 7050SX3): ``vrf instance``, ``ip address A/len``, three-space config, EOF banners."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from nettui.lab.platforms.base import FileSystem, Response
from nettui.lab.platforms.cisco_common import CiscoLikePlatform, Handler, colon_mac
from nettui.lab.platforms.shell import enter_shell, run_shell_line
from nettui.lab.state import DeviceConfig, DeviceState, Interface

if TYPE_CHECKING:
    from nettui.lab.device import CliSession

__all__ = ["AristaEos"]


_LOGIN_USER = "privilege 15 role network-admin secret sha512 $6$lab$xxxxxxxxxxxxxxxx"


def _stand_in_sha512(text: str) -> str:
    import hashlib

    return "$6$lab$" + hashlib.sha512(f"nettui-lab:{text}".encode()).hexdigest()[:86]


class AristaEos(CiscoLikePlatform):
    """EOS 4.31 on a DCS-7050SX3-48YC8."""

    name = "arista_eos"
    manufacturer = "Arista"
    default_model = "DCS-7050SX3-48YC8"
    default_version = "4.31.2F"
    netmiko_device_type = "arista_eos"
    scrapli_definition = "arista_eos"
    interface_types: ClassVar[list[tuple[str, str, bool]]] = [
        ("Ethernet", "Et", False),
        ("Loopback", "Lo", True),
        ("Vlan", "Vl", True),
        ("Port-Channel", "Po", True),
        ("Management", "Ma", False),
    ]
    serial_prefix = "JPE"
    mac_oui = "001c.73"
    vrf_command = "vrf instance"
    interface_vrf_command = "vrf"
    mgmt_vrf = "MGMT"
    mgmt_interface = "Management1"
    image_prefix = "flash:"
    slash_ip_only = True
    ntp_source_command = "ntp local-interface"
    # flash: is /mnt/flash in bash (where SCP puts files) and file:/mnt/flash/ to verify.
    file_systems = (
        FileSystem(
            "flash:",
            3_957_878_784,
            920_350_720,
            aliases=("flash:/", "/mnt/flash/", "file:/mnt/flash/"),
            kind="ext4",
            device="/dev/sda1",
            mount="/mnt/flash",
        ),
    )

    def physical_ports(self, count: int) -> list[tuple[str, str]]:
        """Ethernet1 .. EthernetN."""
        return [(f"Ethernet{n}", "25G") for n in range(1, count + 1)]

    def default_image(self) -> str:
        """The EOS image file."""
        return f"flash:EOS-{self.default_version}.swi"

    def version_from_image(self, image: str) -> str | None:
        """``EOS-4.32.1F.swi`` -> ``4.32.1F``."""
        name = image.split(":")[-1].lstrip("/")
        if name.startswith("EOS-") and name.endswith(".swi"):
            return name[4:-4]
        return None

    def system_description(self) -> str:
        """The LLDP system description."""
        return f"Arista Networks EOS version {self.default_version} running on an Arista {self.default_model}"

    def default_hostname(self) -> str:
        """EOS calls an unnamed device ``localhost``."""
        return "localhost"

    def mode_suffix(self, session: CliSession) -> str:
        """EOS names the object in the prompt: ``(config-if-Et1)``, ``(config-vlan-10)``."""
        if session.mode == "config-if":
            return f"(config-if-{self.short_name(session.context or '')})"
        if session.mode == "config-vlan":
            return f"(config-vlan-{session.context})"
        if session.mode == "config-vrf":
            return f"(config-vrf-{session.context})"
        if session.mode == "config-mgmt-telnet":
            return "(config-mgmt-telnet)"
        return super().mode_suffix(session)

    def exec_commands(self) -> list[tuple[str, Handler]]:
        """EOS also takes ``show vlan N``, and has bash underneath."""
        return [
            *super().exec_commands(),
            ("show vlan <vid>", self.x_show_vlan_id),
            ("bash", self.x_bash),
            ("bash <command...>", self.x_bash),
        ]

    def x_bash(self, s: CliSession, a: dict[str, str]) -> Response:
        """``bash`` opens the shell; ``bash CMD`` runs one command there and comes back."""
        command = a.get("command")
        if command is None:
            enter_shell(s)
            return Response("Arista Networks EOS shell\n")
        enter_shell(s)
        try:
            return run_shell_line(self, s, command, program="bash")
        finally:
            s.mode = s.data.pop("shell_return", "exec")

    def prompt(self, session: CliSession) -> str:
        """The CLI prompt, or bash's ``[admin@sw1 ~]$ ``."""
        if session.mode == "shell":
            return f"[{session.device.username}@{self.cfg(session).hostname} ~]$ "
        return super().prompt(session)

    def invalid(self, session: CliSession, line: str, index: int, incomplete: bool) -> Response:
        """``% Invalid input (at token N: 'word')``."""
        line = session.data.get("line", line)
        words = line.split()
        if incomplete or index >= len(words):
            return Response("% Incomplete command\n")
        return Response(f"% Invalid input (at token {index}: '{words[index]}')\n")

    def reject_message(self, line: str) -> str:
        """What AAA authorisation says."""
        return f"% Authorization denied for command '{line.strip()}'\n"

    def bad_secret_message(self) -> str:
        """A wrong enable secret."""
        return "% Access denied"

    def handle(self, session: CliSession, line: str) -> Response:
        """Remember the raw line, then run it (in bash, when the session is there)."""
        if session.mode == "shell":
            return run_shell_line(self, session, line, program="bash")
        session.data["line"] = line
        return super().handle(session, line)

    def verify_progress(self, size: int) -> str:
        """EOS prints the digest alone."""
        return ""

    def terminal_length_message(self, length: int) -> str:
        """EOS confirms: netmiko waits for exactly this."""
        return "Pagination disabled." if length == 0 else f"Pagination set to {length} lines."

    def terminal_width_message(self, width: int) -> str:
        """EOS confirms the width."""
        return f"Width set to {width} columns."

    def configure_message(self) -> str:
        """EOS says nothing on entering configuration mode."""
        return ""

    def access_vlan_created_message(self, vid: int) -> str:
        """EOS creates the VLAN silently... and prints nothing."""
        return ""

    def vrf_removed_ip_message(self, interface: str, vrf: str) -> str:
        """EOS warns that addresses were removed."""
        return f"! Interface {interface} IP address removed due to enabling VRF {vrf}"

    def save_output(self) -> str:
        """``write memory`` / ``copy running-config startup-config``."""
        return "Copy completed successfully."

    def config_commands(self) -> list[tuple[str, Handler]]:
        """EOS also configures its management services."""
        return [
            *super().config_commands(),
            ("management telnet", self.c_management_telnet),
            ("no management telnet", self.c_no_management_telnet),
            ("default management telnet", self.c_no_management_telnet),
        ]

    def extra_sub_modes(self) -> dict[str, list[tuple[str, Handler]]]:
        """``management telnet``: the service is shut until ``no shutdown``."""
        return {
            "config-mgmt-telnet": [
                ("shutdown", self.t_shutdown),
                ("no shutdown", self.t_no_shutdown),
                ("idle-timeout <minutes>", self.i_noop),
                ("exit", self.c_exit),
                ("end", self.c_end),
            ]
        }

    def c_management_telnet(self, s: CliSession, a: dict[str, str]) -> Response:
        s.mode, s.context = "config-mgmt-telnet", None
        return Response()

    def c_no_management_telnet(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).telnet_enabled = False
        return Response()

    def t_shutdown(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).telnet_enabled = False
        return Response()

    def t_no_shutdown(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).telnet_enabled = True
        return Response()

    def user_suffix(
        self, privilege: str | None, role: str | None, kind: str | None, value: str, hashed: str | None
    ) -> str:
        """EOS keeps a sha512 hash of a secret; ``password`` is not an EOS keyword's output."""
        parts = [f"privilege {privilege}"] if privilege else []
        if role:
            parts.append(f"role {role}")
        if kind:
            shown = hashed if hashed and hashed.startswith("sha512") else f"sha512 {_stand_in_sha512(value)}"
            parts.append(f"secret {shown}")
        else:
            parts.append("nopassword")
        return " ".join(parts)

    # Multi-line banners on EOS end with a line "EOF", not a delimiter character.
    def c_banner(self, s: CliSession, a: dict[str, str]) -> Response:
        if a.get("text"):
            return self.invalid(s, "", 2, False)
        if a["kind"] not in self.banner_kinds:
            return self.invalid(s, "", 1, False)
        s.data["banner"] = {"delimiter": "EOF", "lines": [], "kind": a["kind"]}
        s.mode = "banner"
        return Response("Enter TEXT message.  Type 'EOF' on its own line to end.", prompt=False)

    def banner_line(self, s: CliSession, line: str) -> Response:
        """One banner line; ``EOF`` alone ends the banner."""
        pending = s.data["banner"]
        if line.strip() == "EOF":
            self.set_banner(self.cfg(s), pending["kind"], "\n".join(pending["lines"]))
            del s.data["banner"]
            s.mode = "config"
            return Response()
        pending["lines"].append(line)
        return Response(prompt=False)

    # -- show output ---------------------------------------------------------------------

    def show_version(self, session: CliSession) -> str:
        """EOS ``show version`` (every line is one ntc-templates knows)."""
        state = session.state
        version = state.installed_version or state.version
        seconds = int(time.time() - state.booted_at)
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        return f"""Arista {state.model}
Hardware version: 11.01
Serial number: {state.serial}
Hardware MAC address: {state.mac}
System MAC address: {state.mac}

Software image version: {version}
Architecture: x86_64
Internal build version: {version}-35442176.{version.replace(".", "")}
Internal build ID: 6c4a9ef7-1c2b-4b7e-9f0a-2a1e3c4d5e6f
Image format version: 3.0
Image optimization: Strata-4GB

Uptime: {days} days, {hours} hours and {rest // 60} minutes
Total memory: 8099732 kB
Free memory: 6212340 kB
"""

    def running_config(self, state: DeviceState, config: DeviceConfig) -> str:
        """EOS ``show running-config``."""
        version = state.installed_version or state.version
        out = [
            "! Command: show running-config",
            f"! device: {config.hostname} ({state.model}, EOS-{version})",
            "!",
            f"! boot system {config.boot_system or state.boot_image}",
            "!",
            *([*self.ordered_aaa(config), "!"] if config.aaa_lines else []),
            "no aaa root",
            "!",
            *self.user_lines(config, f"username {config.username} {_LOGIN_USER}"),
            "!",
            "transceiver qsfp default-mode 4x10G",
            "!",
            f"hostname {config.hostname}",
            f"ip domain-name {config.domain_name}",
            "!",
        ]
        for community, mode in config.snmp_communities.items():
            acl = config.snmp_acls.get(community)
            out.append(f"snmp-server community {community} {mode.lower()}{' ' + acl if acl else ''}")
        if config.snmp_contact is not None:
            out.append(f"snmp-server contact {config.snmp_contact}")
        if config.snmp_location is not None:
            out.append(f"snmp-server location {config.snmp_location}")
        if config.snmp_communities or config.snmp_contact is not None or config.snmp_location is not None:
            out.append("!")
        out += ["spanning-tree mode mstp", "!"]
        for vid in sorted(config.vlans):
            if vid == 1:
                continue
            out.append(f"vlan {vid}")
            if config.vlans[vid] != f"VLAN{vid:04d}":
                out.append(f"   name {config.vlans[vid]}")
            out.append("!")
        for vrf in config.vrfs.values():
            out.append(f"vrf instance {vrf.name}")
            if vrf.rd:
                out.append(f"   rd {vrf.rd}")
            out.append("!")
        for iface in config.interfaces.values():
            out.append(f"interface {iface.name}")
            out += self._interface_lines(iface)
            out.append("!")
        out += ["ip routing", "!"]
        if config.static_routes:
            out += [*(f"ip route {self.static_route_words(r)}" for r in config.static_routes), "!"]
        if config.ntp_source:
            source_vrf = config.ntp_source_vrf
            out.append(f"ntp local-interface {'vrf ' + source_vrf + ' ' if source_vrf else ''}{config.ntp_source}")
        for server in config.ntp_servers:
            server_vrf = config.ntp_vrfs.get(server)
            out.append(f"ntp server {'vrf ' + server_vrf + ' ' if server_vrf else ''}{server}")
        if config.ntp_servers or config.ntp_source:
            out.append("!")
        if config.banner_login is not None:
            out += ["banner login", *config.banner_login.split("\n"), "EOF", "!"]
        if config.banner_motd is not None:
            out += ["banner motd", *config.banner_motd.split("\n"), "EOF", "!"]
        out += ["management api http-commands", "   no shutdown", "!"]
        if config.telnet_enabled:
            out += ["management telnet", "   no shutdown", "!"]
        out.append("end")
        return "\n".join(out)

    def _interface_lines(self, iface: Interface) -> list[str]:
        out: list[str] = []
        if iface.description:
            out.append(f"   description {iface.description}")
        if iface.shutdown:
            out.append("   shutdown")
        if iface.physical and iface.name != self.mgmt_interface:
            if iface.switchport:
                if iface.access_vlan != 1:
                    out.append(f"   switchport access vlan {iface.access_vlan}")
                if iface.native_vlan != 1:
                    out.append(f"   switchport trunk native vlan {iface.native_vlan}")
                if iface.trunk_allowed != "1-4094":
                    out.append(f"   switchport trunk allowed vlan {iface.trunk_allowed or 'none'}")
                if iface.mode == "trunk":
                    out.append("   switchport mode trunk")
            else:
                out.append("   no switchport")
        if iface.vrf:
            out.append(f"   vrf {iface.vrf}")
        if iface.ipv4:
            out.append(f"   ip address {iface.ipv4}")
        return out

    def switchport_encapsulation_lines(self) -> list[str]:
        """EOS prints its dot1q lines where IOS prints the trunking encapsulation."""
        return [
            "MAC Address Learning: enabled",
            "Dot1q ethertype/TPID: 0x8100 (active)",
            "Dot1q Vlan Tag Required (Administrative/Operational): No/No",
        ]

    def vlan_not_found(self, vid: int) -> str:
        """EOS's answer for a VLAN it does not have."""
        return f"% VLAN {vid} not found in current VLAN database\n"

    def show_snmp_community(self, session: CliSession) -> str:
        """``show snmp community``."""
        config = self.cfg(session)
        blocks = []
        for community, mode in config.snmp_communities.items():
            lines = [
                f"Community name: {community}",
                f"Community access: {'read-write' if mode == 'RW' else 'read-only'}",
            ]
            if community in config.snmp_acls:
                lines.append(f"Access list: {config.snmp_acls[community]}")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks) + "\n" if blocks else ""

    def show_vrf(self, session: CliSession) -> str:
        """``show vrf``."""
        config = self.cfg(session)
        lines = [
            "Maximum number of VRFs allowed: 1024",
            "   VRF            Protocols       State         Interfaces",
            "-------------- --------------- ---------------- ----------------",
        ]
        names: list[tuple[str, str | None]] = [(name, name) for name in config.vrfs]
        for name, key in sorted([*names, ("default", None)], key=lambda item: item[0]):
            interfaces = ", ".join(self.vrf_interfaces(config, key))
            lines.append(f"   {name:<15}{'IPv4':<16}{'routing':<14}{interfaces}".rstrip())
        return "\n".join(lines) + "\n"

    def running_interface_header(self, s: CliSession) -> str:
        """EOS prints nothing before one interface's configuration."""
        return ""

    def running_interface_footer(self) -> str:
        """Nor after it."""
        return ""

    def show_ip_interface_brief(self, session: CliSession) -> str:
        """``show ip interface brief``."""
        config = self.cfg(session)
        neighbors = self.neighbor_ports(session)
        lines = [
            "                                                                        Address",
            "Interface         IP Address            Status       Protocol         MTU    Owner",
            "----------------- --------------------- ------------ -------------- ----------- -------",
        ]
        for iface in config.interfaces.values():
            if iface.switchport and iface.physical:
                continue
            up = self.is_connected(session.state, iface, neighbors)
            status = "admin down" if iface.shutdown else ("up" if up else "down")
            lines.append(
                f"{iface.name:<18}{iface.ipv4 or 'unassigned':<22}{status:<13}{'up' if up else 'down':<15}{'1500':>6}"
            )
        return "\n".join(lines)

    def show_interfaces_status(self, session: CliSession) -> str:
        """``show interfaces status``."""
        config = self.cfg(session)
        neighbors = self.neighbor_ports(session)
        lines = ["Port       Name        Status       Vlan     Duplex Speed  Type            Flags Encapsulation"]
        for iface in config.interfaces.values():
            if not iface.physical:
                continue
            up = self.is_connected(session.state, iface, neighbors)
            status = "disabled" if iface.shutdown else ("connected" if up else "notconnect")
            if not iface.switchport or iface.name == self.mgmt_interface:
                vlan = "routed"
            else:
                vlan = "trunk" if iface.mode == "trunk" else str(iface.access_vlan)
            kind = "10/100/1000" if iface.name == self.mgmt_interface else "25GBASE-SR"
            speed = "a-1G" if iface.name == self.mgmt_interface else "25G"
            lines.append(
                f"{self.short_name(iface.name):<11}{iface.description[:11]:<12}{status:<13}{vlan:<9}"
                f"{'full':<7}{speed:<7}{kind}"
            )
        return "\n".join(lines)

    def show_vlan(self, session: CliSession, brief: bool) -> str:
        """``show vlan`` (EOS has one format; ``brief`` is accepted as on real EOS)."""
        config = self.cfg(session)
        ports = self.access_ports_by_vlan(config)
        lines = [
            "VLAN  Name                             Status    Ports",
            "----- -------------------------------- --------- -------------------------------",
        ]
        for vid in sorted(config.vlans):
            members = ports.get(vid, [])
            chunks = [", ".join(members[i : i + 5]) for i in range(0, len(members), 5)] or [""]
            for index, chunk in enumerate(chunks):
                if index == 0:
                    lines.append(f"{vid:<5} {config.vlans[vid]:<32} {'active':<9} {chunk}".rstrip())
                else:
                    lines.append(f"{'':<49}{chunk}")
        return "\n".join(lines)

    def show_lldp_neighbors(self, session: CliSession, detail: bool) -> str:
        """``show lldp neighbors [detail]``."""
        neighbors = session.device.neighbors
        if not detail:
            lines = [
                "Last table change time   : 0:10:00 ago",
                "Number of table inserts  : 1",
                "Number of table deletes  : 0",
                "Number of table drops    : 0",
                "Number of table age-outs : 0",
                "",
                "Port          Neighbor Device ID       Neighbor Port ID    TTL",
                "------------- ------------------------ ------------------- ---",
            ]
            for n in neighbors:
                lines.append(f"{self.short_name(n.local_port):<14}{n.name:<25}{n.port:<20}120")
            return "\n".join(lines)
        lines = []
        by_port: dict[str, list[str]] = {}
        for n in neighbors:
            by_port.setdefault(n.local_port, []).extend(
                [
                    f"  Neighbor {n.chassis_mac}/{n.port}, age 3 seconds",
                    "  Discovered 0:10:00 ago; Last changed 0:10:00 ago",
                    "  - Chassis ID type: MAC address (4)",
                    f"    Chassis ID     : {n.chassis_mac}",
                    "  - Port ID type: Interface name (5)",
                    f'    Port ID        : "{n.port}"',
                    "  - Time To Live: 120 seconds",
                    f'  - Port Description: "{n.port}"',
                    f'  - System Name: "{n.name}"',
                    f'  - System Description: "{n.description}"',
                    "  - System Capabilities : Bridge, Router",
                    "    Enabled Capabilities: Bridge, Router",
                    "  - Management Address Subtype: IPv4 (1)",
                    f"    Management Address         : {n.mgmt_address}",
                    "    Interface Number Subtype   : ifIndex (2)",
                    "    Interface Number           : 999001",
                    '    OID String                 : ""',
                    "  - IEEE802.1 Port VLAN ID: 1",
                    "",
                ]
            )
        for port, block in by_port.items():
            count = sum(1 for n in neighbors if n.local_port == port)
            lines += [f"Interface {port} detected {count} LLDP neighbors:", "", *block]
        return "\n".join(lines)

    def no_such_vrf(self, vrf: str) -> str:
        """EOS's word for an unknown VRF."""
        return f"% IP Routing table for VRF {vrf} does not exist."

    def show_ip_route(self, session: CliSession, vrf: str | None) -> str:
        """``show ip route [vrf V]`` in the EOS 4.31 format (no local /32s; next hops with their interface)."""
        routes = [r for r in self.routes(session, vrf) if r.source != "local"]
        lines = [f"VRF: {vrf or 'default'}", _EOS_ROUTE_CODES]
        default = [r for r in routes if r.network.prefixlen == 0]
        entries: list[str] = []
        previous = None
        for route in routes:
            if route.network == previous:
                entries.append(f"{'':<31}via {route.next_hop}, {route.egress}")
                continue
            previous = route.network
            if route.source == "connected":
                entries.append(f" {'C':<9}{route.network} is directly connected, {route.interface}")
            elif route.next_hop:
                via = f"[{route.distance}/0] via {route.next_hop}, {route.egress}"
                entries.append(f" {'S':<9}{route.network} {via}")
            else:
                entries.append(f" {'S':<9}{route.network} is directly connected, {route.interface}")
        if default:  # the default route sorts first
            lines += ["Gateway of last resort:", entries[0], ""]
        else:
            lines += ["Gateway of last resort is not set", ""]
        lines += entries
        return "\n".join(lines) + "\n\n"

    def show_inventory(self, session: CliSession) -> str:
        """``show inventory``."""
        state = session.state
        return f"""System information
  Model                    Description
  ------------------------ ----------------------------------------------------
  {state.model:<24} 48x25G SFP & 8x100G QSFP Switch

  HW Version  Serial Number  Mfg Date   Epoch
  ----------- -------------- ---------- -----
  11.01       {state.serial:<14} 2020-01-01 01.00

System has 2 power supply slots
  Slot Model            Serial Number    Hardware Version
  ---- ---------------- ---------------- ----------------
  1    PWR-500AC-R      EEWT{state.serial[3:]:<12} 02.00
  2    PWR-500AC-R      EEWT{state.serial[3:]}B 02.00

System has 4 fans
  Module  Number of Fans  Model            Serial Number
  ------- --------------- ---------------- ----------------
  1       1               FAN-7000-F       N/A
  2       1               FAN-7000-F       N/A

System has {self.interface_count + 1} ports
  Type             Count
  ---------------- ----
  Management       1
  Switched         {self.interface_count}
"""

    def show_interface(self, session: CliSession, iface: Interface) -> str:
        """``show interfaces X``: the first lines."""
        up = self.is_connected(session.state, iface, self.neighbor_ports(session))
        state = "administratively down" if iface.shutdown else ("up" if up else "down")
        lines = [
            f"{iface.name} is {state}, line protocol is {'up' if up else 'down'} "
            f"({'connected' if up else 'notconnect'})",
            f"  Hardware is Ethernet, address is {session.state.mac} (bia {session.state.mac})",
        ]
        if iface.description:
            lines.append(f"  Description: {iface.description}")
        if iface.ipv4:
            lines.append(f"  Internet address is {iface.ipv4}")
        lines.append("  Ethernet MTU 9214 bytes, BW 25000000 kbit")
        return "\n".join(lines)

    def dir_listing(self, session: CliSession, fs: FileSystem, name: str, entries: list[tuple[str, int]]) -> str:
        """``dir flash:``."""
        lines = [f"Directory of {fs.prefix}/{name}", ""]
        for file_name, size in entries:
            lines.append(f"       -rwx  {size:>12}           Dec 19 06:51  {file_name}")
        lines += ["", f"{fs.total} bytes total ({self.free_bytes(session.state, fs)} bytes free)"]
        return "\n".join(lines)

    def show_file_systems(self, session: CliSession) -> str:
        """``show file systems``."""
        fs = self.file_systems[0]
        return (
            "File Systems:\n\n     Size(b)     Free(b)      Type  Flags  Prefixes\n"
            f"* {fs.total:>11} {self.free_bytes(session.state, fs):>11}      ext4     rw   flash:\n"
            "           -           -   network     rw   http: https: scp: ftp:"
        )

    def mac_colon(self, session: CliSession) -> str:
        """The system MAC with colons."""
        return colon_mac(session.state.mac)


_EOS_ROUTE_CODES = """Codes: C - connected, S - static, K - kernel,
       O - OSPF, IA - OSPF inter area, E1 - OSPF external type 1,
       E2 - OSPF external type 2, N1 - OSPF NSSA external type 1,
       N2 - OSPF NSSA external type2, B - Other BGP Routes,
       B I - iBGP, B E - eBGP, R - RIP, I L1 - IS-IS level 1,
       I L2 - IS-IS level 2, O3 - OSPFv3, A B - BGP Aggregate,
       A O - OSPF Summary, NG - Nexthop Group Static Route,
       V - VXLAN Control Service, M - Martian,
       DH - DHCP client installed default route,
       DP - Dynamic Policy Route, L - VRF Leaked,
       G  - gRIBI, RC - Route Cache Route,
       CL - CBF Leaked Route
"""
