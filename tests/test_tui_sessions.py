"""The Sessions screen: the bastion's recorded sessions, terminating one, and the player that
replays a recording through a terminal emulator (pyte) with its commands beside it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bastion.sessions import register_bastion
from catalog import models as m
from catalog.models.choices import SessionStatus, UserRole
from catalog.store import Store
from nettui.tui.app import NettuiApp
from nettui.tui.screens.sessions import SessionPlayerScreen, SessionsScreen
from nettui.tui.widgets.tables import LiveTable
from tests.test_tui_shell import SIZE, readable, screen_text, settle, until

START = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)


def _recording(path: Path) -> Path:
    """An asciicast v2 file as the bastion writes it: two commands and their output."""
    events = [
        (0.2, "o", "\r\nsw1>"),
        (1.0, "i", "show clock\r"),
        (1.1, "o", "show clock\r\n*09:00:01.000 UTC Thu Nov 26 2026\r\nsw1>"),
        (4.0, "i", "show version\r"),
        (4.1, "o", "show version\r\nCisco IOS Software, Version 17.9.4a\r\nsw1>"),
        (6.0, "o", "exit\r\n"),
    ]
    header = {"version": 2, "width": 80, "height": 24, "timestamp": int(START.timestamp())}
    path.write_text("\n".join([json.dumps(header), *(json.dumps(list(e)) for e in events)]) + "\n")
    return path


def _seed(store: Store, tmp_path: Path) -> tuple[int, int]:
    """An ended session of alice's on sw1 with its recording, and an active one of bob's (served
    by a bastion registered as running in this process)."""
    serving = register_bastion(store)
    with store.session() as session:
        site = m.Location(name="Lab", slug="lab")
        sw1 = m.Device(name="sw1", host="127.0.0.1", location=site)
        alice = m.User(username="alice", role=UserRole.OPERATOR)
        bob = m.User(username="bob", role=UserRole.OPERATOR)
        session.add_all([m.User(username="root-admin", role=UserRole.ADMIN), alice, bob, sw1])
        ended = m.SessionRecord(
            device=sw1,
            user=alice,
            session_start=START,
            session_end=START + timedelta(seconds=6),
            status=SessionStatus.COMPLETED,
            recording_path=str(_recording(tmp_path / "alice.cast")),
            commands_executed=[
                {"command": "show clock", "timestamp": (START + timedelta(seconds=1)).isoformat(), "result": ""},
                {"command": "show version", "timestamp": (START + timedelta(seconds=4)).isoformat(), "result": ""},
            ],
        )
        active = m.SessionRecord(device=sw1, user=bob, session_start=START + timedelta(minutes=5), bastion=serving)
        session.add_all([ended, active])
        session.flush()
        return ended.id, active.id


async def test_sessions_list_and_the_player(store: Store, tmp_path: Path) -> None:
    ended, _ = _seed(store, tmp_path)
    app = NettuiApp(store, user="alice", engine=False, start="sessions")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        table = screen.query_one("#sessions LiveTable", LiveTable)
        await until(pilot, lambda: len(table.shown_rows) == 1, "alice's session listed")
        assert [r.key for r in table.shown_rows] == [str(ended)]  # not bob's: she is no admin
        text = readable(screen_text(app))
        assert "alice" in text and "bob" not in text and "1 session(s), 0 active" in text
        assert screen.check_action("terminate", ()) is False  # alice is an operator

        await pilot.press("enter")  # alice's ended session
        await until(pilot, lambda: isinstance(app.screen, SessionPlayerScreen), "the player opened")
        player = app.screen
        assert isinstance(player, SessionPlayerScreen)
        await until(pilot, lambda: player.recording is not None, "the recording loaded")
        await pilot.press("space")  # pause the autoplay
        await pilot.press("r")
        await pilot.pause()
        assert "Cisco IOS Software" not in screen_text(app)
        assert "show clock" in screen_text(app) and "show version" in screen_text(app)  # the commands list
        await pilot.press("tab")  # to the commands
        await pilot.press("down", "down", "enter")  # the second command: its output follows
        await pilot.pause()
        shown = screen_text(app)
        assert "Cisco IOS Software, Version 17.9.4a" in shown and "09:00:01.000 UTC" in shown
        await pilot.press("r")
        await pilot.pause()
        assert "Cisco IOS Software" not in screen_text(app)
        await pilot.press("right")  # +5 s
        await pilot.pause()
        assert "Cisco IOS Software" in screen_text(app) and "5.0 / 6.0 s" in screen_text(app)
        await pilot.press("plus")
        await pilot.pause()
        assert "speed 2x" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SessionsScreen)


async def test_an_admin_terminates_an_active_session(store: Store, tmp_path: Path) -> None:
    _, active = _seed(store, tmp_path)
    app = NettuiApp(store, user="root-admin", engine=False, start="sessions")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await until(pilot, lambda: screen.selected() is not None, "a session selected")
        assert screen.selected().id == active  # type: ignore[union-attr]  # an admin sees everyone's, active first
        assert len(screen.rows) == 2
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: _status(store, active) == SessionStatus.TERMINATED, "the session terminated")


def _status(store: Store, record_id: int) -> SessionStatus:
    with store.read_session() as session:
        return session.scalars(select(m.SessionRecord.status).where(m.SessionRecord.id == record_id)).one()


async def test_only_admins_play_others_sessions(store: Store, tmp_path: Path) -> None:
    ended, _ = _seed(store, tmp_path)
    app = NettuiApp(store, user="bob", engine=False, start="sessions")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(SessionPlayerScreen(store, ended))  # alice's
        await settle(pilot)
        assert "is alice's: only admins play" in screen_text(app)
        assert "Cisco IOS" not in screen_text(app)


async def test_a_session_without_a_recording_says_so(store: Store, tmp_path: Path) -> None:
    ended, _ = _seed(store, tmp_path)
    (tmp_path / "alice.cast").unlink()
    app = NettuiApp(store, user="alice", engine=False, start="sessions")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(SessionPlayerScreen(store, ended))
        await settle(pilot)
        assert "cannot read the recording" in screen_text(app)
