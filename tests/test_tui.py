"""The terminal UI, driven key by key with Textual's pilot against real stores.

Every test seeds a real store (SQLite and PostgreSQL) through the ORM, opens ``NettuiApp`` on
it and asserts on what the operator would see: rows, screens, text on the screen.
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
from fcntl import ioctl
from pathlib import Path
from termios import TIOCSWINSZ

import pytest
from rich.console import Console
from textual import events
from textual.pilot import Pilot
from textual.widgets import HelpPanel, Input, Label

from catalog.models import Device, DeviceRole, Location, Platform
from catalog.models.choices import DeviceStatus
from catalog.store import Store
from nettui.tui.app import NettuiApp
from nettui.tui.screens.device_detail import DeviceDetailScreen
from nettui.tui.screens.devices import DevicesScreen, DeviceTable

SIZE = (120, 40)
SEEDED_NAMES = ["lon-core1", "lon-sw1", "par-fw[dmz]"]


def seed(store: Store) -> None:
    """Three devices on two platforms in two sites; one name looks like Textual markup."""
    with store.session() as session:
        iosxe = Platform(name="Cisco IOS-XE", slug="cisco-iosxe", network_driver="cisco_xe")
        eos = Platform(name="Arista EOS", slug="arista-eos", network_driver="arista_eos")
        london = Location(name="London", slug="london")
        paris = Location(name="Paris", slug="paris")
        access = DeviceRole(name="access", slug="access")
        core = DeviceRole(name="core", slug="core")
        firewall = DeviceRole(name="firewall", slug="firewall")
        session.add_all(
            [
                Device(
                    name="lon-sw1",
                    host="10.0.0.11",
                    platform=iosxe,
                    location=london,
                    role=access,
                    software_version="17.9.4",
                    serial="FOC1234X0AB",
                ),
                Device(
                    name="lon-core1",
                    host="10.0.0.1",
                    ssh_port=2222,
                    platform=eos,
                    location=london,
                    role=core,
                    software_version="4.31.1F",
                    status=DeviceStatus.PLANNED,
                ),
                Device(name="par-fw[dmz]", host="fw.paris.example.net", platform=iosxe, location=paris, role=firewall),
            ]
        )


def add_device(store: Store, name: str, host: str) -> None:
    with store.session() as session:
        session.add(Device(name=name, host=host))


async def settle(pilot: Pilot[None]) -> None:
    """Let pending messages run, wait for every worker (the store reads), then let results land."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def shown_names(app: NettuiApp) -> list[str]:
    table = app.screen.query_one(DeviceTable)
    return [str(table.get_row_at(index)[0]) for index in range(table.row_count)]


