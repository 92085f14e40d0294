"""The Backups and Compliance screens, driven with Textual's pilot against real stores (SQLite
and PostgreSQL) holding backups and compliance runs made by nettui.lifecycle; end to end
against lab devices (back up from the screen, change a device, back up again, see the diff,
restore; remediate a failed check from the screen to a completed execution); role checks;
snapshots of both screens with fixed data (tests/__snapshots__/test_tui_lifecycle/)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from textual.pilot import Pilot
from textual.widgets import DataTable
from textual.worker import WorkerCancelled

from catalog import models as m
from catalog.models.choices import ExecutionStatus
from catalog.store import Store
from catalog.sync import LIBRARY_DIR, import_catalog
from drivers.connect import connect
from nettui.lab import LabThread, run_lab_in_thread
from nettui.lifecycle import backup, compliance
from nettui.tui.app import NettuiApp
from nettui.tui.screens.backups import BackupsScreen
from nettui.tui.screens.compliance import ComplianceScreen
from nettui.tui.screens.executions import ExecutionDetailScreen
from nettui.tui.widgets.tables import LiveTable
from tests.lab_store import seed_lab_store
from tests.test_tui_shell import footer_keys, keys, readable, screen_text, until
from tests.test_tui_shell import settle as settle_once

SIZE = (120, 40)
PASSWORD = "Lab-Login-Pa55-tl"
ENABLE = "Lab-Enable-S3cret-tl"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

EOS = """hostname sw1
!
snmp-server community s3cure-ro ro
!
interface Ethernet1
   description uplink
!
banner login
Authorized access only. Activity on this device is monitored and may be reported.
EOF
!
end
"""
IOS_OLD = """hostname sw2
!
interface GigabitEthernet0/1
 description users
!
end
"""
IOS_NEW = """hostname sw2
!
snmp-server community public RO
!
interface GigabitEthernet0/1
 description users floor 2
