"""SCP and SFTP on lab devices: asyncssh's own SCP and SFTP servers over each device's
simulated file systems, so that netmiko's FileTransfer (paramiko's scp), asyncssh's scp()
and OpenSSH's scp/sftp copy files to and from a device as they would to a real one.

Files live in the device's state: uploads are buffered while they arrive and become a
:class:`~nettui.lab.state.Blob` when closed, shared with every other file of identical
content in the process. The device's free space is checked as data arrives, and a full file
system refuses the write with ``No space left on device``, as a real one does.

:func:`route_session` puts this in front of a device's CLI session: an exec request for
``scp ...`` or the ``sftp`` subsystem switches the channel to asyncssh's stream session with
this file server; anything else stays with the CLI, at no cost per byte (the session's
callbacks are the CLI session's own bound methods).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import asyncssh
from asyncssh import (
    FXF_APPEND,
    FXF_CREAT,
    FXF_READ,
    FXF_TRUNC,
    FXF_WRITE,
    SFTPAttrs,
    SFTPFailure,
    SFTPName,
    SFTPNoSpaceOnFilesystem,
    SFTPNoSuchFile,
    SFTPOpUnsupported,
    SFTPVFSAttrs,
)
from asyncssh.channel import SSHChannel
from asyncssh.stream import SSHServerStreamSession

from nettui.lab.platforms.base import NO_SPACE, NO_SUCH_FILE, FileProblem, FileSystem
from nettui.lab.state import intern_blob

if TYPE_CHECKING:
    from nettui.lab.device import LabDevice

__all__ = ["DeviceFileServer", "route_session"]

log = logging.getLogger(__name__)

_TYPE_REGULAR = 1  # FILEXFER_TYPE_REGULAR
_TYPE_DIRECTORY = 2  # FILEXFER_TYPE_DIRECTORY
# What the channel asks of its session; routed to the CLI or to the file transfer session.
_CALLBACKS = (
    "connection_lost",
    "session_started",
    "data_received",
    "eof_received",
    "pause_writing",
    "resume_writing",
    "pty_requested",
    "shell_requested",
    "break_received",
    "signal_received",
    "terminal_size_changed",
    "x11_forwarding_requested",
    "agent_forwarding_requested",
    "env_requested",
)


@dataclass(eq=False)
class _OpenFile:
    """A file open on the SFTP/SCP server: an upload being received, or content being read."""

    key: str
    path: str
    writing: bool
    data: bytearray | bytes = b""
    append: bool = False
    failed: bool = False


class DeviceFileServer(asyncssh.SFTPServer):
    """An SFTP server (and, through asyncssh, an SCP server) on one lab device's file systems."""

    def __init__(self, chan: asyncssh.SSHServerChannel[bytes], device: LabDevice) -> None:
        super().__init__(chan)
        self._device = device
        self._platform = device.platform
        self._state = device.state

    # -- paths ------------------------------------------------------------------------------

    def _resolve(self, path: bytes) -> tuple[str, FileSystem, str]:
        text = path.decode("utf-8", errors="replace")
        try:
            fs, name = self._platform.resolve_file(text)
        except FileProblem:
            raise SFTPNoSuchFile(f"{text}: {NO_SUCH_FILE}") from None
        return text, fs, name

    def _attrs(self, fs: FileSystem, name: str) -> SFTPAttrs:
        if not name:
            return SFTPAttrs(type=_TYPE_DIRECTORY, permissions=0o040755, size=0, uid=0, gid=0)
        size = self._state.files.get(fs.prefix + name)
        if size is None:
            raise SFTPNoSuchFile(f"{fs.prefix}{name}: {NO_SUCH_FILE}")
        now = int(self._state.booted_at)
        return SFTPAttrs(type=_TYPE_REGULAR, permissions=0o100644, size=size, uid=0, gid=0, atime=now, mtime=now)

    def realpath(self, path: bytes) -> bytes:
        """Where ``path`` is: the default file system for ``.``."""
        _, fs, name = self._resolve(path)
        return (fs.prefix + name).encode()

    def stat(self, path: bytes) -> SFTPAttrs:
        """A file's size, or the file system (a directory)."""
        _, fs, name = self._resolve(path)
        return self._attrs(fs, name)

    def lstat(self, path: bytes) -> SFTPAttrs:
        """As :meth:`stat` (there are no links)."""
        return self.stat(path)

    def setstat(self, path: bytes, attrs: SFTPAttrs) -> None:
        """Times and modes are not kept (``scp -p`` still works)."""
        self.stat(path)

    def statvfs(self, path: bytes) -> SFTPVFSAttrs:
        """Size and free space of the file system ``path`` is on."""
        _, fs, _ = self._resolve(path)
        block = 4096
        free = self._platform.free_bytes(self._state, fs) // block
        return SFTPVFSAttrs(bsize=block, frsize=block, blocks=fs.total // block, bfree=free, bavail=free, namemax=255)

    async def scandir(self, path: bytes) -> AsyncIterator[SFTPName]:
        """The files of a file system."""
        _, fs, name = self._resolve(path)
        if name:
            yield SFTPName(name.encode(), attrs=self._attrs(fs, name))
            return
        yield SFTPName(b".", attrs=self._attrs(fs, ""))
        yield SFTPName(b"..", attrs=self._attrs(fs, ""))
        for file_name, _ in self._platform.files_on(self._state, fs):
            yield SFTPName(file_name.encode(), attrs=self._attrs(fs, file_name))

    def remove(self, path: bytes) -> None:
        """Delete a file."""
        text, fs, name = self._resolve(path)
        if not name or fs.prefix + name not in self._state.files:
            raise SFTPNoSuchFile(f"{text}: {NO_SUCH_FILE}")
        self._state.delete_file(fs.prefix + name)

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        """Move a file within the device."""
        old_text, old_fs, old_name = self._resolve(oldpath)
        new_text, new_fs, new_name = self._resolve(newpath)
        old_key = old_fs.prefix + old_name
        if not old_name or old_key not in self._state.files:
            raise SFTPNoSuchFile(f"{old_text}: {NO_SUCH_FILE}")
        if not new_name:
            raise SFTPFailure(f"{new_text}: Is a directory")
        new_key = new_fs.prefix + new_name
        try:
            self._platform.check_room(self._state, new_key, self._state.files[old_key])
        except FileProblem:
            raise SFTPNoSpaceOnFilesystem(f"{new_text}: {NO_SPACE}") from None
        self._state.copy_file(old_key, new_key)
        self._state.delete_file(old_key)

    def mkdir(self, path: bytes, attrs: SFTPAttrs) -> None:
        """The lab's file systems are flat."""
        raise SFTPOpUnsupported(f"{path.decode(errors='replace')}: sub-directories are not supported")

    # -- files ------------------------------------------------------------------------------

    def open(self, path: bytes, pflags: int, attrs: SFTPAttrs) -> _OpenFile:
        """Start an upload (write) or a download (read)."""
        text, fs, name = self._resolve(path)
        if not name:
            raise SFTPFailure(f"{text}: Is a directory")
        key = fs.prefix + name
        exists = key in self._state.files
        if pflags & FXF_WRITE:
            if not exists and not pflags & FXF_CREAT:
                raise SFTPNoSuchFile(f"{text}: {NO_SUCH_FILE}")
            keep = exists and not pflags & FXF_TRUNC
            data = bytearray(self._content(text, key) if keep else b"")
            return _OpenFile(key, text, writing=True, data=data, append=bool(pflags & FXF_APPEND))
        if not pflags & FXF_READ and pflags:
            raise SFTPFailure(f"{text}: unsupported open mode")
        if not exists:
            raise SFTPNoSuchFile(f"{text}: {NO_SUCH_FILE}")
        return _OpenFile(key, text, writing=False, data=self._content(text, key))

    def _content(self, text: str, key: str) -> bytes:
        blob = self._state.blobs.get(key)
        if blob is None:
            # Factory images and "downloads" by a simulated copy have a size but no bytes.
            raise SFTPFailure(
                f"{text}: the lab holds no content for this file (it was created by a simulated copy); "
                "only files uploaded to the device can be read back"
            )
        return blob.data

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        """A block of a file being downloaded."""
        handle = _handle(file_obj)
        return bytes(handle.data[offset : offset + size])

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        """A block of an upload; refused when the file system would overflow."""
        handle = _handle(file_obj)
        if not handle.writing:
            raise SFTPFailure(f"{handle.path}: not open for writing")
        buffer = handle.data
        assert isinstance(buffer, bytearray)
        if handle.append:
            offset = len(buffer)
        end = offset + len(data)
        if end > len(buffer):
            try:
                self._platform.check_room(self._state, handle.key, end)
            except FileProblem:
                handle.failed = True
                raise SFTPNoSpaceOnFilesystem(f"{handle.path}: {NO_SPACE}") from None
            if offset > len(buffer):
                buffer.extend(bytes(offset - len(buffer)))
        buffer[offset:end] = data
        return len(data)

    def close(self, file_obj: object) -> None:
        """The end of an upload: the file appears on the device (unless it did not fit)."""
        handle = _handle(file_obj)
        if not handle.writing or handle.failed:
            return
        data = handle.data
        if self._device.faults.corrupt_transfers and data:
            # A transfer damaged on the way: what the device keeps differs by one byte.
            data = bytearray(data)
            data[len(data) // 2] ^= 0xFF
        self._state.write_file(handle.key, intern_blob(data))
        handle.data = b""
        log.debug("lab device %s: %s written (%d bytes)", self._device.name, handle.key, len(data))

    def fstat(self, file_obj: object) -> SFTPAttrs:
        """The size of an open file."""
        handle = _handle(file_obj)
        return SFTPAttrs(type=_TYPE_REGULAR, permissions=0o100644, size=len(handle.data), uid=0, gid=0)

    def fsetstat(self, file_obj: object, attrs: SFTPAttrs) -> None:
        """Times and modes are not kept."""
        _handle(file_obj)


def _handle(file_obj: object) -> _OpenFile:
    if not isinstance(file_obj, _OpenFile):
        raise SFTPFailure("invalid file handle")
    return file_obj


class _SessionRouter(asyncssh.SSHServerSession):  # type: ignore[type-arg]
    """A channel's session: the device's CLI, until the client asks for SCP or SFTP."""

    def __init__(self, cli: asyncssh.SSHServerSession[Any], device: LabDevice) -> None:
        self._cli = cli
        self._device = device
        self._chan: asyncssh.SSHServerChannel[Any] | None = None
        self._route(cli)

    def _route(self, session: asyncssh.SSHServerSession[Any]) -> None:
        # The channel looks these up on its session at each call: after this, it calls the
        # chosen session's own methods directly.
        for name in _CALLBACKS:
            method = getattr(session, name, None)
            if method is not None:
                setattr(self, name, method)

    def connection_made(self, chan: asyncssh.SSHServerChannel[Any]) -> None:
        self._chan = chan
        self._cli.connection_made(chan)

    def _to_file_server(self) -> SSHServerStreamSession[bytes]:
        device = self._device
        assert self._chan is not None

        def file_server(chan: SSHChannel[bytes]) -> DeviceFileServer:
            return DeviceFileServer(cast("asyncssh.SSHServerChannel[bytes]", chan), device)

        stream: SSHServerStreamSession[bytes] = SSHServerStreamSession(
            None, file_server, sftp_version=3, allow_scp=True
        )
        stream.connection_made(self._chan)
        self._route(stream)
        return stream

    def exec_requested(self, command: str) -> bool:
        if command.startswith("scp "):
            return self._to_file_server().exec_requested(command)
        return bool(self._cli.exec_requested(command))

    def subsystem_requested(self, subsystem: str) -> bool:
        if subsystem == "sftp":
            return self._to_file_server().subsystem_requested(subsystem)
        return bool(self._cli.subsystem_requested(subsystem))


def route_session(cli: asyncssh.SSHServerSession[Any], device: LabDevice) -> asyncssh.SSHServerSession[Any]:
    """``cli`` for interactive and exec sessions; SCP and SFTP requests go to the device's files."""
    return _SessionRouter(cli, device)
