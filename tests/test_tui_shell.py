"""The TUI shell and its Home, Executions, Approvals and Schedules screens, driven with Textual's
pilot against real stores (SQLite and PostgreSQL), with the embedded engine running real
executions; one test runs a workflow end to end against lab devices. Snapshot tests keep the
look of each screen (tests/__snapshots__/test_tui_shell/)."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select
from textual.pilot import Pilot

from catalog import models as m
from catalog.models.choices import ExecutionStatus, ScheduleTrigger, StepStatus
from catalog.store import Store
from catalog.sync import LIBRARY_DIR, import_catalog
from nettui.engine.runner import run_execution, submit
from nettui.engine.scheduling import add_schedule
from nettui.lab import LabThread, run_lab_in_thread
from nettui.tui.app import NettuiApp, PlaceholderScreen
from nettui.tui.screens.approvals import ApprovalsScreen
from nettui.tui.screens.executions import ExecutionDetailScreen, ExecutionsScreen
from nettui.tui.screens.home import HomeScreen
from nettui.tui.screens.schedules import SchedulesScreen
from nettui.tui.widgets.tables import LiveTable, fuzzy_match
from tests.lab_store import seed_lab_store

SIZE = (120, 40)
SOAK = """kind: workflow
slug: soak
name: Soak
description: Waits a minute; something to watch and to cancel.
schedule_allowed: true
steps:
  - name: Soak
    step_type: wait
    config: {duration: 60s}
"""
GUARDED = """kind: workflow
slug: guarded
name: Guarded change
description: Needs an approver before it runs.
approval_required: true
steps:
  - name: Tell
    step_type: notification
    config: {subject: done}
"""


# -- helpers -------------------------------------------------------------------------------------


def screen_text(app: NettuiApp) -> str:
    """The screen as plain text, as a terminal of the app's size shows it."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, color_system=None)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def readable(text: str) -> str:
    return " ".join(re.sub(r"[\u2500-\u259f]", " ", text).split())


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot: Pilot[None], done: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Let the app run until ``done()``; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:g} s; the screen shows:\n{screen_text(pilot.app)}")  # type: ignore[arg-type]
        await pilot.pause(0.1)


def keys(table: LiveTable) -> list[str]:
    return [row.key for row in table.shown_rows]


def status_of(store: Store, execution_id: int) -> ExecutionStatus:
    with store.read_session() as session:
        execution = session.get(m.Execution, execution_id)
        assert execution is not None
        return execution.status


async def awaiting_approval(store: Store, workflow: str, devices: list[str], inputs: dict[str, Any], by: str) -> int:
    """A new execution waiting for an approver: at once, or after the checks that come before
    its approval step (they run here; nothing touches a device before an approval)."""
    execution = submit(store, workflow, devices, inputs, requested_by=by)
    if status_of(store, execution) == ExecutionStatus.PENDING:
        await run_execution(store, execution)
    assert status_of(store, execution) == ExecutionStatus.AWAITING_APPROVAL
    return execution


def footer_keys(app: NettuiApp) -> set[str]:
    """The actions the footer offers on the current screen."""
    return {binding.action for (_node, binding, enabled, _tooltip) in app.active_bindings.values() if enabled}


@pytest.fixture
def shell_store(store: Store, tmp_path: Path) -> Store:
    """Two small workflows (a minute's wait; one that needs approval) and four users."""
    (tmp_path / "soak.yaml").write_text(SOAK)
    (tmp_path / "guarded.yaml").write_text(GUARDED)
    import_catalog(store, [tmp_path / "soak.yaml", tmp_path / "guarded.yaml"])
    with store.session() as session:
        session.add_all(
            [
                m.User(username="ops", role="operator"),
                m.User(username="olga", role="operator"),
                m.User(username="boss", role="approver"),
                m.User(username="watcher", role="viewer"),
            ]
        )
    return store


# -- the shell -----------------------------------------------------------------------------------

