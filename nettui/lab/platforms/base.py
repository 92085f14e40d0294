"""What every simulated platform provides, and the command matcher they share.

A platform turns one input line, in the session's current mode, into a :class:`Response`.
Commands are matched the way network operating systems do it: every keyword may be
abbreviated (``sh ip int br``), and an unmatched word is reported with the position of the
caret under it, in the platform's own error format.
"""

from __future__ import annotations

import ipaddress
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nettui.lab.device import CliSession, LabDevice
    from nettui.lab.state import DeviceState, StaticRoute

__all__ = [
    "Command",
    "FileProblem",
    "FileSystem",
    "Grammar",
    "Match",
    "Platform",
    "Response",
    "Route",
    "apply_pipe",
    "route_age",
    "routing_table",
    "tokens_of",
]


@dataclass
class Response:
    """What the device writes back for one line of input."""

    output: str = ""
    prompt: bool = True  # banner text lines and Junos' yes/no questions print none
    close: bool = False  # exit/logout: end the session after writing
    reload: bool = False  # the device goes away and comes back with its next software
    password_prompt: bool = False  # the next line is a secret: do not echo it


@dataclass
class Match:
    """A matched command: the handler and the words it captured."""

    handler: Callable[..., Response]
    args: dict[str, str]


@dataclass
class Command:
    """One pattern of a grammar: ``"show ip interface brief"``, ``"vlan <vid>"``, ``"description <text...>"``.

    A plain word matches any abbreviation of itself; ``<name>`` captures one word;
    ``<name:a|b>`` captures one of the listed keywords (abbreviations allowed, stored in
    full); ``<name...>`` captures the rest of the line as typed.
    """

    pattern: str
    handler: Callable[..., Response]
    parts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.parts = self.pattern.split()


def tokens_of(line: str) -> list[tuple[str, int]]:
    """The words of ``line`` with their column, for caret positions."""
    return [(m.group(0), m.start()) for m in re.finditer(r"\S+", line)]


def _keyword(token: str, word: str) -> bool:
    return word.lower().startswith(token.lower()) and len(token) > 0


class Grammar:
    """An ordered list of commands; the first full match wins, like a parse tree walk."""

    def __init__(self, commands: Sequence[tuple[str, Callable[..., Response]]]) -> None:
        self.commands = [Command(pattern, handler) for pattern, handler in commands]

    def match(self, line: str) -> tuple[Match | None, int, bool]:
        """A match, or the index of the word where every command failed and whether input ran out."""
        tokens = tokens_of(line)
        best = -1
        incomplete = False
        for command in self.commands:
            args: dict[str, str] | None = {}
            depth = 0
            ran_out = False
            for index, part in enumerate(command.parts):
                if index >= len(tokens):
                    args, ran_out = None, True
                    break
                token, column = tokens[index]
                if part.endswith("...>"):
                    assert args is not None
                    args[part[1:-4]] = line[column:].rstrip()
                    depth = len(tokens)
                    break
                if part.startswith("<"):
                    name, _, choices = part[1:-1].partition(":")
                    if choices:
                        chosen = [c for c in choices.split("|") if _keyword(token, c)]
                        if not chosen:
                            args = None
                            break
                        args[name] = chosen[0]  # type: ignore[index]
                    else:
                        args[name] = token  # type: ignore[index]
                elif not _keyword(token, part):
                    args = None
                    break
                depth = index + 1
            else:
                if len(tokens) > len(command.parts):
                    args = None
            if args is not None:
                return Match(command.handler, args), 0, False
            if depth > best or (depth == best and ran_out):
                best, incomplete = depth, ran_out
        return None, max(best, 0), incomplete


