"""One simulated device and the terminal line discipline of a session on it.

:class:`LabDevice` is cheap: the lab creates a thousand of them up front, and each one's
state (configuration, files) is created on first use. :class:`CliSession` is what a real
device's terminal does with the bytes a client types: it echoes characters, handles
backspace and CR/LF, hides passwords, and hands each complete line to the platform, then
prints the output and the prompt after a newline, the way netmiko and scrapli expect.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nettui.lab.faults import Faults
from nettui.lab.platforms import get_platform
from nettui.lab.platforms.base import Platform, Response
from nettui.lab.state import DeviceState, LldpNeighbor

__all__ = ["CliSession", "LabDevice"]

log = logging.getLogger(__name__)

_BACKSPACES = ("\x08", "\x7f")
_MAX_LINE = 4096  # a line longer than any real CLI accepts is cut, so input cannot grow without bound
_TYPED_RUN = re.compile(r"[^\x00-\x1f\x7f]+")  # printable characters: added to the line and echoed as typed


@dataclass(eq=False)
class LabDevice:
    """A device of the lab: how to reach it, its credentials, its faults and (lazily) its state."""

    name: str
    platform_name: str
    index: int
    host: str = "127.0.0.1"
    port: int = 0
    username: str = "admin"
    password: str = "admin"  # noqa: S105 - the simulated device's lab credential
    enable_secret: str = "enable"  # noqa: S105
    faults: Faults = field(default_factory=Faults)
    neighbors: list[LldpNeighbor] = field(default_factory=list)
    reload_seconds: float = 5.0
    _state: DeviceState | None = field(default=None, repr=False)
    # Breaks and signals its sessions received ("break 1000", "signal INT"), as a console
    # server's log would show them; the lab keeps the last hundred.
    line_events: list[str] = field(default_factory=list, repr=False)
    on_reload: Callable[[LabDevice], None] | None = field(default=None, repr=False)

    @property
    def platform(self) -> Platform:
        """The platform object (shared by every device of that platform)."""
        return get_platform(self.platform_name)

    @property
    def state(self) -> DeviceState:
        """The device's state, created on first use so that idle devices cost almost nothing."""
        if self._state is None:
            self._state = self.platform.new_state(self)
        return self._state

    @property
    def has_state(self) -> bool:
        """Whether the state was created (used or loaded) already."""
        return self._state is not None

    def set_state(self, state: DeviceState) -> None:
        """Replace the state (loading a saved lab)."""
        self._state = state

    @property
    def hostname(self) -> str:
        """The host name the device is configured with now (its prompt)."""
        return self.state.hostname()

    def request_reload(self) -> None:
        """Reload: the lab closes the port for ``reload_seconds`` and boots the next software."""
        if self.on_reload is not None:
            self.on_reload(self)

    def credentials(self) -> dict[str, str]:
        """Username, password and enable secret, for tests and the inventory's env file."""
        return {"username": self.username, "password": self.password, "enable_secret": self.enable_secret}


