"""scrapli, the 2026 FFI release: natively async."""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import logging
import time
from types import TracebackType
from typing import Any

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
from drivers.trust import known_hosts_file

_DEFAULT_MODE = {"juniper_junos": "exec"}
# libscrapli's DEBUG lines spell out what it types, the enable secret included: never below INFO.
# WARNING by default: libscrapli hands every record at or above the level to Python from its
# native threads, each taking the GIL (about 26 INFO records per session, "open requested" and
# the like), which cost about 1.3 ms of CPU per session. Set the "scrapli" logger to INFO after
# importing this module to see them.
logging.getLogger("scrapli").setLevel(logging.WARNING)


def _map_libscrapli_once() -> None:
    """Make scrapli's ctypes mapping set itself up once per process instead of once per Cli.

    ``LibScrapliMapping`` is meant as a singleton (``__new__`` returns the one instance), but
    its ``__init__`` runs again on every ``Cli()``: it reloads the library and redeclares the
    argument types of every native function, about 0.45 ms of CPU per session -- and it does
    so on the instance that every other open session is using at that moment. The first
    initialisation is kept; later calls change nothing.
    """
    from scrapli.ffi_mapping import LibScrapliMapping

    init = LibScrapliMapping.__init__
    if getattr(init, "_nettui_once", False):
        return

    def init_once(self: LibScrapliMapping) -> None:
        if "cli_mapping" not in self.__dict__:
            init(self)

    init_once._nettui_once = True  # type: ignore[attr-defined]
    LibScrapliMapping.__init__ = init_once  # type: ignore[method-assign]


class ScrapliProvider(CliProviderBase):
    name = "scrapli"

    def __init__(self, target: DeviceTarget) -> None:
        self.target = target
        self.profile = profile_for(target.network_driver)
        self._cli: Any = None

    async def __aenter__(self) -> ScrapliProvider:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def default_mode(self) -> str:
        return _DEFAULT_MODE.get(self.profile.network_driver, "privileged_exec")

    async def open(self) -> None:
        """Log in; a provider already open stays as it is (``async with await connect(...)``
        opens once: a second Cli would replace the first without closing it)."""
        from scrapli import AuthOptions, Cli, LookupKeyValue, SessionOptions, TransportSsh2Options
        from scrapli.exceptions import ScrapliException

        if self._cli is not None:
            return
        _map_libscrapli_once()
        t = self.target
        creds = t.credentials
        register(s.reveal() for s in (creds.password, creds.enable_secret) if s is not None)
        lookups = [LookupKeyValue("enable", creds.enable_secret.reveal())] if creds.enable_secret else []
        cli = Cli(
            host=t.host,
            port=t.port,
            definition_file_or_name=self.profile.scrapli_definition,
            auth_options=AuthOptions(
                username=creds.username.reveal(),
                password=creds.password.reveal() if creds.password else None,
                lookups=lookups,
            ),
            session_options=SessionOptions(operation_timeout_s=max(1, round(t.timeout))),
            transport_options=TransportSsh2Options(known_hosts_path=known_hosts_file(t.known_hosts_line)),
        )
        _track(cli)
        try:
            opened = await cli.open_async()
        except ScrapliException as exc:
            await _discard(cli)
            raise _open_error(t, str(exc)) from None
        except BaseException:
            # Cancelled mid-open (a timeout around connect, a fan-out stopped): libscrapli's
            # driver is allocated and its threads run on. Close it in a task of its own, which a
            # second cancellation cannot interrupt; until it is freed, _LIVE keeps the Cli.
            with contextlib.suppress(BaseException):
                await asyncio.shield(_discard(cli))
            raise
        self._cli = cli
        if self.profile.network_driver != "juniper_junos":
            # scrapli quietly stays in user mode when the enable secret is wrong, so the mode is
            # checked on the device's own prompt. The definition's on-open steps (enable, then
            # terminal settings) end at a prompt, printed in this session: when that one is
            # already privileged, asking the device for its prompt again would be a round trip
            # for the same answer. Otherwise escalate explicitly and ask.
            prompt = _last_line(opened.result)
            if not prompt.endswith("#"):
                try:
                    await cli.enter_mode_async(self.default_mode)
                    prompt = (await cli.get_prompt_async()).result.strip()
                except ScrapliException as exc:
                    await self.close()
                    raise EnableFailed(t.name, f"enable mode refused: {first_line(str(exc))}") from None
            if prompt.endswith(">"):
                await self.close()
                raise EnableFailed(
                    t.name,
                    f"enable mode refused: still at the user prompt {prompt!r}",
                    hint="check the enable_secret entry of the device's secrets group",
                )

    async def close(self) -> None:
        if self._cli is not None:
            await _discard(self._cli)
            self._cli = None

    def _require(self) -> Any:
        if self._cli is None:
            raise DeviceError(self.target.name, "not connected (open() first)")
        return self._cli

    async def send_command(self, command: str, *, parse: bool = False) -> CommandResult:
        from scrapli.exceptions import ScrapliException

        cli = self._require()
        started = time.perf_counter()
        try:
            result = await cli.send_input_async(command, requested_mode=self.default_mode)
        except ScrapliException as exc:
            raise _session_error(self.target.name, command, exc) from None
        output = result.result
        rejected = self.profile.rejection(output) or (output.strip() if result.failed else None)
        if rejected:
            raise CommandRejected(
                self.target.name, f"the device rejected the command: {first_line(rejected)}", command=command
            )
        parsed = None
        if parse:
            try:
                data = result.textfsm_parse()
                parsed = data if isinstance(data, list) else None
            except Exception:  # no template for this command: the text stays
                parsed = None
        return CommandResult(command, output, parsed, time.perf_counter() - started)

    async def send_config(self, lines: list[str]) -> ConfigResult:
        from scrapli.exceptions import ScrapliException

        cli = self._require()
        started = time.perf_counter()
        to_send = list(lines) + (["commit"] if self.profile.commit and "commit" not in lines else [])
        try:
            result = await cli.send_inputs_async(to_send, requested_mode="configuration")
            await cli.enter_mode_async(self.default_mode)
        except ScrapliException as exc:
            raise _session_error(self.target.name, "configure", exc) from None
        output = result.result
        rejected = self.profile.rejection(output)
        if rejected or result.failed:
            raise ConfigurationError(
                self.target.name,
                f"configuration refused: {first_line(rejected or output)}",
                hint="lines before the refused one may have been applied",
            )
        return ConfigResult(list(lines), output, time.perf_counter() - started)

    async def current_prompt(self) -> str:
        return str((await self._require().get_prompt_async()).result)


