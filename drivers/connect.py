"""From a device name in the store to an open provider session: credentials resolved from the
device's secrets group at connect time, and its host key checked (trusted on first use)."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.errors import NettuiError, NotFoundError
from catalog.secrets import SecretResolutionError, resolve_group
from catalog.store import Store
from drivers.asyncssh_provider import AsyncsshProvider
from drivers.base import DEFAULT_TIMEOUT_S, Credentials, DeviceTarget, Provider
from drivers.errors import CredentialsError, DeviceUnreachable
from drivers.netmiko_provider import HostKeyMismatch, NetmikoProvider
from drivers.scrapli_provider import ScrapliProvider
from drivers.trust import HostKey, changed_key_error, fetch_host_key, store_host_key, stored_host_key

PROVIDERS: dict[str, type[NetmikoProvider] | type[ScrapliProvider] | type[AsyncsshProvider]] = {
    "netmiko": NetmikoProvider,
    "scrapli": ScrapliProvider,
    "asyncssh": AsyncsshProvider,
}
USERNAME_ENTRIES = ("username", "user")
PASSWORD_ENTRIES = ("password",)
ENABLE_ENTRIES = ("enable_secret", "enable", "secret")


@dataclass(frozen=True)
class PreparedDevice:
    """A device read from the store, ready to connect to."""

    device_id: int
    target: DeviceTarget
    trusted_key: HostKey | None


def credentials_for(device: m.Device, resolved: dict[int, Any] | None = None) -> Credentials:
    """Resolve the device's secrets group now; errors name the device, the group and the entry.
    ``resolved`` keeps each group's outcome for the next device of the same group (500 devices
    of one group: resolved once)."""
    group = device.secrets_group
    if group is None:
        raise CredentialsError(
            device.name,
            "the device has no secrets group, so nettui has no credentials for it",
            hint="set secrets_group in the inventory file and import it again",
        )
    try:
        if resolved is None:
            secrets = resolve_group(group)
        else:
            if group.id not in resolved:
                try:
                    resolved[group.id] = resolve_group(group)
                except SecretResolutionError as exc:
                    resolved[group.id] = exc
            outcome = resolved[group.id]
            if isinstance(outcome, SecretResolutionError):
                raise outcome
            secrets = outcome
    except SecretResolutionError as exc:
        what = f"{exc.where}: {exc.what}" if exc.where else exc.what
        raise CredentialsError(device.name, what, hint=exc.hint) from None

    def first(names: tuple[str, ...]) -> Any:
        return next((secrets[n] for n in names if n in secrets), None)

    username = first(USERNAME_ENTRIES)
    if username is None:
        raise CredentialsError(
            device.name,
            f"secrets group '{group.name}' has no username entry",
            hint=f"nettui secrets set {group.name} username=env:VARIABLE",
        )
    return Credentials(username, first(PASSWORD_ENTRIES), first(ENABLE_ENTRIES))


def prepare_devices(store: Store, names: list[str], *, timeout: float = DEFAULT_TIMEOUT_S) -> list[PreparedDevice]:
    """Load devices (one query), resolve their credentials and trusted host keys. Blocking."""
    with store.read_session() as session:
        devices = {
            d.name: d
            for d in session.scalars(
                select(m.Device)
                .where(m.Device.name.in_(names))
                .options(
                    selectinload(m.Device.platform),
                    selectinload(m.Device.secrets_group).selectinload(m.SecretsGroup.entries),
                )
            )
        }
        keys = {
            row.device_id: HostKey(row.key_type, row.public_key, row.fingerprint)
            for row in session.scalars(
                select(m.DeviceHostKey).where(m.DeviceHostKey.device_id.in_([d.id for d in devices.values()]))
            )
        }
        prepared, groups = [], dict[int, Any]()
        for name in names:
            device = devices.get(name)
            if device is None:
                raise NotFoundError(f"no device '{name}'", hint="`nettui inventory list` lists them")
            if device.platform is None:
                raise NettuiError(
                    f"device '{name}' has no platform, so nettui cannot tell how to talk to it",
                    hint="set its platform (a network driver such as cisco_ios) in the inventory",
                )
            target = DeviceTarget(
                name=device.name,
                host=device.host,
                port=device.ssh_port,
                network_driver=device.platform.network_driver,
                credentials=credentials_for(device, groups),
                timeout=timeout,
            )
            prepared.append(PreparedDevice(device.id, target, keys.get(device.id)))
        return prepared


def prepare_each(
    store: Store, names: list[str], *, timeout: float = DEFAULT_TIMEOUT_S
) -> dict[str, PreparedDevice | NettuiError]:
    """prepare_devices for many devices in one pass, with each device's own error instead of
    one device's error stopping the rest (the engine's fan-out prepares its targets once)."""
    with store.read_session() as session:
        found = set(session.scalars(select(m.Device.name).where(m.Device.name.in_(names))))
    outcome: dict[str, PreparedDevice | NettuiError] = {}
    ready = [n for n in names if n in found]
    try:
        outcome.update(zip(ready, prepare_devices(store, ready, timeout=timeout), strict=True))
    except NettuiError:  # some device cannot be prepared: find which, one by one
        for name in ready:
            try:
                outcome[name] = prepare_devices(store, [name], timeout=timeout)[0]
            except NettuiError as exc:
                outcome[name] = exc
    for name in names:
        if name not in found:
            outcome[name] = NotFoundError(f"no device '{name}'", hint="`nettui inventory list` lists them")
    return outcome


async def open_session(
    store: Store,
    prepared: PreparedDevice,
    driver: str = "netmiko",
    *,
    executor: Executor | None = None,
    retries: int = 0,
    retry_delay: float = 1.0,
) -> Provider:
    """Open a provider session to a prepared device, checking its host key. ``executor`` runs
    blocking libraries (netmiko); size it to the fan-out.

    ``retries`` applies to reaching the device only (timeouts, refused connections), with the
    delay doubling each time: a refused login, enable or host key is never retried, and
    nothing here ever re-sends a command or configuration.
    """
    attempt = 0
    while True:
        try:
            return await _open_once(store, prepared, driver, executor)
        except DeviceUnreachable:
            if attempt >= retries:
                raise
            await asyncio.sleep(retry_delay * (2**attempt))
            attempt += 1


async def _open_once(store: Store, prepared: PreparedDevice, driver: str, executor: Executor | None) -> Provider:
    target = prepared.target
    trusted = prepared.trusted_key
    if trusted is None:
        trusted = await fetch_host_key(target.name, target.host, target.port, target.timeout)
        await asyncio.to_thread(_remember_key, store, prepared.device_id, trusted)
        prepared = replace(prepared, trusted_key=trusted)
    target = replace(target, known_hosts_line=trusted.known_hosts_line(target.host, target.port))
    provider: NetmikoProvider | ScrapliProvider | AsyncsshProvider
    if driver == "netmiko":
        provider = NetmikoProvider(target, executor)
    elif driver == "scrapli":
        provider = ScrapliProvider(target)
    else:
        provider = AsyncsshProvider(target)
    try:
        await provider.open()
    except HostKeyMismatch:
        presented = await fetch_host_key(target.name, target.host, target.port, target.timeout)
        raise changed_key_error(target.name, trusted, presented) from None
    return provider


def _remember_key(store: Store, device_id: int, key: HostKey) -> None:
    with store.session() as session:
        if stored_host_key(session, device_id) is None:  # another process may have just trusted one
            store_host_key(session, device_id, key)


@dataclass(frozen=True)
class DriverChoice:
    driver: str
    timeout: float | None
    retries: int | None
    reason: str


def choose_driver(store: Store, name: str) -> DriverChoice:
    """The SSH driver for a device by provider selection (drivers.selection): the most specific
    enabled ProviderConfig of a netmiko or scrapli provider that fits it, with its ``timeout``
    and ``retries`` settings; else netmiko."""
    from drivers.selection import select_provider

    with store.read_session() as session:
        if session.scalar(select(m.ProviderConfig.id).where(m.ProviderConfig.enabled).limit(1)) is None:
            # The common case needs no write transaction (one per device would serialize a fan-out).
            return DriverChoice("netmiko", None, None, "no enabled provider config: netmiko")
    with store.session() as session:  # selection may create the built-in provider's row
        device = session.scalars(
            select(m.Device).where(m.Device.name == name).options(selectinload(m.Device.platform))
        ).one_or_none()
        if device is None:
            raise NotFoundError(f"no device '{name}'", hint="`nettui inventory list` lists them")
        chosen = select_provider(session, device)
        driver = chosen.provider.name if chosen.provider.name in PROVIDERS else "netmiko"
        settings = chosen.config.settings if chosen.config is not None else {}
        timeout = float(settings["timeout"]) if "timeout" in settings else None
        retries = int(settings["retries"]) if "retries" in settings else None
        return DriverChoice(driver, timeout, retries, chosen.reason)


async def connect(
    store: Store,
    name: str,
    driver: str | None = "netmiko",
    *,
    timeout: float | None = None,
    retries: int | None = None,
) -> Provider:
    """Open a session to the device called ``name``: ``async with await connect(...) as dev:``.

    ``driver=None`` chooses by provider selection, whose config also supplies the timeout and
    retries that are not given here."""
    if driver is None:
        choice = await asyncio.to_thread(choose_driver, store, name)
        driver = choice.driver
        timeout = timeout if timeout is not None else choice.timeout
        retries = retries if retries is not None else choice.retries
    if driver not in PROVIDERS:
        raise NettuiError(f"unknown driver {driver!r}", hint=f"use one of: {', '.join(PROVIDERS)}")
    (prepared,) = await asyncio.to_thread(
        prepare_devices, store, [name], timeout=timeout if timeout is not None else DEFAULT_TIMEOUT_S
    )
    return await open_session(store, prepared, driver, retries=retries or 0)


async def trust_current_key(
    store: Store, name: str, *, timeout: float = DEFAULT_TIMEOUT_S
) -> tuple[HostKey | None, HostKey]:
    """Accept whatever host key the device presents now; returns (previous, new)."""
    with store.read_session() as session:
        device = session.scalars(select(m.Device).where(m.Device.name == name)).one_or_none()
        if device is None:
            raise NotFoundError(f"no device '{name}'", hint="`nettui inventory list` lists them")
        device_id, host, port = device.id, device.host, device.ssh_port
        previous = stored_host_key(session, device_id)
    current = await fetch_host_key(name, host, port, timeout)
    with store.session() as session:
        store_host_key(session, device_id, current)
    return previous, current