class CliSession:
    """The terminal of one interactive session: echo, line editing, modes and prompts."""

    def __init__(
        self,
        device: LabDevice,
        write: Callable[[str], None],
        close: Callable[[], None],
        *,
        newline: str = "\r\n",
    ) -> None:
        self.device = device
        self.platform = device.platform
        self.state = device.state
        self.mode = ""
        self.context: str | None = None  # the interface, VLAN or VRF being configured
        self.data: dict[str, Any] = {}  # per-platform scratch: banner delimiter, Junos candidate
        self.newline = newline
        self._write = write
        self._close = close
        self._pending = ""
        self._line: list[str] = []
        self._busy = False
        self._closed = False
        self._after_cr = False
        self._escape = 0
        self._echo = True

    # -- output ---------------------------------------------------------------------------

    def write(self, text: str) -> None:
        """Write text, turning every newline into the terminal's CR LF."""
        if self._closed or not text:
            return
        self._write(text.replace("\r\n", "\n").replace("\n", self.newline))

    def start(self) -> None:
        """Print the banner and the first prompt."""
        self.mode = self.platform.start_mode(self)
        banner = self.platform.login_banner(self)
        self.write(banner + self.platform.prompt(self))

    def run_exec(self, command: str) -> str:
        """Run an SSH exec request's command and return its output (no echo, no prompt)."""
        self.mode = "exec"
        if self.device.faults.rejects(command):
            return self.platform_reject(command)
        try:
            return self.platform.run_exec(self, command)
        except Exception:
            log.exception("lab device %s failed on exec %r", self.device.name, command)
            return "% Internal error\n"

    def platform_reject(self, line: str) -> str:
        """What the device says when its authorisation refuses ``line``."""
        reject = getattr(self.platform, "reject_message", None)
        if callable(reject):
            return str(reject(line))
        return "Command authorization failed.\n"

    def terminal_size(self) -> tuple[int, int] | None:
        """The client's window (columns, lines) as the SSH channel last heard it, window
        changes included; None without a PTY. The channel is the one the session writes to."""
        get_size = getattr(self._channel(), "get_terminal_size", None)
        if get_size is None:
            return None
        width, height = get_size()[:2]
        return (width, height) if width and height else None

    def terminal_type(self) -> str:
        """The client's terminal type (TERM), "" without a PTY."""
        get_type = getattr(self._channel(), "get_terminal_type", None)
        return (get_type() or "") if get_type is not None else ""

    def _channel(self) -> Any:
        return getattr(getattr(self._write, "__self__", None), "_chan", None)

    # -- input ----------------------------------------------------------------------------

    def feed(self, data: str) -> None:
        """Take bytes typed by the client; complete lines are run one after the other."""
        if self._closed:
            return
        self._pending += data
        self._pump()

    def close(self) -> None:
        """Stop handling input (the channel is gone)."""
        self._closed = True

    def _pump(self) -> None:
        # Characters are consumed only while no command is in progress, so type-ahead is
        # echoed after the previous command's output, as a real terminal line does.
        while self._pending and not self._busy and not self._closed:
            if not self._escape:
                # A run of ordinary characters (most of what is typed) is taken in one step.
                run = _TYPED_RUN.match(self._pending)
                if run is not None:
                    text = run.group(0)
                    self._pending = self._pending[len(text) :]
                    self._after_cr = False
                    kept = text[: max(_MAX_LINE - len(self._line), 0)]
                    self._line.extend(kept)
                    if self._echo and kept:
                        self._write(kept)
                    continue
            char = self._pending[0]
            self._pending = self._pending[1:]
            if self._escape == 1:
                # Cursor keys and other escape sequences (ESC [ ... final byte): ignored.
                self._escape = 2 if char in "[O" else 0
                continue
            if self._escape == 2:
                if "@" <= char <= "~":
                    self._escape = 0
                continue
            if char == "\n" and self._after_cr:
                self._after_cr = False
                continue
            self._after_cr = char == "\r"
            if char in ("\r", "\n"):
                line = "".join(self._line)
                self._line = []
                echo, self._echo = self._echo, True
                self._run_line(line, echoed=echo)
            elif char in _BACKSPACES:
                if self._line:
                    self._line.pop()
                    if self._echo:
                        self._write("\x08 \x08")
            elif char == "\x1b":
                self._escape = 1
            elif char == "\x03" or char == "\x1a":
                # Ctrl-C / Ctrl-Z: abandon the line; Ctrl-Z also leaves configuration mode.
                self._line = []
                self._run_line("end" if char == "\x1a" else "", echoed=True, control=True)
            elif char == "\x15":
                self._line = []
            elif (char >= " " or char == "\t") and len(self._line) < _MAX_LINE:
                self._line.append(" " if char == "\t" else char)
                if self._echo:
                    self._write(" " if char == "\t" else char)

    def _run_line(self, line: str, *, echoed: bool, control: bool = False) -> None:
        del echoed  # the newline is echoed for passwords too
        if control and not line:
            self.write("\n" + self.platform.prompt(self))
            return
        if self.device.faults.rejects(line) and self.mode not in ("enable_password", "banner"):
            response = Response(self.platform_reject(line))
        else:
            try:
                response = self.platform.handle(self, line)
            except Exception:
                log.exception("lab device %s failed on %r", self.device.name, line)
                response = Response("% Internal error in the lab device")
        if response.password_prompt:
            self._echo = False
        delay = self.device.faults.slow_output
        if delay > 0 and response.output:
            self._busy = True
            asyncio.get_running_loop().call_later(delay, self._finish, response)
            self.write("\n")
            return
        self.write("\n")
        self._finish(response, newline_done=True)

    def _finish(self, response: Response, newline_done: bool = True) -> None:
        del newline_done
        self._busy = False
        if self._closed:
            return
        body = response.output
        if response.prompt:
            if body and not body.endswith("\n"):
                body += "\n"
            body += self.platform.prompt(self)
        self.write(body)
        if response.reload:
            self.device.request_reload()
        if response.close or response.reload:
            self._closed = True
            self._close()
            return
        if self._pending:
            self._pump()
