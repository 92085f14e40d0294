"""The bastion's SSH server: users log in with their own keys as ``USER%DEVICE``, and get a
recorded session on the device, opened with credentials they never see.

The relay owns its pump loop (asyncssh's advice for recording proxies): every byte from the
user goes to the recorder and on to the device, every byte from the device to the recorder
and back to the user. Terminal type, size and modes open the device's PTY; window changes,
breaks and signals follow it. A single loop saves every live session's progress to the store
once a second and asks the store which sessions an admin terminated.

The bastion registers itself in the store while it runs (bastion.sessions.register_bastion)
and names itself on every session it opens; starting, it closes the sessions of bastions that
died without closing them (killed, or their host lost).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import gc
import logging
import os
import random
import re
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncssh

from bastion.policy import BastionPolicy
from bastion.recording import Redactor, SessionRecorder
from bastion.sessions import (
    BASTION_HEARTBEAT_S,
    Login,
    audit_refusal,
    bastion_heartbeat,
    finish_record,
    load_login,
    open_record,
    recover_sessions,
    register_bastion,
    save_records,
    terminated_among,
    unregister_bastion,
)
from catalog.errors import NettuiError
from catalog.models.choices import SessionStatus
from catalog.store import Store
from drivers.asyncssh_provider import ENCRYPTION_ALGS, KEX_ALGS, dialect_for
from drivers.background import ServiceThread
from drivers.connect import PreparedDevice, prepare_devices
from drivers.redaction import first_line
from drivers.ssh_wire import tune_connection
from drivers.trust import fetch_host_key, store_host_key, stored_host_key

log = logging.getLogger(__name__)

# The remote TUI (``ssh -p 2222 alice@HOST`` without a device) plugs in here: a coroutine
# function taking the server process and the username. Until then such logins are refused.

NOT_YOURS = "nettui: device {device!r} does not exist or is outside your scope.\r\n"
_PASSWORD = re.compile(rb"(?i)password: ?$")
SERVER_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr")


def load_or_create_host_key(path: Path) -> asyncssh.SSHKey:
    """The bastion's persistent ed25519 host key: made on first start, mode 0600."""
    if path.exists():
        try:
            return asyncssh.read_private_key(str(path))
        except (OSError, asyncssh.KeyImportError) as exc:
            raise NettuiError(
                f"cannot read the bastion's host key: {exc}",
                where=str(path),
                hint="give a readable OpenSSH private key with --host-key, or move this file away to make a new one",
            ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="nettui bastion")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.export_private_key())
    return key


def split_login(login: str) -> tuple[str, str | None]:
    """``alice%sw1`` -> ("alice", "sw1"); ``alice`` -> ("alice", None)."""
    user, sep, device = login.partition("%")
    return user, (device if sep else None)


