"""Which provider (and which of its configs) talks to a device.

In order:

1. a TaskImplementation that names a ``provider`` gets that provider (with its most specific
   enabled config that matches the device, if it has one);
2. otherwise the most specific enabled ProviderConfig whose scope matches the device, among
   providers that support the device's platform (a provider with no ``supported_platforms``
   supports every platform);
3. otherwise the platform's default: the built-in ``netmiko`` provider, whose Provider row is
   created on demand.

A scope has three dimensions: sites (the device's location, or any location it sits in),
tenants and tags (any overlap). An empty dimension matches every device; a config matches when
every non-empty dimension does. More matched dimensions is more specific, so site+tag beats
site, which beats a config with no scope at all. Ties go to the config whose name sorts first,
so the same store always gives the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from catalog.models import Device, Location, Provider, ProviderConfig, TaskImplementation

DEFAULT_PROVIDER = "netmiko"
# name -> (driver_class, description, capabilities) of the providers nettui ships.
BUILTIN_PROVIDERS: dict[str, tuple[str, str, list[str]]] = {
    "netmiko": (
        "drivers.netmiko_provider:NetmikoProvider",
        "SSH CLI sessions through netmiko (built in)",
        ["send_command", "send_config", "get_config", "get_facts"],
    ),
    "scrapli": (
        "drivers.scrapli_provider:ScrapliProvider",
        "SSH CLI sessions through scrapli (built in)",
        ["send_command", "send_config", "get_config", "get_facts"],
    ),
    "asyncssh": (
        "drivers.asyncssh_provider:AsyncsshProvider",
        "SSH CLI sessions through asyncssh, in nettui's event loop (built in)",
        ["send_command", "send_config", "get_config", "get_facts"],
    ),
}
_MAX_LOCATION_DEPTH = 64  # deeper than any real site hierarchy; also stops a parent cycle


@dataclass(frozen=True)
class SelectedProvider:
    """The provider chosen for a device, the config to use (None: the provider's defaults), and why."""

    provider: Provider
    config: ProviderConfig | None
    reason: str


@dataclass(frozen=True)
class _Match:
    config: ProviderConfig
    matched: tuple[str, ...]  # the scope dimensions that matched, as words for the reason

    @property
    def specificity(self) -> int:
        return len(self.matched)


def ensure_builtin_provider(session: Session, name: str = DEFAULT_PROVIDER) -> Provider:
    """The Provider row of a built-in provider, created if missing (the session must be writable)."""
    if name not in BUILTIN_PROVIDERS:
        raise ValueError(f"{name!r} is not a built-in provider; built in: {', '.join(BUILTIN_PROVIDERS)}")
    query = select(Provider).where(Provider.name == name)
    existing = session.scalars(query).one_or_none()
    if existing is not None:
        return existing
    driver_class, description, capabilities = BUILTIN_PROVIDERS[name]
    try:
        # A savepoint: if another process creates the row first, only this insert is undone.
        with session.begin_nested():
            provider = Provider(
                name=name, driver_class=driver_class, description=description, capabilities=list(capabilities)
            )
            session.add(provider)
    except IntegrityError:
        return session.scalars(query).one()
    return provider


def _locations(device: Device) -> list[Location]:
    """The device's location and every location it sits in, nearest first."""
    chain: list[Location] = []
    seen: set[int] = set()
    location = device.location
    while location is not None and location.id not in seen and len(chain) < _MAX_LOCATION_DEPTH:
        chain.append(location)
        seen.add(location.id)
        location = location.parent
    return chain


def _scope_match(config: ProviderConfig, device: Device, locations: list[Location]) -> _Match | None:
    """How ``config``'s scope matches ``device``, or None if a non-empty dimension misses."""
    matched: list[str] = []
    if config.scope_sites:
        scoped = {site.id for site in config.scope_sites}
        hit = next((loc for loc in locations if loc.id in scoped), None)
        if hit is None:
            return None
        within = "" if hit is locations[0] else f" (the device is in {locations[0].name})"
        matched.append(f"site {hit.name}{within}")
    if config.scope_tenants:
        if device.tenant is None or device.tenant.id not in {t.id for t in config.scope_tenants}:
            return None
        matched.append(f"tenant {device.tenant.name}")
    if config.scope_tags:
        overlap = sorted({t.name for t in config.scope_tags} & {t.name for t in device.tags})
        if not overlap:
            return None
        matched.append(f"tag{'s' if len(overlap) > 1 else ''} {', '.join(overlap)}")
    return _Match(config, tuple(matched))


def _supports(provider: Provider, device: Device) -> bool:
    if not provider.supported_platforms:
        return True
    return device.platform is not None and device.platform.id in {p.id for p in provider.supported_platforms}


def _matching_configs(session: Session, device: Device, provider: Provider | None = None) -> list[_Match]:
    """Enabled configs whose scope matches the device, most specific first, then by name."""
    query = (
        select(ProviderConfig)
        .where(ProviderConfig.enabled.is_(True))
        .options(
            selectinload(ProviderConfig.provider).selectinload(Provider.supported_platforms),
            selectinload(ProviderConfig.scope_sites),
            selectinload(ProviderConfig.scope_tenants),
            selectinload(ProviderConfig.scope_tags),
        )
        .order_by(ProviderConfig.name)
    )
    if provider is not None:
        query = query.where(ProviderConfig.provider_id == provider.id)
    locations = _locations(device)
    matches = [
        match for config in session.scalars(query) if (match := _scope_match(config, device, locations)) is not None
    ]
    # Names are unique, so (specificity, name) is a total order: the same store, the same pick.
    matches.sort(key=lambda mt: (-mt.specificity, mt.config.name))
    return matches


def _describe(match: _Match) -> str:
    if match.matched:
        return f"its scope matches the device's {' and '.join(match.matched)}"
    return "it has no scope, so it serves every device"


def _ties(best: _Match, others: list[_Match]) -> str:
    tied = [mt.config.name for mt in others if mt.specificity == best.specificity and mt is not best]
    if not tied:
        return ""
    return f"; as specific as {', '.join(repr(n) for n in tied)}, it wins by name"


def select_provider(
    session: Session, device: Device, implementation: TaskImplementation | None = None
) -> SelectedProvider:
    """Choose the provider and config for ``device`` (and ``implementation``, if given).

    Reads through ``session``; it writes only when the default provider's row is missing.
    """
    if implementation is not None and implementation.provider is not None:
        provider = implementation.provider
        matches = _matching_configs(session, device, provider)
        reason = f"task implementation '{implementation.name}' names provider '{provider.name}'"
        if matches:
            best = matches[0]
            reason += f"; its config '{best.config.name}' is used: {_describe(best)}{_ties(best, matches)}"
            return SelectedProvider(provider, best.config, reason)
        return SelectedProvider(provider, None, reason + "; none of its enabled configs matches the device")

    matches = _matching_configs(session, device)
    supported = [mt for mt in matches if _supports(mt.config.provider, device)]
    if supported:
        best = supported[0]
        skipped = len(matches) - len(supported)
        reason = (
            f"provider config '{best.config.name}' (provider '{best.config.provider.name}'): "
            f"{_describe(best)}{_ties(best, supported)}"
        )
        if skipped:
            platform = device.platform.name if device.platform else "none"
            reason += f" ({skipped} matching config(s) skipped: their provider does not support platform {platform})"
        return SelectedProvider(best.config.provider, best.config, reason)

    provider = ensure_builtin_provider(session, DEFAULT_PROVIDER)
    platform = f"platform {device.platform.name}" if device.platform else "a device without a platform"
    if matches:
        why = "every enabled provider config that matches it is for a provider that does not support its platform"
    else:
        why = "no enabled provider config matches it"
    reason = f"{why}; using the default for {platform}, the built-in provider '{provider.name}'"
    return SelectedProvider(provider, None, reason)
