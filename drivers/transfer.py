"""File transfer to and from devices: where files go per platform, how the device checks
them, the errors an operator acts on, and SCP through asyncssh for CLI providers.

Every SSH CLI provider can transfer files: the bytes go over SCP in a second SSH connection
with the same credentials and the same trusted host key as the CLI session, and the device's
own hash command (``verify /md5``, ``show file ... md5sum``, ``file checksum md5``), run in
the CLI session, must agree with the local digest. netmiko does the same through its own
``FileTransfer`` classes (drivers/netmiko_provider.py); scrapli, which has no file transfer
of its own, and other CLI providers use :class:`ScpFileTransfer` here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from catalog.errors import NettuiError
from drivers.base import CommandResult, DeviceTarget, TransferProgress, TransferResult
from drivers.errors import AuthenticationFailed, CommandRejected, DeviceError, DeviceUnreachable
from drivers.redaction import first_line

if TYPE_CHECKING:
    from drivers.platforms import PlatformProfile

__all__ = [
    "SSH_TRANSFER_PROVIDERS",
    "ChecksumMismatch",
    "FileExistsOnDevice",
    "FileTransferError",
    "InsufficientSpace",
    "LocalFileError",
    "NoFileTransfer",
    "RemoteFile",
    "RemoteFileNotFound",
    "ScpFileTransfer",
    "TransferFailed",
    "TransferNotSupported",
    "TransferProfile",
    "file_digests",
    "parse_remote",
    "require_file_transfer",
    "second_connection",
    "transfer_profile",
]

# Providers that can move files (SSH to the device); any other is refused with TransferNotSupported.
SSH_TRANSFER_PROVIDERS = ("netmiko", "scrapli", "asyncssh")
_CHUNK = 1024 * 1024


# -- errors --------------------------------------------------------------------------------------


class TransferNotSupported(NettuiError):
    """The provider does not reach a device's file system (an HTTP API, Nautobot, a Python hook)."""

    def __init__(self, provider: str, detail: str = "") -> None:
        super().__init__(
            f"file transfer is not supported by the {provider} provider" + (f": {detail}" if detail else ""),
            where=f"provider {provider}",
            hint="copy files over SSH: nettui device put NAME FILE --driver netmiko (or scrapli)",
        )
        self.provider = provider


class LocalFileError(NettuiError):
    """The local side of a transfer: a missing or unreadable file, or a folder in the way."""


class FileTransferError(DeviceError):
    """A transfer to or from ``device`` failed; subclasses say why."""


class InsufficientSpace(FileTransferError):
    """The device's file system has no room for the file."""


class ChecksumMismatch(FileTransferError):
    """The device computes a different digest than the local file has: the copy is damaged."""


class RemoteFileNotFound(FileTransferError):
    """There is no such file on the device."""


class FileExistsOnDevice(FileTransferError):
    """A different file of that name is on the device and overwriting was not allowed."""


class TransferFailed(FileTransferError):
    """The copy itself failed (SCP refused, connection lost); the device may hold a partial file."""


# -- where files go, and how each platform checks them -----------------------------------------


def _hex(length: int) -> re.Pattern[str]:
    return re.compile(rf"(?<![0-9A-Fa-f])([0-9A-Fa-f]{{{length}}})(?![0-9A-Fa-f])")


_MD5 = _hex(32)
_SHA256 = _hex(64)
_MISSING = re.compile(r"no such file|does not exist|not found|error opening", re.IGNORECASE)


@dataclass(frozen=True)
class TransferProfile:
    """How one platform names, stores and checks files."""

    default_fs: str  # where a bare file name goes: "flash:", "bootflash:", "/var/tmp/"
    md5_command: str  # "{path}" is the file as the CLI names it; "{shell}" as the shell does
    sha256_command: str | None
    free_command: str  # "{fs}" is the file system
    free_parser: Callable[[str], int | None]
    # A file system as netmiko's FileTransfer and the SCP server on the device spell it.
    shell_paths: tuple[tuple[str, str], ...] = ()  # (CLI prefix, shell folder): EOS flash: is /mnt/flash

    def shell_dir(self, fs: str) -> str | None:
        """The folder a Unix shell (and SCP, on EOS) sees ``fs`` as."""
        return next((folder for prefix, folder in self.shell_paths if prefix == fs), None)

    def cli_fs(self, path: str) -> tuple[str, str] | None:
        """``/mnt/flash/x.swi`` -> (``flash:``, ``x.swi``) where the shell path is known."""
        for prefix, folder in self.shell_paths:
            if path.startswith(folder + "/"):
                return prefix, path[len(folder) + 1 :]
        return None


