"""The CLI that IOS, NX-OS and EOS share: modes, configuration commands and the state they change.

The three differ in prompts, error messages, interface names, a few command spellings
(``vrf definition`` / ``vrf context`` / ``vrf instance``) and every piece of show output;
subclasses supply those, this module keeps the command tree and the configuration model
in one place so that a VLAN configured on any of them shows up in all of its show commands.
"""

from __future__ import annotations

import ipaddress
import re
import time
from abc import abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from nettui.lab.platforms.base import (
    NO_SUCH_FILE,
    FileProblem,
    FileSystem,
    Grammar,
    Platform,
    Response,
    Route,
    apply_pipe,
    routing_table,
    tokens_of,
)
from nettui.lab.state import (
    DeviceConfig,
    DeviceState,
    Interface,
    StaticRoute,
    Vrf,
    parse_vlan_list,
    render_vlan_list,
)

if TYPE_CHECKING:
    from nettui.lab.device import CliSession, LabDevice

__all__ = ["CiscoLikePlatform", "Handler", "mgmt_address", "serial_for", "system_mac", "type7"]

Handler = Callable[..., Response]

_HOSTNAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")
# The modes in which configuration commands are taken.
CONFIG_MODES = ("config", "config-if", "config-vlan", "config-vrf", "config-line", "config-mgmt-telnet")
# ``aaa authentication login default group tacacs+ local``: the first word, from the fourth on,
# that names a method (or the accounting mode) ends the method list's name.
_AAA_METHOD_WORDS = frozenset(
    ("group", "local", "local-case", "none", "start-stop", "stop-only", "if-authenticated", "enable", "line", "krb5")
)
_AAA_KINDS = ("authentication", "authorization", "accounting")


def serial_for(prefix: str, index: int) -> str:
    """A stable, realistic serial number for the device at ``index``."""
    return f"{prefix}{2200 + index // 1000:04d}{chr(65 + index % 26)}{index % 1000:03d}"


def system_mac(oui: str, index: int) -> str:
    """The chassis MAC in Cisco dotted form (``001c.7300.002a``)."""
    value = int(oui.replace(".", ""), 16) << 24 | (index + 1) & 0xFFFFFF
    raw = f"{value:012x}"
    return f"{raw[0:4]}.{raw[4:8]}.{raw[8:12]}"


def mgmt_address(index: int) -> str:
    """The management address the device pretends to have (``/16`` in 10.200.0.0)."""
    number = index + 1
    return f"10.200.{(number >> 8) & 255}.{number & 255 or 1}/16"


def _stand_in_hash(kind: str, text: str) -> str:
    """A stable stand-in for a password hash: never the password itself."""
    import hashlib

    return f"${kind}$" + hashlib.sha256(f"nettui-lab:{text}".encode()).hexdigest()[:40]


_TYPE7_KEY = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"


def type7(text: str, seed: int = 2) -> str:
    """Cisco's reversible type 7 form of a password (``service password-encryption``)."""
    key = _TYPE7_KEY
    return f"{seed:02d}" + "".join(f"{ord(c) ^ ord(key[(seed + i) % len(key)]):02X}" for i, c in enumerate(text))