AREA_KEYS = [
    ("1", "home"),
    ("2", "portal"),
    ("3", "executions"),
    ("4", "approvals"),
    ("5", "catalog"),
    ("6", "inventory"),
    ("7", "schedules"),
]
MINE = {"home": HomeScreen, "executions": ExecutionsScreen, "approvals": ApprovalsScreen, "schedules": SchedulesScreen}


async def test_number_keys_open_every_area(shell_store: Store) -> None:
    app = NettuiApp(shell_store, user="ops", engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode == "home" and isinstance(app.screen, HomeScreen)
        for key, area in [*AREA_KEYS[1:], AREA_KEYS[0]]:
            await pilot.press(key)
            await settle(pilot)
            assert app.current_mode == area
            if area in MINE:
                assert isinstance(app.screen, MINE[area])
            active = app.screen.query(".nav-item.-active")
            assert [item.id for item in active] == [f"nav-{area}"]  # the bar says where you are
        assert "boss" not in screen_text(app) and "ops (operator)" in screen_text(app)


async def test_clicking_the_bar_opens_each_area(shell_store: Store) -> None:
    app = NettuiApp(shell_store, user="ops", engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _key, area in [*AREA_KEYS[1:], AREA_KEYS[0]]:
            assert await pilot.click(f"#nav-{area}")
            await settle(pilot)
            assert app.current_mode == area


async def test_the_palette_reaches_screens_and_placeholders(shell_store: Store) -> None:
    app = NettuiApp(shell_store, user="ops", engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"go to schedules")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "schedules" and isinstance(app.screen, SchedulesScreen)

        await pilot.press("ctrl+p", *"go to upgrades", "enter")
        await settle(pilot)
        assert app.current_mode == "upgrades" and not isinstance(app.screen, PlaceholderScreen)
        assert "No upgrade plans yet" in readable(screen_text(app))


async def test_question_mark_shows_the_keys_with_their_help(shell_store: Store) -> None:
    app = NettuiApp(shell_store, user="ops", engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert "Show the next status" in readable(screen_text(app))  # the binding's tooltip
        await pilot.press("question_mark")
        await settle(pilot)
        assert "Show the next status" not in readable(screen_text(app))


async def test_an_unknown_user_reads_only_and_is_told_how_to_fix_it(shell_store: Store) -> None:
    app = NettuiApp(shell_store, user="stranger", engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = readable(screen_text(app))
        assert "Read-only: 'stranger' is not an active nettui user" in text
        assert "nettui users add stranger --role operator" in text
        assert app.read_only and not app.can_operate


async def test_the_header_names_the_store_without_its_password(shell_store: Store) -> None:
    app = NettuiApp(shell_store, user="ops", engine=False)
    async with app.run_test(size=(200, 30)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert shell_store.display_url in text
        password = shell_store.url.password
        if password:
            assert str(password) not in text
        assert "engine ○ off" in text


async def test_quitting_while_the_engine_runs_something_asks_first(shell_store: Store) -> None:
    execution = submit(shell_store, "soak", [], {}, requested_by="ops")
    app = NettuiApp(shell_store, user="ops")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: status_of(shell_store, execution) == ExecutionStatus.RUNNING, "the soak starting")
        await pilot.press("q")
        await settle(pilot)
        assert "1 execution(s) run in this window's engine. Quitting interrupts them" in readable(screen_text(app))
        await pilot.press("n")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, HomeScreen)
        await pilot.press("q")
        await settle(pilot)
        await pilot.press("y")
        await pilot.pause()
    assert app.engine is None  # stopped with the app; the next engine marks the soak interrupted


# -- home ----------------------------------------------------------------------------------------


async def test_home_shows_running_and_awaiting_and_follows_changes(shell_store: Store) -> None:
    running = submit(shell_store, "soak", [], {}, requested_by="ops")
    waiting = submit(shell_store, "guarded", [], {}, requested_by="ops")
    app = NettuiApp(shell_store, user="boss")  # with the embedded engine: it starts the soak
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        running_table = home.query_one("#running", LiveTable)
        awaiting_table = home.query_one("#awaiting", LiveTable)
        await until(
            pilot,
            lambda: keys(running_table) == [str(running)] and "running" in str(running_table.get_row_at(0)[2]),
            "the soak showing as running",
        )
        assert keys(awaiting_table) == [str(waiting)]
        assert "engine ● on" in screen_text(app)
        running_table.focus()
        cursor_before = running_table.cursor_row

        # Someone else approves in another process: Home follows without a key press.
        from nettui.engine.approvals import decide

        decide(shell_store, waiting, "boss", approve=True, comment="fine")
        await until(pilot, lambda: keys(awaiting_table) == [], "the approved execution leaving the queue")
        await until(pilot, lambda: status_of(shell_store, waiting) == ExecutionStatus.COMPLETED, "the run")
        assert running_table.cursor_row == cursor_before and keys(running_table) == [str(running)]

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExecutionDetailScreen) and app.screen.execution_id == running


# -- executions ----------------------------------------------------------------------------------


async def test_cancel_a_running_execution_after_confirming(shell_store: Store) -> None:
    execution = submit(shell_store, "soak", [], {}, requested_by="ops")
    app = NettuiApp(shell_store, user="ops")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_execution(execution)
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, ExecutionDetailScreen)
        await until(
            pilot,
            lambda: detail.detail is not None and [s.status for s in detail.detail.steps] == ["running"],
            "the wait step running",
        )
        await pilot.press("c")
        await settle(pilot)
        assert "Cancel execution #" in readable(screen_text(app))
        await pilot.press("n")  # thought better of it
        await settle(pilot)
        assert status_of(shell_store, execution) == ExecutionStatus.RUNNING

        await pilot.press("c", "y")
        await until(
            pilot,
            lambda: detail.detail is not None and detail.detail.row.status == "cancelled",
            "the execution ending cancelled",
        )
        assert detail.detail is not None
        assert [(s.status, s.error) for s in detail.detail.steps] == [("failed", "cancelled while waiting")]
        assert ("cancel_requested", "ops") in [(e.kind, e.actor) for e in detail.detail.events]
        assert "cancel_execution" not in footer_keys(app)  # nothing left to cancel


async def test_a_viewer_sees_no_cancel_and_no_rerun(shell_store: Store) -> None:
    execution = submit(shell_store, "soak", [], {}, requested_by="ops")
    app = NettuiApp(shell_store, user="watcher", engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Read-only: 'watcher' is a viewer" in readable(screen_text(app))
        app.open_execution(execution)
        await settle(pilot)
        assert "cancel_execution" not in footer_keys(app) and "rerun" not in footer_keys(app)
        assert "Cancel run" not in screen_text(app)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ExecutionDetailScreen)  # no dialog
        assert status_of(shell_store, execution) == ExecutionStatus.PENDING


async def test_another_operator_may_not_cancel_but_an_approver_may(shell_store: Store) -> None:
    execution = submit(shell_store, "soak", [], {}, requested_by="ops")
    for user, offered in (("olga", False), ("boss", True)):
        app = NettuiApp(shell_store, user=user, engine=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.open_execution(execution)
            await settle(pilot)
            assert ("cancel_execution" in footer_keys(app)) is offered, user


async def test_rerun_submits_the_same_inputs_and_devices_as_me(shell_store: Store) -> None:
    first = submit(shell_store, "soak", [], {}, requested_by="ops", dry_run=True)
    app = NettuiApp(shell_store, user="olga", engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_execution(first)
        await settle(pilot)
        assert "rerun" not in footer_keys(app)  # not while it waits to run
        from nettui.engine.approvals import cancel

        cancel(shell_store, first, "ops")
        await until(pilot, lambda: "rerun" in footer_keys(app), "re-run being offered for the ended execution")
        await pilot.press("R", "y")
        await until(
            pilot,
            lambda: isinstance(app.screen, ExecutionDetailScreen) and app.screen.execution_id != first,
            "the new execution opening",
        )
        with shell_store.read_session() as session:
            new = session.get(m.Execution, app.screen.execution_id)  # type: ignore[attr-defined]
            assert new is not None
            assert new.requested_by.username == "olga" and new.workflow.slug == "soak"
            assert new.context["dry_run"] is True and new.status == ExecutionStatus.PENDING


async def test_executions_filter_by_status_and_by_typing(shell_store: Store) -> None:
    soak = submit(shell_store, "soak", [], {}, requested_by="ops")
    guarded = submit(shell_store, "guarded", [], {}, requested_by="olga")
    app = NettuiApp(shell_store, user="ops", engine=False, start="executions")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(LiveTable)
        assert keys(table) == [str(guarded), str(soak)]
        await pilot.press("s")  # running (and queued)
        await settle(pilot)
        assert keys(table) == [str(soak)]
        await pilot.press("s")  # awaiting approval
        await settle(pilot)
        assert keys(table) == [str(guarded)]
        await pilot.click("#status-all")
        await settle(pilot)
        assert keys(table) == [str(guarded), str(soak)]
        await pilot.press("slash", *"olga")
        await settle(pilot)
        assert keys(table) == [str(guarded)]
        await pilot.press("escape")
        await settle(pilot)
        assert keys(table) == [str(guarded), str(soak)]


def test_fuzzy_filter_matches_terms_in_fields() -> None:
    search = "\x00".join(["#12", "Provision access port", "ops", "sw1"])
    assert fuzzy_match("prov sw1", search)
    assert fuzzy_match("prvacc", search)  # letters in order
    assert not fuzzy_match("prov sw2", search)
    assert not fuzzy_match("opssw", search)  # not across two fields


# -- approvals -----------------------------------------------------------------------------------


@pytest.fixture
def port_store(shell_store: Store) -> Store:
    """The built-in library, an EOS switch with a backup, and VLAN 20 at its site."""
    import_catalog(shell_store, [LIBRARY_DIR])
    with shell_store.session() as session:
        eos = session.scalars(select(m.Platform).where(m.Platform.network_driver == "arista_eos")).one()
        site = m.Location(name="Lab", slug="lab")
        switch = m.Device(name="sw1", host="127.0.0.1", platform=eos, manufacturer=eos.manufacturer, location=site)
        session.add_all([switch, m.VLAN(vid=20, name="users", location=site)])
        session.add(m.Interface(device=switch, name="Ethernet1"))
        session.add(
            m.BackupRecord(
                device=switch,
                backup_data="hostname sw1\n!\ninterface Ethernet1\n   description old\n!\n",
                backup_timestamp=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
            )
        )
    return shell_store


PORT_INPUTS = {"device": "sw1", "interface": "Ethernet1", "vlan": 20, "description": "desk 12"}


async def test_approve_as_a_second_user_with_a_comment(port_store: Store) -> None:
    execution = await awaiting_approval(port_store, "provision-access-port", ["sw1"], PORT_INPUTS, "ops")
    app = NettuiApp(port_store, user="boss", engine=False, start="approvals")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await settle(pilot)  # the preview renders in its own worker
        text = readable(screen_text(app))
        assert "sw1 · Configure the port · change-vlan-arista-eos" in text
        assert "switchport access vlan 20" in text
        assert "3 new line(s)" in text  # against the backup: the port's description, mode and VLAN
        assert {"approve", "reject"} <= footer_keys(app)

        await pilot.press("a")
        await settle(pilot)
        await pilot.press("enter")  # no comment yet: refused in place
        await settle(pilot)
        assert "A comment is required" in readable(screen_text(app))
        await pilot.press(*"change window ok", "enter")
        await until(pilot, lambda: status_of(port_store, execution) == ExecutionStatus.PENDING, "the approval")
        await until(pilot, lambda: keys(app.screen.query_one("#queue LiveTable", LiveTable)) == [], "queue emptying")
    with port_store.read_session() as session:
        row = session.get(m.Execution, execution)
        assert row is not None and row.approved_by is not None and row.approved_by.username == "boss"
        events = session.scalars(select(m.ExecutionEvent).where(m.ExecutionEvent.execution_id == execution)).all()
        assert ("approved", "change window ok") in [(e.kind, e.detail) for e in events]


async def test_the_requester_and_operators_are_not_offered_the_decision(port_store: Store) -> None:
    await awaiting_approval(port_store, "provision-access-port", ["sw1"], PORT_INPUTS, "boss")
    for user, note in (("boss", "You requested this one"), ("ops", "Only approvers and admins decide")):
        app = NettuiApp(port_store, user=user, engine=False, start="approvals")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await settle(pilot)
            assert not {"approve", "reject"} & footer_keys(app), user
            assert note in readable(screen_text(app))
            await pilot.press("a")
            await settle(pilot)
            assert isinstance(app.screen, ApprovalsScreen)  # no dialog opened


async def test_rejecting_cancels_the_request(port_store: Store) -> None:
    execution = await awaiting_approval(port_store, "provision-access-port", ["sw1"], PORT_INPUTS, "ops")
    app = NettuiApp(port_store, user="boss", engine=False, start="approvals")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x", *"not this week", "enter")
        await until(pilot, lambda: status_of(port_store, execution) == ExecutionStatus.CANCELLED, "the rejection")


async def test_an_unknown_current_configuration_is_said(port_store: Store) -> None:
    with port_store.session() as session:
        session.execute(m.BackupRecord.__table__.delete())
    await awaiting_approval(port_store, "provision-access-port", ["sw1"], PORT_INPUTS, "ops")
    app = NettuiApp(port_store, user="boss", engine=False, start="approvals")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await settle(pilot)
        assert "Current configuration of sw1: unknown (no backup yet)" in readable(screen_text(app))


# -- schedules -----------------------------------------------------------------------------------


async def test_pause_and_resume_a_schedule(shell_store: Store) -> None:
    add_schedule(
        shell_store,
        "later",
        "soak",
        ScheduleTrigger.DATE,
        "2099-01-01T02:00:00+00:00",
        devices=[],
        inputs={},
        requested_by="ops",
    )

    def enabled() -> bool:
        with shell_store.read_session() as session:
            return bool(session.scalars(select(m.Schedule.enabled)).one())

    app = NettuiApp(shell_store, user="ops", engine=False, start="schedules")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "2099-01-01" in screen_text(app)  # the next run (local time)
        assert "pause" in footer_keys(app) and "resume" not in footer_keys(app)
        await pilot.press("p")
        await until(pilot, lambda: not enabled(), "the pause")
        await until(pilot, lambda: "resume" in footer_keys(app), "resume being offered")
        assert "paused" in screen_text(app)
        await pilot.press("u")
        await until(pilot, enabled, "the resume")

    viewer = NettuiApp(shell_store, user="watcher", engine=False, start="schedules")
    async with viewer.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not {"pause", "resume"} & footer_keys(viewer)
        await pilot.press("p")
        await settle(pilot)
        assert enabled()


# -- end to end against the lab ------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=1, platforms=["arista_eos"], password="tui-pw", enable_secret="tui-en") as handle:
        yield handle


@pytest.mark.slow
async def test_provision_a_port_approved_in_the_tui_runs_on_the_lab(
    sqlite_store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = seed_lab_store(sqlite_store, lab, monkeypatch, password="tui-pw", enable_secret="tui-en")
    name = lab.devices[0].name
    with store.session() as session:
        session.add(m.User(username="boss", role="approver"))
        site = session.scalars(select(m.Location)).one()
        session.add(m.VLAN(vid=612, name="desks", location=site))
    vlan = submit(store, "create-vlan", [name], {"device": name, "vid": 612, "name": "desks"}, requested_by="ops")
    assert await run_execution(store, vlan) == ExecutionStatus.COMPLETED
    inputs = {"device": name, "interface": "Ethernet20", "vlan": 612, "description": "desk 20"}
    execution = await awaiting_approval(store, "provision-access-port", [name], inputs, "ops")

    app = NettuiApp(store, user="boss", start="approvals")  # the embedded engine runs it once approved
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await settle(pilot)
        assert "switchport access vlan 612" in readable(screen_text(app))
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"go ahead", "enter")
        await until(pilot, lambda: status_of(store, execution) != ExecutionStatus.AWAITING_APPROVAL, "the approval")
        await pilot.press("3")  # Executions: the newest first
        await until(pilot, lambda: keys(app.screen.query_one(LiveTable))[:1] == [str(execution)], "the list")
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, ExecutionDetailScreen)
        await until(
            pilot,
            lambda: detail.detail is not None and detail.detail.final,
            "the provisioning to end",
            timeout=90,
        )
        assert detail.detail is not None
        assert detail.detail.row.status == "completed", [s.error for s in detail.detail.steps if s.error]
        configure = next(s for s in detail.detail.steps if s.step == "Configure the port")
        assert configure.status == StepStatus.COMPLETED and "switchport access vlan 612" in configure.rendered
        assert detail.detail.row.approved_by == "boss"

    from drivers.connect import connect

    provider = await connect(store, name)
    try:
        config = await provider.get_config()
    finally:
        await provider.close()
    assert "desk 20" in config and "switchport access vlan 612" in config


# -- snapshots -----------------------------------------------------------------------------------

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def snapshot_store(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Fixed data, times and store name, so the pictures do not change from run to run."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(Store, "display_url", property(lambda _self: "sqlite:///demo/nettui.db"))
    store = sqlite_store
    import_catalog(store, [LIBRARY_DIR])
    with store.session() as s:
        eos = s.scalars(select(m.Platform).where(m.Platform.network_driver == "arista_eos")).one()
        ios = s.scalars(select(m.Platform).where(m.Platform.network_driver == "cisco_ios")).one()
        site = m.Location(name="Lab", slug="lab")
        s.add(m.VLAN(vid=20, name="users", location=site))
        sw1 = m.Device(name="sw1", host="127.0.0.1", platform=eos, manufacturer=eos.manufacturer, location=site)
        sw2 = m.Device(name="sw2", host="127.0.0.1", platform=ios, manufacturer=ios.manufacturer, location=site)
        s.add_all([sw1, sw2, m.Interface(device=sw1, name="Ethernet1")])
        ops, boss = m.User(username="ops", role="operator"), m.User(username="boss", role="approver")
        s.add_all([ops, boss])
        s.add(
            m.BackupRecord(
                device=sw1,
                backup_data="hostname sw1\n!\ninterface Ethernet1\n   description old\n!\n",
                backup_timestamp=T0,
            )
        )
        s.flush()
        workflows = {w.slug: w for w in s.scalars(select(m.Workflow))}
        steps = {st.order: st for st in workflows["create-vlan"].steps}

        def execution(
            slug: str, status: str, devices: list[m.Device], inputs: dict[str, Any], minute: int, **kw: Any
        ) -> m.Execution:
            row = m.Execution(
                workflow=workflows[slug],
                requested_by=ops,
                status=status,
                inputs=inputs,
                target_devices=devices,
                created_at=T0 + timedelta(minutes=minute),
                **kw,
            )
            s.add(row)
            s.flush()
            return row

        done = T0 + timedelta(seconds=12)
        execution(
            "create-vlan",
            "completed",
            [sw1, sw2],
            {"device": "sw1", "vid": 30, "name": "guests"},
            0,
            started_at=T0,
            completed_at=done,
        )
        failed_at = T0 + timedelta(minutes=5)
        failed = execution(
            "create-vlan",
            "failed",
            [sw2],
            {"device": "sw2", "vid": 31, "name": "lab"},
            5,
            started_at=failed_at,
            completed_at=failed_at + timedelta(seconds=3),
        )
        s.add_all(
            [
                m.ExecutionStep(
                    execution=failed,
                    workflow_step=steps[1],
                    device=sw2,
                    order=1,
                    status="completed",
                    started_at=failed_at,
                    completed_at=failed_at + timedelta(seconds=1),
                    logs="passed: true\n",
                ),
                m.ExecutionStep(
                    execution=failed,
                    workflow_step=steps[2],
                    device=sw2,
                    order=2,
                    status="failed",
                    started_at=failed_at + timedelta(seconds=1),
                    completed_at=failed_at + timedelta(seconds=3),
                    rendered_content="vlan 31\n name lab\n",
                    logs="connecting to sw2\n",
                    error_message="connection refused by 127.0.0.1:22",
                ),
                m.ExecutionStep(
                    execution=failed,
                    workflow_step=steps[3],
                    order=3,
                    status="skipped",
                    started_at=failed_at + timedelta(seconds=3),
                    completed_at=failed_at + timedelta(seconds=3),
                    error_message="skipped: an earlier step failed",
                ),
                m.ExecutionEvent(execution=failed, kind="submitted", detail="on 1 device(s)", actor=ops, at=failed_at),
                m.ExecutionEvent(execution=failed, kind="started", at=failed_at),
                m.ExecutionEvent(
                    execution=failed, kind="finished", detail="failed", at=failed_at + timedelta(seconds=3)
                ),
            ]
        )
        execution(
            "provision-access-port",
            "awaiting_approval",
            [sw1],
            {"device": "sw1", "interface": "Ethernet1", "vlan": 20, "description": "desk 12"},
            10,
        )
        running = execution(
            "create-vlan",
            "running",
            [sw1],
            {"device": "sw1", "vid": 40, "name": "voice"},
            15,
            started_at=T0 + timedelta(minutes=15),
            owner="elsewhere:1",
        )
        s.add(
            m.ExecutionStep(
                execution=running,
                workflow_step=steps[1],
                device=sw1,
                order=1,
                status="running",
                started_at=T0 + timedelta(minutes=15),
            )
        )
        s.add(
            m.Schedule(
                name="new-year-ntp",
                workflow=workflows["set-ntp"],
                trigger="date",
                expression="2099-01-01T02:00:00+00:00",
                devices=["sw1"],
                inputs={},
                requested_by=ops,
            )
        )
        s.add(
            m.Schedule(
                name="weekly-backup",
                workflow=workflows["backup-config"],
                trigger="cron",
                expression="0 2 * * 0",
                devices=["sw1", "sw2"],
                inputs={},
                requested_by=ops,
                enabled=False,
            )
        )
    return store


async def _settled(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await settle(pilot)


def _snapshot_app(store: Store, start: str) -> NettuiApp:
    return NettuiApp(store, user="boss", engine=False, start=start)


@pytest.mark.parametrize("area", ["home", "executions", "approvals", "schedules"])
def test_snapshot_of_each_screen(area: str, snapshot_store: Store, snap_compare: Any) -> None:
    assert snap_compare(_snapshot_app(snapshot_store, area), terminal_size=SIZE, run_before=_settled)


def test_snapshot_of_a_failed_execution(snapshot_store: Store, snap_compare: Any) -> None:
    async def open_it(pilot: Pilot[None]) -> None:
        await settle(pilot)
        pilot.app.open_execution(2)  # type: ignore[attr-defined]
        await _settled(pilot)  # the cursor starts on the failed step: its error, logs, configuration

    assert snap_compare(_snapshot_app(snapshot_store, "executions"), terminal_size=SIZE, run_before=open_it)