!
end
"""


async def settle(pilot: Pilot[None]) -> None:
    """Let the app finish what it is doing. A read the screen replaced by a newer one (an
    exclusive worker, cancelled by design) is not an error here."""
    for _ in range(5):
        try:
            await settle_once(pilot)
            return
        except WorkerCancelled:
            await pilot.pause()


# -- fixed data, seeded through the lifecycle functions -----------------------------------------


def _record(device: m.Device, text: str, at: datetime, driver: str) -> m.BackupRecord:
    return m.BackupRecord(
        device=device,
        backup_data=text,
        backup_method="CLI (asyncssh): show running-config",
        backup_timestamp=at,
        validated=True,
        metadata_={
            "source": "running",
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "network_driver": driver,
            "lines": text.count("\n"),
            "version": "",
        },
    )


def seed(store: Store) -> Store:
    """The library; sw1 (EOS, compliant), sw2 (IOS, two versions, the latest with the public
    community), sw3 (never backed up); users of every role; and the compliance runs that
    nettui.lifecycle.compliance makes from those backups, at a fixed time."""
    import_catalog(store, [LIBRARY_DIR])
    with store.session() as s:
        eos = s.scalars(select(m.Platform).where(m.Platform.network_driver == "arista_eos")).one()
        ios = s.scalars(select(m.Platform).where(m.Platform.network_driver == "cisco_ios")).one()
        site = m.Location(name="Lab", slug="lab")
        sw1 = m.Device(name="sw1", host="127.0.0.1", platform=eos, manufacturer=eos.manufacturer, location=site)
        sw2 = m.Device(name="sw2", host="127.0.0.1", platform=ios, manufacturer=ios.manufacturer, location=site)
        sw3 = m.Device(name="sw3", host="127.0.0.1", platform=ios, manufacturer=ios.manufacturer, location=site)
        s.add_all([sw1, sw2, sw3])
        s.add_all(
            [
                m.User(username="ops", role="operator"),
                m.User(username="boss", role="approver"),
                m.User(username="watcher", role="viewer"),
            ]
        )
        s.add(_record(sw1, EOS, T0, "arista_eos"))
        s.add(_record(sw2, IOS_OLD, T0 + timedelta(hours=1), "cisco_ios"))
        s.add(_record(sw2, IOS_NEW, T0 + timedelta(hours=2), "cisco_ios"))
    compliance.compliance_run(
        store, checks=["snmp-no-default-communities", "login-banner"], devices=["sw1", "sw2"], requested_by="ops"
    )
    with store.session() as s:
        s.execute(update(m.ComplianceRun).values(run_timestamp=T0 + timedelta(hours=3)))
    return store


@pytest.fixture
def seeded(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    return seed(store)


def matrix(app: Any) -> DataTable[Any]:
    table: DataTable[Any] = app.screen.query_one("#compliance-matrix", DataTable)
    return table


async def put_cursor(pilot: Pilot[None], device: str, check: str) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, ComplianceScreen)
    await until(pilot, lambda: device in screen.shown_devices and check in screen.shown_checks, "the matrix")
    matrix(pilot.app).move_cursor(row=screen.shown_devices.index(device), column=screen.shown_checks.index(check) + 1)
    await settle(pilot)


# -- the Backups screen ---------------------------------------------------------------------------


async def test_keys_and_the_palette_reach_both_screens(seeded: Store) -> None:
    app = NettuiApp(seeded, user="ops", engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        assert app.current_mode == "backups" and isinstance(app.screen, BackupsScreen)
        await pilot.press("9")
        await settle(pilot)
        assert app.current_mode == "compliance" and isinstance(app.screen, ComplianceScreen)
        await pilot.press("ctrl+p", *"go to backups", "enter")
        await settle(pilot)
        assert isinstance(app.screen, BackupsScreen)
        titles = [c.title for c in app.palette_commands(app.screen)]
        assert any(t.startswith("Back up sw1") for t in titles) and "Mark version #1" in titles


async def test_devices_latest_backup_history_filter_and_diffs(seeded: Store) -> None:
    app = NettuiApp(seeded, user="ops", engine=False, start="backups")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BackupsScreen)
        devices = screen.query_one("#backup-devices LiveTable", LiveTable)
        await until(pilot, lambda: keys(devices) == ["sw1", "sw2", "sw3"], "the device list")
        await settle(pilot)
        text = readable(screen_text(app))
        assert "sw1 2026-11-20 09:00 config ✔ 201 B 1" in text and "never" in text and "2/3 device(s) backed up" in text
        assert [d.versions for d in screen.devices] == [1, 2, 0]
        await pilot.press("slash", *"sw2", "enter")
        await settle(pilot)
        assert keys(devices) == ["sw2"]
        await until(pilot, lambda: screen.diff is not None and screen.diff.device == "sw2", "sw2's diff")
        await settle(pilot)
        history = screen.query_one("#backup-history", LiveTable)
        newest, oldest = keys(history)
        assert int(newest) > int(oldest)
        text = readable(screen_text(app))  # the latest against the one before, unified
        assert "+snmp-server community public RO" in text and "- description users" in text
        assert "line(s) added" in text
        await pilot.press("v")  # side by side: both versions in columns
        await settle(pilot)
        text = readable(screen_text(app))
        assert f"#{oldest} #{newest}" in text and "description users floor 2" in text and "+snmp" not in text
        await pilot.press("c")  # the whole configuration of the version under the cursor
        await settle(pilot)
        assert "Configuration #" in readable(screen_text(app))
        await pilot.press("c", "escape")
        await settle(pilot)
        assert keys(devices) == ["sw1", "sw2", "sw3"]
        # Mark sw2's older version: the diff goes from it to the version under the cursor.
        await until(pilot, lambda: screen.history_device == "sw2", "sw2's versions")
        history.focus()
        await pilot.press("down", "m", "up")
        await settle(pilot)
        assert screen.marked == int(oldest) and screen.diff is not None and screen.diff.older == int(oldest)
        assert {"restore", "backup", "mark"} <= footer_keys(app)


async def test_a_viewer_gets_no_restore_no_backup_and_no_remediation(seeded: Store) -> None:
    app = NettuiApp(seeded, user="watcher", engine=False, start="backups")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BackupsScreen)
        screen.query_one("#backup-devices LiveTable", LiveTable).move_cursor(row=1)
        await until(pilot, lambda: screen.diff is not None and screen.diff.device == "sw2", "sw2's diff")
        await settle(pilot)
        screen.query_one("#backup-history", LiveTable).focus()
        await settle(pilot)
        offered = footer_keys(app)
        assert "restore" not in offered and "backup" not in offered and "mark" in offered
        await pilot.press("r")  # nothing happens
        await settle(pilot)
        assert app.screen is screen
        assert not any("Restore" in c.title for c in app.palette_commands(screen))

        await pilot.press("9")
        await settle(pilot)
        await put_cursor(pilot, "sw2", "snmp-no-default-communities")
        cells = app.screen
        assert isinstance(cells, ComplianceScreen) and cells.selected_run() is not None
        offered = footer_keys(app)
        assert "remediate" not in offered and "run_checks" not in offered
        await pilot.press("x")
        await settle(pilot)
        assert app.screen is cells
        assert "Only operators and up launch a remediation" in readable(screen_text(app))


# -- the Compliance screen ------------------------------------------------------------------------


async def test_matrix_scores_and_drill_down(seeded: Store) -> None:
    app = NettuiApp(seeded, user="ops", engine=False, start="compliance")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComplianceScreen)
        await until(pilot, lambda: screen.shown_devices == ["sw1", "sw2"], "the matrix")
        assert screen.shown_checks == ["login-banner", "snmp-no-default-communities"]
        statuses = {k: v["status"] for k, v in screen.matrix.cells.items()}
        assert statuses[("sw1", "snmp-no-default-communities")] == "passed"
        assert statuses[("sw2", "snmp-no-default-communities")] == "failed"
        text = readable(screen_text(app))
        assert "CIS Benchmark" in text and "DISA STIG" in text and "overall" in text
        # The colour says the severity: critical is white on red.
        cell = matrix(app).get_cell("sw2", "snmp-no-default-communities")
        assert cell.plain == "✖ fail" and "on red" in str(cell.style)
        await put_cursor(pilot, "sw2", "snmp-no-default-communities")
        await until(pilot, lambda: screen.detail is not None, "the run's detail")
        text = readable(screen_text(app))
        assert "Present but forbidden (1)" in text and "snmp-server community public RO" in text
        assert "Remediation configuration (through apply-remediation)" in text
        assert "no snmp-server community public RO" in text
        assert "remediate" in footer_keys(app)
        await pilot.press("slash", *"sw1")
        await settle(pilot)
        assert screen.shown_devices == ["sw1"]
        await pilot.press("escape")
        await settle(pilot)
        assert screen.shown_devices == ["sw1", "sw2"]


async def test_run_checks_from_the_screen_against_backups(seeded: Store) -> None:
    app = NettuiApp(seeded, user="ops", engine=False, start="compliance")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComplianceScreen)
        await until(pilot, lambda: bool(screen.shown_checks), "the matrix")
        with seeded.read_session() as session:
            before = len(session.scalars(select(m.ComplianceRun.id)).all())
        await pilot.press("r")
        await until(pilot, lambda: not screen.running and len(screen.shown_checks) == 5, "the checks to run")
        with seeded.read_session() as session:
            requested = session.scalars(select(m.ComplianceRun.requested_by_id)).all()
        assert len(requested) > before and all(r is not None for r in requested)
        assert "sw3" in screen.shown_devices  # never backed up: skipped, not hidden
        assert screen.matrix.cells[("sw3", "login-banner")]["status"] == "skipped"


# -- end to end against the lab -------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(
        devices=2, platforms=["cisco_ios", "arista_eos"], password=PASSWORD, enable_secret=ENABLE
    ) as handle:
        yield handle


@pytest.fixture
def lab_store(store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch) -> Store:
    seeded = seed_lab_store(store, lab, monkeypatch, password=PASSWORD, enable_secret=ENABLE)
    with seeded.session() as session:
        session.add(m.User(username="boss", role="approver"))
    return seeded


async def _send(store: Store, device: str, lines: list[str]) -> None:
    async with await connect(store, device, "asyncssh") as provider:
        await provider.send_config(lines)


def _octet(store: Store) -> int:
    """A value of its own per database, so the two runs of a test on one lab change something."""
    return {"sqlite": 1, "postgresql": 2}[store.engine.dialect.name]


def _status(store: Store, execution_id: int) -> ExecutionStatus:
    with store.read_session() as session:
        execution = session.get(m.Execution, execution_id)
        assert execution is not None
        return execution.status


@pytest.mark.slow
async def test_back_up_from_the_screen_change_a_device_see_the_diff_and_restore(
    lab_store: Store, lab: LabThread
) -> None:
    store = lab_store
    names = sorted(d.name for d in lab.devices)
    changed = next(d.name for d in lab.devices if d.platform_name == "cisco_ios")
    line = f"ntp server 10.98.{_octet(store)}.{int(time.time()) % 250 + 1}"
    app = NettuiApp(store, user="ops", engine=False, start="backups")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BackupsScreen)
        devices = screen.query_one("#backup-devices LiveTable", LiveTable)
        await until(pilot, lambda: keys(devices) == names, "the device list")
        await pilot.press("space", "space")  # pick both
        assert screen.picked == set(names)
        await pilot.press("b")
        await until(pilot, lambda: not screen.backing_up, "the first backup", timeout=60)
        await until(pilot, lambda: all(d.versions >= 1 for d in screen.devices), "the new versions")
        first = {d.name: d.versions for d in screen.devices}
        await settle(pilot)
        assert "2/2 device(s) backed up" in readable(screen_text(app))

        await _send(store, changed, [line])
        devices.move_cursor(row=names.index(changed))
        await settle(pilot)
        await pilot.press("b")  # nothing picked: the device under the cursor
        await until(pilot, lambda: not screen.backing_up, "the second backup", timeout=60)
        await until(
            pilot, lambda: {d.name: d.versions for d in screen.devices}[changed] == first[changed] + 1, "a new version"
        )
        assert {d.name: d.versions for d in screen.devices if d.name != changed} == {
            n: v for n, v in first.items() if n != changed
        }
        await until(
            pilot,
            lambda: screen.diff is not None and screen.diff.device == changed and f"+{line}" in screen.diff.unified,
            "the diff",
        )
        assert screen.diff is not None and f"+{line}" in screen.diff.unified.splitlines()
        await settle(pilot)
        assert f"+{line}" in readable(screen_text(app)).replace("+ ", "+")

        # Restore the version before the change: confirmed, submitted, the execution opens.
        older = screen.diff.older
        history = screen.query_one("#backup-history", LiveTable)
        history.focus()
        history.move_cursor(row=keys(history).index(str(older)))
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ExecutionDetailScreen), "the restore execution", timeout=60)
        detail = app.screen
        assert isinstance(detail, ExecutionDetailScreen)
        assert _status(store, detail.execution_id) == ExecutionStatus.AWAITING_APPROVAL  # restore-config asks first
        with store.read_session() as session:
            execution = session.get(m.Execution, detail.execution_id)
            assert execution is not None and execution.requested_by.username == "ops"
            assert execution.inputs["backup_id"] == older and f"no {line}" in execution.inputs["lines"]


@pytest.mark.slow
async def test_remediate_from_the_screen_to_a_completed_execution(lab_store: Store, lab: LabThread) -> None:
    store = lab_store
    ios = next(d.name for d in lab.devices if d.platform_name == "cisco_ios")
    await _send(store, ios, ["snmp-server community public RO"])
    await backup.run_backups(store, [d.name for d in lab.devices])
    await compliance.run_compliance(store, checks=["snmp-no-default-communities"], requested_by="ops")

    app = NettuiApp(store, user="ops", start="compliance")  # the embedded engine runs the remediation
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComplianceScreen)
        await put_cursor(pilot, ios, "snmp-no-default-communities")
        run = screen.selected_run()
        assert run is not None and run["status"] == "failed"
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ExecutionDetailScreen), "the remediation execution")
        detail = app.screen
        assert isinstance(detail, ExecutionDetailScreen)
        await until(pilot, lambda: detail.detail is not None and detail.detail.final, "the remediation", timeout=90)
        assert detail.detail is not None
        assert detail.detail.row.status == "completed", [s.error for s in detail.detail.steps if s.error]
        with store.read_session() as session:
            row = session.get(m.ComplianceRun, run["run_id"])
            assert row is not None and row.remediation_execution_id == detail.execution_id

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("l")  # a live run from the screen: the device passes now
        await until(pilot, lambda: not screen.running, "the live run", timeout=60)
        await until(
            pilot,
            lambda: screen.matrix.cells.get((ios, "snmp-no-default-communities"), {}).get("status") == "passed",
            "the passing run",
        )


# -- snapshots ------------------------------------------------------------------------------------


@pytest.fixture
def snapshot_store(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(Store, "display_url", property(lambda _self: "sqlite:///demo/nettui.db"))
    return seed(sqlite_store)


def test_snapshot_of_the_backups_screen(snapshot_store: Store, snap_compare: Any) -> None:
    async def on_sw2(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, BackupsScreen)
        screen.query_one("#backup-devices LiveTable", LiveTable).move_cursor(row=1)
        await until(pilot, lambda: screen.diff is not None and screen.diff.device == "sw2", "sw2's diff")
        await settle(pilot)

    app = NettuiApp(snapshot_store, user="ops", engine=False, start="backups")
    assert snap_compare(app, terminal_size=SIZE, run_before=on_sw2)


def test_snapshot_of_the_compliance_screen(snapshot_store: Store, snap_compare: Any) -> None:
    async def on_failure(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await put_cursor(pilot, "sw2", "snmp-no-default-communities")
        screen = pilot.app.screen
        assert isinstance(screen, ComplianceScreen)
        await until(pilot, lambda: screen.detail is not None, "the run's detail")
        await settle(pilot)

    app = NettuiApp(snapshot_store, user="ops", engine=False, start="compliance")
    assert snap_compare(app, terminal_size=SIZE, run_before=on_failure)
