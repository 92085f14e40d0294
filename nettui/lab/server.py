"""The lab: many simulated devices in one process, one asyncssh listener per device on 127.0.0.1.

All listeners share one set of server options; a connection finds its device by the local
port it arrived on. Nothing per device is created until a client connects, so a thousand
idle devices cost a thousand listening sockets and a few small objects each.

``Lab`` is the asyncio API (``async with Lab(devices=4) as lab``); :func:`run_lab_in_thread`
runs one in a background thread, for blocking clients such as netmiko in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import asyncssh

from drivers.background import ServiceThread
from drivers.ssh_wire import tune_connection
from nettui.lab.device import CliSession, LabDevice
from nettui.lab.platforms import PLATFORM_NAMES, get_platform
from nettui.lab.state import DeviceState
from nettui.lab.topology import Topology, load_topology
from nettui.lab.transfer import route_session

__all__ = ["HOST_KEY_FILE", "Lab", "LabThread", "run_lab_in_thread"]

log = logging.getLogger(__name__)

HOST_KEY_FILE = "ssh_host_ed25519_key"
# Set to "0" to keep the kernel's delayed ACKs on the lab's connections (see _ack_promptly).
QUICK_ACK_ENV = "NETTUI_LAB_QUICK_ACK"
LISTEN_BATCH = 200  # listeners opened concurrently; keeps start-up bounded without a burst of 1,000 tasks
_T = TypeVar("_T")


class _LabSSHServer(asyncssh.SSHServer):
    """One SSH connection: finds its device by local port, checks its password, opens sessions."""

    def __init__(self, lab: Lab) -> None:
        self._lab = lab
        self._device: LabDevice | None = None
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        sockname = conn.get_extra_info("sockname")
        port = sockname[1] if sockname else 0
        self._device = self._lab.device_on_port(port)
        if self._device is None or self._device.faults.refuse_connections or self._lab.is_reloading(self._device):
            conn.abort()
            return
        # What the device says in one turn goes out in one TCP segment, as from OpenSSH's
        # output buffer, without CBC-only padding packets (drivers.ssh_wire).
        tune_connection(conn)
        # asyncssh re-reads its server configuration for every login, in a worker thread;
        # the lab has no configuration to re-read (its options are fixed at start).
        conn.reload_config = _no_config_to_reload  # type: ignore[method-assign]
        if self._lab.quick_ack:
            _ack_promptly(conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        device = self._device
        if device is None or device.faults.wrong_password:
            return False
        return username == device.username and password == device.password

    def session_requested(self) -> asyncssh.SSHServerSession[str] | bool:
        if self._device is None or self._conn is None:
            return False
        # SCP and SFTP requests on this channel go to the device's files (nettui.lab.transfer).
        return route_session(_LabSession(self._device, self._conn), self._device)


class _LabSession(asyncssh.SSHServerSession):  # type: ignore[type-arg]
    """A shell or exec channel on a device: raw input in, the device's CLI out."""

    def __init__(self, device: LabDevice, conn: asyncssh.SSHServerConnection) -> None:
        self._device = device
        self._conn = conn
        self._chan: asyncssh.SSHServerChannel[str] | None = None
        self._pty = False
        self._command: str | None = None
        self._cli: CliSession | None = None
        self._sent = 0
        # Output produced while one chunk of input is handled (the echo of each typed
        # character, the newline, the command's output, the prompt) goes out in one write,
        # as a terminal's output buffer does: one SSH packet instead of one per character.
        self._pending: list[str] | None = None

    def connection_made(self, chan: asyncssh.SSHServerChannel[str]) -> None:
        self._chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any) -> bool:
        self._pty = True
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self._command = command
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        newline = "\r\n" if self._pty or self._command is None else "\n"
        cli = CliSession(self._device, self._write, self._exit, newline=newline)
        self._cli = cli
        if self._command is None:
            cli.start()
            return
        output = cli.run_exec(self._command)
        delay = self._device.faults.slow_output

        def finish() -> None:
            cli.write(output if output.endswith("\n") or not output else output + "\n")
            self._exit()

        if delay > 0:
            asyncio.get_running_loop().call_later(delay, finish)
        else:
            finish()

    def data_received(self, data: str, datatype: Any) -> None:
        if self._cli is not None:
            self._pending = []
            try:
                self._cli.feed(data)
            finally:
                self._flush()

    def eof_received(self) -> bool:
        return False

    def break_received(self, msec: int) -> bool:
        self._line_event(f"break {msec}")
        return True

    def signal_received(self, signal: str) -> None:
        self._line_event(f"signal {signal}")

    def _line_event(self, event: str) -> None:
        events = self._device.line_events
        events.append(event)
        del events[:-100]

    def connection_lost(self, exc: Exception | None) -> None:
        if self._cli is not None:
            self._cli.close()

    def _write(self, text: str) -> None:
        if self._pending is not None:
            self._pending.append(text)
        else:
            self._send(text)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending:
            self._send("".join(pending))

    def _send(self, text: str) -> None:
        chan = self._chan
        # Buffered input may still be delivered after the client went away: drop the output.
        if chan is None or chan.is_closing() or self._conn.is_closed():
            return
        limit = self._device.faults.drop_after_bytes
        if limit is not None:
            room = limit - self._sent
            if room <= 0 or len(text.encode()) > room:
                # The connection dies in the middle of the output, as a crashing device's would.
                part = text.encode()[: max(room, 0)].decode(errors="ignore")
                if part:
                    chan.write(part)
                self._sent = limit
                self._conn.abort()
                return
        self._sent += len(text.encode())
        chan.write(text)

    def _exit(self) -> None:
        self._flush()  # what the session printed last goes out before the channel closes
        chan = self._chan
        if chan is not None and not chan.is_closing():
            chan.exit(0)


