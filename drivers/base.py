"""The Provider protocol every driver implements, and what it exchanges."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol, runtime_checkable

from catalog.secrets import Secret

DEFAULT_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Credentials:
    """What a device is logged in with; values are Secrets that never print themselves."""

    username: Secret
    password: Secret | None = None
    enable_secret: Secret | None = None


@dataclass(frozen=True)
class DeviceTarget:
    """Everything a provider needs to reach one device."""

    name: str
    host: str
    port: int
    network_driver: str
    credentials: Credentials
    known_hosts_line: str | None = None  # "[host]:port ssh-ed25519 AAAA...", the trusted key
    timeout: float = DEFAULT_TIMEOUT_S
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class CommandResult:
    command: str
    output: str
    parsed: list[dict[str, Any]] | None = None
    elapsed: float = 0.0


@dataclass
class ConfigResult:
    lines: list[str]
    output: str
    elapsed: float = 0.0


# Called as a transfer goes: (bytes done, bytes in all). Maybe from a worker thread.
TransferProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class TransferResult:
    """What a file transfer did, with the digests as each side computed them.

    ``skipped`` means an identical file (same MD5 on the device as here) was already in place,
    so nothing was sent. ``verified`` means the device's own hash command agreed with the local
    digest after the transfer (or, when skipped, before it). A digest the device has no
    command for is None.
    """

    device: str
    direction: Literal["put", "get"]
    local_path: str
    remote_path: str  # as the device's CLI names it: "flash:cat9k.bin", "/var/tmp/pkg.tgz"
    size: int  # bytes
    skipped: bool
    verified: bool
    local_md5: str
    remote_md5: str | None
    local_sha256: str
    remote_sha256: str | None
    elapsed: float  # seconds, the checks included
    method: str  # how the bytes moved: "scp (netmiko)", "scp (asyncssh)"

    @property
    def transferred(self) -> bool:
        """Whether bytes were sent (not skipped as identical)."""
        return not self.skipped

    def to_json(self) -> dict[str, Any]:
        """A JSON-able record (``--json`` output, execution logs)."""
        data = asdict(self)
        data["elapsed"] = round(self.elapsed, 3)
        return data


@runtime_checkable
class Provider(Protocol):
    """An open-able session to one device. Async: blocking libraries run in a thread pool."""

    name: str
    target: DeviceTarget

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def send_command(self, command: str, *, parse: bool = False) -> CommandResult: ...

    async def send_config(self, lines: list[str]) -> ConfigResult: ...

    async def get_config(self, source: str = "running") -> str: ...

    async def get_facts(self) -> dict[str, Any]: ...

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
        """Copy ``local`` to the device (``remote`` defaults to its name on the platform's
        image file system; ``flash:x.bin`` and ``/var/tmp/x.tgz`` name a place too). An
        identical file already there is not sent again. With ``verify``, the device's own
        hash command must agree with the local MD5 afterwards."""
        ...

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
        """Copy ``remote`` from the device to ``local`` (a file, or a folder to put it in;
        default: the current folder), checked against the device's MD5 with ``verify``."""
        ...

    async def __aenter__(self) -> Provider: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