# Every Cli whose native driver may still be allocated: libscrapli's I/O thread calls back into
# Python through the Cli's logger callback (a ctypes closure owned by the Cli) until the driver
# is freed -- on a read error, for instance when the device closes the connection. A Cli
# garbage-collected before that leaves libscrapli calling freed memory: the process dies with
# SIGSEGV or SIGILL in a native thread (seen as xdist workers crashing in whatever test ran when
# a lab stopped, after ScrapliProvider.open had been called twice and dropped the first Cli).
# scrapli's Cli has no finaliser and does not tie the callback's lifetime to the driver's, so
# nettui does: a Cli leaves this set only once its driver is freed (see _discard), and a
# session that was never closed, or whose close failed, is leaked rather than crashing.
_LIVE: set[Any] = set()
# libscrapli's free() can return before its I/O thread has made its last log call; that call
# goes through the Cli's ctypes callback, which must still exist then. The callbacks of the
# most recently closed sessions are kept for that (a few hundred bytes each).
_RETIRED_CALLBACKS: collections.deque[Any] = collections.deque(maxlen=8192)


async def _discard(cli: Any) -> None:
    """Close a session and free its native driver, whatever state it is in.

    A failed open leaves libscrapli's driver allocated, with native threads that still call
    back into Python: it must be closed (which frees it) rather than dropped. When closing
    itself fails, freeing would pull memory from under those threads (seen as a segfault in
    ffi_types._cb), so the Cli is kept alive in _LIVE instead: a small leak beats a crash.
    """
    from scrapli.exceptions import ScrapliException

    if cli.ptr is not None:
        try:
            await cli.close_async(force=True)
        except (ScrapliException, OSError):
            return  # stays in _LIVE
    if cli in _LIVE:
        _LIVE.discard(cli)
        _RETIRED_CALLBACKS.append(cli.logger_callback)


@atexit.register
def _close_live_sessions() -> None:
    """Close the sessions nobody closed before the interpreter tears its modules down (which
    would free their Clis under libscrapli's still running threads)."""
    from scrapli.exceptions import ScrapliException

    for cli in list(_LIVE):
        if cli.ptr is not None:
            with contextlib.suppress(ScrapliException, OSError):
                cli.close(force=True)
        if cli.ptr is None:
            _LIVE.discard(cli)
            _RETIRED_CALLBACKS.append(cli.logger_callback)


def _track(cli: Any) -> None:
    """Keep ``cli`` in _LIVE until its driver is freed, and make freeing forget the pointer.

    scrapli frees the driver in close() and when submitting the open fails, but leaves
    ``cli.ptr`` pointing at the freed driver: closing it again would be a use after free.
    """
    free = cli._free

    def free_once() -> None:
        if cli.ptr is not None:
            free()
            cli.ptr = None

    cli._free = free_once
    _LIVE.add(cli)


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1].strip() if lines else ""


_UNREACHABLE_WORDS = ("socket", "resolve", "refused", "timeout", "timed out", "unreachable", "connect")


def _open_error(target: DeviceTarget, text: str) -> DeviceError:
    lowered = text.lower()
    if "known host" in lowered or "host key" in lowered:
        return HostKeyMismatch(target.name, HOST_KEY_MISMATCH)
    if any(word in lowered for word in _UNREACHABLE_WORDS):
        return DeviceUnreachable(target.name, f"no SSH session to {target.host}:{target.port}: {first_line(text)}")
    # libscrapli reports a refused login as a transport error with no detail (the reason only
    # goes to its log), after the socket and the SSH handshake have succeeded.
    detail = text.split(":", 1)[-1].strip()
    if not detail or "auth" in lowered:
        return AuthenticationFailed(
            target.name,
            "authentication failed: the device refused the username or password",
            hint="check the device's secrets group: nettui secrets check GROUP",
        )
    return DeviceUnreachable(target.name, f"no SSH session to {target.host}:{target.port}: {first_line(text)}")


def _session_error(device: str, command: str, exc: Exception) -> DeviceError:
    text = first_line(str(exc)) or type(exc).__name__
    lowered = text.lower()
    if (
        any(w in lowered for w in ("eof", "closed", "read failed", "write failed"))
        or type(exc).__name__ == "EOFException"
    ):
        return ConnectionDropped(device, f"the session dropped: {text}", command=command)
    return DeviceError(device, f"{type(exc).__name__}: {text}", command=command)
