"""Juniper Junos (an EX4300): operational ``>`` and configuration ``#`` modes, candidate and commit.

The configuration is the ordered list of ``set`` statements (what ``show configuration |
display set`` prints); the curly-brace form and every show command are derived from it.
``configure`` copies the active configuration to a candidate, ``set``/``delete`` change the
candidate, ``commit`` makes it active (the prompt follows a new host name only then),
``rollback N`` loads an older one, ``show | compare`` shows the difference.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import TYPE_CHECKING, ClassVar

from nettui.lab.platforms.base import (
    FileProblem,
    FileSystem,
    Platform,
    Response,
    Route,
    apply_pipe,
    route_age,
    routing_table,
    tokens_of,
)
from nettui.lab.platforms.cisco_common import colon_mac, serial_for, system_mac
from nettui.lab.platforms.shell import enter_shell, run_shell_line
from nettui.lab.state import DeviceState, JunosConfig, StaticRoute

if TYPE_CHECKING:
    from nettui.lab.device import CliSession, LabDevice

__all__ = ["JuniperJunos"]

_TOP_LEVEL = {
    "system",
    "interfaces",
    "vlans",
    "protocols",
    "routing-instances",
    "routing-options",
    "snmp",
    "policy-options",
    "firewall",
    "chassis",
    "forwarding-options",
    "class-of-service",
    "groups",
    "apply-groups",
    "services",
    "security",
    "poe",
    "virtual-chassis",
    "switch-options",
}
# A keyword followed by a name forms one node: "unit 0 { ... }", "user admin { ... }".
_NAMED = {"unit", "user", "community", "instance", "interface", "server", "vlan", "term", "policy-statement"}
# Containers whose children are named by the next word: "interfaces { ge-0/0/0 { ... } }".
_PARENT_OF_NAMED = {"interfaces", "vlans", "routing-instances"}
_INTERFACE_NAME = re.compile(r"^(?:(?:ge|xe|et|mge)-\d+/\d+/\d+|ae\d+|lo0|irb|me0|em\d|vme|all)$")
_WORDS = re.compile(r'"(?:[^"\\]|\\.)*"|\S+')


def _words(text: str) -> list[str]:
    return _WORDS.findall(text)


def _version_long(version: str) -> str:
    return version


class JuniperJunos(Platform):
    """Junos 21.4 on an EX4300-48T."""

    name = "juniper_junos"
    manufacturer = "Juniper"
    default_model = "ex4300-48t"
    default_version = "21.4R3-S5.4"
    netmiko_device_type = "juniper_junos"
    scrapli_definition = "juniper_junos"
    mac_oui = "2c6b.f5"
    serial_prefix = "PE"
    mgmt_interface = "me0"
    # /var/tmp, where packages are copied to (a bare file name lands there too).
    file_systems = (
        FileSystem(
            "/var/tmp/",  # noqa: S108 - a path on the simulated device
            3_221_225_472,
            776_490_189,
            aliases=("/.mount/var/tmp/",),
            device="/dev/gpt/var",
            mount="/.mount/var",
        ),
    )
    _DIGESTS: ClassVar[dict[str, tuple[str, str]]] = {
        "md5": ("md5", "MD5"),
        "sha1": ("sha1", "SHA1"),
        "sha-256": ("sha256", "SHA256"),
    }

    # -- state ---------------------------------------------------------------------------------

    def port_names(self) -> list[str]:
        """ge-0/0/0 .. ge-0/0/N-1."""
        return [f"ge-0/0/{n}" for n in range(self.interface_count)]

    def canonical_port(self, text: str) -> str:
        """Junos names are not abbreviated."""
        return text.strip()

    def chassis_mac(self, index: int) -> str:
        """Junos prints chassis ids with colons."""
        return colon_mac(system_mac(self.mac_oui, index))

    def system_description(self) -> str:
        """The LLDP system description."""
        return f"Juniper Networks, Inc. {self.default_model} Ethernet Switch, kernel JUNOS {self.default_version}"

    def physical_interfaces(self, state: DeviceState) -> list[str]:
        """The front-panel ports."""
        return self.port_names()

    def new_state(self, device: LabDevice) -> DeviceState:
        """A factory-fresh EX: every port in ethernet-switching, LLDP on, the management address."""
        address = self.mgmt_ip(device.index)
        lines = [
            f"set version {self.default_version}",
            f"set system host-name {device.name}",
            'set system root-authentication encrypted-password "$6$lab$xxxxxxxxxxxxxxxx"',
            f"set system login user {device.username} uid 2000",
            f"set system login user {device.username} class super-user",
            f'set system login user {device.username} authentication encrypted-password "$6$lab$yyyyyyyyyyyy"',
            "set system services ssh",
            "set system domain-name lab.example",
        ]
        lines += [f"set interfaces {port} unit 0 family ethernet-switching" for port in self.port_names()]
        lines += [
            f"set interfaces me0 unit 0 family inet address {address}/16",
            "set protocols lldp interface all",
            "set vlans default vlan-id 1",
        ]
        config = JunosConfig(lines)
        state = DeviceState(
            name=device.name,
            platform=self.name,
            serial=serial_for(self.serial_prefix, device.index),
            model=self.default_model,
            version=self.default_version,
            mac=system_mac(self.mac_oui, device.index),
            junos=config,
            junos_history=[config.copy()],
        )
        state.boot_image = f"/var/tmp/junos-arm-32-{self.default_version}.tgz"  # noqa: S108 - a path on the simulated device
        state.files[state.boot_image] = 512_000_000
        return state

    @staticmethod
    def active(session: CliSession) -> JunosConfig:
        """The committed configuration."""
        assert session.state.junos is not None
        return session.state.junos

    @staticmethod
    def candidate(session: CliSession) -> JunosConfig:
        """The candidate configuration of this session (made on ``configure``)."""
        found = session.data.get("candidate")
        if found is None:
            found = JuniperJunos.active(session).copy()
            session.data["candidate"] = found
        assert isinstance(found, JunosConfig)
        return found

    # -- prompts and dispatch ------------------------------------------------------------------

    def start_mode(self, session: CliSession) -> str:
        """Operational mode."""
        return "oper"

    def login_banner(self, session: CliSession) -> str:
        """The login message and the ``--- JUNOS`` line real devices print."""
        message = self.active(session).value("set system login message")
        text = f"{message.strip(chr(34))}\n" if message else ""
        return f"{text}--- JUNOS {self.default_version} Kernel 64-bit  JNPR-12.1-20230920.0ec5d6b_buil\n"

    def prompt(self, session: CliSession) -> str:
        """``admin@sw1> `` / ``[edit]`` then ``admin@sw1# ``."""
        host = self.active(session).hostname()
        user = session.device.username
        if session.mode == "config":
            edit = " ".join(session.data.get("edit", []))
            return f"\n[edit{' ' + edit if edit else ''}]\n{user}@{host}# "
        if session.mode == "confirm":
            return ""
        if session.mode == "shell":
            return "$ " if session.data.get("shell") == "sh" else "% "
        return f"{user}@{host}> "

    def error(self, session: CliSession, line: str, index: int, message: str) -> Response:
        """A caret under the word at ``index``, then the message (``syntax error.``)."""
        tokens = tokens_of(line)
        column = tokens[index][1] if index < len(tokens) else len(line) + 1
        prompt_line = self.prompt(session).split("\n")[-1]
        return Response(" " * (len(prompt_line) + column) + "^\n" + message + "\n")

    def reject_message(self, line: str) -> str:
        """What a login class without the permission gets."""
        return "error: permission denied\n"

    def handle(self, session: CliSession, line: str) -> Response:
        """Run one line in operational or configuration mode."""
        if session.mode == "shell":
            return run_shell_line(self, session, line, program=str(session.data.get("shell", "sh")))
        if session.mode == "confirm":
            handler = session.data.pop("confirm")
            session.mode = session.data.pop("confirm_mode", "oper")
            result: Response = handler(session, line)
            return result
        command, _, pipe = line.partition("|")
        command = command.strip()
        if not command:
            return Response()
        if session.mode == "config":
            response = self.config_line(session, command, pipe.strip(), line)
        else:
            response = self.oper_line(session, command, pipe.strip(), line)
        return response

    def _pipe(self, session: CliSession, text: str, pipe: str, line: str) -> Response:
        if not pipe:
            return Response(text)
        for part in (p.strip() for p in pipe.split("|")):
            if part in ("no-more", "display set"):
                continue
            verb, _, arg = part.partition(" ")
            if verb in ("match", "except"):
                result = apply_pipe(text, ("include " if verb == "match" else "exclude ") + arg)
            else:
                result = apply_pipe(text, part)
            if result is None:
                return self.error(session, line, len(tokens_of(line.split("|")[0])) + 1, "syntax error.")
            text = result
        return Response(text)

    # -- operational mode -----------------------------------------------------------------------

    def oper_line(self, session: CliSession, command: str, pipe: str, line: str) -> Response:
        """An operational-mode command."""
        words = command.split()
        head = words[0].lower()
        rest = " ".join(words[1:]).lower()
        if head in ("exit", "quit", "logout"):
            return Response(prompt=False, close=True)
        if head == "configure" and rest in ("", "exclusive", "private"):
            session.mode = "config"
            session.data["candidate"] = self.active(session).copy()
            session.data["edit"] = []
            return Response("Entering configuration mode")
        if head == "set" and words[1:3] == ["cli", "screen-width"] and len(words) == 4:
            return Response(f"Screen width set to {words[3]}")
        if head == "set" and words[1:3] == ["cli", "screen-length"] and len(words) == 4:
            return Response(f"Screen length set to {words[3]}")
        if head == "set" and rest == "cli complete-on-space off":
            return Response("Disabling complete-on-space")
        if head == "set" and rest.startswith("cli "):
            return Response()
        if head == "show":
            return self.show(session, words[1:], pipe, line)
        if head == "file" and len(words) >= 2 and words[1] == "list":
            paths = [w for w in words[2:] if w not in ("detail", "brief")]
            directory = paths[0] if paths else "/var/tmp/"  # noqa: S108 - on the simulated device
            return Response(self.file_list(session, directory, detail="detail" in words))
        if head == "file" and len(words) == 4 and words[1] == "copy":
            return self.file_copy(session, words[2], words[3])
        if head == "file" and len(words) == 3 and words[1] == "delete":
            return self.file_delete(session, words[2])
        if head == "file" and len(words) == 4 and words[1] == "checksum" and words[2] in self._DIGESTS:
            return self.file_checksum(session, words[2], words[3])
        if head == "start" and len(words) in (2, 3) and words[1] == "shell":
            session.data["shell"] = words[2] if len(words) == 3 else "csh"
            enter_shell(session)
            return Response()
        if head == "request" and words[1:4] == ["system", "software", "add"] and len(words) >= 5:
            return self.software_add(session, words[4], "reboot" in words[5:])
        if head == "request" and words[1:3] == ["system", "reboot"]:
            return self.reboot(session)
        known = {"show", "configure", "set", "file", "request", "exit", "quit", "ping", "monitor", "clear", "start"}
        if head not in known:
            return self.error(session, line, 0, "unknown command.")
        return self.error(session, line, 1, "syntax error, expecting <command>.")

    def show(self, session: CliSession, words: list[str], pipe: str, line: str) -> Response:
        """``show ...`` in operational mode."""
        what = " ".join(words).lower()
        state = session.state
        if what == "version":
            text = self.show_version(session)
        elif what == "configuration" or what.startswith("configuration "):
            path = words[1:]
            lines = self.statements_under(self.active(session), path)
            text = (
                self.display_set(lines)
                if "display set" in pipe
                else self.render_curly(lines, skip=self.skip_for(path, lines))
            )
        elif what == "interfaces terse":
            text = self.interfaces_terse(session)
        elif what == "interfaces descriptions":
            text = self.interface_descriptions(session)
        elif what in ("vlans", "vlans brief"):
            text = self.show_vlans(session)
        elif what == "lldp neighbors":
            text = self.lldp_neighbors(session)
        elif what in ("route", "route table inet.0"):
            text = self.show_route(session)
        elif what == "chassis hardware":
            text = self.chassis_hardware(session)
        elif what == "system storage":
            text = self.system_storage(state)
        elif what == "system uptime":
            now = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
            text = f"Current time: {now}\nSystem booted: {state.uptime()}"
        elif what == "interfaces" or (what.startswith("interfaces ") and len(words) == 2):
            text = self.interfaces_terse(session)
            if len(words) == 2:
                text = "\n".join(ln for ln in text.split("\n") if ln.startswith(words[1]) or ln.startswith("Interface"))
        else:
            index = 1 if words else 0
            return self.error(session, line, index, "syntax error, expecting <command>.")
        return self._pipe(session, text, pipe, line)

    # -- configuration mode ---------------------------------------------------------------------

    @staticmethod
    def skip_for(path: list[str], lines: list[str]) -> int:
        """How many words ``show configuration PATH`` leaves out: all of the path, except that a
        leaf with its value (``interfaces ge-0/0/1 description``) prints as ``description "...";``."""
        named = len(path) >= 2 and (path[-2] in _NAMED or path[-2] in _PARENT_OF_NAMED)
        if path and not named and lines and all(len(_words(ln)) == len(path) + 2 for ln in lines):
            return len(path) - 1
        return len(path)

    @staticmethod
    def display_set(lines: list[str]) -> str:
        """``| display set``: a statement that only creates a container (``set system services
        ssh``) is not printed once something is set inside it, as on a real device."""
        ordered = sorted(lines)
        hidden = {ln for ln, nxt in itertools.pairwise(ordered) if nxt.startswith(ln + " ")}
        return "\n".join(ln for ln in lines if ln not in hidden)

    @staticmethod
    def statements_under(config: JunosConfig, path: list[str]) -> list[str]:
        """The statements at or below ``path``: whole words, so ``ge-0/0/1`` is not ``ge-0/0/10``."""
        prefix = " ".join(["set", *path])
        return [ln for ln in config.lines if ln == prefix or ln.startswith(prefix + " ")]

    def config_line(self, session: CliSession, command: str, pipe: str, line: str) -> Response:
        """A configuration-mode command, on the session's candidate."""
        words = _words(command)
        head = words[0].lower()
        candidate = self.candidate(session)
        edit: list[str] = session.data.setdefault("edit", [])
        if head == "set" and len(words) >= 2:
            path = edit + words[1:]
            problem = self.check_statement(path)
            if problem is not None:
                return self.error(session, line, problem + 1 - len(edit), "syntax error.")
            candidate.add("set " + " ".join(path))
            return Response()
        if head == "delete" and len(words) >= 2:
            path = edit + words[1:]
            if candidate.delete(" ".join(path)) == 0:
                return Response("warning: statement not found")
            return Response()
        if head == "edit" and len(words) >= 2:
            session.data["edit"] = edit + words[1:]
            return Response()
        if head == "top":
            session.data["edit"] = []
            return Response()
        if head == "up":
            session.data["edit"] = edit[:-1]
            return Response()
        if head == "commit":
            return self.commit(session, words[1:])
        if head == "rollback":
            return self.rollback(session, words[1:], line)
        if head == "show":
            if "compare" in pipe:
                return Response(self.compare(self.active(session), candidate))
            lines = self.statements_under(candidate, [*edit, *words[1:]])
            path = [*edit, *words[1:]]
            text = (
                self.display_set(lines)
                if "display set" in pipe
                else self.render_curly(lines, skip=self.skip_for(path, lines))
            )
            return Response(text)
        if head == "run":
            mode = session.mode
            session.mode = "oper"
            try:
                cmd = " ".join(words[1:])
                return self.oper_line(session, cmd, pipe, cmd)
            finally:
                if session.mode == "oper":
                    session.mode = mode
        if head in ("exit", "quit") or command == "exit configuration-mode":
            if edit and command != "exit configuration-mode":
                session.data["edit"] = edit[:-1]
                return Response()
            return self.leave_config(session)
        known = {"set", "delete", "edit", "top", "up", "commit", "rollback", "show", "run", "exit", "quit", "status"}
        if head not in known:
            return self.error(session, line, 0, "unknown command.")
        return self.error(session, line, 1, "syntax error.")

    def check_statement(self, path: list[str]) -> int | None:
        """The index of the first word that makes ``set`` invalid, or None."""
        if not path or path[0] not in _TOP_LEVEL:
            return 0
        if path[0] == "interfaces" and (len(path) < 2 or not _INTERFACE_NAME.match(path[1])):
            return 1
        if len(path) < 2:
            return len(path)
        vlan_id = path[3] if path[0] == "vlans" and len(path) >= 4 and path[2] == "vlan-id" else None
        if vlan_id is not None and not (vlan_id.isdigit() and 1 <= int(vlan_id) <= 4094):
            return 3
        return None

    def leave_config(self, session: CliSession) -> Response:
        """``exit``: asks first when the candidate has uncommitted changes."""
        if self.candidate(session).lines != self.active(session).lines:

            def answer(s: CliSession, reply: str) -> Response:
                if reply.strip().lower() in ("", "yes", "y"):
                    s.mode = "oper"
                    s.data.pop("candidate", None)
                    return Response("Exiting configuration mode")
                s.mode = "config"
                return Response()

            session.data["confirm"] = answer
            session.data["confirm_mode"] = "config"
            session.mode = "confirm"
            return Response(
                "The configuration has been changed but not committed\nExit with uncommitted changes? [yes,no] (yes) ",
                prompt=False,
            )
        session.mode = "oper"
        session.data.pop("candidate", None)
        return Response("Exiting configuration mode")

    def commit(self, session: CliSession, options: list[str]) -> Response:
        """``commit [check|and-quit|confirmed N|comment "..."]``."""
        candidate = self.candidate(session)
        if options[:1] == ["check"]:
            return Response("configuration check succeeds")
        state = session.state
        state.junos = candidate.copy()
        state.junos_history.insert(0, candidate.copy())
        del state.junos_history[50:]  # Junos keeps 50 rollbacks
        session.data["candidate"] = candidate.copy()
        if options[:1] == ["confirmed"]:
            minutes = options[1] if len(options) > 1 else "10"
            return Response(
                f"commit confirmed will be automatically rolled back in {minutes} minutes unless confirmed\n"
                "commit complete"
            )
        if "and-quit" in options:
            session.mode = "oper"
            session.data.pop("candidate", None)
            return Response("commit complete\nExiting configuration mode")
        return Response("commit complete")

    def rollback(self, session: CliSession, options: list[str], line: str) -> Response:
        """``rollback [N]``: load a committed configuration into the candidate."""
        number = options[0] if options else "0"
        history = session.state.junos_history
        if not number.isdigit() or int(number) >= max(len(history), 1):
            return self.error(session, line, 1, "error: rollback: no such configuration")
        session.data["candidate"] = (history[int(number)] if history else self.active(session)).copy()
        return Response("load complete")

    @staticmethod
    def compare(active: JunosConfig, candidate: JunosConfig) -> str:
        """``show | compare``: removed and added statements under their ``[edit ...]`` levels."""
        old, new = set(active.lines), set(candidate.lines)
        out: list[str] = []
        last_header = None
        changes = [("-", ln) for ln in active.lines if ln not in new] + [
            ("+", ln) for ln in candidate.lines if ln not in old
        ]
        for sign, statement in changes:
            words = _words(statement)[1:]
            parent, leaf = words[:-2] if len(words) > 2 else words[:-1], words[-2:] if len(words) > 2 else words[-1:]
            header = f"[edit {' '.join(parent)}]" if parent else "[edit]"
            if header != last_header:
                out.append(header)
                last_header = header
            out.append(f"{sign}   {' '.join(leaf)};")
        return "\n".join(out)

    @staticmethod
    def render_curly(lines: list[str], skip: int = 0) -> str:
        """The ``{ ... }`` form of ``set`` statements, below the first ``skip`` words."""
        tree: dict[str, dict[str, object] | None] = {}
        for statement in lines:
            words = _words(statement)[1 + skip :]
            node = tree
            index = 0
            while index < len(words):
                word = words[index]
                remaining = len(words) - index
                if (word in _NAMED and remaining >= 3) or (word in _NAMED and remaining == 2 and word == "unit"):
                    key = f"{word} {words[index + 1]}"
                    index += 2
                elif remaining == 2 and word not in _PARENT_OF_NAMED and word not in _TOP_LEVEL:
                    node.setdefault(f"{word} {words[index + 1]}", None)
                    break
                elif remaining == 1:
                    node.setdefault(word, None)
                    break
                else:
                    key = word
                    index += 1
                child = node.get(key)
                if not isinstance(child, dict):
                    child = {}
                    node[key] = child
                node = child  # type: ignore[assignment]
                if index >= len(words):
                    break
        out: list[str] = []

        def emit(node: dict[str, object], depth: int) -> None:
            pad = "    " * depth
            for key, child in node.items():
                if isinstance(child, dict):
                    if child:
                        out.append(f"{pad}{key} {{")
                        emit(child, depth + 1)
                        out.append(f"{pad}}}")
                    else:
                        out.append(f"{pad}{key};")
                else:
                    out.append(f"{pad}{key};")

        emit(tree, 0)  # type: ignore[arg-type]
        return "\n".join(out)

    # -- derived views --------------------------------------------------------------------------

    def _interfaces(self, config: JunosConfig) -> dict[str, dict[str, object]]:
        """Interface facts from the statements: disabled, description, addresses, VLAN members."""
        found: dict[str, dict[str, object]] = {}
        for statement in config.lines:
            words = _words(statement)
            if len(words) < 3 or words[1] != "interfaces":
                continue
            name = words[2]
            info = found.setdefault(
                name, {"disable": False, "description": "", "inet": [], "members": [], "units": set()}
            )
            rest = words[3:]
            if rest == ["disable"]:
                info["disable"] = True
            elif rest[:1] == ["description"] and len(rest) > 1:
                info["description"] = " ".join(rest[1:]).strip('"')
            elif rest[:1] == ["unit"] and len(rest) >= 2:
                units = info["units"]
                assert isinstance(units, set)
                units.add(rest[1])
                if rest[2:5] == ["family", "inet", "address"] and len(rest) > 5:
                    inet = info["inet"]
                    assert isinstance(inet, list)
                    inet.append((rest[1], rest[5]))
                if rest[2:4] == ["family", "ethernet-switching"] and rest[4:6] == ["vlan", "members"] and len(rest) > 6:
                    members = info["members"]
                    assert isinstance(members, list)
                    members.append(rest[6])
        return found

    def _up(self, session: CliSession, name: str, info: dict[str, object]) -> bool:
        if info.get("disable"):
            return False
        if name == "me0" or name == "lo0":
            return True
        linked = {n.local_port for n in session.device.neighbors}
        ports = self.port_names()
        return name in linked or (name in ports and ports.index(name) < 2)

    def interfaces_terse(self, session: CliSession) -> str:
        """``show interfaces terse``."""
        infos = self._interfaces(self.active(session))
        lines = ["Interface               Admin Link Proto    Local                 Remote"]
        names = self.port_names() + [n for n in infos if n not in self.port_names()]
        for name in names:
            info = infos.get(name, {"disable": False, "inet": [], "units": set()})
            admin = "down" if info.get("disable") else "up"
            link = "up" if self._up(session, name, info) else "down"
            lines.append(f"{name:<24}{admin:<6}{link}")
            units = info.get("units") or set()
            assert isinstance(units, set)
            inet = info.get("inet") or []
            assert isinstance(inet, list)
            for unit in sorted(units):
                addresses = [a for u, a in inet if u == unit]
                proto = "inet" if addresses else "eth-switch"
                local = addresses[0] if addresses else ""
                lines.append(f"{name + '.' + unit:<24}{admin:<6}{link:<5}{proto:<9}{local}".rstrip())
        return "\n".join(lines)

    def interface_descriptions(self, session: CliSession) -> str:
        """``show interfaces descriptions``."""
        infos = self._interfaces(self.active(session))
        lines = ["Interface       Admin Link Description"]
        for name, info in infos.items():
            if info.get("description"):
                admin = "down" if info.get("disable") else "up"
                link = "up" if self._up(session, name, info) else "down"
                lines.append(f"{name:<16}{admin:<6}{link:<5}{info['description']}")
        return "\n".join(lines)

    def show_vlans(self, session: CliSession) -> str:
        """``show vlans`` (ELS format)."""
        config = self.active(session)
        vlans: dict[str, str] = {}
        for statement in config.lines:
            words = _words(statement)
            if len(words) >= 5 and words[1] == "vlans" and words[3] == "vlan-id":
                vlans[words[2]] = words[4]
        members: dict[str, list[str]] = {}
        for name, info in self._interfaces(config).items():
            for member in info.get("members") or []:  # type: ignore[attr-defined]
                key = next((n for n, tag in vlans.items() if member in (n, tag)), member)
                members.setdefault(key, []).append(f"{name}.0")
        lines = ["", "Routing instance        VLAN name             Tag          Interfaces"]
        for name, tag in sorted(vlans.items(), key=lambda item: int(item[1])):
            lines.append(f"{'default-switch':<24}{name:<22}{tag:<13}")
            for interface in members.get(name, []):
                lines.append(f"{'':<59}{interface}*")
        return "\n".join(lines)

    def routes(self, session: CliSession) -> list[Route]:
        """inet.0: the addresses of the interfaces that are up (``disable`` or no link: none) and
        ``routing-options static route P next-hop|discard`` (preference 5 unless set)."""
        config = self.active(session)
        up: set[str] = set()
        addresses: list[tuple[str, str]] = []
        for name, info in self._interfaces(config).items():
            if not self._up(session, name, info):
                continue
            for unit in info.get("units") or set():  # type: ignore[attr-defined]
                up.add(f"{name}.{unit}")
            for unit, address in info.get("inet") or []:  # type: ignore[attr-defined]
                addresses.append((f"{name}.{unit}", address))
        hops: dict[str, list[str]] = {}
        preference: dict[str, int] = {}
        for statement in config.lines:
            words = _words(statement)
            if words[1:4] != ["routing-options", "static", "route"] or len(words) < 6:
                continue
            prefix, rest = words[4], words[5:]
            if rest[0] == "next-hop" and len(rest) > 1:
                hops.setdefault(prefix, []).append(rest[1])
            elif rest[0] == "discard":
                hops.setdefault(prefix, []).append("discard")
            elif rest[0] == "preference" and len(rest) > 1 and rest[1].isdigit():
                preference[prefix] = int(rest[1])
        statics: list[StaticRoute] = []
        for prefix, targets in hops.items():
            for target in targets:
                is_address = re.fullmatch(r"\d+\.\d+\.\d+\.\d+", target) is not None
                statics.append(
                    StaticRoute(
                        prefix,
                        next_hop=target if is_address else None,
                        interface=None if is_address else target,
                        distance=preference.get(prefix, 5),
                    )
                )
        return routing_table(addresses, up, statics)

    def show_route(self, session: CliSession) -> str:
        """``show route``: inet.0 in the Junos format (``*[Direct/0]``, ``>  to X via ge-0/0/0.0``)."""
        routes = self.routes(session)
        age = route_age(time.time() - session.state.booted_at, "junos")
        destinations = len({r.network for r in routes})
        lines = [
            "",
            f"inet.0: {destinations} destinations, {len(routes)} routes ({len(routes)} active, 0 holddown, 0 hidden)",
            "+ = Active Route, - = Last Active, * = Both",
            "",
        ]
        previous = None
        for route in routes:
            kind = {"connected": "Direct", "local": "Local", "static": "Static"}[route.source]
            head = f"{route.network!s:<18} " if route.network != previous else " " * 19
            if route.network != previous:
                lines.append(f"{head}*[{kind}/{route.distance}] {age}")
            previous = route.network
            if route.source == "local":
                lines.append(f"{'':<23}Local via {route.interface}")
            elif route.source == "connected":
                lines.append(f"{'':<20}>  via {route.interface}")
            elif route.interface == "discard":
                lines.append(f"{'':<23}Discard")
            elif route.next_hop:
                lines.append(f"{'':<20}>  to {route.next_hop} via {route.egress}")
            else:
                lines.append(f"{'':<20}>  via {route.interface}")
        return "\n".join(lines) + "\n"

    def lldp_neighbors(self, session: CliSession) -> str:
        """``show lldp neighbors``."""
        lines = ["Local Interface    Parent Interface    Chassis Id          Port info          System Name"]
        for n in session.device.neighbors:
            lines.append(f"{n.local_port:<19}{'-':<20}{n.chassis_mac:<20}{n.port:<19}{n.name}")
        return "\n".join(lines)

    def show_version(self, session: CliSession) -> str:
        """``show version`` (EX, single member): the running version; an added package only
        runs after the reboot."""
        state = session.state
        version = state.version
        return f"""fpc0:
--------------------------------------------------------------------------
Hostname: {self.active(session).hostname()}
Model: {state.model}
Junos: {version}
JUNOS OS Kernel 32-bit  [20230920.0ec5d6b_builder_stable_11]
JUNOS OS libs [20230920.0ec5d6b_builder_stable_11]
JUNOS OS runtime [20230920.0ec5d6b_builder_stable_11]
JUNOS OS time zone information [20230920.0ec5d6b_builder_stable_11]
JUNOS network stack and utilities [{version}]
JUNOS EX  Software Suite [{version}]
JUNOS Web Management Platform Package [{version}]
"""

    def chassis_hardware(self, session: CliSession) -> str:
        """``show chassis hardware``: the inventory."""
        state = session.state
        return f"""Hardware inventory:
Item             Version  Part number  Serial number     Description
Chassis                                {state.serial:<17} EX4300-48T
Routing Engine 0 REV 05   650-044931   {state.serial:<17} EX4300-48T
FPC 0            REV 05   650-044931   {state.serial:<17} EX4300-48T
  CPU                     BUILTIN      BUILTIN           FPC CPU
  PIC 0                   BUILTIN      BUILTIN           48x10/100/1000 Base-T
Power Supply 0   REV 04   740-046873   1EDE{state.serial[2:]:<13} JPSU-350-AC-AFO
Fan Tray 0                                               Fan Module, Airflow Out (AFO)"""

    def system_storage(self, state: DeviceState) -> str:
        """``show system storage``: /var (where /var/tmp is) as its files leave it."""
        fs = self.file_systems[0]
        used = self.used_bytes(state, fs)
        free = self.free_bytes(state, fs)
        percent = -(-used * 100 // fs.total)
        return f"""fpc0:
--------------------------------------------------------------------------
Filesystem              Size       Used      Avail  Capacity  Mounted on
/dev/gpt/junos          1.3G       1.1G        77M       94%  /.mount
tmpfs                   1.1G        32K       1.1G        0%  /.mount/tmp
{fs.device:<16}{_human(fs.total):>12}{_human(used):>11}{_human(free):>11}{percent:>9}%  {fs.mount}"""

    def file_list(self, session: CliSession, directory: str, detail: bool = False) -> str:
        """``file list /var/tmp/ [detail]``."""
        try:
            fs, name = self.resolve_file(directory)
        except FileProblem as exc:
            return f"{directory}: {exc.reason}"
        entries = self.files_on(session.state, fs)
        if name:
            entries = [(n, size) for n, size in entries if n == name]
            if not entries:
                return f"{directory}: No such file or directory"
        if detail:
            lines = [f"-rw-r--r--  1 root  wheel  {size:>10} Dec 19 06:51 {n}" for n, size in entries]
            return "\n".join([f"{fs.prefix}:", *lines, f"total files: {len(entries)}"])
        return "\n".join([f"{fs.prefix}:", *(n for n, _ in entries)])

    def file_copy(self, session: CliSession, source: str, destination: str) -> Response:
        """``file copy SOURCE /var/tmp/NAME``: from a URL (simulated) or another file here."""
        state = session.state
        source_name = source.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        source_key: str | None = None
        try:
            if "://" not in source:
                source_key = self.existing_file(state, source)
            fs, name = self.resolve_file(destination)
            key = fs.prefix + (name or source_name)
            # From a URL: a simulated download of a plausible size.
            size = state.files[source_key] if source_key else (512_000_000 if key.endswith(".tgz") else 4096)
            self.check_room(state, key, size)
        except FileProblem as exc:
            return Response(f"error: file copy failed: {exc.path}: {exc.reason}")
        if source_key is not None:
            state.copy_file(source_key, key)
        else:
            state.write_file(key, size)
        return Response(f"{key.rsplit('/', 1)[-1]}                     100%  {size // 1_048_576}MB  48.8MB/s   00:10")

    def file_delete(self, session: CliSession, path: str) -> Response:
        """``file delete /var/tmp/NAME``."""
        try:
            session.state.delete_file(self.existing_file(session.state, path))
        except FileProblem as exc:
            return Response(f"error: {path}: {exc.reason}")
        return Response()

    def file_checksum(self, session: CliSession, kind: str, path: str) -> Response:
        """``file checksum md5 /var/tmp/NAME``: ``MD5 (/var/tmp/NAME) = digest``."""
        algorithm, label = self._DIGESTS[kind]
        try:
            key = self.existing_file(session.state, path)
        except FileProblem as exc:
            return Response(f"{algorithm}: {path}: {exc.reason}")
        return Response(f"{label} ({path}) = {session.state.file_digest(key, algorithm)}")

    def software_add(self, session: CliSession, package: str, reboot: bool) -> Response:
        """``request system software add PACKAGE [reboot]``: the next boot runs its version."""
        try:
            key = self.existing_file(session.state, package)
        except FileProblem:
            return Response(f"error: file does not exist: {package}")
        found = re.search(r"-(\d+\.\d+R[\w.-]+?)(?:-signed)?\.tgz$", key)
        if not found:
            return Response(f"error: {package}: not a Junos package")
        session.state.installed_version = found.group(1)
        session.state.boot_image = key
        text = (
            f"Validating on fpc0\nInstalling package '{package}' ...\n"
            "Software installation complete; reboot to activate"
        )
        if reboot:
            return Response(text + "\nRebooting ...\nShutdown NOW!", prompt=False, reload=True)
        return Response(text + "\nWARNING: A reboot is required to install the software")

    def reboot(self, session: CliSession) -> Response:
        """``request system reboot``: asks, then the device goes away."""

        def answer(s: CliSession, reply: str) -> Response:
            if reply.strip().lower() in ("yes", "y"):
                return Response("Shutdown NOW!\n[pid 4242]", prompt=False, reload=True)
            return Response()

        session.data["confirm"] = answer
        session.data["confirm_mode"] = "oper"
        session.mode = "confirm"
        return Response("Reboot the system ? [yes,no] (no) ", prompt=False)

    def run_exec(self, session: CliSession, command: str) -> str:
        """An SSH exec request runs in operational mode."""
        session.mode = "oper"
        return self.handle(session, command).output

    interface_vrf: ClassVar[str] = "routing-instances"


def _human(size: int) -> str:
    """Sizes as Junos prints them: ``3.0G``, ``77M``, ``32K``."""
    value = float(size)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{value:.1f}{unit}" if unit in ("G", "T") else f"{value:.0f}{unit}"
        value /= 1024
    return f"{value:.1f}T"
