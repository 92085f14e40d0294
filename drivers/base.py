"""The Provider protocol every driver implements, and what it exchanges."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

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

    async def __aenter__(self) -> Provider: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