def screen_text(app: NettuiApp) -> str:
    """The screen as plain text, exactly as a terminal of the app's size would show it."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, color_system=None)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def readable(text: str) -> str:
    """The words on the screen in order, without borders and line breaks: wrapped text rejoined."""
    return " ".join(re.sub(r"[\u2500-\u259f]", " ", text).split())


@pytest.fixture
def seeded_store(store: Store) -> Store:
    seed(store)
    return store


async def test_inventory_shows_every_device_with_its_columns(seeded_store: Store) -> None:
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        assert isinstance(app.screen, DevicesScreen)
        assert shown_names(app) == SEEDED_NAMES  # by name; the bracketed name is not read as markup
        table = app.screen.query_one(DeviceTable)
        assert [str(column.label) for column in table.ordered_columns] == [
            "NAME",
            "HOST",
            "PLATFORM",
            "LOCATION",
            "ROLE",
            "STATUS",
            "VERSION",
        ]
        assert [str(cell) for cell in table.get_row_at(0)] == [
            "lon-core1",
            "10.0.0.1",
            "Arista EOS",
            "London",
            "core",
            "planned",
            "4.31.1F",
        ]
        assert table.has_focus
        assert table.zebra_stripes
        assert table.cursor_type == "row"
        assert app.title == "nettui"
        assert app.screen.sub_title == f"3 devices · {seeded_store.display_url}"
        text = screen_text(app)
        assert "par-fw[dmz]" in text
        assert "3 devices" in text


async def test_slash_filters_as_you_type_and_escape_restores(seeded_store: Store) -> None:
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"LON")  # case does not matter: name and location both say "lon"
        assert shown_names(app) == ["lon-core1", "lon-sw1"]
        await pilot.press(*" acc")  # every term must match somewhere: London AND access
        assert shown_names(app) == ["lon-sw1"]

        await pilot.press("escape")
        assert shown_names(app) == SEEDED_NAMES
        assert app.screen.query_one("#filter", Input).value == ""
        assert isinstance(app.focused, DeviceTable)


async def test_filter_matches_host_platform_and_role(seeded_store: Store) -> None:
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        filter_box = app.screen.query_one("#filter", Input)
        for query, expected in [
            ("10.0.0.1", ["lon-core1", "lon-sw1"]),  # 10.0.0.1 and 10.0.0.11
            ("paris.example", ["par-fw[dmz]"]),
            ("arista", ["lon-core1"]),
            ("cisco_xe", ["lon-sw1", "par-fw[dmz]"]),  # the platform's driver name too
            ("firewall", ["par-fw[dmz]"]),
        ]:
            filter_box.value = query
            await pilot.pause()
            assert shown_names(app) == expected, query


async def test_filter_matching_nothing_says_so_and_enter_returns_to_the_table(seeded_store: Store) -> None:
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        await pilot.press("slash", *"nowhere")
        assert shown_names(app) == []
        assert "No device matches nowhere" in screen_text(app)

        await pilot.press("ctrl+u", *"par", "enter")
        assert shown_names(app) == ["par-fw[dmz]"]
        assert isinstance(app.focused, DeviceTable)


async def test_typing_q_in_the_filter_filters_rather_than_quits(seeded_store: Store) -> None:
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "q", "r")
        assert app.is_running
        assert app.screen.query_one("#filter", Input).value == "qr"


async def test_keys_typed_in_one_burst_after_slash_land_in_the_filter(seeded_store: Store) -> None:
    """A fast typist, or a paste, delivers "/par" in one read from the terminal."""
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, character in [("slash", "/"), ("p", "p"), ("a", "a"), ("r", "r")]:
            app.post_message(events.Key(key, character))  # all queued before any is handled
        await settle(pilot)

        assert app.screen.query_one("#filter", Input).value == "par"
        assert shown_names(app) == ["par-fw[dmz]"]
        assert len(app.workers) == 0  # the "r" was a letter in the box, not a reload


async def test_slash_in_the_filter_is_a_character(seeded_store: Store) -> None:
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "1", "slash")
        assert app.screen.query_one("#filter", Input).value == "1/"


async def test_enter_opens_the_device_with_every_field(seeded_store: Store) -> None:
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        await pilot.press("down", "enter")  # the second row: lon-sw1
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


async def test_the_mouse_opens_and_closes_the_details(seeded_store: Store) -> None:
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Inside the border: y=1 is the heading row, y=3 the second device.
        await pilot.click("#devices", offset=(4, 3))
        assert isinstance(app.screen, DevicesScreen)
        await pilot.click("#devices", offset=(4, 3))  # a click on the highlighted row opens it
        assert isinstance(app.screen, DeviceDetailScreen)
        assert app.screen.query_one("#field-name", Label).content == "lon-sw1"

        await pilot.click(offset=(1, SIZE[1] // 2))  # the dimmed background, outside the card
        assert isinstance(app.screen, DevicesScreen)


async def test_details_of_a_filtered_row_are_that_device(seeded_store: Store) -> None:
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"paris", "enter", "enter")
        assert isinstance(app.screen, DeviceDetailScreen)
        assert app.screen.query_one("#field-host", Label).content == "fw.paris.example.net"
        assert app.screen.query_one("#field-name", Label).content == "par-fw[dmz]"
        assert "─ par-fw[dmz] ─" in screen_text(app)  # the card's title, not read as markup


async def test_r_picks_up_a_device_added_after_start(seeded_store: Store) -> None:
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down")  # the cursor is on lon-sw1

        add_device(seeded_store, "ams-sw9", "10.9.0.9")
        assert "ams-sw9" not in shown_names(app)
        await pilot.press("r")
        await settle(pilot)

        assert shown_names(app) == ["ams-sw9", *SEEDED_NAMES]
        assert app.screen.sub_title.startswith("4 devices · ")
        table = app.screen.query_one(DeviceTable)
        assert str(table.get_row_at(table.cursor_row)[0]) == "lon-sw1"  # the cursor followed its device


async def test_q_quits(seeded_store: Store) -> None:
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_question_mark_shows_and_hides_the_keys(seeded_store: Store) -> None:
    app = NettuiApp(seeded_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert app.screen.query(HelpPanel)
        assert "Reload" in screen_text(app)
        await pilot.press("question_mark")
        assert not app.screen.query(HelpPanel)


async def test_empty_store_explains_how_to_add_devices(store: Store) -> None:
    app = NettuiApp(store)
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
    app = NettuiApp(unmigrated)
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
        opened = terminal.read_until(lambda: "nettui inventory import FILE" in terminal.text, timeout=15)
        assert opened, f"the TUI did not draw its empty state within 15 s; it drew:\n{terminal.text[-2000:]}"
        assert "nettui —" in terminal.text  # the header: title and store
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
