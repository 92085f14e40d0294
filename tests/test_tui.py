"""The Inventory and device screens, driven key by key with Textual's pilot against real stores.

Every test seeds a real store (SQLite and PostgreSQL), opens ``NettuiApp`` on the Inventory and
asserts on what the operator would see: rows, screens, text on the screen. The 50,000-device
tests assert on the rows a filter leaves, never on time (benchmarks/tui.py measures that).
"""

from __future__ import annotations

import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from fcntl import ioctl
from pathlib import Path
from termios import TIOCSWINSZ
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select as sql_select
from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable, HelpPanel, Input, Label, TabbedContent

from catalog import models as m
from catalog.models import VLAN, Device, DeviceRole, Interface, IPAddress, Location, Platform, Tag
from catalog.models.choices import DeviceStatus, ExecutionStatus, InterfaceMode
from catalog.store import Store
from nettui.tui.app import NettuiApp
from nettui.tui.device_index import DeviceFilter, filter_devices, load_device_rows
from nettui.tui.screens.device_detail import DeviceDetailScreen
from nettui.tui.screens.devices import DevicesScreen, DeviceTable, FacetSelect
from tests.bulk_inventory import add_bulk_devices, bulk_name, bulk_status, bulk_tags, site_name

SIZE = (120, 40)
SEEDED_NAMES = ["lon-core1", "lon-sw1", "par-fw[dmz]"]
FIXED_TIME = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def seed(store: Store) -> None:
    """Three devices on two platforms in two sites; one name looks like Textual markup. lon-sw1
    has interfaces, London has VLANs, and one execution targeted lon-sw1. Fixed times, so
    snapshots do not change."""
    at = {"created_at": FIXED_TIME, "updated_at": FIXED_TIME}
    with store.session() as session:
        iosxe = Platform(name="Cisco IOS-XE", slug="cisco-iosxe", network_driver="cisco_xe")
        eos = Platform(name="Arista EOS", slug="arista-eos", network_driver="arista_eos")
        london = Location(name="London", slug="london")
        paris = Location(name="Paris", slug="paris")
        access = DeviceRole(name="access", slug="access")
        core = DeviceRole(name="core", slug="core")
        firewall = DeviceRole(name="firewall", slug="firewall")
        pci = Tag(name="pci", slug="pci")
        users = VLAN(vid=10, name="USERS", location=london, description="Desks")
        voice = VLAN(vid=20, name="VOICE", location=london)
        session.add(VLAN(vid=30, name="GUEST", location=paris))
        sw1 = Device(
            name="lon-sw1",
            host="10.0.0.11",
            platform=iosxe,
            location=london,
            role=access,
            software_version="17.9.4",
            serial="FOC1234X0AB",
            model="C9300-24P",
            tags=[pci],
            **at,
        )
        session.add_all(
            [
                sw1,
                Device(
                    name="lon-core1",
                    host="10.0.0.1",
                    ssh_port=2222,
                    platform=eos,
                    location=london,
                    role=core,
                    software_version="4.31.1F",
                    status=DeviceStatus.PLANNED,
                    **at,
                ),
                Device(
                    name="par-fw[dmz]",
                    host="fw.paris.example.net",
                    platform=iosxe,
                    location=paris,
                    role=firewall,
                    **at,
                ),
            ]
        )
        session.add_all(
            [
                Interface(
                    device=sw1,
                    name="GigabitEthernet1/0/1",
                    mode=InterfaceMode.ACCESS,
                    untagged_vlan=users,
                    description="Desk 3.14",
                ),
                Interface(
                    device=sw1,
                    name="GigabitEthernet1/0/48",
                    mode=InterfaceMode.TAGGED,
                    untagged_vlan=users,
                    tagged_vlans=[voice],
                    description="uplink",
                ),
            ]
        )
        vlan1 = Interface(device=sw1, name="Vlan10", enabled=False)
        session.add(vlan1)
        session.add(IPAddress(address="10.0.10.2/24", interface=vlan1))
        ada = m.User(username="ada", role="admin")
        workflow = m.Workflow(name="Back up configuration", slug="backup-config", input_schema={"type": "object"})
        session.add(
            m.Execution(
                workflow=workflow,
                requested_by=ada,
                status=ExecutionStatus.COMPLETED,
                created_at=FIXED_TIME,
                started_at=FIXED_TIME,
                completed_at=FIXED_TIME,
                target_devices=[sw1],
            )
        )