def _bytes_free(output: str) -> int | None:
    found = re.search(r"(\d+) bytes free", output)
    return int(found.group(1)) if found else None


_UNITS = {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def _junos_var_free(output: str) -> int | None:
    """Avail of /var in ``show system storage`` (sizes like ``1.5G``)."""
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[-1] in ("/var", "/.mount/var"):
            found = re.fullmatch(r"([\d.]+)([BKMGT]?)", parts[3])
            if found:
                return int(float(found.group(1)) * _UNITS[found.group(2) or "B"])
    return None


_CISCO = TransferProfile(
    default_fs="flash:",
    md5_command="verify /md5 {path}",
    sha256_command=None,
    free_command="dir {fs}",
    free_parser=_bytes_free,
)
PROFILES: dict[str, TransferProfile] = {
    "cisco_ios": _CISCO,
    "cisco_nxos": TransferProfile(
        default_fs="bootflash:",
        md5_command="show file {path} md5sum",
        sha256_command="show file {path} sha256sum",
        free_command="dir {fs}",
        free_parser=_bytes_free,
    ),
    "arista_eos": TransferProfile(
        default_fs="flash:",
        md5_command="verify /md5 {path}",
        sha256_command="bash sha256sum {shell}",
        free_command="dir {fs}",
        free_parser=_bytes_free,
        shell_paths=(("flash:", "/mnt/flash"),),
    ),
    "juniper_junos": TransferProfile(
        default_fs="/var/tmp/",  # noqa: S108 - a folder on the device
        md5_command="file checksum md5 {path}",
        sha256_command="file checksum sha-256 {path}",
        free_command="show system storage",
        free_parser=_junos_var_free,
    ),
}


def transfer_profile(network_driver: str) -> TransferProfile:
    """The transfer profile of a platform (IOS-like for platforms nettui does not know)."""
    return PROFILES.get(network_driver, _CISCO)


@dataclass(frozen=True)
class RemoteFile:
    """A file on a device: its file system (``flash:``, ``/var/tmp/``) and name."""

    fs: str
    name: str
    profile: TransferProfile

    @property
    def path(self) -> str:
        """As the device's CLI names it: ``flash:x.bin``, ``/var/tmp/x.tgz``."""
        return self.fs + self.name

    @property
    def shell_path(self) -> str:
        """As a Unix shell on the device names it (``/mnt/flash/x.swi`` on EOS)."""
        folder = self.profile.shell_dir(self.fs)
        return f"{folder}/{self.name}" if folder else self.path

    @property
    def scp_path(self) -> str:
        """What to ask the device's SCP server for."""
        return self.shell_path

    @property
    def netmiko_fs(self) -> str:
        """The ``file_system`` netmiko's FileTransfer takes (``/mnt/flash``, ``/var/tmp``)."""
        folder = self.profile.shell_dir(self.fs)
        if folder:
            return folder
        return self.fs.rstrip("/") if self.fs.startswith("/") else self.fs

    def command(self, template: str) -> str:
        return template.format(path=self.path, shell=self.shell_path, fs=self.fs)


_BAD_NAME = re.compile(r"[\s'\"`$;|&<>\\*?]")


def parse_remote(
    device: str, profile: TransferProfile, remote: str | None, file_system: str | None, default_name: str | None
) -> RemoteFile:
    """Where ``remote`` is on the device: ``flash:x.bin``, ``/var/tmp/x.tgz``, ``/mnt/flash/x.swi``,
    or a bare name on ``file_system`` (default: the platform's image file system)."""
    text = (remote or "").strip()
    fs: str | None = None
    name = text
    if file_system:
        fs = file_system.strip()
        if not fs.endswith((":", "/")):
            fs += "/" if fs.startswith("/") else ":"
    elif text.startswith("/"):
        known = profile.cli_fs(text)
        if known is not None:
            fs, name = known
        else:
            folder, _, name = text.rpartition("/")
            fs = folder + "/"
    elif ":" in text:
        head, _, rest = text.partition(":")
        fs, name = head + ":", rest.lstrip("/")
    name = name or (default_name or "")
    if not name:
        raise FileTransferError(
            device, "no remote file named", hint="name the file on the device, e.g. flash:image.bin"
        )
    if "/" in name or _BAD_NAME.search(name) or name in (".", ".."):
        raise FileTransferError(
            device,
            f"{name!r} is not a file name nettui can pass to the device's CLI",
            hint="use a plain name (letters, digits, . _ - +), in a file system such as flash: or /var/tmp/",
        )
    return RemoteFile(fs or profile.default_fs, name, profile)


def file_digests(path: Path) -> tuple[str, str]:
    """(md5, sha256) of a local file, read once. Blocking."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def local_source(path: Path) -> Path:
    """A local file to send; LocalFileError says what is wrong with it."""
    path = Path(path).expanduser()
    if not path.exists():
        raise LocalFileError(f"no file {path}", hint="check the path of the file to send")
    if not path.is_file():
        raise LocalFileError(f"{path} is not a file", hint="name one file; folders are not sent")
    if not os.access(path, os.R_OK):
        raise LocalFileError(f"{path} cannot be read", hint="check its permissions")
    return path


def local_destination(local: Path | None, name: str) -> Path:
    """Where a file read from the device goes: ``local``, or ``local/NAME`` for a folder."""
    path = Path(local).expanduser() if local is not None else Path.cwd()
    if path.is_dir():
        path = path / name
    if not path.parent.is_dir():
        raise LocalFileError(f"no folder {path.parent}", hint="create it first, or name another destination")
    return path


def parse_digest(output: str, algorithm: Literal["md5", "sha256"]) -> str | None:
    """The digest in a hash command's output; None when the device says the file is missing."""
    found = (_MD5 if algorithm == "md5" else _SHA256).search(output)
    if found:
        return found.group(1).lower()
    return None


def mismatch(device: str, remote: RemoteFile, algorithm: str, local: str, computed: str) -> ChecksumMismatch:
    return ChecksumMismatch(
        device,
        f"{remote.path} on the device has {algorithm} {computed}, but the local file has {local}: the copy is damaged",
        hint="send it again (the damaged copy is replaced), or delete it from the device",
    )


def no_space(device: str, remote: RemoteFile, size: int, free: int | None) -> InsufficientSpace:
    room = f"only {free:,} bytes are free" if free is not None else "the device refused the data"
    return InsufficientSpace(
        device,
        f"no room for {remote.name} ({size:,} bytes) on {remote.fs}: {room}",
        hint=f"free space on {remote.fs} (delete old images) and try again",
    )


def not_found(device: str, remote: RemoteFile) -> RemoteFileNotFound:
    return RemoteFileNotFound(
        device, f"there is no {remote.path} on the device", hint=f"list the files: dir {remote.fs}"
    )


def exists_error(device: str, where: str) -> FileExistsOnDevice:
    return FileExistsOnDevice(
        device,
        f"a different file is already at {where}",
        hint="allow overwriting, or choose another name",
    )


# -- SCP through asyncssh, verification through the CLI session ---------------------------------


class ScpFileTransfer:
    """put_file/get_file for a CLI provider: SCP with asyncssh, checked with the device's hash
    command through the provider's own ``send_command``."""

    target: DeviceTarget
    profile: PlatformProfile
    transfer_method = "scp (asyncssh)"

    async def send_command(self, command: str, *, parse: bool = False) -> CommandResult:
        raise NotImplementedError

    @property
    def transfer_profile(self) -> TransferProfile:
        return transfer_profile(self.profile.network_driver)

    async def put_file(
        self,
        local: Path,
        remote: str | None = None,
        *,
        file_system: str | None = None,
        verify: bool = True,
        overwrite: bool = True,
        progress: TransferProgress | None = None,
    ) -> TransferResult:
        """Copy ``local`` to the device over SCP (see :class:`drivers.base.Provider`)."""
        started = time.perf_counter()
        device = self.target.name
        source = local_source(local)
        target = parse_remote(device, self.transfer_profile, remote, file_system, source.name)
        size = source.stat().st_size
        local_md5, local_sha256 = await asyncio.to_thread(file_digests, source)
        remote_md5 = await self.remote_digest(target, "md5")
        if remote_md5 is not None and remote_md5 != local_md5 and not overwrite:
            raise exists_error(device, target.path)
        skipped = remote_md5 == local_md5
        if not skipped:
            free = await self.free_space(target)
            if free is not None and size > free:
                raise no_space(device, target, size, free)
            await self._scp(str(source), target, "put", size, progress)
            remote_md5 = await self.remote_digest(target, "md5") if verify else None
            if verify and remote_md5 is None:
                raise TransferFailed(device, f"{target.path} is not on the device after the transfer")
        remote_sha256: str | None = None
        if verify:
            if remote_md5 != local_md5:
                raise mismatch(device, target, "md5", local_md5, remote_md5 or "?")
            remote_sha256 = await self.remote_digest(target, "sha256")
            if remote_sha256 is not None and remote_sha256 != local_sha256:
                raise mismatch(device, target, "sha256", local_sha256, remote_sha256)
        return TransferResult(
            device=device,
            direction="put",
            local_path=str(source),
            remote_path=target.path,
            size=size,
            skipped=skipped,
            verified=verify or skipped,
            local_md5=local_md5,
            remote_md5=remote_md5,
            local_sha256=local_sha256,
            remote_sha256=remote_sha256,
            elapsed=time.perf_counter() - started,
            method=self.transfer_method,
        )

    async def get_file(
        self,
        remote: str,
        local: Path | None = None,
        *,
        file_system: str | None = None,
        verify: bool = True,
        overwrite: bool = True,
        progress: TransferProgress | None = None,
    ) -> TransferResult:
        """Copy ``remote`` from the device over SCP (see :class:`drivers.base.Provider`)."""
        started = time.perf_counter()
        device = self.target.name
        source = parse_remote(device, self.transfer_profile, remote, file_system, None)
        destination = local_destination(local, source.name)
        remote_md5 = await self.remote_digest(source, "md5")
        if remote_md5 is None:
            raise not_found(device, source)
        skipped = False
        if destination.exists():
            existing_md5, _ = await asyncio.to_thread(file_digests, destination)
            skipped = existing_md5 == remote_md5
            if not skipped and not overwrite:
                raise LocalFileError(
                    f"a different file is already at {destination}", hint="allow overwriting, or name another file"
                )
        if not skipped:
            await receive_atomically(
                device,
                source,
                destination,
                lambda temp: self._scp(str(temp), source, "get", None, progress),
                remote_md5 if verify else None,
            )
        local_md5, local_sha256 = await asyncio.to_thread(file_digests, destination)
        if verify and local_md5 != remote_md5:
            raise mismatch(device, source, "md5", local_md5, remote_md5)
        remote_sha256 = await self.remote_digest(source, "sha256") if verify else None
        return TransferResult(
            device=device,
            direction="get",
            local_path=str(destination),
            remote_path=source.path,
            size=destination.stat().st_size,
            skipped=skipped,
            verified=verify or skipped,
            local_md5=local_md5,
            remote_md5=remote_md5,
            local_sha256=local_sha256,
            remote_sha256=remote_sha256,
            elapsed=time.perf_counter() - started,
            method=self.transfer_method,
        )

    async def remote_digest(self, remote: RemoteFile, algorithm: Literal["md5", "sha256"]) -> str | None:
        """The digest the device computes, None if the file is not there (or, for sha256, the
        platform has no command for it)."""
        template = self.transfer_profile.md5_command if algorithm == "md5" else self.transfer_profile.sha256_command
        if template is None:
            return None
        command = remote.command(template)
        try:
            output = (await self.send_command(command)).output
        except CommandRejected as exc:
            if _MISSING.search(str(exc)):
                return None
            raise
        return digest_or_missing(self.target.name, command, output, algorithm)

    async def free_space(self, remote: RemoteFile) -> int | None:
        """Bytes free on the file system, as the device reports it (None if it does not say)."""
        command = remote.command(self.transfer_profile.free_command)
        try:
            output = (await self.send_command(command)).output
        except CommandRejected:
            return None
        return self.transfer_profile.free_parser(output)

    async def _scp(
        self,
        local: str,
        remote: RemoteFile,
        direction: Literal["put", "get"],
        size: int | None,
        progress: TransferProgress | None,
    ) -> None:
        import asyncssh

        handler = None
        if progress is not None:
            report = progress

            def handler(src: bytes, dst: bytes, done: int, total: int) -> None:
                report(done, total)

        async with scp_connection(self.target) as conn:
            try:
                if direction == "put":
                    await asyncssh.scp(local, (conn, remote.scp_path), progress_handler=handler)
                else:
                    await asyncssh.scp((conn, remote.scp_path), local, progress_handler=handler)
            except asyncssh.SFTPError as exc:
                raise scp_error(self.target.name, remote, exc.reason, size) from None
            except (asyncssh.Error, OSError) as exc:
                raise TransferFailed(
                    self.target.name,
                    f"the SCP connection dropped during the transfer of {remote.path}: {first_line(str(exc))}",
                    hint="try again; the device may hold a partial file",
                ) from None


def digest_or_missing(device: str, command: str, output: str, algorithm: Literal["md5", "sha256"]) -> str | None:
    """A hash command's digest; None when the device says there is no such file."""
    digest = parse_digest(output, algorithm)
    if digest is not None:
        return digest
    if _MISSING.search(output):
        return None
    raise FileTransferError(
        device,
        f"could not read a {algorithm} digest from the device's answer: {first_line(output) or '(nothing)'}",
        command=command,
    )


def scp_error(device: str, remote: RemoteFile, reason: str, size: int | None) -> FileTransferError:
    """The error for an SCP refusal, by what the device said."""
    text = first_line(reason)
    if "No space" in text or "space left" in text.lower():
        return no_space(device, remote, size or 0, None)
    if "No such file" in text:
        return not_found(device, remote)
    return TransferFailed(device, f"the device refused the SCP transfer of {remote.path}: {text}")


async def receive_atomically(
    device: str,
    remote: RemoteFile,
    destination: Path,
    receive: Callable[[Path], Awaitable[None]],
    expected_md5: str | None,
) -> None:
    """Receive into a temporary file beside ``destination`` and move it into place once its
    MD5 is the one the device computed: a failed or damaged download never replaces the file
    that was there."""
    fd, name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
    os.close(fd)
    temp = Path(name)
    try:
        await receive(temp)
        if expected_md5 is not None:
            md5, _ = await asyncio.to_thread(file_digests, temp)
            if md5 != expected_md5:
                raise mismatch(device, remote, "md5", md5, expected_md5)
        temp.replace(destination)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


async def second_connection(target: DeviceTarget) -> Any:
    """Another SSH connection to the device beside a provider's session (for SCP, or an
    interactive reload): the same credentials by password, and only the host key trusted for it.
    asyncssh's errors are the caller's to word."""
    import asyncssh

    creds = target.credentials
    known_hosts: Any = asyncssh.import_known_hosts(target.known_hosts_line) if target.known_hosts_line else None
    return await asyncssh.connect(
        target.host,
        target.port,
        username=creds.username.reveal(),
        password=creds.password.reveal() if creds.password else None,
        known_hosts=known_hosts,
        client_keys=None,
        agent_path=None,
        preferred_auth="password,keyboard-interactive",
        connect_timeout=target.timeout,
        login_timeout=target.timeout,
    )


@contextlib.asynccontextmanager
async def scp_connection(target: DeviceTarget) -> AsyncIterator[Any]:
    """A second SSH connection to the device, for SCP: the same credentials, and only the
    host key trusted for it."""
    import asyncssh

    try:
        conn = await second_connection(target)
    except asyncssh.PermissionDenied:
        raise AuthenticationFailed(
            target.name,
            "authentication failed for the SCP connection: the device refused the username or password",
            hint="check the device's secrets group: nettui secrets check GROUP",
        ) from None
    except asyncssh.HostKeyNotVerifiable:
        raise DeviceError(
            target.name,
            "the SCP connection met a host key that is not the trusted one: connection refused",
            hint=f"if the change is expected, accept the new key: nettui device trust {target.name}",
        ) from None
    except (OSError, TimeoutError, asyncssh.Error) as exc:
        reason = first_line(str(exc)) or type(exc).__name__
        raise DeviceUnreachable(target.name, f"no SCP connection to {target.host}:{target.port}: {reason}") from None
    try:
        yield conn
    finally:
        conn.close()
        with contextlib.suppress(Exception):
            await conn.wait_closed()


# -- providers that cannot transfer -------------------------------------------------------------


class NoFileTransfer:
    """put_file/get_file for providers that do not reach a device's files: refused, clearly."""

    name: str

    async def put_file(
        self,
        local: Path,
        remote: str | None = None,
        *,
        file_system: str | None = None,
        verify: bool = True,
        overwrite: bool = True,
        progress: TransferProgress | None = None,
    ) -> TransferResult:
        """Refused: this provider does not reach a device's file system."""
        raise TransferNotSupported(self.name, "it talks to an API, not to a device's file system")

    async def get_file(
        self,
        remote: str,
        local: Path | None = None,
        *,
        file_system: str | None = None,
        verify: bool = True,
        overwrite: bool = True,
        progress: TransferProgress | None = None,
    ) -> TransferResult:
        """Refused: this provider does not reach a device's file system."""
        raise TransferNotSupported(self.name, "it talks to an API, not to a device's file system")


def require_file_transfer(provider: str) -> None:
    """Refuse, before anything starts, a transfer through a provider that cannot do one
    (``python_hook``, ``http_api``, ``nautobot``: only SSH drivers reach a device's files)."""
    if provider not in SSH_TRANSFER_PROVIDERS:
        raise TransferNotSupported(provider, f"only the SSH drivers ({', '.join(SSH_TRANSFER_PROVIDERS)}) copy files")