def apply_pipe(text: str, pipe: str) -> str | None:
    """Cisco-style output modifiers: include, exclude, begin, section, count; None if unknown."""
    parts = pipe.strip().split(None, 1)
    if not parts:
        return None
    verb, arg = parts[0].lower(), (parts[1] if len(parts) > 1 else "")
    lines = text.split("\n")
    try:
        pattern = re.compile(arg)
    except re.error:
        pattern = re.compile(re.escape(arg))
    if "include".startswith(verb) or verb in ("i", "inc", "grep"):
        return "\n".join(line for line in lines if pattern.search(line))
    if "exclude".startswith(verb):
        return "\n".join(line for line in lines if not pattern.search(line))
    if "begin".startswith(verb):
        for index, line in enumerate(lines):
            if pattern.search(line):
                return "\n".join(lines[index:])
        return ""
    if "section".startswith(verb):
        out: list[str] = []
        inside = False
        for line in lines:
            if not line.startswith(" "):
                inside = bool(pattern.search(line))
            if inside:
                out.append(line)
        return "\n".join(out)
    if "count".startswith(verb):
        return f"Number of lines which match regexp = {sum(1 for line in lines if pattern.search(line))}"
    if verb in ("no-more", "no-mor"):
        return text
    return None


@dataclass(frozen=True)
class Route:
    """One entry of a simulated routing table, derived from the configuration when shown."""

    network: ipaddress.IPv4Network
    source: str  # "connected", "local" or "static"
    interface: str | None = None  # the interface it was configured on (or, for a static, named)
    next_hop: str | None = None
    egress: str | None = None  # the interface packets leave by (a static's next hop resolved)
    address: str | None = None  # connected and local: the interface's own address
    distance: int = 0


_NULL = ("null0", "discard")


def routing_table(
    addresses: Iterable[tuple[str, str]], up: Collection[str], statics: Iterable[StaticRoute]
) -> list[Route]:
    """The routes of one table: ``addresses`` are (interface, ``a.b.c.d/len``) of the interfaces
    that are up (``up`` names them all), ``statics`` the configured static routes.

    Each interface address gives a connected route and a local /32. A static route is installed
    when its interface is up, or its next hop is reached through a route already installed
    (connected, or another static: resolved recursively); of several statics for one prefix
    only those of the lowest distance are installed, and a connected route beats them all. The
    table is ordered by prefix, as devices print it. Computed only on a show command.
    """
    routes: list[Route] = []
    taken: set[ipaddress.IPv4Network] = set()
    for name, text in addresses:
        iface = ipaddress.IPv4Interface(text)
        if iface.network not in taken:
            taken.add(iface.network)
            routes.append(Route(iface.network, "connected", name, egress=name, address=str(iface.ip)))
        if iface.network.prefixlen < 32:
            host = ipaddress.IPv4Network(f"{iface.ip}/32")
            routes.append(Route(host, "local", name, egress=name, address=str(iface.ip)))
    pending = [r for r in statics if ipaddress.IPv4Network(r.prefix) not in taken]
    best: dict[ipaddress.IPv4Network, int] = {}
    for _ in range(len(pending) + 1):  # each pass installs at least one, or nothing more can be
        installed: list[Route] = []
        for static in list(pending):
            egress = _resolve(static, routes, up)
            if egress is None:
                continue
            pending.remove(static)
            network = ipaddress.IPv4Network(static.prefix)
            installed.append(
                Route(network, "static", static.interface, static.next_hop, egress, distance=static.distance)
            )
        if not installed:
            break
        routes += installed
    for route in routes:
        if route.source == "static":
            best[route.network] = min(best.get(route.network, 256), route.distance)
    kept = [r for r in routes if r.source != "static" or r.distance == best[r.network]]
    order = {"connected": 0, "local": 1, "static": 2}
    return sorted(kept, key=lambda r: (int(r.network.network_address), r.network.prefixlen, order[r.source]))