async def _no_config_to_reload() -> None:
    return None


def _ack_promptly(conn: asyncssh.SSHServerConnection) -> None:
    """Acknowledge every TCP segment from the client at once instead of after the kernel's
    delayed-ACK timer (40 ms on Linux).

    Clients that leave Nagle's algorithm on (libssh2 under scrapli, paramiko under netmiko)
    hold each small SSH packet until the previous one is acknowledged; with delayed ACKs that
    costs about 40 ms several times per login, idle time in which libscrapli's I/O threads
    poll every 100 microseconds. Servers avoid this the same way (s2n-tls sets TCP_QUICKACK
    during its handshake). Nothing the client sees changes but ACK timing; set
    NETTUI_LAB_QUICK_ACK=0 to measure without it. Linux only: elsewhere, a no-op.
    """
    quickack = getattr(socket, "TCP_QUICKACK", None)
    sock = conn.get_extra_info("socket")
    if quickack is None or sock is None:
        return
    receive = conn.data_received

    def data_received(data: bytes, datatype: int | None = None) -> None:
        receive(data, datatype)
        # Quick-ACK mode does not stick: the kernel leaves it again, so it is re-armed after
        # each read (which also sends an ACK still pending).
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)

    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
    conn.data_received = data_received  # type: ignore[method-assign]


def _raise_file_limit(needed: int) -> None:
    """One socket per device: raise the soft open-file limit (often 1,024) toward the hard one."""
    try:
        import resource
    except ImportError:  # not on this platform: nothing to raise
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed + 1024  # room for sessions, logs and the client side of tests
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def _load_or_create_host_key(state_dir: Path | None) -> asyncssh.SSHKey:
    """The lab's ed25519 host key: made once per state directory, kept there with mode 0600."""
    if state_dir is None:
        return asyncssh.generate_private_key("ssh-ed25519")
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / HOST_KEY_FILE
    if path.exists():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519", comment="nettui lab")
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.export_private_key())
    return key


