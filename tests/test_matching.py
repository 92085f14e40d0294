"""Which implementation runs on which device, and the explanation when none does."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import models as m
from catalog.matching import (
    NoImplementationError,
    PatternError,
    check_pattern,
    explain,
    resolve_implementation,
    version_matches,
)
from catalog.store import Store
from catalog.sync import import_catalog
from tests.conftest import run_cli

GOOD = Path(__file__).parent / "data" / "catalog" / "good"


@pytest.mark.parametrize(
    ("pattern", "version", "expected"),
    [
        ("", "anything", True),
        ("17\\..*", "17.9.4a", True),
        ("17.*", "17.12.1", True),
        ("17\\..*", "16.12.4", False),
        ("17\\..*", "117.1", False),  # a regex matches the whole version, not a part of it
        (">=15.0,<16.0", "15.2(4)M3", True),
        (">=15.0,<16.0", "16.0", False),
        (">=15.0,<16.0", "12.2(55)SE", False),
        (">=4.20", "4.30.1F", True),
        (">=4.20", "4.18.0F", False),
        (">21.4R1", "21.4R3-S2", True),
        ("==9.3(8)", "9.3(8)", True),
        ("!=9.3(8)", "9.3(9)", True),
        (">=17.0", "", False),
    ],
)
def test_version_patterns(pattern: str, version: str, expected: bool) -> None:
    ok, reason = version_matches(pattern, version)
    assert ok is expected, reason
    assert reason


@pytest.mark.parametrize("pattern", [">=15.0,<", ">= ,<16", "17.(", "[a-"])
def test_bad_patterns_are_refused_with_a_hint(pattern: str) -> None:
    with pytest.raises(PatternError) as info:
        check_pattern(pattern)
    assert info.value.hint


def _device(session: Session, name: str, manufacturer: str, driver: str, version: str) -> m.Device:
    maker = session.scalars(select(m.Manufacturer).where(m.Manufacturer.name == manufacturer)).one_or_none()
    maker = maker or m.Manufacturer(name=manufacturer, slug=manufacturer.lower())
    platform = session.scalars(select(m.Platform).where(m.Platform.network_driver == driver)).first()
    platform = platform or m.Platform(name=driver, slug=driver, network_driver=driver, manufacturer=maker)
    device = m.Device(name=name, host="192.0.2.1", platform=platform, manufacturer=maker, software_version=version)
    session.add(device)
    session.flush()
    return device


@pytest.fixture
def lab(store: Store) -> Store:
    import_catalog(store, [GOOD])
    with store.session() as session:
        _device(session, "ios17", "Cisco", "cisco_ios", "17.9.4a")
        _device(session, "ios15", "Cisco", "cisco_ios", "15.2(4)M3")
        _device(session, "nxos", "Cisco", "cisco_nxos", "9.3(8)")
        _device(session, "eos-old", "Arista", "arista_eos", "4.18.0F")
        _device(session, "eos-new", "Arista", "arista_eos", "4.30.1F")
        _device(session, "srx", "Juniper", "juniper_junos", "21.4R3-S2")
    return store


def _pick(store: Store, device: str) -> str:
    with store.read_session() as session:
        return resolve_implementation(session, "change-vlan", device).slug


def test_highest_priority_match_wins(lab: Store) -> None:
    assert _pick(lab, "ios17") == "change-vlan-cisco-ios-17"  # priority 20, regex 17\..*
    assert _pick(lab, "ios15") == "change-vlan-cisco-any"  # priority 5 beats the platform's 0
    assert _pick(lab, "nxos") == "change-vlan-cisco-any"  # only one without a platform fits
    assert _pick(lab, "eos-new") == "change-vlan-arista-eos"


def test_disabled_implementations_never_run(lab: Store) -> None:
    with lab.read_session() as session:
        task = session.scalars(select(m.TaskDefinition)).one()
        device = session.scalars(select(m.Device).where(m.Device.name == "ios17")).one()
        verdicts = {v.implementation.slug: v for v in explain(task, device)}
    assert not verdicts["change-vlan-cisco-disabled"].accepted
    assert verdicts["change-vlan-cisco-disabled"].reason == "disabled"


def test_platform_specific_beats_generic_at_equal_priority(lab: Store) -> None:
    with lab.session() as session:
        generic = session.scalars(
            select(m.TaskImplementation).where(m.TaskImplementation.slug == "change-vlan-cisco-any")
        ).one()
        generic.priority = 0
    # cisco-ios (platform set, priority 0) now ties on priority with cisco-any: specificity decides.
    assert _pick(lab, "ios15") == "change-vlan-cisco-ios"


def test_ties_are_broken_the_same_way_every_time(lab: Store) -> None:
    with lab.session() as session:
        task = session.scalars(select(m.TaskDefinition)).one()
        cisco = session.scalars(select(m.Manufacturer).where(m.Manufacturer.name == "Cisco")).one()
        for slug in ("zz-twin", "aa-twin"):
            session.add(
                m.TaskImplementation(
                    task=task,
                    name=slug,
                    slug=slug,
                    manufacturer=cisco,
                    priority=50,
                    implementation_type="jinja2_config",
                    template_content="x",
                )
            )
    assert {_pick(lab, "nxos") for _ in range(3)} == {"aa-twin"}


def test_no_match_lists_every_candidate_and_why(lab: Store) -> None:
    with lab.read_session() as session, pytest.raises(NoImplementationError) as info:
        resolve_implementation(session, "change-vlan", "eos-old")
    text = info.value.render()
    assert "no implementation of task 'change-vlan' fits device 'eos-old' (Arista, arista_eos, version 4.18.0F)" in text
    assert "change-vlan-arista-eos: version 4.18.0F is not >= 4.20" in text
    assert "change-vlan-cisco-ios: manufacturer Cisco is not the device's Arista" in text
    assert "nettui catalog explain change-vlan --device eos-old" in text
    assert len(info.value.verdicts) == 5


def test_explain_command(lab: Store) -> None:
    chosen = run_cli(lab, "catalog", "explain", "change-vlan", "--device", "ios17")
    assert chosen.exit_code == 0, chosen.output
    lines = chosen.stdout.splitlines()
    assert lines[0] == "task change-vlan on device ios17 (Cisco, cisco_ios, version 17.9.4a):"
    assert lines[1].startswith("  => change-vlan-cisco-ios-17 (priority 20): matches:")
    assert "version 17.9.4a matches /17\\..*/" in lines[1]
    assert any(line.startswith("  ok change-vlan-cisco-any") for line in lines)
    assert any("-- change-vlan-cisco-disabled (priority 1000): disabled" in line for line in lines)
    none = run_cli(lab, "catalog", "explain", "change-vlan", "--device", "srx", "--json")
    assert none.exit_code == 1
    assert '"selected": true' not in none.stdout and "Juniper" in none.stdout
    unknown = run_cli(lab, "catalog", "explain", "change-vlan", "--device", "ghost")
    assert unknown.exit_code == 1 and "no device 'ghost'" in unknown.stderr
