"""SSH CLI sessions through asyncssh: natively async, in the caller's event loop, no threads.

The terminal work that netmiko and scrapli do is done here directly: log in, take the first
prompt, enable, turn paging off, then for each command type it and read until the prompt
comes back. Per session this costs a fraction of the CPU of the other two (no polling
threads, no fixed delays), which is what a fan-out over many devices is made of.

Host keys are checked by asyncssh against the one trusted key (drivers.trust); a mismatch
is reported as :class:`HostKeyMismatch` for drivers.connect to explain.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from types import TracebackType
from typing import Any, cast

import asyncssh

from drivers.base import CommandResult, ConfigResult, DeviceTarget
from drivers.cli_common import CliProviderBase
from drivers.errors import (
    AuthenticationFailed,
    CommandRejected,
    ConfigurationError,
    ConnectionDropped,
    DeviceError,
    DeviceUnreachable,
    EnableFailed,
)
from drivers.netmiko_provider import HOST_KEY_MISMATCH, HostKeyMismatch
from drivers.platforms import profile_for
from drivers.redaction import first_line, register
from drivers.ssh_wire import tune_connection

# The fastest algorithms first (asyncssh's defaults follow, for older devices): X25519 key
# exchange instead of the post-quantum hybrid asyncssh prefers (several times the CPU, and no
# network OS offers it yet), and AES-GCM, which needs no separate MAC and runs in OpenSSL.
KEX_ALGS = "^curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256"
ENCRYPTION_ALGS = "^aes128-gcm@openssh.com,aes256-gcm@openssh.com"
TERMINAL = ("vt100", (511, 24))  # a wide terminal: devices wrap long lines at its width

# A CLI prompt, matched against the last line of output: ``sw1>``, ``sw1#``,
# ``sw1(config-if)#``, ``sw1# `` (NX-OS), ``admin@sw1> `` and ``admin@sw1# `` (Junos).
_CISCO_PROMPT = re.compile(rb"[\w.\-@/:+]{1,63}(?:\([\w.\-@/:+ ]{1,40}\))?[>#] ?")
_JUNOS_PROMPT = re.compile(rb"[\w.\-]+@[\w.\-]+[>#%] ?")
_PASSWORD_PROMPT = re.compile(rb"(?i)\s*password: ?")


@dataclass(frozen=True)
class CliDialect:
    """How one platform's CLI is driven."""

    prompt: re.Pattern[bytes]
    setup: tuple[str, ...]  # paging off, terminal width: typed after login
    enable: bool  # starts unprivileged: ``enable`` (with the secret) after login
    configure: str
    leave_config: tuple[str, ...]  # back to the exec prompt after configuring
    abandon_config: tuple[str, ...]  # leave configuration after a refused line, applying nothing more


_IOS_LIKE = CliDialect(
    _CISCO_PROMPT,
    ("terminal length 0", "terminal width 511"),
    enable=True,
    configure="configure terminal",
    leave_config=("end",),
    abandon_config=("end",),
)
DIALECTS: dict[str, CliDialect] = {
    "cisco_ios": _IOS_LIKE,
    "arista_eos": _IOS_LIKE,
    "cisco_nxos": CliDialect(
        _CISCO_PROMPT,
        ("terminal length 0", "terminal width 511"),
        enable=False,
        configure="configure terminal",
        leave_config=("end",),
        abandon_config=("end",),
    ),
    "juniper_junos": CliDialect(
        _JUNOS_PROMPT,
        ("set cli screen-length 0", "set cli screen-width 511"),
        enable=False,
        configure="configure",
        leave_config=("exit configuration-mode",),
        abandon_config=("rollback 0", "exit configuration-mode"),
    ),
}


def dialect_for(network_driver: str) -> CliDialect:
    """The CLI dialect of a platform; IOS-like for platforms nettui has no profile of."""
    return DIALECTS.get(network_driver, _IOS_LIKE)


class _Closed(Exception):
    """The channel or connection went away while output was awaited."""