def _resolve(static: StaticRoute, routes: list[Route], up: Collection[str]) -> str | None:
    """The egress interface of a static route, or None while it cannot be installed."""
    if static.interface is not None:
        if static.interface.lower() in _NULL:
            return static.interface
        return static.interface if static.interface in up else None
    if static.next_hop is None:
        return None
    target = ipaddress.IPv4Address(static.next_hop)
    own = ipaddress.IPv4Network(static.prefix)
    covering = [r for r in routes if target in r.network and r.network != own and r.source != "local"]
    if not covering:
        return None
    return max(covering, key=lambda r: r.network.prefixlen).egress


def route_age(seconds: float, style: str = "cisco") -> str:
    """How long a route has been there: ``01:02:03``, ``2d03h``, ``3w2d`` (Cisco) or
    ``01:02:03``, ``2d 03:04:05``, ``3w2d 04:05:06`` (Junos)."""
    total = max(int(seconds), 0)
    weeks, rest = divmod(total, 7 * 86400)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if style == "junos":
        if weeks:
            return f"{weeks}w{days}d {clock}"
        return f"{days}d {clock}" if days else clock
    if weeks:
        return f"{weeks}w{days}d"
    return f"{days}d{hours:02d}h" if days else clock


@dataclass(frozen=True)
class FileSystem:
    """One file system of a device: where files are kept, its size, and how it is spelled.

    Files are keyed ``prefix + name`` in :attr:`DeviceState.files` (``flash:image.bin``,
    ``/var/tmp/pkg.tgz``); ``aliases`` are the other spellings a client may use for the same
    place (``flash:/``, ``/mnt/flash/`` in EOS's bash, ``file:/mnt/flash/`` for EOS's verify).
    """

    prefix: str
    total: int  # bytes
    reserved: int  # bytes used by the software itself, not listed as files
    aliases: tuple[str, ...] = ()
    kind: str = "disk"
    device: str = "/dev/sda1"  # what df shows for it
    mount: str = ""  # where a Unix shell on the device sees it

    def spellings(self) -> list[str]:
        """The prefix and its aliases, longest first (so ``flash:/`` wins over ``flash:``)."""
        return sorted((self.prefix, *self.aliases), key=len, reverse=True)