def add_device(store: Store, name: str, host: str) -> None:
    with store.session() as session:
        session.add(Device(name=name, host=host))


def inventory_app(store: Store, **options: Any) -> NettuiApp:
    """The app as `nettui` builds it, opened on the Inventory, without an engine."""
    return NettuiApp(store, user="ada", engine=False, start="inventory", **options)


async def settle(pilot: Pilot[None]) -> None:
    """Let pending messages run, wait for every worker (store reads, filters), then let results land."""
    for _ in range(3):  # a worker's result may start another (a load starts a filter)
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def shown_names(app: NettuiApp) -> list[str]:
    return [device.name for device in app.screen.query_one(DeviceTable).rows]


def screen_text(app: NettuiApp) -> str:
    """The screen as plain text, exactly as a terminal of the app's size would show it."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, color_system=None)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def readable(text: str) -> str:
    """The words on the screen in order, without borders and line breaks: wrapped text rejoined."""
    return " ".join(re.sub(r"[\u2500-\u259f]", " ", text).split())


async def type_filter(pilot: Pilot[None], text: str) -> None:
    pilot.app.screen.query_one("#device-filter", Input).value = text
    await settle(pilot)


@pytest.fixture
def seeded_store(store: Store) -> Store:
    seed(store)
    return store


# -- the list ---------------------------------------------------------------------------------------


async def test_inventory_shows_every_device_with_its_columns(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        assert isinstance(app.screen, DevicesScreen)
        assert shown_names(app) == SEEDED_NAMES  # by name; the bracketed name is not read as markup
        table = app.screen.query_one(DeviceTable)
        lines = table.text_lines()
        assert lines[0].split() == ["NAME", "HOST", "PLATFORM", "LOCATION", "ROLE", "STATUS", "VERSION", "TAGS"]
        assert lines[1].split() == ["lon-core1", "10.0.0.1", "Arista", "EOS", "London", "core", "planned", "4.31.1F"]
        assert lines[2].split()[-1] == "pci"
        assert table.has_focus
        assert app.screen.sub_title == f"3 devices · {seeded_store.display_url}"
        text = screen_text(app)
        assert "par-fw[dmz]" in text
        assert "fw.paris.example.net" in text


async def test_slash_filters_as_you_type_and_escape_restores(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"LON")  # case does not matter: name and location both say "lon"
        await settle(pilot)
        assert shown_names(app) == ["lon-core1", "lon-sw1"]
        await pilot.press(*" acc")  # every term must match somewhere: London AND access
        await settle(pilot)
        assert shown_names(app) == ["lon-sw1"]
        assert app.screen.query_one(DeviceTable).border_subtitle == "1 of 3"

        await pilot.press("escape")
        await settle(pilot)
        assert shown_names(app) == SEEDED_NAMES
        assert app.screen.query_one("#device-filter", Input).value == ""
        assert isinstance(app.focused, DeviceTable)


async def test_filter_matches_host_platform_role_and_tag(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for query, expected in [
            ("10.0.0.1", ["lon-core1", "lon-sw1"]),  # 10.0.0.1 and 10.0.0.11
            ("paris.example", ["par-fw[dmz]"]),
            ("arista", ["lon-core1"]),
            ("cisco_xe", ["lon-sw1", "par-fw[dmz]"]),  # the platform's driver name too
            ("firewall", ["par-fw[dmz]"]),
            ("pci", ["lon-sw1"]),  # a tag
        ]:
            await type_filter(pilot, query)
            assert shown_names(app) == expected, query


async def test_fuzzy_search_finds_letters_in_order_after_exact_matches(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_filter(pilot, "lcore")  # l...core: within the name lon-core1 only
        assert shown_names(app) == ["lon-core1"]
        await type_filter(pilot, "fwdmz")
        assert shown_names(app) == ["par-fw[dmz]"]
        await type_filter(pilot, "sw1")
        assert shown_names(app) == ["lon-sw1"]
        await type_filter(pilot, "ldn")  # l...d...n: the location London
        assert shown_names(app) == ["lon-core1", "lon-sw1"]
        await type_filter(pilot, "on")  # substring matches ("lon-...") first, then fuzzy ones
        assert shown_names(app)[:2] == ["lon-core1", "lon-sw1"]
        await type_filter(pilot, "zq")  # letters in order must stay within one field
        assert shown_names(app) == []


async def test_facets_narrow_by_location_role_platform_tag_and_status(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DevicesScreen)
        # Each facet offers the values the inventory has, with counts.
        location = screen.query_one("#facet-location", FacetSelect)
        assert [str(label) for label, _ in location._options[1:]] == ["London (2)", "Paris (1)"]

        for facet, value, expected in [
            ("location", "London", ["lon-core1", "lon-sw1"]),
            ("role", "access", ["lon-sw1"]),
            ("platform", "Arista EOS", ["lon-core1"]),
            ("tag", "pci", ["lon-sw1"]),
            ("status", "planned", ["lon-core1"]),
        ]:
            screen.set_facet(facet, value)
            await settle(pilot)
            assert shown_names(app) == expected, facet
            screen.set_facet(facet, None)
            await settle(pilot)
            assert shown_names(app) == SEEDED_NAMES, facet

        # Facets and text combine: London devices whose name has "core".
        screen.set_facet("location", "London")
        await type_filter(pilot, "core")
        assert shown_names(app) == ["lon-core1"]
        screen.set_facet("platform", "Cisco IOS-XE")
        await settle(pilot)
        assert shown_names(app) == []
        assert "No device matches core, location London, platform Cisco IOS-XE" in readable(screen_text(app))

        app.screen.query_one(DeviceTable).focus()
        await pilot.press("escape")  # clears the text and every facet
        await settle(pilot)
        assert shown_names(app) == SEEDED_NAMES
        assert location.is_blank()


async def test_a_facet_picked_with_the_keyboard_filters(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#facet-role", FacetSelect).focus()
        await pilot.press("enter")  # open the list: any (highlighted), access, core, firewall
        await pilot.press("down", "enter")
        await settle(pilot)
        assert shown_names(app) == ["lon-sw1"]


async def test_filter_matching_nothing_says_so_and_enter_returns_to_the_table(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        await pilot.press("slash", *"nowhere")
        await settle(pilot)
        assert shown_names(app) == []
        assert "No device matches nowhere" in screen_text(app)

        await pilot.press("ctrl+u", *"par", "enter")
        await settle(pilot)
        assert shown_names(app) == ["par-fw[dmz]"]
        assert isinstance(app.focused, DeviceTable)


async def test_typing_q_in_the_filter_filters_rather_than_quits(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "q", "r", "6")
        assert app.is_running
        assert app.screen.query_one("#device-filter", Input).value == "qr6"


async def test_keys_typed_in_one_burst_after_slash_land_in_the_filter(seeded_store: Store) -> None:
    """A fast typist, or a paste, delivers "/par" in one read from the terminal."""
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, character in [("slash", "/"), ("p", "p"), ("a", "a"), ("r", "r")]:
            app.post_message(events.Key(key, character))  # all queued before any is handled
        await settle(pilot)

        assert app.screen.query_one("#device-filter", Input).value == "par"
        assert shown_names(app) == ["par-fw[dmz]"]
        assert app.screen.sub_title.startswith("3 devices")  # the "r" was a letter in the box, not a reload


async def test_slash_in_the_filter_is_a_character(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "1", "slash")
        assert app.screen.query_one("#device-filter", Input).value == "1/"


async def test_keys_move_the_cursor_and_r_keeps_it_on_its_device(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DeviceTable)
        await pilot.press("end")
        assert table.current is not None and table.current.name == "par-fw[dmz]"
        await pilot.press("up")  # the cursor is on lon-sw1
        assert table.current is not None and table.current.name == "lon-sw1"

        add_device(seeded_store, "ams-sw9", "10.9.0.9")
        assert "ams-sw9" not in shown_names(app)
        await pilot.press("r")
        await settle(pilot)

        assert shown_names(app) == ["ams-sw9", *SEEDED_NAMES]
        assert app.screen.sub_title.startswith("4 devices · ")
        assert table.current is not None and table.current.name == "lon-sw1"  # the cursor followed its device
        await pilot.press("home")
        assert table.current is not None and table.current.name == "ams-sw9"


async def test_q_quits(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_question_mark_shows_and_hides_the_keys(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert app.screen.query(HelpPanel)
        assert "Reload" in screen_text(app)
        await pilot.press("question_mark")
        assert not app.screen.query(HelpPanel)


async def test_empty_store_explains_how_to_add_devices(store: Store) -> None:
    app = inventory_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        text = screen_text(app)
        assert "No devices yet" in text
        assert "nettui inventory import FILE" in text
        assert app.screen.sub_title.startswith("0 devices · ")
        assert not app.screen.query_one(DeviceTable).display

        # Devices arriving later replace the advice with the table.
        add_device(store, "first-sw1", "192.0.2.1")
        await pilot.press("r")
        await settle(pilot)
        assert shown_names(app) == ["first-sw1"]
        assert "No devices yet" not in screen_text(app)
        assert isinstance(app.focused, DeviceTable)


async def test_a_store_that_cannot_be_read_shows_an_error_notification(tmp_path: Path) -> None:
    unmigrated = Store(f"sqlite:///{tmp_path / 'unmigrated.db'}")  # no tables: every read fails
    app = inventory_app(unmigrated)
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            text = readable(screen_text(app))
            assert "Could not read devices from the store" in text
            assert "no such table: device" in text
            assert "nettui db status" in text
            assert app.is_running  # the error is reported, not fatal
            assert app.screen.sub_title.startswith("could not read devices · ")
    finally:
        unmigrated.dispose()


# -- 50,000 devices ---------------------------------------------------------------------------------


@pytest.mark.slow
async def test_filter_fifty_thousand_devices(store: Store) -> None:
    count = 50_000
    add_bulk_devices(store, count)
    app = inventory_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DevicesScreen)
        assert len(screen.all_devices) == count
        assert screen.sub_title.startswith("50,000 devices")
        table = screen.query_one(DeviceTable)
        assert table.row_count == count

        # One device by its exact name.
        await type_filter(pilot, bulk_name(12345))
        assert shown_names(app) == [bulk_name(12345)]
        # A site, a role and a tag: the facets, then a fuzzy term for the site's devices.
        screen.set_facet("location", site_name(7))
        screen.set_facet("role", "core")  # role n % 4 == 2
        screen.set_facet("tag", "pci")  # n % 3 == 0
        await type_filter(pilot, "")
        expected = sorted(bulk_name(n) for n in range(count) if n % 50 == 7 and n % 4 == 2 and "pci" in bulk_tags(n))
        assert shown_names(app) == expected
        assert table.border_subtitle == f"{len(expected):,} of 50,000"
        screen.set_facet("status", "planned")
        await settle(pilot)
        planned = [name for name in expected if bulk_status(int(name[-5:])).value == "planned"]
        assert shown_names(app) == planned

        # The table scrolls through every row, one screen at a time.
        await pilot.press("escape")
        await settle(pilot)
        table.focus()
        await pilot.press("end")
        assert table.current is not None and table.current.name == max(bulk_name(n) for n in range(count))
        assert table.scroll_offset.y > 0
        assert table.current.name in screen_text(app)


def test_fuzzy_filter_over_fifty_thousand_rows(sqlite_store: Store) -> None:
    """The filter itself (no UI): letters in order within a field, exact matches first."""
    add_bulk_devices(sqlite_store, 50_000)
    rows = load_device_rows(sqlite_store)
    assert len(rows) == 50_000
    found = filter_devices(rows, DeviceFilter(text="sw4512345"))  # sw-45-12345, without the dashes
    assert [row.name for row in found] == [bulk_name(12345)]
    found = filter_devices(rows, DeviceFilter(text="12345"))
    assert found[0].name == bulk_name(12345)  # the exact match first, then letters in order
    found = filter_devices(rows, DeviceFilter(text="dc07", location=site_name(7)))
    assert len(found) == 1000 and all(row.location == site_name(7) for row in found)
    both = filter_devices(rows, DeviceFilter(text="junos", status="planned"))
    assert {row.platform for row in both} == {"Juniper Junos"}
    assert all(row.status == "planned" for row in both)


# -- one device -------------------------------------------------------------------------------------


async def open_device(pilot: Pilot[None], name: str) -> DeviceDetailScreen:
    await type_filter(pilot, name)
    pilot.app.screen.query_one(DeviceTable).focus()
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DeviceDetailScreen)
    return screen


def table_rows(screen: DeviceDetailScreen, selector: str) -> list[list[str]]:
    table = screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


async def test_enter_opens_the_device_with_every_field(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        await pilot.press("down", "enter")  # the second row: lon-sw1
        await settle(pilot)
        assert isinstance(app.screen, DeviceDetailScreen)
        card = app.screen
        assert card.query_one("#field-host", Label).content == "10.0.0.11"
        assert card.query_one("#field-serial", Label).content == "FOC1234X0AB"
        assert card.query_one("#field-platform", Label).content == "Cisco IOS-XE (cisco_xe)"
        text = screen_text(app)
        for shown in ("lon-sw1", "10.0.0.11", "SSH port", "17.9.4", "London", "access", "active"):
            assert shown in text

        await pilot.press("escape")
        assert isinstance(app.screen, DevicesScreen)
        assert shown_names(app) == SEEDED_NAMES


async def test_the_device_screen_shows_interfaces_vlans_facts_and_executions(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_device(pilot, "lon-sw1")

        assert table_rows(screen, "#interfaces-table") == [
            ["GigabitEthernet1/0/1", "yes", "access", "10", "", "", "Desk 3.14"],
            ["GigabitEthernet1/0/48", "yes", "tagged", "10", "20", "", "uplink"],
            ["Vlan10", "no", "", "", "", "10.0.10.2/24", ""],
        ]
        # The VLANs at London (not Paris's), and how many of this switch's ports carry each.
        assert table_rows(screen, "#vlans-table") == [
            ["10", "USERS", "active", "2", "Desks"],
            ["20", "VOICE", "active", "1", ""],
        ]
        (execution,) = table_rows(screen, "#executions-table")
        assert execution[1:4] == ["Back up configuration", "✔ completed", "ada"]
        # Last known facts: the inventory's, until a backup or a live read says more.
        assert screen.query_one("#fact-model", Label).content == "C9300-24P"
        assert screen.query_one("#fact-serial", Label).content == "FOC1234X0AB"
        assert "last known (inventory)" in screen_text(app)

        await pilot.press("v")
        assert screen.query_one(TabbedContent).active == "vlans"
        assert "VOICE" in screen_text(app)
        await pilot.press("e")
        assert screen.query_one(TabbedContent).active == "executions"
        assert "Back up configuration" in screen_text(app)


async def test_opening_an_execution_from_the_device_screen_asks_the_app(seeded_store: Store) -> None:
    opened: list[int] = []
    app = inventory_app(seeded_store)
    app.open_execution = opened.append  # type: ignore[method-assign]  # what the app is asked, not what it does
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_device(pilot, "lon-sw1")
        await pilot.press("e")
        screen.query_one("#executions-table", DataTable).focus()
        await pilot.press("enter")
        with seeded_store.read_session() as session:
            (execution_id,) = session.scalars(sql_select(m.Execution.id)).all()
        assert opened == [execution_id]


async def test_a_device_without_location_or_interfaces_says_so(seeded_store: Store) -> None:
    add_device(seeded_store, "bare1", "192.0.2.9")
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_device(pilot, "bare1")
        text = readable(screen_text(app))
        assert "No interfaces in the inventory for this device." in text
        await pilot.press("v")
        assert "The device has no location." in readable(screen_text(app))
        await pilot.press("e")
        assert "No execution has targeted this device yet." in readable(screen_text(app))


async def test_the_mouse_opens_a_device(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Inside the border: y=1 is the heading row, y=3 the second device.
        await pilot.click("#device-table", offset=(4, 3))
        assert isinstance(app.screen, DevicesScreen)
        await pilot.click("#device-table", offset=(4, 3))  # a click on the highlighted row opens it
        await settle(pilot)
        assert isinstance(app.screen, DeviceDetailScreen)
        assert app.screen.query_one("#field-name", Label).content == "lon-sw1"
        await pilot.press("escape")
        assert isinstance(app.screen, DevicesScreen)


async def test_details_of_a_filtered_row_are_that_device(seeded_store: Store) -> None:
    app = inventory_app(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"paris")
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DeviceDetailScreen)
        assert app.screen.query_one("#field-host", Label).content == "fw.paris.example.net"
        assert app.screen.query_one("#field-name", Label).content == "par-fw[dmz]"
        assert "─ par-fw[dmz] ─" in screen_text(app)  # the card's title, not read as markup


# -- snapshots --------------------------------------------------------------------------------------


@pytest.fixture
def snapshot_store(sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The seeded store under a relative URL (the status line shows it) and local time UTC."""
    seed(sqlite_store)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    return Store("sqlite:///store.db")