class Lab:
    """Simulated devices over real SSH on one host address, in the current event loop.

    ``devices`` is a count (platforms taken in turn from ``platforms``) or ignored when a
    topology names the devices. ``base_port`` 0 gives every device an ephemeral port;
    otherwise device ``i`` listens on ``base_port + i``.
    """

    def __init__(
        self,
        devices: int = 1,
        platforms: Sequence[str] = ("cisco_ios",),
        *,
        host: str = "127.0.0.1",
        base_port: int = 0,
        username: str = "admin",
        password: str = "admin",  # noqa: S107 - simulated devices on loopback
        enable_secret: str = "enable",  # noqa: S107
        name_prefix: str = "sw",
        state_dir: str | Path | None = None,
        state_file: str | Path | None = None,
        topology: str | Path | Topology | None = None,
        reload_seconds: float = 5.0,
        quick_ack: bool | None = None,
    ) -> None:
        for name in platforms:
            get_platform(name)  # ValueError for an unknown name, before anything listens
        if not platforms:
            raise ValueError(f"give at least one platform: {', '.join(PLATFORM_NAMES)}")
        self.host = host
        self.base_port = base_port
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.state_file = Path(state_file) if state_file is not None else None
        self.reload_seconds = reload_seconds
        # None: on unless NETTUI_LAB_QUICK_ACK=0 (see _ack_promptly)
        self.quick_ack = quick_ack if quick_ack is not None else os.environ.get(QUICK_ACK_ENV, "1") != "0"
        if isinstance(topology, str | Path):
            topology = load_topology(Path(topology))
        # Without a topology file the devices are cabled in a chain, so LLDP has neighbours.
        self.topology = topology if topology is not None else Topology(chain=True)
        specs: list[tuple[str, str]] = []
        if topology is not None:
            specs = [(d.name, d.platform) for d in topology.devices]
        for index in range(len(specs), max(devices, len(specs))):
            specs.append((f"{name_prefix}{index + 1}", platforms[index % len(platforms)]))
        self.devices: list[LabDevice] = [
            LabDevice(
                name=name,
                platform_name=platform,
                index=index,
                host=host,
                username=username,
                password=password,
                enable_secret=enable_secret,
                reload_seconds=reload_seconds,
                on_reload=self._on_reload,
            )
            for index, (name, platform) in enumerate(specs)
        ]
        self._by_name = {d.name: d for d in self.devices}
        if len(self._by_name) != len(self.devices):
            raise ValueError("device names in a lab must be unique")
        self._by_port: dict[int, LabDevice] = {}
        self._listeners: dict[str, asyncssh.SSHAcceptor] = {}
        self._reloading: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._options: asyncssh.SSHServerConnectionOptions | None = None
        self.started = False

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> Lab:
        """Open every device's listening port; load saved state and topology links."""
        _raise_file_limit(len(self.devices))
        key = _load_or_create_host_key(self.state_dir)
        self._options = asyncssh.SSHServerConnectionOptions(
            server_factory=lambda: _LabSSHServer(self),
            server_host_keys=[key],
            line_editor=False,
            # What network devices offer (no chacha20-poly1305, which costs asyncssh twice the CPU
            # of AES-GCM): the lab's CPU should go on simulating devices, not on ciphers.
            encryption_algs=[
                "aes128-gcm@openssh.com",
                "aes256-gcm@openssh.com",
                "aes128-ctr",
                "aes192-ctr",
                "aes256-ctr",
            ],
            # No GSS-API here (nor on the devices simulated): without this asyncssh looks up the
            # host's FQDN on every connection, in a thread.
            gss_host=None,
            # Plenty for netmiko/scrapli; bounded so that a stuck client cannot hold a session forever.
            login_timeout=60,
        )
        if self.state_file is not None and self.state_file.exists():
            self.load_state(self.state_file)
        self.topology.apply(self.devices)
        try:
            for start in range(0, len(self.devices), LISTEN_BATCH):
                batch = self.devices[start : start + LISTEN_BATCH]
                await asyncio.gather(*(self._listen(device) for device in batch))
        except BaseException:
            await self.stop()
            raise
        self.started = True
        return self

    async def _listen(self, device: LabDevice) -> None:
        port = self.base_port + device.index if self.base_port and not device.port else device.port
        try:
            acceptor = await asyncssh.listen(self.host, port, options=self._options, reuse_address=True)
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"lab device {device.name} cannot listen on {self.host}:{port}: {exc.strerror}; "
                "choose another --base-port or stop what uses it",
            ) from exc
        device.port = acceptor.get_port()
        self._by_port[device.port] = device
        self._listeners[device.name] = acceptor

    async def stop(self) -> None:
        """Close every listener and session; save state if a state file was given."""
        for task in list(self._tasks):
            task.cancel()
        for acceptor in self._listeners.values():
            acceptor.close()
        await asyncio.gather(*(a.wait_closed() for a in self._listeners.values()), return_exceptions=True)
        self._listeners.clear()
        if self.state_file is not None and self.started:
            self.save_state(self.state_file)
        self.started = False

    async def __aenter__(self) -> Lab:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- devices ----------------------------------------------------------------------------

    def device(self, name: str) -> LabDevice:
        """The device called ``name`` (KeyError names it)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no lab device named {name!r}") from None

    def device_on_port(self, port: int) -> LabDevice | None:
        """The device listening on ``port``."""
        return self._by_port.get(port)

    def is_reloading(self, device: LabDevice) -> bool:
        """Whether ``device`` is reloading (it refuses connections meanwhile)."""
        until = self._reloading.get(device.name)
        return until is not None and until > time.monotonic()

    async def set_faults(self, name: str, **faults: Any) -> None:
        """Change faults of one device; ``refuse_connections`` closes or reopens its port."""
        device = self.device(name)
        device.faults.update(**faults)
        if "refuse_connections" in faults:
            if device.faults.refuse_connections:
                await self._close_listener(device)
            elif device.name not in self._listeners:
                await self._listen(device)

    async def clear_faults(self, name: str) -> None:
        """Turn every fault of one device off."""
        await self.set_faults(name, refuse_connections=False)
        self.device(name).faults.clear()

    async def _close_listener(self, device: LabDevice) -> None:
        acceptor = self._listeners.pop(device.name, None)
        if acceptor is not None:
            acceptor.close()
            await acceptor.wait_closed()

    def _on_reload(self, device: LabDevice) -> None:
        task = asyncio.get_running_loop().create_task(self._reload(device))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reload(self, device: LabDevice) -> None:
        # The port closes while the device "boots", then reopens with the new software.
        self._reloading[device.name] = time.monotonic() + device.reload_seconds
        await self._close_listener(device)
        await asyncio.sleep(device.reload_seconds)
        state = device.state
        if state.installed_version:
            state.version = state.installed_version
            state.installed_version = None
        if state.config is not None and state.startup is not None:
            state.config = state.startup.copy()  # unsaved changes are lost, as on a real reload
        state.booted_at = time.time()
        self._reloading.pop(device.name, None)
        if not device.faults.refuse_connections:
            await self._listen(device)

    # -- state file ---------------------------------------------------------------------------

    def save_state(self, path: Path) -> None:
        """Write every used device's state as JSON (atomically: a temp file, then rename)."""
        data = {d.name: d.state.to_json() for d in self.devices if d.has_state}
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(path.suffix + ".tmp")
        temp.write_text(json.dumps({"format": 1, "devices": data}, indent=1))
        temp.replace(path)

    def load_state(self, path: Path) -> None:
        """Load states saved by :meth:`save_state`; devices not in the file start fresh."""
        data = json.loads(path.read_text())
        for name, raw in data.get("devices", {}).items():
            if name in self._by_name:
                device = self._by_name[name]
                state = DeviceState.from_json(raw)
                if state.platform == device.platform_name:
                    device.set_state(state)