class FileProblem(Exception):
    """A file operation the device refuses; ``reason`` is the errno text (``No such file or directory``)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


NO_SUCH_FILE = "No such file or directory"
NO_SPACE = "No space left on device"


class Platform(ABC):
    """A simulated network operating system."""

    name: str = ""
    manufacturer: str = ""
    default_model: str = ""
    default_version: str = ""
    netmiko_device_type: str = ""
    scrapli_definition: str = ""
    interface_count: int = 24

    @abstractmethod
    def new_state(self, device: LabDevice) -> DeviceState:
        """The factory-fresh state of ``device``: its configuration, files and software."""

    @abstractmethod
    def prompt(self, session: CliSession) -> str:
        """The prompt for the session's current mode, exactly as the device prints it."""

    @abstractmethod
    def handle(self, session: CliSession, line: str) -> Response:
        """Run one line of input in the session's current mode."""

    @abstractmethod
    def start_mode(self, session: CliSession) -> str:
        """The mode an interactive session starts in (user EXEC or privileged)."""

    def login_banner(self, session: CliSession) -> str:
        """Text shown before the first prompt (the MOTD banner)."""
        return ""

    def physical_interfaces(self, state: DeviceState) -> list[str]:
        """Names of the front-panel ports, in order (for topology links and the inventory)."""
        return []

    serial_prefix: str = "LAB"

    def inventory_facts(self, index: int) -> dict[str, str]:
        """Serial, model and software of the device at ``index``, known without creating its state."""
        from nettui.lab.platforms.cisco_common import serial_for

        return {
            "serial": serial_for(self.serial_prefix, index),
            "model": self.default_model,
            "software_version": self.default_version,
        }

    def port_names(self) -> list[str]:
        """Front-panel port names of a factory-fresh device (known without creating state)."""
        return []

    def canonical_port(self, text: str) -> str:
        """A port name as typed (perhaps abbreviated) -> the device's full name."""
        return text

    def mgmt_ip(self, index: int) -> str:
        """The management address the device at ``index`` advertises."""
        return f"10.200.{((index + 1) >> 8) & 255}.{(index + 1) & 255 or 1}"

    def chassis_mac(self, index: int) -> str:
        """The chassis MAC the device at ``index`` advertises over LLDP."""
        return f"0000.5e00.{index & 0xFFFF:04x}"

    def system_description(self) -> str:
        """The LLDP system description of this platform."""
        return self.name

    def run_exec(self, session: CliSession, command: str) -> str:
        """An SSH exec request: run one command at full privilege and return its output."""
        response = self.handle(session, command)
        return response.output

    # -- files ----------------------------------------------------------------------------------

    # The first is where images go and where a bare file name lands.
    file_systems: tuple[FileSystem, ...] = ()

    def resolve_file(self, path: str) -> tuple[FileSystem, str]:
        """``flash:/x.bin`` -> (the flash file system, ``x.bin``); the name is empty for the file
        system itself. Raises :class:`FileProblem` for a place the device does not have."""
        text = path.strip().strip("'\"")
        if not self.file_systems:
            raise FileProblem(path, NO_SUCH_FILE)
        if text in ("", ".", "./", "~", "~/"):
            return self.file_systems[0], ""
        for fs in self.file_systems:
            for spelling in fs.spellings():
                if text == spelling.rstrip("/") or text.startswith(spelling):
                    name = text[len(spelling) :].lstrip("/") if text.startswith(spelling) else ""
                    return fs, self._file_name(path, name)
        if ":" in text.split("/", 1)[0] or text.startswith("/"):
            raise FileProblem(path, NO_SUCH_FILE)
        return self.file_systems[0], self._file_name(path, text.removeprefix("./"))

    @staticmethod
    def _file_name(path: str, name: str) -> str:
        # The lab's file systems are flat: no sub-directories.
        if "/" in name.rstrip("/") or name in (".", ".."):
            raise FileProblem(path, NO_SUCH_FILE)
        return name.rstrip("/")

    def existing_file(self, state: DeviceState, path: str) -> str:
        """The key of the existing file at ``path``; FileProblem if it is missing or a directory."""
        fs, name = self.resolve_file(path)
        if not name:
            raise FileProblem(path, "Is a directory")
        key = fs.prefix + name
        if key not in state.files:
            raise FileProblem(path, NO_SUCH_FILE)
        return key

    def used_bytes(self, state: DeviceState, fs: FileSystem) -> int:
        """What the software and the files on ``fs`` take."""
        return fs.reserved + sum(size for key, size in state.files.items() if key.startswith(fs.prefix))

    def free_bytes(self, state: DeviceState, fs: FileSystem) -> int:
        """What is left on ``fs``."""
        return max(fs.total - self.used_bytes(state, fs), 0)

    def file_system_of(self, key: str) -> FileSystem:
        """The file system a file key lives on."""
        for fs in self.file_systems:
            if key.startswith(fs.prefix):
                return fs
        raise FileProblem(key, NO_SUCH_FILE)

    def check_room(self, state: DeviceState, key: str, size: int) -> None:
        """Raise FileProblem (no space) unless a file of ``size`` bytes fits at ``key``
        (replacing what is there now)."""
        fs = self.file_system_of(key)
        if size > self.free_bytes(state, fs) + state.files.get(key, 0):
            raise FileProblem(key, NO_SPACE)

    def files_on(self, state: DeviceState, fs: FileSystem) -> list[tuple[str, int]]:
        """(name, size) of the files on ``fs``, by name."""
        return sorted((key[len(fs.prefix) :], size) for key, size in state.files.items() if key.startswith(fs.prefix))

    def describe(self) -> dict[str, Any]:
        """The names other tools know this platform by."""
        return {
            "name": self.name,
            "manufacturer": self.manufacturer,
            "netmiko": self.netmiko_device_type,
            "scrapli": self.scrapli_definition,
        }