def _is_address(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _route_key(route: StaticRoute) -> tuple[str, str | None, str | None, str | None]:
    return route.prefix, route.next_hop, route.interface, route.vrf


def _removes(given: StaticRoute, route: StaticRoute) -> bool:
    """Whether ``no ip route`` as given removes ``route``: the prefix, and the next hop or
    interface when named."""
    if (given.prefix, given.vrf) != (route.prefix, route.vrf):
        return False
    if given.next_hop is not None and given.next_hop != route.next_hop:
        return False
    return given.interface is None or given.interface == route.interface


def colon_mac(dotted: str) -> str:
    """``001c.7300.002a`` -> ``00:1c:73:00:00:2a``."""
    raw = dotted.replace(".", "")
    return ":".join(raw[i : i + 2] for i in range(0, 12, 2))


class CiscoLikePlatform(Platform):
    """The command tree shared by IOS, NX-OS and EOS; output formats come from subclasses."""

    # (full type name, short name, logical) in match order: the first prefix match wins.
    interface_types: ClassVar[list[tuple[str, str, bool]]] = []
    prompt_space: ClassVar[str] = ""
    serial_prefix = "FOC"
    mac_oui: ClassVar[str] = "0011.22"
    vrf_command: ClassVar[str] = "vrf definition"
    interface_vrf_command: ClassVar[str] = "vrf forwarding"
    starts_privileged: ClassVar[bool] = False
    mgmt_vrf: ClassVar[str] = "Mgmt-vrf"
    mgmt_interface: ClassVar[str] = "GigabitEthernet0/0"
    image_prefix: ClassVar[str] = "flash:"
    boot_command: ClassVar[str] = "boot system"
    slash_ip_only: ClassVar[bool] = False
    dotted_ip_only: ClassVar[bool] = False
    has_aaa_new_model: ClassVar[bool] = False
    ntp_source_command: ClassVar[str] = "ntp source"
    ntp_keeps_default_vrf: ClassVar[bool] = False  # NX-OS prints ``use-vrf default`` when given
    route_mask_dotted: ClassVar[bool] = False  # IOS shows ``ip route 10.0.0.0 255.0.0.0 ...``

    def __init__(self) -> None:
        self.exec_grammar = Grammar(self.exec_commands())
        self.config_grammar = Grammar(self.config_commands())
        self.interface_grammar = Grammar(self.interface_commands())
        self.vlan_grammar = Grammar(
            [
                ("name <name>", self.c_vlan_name),
                ("no name", self.c_vlan_no_name),
                ("exit", self.c_exit),
                ("end", self.c_end),
            ]
        )
        self.vrf_grammar = Grammar(self.vrf_commands())
        self.sub_grammars: dict[str, Grammar] = {
            "config-if": self.interface_grammar,
            "config-vlan": self.vlan_grammar,
            "config-vrf": self.vrf_grammar,
            **{mode: Grammar(commands) for mode, commands in self.extra_sub_modes().items()},
        }

    def extra_sub_modes(self) -> dict[str, list[tuple[str, Handler]]]:
        """Configuration sub-modes of one platform (IOS ``line vty``, EOS ``management telnet``)."""
        return {}

    # -- things subclasses provide ----------------------------------------------------------

    @abstractmethod
    def physical_ports(self, count: int) -> list[tuple[str, str]]:
        """(name, speed) of the front-panel ports."""

    @abstractmethod
    def invalid(self, session: CliSession, line: str, index: int, incomplete: bool) -> Response:
        """The platform's error for a line whose ``index``-th word was not understood."""

    @abstractmethod
    def show_version(self, session: CliSession) -> str:
        """``show version``."""

    @abstractmethod
    def running_config(self, state: DeviceState, config: DeviceConfig) -> str:
        """``show running-config`` (and startup-config, from the saved model)."""

    @abstractmethod
    def show_ip_interface_brief(self, session: CliSession) -> str:
        """``show ip interface brief``."""

    @abstractmethod
    def show_interfaces_status(self, session: CliSession) -> str:
        """``show interfaces status``."""

    @abstractmethod
    def show_vlan(self, session: CliSession, brief: bool) -> str:
        """``show vlan`` / ``show vlan brief``."""

    @abstractmethod
    def show_lldp_neighbors(self, session: CliSession, detail: bool) -> str:
        """``show lldp neighbors [detail]``."""

    @abstractmethod
    def show_ip_route(self, session: CliSession, vrf: str | None) -> str:
        """``show ip route [vrf V]``: the table of ``vrf`` (None: the default VRF)."""

    @abstractmethod
    def show_inventory(self, session: CliSession) -> str:
        """``show inventory``."""

    @abstractmethod
    def show_interface(self, session: CliSession, iface: Interface) -> str:
        """``show interfaces X`` for one interface."""

    @abstractmethod
    def dir_listing(self, session: CliSession, fs: FileSystem, name: str, entries: list[tuple[str, int]]) -> str:
        """``dir [fs:[name]]``: ``entries`` are the (name, size) to list, one when ``name`` is set."""

    def dir_error(self, path: str, reason: str) -> str:
        """What ``dir`` says about a file or file system that is not there."""
        return f"%Error opening {path} ({reason})"

    def file_error(self, verb: str, path: str, reason: str) -> str:
        """``%Error deleting flash:x (No such file or directory)`` and the like."""
        return f"%Error {verb} {path} ({reason})"

    @abstractmethod
    def show_file_systems(self, session: CliSession) -> str:
        """``show file systems``."""

    @abstractmethod
    def save_output(self) -> str:
        """What ``write memory`` / ``copy running-config startup-config`` print."""

    def port_names(self) -> list[str]:
        """Front-panel port names."""
        return [name for name, _ in self.physical_ports(self.interface_count)]

    def canonical_port(self, text: str) -> str:
        """``Gi1/0/1`` -> ``GigabitEthernet1/0/1``."""
        found = self.canonical_interface(text)
        return found[0] if found else text

    def chassis_mac(self, index: int) -> str:
        """The chassis MAC in dotted form."""
        return system_mac(self.mac_oui, index)

    def version_from_image(self, image: str) -> str | None:
        """The software version an image file name carries, if any."""
        found = re.search(r"(\d+\.\d+[.(]\d+[\w.)]*?)(?:\.SPA|\.M|\.bin|\.swi|$)", image.split(":")[-1])
        return found.group(1) if found else None

    # -- state ------------------------------------------------------------------------------

    def new_state(self, device: LabDevice) -> DeviceState:
        """A factory-fresh device: ports, the management interface and VRF, VLAN 1."""
        config = DeviceConfig(hostname=device.name, username=device.username)
        config.vlans[1] = "default"
        config.vrfs[self.mgmt_vrf] = Vrf(self.mgmt_vrf)
        config.interfaces[self.mgmt_interface] = Interface(
            self.mgmt_interface, switchport=False, ipv4=mgmt_address(device.index), vrf=self.mgmt_vrf
        )
        for name, speed in self.physical_ports(self.interface_count):
            config.interfaces[name] = Interface(name, speed=speed)
        config.interfaces[self.svi_name(1)] = Interface(
            self.svi_name(1), switchport=False, physical=False, shutdown=True
        )
        state = DeviceState(
            name=device.name,
            platform=self.name,
            serial=serial_for(self.serial_prefix, device.index),
            model=self.default_model,
            version=self.default_version,
            mac=system_mac(self.mac_oui, device.index),
            config=config,
            startup=config.copy(),
        )
        state.boot_image = self.default_image()
        state.files[state.boot_image] = 1_073_741_824
        return state

    def default_image(self) -> str:
        """The image file the device boots from out of the box."""
        return f"{self.image_prefix}{self.default_version}.bin"

    def svi_name(self, vid: int) -> str:
        """The VLAN interface name (``Vlan10``)."""
        return f"Vlan{vid}"

    def cfg(self, session: CliSession) -> DeviceConfig:
        """The running configuration of the session's device."""
        assert session.state.config is not None
        return session.state.config

    def canonical_interface(self, text: str) -> tuple[str, bool] | None:
        """``gi1/0/1`` -> (``GigabitEthernet1/0/1``, logical?), or None if no type matches."""
        found = re.fullmatch(r"([A-Za-z][A-Za-z-]*?)\s*(\d[\d/.:]*)", text.strip())
        if not found:
            return None
        prefix, number = found.group(1).lower(), found.group(2)
        for full, short, logical in self.interface_types:
            if full.lower().startswith(prefix) or short.lower() == prefix:
                return full + number, logical
        return None

    def short_name(self, name: str) -> str:
        """``GigabitEthernet1/0/1`` -> ``Gi1/0/1``."""
        for full, short, _ in self.interface_types:
            if name.startswith(full) and name[len(full) :][:1].isdigit():
                return short + name[len(full) :]
        return name

    def is_connected(self, state: DeviceState, iface: Interface, neighbor_ports: set[str]) -> bool:
        """Link state: shut ports are down; SVIs and loopbacks follow shutdown; ports are up when linked."""
        if iface.shutdown:
            return False
        if not iface.physical or iface.name == self.mgmt_interface:
            return True
        ports = [n for n in (state.config.interfaces if state.config else {}) if n != self.mgmt_interface]
        index = ports.index(iface.name) if iface.name in ports else 99
        return iface.name in neighbor_ports or index < 2

    def neighbor_ports(self, session: CliSession) -> set[str]:
        """The local ports that have an LLDP neighbour."""
        return {n.local_port for n in session.device.neighbors}

    def physical_interfaces(self, state: DeviceState) -> list[str]:
        """The front-panel ports of the device."""
        assert state.config is not None
        return [i.name for i in state.config.interfaces.values() if i.physical and i.name != self.mgmt_interface]

    # -- prompts and dispatch -----------------------------------------------------------------

    def start_mode(self, session: CliSession) -> str:
        """Privileged on NX-OS, user EXEC on IOS and EOS."""
        return "exec" if self.starts_privileged else "user"

    def login_banner(self, session: CliSession) -> str:
        """The MOTD banner, printed before the first prompt."""
        banner = (self.cfg(session).banner_motd or "").strip("\n")
        return f"\n{banner}\n" if banner else "\n"

    def mode_suffix(self, session: CliSession) -> str:
        """``(config-if)`` and friends."""
        mode = session.mode
        if mode in ("config", "banner"):
            return "(config)"
        if mode in CONFIG_MODES:
            return f"({mode})"
        return ""

    def prompt(self, session: CliSession) -> str:
        """``sw1>``, ``sw1#``, ``sw1(config-if)#`` (NX-OS adds a space after the ``#``)."""
        host = self.cfg(session).hostname
        if session.mode == "banner":
            return ""
        if session.mode == "user":
            return f"{host}>{self.prompt_space}"
        return f"{host}{self.mode_suffix(session)}#{self.prompt_space}"

    def handle(self, session: CliSession, line: str) -> Response:
        """Run one line in the session's mode."""
        mode = session.mode
        if mode == "enable_password":
            return self.enable_password(session, line)
        if mode == "banner":
            return self.banner_line(session, line)
        if "confirm" in session.data:
            handler = session.data.pop("confirm")
            result: Response = handler(session, line)
            return result
        if not line.strip():
            return Response()
        if line.lstrip().startswith("!"):
            return Response()
        if mode in ("user", "exec"):
            return self.run_exec_line(session, line)
        return self.run_config_line(session, line)

    def run_exec_line(self, session: CliSession, line: str) -> Response:
        """An EXEC command, with Cisco-style ``| include`` filters."""
        command, pipes = self.split_pipes(line)
        found, index, incomplete = self.exec_grammar.match(command)
        if found is None:
            return self.invalid(session, line, index, incomplete)
        if session.mode == "user" and found.handler.__name__ not in self.user_mode_commands:
            # User EXEC knows far fewer commands: the error points at the first word it lacks.
            return self.invalid(session, line, 1 if len(tokens_of(line)) > 1 else 0, False)
        response: Response = found.handler(session, found.args)
        for pipe in pipes:
            filtered = apply_pipe(response.output, pipe)
            if filtered is None:
                column = line.index("|") + 1
                return self.invalid(session, line, len(tokens_of(line[:column])), False)
            response.output = filtered
        return response

    user_mode_commands: ClassVar[set[str]] = {
        "x_enable",
        "x_exit",
        "x_terminal_length",
        "x_terminal_width",
        "x_terminal_other",
        "x_show_version",
        "x_show_clock",
        "x_show_hostname",
        "x_show_ip_route",
        "x_disable",
    }

    def split_pipes(self, line: str) -> tuple[str, list[str]]:
        """``show run | include x`` -> ("show run", ["include x"])."""
        # " | " separates modifiers; a bare "|" inside a regex (include a|b) stays in the regex.
        parts = re.split(r"\s+\|\s*", line)
        return parts[0].rstrip(), [p.strip() for p in parts[1:]]

    def run_config_line(self, session: CliSession, line: str) -> Response:
        """A configuration command: the sub-mode's own commands first, then global ones."""
        sub = self.sub_grammars.get(session.mode)
        best_index, best_incomplete = 0, False
        if sub is not None:
            found, best_index, best_incomplete = sub.match(line)
            if found is not None:
                result: Response = found.handler(session, found.args)
                return result
        found, index, incomplete = self.config_grammar.match(line)
        if found is not None:
            if sub is not None and found.handler.__name__ not in ("c_end", "c_do"):
                # A global command in a sub-mode leaves the sub-mode first, as IOS does.
                session.mode, session.context = "config", None
            result = found.handler(session, found.args)
            return result
        if index >= best_index:
            best_index, best_incomplete = index, incomplete
        return self.invalid(session, line, best_index, best_incomplete)

    # -- the command trees ---------------------------------------------------------------------

    def exec_commands(self) -> list[tuple[str, Handler]]:
        """EXEC commands, most specific first."""
        return [
            ("enable", self.x_enable),
            ("enable <level>", self.x_enable),
            ("disable", self.x_disable),
            ("exit", self.x_exit),
            ("logout", self.x_exit),
            ("quit", self.x_exit),
            ("terminal length <n>", self.x_terminal_length),
            ("terminal width <n>", self.x_terminal_width),
            ("terminal <setting...>", self.x_terminal_other),
            ("configure terminal", self.x_configure),
            ("configure", self.x_configure),
            ("show version", self.x_show_version),
            ("show terminal", self.x_show_terminal),
            ("show running-config", self.x_show_running),
            ("show running-config all", self.x_show_running),
            ("show running-config interface <name...>", self.x_show_running_interface),
            ("show running-config interfaces <name...>", self.x_show_running_interface),
            ("show running-config section <regex...>", self.x_show_running_section),
            ("show startup-config", self.x_show_startup),
            ("show ip interface brief", self.x_show_ip_int_brief),
            ("show ip interface brief vrf <vrf>", self.x_show_ip_int_brief),
            ("show ip route", self.x_show_ip_route),
            ("show ip route vrf <vrf>", self.x_show_ip_route),
            ("show interfaces status", self.x_show_int_status),
            ("show interfaces description", self.x_show_int_description),
            ("show interfaces", self.x_show_interfaces),
            ("show interfaces <name> switchport", self.x_show_switchport),
            ("show interfaces <name...>", self.x_show_interfaces),
            ("show vlan brief", self.x_show_vlan_brief),
            ("show vlan id <vid>", self.x_show_vlan_id),
            ("show vlan", self.x_show_vlan),
            ("show lldp neighbors detail", self.x_show_lldp_detail),
            ("show lldp neighbors", self.x_show_lldp),
            ("show inventory", self.x_show_inventory),
            ("show snmp community", self.x_show_snmp_community),
            ("show vrf", self.x_show_vrf),
            ("show clock", self.x_show_clock),
            ("show hostname", self.x_show_hostname),
            ("show file systems", self.x_show_file_systems),
            ("show boot", self.x_show_boot),
            ("dir", self.x_dir),
            ("dir <fs...>", self.x_dir),
            ("write memory", self.x_write),
            ("write", self.x_write),
            ("copy running-config startup-config", self.x_copy_run_start),
            ("copy <source> <destination>", self.x_copy),
            ("delete <file...>", self.x_delete),
            *self.digest_commands(),
            ("reload", self.x_reload),
        ]

    def digest_commands(self) -> list[tuple[str, Handler]]:
        """The command that checks a file's hash: ``verify /md5`` on IOS and EOS."""
        return [
            ("verify <algorithm:/md5|/sha512> <path>", self.x_verify),
            ("verify <algorithm:/md5|/sha512> <path> <expected>", self.x_verify),
        ]

    def config_commands(self) -> list[tuple[str, Handler]]:
        """Global configuration commands."""
        vrf_words = self.vrf_command
        commands: list[tuple[str, Handler]] = [
            ("end", self.c_end),
            ("exit", self.c_exit),
            ("do <command...>", self.c_do),
            ("hostname <name>", self.c_hostname),
            ("no hostname", self.c_no_hostname),
            ("vlan <vids>", self.c_vlan),
            ("no vlan <vids>", self.c_no_vlan),
            ("interface <name...>", self.c_interface),
            ("no interface <name...>", self.c_no_interface),
            (f"{vrf_words} <vrf>", self.c_vrf),
            (f"no {vrf_words} <vrf>", self.c_no_vrf),
            ("ntp server <server>", self.c_ntp),
            ("ntp server <server> <options...>", self.c_ntp),
            ("no ntp server <server>", self.c_no_ntp),
            ("no ntp server <server> <options...>", self.c_no_ntp),
            (f"{self.ntp_source_command} <name...>", self.c_ntp_source),
            (f"no {self.ntp_source_command}", self.c_no_ntp_source),
            (f"no {self.ntp_source_command} <name...>", self.c_no_ntp_source),
            ("snmp-server community <community>", self.c_snmp),
            ("snmp-server community <community> <access...>", self.c_snmp),
            ("no snmp-server community <community>", self.c_no_snmp),
            ("no snmp-server community <community> <access...>", self.c_no_snmp),
            ("snmp-server location <text...>", self.c_snmp_location),
            ("no snmp-server location", self.c_no_snmp_location),
            ("no snmp-server location <text...>", self.c_no_snmp_location),
            ("snmp-server contact <text...>", self.c_snmp_contact),
            ("no snmp-server contact", self.c_no_snmp_contact),
            ("no snmp-server contact <text...>", self.c_no_snmp_contact),
            ("banner <kind:motd|login|exec>", self.c_banner),
            ("banner <kind:motd|login|exec> <text...>", self.c_banner),
            ("no banner <kind:motd|login|exec>", self.c_no_banner),
            ("username <name> <rest...>", self.c_username),
            ("no username <name>", self.c_no_username),
            ("no username <name> <rest...>", self.c_no_username),
            ("ip domain name <name>", self.c_domain),
            ("ip domain-name <name>", self.c_domain),
            ("ip route <route...>", self.c_ip_route),
            ("no ip route <route...>", self.c_no_ip_route),
            (f"{self.boot_command} <image>", self.c_boot),
            (f"no {self.boot_command}", self.c_no_boot),
            (f"no {self.boot_command} <image>", self.c_no_boot),
        ]
        if self.has_aaa_new_model:
            commands += [("aaa new-model", self.c_aaa), ("no aaa new-model", self.c_no_aaa)]
        commands += [("aaa <rest...>", self.c_aaa_line), ("no aaa <rest...>", self.c_no_aaa_line)]
        return commands

    def interface_commands(self) -> list[tuple[str, Handler]]:
        """Interface configuration commands."""
        vrf_words = self.interface_vrf_command
        return [
            ("exit", self.c_exit),
            ("end", self.c_end),
            ("description <text...>", self.i_description),
            ("no description", self.i_no_description),
            ("no description <text...>", self.i_no_description),
            ("shutdown", self.i_shutdown),
            ("no shutdown", self.i_no_shutdown),
            ("switchport", self.i_switchport),
            ("no switchport", self.i_no_switchport),
            ("switchport mode <mode:access|trunk>", self.i_mode),
            ("no switchport mode", self.i_no_mode),
            ("switchport access vlan <vid>", self.i_access_vlan),
            ("no switchport access vlan", self.i_no_access_vlan),
            ("no switchport access vlan <vid>", self.i_no_access_vlan),
            ("switchport trunk allowed vlan <vlans...>", self.i_trunk_allowed),
            ("no switchport trunk allowed vlan", self.i_no_trunk_allowed),
            ("switchport trunk native vlan <vid>", self.i_native_vlan),
            ("no switchport trunk native vlan", self.i_no_native_vlan),
            ("switchport trunk encapsulation dot1q", self.i_noop),
            ("switchport nonegotiate", self.i_noop),
            ("ip address <address>", self.i_ip_address),
            ("ip address <address> <mask>", self.i_ip_address),
            ("no ip address", self.i_no_ip_address),
            ("no ip address <address...>", self.i_no_ip_address),
            (f"{vrf_words} <vrf>", self.i_vrf),
            (f"no {vrf_words}", self.i_no_vrf),
            (f"no {vrf_words} <vrf>", self.i_no_vrf),
            ("speed <speed>", self.i_speed),
            ("no speed", self.i_noop),
        ]

    def vrf_commands(self) -> list[tuple[str, Handler]]:
        """VRF configuration commands."""
        return [
            ("rd <rd>", self.v_rd),
            ("no rd", self.v_no_rd),
            ("no rd <rd>", self.v_no_rd),
            ("address-family <afi>", self.i_noop),
            ("address-family <afi> <safi>", self.i_noop),
            ("exit-address-family", self.i_noop),
            ("exit", self.c_exit),
            ("end", self.c_end),
        ]

    # -- EXEC handlers --------------------------------------------------------------------

    def x_enable(self, s: CliSession, a: dict[str, str]) -> Response:
        if s.mode == "exec":
            return Response()
        s.mode = "enable_password"
        s.data["enable_tries"] = s.data.get("enable_tries", 0)
        return Response("Password: ", prompt=False, password_prompt=True)

    def enable_password(self, s: CliSession, line: str) -> Response:
        """The line after ``enable``: the secret, never echoed."""
        if line == s.device.enable_secret:
            s.mode = "exec"
            s.data["enable_tries"] = 0
            return Response()
        s.data["enable_tries"] = s.data.get("enable_tries", 0) + 1
        s.mode = "user"
        return Response(self.bad_secret_message())

    def bad_secret_message(self) -> str:
        """What a wrong enable secret gets."""
        return "% Access denied"

    def x_disable(self, s: CliSession, a: dict[str, str]) -> Response:
        s.mode = "user"
        return Response()

    def x_exit(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(prompt=False, close=True)

    def x_terminal_length(self, s: CliSession, a: dict[str, str]) -> Response:
        if not a["n"].isdigit():
            return self.invalid(s, f"terminal length {a['n']}", 2, False)
        s.data["length"] = int(a["n"])
        return Response(self.terminal_length_message(int(a["n"])))

    def x_terminal_width(self, s: CliSession, a: dict[str, str]) -> Response:
        if not a["n"].isdigit():
            return self.invalid(s, f"terminal width {a['n']}", 2, False)
        s.data["width"] = int(a["n"])
        return Response(self.terminal_width_message(int(a["n"])))

    def x_show_terminal(self, s: CliSession, a: dict[str, str]) -> Response:
        """The line's settings; its size follows the client's window (SSH window changes)."""
        width, length = s.terminal_size() or (80, 24)
        width, length = s.data.get("width", width), s.data.get("length", length)
        kind = s.terminal_type()
        return Response(f'Line 2, Location: "", Type: "{kind}"\nLength: {length} lines, Width: {width} columns\n')

    def terminal_length_message(self, length: int) -> str:
        """Some platforms confirm ``terminal length``; IOS says nothing."""
        return ""

    def terminal_width_message(self, width: int) -> str:
        """Some platforms confirm ``terminal width``; IOS says nothing."""
        return ""

    terminal_settings: ClassVar[tuple[str, ...]] = ("monitor", "no monitor", "no length", "no width")

    def x_terminal_other(self, s: CliSession, a: dict[str, str]) -> Response:
        setting = " ".join(a["setting"].split()).lower()
        if setting in self.terminal_settings:
            return Response()
        line = f"terminal {a['setting']}"
        return self.invalid(s, line, 1, False)

    def x_configure(self, s: CliSession, a: dict[str, str]) -> Response:
        s.mode, s.context = "config", None
        return Response(self.configure_message())

    def configure_message(self) -> str:
        """The line printed on entering configuration mode."""
        return "Enter configuration commands, one per line.  End with CNTL/Z."

    def x_show_version(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(self.show_version(s))

    def x_show_running(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(self.running_config(s.state, self.cfg(s)))

    def x_show_running_interface(self, s: CliSession, a: dict[str, str]) -> Response:
        found = self.canonical_interface(a["name"])
        config = self.cfg(s)
        if found is None or found[0] not in config.interfaces:
            return self.invalid(s, f"show running-config interface {a['name']}", 3, False)
        text = self.running_config(s.state, config)
        block: list[str] = []
        for line in text.split("\n"):
            if line == f"interface {found[0]}" or (block and (line.startswith(" "))):
                block.append(line)
            elif block:
                break
        return Response(self.running_interface_header(s) + "\n".join(block) + "\n" + self.running_interface_footer())

    def running_interface_header(self, s: CliSession) -> str:
        """What precedes one interface's configuration."""
        return "Building configuration...\n\nCurrent configuration : 100 bytes\n!\n"

    def running_interface_footer(self) -> str:
        """What follows one interface's configuration."""
        return "end\n"

    def x_show_startup(self, s: CliSession, a: dict[str, str]) -> Response:
        startup = s.state.startup or self.cfg(s)
        return Response(self.startup_config(s.state, startup))

    def startup_config(self, state: DeviceState, config: DeviceConfig) -> str:
        """``show startup-config``: the saved model rendered the same way."""
        return self.running_config(state, config)

    def x_show_ip_int_brief(self, s: CliSession, a: dict[str, str]) -> Response:
        s.data["vrf_filter"] = a.get("vrf")
        return Response(self.show_ip_interface_brief(s))

    def x_show_ip_route(self, s: CliSession, a: dict[str, str]) -> Response:
        vrf = a.get("vrf")
        if vrf is not None and vrf != "default" and vrf not in self.cfg(s).vrfs:
            return Response(self.no_such_vrf(vrf))
        return Response(self.show_ip_route(s, None if vrf in (None, "default") else vrf))

    def no_such_vrf(self, vrf: str) -> str:
        """What ``show ip route vrf X`` says about a VRF the device does not have."""
        return f"% IP routing table {vrf} does not exist"

    def routes(self, session: CliSession, vrf: str | None) -> list[Route]:
        """The routing table of ``vrf`` (None: the default VRF), from the configuration and the
        link state: interfaces that are down (shut, or no link) give no routes."""
        state, config = session.state, self.cfg(session)
        neighbors = self.neighbor_ports(session)
        up: set[str] = set()
        addresses: list[tuple[str, str]] = []
        for iface in config.interfaces.values():
            if iface.vrf != vrf or not self.is_connected(state, iface, neighbors):
                continue
            up.add(iface.name)
            routed = not iface.switchport or not iface.physical or iface.name == self.mgmt_interface
            if iface.ipv4 and routed:
                addresses.append((iface.name, iface.ipv4))
        return routing_table(addresses, up, [r for r in config.static_routes if r.vrf == vrf])

    def x_show_int_status(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(self.show_interfaces_status(s))

    def x_show_int_description(self, s: CliSession, a: dict[str, str]) -> Response:
        lines = [f"{'Interface':<31}{'Status':<15}{'Protocol':<9}Description"]
        neighbors = self.neighbor_ports(s)
        for iface in self.cfg(s).interfaces.values():
            up = self.is_connected(s.state, iface, neighbors)
            status = "admin down" if iface.shutdown else ("up" if up else "down")
            lines.append(f"{self.short_name(iface.name):<31}{status:<15}{'up' if up else 'down':<9}{iface.description}")
        return Response("\n".join(lines))

    def x_show_interfaces(self, s: CliSession, a: dict[str, str]) -> Response:
        config = self.cfg(s)
        if "name" not in a:
            return Response("\n".join(self.show_interface(s, i) for i in config.interfaces.values()))
        found = self.canonical_interface(a["name"])
        if found is None or found[0] not in config.interfaces:
            return self.invalid(s, f"show interfaces {a['name']}", 2, False)
        return Response(self.show_interface(s, config.interfaces[found[0]]))

    def x_show_switchport(self, s: CliSession, a: dict[str, str]) -> Response:
        config = self.cfg(s)
        found = self.canonical_interface(a["name"])
        if found is None or found[0] not in config.interfaces:
            return self.invalid(s, f"show interfaces {a['name']} switchport", 2, False)
        return Response(self.show_switchport(s, config.interfaces[found[0]]))

    def vlan_label(self, config: DeviceConfig, vid: int) -> str:
        """``120 (USERS)``, or ``(Inactive)`` for a VLAN the switch does not have."""
        return f"{vid} ({config.vlans[vid]})" if vid in config.vlans else f"{vid} (Inactive)"

    def show_switchport(self, session: CliSession, iface: Interface) -> str:
        """``show interfaces X switchport`` in the IOS / EOS format."""
        config = self.cfg(session)
        name = self.short_name(iface.name)
        if not iface.switchport or not iface.physical or iface.name == self.mgmt_interface:
            return f"Name: {name}\nSwitchport: Disabled\n"
        up = self.is_connected(session.state, iface, self.neighbor_ports(session))
        admin = "trunk" if iface.mode == "trunk" else "static access"
        allowed = "ALL" if iface.trunk_allowed == "1-4094" else (iface.trunk_allowed or "NONE")
        lines = [
            f"Name: {name}",
            "Switchport: Enabled",
            f"Administrative Mode: {admin}",
            f"Operational Mode: {admin if up else 'down'}",
            *self.switchport_encapsulation_lines(),
            f"Access Mode VLAN: {self.vlan_label(config, iface.access_vlan)}",
            f"Trunking Native Mode VLAN: {self.vlan_label(config, iface.native_vlan)}",
            "Administrative Native VLAN tagging: enabled",
            "Voice VLAN: none",
            f"Trunking VLANs Enabled: {allowed}",
            "Pruning VLANs Enabled: 2-1001",
            "",
            "Protected: false",
            "Unknown unicast blocked: disabled",
            "Unknown multicast blocked: disabled",
            "Appliance trust: none",
        ]
        return "\n".join(lines) + "\n"

    def switchport_encapsulation_lines(self) -> list[str]:
        """The trunking-encapsulation lines of ``show interfaces X switchport``."""
        return [
            "Administrative Trunking Encapsulation: dot1q",
            "Operational Trunking Encapsulation: native",
            "Negotiation of Trunking: Off",
        ]

    def x_show_vlan_id(self, s: CliSession, a: dict[str, str]) -> Response:
        vid = a["vid"]
        if not vid.isdigit() or not 1 <= int(vid) <= 4094:
            return self.invalid(s, s.data.get("line", f"show vlan id {vid}"), 3, False)
        return Response(self.show_vlan_id(s, int(vid)))

    def show_vlan_id(self, session: CliSession, vid: int) -> str:
        """``show vlan id N``: the rows of ``show vlan`` for that VLAN, or a "not found" line."""
        out: list[str] = []
        keep = False
        for line in self.show_vlan(session, brief=False).split("\n"):
            if line.startswith("Remote SPAN"):
                break
            words = line.split()
            if not words or words[0] == "VLAN" or words[0].startswith("---"):
                out.append(line)
                keep = False
            elif not line.startswith(" ") and words[0] == str(vid):
                out.append(line)
                keep = True
            elif line.startswith(" ") and keep:
                out.append(line)
            else:
                keep = False
        if not any(line.split()[:1] == [str(vid)] for line in out):
            return self.vlan_not_found(vid)
        return "\n".join(out).rstrip() + "\n"

    def vlan_not_found(self, vid: int) -> str:
        """What ``show vlan id N`` says about a VLAN the switch does not have."""
        return f"VLAN id {vid} not found in current VLAN database\n"

    def x_show_running_section(self, s: CliSession, a: dict[str, str]) -> Response:
        text = self.running_config(s.state, self.cfg(s))
        return Response(apply_pipe(text, "section " + a["regex"]) or "")

    def x_show_snmp_community(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(self.show_snmp_community(s))

    def show_snmp_community(self, session: CliSession) -> str:
        """``show snmp community`` in the IOS format (ILMI's entry comes with the software)."""
        config = self.cfg(session)
        entries = [("ILMI", "cisco0", "read-only", "")]
        for index, community in enumerate(config.snmp_communities, start=1):
            acl = config.snmp_acls.get(community)
            entries.append((community, f"cisco{index}", "nonvolatile", f"\taccess-list: {acl}" if acl else ""))
        lines: list[str] = []
        for name, index_name, storage, acl_text in entries:
            lines += [
                "",
                f"Community name: {name}",
                f"Community Index: {index_name}",
                f"Community SecurityName: {name}",
                f"storage-type: {storage}\t active{acl_text}",
                "",
            ]
        return "\n".join(lines) + "\n"

    def x_show_vrf(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(self.show_vrf(s))

    def vrf_interfaces(self, config: DeviceConfig, vrf: str | None) -> list[str]:
        """Short names of the interfaces in ``vrf`` (None: routed interfaces of the default VRF)."""
        names = []
        for iface in config.interfaces.values():
            if iface.vrf != vrf:
                continue
            if vrf is None and (iface.ipv4 is None or (iface.switchport and iface.physical)):
                continue
            names.append(self.short_name(iface.name))
        return names

    def show_vrf(self, session: CliSession) -> str:
        """``show vrf`` in the IOS-XE format."""
        config = self.cfg(session)
        lines = ["  Name                             Default RD            Protocols   Interfaces"]
        for name in sorted(config.vrfs, key=str.lower):
            vrf = config.vrfs[name]
            protocols = "ipv4,ipv6" if name == self.mgmt_vrf else "ipv4"
            interfaces = self.vrf_interfaces(config, name) or [""]
            lines.append(f"  {name:<32} {vrf.rd or '<not set>':<21} {protocols:<11} {interfaces[0]}".rstrip())
            lines += [f"{'':<70}{extra}" for extra in interfaces[1:]]
        return "\n".join(lines) + "\n"

    def x_show_vlan_brief(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(self.show_vlan(s, brief=True))

    def x_show_vlan(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(self.show_vlan(s, brief=False))

    def x_show_lldp(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(self.show_lldp_neighbors(s, detail=False))

    def x_show_lldp_detail(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(self.show_lldp_neighbors(s, detail=True))

    def x_show_inventory(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(self.show_inventory(s))

    def x_show_clock(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(time.strftime("*%H:%M:%S.000 UTC %a %b %d %Y", time.gmtime()))

    def x_show_hostname(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(self.cfg(s).hostname)

    def x_show_file_systems(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response(self.show_file_systems(s))

    def x_show_boot(self, s: CliSession, a: dict[str, str]) -> Response:
        boot = self.cfg(s).boot_system or s.state.boot_image or ""
        return Response(f"BOOT variable = {boot};\nManual Boot = no\nEnable Break = no")

    def x_dir(self, s: CliSession, a: dict[str, str]) -> Response:
        words = [w for w in a.get("fs", "").split() if w.lower() not in ("/all", "/recursive")]
        path = words[-1] if words else self.file_systems[0].prefix
        try:
            fs, name = self.resolve_file(path)
        except FileProblem:
            return Response(self.dir_error(path, "No such device"))
        if name:
            size = s.state.files.get(fs.prefix + name)
            if size is None:
                return Response(self.dir_error(path, NO_SUCH_FILE))
            entries = [(name, size)]
        else:
            entries = self.files_on(s.state, fs)
        return Response(self.dir_listing(s, fs, name, entries))

    def x_write(self, s: CliSession, a: dict[str, str]) -> Response:
        s.state.startup = self.cfg(s).copy()
        return Response(self.save_output())

    def x_copy_run_start(self, s: CliSession, a: dict[str, str]) -> Response:
        return self.x_write(s, a)

    def x_copy(self, s: CliSession, a: dict[str, str]) -> Response:
        source, destination = a["source"], a["destination"]
        if source.lower().startswith("run") and destination.lower().startswith("start"):
            return self.x_write(s, a)
        if ":" not in destination or not source:
            return self.invalid(s, f"copy {source} {destination}", 2, False)
        state = s.state
        source_name = source.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        content: int | None = None
        source_key: str | None = None
        if "://" in source:
            # From a server the lab does not have: a simulated download of a plausible size.
            content = 1_073_741_824 if self.version_from_image(source_name) else 4096
        else:
            try:
                source_key = self.existing_file(state, source)
            except FileProblem as exc:
                return Response(self.file_error("opening", source, exc.reason))
        try:
            fs, name = self.resolve_file(destination)
            key = fs.prefix + (name or source_name)
            size = content if content is not None else state.files[source_key or ""]
            self.check_room(state, key, size)
        except FileProblem as exc:
            return Response(self.file_error("copying", destination, exc.reason))
        if source_key is not None:
            state.copy_file(source_key, key)
        else:
            state.write_file(key, size)
        return Response(f"Copied {size} bytes from {source} to {key}\n{size} bytes copied in 12.345 secs")

    def x_delete(self, s: CliSession, a: dict[str, str]) -> Response:
        words = [w for w in a["file"].split() if w.lower() not in ("/force", "/recursive", "no-prompt")]
        path = words[-1] if words else a["file"]
        try:
            s.state.delete_file(self.existing_file(s.state, path))
        except FileProblem as exc:
            return Response(self.file_error("deleting", path, exc.reason))
        return Response()

    def x_verify(self, s: CliSession, a: dict[str, str]) -> Response:
        """``verify /md5 flash:x.bin [expected]``: the file's digest, computed by the device."""
        path, algorithm = a["path"], a["algorithm"].lstrip("/")
        try:
            key = self.existing_file(s.state, path)
        except FileProblem as exc:
            return Response(self.file_error("opening", path, exc.reason))
        digest = s.state.file_digest(key, algorithm)
        progress = self.verify_progress(s.state.files[key])
        expected = a.get("expected")
        if expected is None:
            return Response(f"{progress}verify /{algorithm} ({path}) = {digest}")
        if expected.lower() == digest:
            return Response(f"{progress}%Verified ({path}) = {digest}")
        return Response(
            f"{progress}%Error verifying {path}\nComputed signature = {digest}\nSubmitted signature = {expected}"
        )

    def verify_progress(self, size: int) -> str:
        """IOS prints a dot per chunk read, then ``Done!``; EOS prints nothing."""
        return "." * min(max(size // 8_000_000, 1), 80) + "Done!\n"

    def x_reload(self, s: CliSession, a: dict[str, str]) -> Response:
        def confirm(session: CliSession, line: str) -> Response:
            if line.strip().lower() in ("", "y", "yes", "confirm"):
                self.prepare_boot(session)
                return Response("Reload requested", prompt=False, reload=True)
            return Response()

        s.data["confirm"] = confirm
        return Response("Proceed with reload? [confirm]", prompt=False)

    def prepare_boot(self, s: CliSession) -> None:
        """On reload: boot the configured image, which sets the running version."""
        image = self.cfg(s).boot_system or s.state.boot_image
        if not image:
            return
        try:
            key = self.existing_file(s.state, image)
        except FileProblem:
            return  # a missing image: the device falls back to the one it runs
        version = self.version_from_image(key)
        if version:
            s.state.installed_version = version
            s.state.boot_image = key

    # -- configuration handlers --------------------------------------------------------------

    def c_end(self, s: CliSession, a: dict[str, str]) -> Response:
        s.mode, s.context = "exec", None
        return Response()

    def c_exit(self, s: CliSession, a: dict[str, str]) -> Response:
        if s.mode == "config":
            s.mode = "exec"
        else:
            s.mode = "config"
        s.context = None
        return Response()

    def c_do(self, s: CliSession, a: dict[str, str]) -> Response:
        mode = s.mode
        s.mode = "exec"
        try:
            return self.run_exec_line(s, a["command"])
        finally:
            if s.mode == "exec":
                s.mode = mode

    def c_hostname(self, s: CliSession, a: dict[str, str]) -> Response:
        if not _HOSTNAME.match(a["name"]):
            return self.invalid(s, f"hostname {a['name']}", 1, False)
        self.cfg(s).hostname = a["name"]
        return Response()

    def c_no_hostname(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).hostname = self.default_hostname()
        return Response()

    def default_hostname(self) -> str:
        """The host name a device has with none configured."""
        return "Switch"

    def _vids(self, s: CliSession, text: str, line: str) -> set[int] | Response:
        try:
            return parse_vlan_list(text)
        except ValueError:
            return self.invalid(s, line, 1, False)

    def c_vlan(self, s: CliSession, a: dict[str, str]) -> Response:
        vids = self._vids(s, a["vids"], f"vlan {a['vids']}")
        if isinstance(vids, Response):
            return vids
        config = self.cfg(s)
        for vid in sorted(vids):
            config.vlans.setdefault(vid, f"VLAN{vid:04d}")
        s.mode, s.context = "config-vlan", ",".join(str(v) for v in sorted(vids))
        return Response()

    def c_no_vlan(self, s: CliSession, a: dict[str, str]) -> Response:
        vids = self._vids(s, a["vids"], f"no vlan {a['vids']}")
        if isinstance(vids, Response):
            return vids
        for vid in vids:
            if vid != 1:
                self.cfg(s).vlans.pop(vid, None)
        return Response()

    def c_vlan_name(self, s: CliSession, a: dict[str, str]) -> Response:
        for vid in (s.context or "").split(","):
            self.cfg(s).vlans[int(vid)] = a["name"][:32]
        return Response()

    def c_vlan_no_name(self, s: CliSession, a: dict[str, str]) -> Response:
        for vid in (s.context or "").split(","):
            self.cfg(s).vlans[int(vid)] = f"VLAN{int(vid):04d}"
        return Response()

    def c_interface(self, s: CliSession, a: dict[str, str]) -> Response:
        found = self.canonical_interface(a["name"])
        config = self.cfg(s)
        if found is None:
            return self.invalid(s, f"interface {a['name']}", 1, False)
        name, logical = found
        if name not in config.interfaces:
            if not logical:
                return self.invalid(s, f"interface {a['name']}", 1, False)
            is_po = name.lower().startswith("port")
            config.interfaces[name] = Interface(name, switchport=is_po, physical=False)
        s.mode, s.context = "config-if", name
        return Response()

    def c_no_interface(self, s: CliSession, a: dict[str, str]) -> Response:
        found = self.canonical_interface(a["name"])
        config = self.cfg(s)
        if found is None or not found[1] or found[0] not in config.interfaces:
            return self.invalid(s, f"no interface {a['name']}", 2, False)
        del config.interfaces[found[0]]
        return Response()

    def c_vrf(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).vrfs.setdefault(a["vrf"], Vrf(a["vrf"]))
        s.mode, s.context = "config-vrf", a["vrf"]
        return Response()

    def c_no_vrf(self, s: CliSession, a: dict[str, str]) -> Response:
        config = self.cfg(s)
        if a["vrf"] not in config.vrfs:
            return Response(f"% VRF {a['vrf']} not configured.")
        del config.vrfs[a["vrf"]]
        for iface in config.interfaces.values():
            if iface.vrf == a["vrf"]:
                iface.vrf, iface.ipv4 = None, None
        return Response()

    def v_rd(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).vrfs[s.context or ""].rd = a["rd"]
        return Response()

    def v_no_rd(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).vrfs[s.context or ""].rd = None
        return Response()

    def _ntp_server_vrf(self, a: dict[str, str]) -> tuple[str, str | None] | None:
        """The server and VRF of ``ntp server [vrf V] IP [use-vrf V] [...]``; None if malformed."""
        server, vrf = a["server"], None
        words = (a.get("options") or "").split()
        if server.lower() == "vrf":
            if len(words) < 2:
                return None
            vrf, server, words = words[0], words[1], words[2:]
        for index, word in enumerate(words[:-1]):
            if word.lower() == "use-vrf":
                vrf = words[index + 1]
        return server, vrf

    def c_ntp(self, s: CliSession, a: dict[str, str]) -> Response:
        found = self._ntp_server_vrf(a)
        if found is None:
            return self.invalid(s, f"ntp server {a['server']} {a.get('options', '')}".rstrip(), 3, True)
        server, vrf = found
        config = self.cfg(s)
        if server not in config.ntp_servers:
            config.ntp_servers.append(server)
        if vrf and (vrf != "default" or self.ntp_keeps_default_vrf):
            config.ntp_vrfs[server] = vrf
        else:
            config.ntp_vrfs.pop(server, None)
        return Response()

    def c_no_ntp(self, s: CliSession, a: dict[str, str]) -> Response:
        found = self._ntp_server_vrf(a)
        config = self.cfg(s)
        if found is not None and found[0] in config.ntp_servers:
            config.ntp_servers.remove(found[0])
            config.ntp_vrfs.pop(found[0], None)
        return Response()

    def c_ntp_source(self, s: CliSession, a: dict[str, str]) -> Response:
        """The NTP source: ``ntp source X`` (IOS), ``ntp source-interface X``, ``ntp local-interface [vrf V] X``."""
        words = a["name"].split()
        vrf = None
        if len(words) == 3 and words[0].lower() == "vrf":
            vrf, words = words[1], words[2:]
        line = f"{self.ntp_source_command} {a['name']}"
        found = self.canonical_interface(" ".join(words)) if len(words) in (1, 2) else None
        if found is None:
            return self.invalid(s, line, len(self.ntp_source_command.split()) + (2 if vrf else 0), False)
        config = self.cfg(s)
        if vrf is not None and vrf not in config.vrfs:
            return Response(f"% VRF {vrf} not configured.")
        config.ntp_source, config.ntp_source_vrf = found[0], vrf
        return Response()

    def c_no_ntp_source(self, s: CliSession, a: dict[str, str]) -> Response:
        config = self.cfg(s)
        config.ntp_source, config.ntp_source_vrf = None, None
        return Response()

    def c_snmp(self, s: CliSession, a: dict[str, str]) -> Response:
        words = (a.get("access") or "ro").split()
        access = words[0].lower()
        config = self.cfg(s)
        community = a["community"]
        if access in ("ro", "rw"):
            config.snmp_communities[community] = access.upper()
            # ``RO ACL`` (IOS, EOS): the access list that may poll; without one there is none.
            if len(words) == 2:
                config.snmp_acls[community] = words[1]
            else:
                config.snmp_acls.pop(community, None)
        elif access == "group":
            mode = "RW" if len(words) > 1 and words[1] == "network-admin" else "RO"
            config.snmp_communities[community] = mode
        elif access in ("use-ipv4acl", "use-acl") and len(words) == 2:
            # NX-OS sets the access list of a community on its own line.
            config.snmp_communities.setdefault(community, "RO")
            config.snmp_acls[community] = words[1]
        else:
            return self.invalid(s, f"snmp-server community {community} {a.get('access')}", 3, False)
        return Response()

    def c_no_snmp(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).snmp_communities.pop(a["community"], None)
        self.cfg(s).snmp_acls.pop(a["community"], None)
        return Response()

    banner_kinds: ClassVar[tuple[str, ...]] = ("motd", "login")

    @staticmethod
    def set_banner(config: DeviceConfig, kind: str, text: str | None) -> None:
        """Store the ``motd`` or ``login`` banner (None removes it)."""
        if kind == "login":
            config.banner_login = text
        else:
            config.banner_motd = text

    def c_banner(self, s: CliSession, a: dict[str, str]) -> Response:
        kind = a["kind"]
        if kind not in self.banner_kinds:
            return self.invalid(s, f"banner {kind}", 1, False)
        text = a.get("text", "")
        if not text:
            return self.invalid(s, f"banner {kind}", 2, True)
        delimiter = "^C" if text.startswith("^C") else text[0]
        rest = text[len(delimiter) :]
        if delimiter in rest:
            self.set_banner(self.cfg(s), kind, rest[: rest.index(delimiter)])
            return Response()
        # The text is kept as typed, new lines included: ``banner login ^C`` then lines then
        # ``^C`` shows the same way in the running configuration.
        s.data["banner"] = {"delimiter": delimiter, "lines": [rest], "kind": kind}
        s.mode = "banner"
        return Response(f"Enter TEXT message.  End with the character '{delimiter[0]}'.", prompt=False)

    def banner_line(self, s: CliSession, line: str) -> Response:
        """One line of a multi-line banner: no prompt until the closing delimiter."""
        pending = s.data["banner"]
        delimiter = pending["delimiter"]
        if delimiter in line:
            pending["lines"].append(line[: line.index(delimiter)])
            self.set_banner(self.cfg(s), pending["kind"], "\n".join(pending["lines"]))
            del s.data["banner"]
            s.mode = "config"
            return Response()
        pending["lines"].append(line)
        return Response(prompt=False)

    def c_no_banner(self, s: CliSession, a: dict[str, str]) -> Response:
        if a["kind"] not in self.banner_kinds:
            return self.invalid(s, f"no banner {a['kind']}", 2, False)
        self.set_banner(self.cfg(s), a["kind"], None)
        return Response()

    def c_snmp_location(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).snmp_location = a["text"]
        return Response()

    def c_no_snmp_location(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).snmp_location = None
        return Response()

    def c_snmp_contact(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).snmp_contact = a["text"]
        return Response()

    def c_no_snmp_contact(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).snmp_contact = None
        return Response()

    def snmp_info_lines(self, config: DeviceConfig) -> list[str]:
        """``snmp-server location`` / ``contact``, as IOS and EOS print them."""
        out = []
        if config.snmp_location is not None:
            out.append(f"snmp-server location {config.snmp_location}")
        if config.snmp_contact is not None:
            out.append(f"snmp-server contact {config.snmp_contact}")
        return out

    # -- local users ---------------------------------------------------------------------------

    def c_username(self, s: CliSession, a: dict[str, str]) -> Response:
        """``username NAME [privilege N] (secret|password) [TYPE] VALUE [role R]``: kept as the
        device shows it, the value hashed (the state never holds a password)."""
        name, words = a["name"], a["rest"].split()
        line = f"username {name} {a['rest']}"
        privilege: str | None = None
        role: str | None = None
        kind: str | None = None
        value: str | None = None
        hashed: str | None = None
        index = 0
        while index < len(words):
            word = words[index].lower()
            if word == "privilege" and index + 1 < len(words) and words[index + 1].isdigit():
                privilege, index = words[index + 1], index + 2
            elif word == "role" and index + 1 < len(words):
                role, index = words[index + 1], index + 2
            elif word in ("secret", "password") and index + 1 < len(words) and kind is None:
                kind = word
                rest = words[index + 1 :]
                if len(rest) >= 2 and rest[0] in ("0", "5", "7", "8", "9", "sha512"):
                    hashed = None if rest[0] == "0" else f"{rest[0]} {rest[1]}"
                    value, index = rest[1], index + 3
                else:
                    value, index = rest[0], index + 2
            else:
                return self.invalid(s, line, index + 2, False)
        if kind is None and privilege is None and role is None:
            return self.invalid(s, line, 2, True)
        assert value is not None or kind is None
        self.cfg(s).users[name] = self.user_suffix(privilege, role, kind, value or "", hashed)
        return Response()

    def user_suffix(
        self, privilege: str | None, role: str | None, kind: str | None, value: str, hashed: str | None
    ) -> str:
        """What follows ``username NAME`` in the running configuration (IOS: type 9 secrets,
        type 7 passwords under ``service password-encryption``)."""
        parts = [f"privilege {privilege}"] if privilege else []
        if kind == "secret":
            parts.append(f"secret {hashed or '9 ' + _stand_in_hash('9', value)}")
        elif kind == "password":
            parts.append(f"password {hashed or '7 ' + type7(value)}")
        return " ".join(parts)

    def c_no_username(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).users.pop(a["name"], None)
        return Response()

    def user_lines(self, config: DeviceConfig, login_line: str) -> list[str]:
        """The login user's line (unless it was configured again), then the other users."""
        out = [] if config.username in config.users else [login_line]
        return out + [f"username {name} {rest}".rstrip() for name, rest in config.users.items()]

    # -- AAA method lists -------------------------------------------------------------------------

    @staticmethod
    def aaa_key(words: list[str]) -> str | None:
        """``aaa accounting commands 15 default`` for ``aaa accounting commands 15 default start-stop
        group tacacs+``: the method list a line sets (None when there is no method)."""
        for index in range(3, len(words)):
            if words[index].lower() in _AAA_METHOD_WORDS:
                return " ".join(words[:index]).lower()
        return None

    def c_aaa_line(self, s: CliSession, a: dict[str, str]) -> Response:
        words = ["aaa", *a["rest"].split()]
        config = self.cfg(s)
        line = " ".join(words)
        if words[1].lower() not in _AAA_KINDS or (self.has_aaa_new_model and not config.aaa_new_model):
            return self.invalid(s, line, 1, False)
        key = self.aaa_key(words)
        if key is None:
            return self.invalid(s, line, len(words), True)
        config.aaa_lines = [ln for ln in config.aaa_lines if self.aaa_key(ln.split()) != key]
        config.aaa_lines.append(line)
        return Response()

    def c_no_aaa_line(self, s: CliSession, a: dict[str, str]) -> Response:
        words = ["aaa", *a["rest"].split()]
        if words[1].lower() not in _AAA_KINDS:
            return self.invalid(s, "no " + " ".join(words), 2, False)
        config = self.cfg(s)
        key = self.aaa_key(words) or " ".join(words).lower()
        config.aaa_lines = [ln for ln in config.aaa_lines if self.aaa_key(ln.split()) != key]
        return Response()

    @staticmethod
    def ordered_aaa(config: DeviceConfig) -> list[str]:
        """Method lists as devices print them: authentication, authorization, then accounting."""
        return sorted(config.aaa_lines, key=lambda ln: _AAA_KINDS.index(ln.split()[1].lower()))

    def c_aaa(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).aaa_new_model = True
        return Response()

    def c_no_aaa(self, s: CliSession, a: dict[str, str]) -> Response:
        config = self.cfg(s)
        config.aaa_new_model = False
        config.aaa_lines = []  # the method lists go with AAA
        return Response()

    def parse_static_route(
        self, s: CliSession, line: str, words: list[str], offset: int, vrf: str | None, removing: bool
    ) -> StaticRoute | Response:
        """``[vrf V] PREFIX [MASK] [INTERFACE] [NEXT-HOP] [DISTANCE] [name N] [tag T] [permanent]``;
        ``words`` start at word ``offset`` of ``line`` (for the caret). Removing needs the prefix only."""
        config = self.cfg(s)
        index = 0
        if words[:1] == ["vrf"] and vrf is None:
            if len(words) < 2:
                return self.invalid(s, line, offset + 1, True)
            vrf = words[1]
            if vrf not in config.vrfs:
                return Response(f"% VRF {vrf} not configured.")
            index = 2
        if index >= len(words):
            return self.invalid(s, line, offset + index, True)
        try:
            if "/" in words[index]:
                if self.dotted_ip_only:
                    return self.invalid(s, line, offset + index, False)
                text = words[index]
                index += 1
            else:
                if self.slash_ip_only or index + 1 >= len(words):
                    return self.invalid(s, line, offset + index + (0 if self.slash_ip_only else 1), True)
                text = f"{words[index]}/{words[index + 1]}"
                index += 2
            network = ipaddress.IPv4Network(text, strict=False)
        except ValueError:
            return self.invalid(s, line, offset + index - 1, False)
        if network.network_address != ipaddress.IPv4Interface(text).ip:
            return Response("% Inconsistent address and mask")
        interface: str | None = None
        next_hop: str | None = None
        distance, name = 1, None
        if index < len(words) and not _is_address(words[index]):
            if words[index].lower() in ("null0", "null"):
                interface = "Null0"
                index += 1 if words[index].lower() == "null0" else 2
            else:
                found = self.canonical_interface(words[index])
                if found is not None and found[0] in config.interfaces:
                    interface = found[0]
                    index += 1
        if index < len(words) and _is_address(words[index]):
            next_hop = words[index]
            index += 1
        if next_hop is None and interface is None and not removing:
            return self.invalid(s, line, offset + index, index >= len(words))
        while index < len(words):
            word = words[index]
            if word.isdigit() and 1 <= int(word) <= 255:
                distance = int(word)
                index += 1
            elif word.lower() in ("name", "tag") and index + 1 < len(words):
                if word.lower() == "name":
                    name = words[index + 1]
                index += 2
            elif word.lower() == "permanent":
                index += 1
            else:
                return self.invalid(s, line, offset + index, False)
        return StaticRoute(str(network), next_hop, interface, vrf, distance, name)

    def c_ip_route(self, s: CliSession, a: dict[str, str], vrf: str | None = None) -> Response:
        line = s.data.get("line") or f"ip route {a['route']}"
        parsed = self.parse_static_route(s, line, a["route"].split(), 2, vrf, removing=False)
        if isinstance(parsed, Response):
            return parsed
        config = self.cfg(s)
        # The same prefix and next hop again replaces the route (a new distance or name).
        config.static_routes = [
            r for r in config.static_routes if (r.prefix, r.next_hop, r.interface, r.vrf) != _route_key(parsed)
        ]
        config.static_routes.append(parsed)
        return Response()

    def c_no_ip_route(self, s: CliSession, a: dict[str, str], vrf: str | None = None) -> Response:
        line = s.data.get("line") or f"no ip route {a['route']}"
        parsed = self.parse_static_route(s, line, a["route"].split(), 3, vrf, removing=True)
        if isinstance(parsed, Response):
            return parsed
        config = self.cfg(s)
        config.static_routes = [r for r in config.static_routes if not _removes(parsed, r)]
        return Response()

    def static_route_words(self, route: StaticRoute, with_vrf: bool = True) -> str:
        """The words after ``ip route`` in the running configuration."""
        network = ipaddress.IPv4Network(route.prefix)
        prefix = f"{network.network_address} {network.netmask}" if self.route_mask_dotted else str(network)
        words = [f"vrf {route.vrf}"] if route.vrf and with_vrf else []
        words.append(prefix)
        if route.interface:
            words.append(route.interface)
        if route.next_hop:
            words.append(route.next_hop)
        if route.distance != 1:
            words.append(str(route.distance))
        if route.name:
            words.append(f"name {route.name}")
        return " ".join(words)

    def c_domain(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).domain_name = a["name"]
        return Response()

    def c_boot(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).boot_system = a["image"]
        return Response()

    def c_no_boot(self, s: CliSession, a: dict[str, str]) -> Response:
        self.cfg(s).boot_system = None
        return Response()

    # -- interface handlers ------------------------------------------------------------------

    def iface(self, s: CliSession) -> Interface:
        """The interface being configured."""
        return self.cfg(s).interfaces[s.context or ""]

    def i_noop(self, s: CliSession, a: dict[str, str]) -> Response:
        return Response()

    def i_description(self, s: CliSession, a: dict[str, str]) -> Response:
        self.iface(s).description = a["text"][:240]
        return Response()

    def i_no_description(self, s: CliSession, a: dict[str, str]) -> Response:
        self.iface(s).description = ""
        return Response()

    def i_shutdown(self, s: CliSession, a: dict[str, str]) -> Response:
        self.iface(s).shutdown = True
        return Response()

    def i_no_shutdown(self, s: CliSession, a: dict[str, str]) -> Response:
        self.iface(s).shutdown = False
        return Response()

    def _switchport_only(self, s: CliSession, line: str) -> Response | None:
        iface = self.iface(s)
        if not iface.switchport:
            return self.invalid(s, line, 0, False)
        return None

    def i_switchport(self, s: CliSession, a: dict[str, str]) -> Response:
        iface = self.iface(s)
        if not iface.physical and not iface.name.lower().startswith("port"):
            return self.invalid(s, "switchport", 0, False)
        iface.switchport, iface.ipv4, iface.vrf = True, None, None
        return Response()

    def i_no_switchport(self, s: CliSession, a: dict[str, str]) -> Response:
        self.iface(s).switchport = False
        return Response()

    def i_mode(self, s: CliSession, a: dict[str, str]) -> Response:
        error = self._switchport_only(s, f"switchport mode {a['mode']}")
        if error:
            return error
        self.iface(s).mode = a["mode"]
        return Response()

    def i_no_mode(self, s: CliSession, a: dict[str, str]) -> Response:
        self.iface(s).mode = "access"
        return Response()

    def i_access_vlan(self, s: CliSession, a: dict[str, str]) -> Response:
        error = self._switchport_only(s, f"switchport access vlan {a['vid']}")
        if error:
            return error
        if not a["vid"].isdigit() or not 1 <= int(a["vid"]) <= 4094:
            return self.invalid(s, f"switchport access vlan {a['vid']}", 3, False)
        vid = int(a["vid"])
        self.iface(s).access_vlan = vid
        config = self.cfg(s)
        if vid not in config.vlans:
            config.vlans[vid] = f"VLAN{vid:04d}"
            return Response(self.access_vlan_created_message(vid))
        return Response()

    def access_vlan_created_message(self, vid: int) -> str:
        """IOS creates a missing access VLAN and says so."""
        return f"% Access VLAN does not exist. Creating vlan {vid}"

    def i_no_access_vlan(self, s: CliSession, a: dict[str, str]) -> Response:
        self.iface(s).access_vlan = 1
        return Response()

    def i_trunk_allowed(self, s: CliSession, a: dict[str, str]) -> Response:
        line = f"switchport trunk allowed vlan {a['vlans']}"
        error = self._switchport_only(s, line)
        if error:
            return error
        iface = self.iface(s)
        words = a["vlans"].split()
        verb = words[0].lower() if words else ""
        current = parse_vlan_list(iface.trunk_allowed) if iface.trunk_allowed else set()
        try:
            if verb == "all" and len(words) == 1:
                result = set(range(1, 4095))
            elif verb == "none" and len(words) == 1:
                result = set()
            elif verb in ("add", "remove", "except") and len(words) == 2:
                given = parse_vlan_list(words[1])
                if verb == "add":
                    result = current | given
                elif verb == "remove":
                    result = current - given
                else:
                    result = set(range(1, 4095)) - given
            elif len(words) == 1:
                result = parse_vlan_list(words[0])
            else:
                return self.invalid(s, line, 4, False)
        except ValueError:
            return self.invalid(s, line, 4, False)
        iface.trunk_allowed = render_vlan_list(result)
        return Response()

    def i_no_trunk_allowed(self, s: CliSession, a: dict[str, str]) -> Response:
        self.iface(s).trunk_allowed = "1-4094"
        return Response()

    def i_native_vlan(self, s: CliSession, a: dict[str, str]) -> Response:
        if not a["vid"].isdigit() or not 1 <= int(a["vid"]) <= 4094:
            return self.invalid(s, f"switchport trunk native vlan {a['vid']}", 4, False)
        self.iface(s).native_vlan = int(a["vid"])
        return Response()

    def i_no_native_vlan(self, s: CliSession, a: dict[str, str]) -> Response:
        self.iface(s).native_vlan = 1
        return Response()

    def i_ip_address(self, s: CliSession, a: dict[str, str]) -> Response:
        line = f"ip address {a['address']} {a.get('mask', '')}".rstrip()
        iface = self.iface(s)
        if iface.switchport and iface.physical:
            return self.invalid(s, line, 0, False)
        try:
            if "mask" in a:
                if self.slash_ip_only:
                    return self.invalid(s, line, 3, False)
                value = ipaddress.IPv4Interface(f"{a['address']}/{a['mask']}")
            else:
                if self.dotted_ip_only or "/" not in a["address"]:
                    return self.invalid(s, line, 2, True)
                value = ipaddress.IPv4Interface(a["address"])
        except ValueError:
            return self.invalid(s, line, 2, False)
        iface.ipv4 = f"{value.ip}/{value.network.prefixlen}"
        return Response()

    def i_no_ip_address(self, s: CliSession, a: dict[str, str]) -> Response:
        self.iface(s).ipv4 = None
        return Response()

    def i_vrf(self, s: CliSession, a: dict[str, str]) -> Response:
        config = self.cfg(s)
        iface = self.iface(s)
        if a["vrf"] not in config.vrfs:
            return Response(f"% VRF {a['vrf']} not configured.")
        had_ip = iface.ipv4 is not None
        iface.vrf, iface.ipv4 = a["vrf"], None
        if had_ip:
            return Response(self.vrf_removed_ip_message(iface.name, a["vrf"]))
        return Response()

    def vrf_removed_ip_message(self, interface: str, vrf: str) -> str:
        """Putting an interface in a VRF removes its address; IOS says so."""
        return f"% Interface {interface} IPv4 disabled and address(es) removed due to enabling VRF {vrf}"

    def i_no_vrf(self, s: CliSession, a: dict[str, str]) -> Response:
        iface = self.iface(s)
        iface.vrf, iface.ipv4 = None, None
        return Response()

    def i_speed(self, s: CliSession, a: dict[str, str]) -> Response:
        self.iface(s).speed = a["speed"]
        return Response()

    # -- helpers for renderers ---------------------------------------------------------------

    def access_ports_by_vlan(self, config: DeviceConfig) -> dict[int, list[str]]:
        """Access ports per VLAN, as ``show vlan`` lists them."""
        ports: dict[int, list[str]] = {}
        for iface in config.interfaces.values():
            if iface.switchport and iface.mode == "access" and iface.name != self.mgmt_interface:
                ports.setdefault(iface.access_vlan, []).append(self.short_name(iface.name))
        return ports

    def caret_line(self, session: CliSession, line: str, index: int) -> str:
        """Spaces then ``^`` under the word at ``index``, counting the prompt the line followed."""
        tokens = tokens_of(line)
        column = tokens[index][1] if index < len(tokens) else len(line.rstrip()) + 1
        return " " * (len(self.prompt(session)) + column) + "^"