class LabThread(ServiceThread):
    """A lab running in a background thread with its own event loop, for blocking clients."""

    def __init__(self, lab: Lab) -> None:
        super().__init__(lab, "lab")
        self.lab = lab

    @property
    def devices(self) -> list[LabDevice]:
        """The lab's devices (host, port, platform, credentials)."""
        return self.lab.devices

    def device(self, name: str) -> LabDevice:
        """The device called ``name``."""
        return self.lab.device(name)

    def start(self, timeout: float = 120.0) -> None:
        """Start the thread and wait until every device listens."""
        super().start(timeout)

    def set_faults(self, name: str, **faults: Any) -> None:
        """Change faults of one device from the calling thread."""
        self.call(self.lab.set_faults(name, **faults))

    def clear_faults(self, name: str) -> None:
        """Turn every fault of one device off, from the calling thread."""
        self.call(self.lab.clear_faults(name))


@contextlib.contextmanager
def run_lab_in_thread(*args: Any, **kwargs: Any) -> Iterator[LabThread]:
    """``with run_lab_in_thread(devices=4, platforms=[...]) as lab:`` -- arguments as for :class:`Lab`."""
    handle = LabThread(Lab(*args, **kwargs))
    handle.start()
    try:
        yield handle
    finally:
        handle.stop()
