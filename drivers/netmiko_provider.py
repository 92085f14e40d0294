"""netmiko 4.8: blocking, so every call runs in a worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Executor
from types import TracebackType
from typing import Any, TypeVar

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
from drivers.platforms import profile_for
from drivers.redaction import first_line, register
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
