"""``ssh -p 2222 alice@bastion`` with no device: the nettui TUI, as alice, in her terminal.

Each session runs the TUI in a process of its own (``python -m nettui.tui.remote alice``) on a
pseudo-terminal the bastion opens with the client's terminal type and size; the bastion relays
the terminal both ways and passes window changes on (the kernel tells the TUI with SIGWINCH).
Several users at once are several processes. Without a terminal (``ssh -T``, or a command) there
is nothing to show: the login is refused with a message, and audited like every refusal.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import sys
import termios
from typing import TYPE_CHECKING, Any

import asyncssh

if TYPE_CHECKING:
    from bastion.server import BastionConnection

NO_TERMINAL = (
    "nettui: the terminal UI needs a terminal (ssh -t USER@HOST); to reach a device, log in as USER%DEVICE.\r\n"
)
_READ_SIZE = 65536


def _set_size(fd: int, width: int, height: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", max(height, 1), max(width, 1), 0, 0))


class RemoteTuiSession(asyncssh.SSHServerSession[bytes]):
    """One user's TUI over SSH."""

    def __init__(self, owner: BastionConnection) -> None:
        self.owner = owner
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term_type = ""
        self.size = (80, 24)
        self.has_pty = False
        self.command: str | None = None
        self.master: int | None = None
        self.proc: asyncio.subprocess.Process | None = None

    # -- what the client asks for ---------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any) -> bool:
        self.has_pty = True
        self.term_type = term_type or "xterm-256color"
        self.size = (term_size[0] or 80, term_size[1] or 24)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.command = command
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        assert self.chan is not None
        if not self.has_pty or self.command is not None:
            what = "a command" if self.command is not None else "no terminal"
            self.owner.bastion.audit(
                username=self.owner.username,
                device=None,
                source=self.owner.source,
                reason=f"no device and {what}: the terminal UI needs a terminal",
            )
            self.chan.write_stderr(NO_TERMINAL.encode())
            self.chan.exit(1)
            return
        self.owner.bastion.spawn(self._run())

    # -- the TUI process --------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self.chan is not None
        master, slave = os.openpty()
        _set_size(slave, *self.size)
        os.set_blocking(master, False)
        self.master = master
        env = {
            **os.environ,
            "TERM": self.term_type,
            "NETTUI_DATABASE_URL": self.owner.bastion.store.url.render_as_string(hide_password=False),
        }
        for name in ("TEXTUAL", "COLUMNS", "LINES"):  # the size is the terminal's, not the bastion's
            env.pop(name, None)
        try:
            # setsid --ctty: a session of its own with the pty as controlling terminal, so the
            # kernel sends it SIGWINCH on window changes and SIGHUP when the bastion hangs up.
            self.proc = await asyncio.create_subprocess_exec(
                "setsid",
                "--ctty",
                sys.executable,
                "-m",
                "nettui.tui.remote",
                self.owner.username,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
            )
        except OSError as exc:
            os.close(slave)
            self._close_master()
            self.chan.write_stderr(f"nettui: could not start the terminal UI: {exc}\r\n".encode())
            self.chan.exit(1)
            return
        finally:
            with contextlib.suppress(OSError):
                os.close(slave)
        loop = asyncio.get_running_loop()
        loop.add_reader(master, self._from_tui)
        code = await self.proc.wait()
        await asyncio.sleep(0.05)  # the last screen update, still in the pty
        self._drain()
        self._close_master()
        with contextlib.suppress(Exception):
            self.chan.exit(max(code, 0))

    def _from_tui(self) -> None:
        if not self._drain():
            self._close_master()

    def _drain(self) -> bool:
        """Relay what the TUI wrote; False once its side of the terminal is gone."""
        if self.master is None or self.chan is None:
            return False
        while True:
            try:
                data = os.read(self.master, _READ_SIZE)
            except BlockingIOError:
                return True
            except OSError:  # EIO: the TUI exited and closed the terminal
                return False
            if not data:
                return False
            self.chan.write(data)

    def _close_master(self) -> None:
        if self.master is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.master)
            with contextlib.suppress(OSError):
                os.close(self.master)
            self.master = None

    # -- what the client sends ------------------------------------------------------------------

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if self.master is None:
            return
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.master, view)
            except BlockingIOError:
                continue  # the pty's input buffer is full for a moment: keystrokes are small
            except OSError:
                return
            view = view[written:]

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width, height)
        if self.master is not None:
            _set_size(self.master, width, height)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGHUP)
            self.owner.bastion.spawn(self._reap())

    async def _reap(self) -> None:
        """A TUI that does not leave on hang-up within five seconds is killed."""
        assert self.proc is not None
        try:
            await asyncio.wait_for(self.proc.wait(), 5.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
        self._close_master()