def test_snapshot_inventory(snapshot_store: Store, snap_compare: Any) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)

    assert snap_compare(inventory_app(snapshot_store), terminal_size=SIZE, run_before=ready)


def test_snapshot_inventory_filtered(snapshot_store: Store, snap_compare: Any) -> None:
    async def filtered(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DevicesScreen)
        screen.set_facet("location", "London")
        await pilot.press("slash", *"sw")
        await settle(pilot)

    assert snap_compare(inventory_app(snapshot_store), terminal_size=SIZE, run_before=filtered)


def test_snapshot_device_screen(snapshot_store: Store, snap_compare: Any) -> None:
    async def device(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await open_device(pilot, "lon-sw1")

    assert snap_compare(inventory_app(snapshot_store), terminal_size=SIZE, run_before=device)


# -- the real command in a real terminal -------------------------------------------------------

ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|P[^\x1b]*\x1b\\|[@-Z\\-_])")


class Terminal:
    """The controlling side of a pseudo-terminal, collecting everything the program draws."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.output = b""
        self.closed = False

    @property
    def text(self) -> str:
        return ANSI_ESCAPE.sub("", self.output.decode("utf-8", "replace"))

    def read_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Read output until ``done()`` or ``timeout`` seconds; whether ``done()`` came true."""
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                return done()
            ready, _, _ = select.select([self.fd], [], [], min(remaining, 0.2))
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # EIO: the program closed its side
                    chunk = b""
                if not chunk:
                    self.closed = True
                self.output += chunk
        return True


