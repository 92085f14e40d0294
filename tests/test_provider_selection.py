"""Which provider talks to a device: an implementation's override, then the most specific
matching enabled ProviderConfig among providers supporting the platform, then the built-in
netmiko default. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog import models as m
from catalog.models.choices import ImplementationType
from catalog.store import Store
from drivers.selection import SelectedProvider, ensure_builtin_provider, select_provider


@pytest.fixture
def world(store: Store) -> Store:
    """Two sites in one region, a tenant, two tags, and two devices:

    sw1: cisco_ios at lon1 (in emea), tenant acme, tags core + dc
    sw2: arista_eos at par1 (in emea), no tenant, tag edge
    """
    with store.session() as s:
        cisco = m.Manufacturer(name="Cisco", slug="cisco")
        arista = m.Manufacturer(name="Arista", slug="arista")
        ios = m.Platform(name="cisco_ios", slug="cisco-ios", network_driver="cisco_ios", manufacturer=cisco)
        eos = m.Platform(name="arista_eos", slug="arista-eos", network_driver="arista_eos", manufacturer=arista)
        emea = m.Location(name="emea", slug="emea", location_type="region")
        lon1 = m.Location(name="lon1", slug="lon1", parent=emea)
        par1 = m.Location(name="par1", slug="par1", parent=emea)
        acme = m.Tenant(name="acme", slug="acme")
        core, dc, edge = (m.Tag(name=n, slug=n) for n in ("core", "dc", "edge"))
        s.add_all(
            [
                m.Device(name="sw1", host="192.0.2.1", platform=ios, location=lon1, tenant=acme, tags=[core, dc]),
                m.Device(name="sw2", host="192.0.2.2", platform=eos, location=par1, tags=[edge]),
                m.Provider(name="controller", driver_class="drivers.http_provider:HttpApiProvider"),
                m.Provider(name="eos-api", driver_class="drivers.http_provider:HttpApiProvider"),
            ]
        )
        s.flush()
        s.scalars(select(m.Provider).where(m.Provider.name == "eos-api")).one().supported_platforms = [eos]
    return store


def _one(s: Session, model: Any, name: str) -> Any:
    return s.scalars(select(model).where(model.name == name)).one()


def add_config(
    store: Store,
    name: str,
    *,
    provider: str = "controller",
    sites: tuple[str, ...] = (),
    tenants: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    enabled: bool = True,
) -> None:
    with store.session() as s:
        s.add(
            m.ProviderConfig(
                name=name,
                provider=_one(s, m.Provider, provider),
                settings={"base_url": f"https://{name}.example.net"},
                enabled=enabled,
                scope_sites=[_one(s, m.Location, n) for n in sites],
                scope_tenants=[_one(s, m.Tenant, n) for n in tenants],
                scope_tags=[_one(s, m.Tag, n) for n in tags],
            )
        )


def pick(store: Store, device: str, implementation: str | None = None) -> tuple[str, str | None, str]:
    """(provider name, config name or None, reason) chosen in a write session, as the engine would."""
    with store.session() as s:
        impl = _one(s, m.TaskImplementation, implementation) if implementation else None
        chosen = select_provider(s, _one(s, m.Device, device), impl)
        assert isinstance(chosen, SelectedProvider)
        return chosen.provider.name, chosen.config.name if chosen.config else None, chosen.reason


def test_without_configs_the_default_is_the_builtin_netmiko_provider_created_once(world: Store) -> None:
    provider, config, reason = pick(world, "sw1")
    assert (provider, config) == ("netmiko", None)
    assert "no enabled provider config matches it" in reason
    assert "default for platform cisco_ios" in reason
    assert pick(world, "sw2")[:2] == ("netmiko", None)
    with world.read_session() as s:
        rows = s.scalars(select(m.Provider).where(m.Provider.name == "netmiko")).all()
        assert [r.driver_class for r in rows] == ["drivers.netmiko_provider:NetmikoProvider"]


def test_ensure_builtin_provider_knows_scrapli_and_nothing_else(world: Store) -> None:
    with world.session() as s:
        scrapli = ensure_builtin_provider(s, "scrapli")
        assert scrapli.driver_class == "drivers.scrapli_provider:ScrapliProvider"
        assert ensure_builtin_provider(s, "scrapli") is scrapli
        with pytest.raises(ValueError, match="not a built-in provider"):
            ensure_builtin_provider(s, "napalm")
    with world.read_session() as s:
        assert s.scalar(select(func.count()).select_from(m.Provider).where(m.Provider.name == "scrapli")) == 1


def test_the_most_specific_matching_config_wins(world: Store) -> None:
    add_config(world, "a-everywhere")
    add_config(world, "b-lon1", sites=("lon1",))
    add_config(world, "c-lon1-core", sites=("lon1",), tags=("core",))
    add_config(world, "d-par1-edge", sites=("par1",), tags=("edge",))

    provider, config, reason = pick(world, "sw1")
    assert (provider, config) == ("controller", "c-lon1-core")
    assert "its scope matches the device's site lon1 and tag core" in reason
    # sw2 is at par1 with tag edge: d matches on two dimensions; b and c do not match at all.
    assert pick(world, "sw2")[1] == "d-par1-edge"

    with world.session() as s:
        s.delete(_one(s, m.ProviderConfig, "c-lon1-core"))
    assert pick(world, "sw1")[1] == "b-lon1"
    with world.session() as s:
        s.delete(_one(s, m.ProviderConfig, "b-lon1"))
    provider, config, reason = pick(world, "sw1")
    assert config == "a-everywhere"
    assert "no scope, so it serves every device" in reason


def test_every_non_empty_dimension_must_match(world: Store) -> None:
    add_config(world, "lon1-edge", sites=("lon1",), tags=("edge",))  # site matches sw1, tag does not
    add_config(world, "acme", tenants=("acme",))
    _, config, reason = pick(world, "sw1")
    assert config == "acme"
    assert "tenant acme" in reason
    assert pick(world, "sw2")[:2] == ("netmiko", None)  # sw2 has no tenant and is not at lon1


def test_tags_match_on_any_overlap_and_sites_through_parent_locations(world: Store) -> None:
    add_config(world, "emea-dc", sites=("emea",), tags=("dc", "edge"))
    _, config, reason = pick(world, "sw1")
    assert config == "emea-dc"
    assert "site emea (the device is in lon1) and tag dc" in reason
    assert pick(world, "sw2")[1] == "emea-dc"  # par1 is in emea too, and sw2 is tagged edge


def test_disabled_configs_are_skipped(world: Store) -> None:
    add_config(world, "lon1-site", sites=("lon1",))
    add_config(world, "lon1-core-tenant", sites=("lon1",), tenants=("acme",), tags=("core",), enabled=False)
    assert pick(world, "sw1")[1] == "lon1-site"
    with world.session() as s:
        _one(s, m.ProviderConfig, "lon1-site").enabled = False
    assert pick(world, "sw1")[:2] == ("netmiko", None)


def test_providers_that_do_not_support_the_platform_are_skipped(world: Store) -> None:
    add_config(world, "eos-everywhere-lon1-core", provider="eos-api", sites=("lon1",), tags=("core",))
    add_config(world, "controller-lon1", sites=("lon1",))
    provider, config, reason = pick(world, "sw1")  # cisco_ios: eos-api does not support it
    assert (provider, config) == ("controller", "controller-lon1")
    assert "1 matching config(s) skipped: their provider does not support platform cisco_ios" in reason

    add_config(world, "eos-par1", provider="eos-api", sites=("par1",))
    assert pick(world, "sw2")[:2] == ("eos-api", "eos-par1")  # arista_eos is supported

    with world.session() as s:
        s.delete(_one(s, m.ProviderConfig, "controller-lon1"))
    provider, config, reason = pick(world, "sw1")
    assert (provider, config) == ("netmiko", None)
    assert "does not support its platform" in reason


def test_ties_are_broken_by_name_whatever_the_insertion_order(world: Store) -> None:
    add_config(world, "zulu-core", tags=("core",))
    add_config(world, "alpha-lon1", sites=("lon1",))
    add_config(world, "mike-acme", tenants=("acme",))
    _, config, reason = pick(world, "sw1")
    assert config == "alpha-lon1"
    assert "as specific as 'mike-acme', 'zulu-core', it wins by name" in reason
    assert all(pick(world, "sw1")[1] == "alpha-lon1" for _ in range(3))


def _implementation(store: Store, slug: str, provider: str | None) -> None:
    with store.session() as s:
        s.add(
            m.TaskImplementation(
                task=m.TaskDefinition(name=f"Task {slug}", slug=f"task-{slug}"),
                name=slug,
                slug=slug,
                manufacturer=_one(s, m.Manufacturer, "Cisco"),
                implementation_type=ImplementationType.JINJA2_CONFIG,
                template_content="vlan 10",
                provider=ensure_builtin_provider(s, provider) if provider else None,
            )
        )


def test_an_implementation_provider_overrides_scope_matching(world: Store) -> None:
    add_config(world, "c-lon1-core", sites=("lon1",), tags=("core",))
    _implementation(world, "vlan-scrapli", "scrapli")
    _implementation(world, "vlan-any", None)

    provider, config, reason = pick(world, "sw1", "vlan-scrapli")
    assert (provider, config) == ("scrapli", None)
    assert "task implementation 'vlan-scrapli' names provider 'scrapli'" in reason
    assert "none of its enabled configs matches" in reason
    # An implementation without a provider changes nothing.
    assert pick(world, "sw1", "vlan-any")[:2] == ("controller", "c-lon1-core")

    # The override's own configs are matched to the device (for settings and credentials).
    add_config(world, "scrapli-everywhere", provider="scrapli")
    add_config(world, "scrapli-lon1", provider="scrapli", sites=("lon1",))
    provider, config, reason = pick(world, "sw1", "vlan-scrapli")
    assert (provider, config) == ("scrapli", "scrapli-lon1")
    assert pick(world, "sw2", "vlan-scrapli")[:2] == ("scrapli", "scrapli-everywhere")
