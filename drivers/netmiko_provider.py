"""netmiko 4.8: blocking, so every call runs in a worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

from drivers.base import CommandResult, ConfigResult, DeviceTarget, TransferProgress, TransferResult
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
from drivers.platforms import profile_for
from drivers.redaction import first_line, register
from drivers.transfer import (
    FileTransferError,
    RemoteFile,
    TransferFailed,
    exists_error,
    file_digests,
    local_source,
    mismatch,
    no_space,
    parse_digest,
    parse_remote,
    scp_error,
)
from drivers.trust import known_hosts_file

HOST_KEY_MISMATCH = "HOST_KEY_MISMATCH"
_T = TypeVar("_T")


class HostKeyMismatch(DeviceError):
    """The library refused the device's host key; the caller finds out which key it saw."""


class NetmikoProvider(CliProviderBase):
    name = "netmiko"

    def __init__(self, target: DeviceTarget, executor: Executor | None = None) -> None:
        self.target = target
        self.profile = profile_for(target.network_driver)
        # The default pool has min(32, CPUs + 4) threads: too few for a fan-out over many devices.
        self.executor = executor
        self._conn: Any = None

    async def _call(self, function: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def __aenter__(self) -> NetmikoProvider:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Log in; a provider already open stays as it is (``async with await connect(...)``
        opens once)."""
        if self._conn is None:
            await self._call(self._open)

    def _open(self) -> None:
        from netmiko import ConnectHandler
        from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

        t = self.target
        creds = t.credentials
        register(s.reveal() for s in (creds.password, creds.enable_secret) if s is not None)
        known_hosts = known_hosts_file(t.known_hosts_line)
        strict = known_hosts is not None
        try:
            self._conn = ConnectHandler(
                device_type=self.profile.netmiko_device_type,
                host=t.host,
                port=t.port,
                username=creds.username.reveal(),
                password=creds.password.reveal() if creds.password else "",
                secret=creds.enable_secret.reveal() if creds.enable_secret else "",
                ssh_strict=strict,
                system_host_keys=False,
                alt_host_keys=strict,
                alt_key_file=known_hosts or "",
                use_keys=False,
                allow_agent=False,
                conn_timeout=t.timeout,
                auth_timeout=t.timeout,
                banner_timeout=t.timeout,
                read_timeout_override=t.timeout,
            )
        except NetmikoAuthenticationException:
            raise AuthenticationFailed(
                t.name,
                "authentication failed: the device refused the username or password",
                hint="check the device's secrets group: nettui secrets check GROUP",
            ) from None
        except NetmikoTimeoutException as exc:
            text = str(exc)
            if "does not match" in text or "not found in known_hosts" in text:
                raise HostKeyMismatch(t.name, HOST_KEY_MISMATCH) from None
            raise DeviceUnreachable(t.name, f"no SSH session to {t.host}:{t.port}: {first_line(text)}") from None
        except (OSError, EOFError) as exc:
            raise DeviceUnreachable(t.name, f"no SSH session to {t.host}:{t.port}: {exc}") from None
        if creds.enable_secret and self.profile.network_driver != "juniper_junos":
            try:
                self._conn.enable()
            except (ValueError, OSError) as exc:
                self._close()
                raise EnableFailed(
                    t.name,
                    f"enable mode refused: {first_line(str(exc))}",
                    hint="check the enable_secret entry of the device's secrets group",
                ) from None

    async def close(self) -> None:
        await self._call(self._close)

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, EOFError):
                self._conn.disconnect()
            self._conn = None

    def _require(self) -> Any:
        if self._conn is None:
            raise DeviceError(self.target.name, "not connected (open() first)")
        return self._conn

    async def send_command(self, command: str, *, parse: bool = False) -> CommandResult:
        return await self._call(self._send_command, command, parse)

    def _send_command(self, command: str, parse: bool) -> CommandResult:
        conn = self._require()
        started = time.perf_counter()
        try:
            output = conn.send_command(command, read_timeout=self.target.timeout)
        except (OSError, EOFError) as exc:
            raise ConnectionDropped(self.target.name, f"the session dropped: {exc}", command=command) from None
        except Exception as exc:  # netmiko's ReadTimeout and friends
            raise _classify(self.target.name, command, exc, conn) from None
        rejected = self.profile.rejection(output)
        if rejected:
            raise CommandRejected(self.target.name, f"the device rejected the command: {rejected}", command=command)
        parsed = self._parse(command, output) if parse else None
        return CommandResult(command, output, parsed, time.perf_counter() - started)

    def _parse(self, command: str, output: str) -> list[dict[str, Any]] | None:
        from netmiko.utilities import get_structured_data

        try:
            data = get_structured_data(output, platform=self.profile.netmiko_device_type, command=command)
        except Exception:  # no template, or a template that does not fit: the text stays
            return None
        return data if isinstance(data, list) else None

    async def send_config(self, lines: list[str]) -> ConfigResult:
        return await self._call(self._send_config, lines)

    def _send_config(self, lines: list[str]) -> ConfigResult:
        from netmiko.exceptions import ConfigInvalidException

        conn = self._require()
        started = time.perf_counter()
        try:
            if self.profile.commit:
                output = conn.send_config_set(
                    lines, exit_config_mode=False, error_pattern=self.profile.error_pattern.pattern
                )
                output += conn.commit()
                output += conn.exit_config_mode()
            else:
                output = conn.send_config_set(lines, error_pattern=self.profile.error_pattern.pattern)
        except ConfigInvalidException as exc:
            raise ConfigurationError(
                self.target.name,
                f"configuration refused: {first_line(str(exc))}",
                hint="lines before the refused one may have been applied",
            ) from None
        except (OSError, EOFError) as exc:
            raise ConnectionDropped(
                self.target.name,
                f"the session dropped during configuration: {exc}",
                hint="configuration is never re-sent automatically; check the device",
            ) from None
        except Exception as exc:
            raise _classify(self.target.name, "configure", exc, conn) from None
        rejected = self.profile.rejection(output)
        if rejected:
            raise ConfigurationError(self.target.name, f"configuration refused: {rejected}")
        return ConfigResult(list(lines), output, time.perf_counter() - started)

    async def current_prompt(self) -> str:
        return str(await self._call(self._require().find_prompt))

    # -- file transfer: netmiko's own FileTransfer classes (SCP over a second SSH connection
    # with the same credentials and host-key checking, hash and space checks per platform) --

    transfer_method = "scp (netmiko)"

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
        """Copy ``local`` to the device with netmiko's FileTransfer (see drivers.base.Provider)."""
        started = time.perf_counter()
        device = self.target.name
        source = local_source(local)
        target = parse_remote(device, self.transfer_profile, remote, file_system, source.name)
        local_md5, local_sha256 = await asyncio.to_thread(file_digests, source)
        skipped, remote_md5 = await self._call(self._put_file, source, target, verify, overwrite, progress)
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
            size=source.stat().st_size,
            skipped=skipped,
            verified=verify or skipped,
            local_md5=local_md5,
            remote_md5=remote_md5,
            local_sha256=local_sha256,
            remote_sha256=remote_sha256,
            elapsed=time.perf_counter() - started,
            method=self.transfer_method,
        )

    def _put_file(
        self, source: Path, target: RemoteFile, verify: bool, overwrite: bool, progress: TransferProgress | None
    ) -> tuple[bool, str | None]:
        """(skipped as identical, the device's MD5 afterwards). Runs in a worker thread."""
        with self._file_transfer(target, str(source), target.name, "put", progress) as transfer:
            remote_md5: str | None = None
            if transfer.check_file_exists():
                remote_md5 = self._netmiko_md5(transfer, target)
                if remote_md5 == transfer.source_md5:
                    return True, remote_md5
                if not overwrite:
                    raise exists_error(self.target.name, target.path)
            free = transfer.remote_space_available()
            if free <= transfer.file_size:
                raise no_space(self.target.name, target, transfer.file_size, free)
            transfer.transfer_file()
            return False, self._netmiko_md5(transfer, target) if verify else None

    async def _scp(
        self,
        local: str,
        remote: RemoteFile,
        direction: Literal["put", "get"],
        size: int | None,
        progress: TransferProgress | None,
    ) -> None:
        """Downloads (get_file, shared with the other CLI providers) copy through netmiko's
        FileTransfer, as uploads do (put_file above)."""
        if direction == "get":
            await self._call(self._get_file, remote, Path(local), progress)
            return
        await super()._scp(local, remote, direction, size, progress)

    def _get_file(self, source: RemoteFile, temp: Path, progress: TransferProgress | None) -> None:
        with self._file_transfer(source, source.name, str(temp), "get", progress) as transfer:
            transfer.transfer_file()

    @contextlib.contextmanager
    def _file_transfer(
        self, remote: RemoteFile, source_file: str, dest_file: str, direction: str, progress: TransferProgress | None
    ) -> Any:
        """netmiko's FileTransfer for the platform, its SCP connection open; the failures of
        netmiko, scp and paramiko turned into nettui's transfer errors."""
        import paramiko  # type: ignore[import-untyped]
        from netmiko import FileTransfer
        from netmiko.exceptions import NetmikoBaseException
        from scp import SCPException  # type: ignore[import-untyped]

        device = self.target.name
        conn = self._require()
        callback = None
        if progress is not None:
            report = progress

            def callback(filename: Any, size: int, sent: int, peername: Any = None) -> None:
                report(sent, size)

        try:
            transfer = FileTransfer(
                conn,
                source_file=source_file,
                dest_file=dest_file,
                file_system=remote.netmiko_fs,
                direction=direction,
                socket_timeout=self.target.timeout,
                progress4=callback,
            )
            with transfer:
                yield transfer
        except FileTransferError:
            raise
        except SCPException as exc:
            raise scp_error(device, remote, str(exc), None) from None
        except paramiko.AuthenticationException:
            raise FileTransferError(
                device,
                "the SCP connection was refused: authentication failed",
                hint="check the device's secrets group: nettui secrets check GROUP",
            ) from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            reason = first_line(str(exc)) or type(exc).__name__
            raise TransferFailed(
                device,
                f"the SCP connection failed during the transfer of {remote.path}: {reason}",
                hint="try again; the device may hold a partial file",
            ) from None
        except (ValueError, NetmikoBaseException) as exc:
            raise FileTransferError(
                device,
                f"the device's answer during the transfer of {remote.path} was not understood: {first_line(str(exc))}",
            ) from None

    def _netmiko_md5(self, transfer: Any, remote: RemoteFile) -> str:
        output = str(transfer.remote_md5())
        digest = parse_digest(output, "md5")
        if digest is None:
            raise FileTransferError(
                self.target.name, f"the device computed no md5 for {remote.path}: {first_line(output) or '(nothing)'}"
            )
        return digest


def _classify(device: str, command: str, exc: Exception, conn: Any) -> DeviceError:
    text = first_line(str(exc)) or type(exc).__name__
    alive = True
    try:
        alive = bool(conn.is_alive())
    except Exception:  # a half-dead transport may fail the check itself: it is not alive
        alive = False
    if not alive or "Socket is closed" in text or "closed" in text.lower():
        return ConnectionDropped(device, f"the session dropped in the middle of the command ({text})", command=command)
    return DeviceError(device, f"{type(exc).__name__}: {text}", command=command)