@pytest.mark.slow
def test_nettui_without_arguments_opens_the_tui_and_q_quits(tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "nettui"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TEXTUAL", "NETTUI_"))}
    env |= {"NETTUI_DATA_DIR": str(tmp_path / "data"), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    controller, program_side = pty.openpty()
    ioctl(program_side, TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        [str(command)],
        stdin=program_side,
        stdout=program_side,
        stderr=program_side,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    os.close(program_side)
    terminal = Terminal(controller)
    try:
        opened = terminal.read_until(lambda: "nettui —" in terminal.text, timeout=15)  # the header
        assert opened, f"the TUI did not draw within 15 s; it drew:\n{terminal.text[-2000:]}"
        os.write(controller, b"6")  # the Inventory
        shown = terminal.read_until(lambda: "nettui inventory import FILE" in terminal.text, timeout=15)
        assert shown, f"the Inventory did not draw its empty state within 15 s; it drew:\n{terminal.text[-2000:]}"
        assert "No devices yet" in terminal.text

        os.write(controller, b"q")
        # Keep reading, so that the program never blocks on a full terminal while it exits.
        terminal.read_until(lambda: process.poll() is not None, timeout=10)
        assert process.wait(timeout=1) == 0, terminal.text[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    assert (tmp_path / "data" / "nettui.db").exists()  # it opened (and migrated) the default store


# -- live facts from a lab device -------------------------------------------------------------------


@pytest.mark.slow
async def test_f_reads_the_facts_live_from_the_device(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from nettui.lab import run_lab_in_thread
    from tests.lab_store import seed_lab_store

    with run_lab_in_thread(devices=1, platforms=["arista_eos"], password="tui-pw", enable_secret="tui-en") as lab:
        seed_lab_store(sqlite_store, lab, monkeypatch, password="tui-pw", enable_secret="tui-en")
        app = inventory_app(sqlite_store)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            screen = await open_device(pilot, "sw1")
            await pilot.press("f")
            await settle(pilot)
            assert screen.query_one("#fact-hostname", Label).content == "sw1"
            assert screen.query_one("#fact-model", Label).content.startswith("DCS-")
            assert "Facts · live, read" in screen_text(app)