class _FailedLogins:
    """Refused logins per source address; too many within the window and the address waits."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._times: dict[str, deque[float]] = {}

    def _recent(self, address: str) -> deque[float]:
        times = self._times.setdefault(address, deque())
        cutoff = time.monotonic() - self.window
        while times and times[0] < cutoff:
            times.popleft()
        return times

    def blocked(self, address: str) -> bool:
        return len(self._recent(address)) >= self.limit

    def add(self, address: str) -> None:
        self._recent(address).append(time.monotonic())


class Bastion:
    """The bastion server in the current event loop (``async with Bastion(store, policy)``)."""

    def __init__(self, store: Store, policy: BastionPolicy | None = None) -> None:
        self.store = store
        self.policy = policy or BastionPolicy()
        self.failures = _FailedLogins(self.policy.max_auth_failures, self.policy.failure_window)
        self.live: dict[int, DeviceRelay] = {}
        self._server: asyncssh.SSHAcceptor | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = self.policy.port
        self.name = ""  # as registered in the store (engine_node), while it runs
        self._heartbeat_at = 0.0

    async def start(self) -> Bastion:
        key = await asyncio.to_thread(load_or_create_host_key, self.policy.host_key_path)
        self.name = await asyncio.to_thread(register_bastion, self.store)
        self._heartbeat_at = time.monotonic()
        try:
            await asyncio.to_thread(recover_sessions, self.store)
            await self._listen(key)
        except BaseException:
            await asyncio.to_thread(unregister_bastion, self.store, self.name)
            raise
        self._sync_task = asyncio.create_task(self._sync_loop())
        return self

    async def _listen(self, key: asyncssh.SSHKey) -> None:
        p = self.policy
        self._server = await asyncssh.create_server(
            lambda: BastionConnection(self),
            p.host,
            p.port,
            server_host_keys=[key],
            line_editor=False,
            login_timeout=p.login_grace,
            agent_forwarding=p.allow_agent_forwarding,
            x11_forwarding=p.allow_x11_forwarding,
            allow_pty=True,
            password_auth=False,
            kbdint_auth=True,
            # AES-GCM runs in OpenSSL; ChaCha20-Poly1305 (OpenSSH's first choice) costs asyncssh
            # Python work per packet, and the bastion handles four packets per keystroke.
            encryption_algs=list(SERVER_CIPHERS),
            gss_host=None,
            encoding=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        # What is loaded by now (models, libraries) lives as long as the process: keeping it out
        # of the collector's full passes keeps those passes from pausing every relayed keystroke.
        gc.freeze()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for relay in list(self.live.values()):
            relay.end("the bastion is shutting down", SessionStatus.TERMINATED)
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
        await asyncio.to_thread(save_records, self.store, self._progress())
        if self.name:
            await asyncio.to_thread(unregister_bastion, self.store, self.name)

    async def __aenter__(self) -> Bastion:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def audit(self, *, username: str, device: str | None, source: str, reason: str) -> None:
        """Record a refusal in the store, without holding up the event loop."""
        log.info("refused %s%s from %s: %s", username, f"%{device}" if device else "", source, reason)
        self.spawn(
            asyncio.to_thread(
                audit_refusal, self.store, username=username, device=device or "", source=source, reason=reason
            )
        )

    # -- once a second: progress out, terminations in --------------------------------------------

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.policy.poll_interval)
            try:
                now = time.monotonic()
                for relay in list(self.live.values()):
                    relay.recorder_flush()
                    if now - relay.last_activity > self.policy.idle_timeout:
                        relay.end(f"idle for {self.policy.idle_timeout:g} s", SessionStatus.TERMINATED)
                    elif now - relay.started > self.policy.max_duration:
                        relay.end(
                            f"the maximum session length ({self.policy.max_duration:g} s) is reached",
                            SessionStatus.TERMINATED,
                        )
                ids = list(self.live)
                # Snapshots are taken here, in the loop that changes them; the thread only writes.
                terminated = await asyncio.to_thread(self._save_and_check, self._progress(), ids)
                for record_id in terminated:
                    ended = self.live.get(record_id)
                    if ended is not None:
                        ended.end("terminated by an administrator", SessionStatus.TERMINATED)
                # Still alive, for whoever wonders whether this bastion's sessions are orphans.
                if now - self._heartbeat_at >= BASTION_HEARTBEAT_S:
                    self._heartbeat_at = now
                    await asyncio.to_thread(bastion_heartbeat, self.store, self.name)
            except Exception:  # the loop must outlive a store hiccup
                log.exception("bastion: saving session progress failed")

    def _progress(self) -> dict[int, dict[str, Any]]:
        updates = {}
        for record_id, relay in list(self.live.items()):
            values = relay.progress()
            if values is not None:
                updates[record_id] = values
        return updates

    def _save_and_check(self, updates: dict[int, dict[str, Any]], ids: list[int]) -> set[int]:
        save_records(self.store, updates)
        return terminated_among(self.store, ids)


class BastionConnection(asyncssh.SSHServer):
    """One client connection: authentication, refusals and the sessions it opens."""

    def __init__(self, bastion: Bastion) -> None:
        self.bastion = bastion
        self.conn: asyncssh.SSHServerConnection | None = None
        self.source = ""
        self.username = ""
        self.device: str | None = None
        self.login: Login | None = None
        self.authenticated = False
        self.refusal: str | None = None  # why the last authentication attempt failed
        self.key_verified = False  # the key (with its signature) passed; a one-time code is due
        self.blocked = False  # refused for too many failures (audited once, when refused)

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address = str(peer[0])
        self.source = f"{peer[0]}:{peer[1]}"
        tune_connection(conn)
        self._require_second_factor_after_key(conn)

    def _require_second_factor_after_key(self, conn: asyncssh.SSHServerConnection) -> None:
        """asyncssh has no partial success: when a user has a second factor, a key whose
        signature checks out is answered with a failure, and keyboard-interactive (the code)
        becomes the only method left; OpenSSH clients go on with it."""
        verify = conn.validate_public_key

        async def validate_public_key(username: str, key_data: bytes, msg: bytes, signature: bytes) -> bool:
            valid = await verify(username, key_data, msg, signature)
            if valid and msg and self.login is not None and self.login.totp_required:
                self.key_verified = True
                self.refusal = "the key was accepted, but no valid one-time code followed"
                return False
            return valid

        conn.validate_public_key = validate_public_key  # type: ignore[method-assign]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.authenticated or self.blocked:
            return
        if self.username:
            self.bastion.failures.add(self.address)
            reason = self.refusal or "authentication did not complete (no accepted key, or the login grace ran out)"
        else:
            # No login name at all: a scanner, or a client that stalled; not counted as a failed login.
            reason = f"no login within the grace time ({self.bastion.policy.login_grace:g} s), or the client left"
        self.bastion.audit(username=self.username, device=self.device, source=self.source, reason=reason)

    async def begin_auth(self, username: str) -> bool:
        self.username, self.device = split_login(username)
        if self.bastion.failures.blocked(self.address):
            self.blocked = True  # audited here, not again when the connection drops
            self.bastion.audit(
                username=username,
                device=None,
                source=self.source,
                reason="too many failed logins from this address",
            )
            raise asyncssh.DisconnectError(
                asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "too many failed logins from this address; try later"
            )
        self.login = await asyncio.to_thread(load_login, self.bastion.store, self.username, self.device)
        return True

    def public_key_auth_supported(self) -> bool:
        return not self.key_verified

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return self.key_verified

    def get_kbdint_challenge(
        self, username: str, lang: str, submethods: str
    ) -> tuple[str, str, str, list[tuple[str, bool]]]:
        return ("nettui bastion", f"Second factor for {self.username}", "", [("Verification code: ", False)])

    def validate_kbdint_response(self, username: str, responses: Sequence[str]) -> bool:
        import pyotp

        login = self.login
        if not self.key_verified or login is None or len(responses) != 1:
            return False
        if login.totp_seed is None:
            self.refusal = "the user's TOTP seed cannot be read from their secrets group"
            return False
        if not pyotp.TOTP(login.totp_seed.reveal()).verify(responses[0].strip(), valid_window=1):
            self.refusal = "wrong one-time code"
            return False
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        login = self.login
        if login is None:
            self.refusal = "no such user"
            return False
        if not login.active:
            self.refusal = "the user is disabled"
            return False
        offered = " ".join(key.export_public_key("openssh").decode().split()[:2])
        if offered not in login.public_keys:
            self.refusal = f"key {key.get_fingerprint('sha256')} is not one of the user's keys"
            return False
        return True

    def auth_completed(self) -> None:
        self.authenticated = True

    def session_requested(self) -> asyncssh.SSHServerSession[bytes] | bool:
        if self.device is None:
            from bastion.remote_tui import RemoteTuiSession

            return RemoteTuiSession(self)  # the terminal UI, as this user
        if self.login is None or not self.login.device_allowed:
            return RefusedSession(self, NOT_YOURS.format(device=self.device), "device out of scope or unknown")
        return DeviceRelay(self)

    # -- forwarding, refused unless enabled -------------------------------------------------------

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int) -> bool:
        if self.bastion.policy.allow_port_forwarding:
            return True
        self.bastion.audit(
            username=self.username,
            device=self.device,
            source=self.source,
            reason=f"port forwarding to {dest_host}:{dest_port} refused",
        )
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        if self.bastion.policy.allow_port_forwarding:
            return True
        self.bastion.audit(
            username=self.username,
            device=self.device,
            source=self.source,
            reason=f"remote port forwarding on {listen_host}:{listen_port} refused",
        )
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        self.bastion.audit(
            username=self.username, device=self.device, source=self.source, reason="unix socket forwarding refused"
        )
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        return self.unix_connection_requested(listen_path)


class _MessageSession(asyncssh.SSHServerSession[bytes]):
    """A session that only says something and ends: the bastion has no shell of its own."""

    exit_status = 1

    def __init__(self, owner: BastionConnection, message: str) -> None:
        self.owner = owner
        self.message = message
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any) -> bool:
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        assert self.chan is not None
        self.chan.write_stderr(self.message.encode())
        self.chan.exit(self.exit_status)


class RefusedSession(_MessageSession):
    def __init__(self, owner: BastionConnection, message: str, reason: str) -> None:
        super().__init__(owner, message)
        owner.bastion.audit(username=owner.username, device=owner.device, source=owner.source, reason=reason)


@dataclass
class _Terminal:
    term_type: str = ""
    width: int = 80
    height: int = 24
    pixwidth: int = 0
    pixheight: int = 0
    modes: Any = None


class _DeviceSide(asyncssh.SSHClientSession[bytes]):
    """The bastion's client session on the device: output goes to the relay."""

    def __init__(self, relay: DeviceRelay) -> None:
        self.relay = relay

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.relay.from_device(data)

    def exit_status_received(self, status: int) -> None:
        self.relay.exit_status = status

    def connection_lost(self, exc: Exception | None) -> None:
        self.relay.device_closed()