class _Terminal(asyncssh.SSHClientSession[bytes]):
    """The client end of an interactive shell: collects output, wakes whoever waits for a prompt."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self._waiter: asyncio.Future[re.Pattern[bytes]] | None = None
        self._patterns: Sequence[re.Pattern[bytes]] = ()
        self._marker = b""
        self.lost: str | None = None

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.buffer += data
        if self._waiter is not None and not self._waiter.done():
            found = self._match()
            if found is not None:
                self._waiter.set_result(found)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = str(exc) if exc else "the device closed the session"
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(_Closed(self.lost))

    def _match(self) -> re.Pattern[bytes] | None:
        """The pattern the last line of output matches, once the marker has been seen."""
        buffer = self.buffer
        if self._marker and self._marker not in buffer:
            return None
        last = bytes(buffer[buffer.rfind(b"\n") + 1 :]).lstrip(b"\r")
        for pattern in self._patterns:
            if pattern.fullmatch(last):
                return pattern
        return None

    async def expect(
        self, patterns: Sequence[re.Pattern[bytes]], timeout: float, marker: bytes = b""
    ) -> tuple[re.Pattern[bytes], str]:
        """Wait until the last line matches one of ``patterns`` (after ``marker`` appeared);
        return the pattern and everything received, which is taken from the buffer."""
        self._patterns, self._marker = patterns, marker
        found = self._match()
        if found is None:
            if self.lost is not None:
                raise _Closed(self.lost)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    found = await self._waiter
            finally:
                self._waiter = None
        text = self.buffer.decode(errors="replace")
        self.buffer.clear()
        return found, text


class _Client(asyncssh.SSHClient):
    """Tunes each connection as it is made (drivers.ssh_wire) and logs in with the password
    straight away."""

    def __init__(self, password: bool) -> None:
        self._password = password

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        tune_connection(conn)
        # asyncssh first asks with the "none" method which methods the server takes: a round
        # trip that network devices always answer with "password" (and maybe
        # "keyboard-interactive"). With a password at hand, try it first, as paramiko does;
        # if the device refuses it, its answer lists the methods, and asyncssh goes on with those.
        if self._password and getattr(conn, "_auth_methods", None) == [b"none"]:
            conn._auth_methods = [b"password"]


@lru_cache(maxsize=1)
def _algorithms() -> dict[str, list[str]]:
    """The algorithm lists offered, spelled out once per process.

    asyncssh expands a list given as text ("^alg,..." = these first, then its defaults) by
    matching every name against every algorithm it knows, on every connection: about half
    the cost of preparing a connection's options. Given as explicit lists, nothing is matched.
    """
    options = asyncssh.SSHClientConnectionOptions(
        config=[], gss_host=None, kex_algs=KEX_ALGS, encryption_algs=ENCRYPTION_ALGS
    )
    return {
        "kex_algs": [a.decode() for a in options.kex_algs if not a.startswith(b"gss-")],
        "encryption_algs": [a.decode() for a in options.encryption_algs],
        "mac_algs": [a.decode() for a in options.mac_algs],
        "signature_algs": [a.decode() for a in options.signature_algs],
    }


@lru_cache(maxsize=4096)
def _known_hosts(line: str) -> tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey], list[asyncssh.SSHKey]]:
    """The one key trusted for this device (its ``[host]:port type base64`` line), parsed
    once per key, as asyncssh's (trusted host keys, CA keys, revoked keys): the line was
    chosen for this host and port, so asyncssh has no host patterns to match per connection."""
    _address, key = line.split(None, 1)
    return [asyncssh.import_public_key(key)], [], []


class AsyncsshProvider(CliProviderBase):
    name = "asyncssh"

    def __init__(self, target: DeviceTarget) -> None:
        self.target = target
        self.profile = profile_for(target.network_driver)
        self.dialect = dialect_for(self.profile.network_driver)
        self._conn: asyncssh.SSHClientConnection | None = None
        self._chan: asyncssh.SSHClientChannel[bytes] | None = None
        self._term: _Terminal | None = None
        self._prompt = ""
        self._typed_ahead: str | None = None  # the last line typed ahead and not yet read back

    async def __aenter__(self) -> AsyncsshProvider:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- session ------------------------------------------------------------------------------

    async def open(self) -> None:
        """Log in and start the shell; a provider already open stays as it is (``async with
        await connect(...)`` opens once)."""
        if self._conn is not None:
            return
        t = self.target
        creds = t.credentials
        register(s.reveal() for s in (creds.password, creds.enable_secret) if s is not None)
        try:
            conn = await asyncssh.connect(
                t.host,
                t.port,
                client_factory=partial(_Client, creds.password is not None),
                username=creds.username.reveal(),
                password=creds.password.reveal() if creds.password else None,
                known_hosts=_known_hosts(t.known_hosts_line) if t.known_hosts_line else None,
                client_keys=None,
                agent_path=None,
                config=[],
                # Nothing else to look up on disk per connection: no host-based
                # authentication keys, no X.509 trust store under ~/.ssh.
                host_based_auth=False,
                client_host_keys=[],
                x509_trusted_certs=None,
                x509_trusted_cert_paths=None,
                gss_host=None,
                compression_algs=None,
                **_algorithms(),
                connect_timeout=t.timeout,
                login_timeout=t.timeout,
            )
        except asyncssh.HostKeyNotVerifiable:
            raise HostKeyMismatch(t.name, HOST_KEY_MISMATCH) from None
        except asyncssh.PermissionDenied:
            raise AuthenticationFailed(
                t.name,
                "authentication failed: the device refused the username or password",
                hint="check the device's secrets group: nettui secrets check GROUP",
            ) from None
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            detail = first_line(str(exc)) or type(exc).__name__
            raise DeviceUnreachable(t.name, f"no SSH session to {t.host}:{t.port}: {detail}") from None
        self._conn = conn
        try:
            await self._start_shell(conn)
        except BaseException:
            await self.close()
            raise

    async def _start_shell(self, conn: asyncssh.SSHClientConnection) -> None:
        t = self.target
        term_type, term_size = TERMINAL
        try:
            self._chan, session = await conn.create_session(
                _Terminal, term_type=term_type, term_size=term_size, encoding=None
            )
        except (OSError, asyncssh.Error) as exc:
            raise DeviceUnreachable(t.name, f"the device refused a shell: {first_line(str(exc))}") from None
        self._term = cast(_Terminal, session)
        prompt = self._prompt_in(await self._read("login", (self.dialect.prompt,)))
        if self.dialect.enable and prompt.endswith(">"):
            prompt = await self._enable()
        if self.dialect.setup:
            # Typed ahead, and read back together with the first command's output: the device
            # runs the lines one after the other, as a terminal does with type-ahead, and a
            # round trip per session is saved.
            self._type("\n".join(self.dialect.setup))
            self._typed_ahead = self.dialect.setup[-1]
        self._prompt = prompt

    async def _enable(self) -> str:
        t = self.target
        secret = t.credentials.enable_secret
        if secret is None:
            raise EnableFailed(
                t.name,
                "the device is at its user prompt and no enable secret is known",
                hint="add an enable_secret entry to the device's secrets group",
            )
        self._type("enable")
        found, _ = await self._expect("enable", (_PASSWORD_PROMPT, self.dialect.prompt))
        if found is _PASSWORD_PROMPT:
            self._type(secret.reveal())
            found, output = await self._expect("enable", (_PASSWORD_PROMPT, self.dialect.prompt))
            if found is _PASSWORD_PROMPT:
                output = ""
        else:
            output = ""
        prompt = self._prompt_in(output) if output else ""
        if not prompt.endswith("#"):
            raise EnableFailed(
                t.name,
                f"enable mode refused{': still at the user prompt ' + repr(prompt) if prompt else ''}",
                hint="check the enable_secret entry of the device's secrets group",
            )
        return prompt

    async def close(self) -> None:
        conn, self._conn, self._chan, self._term = self._conn, None, None, None
        if conn is not None:
            conn.close()
            try:
                async with asyncio.timeout(self.target.timeout):
                    await conn.wait_closed()
            except (TimeoutError, OSError, asyncssh.Error):
                conn.abort()

    # -- terminal I/O ---------------------------------------------------------------------------

    def _require(self) -> _Terminal:
        if self._term is None or self._chan is None:
            raise DeviceError(self.target.name, "not connected (open() first)")
        return self._term

    def _type(self, text: str) -> None:
        self._require()
        assert self._chan is not None
        self._chan.write(text.encode() + b"\n")

    async def _expect(
        self, command: str, patterns: Sequence[re.Pattern[bytes]], marker: str = ""
    ) -> tuple[re.Pattern[bytes], str]:
        term = self._require()
        try:
            return await term.expect(patterns, self.target.timeout, marker.encode())
        except _Closed as exc:
            raise ConnectionDropped(
                self.target.name, f"the session dropped: {first_line(str(exc))}", command=command
            ) from None
        except TimeoutError:
            raise DeviceError(
                self.target.name,
                f"no prompt within {self.target.timeout:g} s",
                command=command,
                hint="the device may be slow: raise the timeout (--timeout, or the provider config's timeout)",
            ) from None

    async def _read(self, command: str, patterns: Sequence[re.Pattern[bytes]], marker: str = "") -> str:
        return (await self._expect(command, patterns, marker))[1]

    def _prompt_in(self, output: str) -> str:
        return output.rsplit("\n", 1)[-1].strip()

    async def _run(self, command: str) -> str:
        """Type ``command``; its output, without the echoed command line and the final prompt."""
        self._type(command)
        typed_ahead, self._typed_ahead = self._typed_ahead, None
        if typed_ahead is None:
            raw = await self._read(command, (self.dialect.prompt,))
        else:
            # What the typed-ahead lines printed comes first: wait for a prompt after this
            # command's echo (not the prompt after theirs), and skip up to the echo.
            raw = await self._read(command, (self.dialect.prompt,), marker=command)
            seen = raw.find(typed_ahead)
            echo = raw.find(command, raw.find("\n", seen) if seen >= 0 else 0)
            raw = raw[raw.rfind("\n", 0, echo) + 1 :] if echo >= 0 else raw
        text = raw.replace("\r\n", "\n").replace("\r", "")
        head, _, body = text.partition("\n")
        if command not in head:  # no echo (a terminal that does not echo): keep the first line
            body = text
        body, _, prompt = body.rpartition("\n")
        self._prompt = prompt.strip()
        return body

    # -- Provider -------------------------------------------------------------------------------

    async def send_command(self, command: str, *, parse: bool = False) -> CommandResult:
        started = time.perf_counter()
        output = await self._run(command)
        rejected = self.profile.rejection(output)
        if rejected:
            raise CommandRejected(
                self.target.name, f"the device rejected the command: {first_line(rejected)}", command=command
            )
        parsed = self._parse(command, output) if parse else None
        return CommandResult(command, output, parsed, time.perf_counter() - started)

    def _parse(self, command: str, output: str) -> list[dict[str, Any]] | None:
        from ntc_templates.parse import parse_output  # type: ignore[import-untyped]

        try:
            data = parse_output(platform=self.profile.ntc_platform, command=command, data=output)
        except Exception:  # no template, or a template that does not fit: the text stays
            return None
        return data if isinstance(data, list) else None

    async def send_config(self, lines: list[str]) -> ConfigResult:
        """Enter configuration mode, send each line (stopping at the first the device refuses),
        commit where the platform needs it, and leave. A refused line is never followed by the
        rest: configuration mode is left without applying anything more (Junos: rolled back)."""
        started = time.perf_counter()
        outputs = [await self._run(self.dialect.configure)]
        to_send = _banner_blocks(list(lines)) + (["commit"] if self.profile.commit and "commit" not in lines else [])
        for line in to_send:
            output = await self._run(line)
            outputs.append(output)
            rejected = self.profile.rejection(output)
            if rejected:
                for leave in self.dialect.abandon_config:
                    await self._run(leave)
                raise ConfigurationError(
                    self.target.name,
                    f"configuration refused at {line!r}: {first_line(rejected)}",
                    command=line,
                    hint="lines before the refused one may have been applied"
                    + ("" if self.profile.commit else "; check the device"),
                )
        for leave in self.dialect.leave_config:
            outputs.append(await self._run(leave))
        return ConfigResult(list(lines), "\n".join(o for o in outputs if o), time.perf_counter() - started)

    async def current_prompt(self) -> str:
        return self._prompt


def _banner_blocks(lines: list[str]) -> list[str]:
    """A multi-line banner as one entry: the device prints no prompt until its last line
    (``banner login ^C`` ... ``^C``; EOS's ``banner login`` ... ``EOF``)."""
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        words = line.split()
        index += 1
        if len(words) < 2 or words[0] != "banner":
            out.append(line)
            continue
        if len(words) == 2:
            end = "EOF"
        else:
            end = "^C" if words[2].startswith("^C") else words[2][0]
            if end in line.split(None, 2)[2][len(end) :]:
                out.append(line)  # the banner ends on its own line
                continue
        block = [line]
        while index < len(lines):
            block.append(lines[index])
            index += 1
            if (lines[index - 1].strip() == end) if end == "EOF" else (end in lines[index - 1]):
                break
        out.append("\n".join(block))
    return out
