"""Device SSH host keys: trusted on first use, stored, and a changed key refused loudly.

Once a key is stored, the client library itself checks it (a known_hosts file holding exactly
that key, strict checking on), so the key that is verified is the key of the session used.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass

import asyncssh
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import models as m
from drivers.errors import DeviceUnreachable, HostKeyChanged


@dataclass(frozen=True)
class HostKey:
    key_type: str
    public_key: str  # "ssh-ed25519 AAAA..."
    fingerprint: str

    def known_hosts_line(self, host: str, port: int) -> str:
        address = host if port == 22 else f"[{host}]:{port}"
        return f"{address} {self.public_key}"


def _from_asyncssh(key: asyncssh.SSHKey) -> HostKey:
    key_type, blob = key.export_public_key("openssh").decode().split()[:2]
    return HostKey(key_type, f"{key_type} {blob}", key.get_fingerprint("sha256"))


async def fetch_host_key(device: str, host: str, port: int, timeout: float) -> HostKey:
    """The host key the device presents now (an SSH handshake, no login)."""
    try:
        key = await asyncio.wait_for(asyncssh.get_server_host_key(host, port), timeout)
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        raise DeviceUnreachable(
            device, f"cannot read its SSH host key from {host}:{port}: {exc or type(exc).__name__}"
        ) from None
    if key is None:
        raise DeviceUnreachable(device, f"{host}:{port} sent no SSH host key")
    return _from_asyncssh(key)


def stored_host_key(session: Session, device_id: int) -> HostKey | None:
    row = session.scalars(select(m.DeviceHostKey).where(m.DeviceHostKey.device_id == device_id)).one_or_none()
    return HostKey(row.key_type, row.public_key, row.fingerprint) if row is not None else None


def store_host_key(session: Session, device_id: int, key: HostKey) -> None:
    """Trust ``key`` for the device, replacing any key trusted before."""
    row = session.scalars(select(m.DeviceHostKey).where(m.DeviceHostKey.device_id == device_id)).one_or_none()
    if row is None:
        row = m.DeviceHostKey(device_id=device_id)
        session.add(row)
    row.key_type, row.public_key, row.fingerprint = key.key_type, key.public_key, key.fingerprint


def changed_key_error(device: str, trusted: HostKey, presented: HostKey) -> HostKeyChanged:
    return HostKeyChanged(
        device,
        f"SSH host key changed: the device presented {presented.key_type} {presented.fingerprint}, "
        f"but {trusted.key_type} {trusted.fingerprint} is trusted. Connection refused: this is what a "
        "man-in-the-middle looks like, and also what a replaced or re-keyed device looks like",
        hint=f"if the change is expected, accept the new key: nettui device trust {device}",
    )


_KNOWN_HOSTS_DIR: list[str] = []
_KNOWN_HOSTS_FILES: dict[str, str] = {}
_KNOWN_HOSTS_LOCK = threading.Lock()


def known_hosts_file(line: str | None) -> str | None:
    """A private known_hosts file holding exactly one trusted key line, written once per
    process and reused by every session to that device (a file per session cost about 2 ms
    of blocking I/O each). The folder is mode 0700 and goes away when the process ends."""
    if line is None:
        return None
    with _KNOWN_HOSTS_LOCK:
        path = _KNOWN_HOSTS_FILES.get(line)
        if path is not None and os.path.exists(path):
            return path
        if not _KNOWN_HOSTS_DIR:
            folder = tempfile.mkdtemp(prefix="nettui-known-hosts-")
            _KNOWN_HOSTS_DIR.append(folder)
            atexit.register(shutil.rmtree, folder, True)
        fd, path = tempfile.mkstemp(dir=_KNOWN_HOSTS_DIR[0], suffix=".known_hosts")
        with os.fdopen(fd, "w") as handle:
            handle.write(line + "\n")
        _KNOWN_HOSTS_FILES[line] = path
        return path