class _DeviceClient(asyncssh.SSHClient):
    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        tune_connection(conn)


class DeviceRelay(asyncssh.SSHServerSession[bytes]):
    """One user's session on one device: PTY (or exec) relayed both ways, and recorded."""

    def __init__(self, owner: BastionConnection) -> None:
        self.owner = owner
        self.bastion = owner.bastion
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.terminal: _Terminal | None = None
        self.command: str | None = None
        self.device_chan: asyncssh.SSHClientChannel[bytes] | None = None
        self.device_conn: asyncssh.SSHClientConnection | None = None
        self.recorder: SessionRecorder | None = None
        self.record_id: int | None = None
        self.exit_status = 0
        self.started = time.monotonic()
        self.last_activity = self.started
        # Spread over the interval, so that sessions opened together are not all saved together.
        self._saved_at = self.started - random.random() * self.bastion.policy.log_save_interval  # noqa: S311
        self._pending_input: list[bytes] = []
        self._setup: bytearray | None = None  # device output while the bastion logs in and enables
        self._setup_waiter: asyncio.Future[None] | None = None
        self._in_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._out_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._ended = False
        self._device_gone = False
        self._end_status = SessionStatus.COMPLETED
        self._end_reason = ""

    # -- the user's side ---------------------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any) -> bool:
        width, height, pixwidth, pixheight = term_size
        self.terminal = _Terminal(term_type, width or 80, height or 24, pixwidth, pixheight, term_modes)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.command = command
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        self.bastion.audit(
            username=self.owner.username,
            device=self.owner.device,
            source=self.owner.source,
            reason=f"subsystem {subsystem!r} refused",
        )
        return False

    def session_started(self) -> None:
        self.bastion.spawn(self._run())

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.last_activity = time.monotonic()
        if self.device_chan is None or self._setup is not None:
            self._pending_input.append(data)
            return
        self.device_chan.write(data)
        if self.recorder is not None:
            self.recorder.input(self._in_decoder.decode(data))

    def eof_received(self) -> bool:
        if self.device_chan is not None:
            self.device_chan.write_eof()
        return True

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if self.terminal is not None:
            self.terminal.width, self.terminal.height = width, height
        if self.device_chan is not None:
            self.device_chan.change_terminal_size(width, height, pixwidth, pixheight)
        if self.recorder is not None:
            self.recorder.resize(width, height)

    def break_received(self, msec: int) -> bool:
        self.last_activity = time.monotonic()
        if self.device_chan is not None:
            self.device_chan.send_break(msec)
        if self.recorder is not None:
            self.recorder.marker(f"break {msec} ms")
        return True

    def signal_received(self, signal: str) -> None:
        self.last_activity = time.monotonic()
        if self.device_chan is not None:
            self.device_chan.send_signal(signal)
        if self.recorder is not None:
            self.recorder.marker(f"signal {signal}")

    def pause_writing(self) -> None:
        if self.device_chan is not None:
            self.device_chan.pause_reading()

    def resume_writing(self) -> None:
        if self.device_chan is not None:
            self.device_chan.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = True
        if self.device_conn is not None:
            self.device_conn.close()

    # -- the device's side -------------------------------------------------------------------------

    def from_device(self, data: bytes) -> None:
        self.last_activity = time.monotonic()
        if self._setup is not None:
            self._setup += data
            if self._setup_waiter is not None and not self._setup_waiter.done():
                self._setup_waiter.set_result(None)
            return
        if self.chan is not None and not self.chan.is_closing():
            self.chan.write(data)
        if self.recorder is not None:
            self.recorder.output(self._out_decoder.decode(data))

    def device_closed(self) -> None:
        self._device_gone = True
        if self._setup_waiter is not None and not self._setup_waiter.done():
            self._setup_waiter.set_exception(ConnectionError("the device closed the session"))
        if self._setup is None:  # else the output held during setup goes out first
            self._finish_user_side()

    def _finish_user_side(self, message: str = "") -> None:
        chan = self.chan
        if chan is None or chan.is_closing():
            return
        if message:
            chan.write(f"\r\nnettui: {message}.\r\n".encode())
        chan.exit(self.exit_status)

    def end(self, reason: str, status: SessionStatus) -> None:
        """End the session from the bastion's side (idle, too long, terminated, shutdown)."""
        if self._ended:
            return
        self._ended = True
        self._end_status, self._end_reason = status, reason
        if self.recorder is not None:
            self.recorder.output(f"\r\n[nettui: session ended: {reason}]\r\n")
        self.exit_status = 255
        self._finish_user_side(f"session ended: {reason}")
        if self.device_conn is not None:
            self.device_conn.close()

    # -- the session's life ------------------------------------------------------------------------

    async def _run(self) -> None:
        owner = self.owner
        device = owner.device
        assert device is not None and self.chan is not None
        try:
            prepared = (await asyncio.to_thread(prepare_devices, self.bastion.store, [device]))[0]
            await self._connect(prepared)
        except NettuiError as exc:
            self._fail(exc.render())
            return
        except (OSError, asyncssh.Error, TimeoutError, ConnectionError) as exc:
            self._fail(f"cannot open a session on {device}: {first_line(str(exc)) or type(exc).__name__}")
            return
        try:
            await self._wait_closed()
        finally:
            await self._finish()

    def _fail(self, message: str) -> None:
        log.warning("bastion: %s%%%s: %s", self.owner.username, self.owner.device, message)
        if self.chan is not None and not self.chan.is_closing():
            self.chan.write_stderr(f"nettui: {message}\r\n".encode())
            self.chan.exit(1)
        if self.device_conn is not None:
            self.device_conn.close()

    async def _trusted_key_line(self, prepared: PreparedDevice) -> str:
        target, trusted = prepared.target, prepared.trusted_key
        if trusted is None:
            trusted = await fetch_host_key(target.name, target.host, target.port, target.timeout)

            def remember() -> None:
                with self.bastion.store.session() as session:
                    if stored_host_key(session, prepared.device_id) is None:
                        store_host_key(session, prepared.device_id, trusted)

            await asyncio.to_thread(remember)
        return trusted.known_hosts_line(target.host, target.port)

    async def _connect(self, prepared: PreparedDevice) -> None:
        target = prepared.target
        creds = target.credentials
        policy = self.bastion.policy
        try:
            self.device_conn = await asyncssh.connect(
                target.host,
                target.port,
                client_factory=_DeviceClient,
                username=creds.username.reveal(),
                password=creds.password.reveal() if creds.password else None,
                known_hosts=asyncssh.import_known_hosts(await self._trusted_key_line(prepared) + "\n"),
                client_keys=None,
                agent_path=None,
                config=[],
                gss_host=None,
                kex_algs=KEX_ALGS,
                encryption_algs=ENCRYPTION_ALGS,
                compression_algs=None,
                connect_timeout=policy.device_timeout,
                login_timeout=policy.device_timeout,
            )
        except asyncssh.HostKeyNotVerifiable:
            raise NettuiError(
                f"the SSH host key of {target.name} is not the trusted one",
                hint=f"if the change is expected, an admin accepts it: nettui device trust {target.name}",
            ) from None
        except asyncssh.PermissionDenied:
            raise NettuiError(
                f"{target.name} refused the credentials of its secrets group", hint="tell an admin"
            ) from None
        secrets = [creds.password.reveal() if creds.password else None]
        secrets.append(creds.enable_secret.reveal() if creds.enable_secret else None)
        redactor = Redactor(secrets, policy.secret_patterns)
        terminal = self.terminal
        interactive = self.command is None
        self._setup = bytearray()  # output is held until the recorder is there
        self.device_chan, _ = await self.device_conn.create_session(
            lambda: _DeviceSide(self),
            command=self.command,
            term_type=terminal.term_type if terminal else None,
            term_size=(terminal.width, terminal.height, terminal.pixwidth, terminal.pixheight) if terminal else None,
            term_modes=terminal.modes if terminal else None,
            encoding=None,
        )
        if interactive and terminal is not None:
            shown = await self._log_in(prepared, creds.enable_secret.reveal() if creds.enable_secret else None)
        else:
            shown = b""
        self.record_id = await asyncio.to_thread(
            open_record,
            self.bastion.store,
            username=self.owner.username,
            device=target.name,
            bastion=self.bastion.name,
        )
        path = policy.recordings_dir / f"session-{self.record_id}.cast"
        self.recorder = SessionRecorder(
            path,
            redactor,
            width=terminal.width if terminal else 80,
            height=terminal.height if terminal else 24,
            term_type=terminal.term_type if terminal else "",
            title=f"{self.owner.username}@{target.name}",
        )
        if self.command is not None:
            self.recorder.exec_command(self.command)
        self.bastion.live[self.record_id] = self
        await asyncio.to_thread(save_records, self.bastion.store, {self.record_id: {"recording_path": str(path)}})
        held, self._setup = bytes(self._setup), None
        shown = shown or held
        if shown:
            self.from_device(shown)
        pending, self._pending_input = self._pending_input, []
        for data in pending:
            self.data_received(data, None)
        if self._device_gone:
            self._finish_user_side()

    async def _expect(self, pattern: re.Pattern[bytes]) -> bytes:
        """Wait (during setup) until the last line of the device's output matches ``pattern``."""
        assert self._setup is not None
        async with asyncio.timeout(self.bastion.policy.device_timeout):
            while True:
                last = bytes(self._setup[self._setup.rfind(b"\n") + 1 :]).strip(b"\r")
                if pattern.search(last):
                    return bytes(self._setup)
                self._setup_waiter = asyncio.get_running_loop().create_future()
                await self._setup_waiter

    async def _log_in(self, prepared: PreparedDevice, enable_secret: str | None) -> bytes:
        """Wait for the first prompt and enable where the platform starts unprivileged, so the
        user never needs the enable secret; what the user sees is the banner and the prompt."""
        assert self._setup is not None and self.device_chan is not None
        dialect = dialect_for(prepared.target.network_driver)
        prompt = re.compile(dialect.prompt.pattern + rb"$")
        banner = await self._expect(prompt)
        if not (dialect.enable and banner.rstrip().endswith(b">") and enable_secret):
            return banner
        self._setup.clear()
        self.device_chan.write(b"enable\n")
        output = await self._expect(re.compile(_PASSWORD.pattern + b"|" + prompt.pattern))
        if _PASSWORD.search(output):
            self._setup.clear()
            self.device_chan.write(enable_secret.encode() + b"\n")
            output = await self._expect(re.compile(_PASSWORD.pattern + b"|" + prompt.pattern))
        last = output[output.rfind(b"\n") + 1 :].strip()
        if not last.endswith(b"#"):
            # The user gets the unprivileged prompt, as a terminal would show it.
            return banner
        return banner[: banner.rfind(b"\n") + 1] + last

    async def _wait_closed(self) -> None:
        assert self.chan is not None
        await self.chan.wait_closed()
        if self.device_conn is not None:
            self.device_conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.device_conn.wait_closed(), 5)

    def recorder_flush(self) -> None:
        if self.recorder is not None:
            self.recorder.flush()

    def progress(self) -> dict[str, Any] | None:
        """What changed since the last save, as SessionRecord columns; None if nothing did."""
        recorder = self.recorder
        if recorder is None:
            return None
        now = time.monotonic()
        log_due = recorder.log_dirty and now - self._saved_at >= self.bastion.policy.log_save_interval
        if not (recorder.dirty or log_due):
            return None
        self._saved_at = now
        commands, transcript = recorder.snapshot()
        return {"commands_executed": commands, "session_log": transcript}

    async def _finish(self) -> None:
        record_id = self.record_id
        if record_id is None:
            return
        self.bastion.live.pop(record_id, None)
        assert self.recorder is not None
        self.recorder.close()
        commands, transcript = self.recorder.snapshot()
        values = {
            "commands_executed": commands,
            "session_log": transcript,
            "session_end": datetime.now(UTC),
        }
        await asyncio.to_thread(finish_record, self.bastion.store, record_id, values, status=self._end_status)


class BastionThread(ServiceThread):
    """A bastion in a background thread with its own event loop (tests, benchmarks, demos)."""

    def __init__(self, store: Store, policy: BastionPolicy) -> None:
        self.bastion = Bastion(store, policy)
        super().__init__(self.bastion, "bastion")

    @property
    def port(self) -> int:
        return self.bastion.port

    def start(self, timeout: float = 30.0) -> BastionThread:  # type: ignore[override]
        super().start(timeout)
        return self
