"""The Upgrades and Discovery screens, g-chords and the theme remembered per user, driven with
Textual's pilot against real stores (SQLite and PostgreSQL): upgrade plans with their
execution's steps and pre/post checks as records in the store; a discovery started from the
form over lab devices on 127.0.0.1 (real SSH) until its results show; snapshots of both
screens with fixed data (tests/__snapshots__/test_tui_upgrades_discovery/)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from textual.pilot import Pilot
from textual.widgets import Input, Label, Select

from catalog import models as m
from catalog.models.choices import UpgradeStatus
from catalog.store import Store
from catalog.sync import import_catalog
from nettui.lab import LabThread, run_lab_in_thread
from nettui.tui.app import NettuiApp
from nettui.tui.screens.discovery import DiscoveryForm, DiscoveryScreen, check_field
from nettui.tui.screens.executions import ExecutionDetailScreen
from nettui.tui.screens.home import HomeScreen
from nettui.tui.screens.upgrades import UpgradesScreen, compare, per_device, same_version
from nettui.tui.settings import settings_path
from nettui.tui.widgets.chords import ChordScreen
from nettui.tui.widgets.tables import FilterableTable, LiveTable
from tests.lab_store import lab_secrets_group, seed_lab_store
from tests.test_tui_lifecycle import settle
from tests.test_tui_shell import footer_keys, keys, readable, screen_text, until

SIZE = (120, 40)
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PASSWORD = "Disc-Tui-Pass-1"
ENABLE = "Disc-Tui-Enable-1"
WORKFLOW = """kind: workflow
slug: os-upgrade-test
name: OS upgrade (test)
description: Stands in for the upgrade workflow in these records.
steps:
  - name: Upgrade
    step_type: wait
    config: {duration: 1s}
  - name: Report
    step_type: notification
    config: {subject: done}
"""

PRE_SW1 = {
    "version": "17.9.4a",
    "interfaces_up": ["GigabitEthernet0/1", "GigabitEthernet0/2", "GigabitEthernet0/3"],
    "lldp_neighbors": [{"local_interface": "GigabitEthernet0/1", "neighbor": "sw2"}],
    "routes": ["10.0.0.0/24", "10.1.0.0/24", "0.0.0.0/0"],
    "collected_at": "2026-11-20T09:00:00+00:00",
}
POST_SW1 = {
    "version": "17.12.1",
    "interfaces_up": ["GigabitEthernet0/1", "GigabitEthernet0/3"],
    "lldp_neighbors": [{"local_interface": "GigabitEthernet0/1", "neighbor": "sw2"}],
    "routes": ["10.0.0.0/24", "10.1.0.0/24", "0.0.0.0/0", "10.9.0.0/24"],
    "collected_at": "2026-11-20T09:20:00+00:00",
}


# -- fixed data ----------------------------------------------------------------------------------


def seed(store: Store, tmp_path: Path) -> Store:
    """Users of each role; sw1..sw3; three upgrade plans: sw1 completed (a backup, its
    execution, pre and post checks: an interface lost, a route gained), a scope plan in
    progress on sw2 (running) and sw3 (done), and sw3 planned for later; two discovery jobs."""
    (tmp_path / "os-upgrade-test.yaml").write_text(WORKFLOW)
    import_catalog(store, [tmp_path / "os-upgrade-test.yaml"])
    with store.session() as s:
        workflow = s.scalars(select(m.Workflow).where(m.Workflow.slug == "os-upgrade-test")).one()
        upgrade_step, report_step = workflow.steps
        site = m.Location(name="Lab", slug="lab")
        sw1, sw2, sw3 = (m.Device(name=f"sw{i}", host="127.0.0.1", location=site) for i in (1, 2, 3))
        ops = m.User(username="ops", role="operator")
        s.add_all(
            [
                sw1,
                sw2,
                sw3,
                ops,
                m.User(username="root", role="admin"),
                m.User(username="boss", role="approver"),
                m.User(username="watcher", role="viewer"),
            ]
        )
        backup = m.BackupRecord(
            device=sw1, backup_data="hostname sw1\n", backup_timestamp=T0, validated=True, backup_method="CLI"
        )
        done = m.Execution(
            workflow=workflow,
            requested_by=ops,
            status="completed",
            target_devices=[sw1],
            created_at=T0,
            started_at=T0,
            completed_at=T0 + timedelta(minutes=20),
        )
        running = m.Execution(
            workflow=workflow,
            requested_by=ops,
            status="running",
            target_devices=[sw2, sw3],
            created_at=T0 + timedelta(hours=1),
            started_at=T0 + timedelta(hours=1),
            owner="elsewhere:1",
        )
        s.add_all([backup, done, running])
        s.flush()
        s.add_all(
            [
                m.ExecutionStep(
                    execution=done,
                    workflow_step=upgrade_step,
                    device=sw1,
                    order=1,
                    status="completed",
                    logs="pre-checks: 3 interfaces up\nbackup #1\nimage verified\nreloaded\npost-checks passed\n",
                ),
                m.ExecutionStep(execution=done, workflow_step=report_step, order=2, status="completed"),
                m.ExecutionStep(
                    execution=running,
                    workflow_step=upgrade_step,
                    device=sw2,
                    order=1,
                    status="running",
                    logs="pre-checks: 2 interfaces up\ntransferring the image: 40%\n",
                ),
                m.ExecutionStep(
                    execution=running,
                    workflow_step=upgrade_step,
                    device=sw3,
                    order=1,
                    status="completed",
                    logs="post-checks passed\n",
                ),
            ]
        )
        s.add_all(
            [
                m.UpgradePlan(
                    device=sw1,
                    current_version="17.9.4a",
                    target_version="17.12.1",
                    upgrade_workflow=workflow,
                    status="completed",
                    pre_check_results=PRE_SW1,
                    post_check_results=POST_SW1,
                    backup_reference=backup,
                    execution=done,
                    created_at=T0,
                    updated_at=T0 + timedelta(minutes=20),
                ),
                m.UpgradePlan(
                    scope_query={"location": "Lab"},
                    current_version="17.9.4a",
                    target_version="17.12.1",
                    upgrade_workflow=workflow,
                    status="in_progress",
                    pre_check_results={
                        "sw2": {"version": "17.9.4a", "interfaces_up": ["Gi0/1", "Gi0/2"]},
                        "sw3": {"version": "17.9.4a", "interfaces_up": ["Gi0/1"]},
                    },
                    post_check_results={"sw3": {"version": "17.12.1", "interfaces_up": ["Gi0/1"]}},
                    execution=running,
                    created_at=T0 + timedelta(hours=1),
                    updated_at=T0 + timedelta(hours=1),
                ),
                m.UpgradePlan(
                    device=sw3,
                    current_version="17.12.1",
                    target_version="17.15.1",
                    upgrade_workflow=workflow,
                    status="scheduled",
                    scheduled_time=T0 + timedelta(days=3),
                    created_at=T0 + timedelta(hours=2),
                    updated_at=T0 + timedelta(hours=2),
                ),
            ]
        )
        s.add_all(
            [
                m.DiscoveryJob(
                    discovery_type="cidr",
                    discovery_config={
                        "cidr": "127.0.0.1/32",
                        "ports": "10022,10023,10099",
                        "secrets_groups": ["lab"],
                        "results": [  # as the run records each address's outcome
                            {
                                "address": f"127.0.0.1:{port}",
                                "outcome": "created",
                                "device": name,
                                "platform": "cisco_ios",
                                "serial": f"FOC2200A00{index}",
                                "model": "C9300-24P",
                                "version": "17.09.04a",
                            }
                            for index, (port, name) in enumerate(((10022, "sw1"), (10023, "sw2")))
                        ]
                        + [
                            {
                                "address": "127.0.0.1:10099",
                                "outcome": "failed",
                                "reason": "connection refused",
                                "stage": "connect",
                            }
                        ],
                    },
                    status="completed",
                    devices_discovered=2,
                    devices_created=2,
                    errors=[
                        {
                            "address": "127.0.0.1:10099",
                            "reason": "connection refused",
                            "stage": "connect",
                        }
                    ],
                    run_timestamp=T0,
                    requested_by=ops,
                ),
                m.DiscoveryJob(
                    discovery_type="lldp_crawl",
                    discovery_config={"seeds": ["sw1"], "depth": 2, "allowed_prefixes": ["10.200.0.0/24"]},
                    status="failed",
                    errors=[
                        {"address": None, "reason": "secrets group 'lab': LAB_PASSWORD is not set", "stage": "job"}
                    ],
                    run_timestamp=T0 + timedelta(hours=1),
                    requested_by=ops,
                ),
            ]
        )
    return store


@pytest.fixture
def seeded(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    return seed(store, tmp_path)


@pytest.fixture
def seeded_sqlite(sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The same data on SQLite only, for what does not depend on the database (keys, settings)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    return seed(sqlite_store, tmp_path)


def plan_ids(store: Store) -> dict[str, int]:
    """The seeded plans by what they upgrade: sw1, scope, sw3."""
    with store.read_session() as session:
        plans = session.scalars(select(m.UpgradePlan).order_by(m.UpgradePlan.id)).all()
        return dict(zip(("sw1", "scope", "sw3"), (p.id for p in plans), strict=True))


async def select_row(pilot: Pilot[None], table: LiveTable, key: str) -> None:
    await until(pilot, lambda: key in keys(table), f"row {key}")
    table.move_cursor(row=keys(table).index(key))
    await settle(pilot)


# -- the comparison, as plain functions ------------------------------------------------------------


def test_pre_and_post_checks_compared_check_by_check() -> None:
    rows = {row.check: row for row in compare(PRE_SW1, POST_SW1)}
    assert list(rows) == ["version", "interfaces_up", "lldp_neighbors", "routes"]  # the timestamp is not a check
    assert rows["version"].changed and (rows["version"].before, rows["version"].after) == ("17.9.4a", "17.12.1")
    assert rows["interfaces_up"].lost == ("GigabitEthernet0/2",) and rows["interfaces_up"].gained == ()
    assert not rows["lldp_neighbors"].changed
    assert rows["routes"].gained == ("10.9.0.0/24",) and (rows["routes"].before, rows["routes"].after) == ("3", "4")
    # Other names for the same checks; a check missing afterwards is a difference.
    other = {row.check: row for row in compare({"software_version": "1", "lldp": ["a"]}, {"software_version": "1"})}
    assert not other["version"].changed and other["lldp_neighbors"].changed and other["lldp_neighbors"].after == "—"
    # Results by device (a scope plan) or of the plan's one device.
    assert per_device({"sw2": {"version": "1"}, "sw3": {"version": "2"}}, None).keys() == {"sw2", "sw3"}
    assert per_device(PRE_SW1, "sw1") == {"sw1": PRE_SW1}
    assert per_device({"devices": {"sw9": {"routes": 4}}}, None) == {"sw9": {"routes": 4}}
    # nettui.lifecycle.upgrade keeps a device's post-checks in its state, under "checks".
    state = {"status": "completed", "stage": "done", "checks": POST_SW1, "backup_id": 3}
    assert per_device({"devices": {"sw1": state}, "summary": {"completed": 1}}, None) == {"sw1": POST_SW1}
    assert same_version("17.12.3", "17.12.03") and not same_version("17.12.3", "17.12.4") and not same_version("", "")


# -- the Upgrades screen ---------------------------------------------------------------------------


async def test_a_plan_shows_its_pre_and_post_checks_side_by_side_and_its_backup(seeded: Store) -> None:
    ids = plan_ids(seeded)
    app = NettuiApp(seeded, user="ops", engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("g", "u")
        await settle(pilot)
        screen = app.screen
        assert app.current_mode == "upgrades" and isinstance(screen, UpgradesScreen)
        plans = screen.query_one("#upgrade-plans LiveTable", LiveTable)
        await until(pilot, lambda: keys(plans) == [str(ids["sw3"]), str(ids["scope"]), str(ids["sw1"])], "the plans")
        text = readable(screen_text(app))
        assert "scope location=Lab" in text and "17.9.4a → 17.12.1" in text and "in progress" in text
        assert "rolled back" not in text and "2026-11-23 09:00" in text  # the scheduled one

        await select_row(pilot, plans, str(ids["sw1"]))
        await until(pilot, lambda: screen.detail is not None and screen.detail.plan.id == ids["sw1"], "sw1's plan")
        await settle(pilot)
        detail = screen.query_one("#upgrade-detail")
        detail.scroll_end(animate=False)
        await settle(pilot)
        text = readable(screen_text(app))
        assert "✔ now the target" in text
        assert "- GigabitEthernet0/2" in text and "+ 10.9.0.0/24" in text and "= same" in text
        assert "#1 of sw1, taken 2026-11-20 09:00:00 validated" in text

        # Enter opens the plan's execution.
        plans.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ExecutionDetailScreen), "the execution")
        opened = app.screen
        assert isinstance(opened, ExecutionDetailScreen) and screen.detail is not None
        assert opened.execution_id == screen.detail.plan.execution_id


async def test_progress_per_device_follows_the_execution_live(seeded: Store) -> None:
    ids = plan_ids(seeded)
    app = NettuiApp(seeded, user="ops", engine=False, start="upgrades")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UpgradesScreen)
        plans = screen.query_one("#upgrade-plans LiveTable", LiveTable)
        await select_row(pilot, plans, str(ids["scope"]))
        await until(pilot, lambda: screen.detail is not None and screen.detail.plan.id == ids["scope"], "the plan")
        await settle(pilot)
        text = readable(screen_text(app))
        assert "transferring the image: 40%" in text and "post-checks passed" in text
        assert "sw2" in text and "sw3" in text and "no post-checks yet" in text

        with seeded.session() as session:  # the engine moves on: the screen follows
            session.execute(
                update(m.ExecutionStep)
                .where(m.ExecutionStep.status == "running")
                .values(logs="pre-checks: 2 interfaces up\nreloading, waiting for sw2\n")
            )
        await until(pilot, lambda: "reloading, waiting for sw2" in readable(screen_text(app)), "the new stage")


async def test_only_plans_with_an_execution_open_one_and_a_viewer_runs_nothing(seeded_sqlite: Store) -> None:
    ids = plan_ids(seeded_sqlite)
    app = NettuiApp(seeded_sqlite, user="watcher", engine=False, start="upgrades")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UpgradesScreen)
        plans = screen.query_one("#upgrade-plans LiveTable", LiveTable)
        await select_row(pilot, plans, str(ids["sw3"]))
        assert "open_execution" not in footer_keys(app) and "run" not in footer_keys(app)
        await pilot.press("r", "enter")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("slash", *"sw1")
        await settle(pilot)
        assert keys(plans) == [str(ids["sw1"])]


# -- the Discovery screen: the list and the form ----------------------------------------------------


async def test_jobs_with_their_counts_reasons_and_settings(seeded: Store) -> None:
    app = NettuiApp(seeded, user="ops", engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("g", "d")
        await settle(pilot)
        screen = app.screen
        assert app.current_mode == "discovery" and isinstance(screen, DiscoveryScreen)
        jobs = screen.query_one("#discovery-jobs LiveTable", LiveTable)
        await until(pilot, lambda: len(keys(jobs)) == 2, "the jobs")
        newest, oldest = keys(jobs)
        assert int(newest) > int(oldest)
        text = readable(screen_text(app))
        assert "lldp_crawl" in text and "seeds sw1 depth 2 within 10.200.0.0/24" in text
        assert "LAB_PASSWORD is not set" in text  # the newest job's reason, selected first
        await select_row(pilot, jobs, oldest)
        text = readable(screen_text(app))
        assert "127.0.0.1:10099 connect connection refused" in text
        assert "2 device(s) found, 2 new, 0 updated, 1 address(es) with a reason" in text
        # The devices the job found, as it recorded them: address, name, platform, serial.
        assert "127.0.0.1:10022 sw1 cisco_ios FOC2200A000 17.09.04a created" in text
        assert "127.0.0.1:10023 sw2 cisco_ios FOC2200A001 17.09.04a created" in text
        assert "in the inventory" not in text
        assert {"new", "again"} <= footer_keys(app)


def test_each_field_is_checked_as_it_is_typed(tmp_path: Path) -> None:
    assert check_field("cidr", "10.0.0.0/33", None).startswith("not a prefix")
    assert "more than 65536" in check_field("cidr", "10.0.0.0/8", None)
    assert check_field("cidr", "10.0.0.0/24", None) == ""
    assert check_field("range", "10.0.0.9-3", None) == "the range must go from a lower to a higher address"
    assert check_field("range", "10.0.0.1-20", None) == ""
    assert "bad port" in check_field("ports", "22,x", None)
    assert check_field("csv", str(tmp_path / "none.csv"), None).startswith("no such file")
    assert check_field("depth", "99", None) == "a whole number from 0 to 64"
    assert check_field("allowed", "10.0.0.0/16, nope", None).startswith("not a prefix")


async def test_the_form_checks_inline_and_says_what_the_store_refuses(seeded_sqlite: Store) -> None:
    app = NettuiApp(seeded_sqlite, user="ops", engine=False, start="discovery")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DiscoveryForm)

        def error(name: str) -> str:
            return str(form.query_one(f"#error-{name}", Label).content)

        await pilot.press(*"10.0.0.0/33")
        await settle(pilot)
        assert error("cidr").startswith("not a prefix")
        assert form.query_one("#input-cidr", Input).has_class("-invalid")
        await pilot.press("ctrl+s")  # refused in place: nothing recorded
        await settle(pilot)
        assert app.screen is form and "Fix the fields marked in red" in readable(screen_text(app))
        form.query_one("#input-cidr", Input).value = "127.0.0.1/32"
        form.query_one("#input-groups", Input).value = "nosuch"
        await settle(pilot)
        assert error("cidr") == "" and error("groups").startswith("no secrets group nosuch")
        form.query_one("#input-groups", Input).value = ""
        await settle(pilot)
        await pilot.press("ctrl+s")  # the discovery module's own refusal, under its field
        await settle(pilot)
        assert app.screen is form and "no secrets groups to log in with" in error("groups")

        # An LLDP crawl asks for seeds, depth, allowed prefixes and a count limit instead.
        form.query_one("#kind", Select).value = "lldp_crawl"
        await settle(pilot)
        shown = {
            name
            for name in ("cidr", "seeds", "depth", "allowed", "max_devices")
            if form.query_one(f"#field-{name}").display
        }
        assert shown == {"seeds", "depth", "allowed", "max_devices"}
        form.query_one("#input-seeds", Input).value = "sw1"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "neighbours only inside allowed prefixes" in error("allowed")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DiscoveryScreen)
    with seeded_sqlite.read_session() as session:
        assert len(session.scalars(select(m.DiscoveryJob.id)).all()) == 2  # nothing recorded


async def test_viewers_and_approvers_start_no_discovery(seeded_sqlite: Store) -> None:
    for user in ("watcher", "boss"):
        app = NettuiApp(seeded_sqlite, user=user, engine=False, start="discovery")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = app.screen
            jobs = screen.query_one("#discovery-jobs LiveTable", LiveTable)
            await until(pilot, lambda jobs=jobs: len(keys(jobs)) == 2, "the jobs")  # type: ignore[misc]
            assert "new" not in footer_keys(app) and "again" not in footer_keys(app)
            await pilot.press("n", "r")
            await settle(pilot)
            assert app.screen is screen
            assert not any(
                "discovery" in c.title.lower() for c in app.palette_commands(screen) if "Go to" not in c.title
            )


# -- a discovery started from the form, against the lab ------------------------------------------


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(
        devices=2, platforms=["cisco_ios", "arista_eos"], password=PASSWORD, enable_secret=ENABLE
    ) as handle:
        yield handle


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def lab_groups(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """No devices yet: the secrets group 'lab' and the operator 'ops'."""
    with store.session() as session:
        session.add(m.User(username="ops", role="operator"))
        session.add(lab_secrets_group(monkeypatch, password=PASSWORD, enable_secret=ENABLE, env_prefix="DT"))
    return store


@pytest.mark.slow
async def test_start_a_discovery_over_the_lab_and_see_its_results(lab_groups: Store, lab: LabThread) -> None:
    store = lab_groups
    closed = closed_port()
    ports = ",".join(str(d.port) for d in lab.devices) + f",{closed}"
    app = NettuiApp(store, user="ops", engine=False, start="discovery")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DiscoveryScreen)
        assert "No discovery yet. Press n" in readable(screen_text(app))
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, DiscoveryForm)
        await pilot.press(*"127.0.0.1/32", "tab")
        await pilot.press(*ports)
        app.screen.query_one("#input-groups", Input).focus()
        await pilot.press(*"lab", "enter")
        await until(pilot, lambda: app.screen is screen, "the form to close")
        await until(pilot, lambda: bool(screen.live) and all(r.finished for r in screen.live.values()), "the job")
        ((job_id, live),) = screen.live.items()
        assert live.error == "" and live.done == live.total == 3
        jobs = screen.query_one("#discovery-jobs LiveTable", LiveTable)
        await until(pilot, lambda: keys(jobs) == [str(job_id)] and screen.jobs[0].status == "completed", "the row")
        await settle(pilot)
        text = readable(screen_text(app))
        assert "2 device(s) found, 2 new, 0 updated, 1 address(es) with a reason" in text
        for device in lab.devices:
            assert f"127.0.0.1:{device.port}" in text
        assert f"127.0.0.1:{closed}" in text and "created" in text
    with store.read_session() as session:
        job = session.get(m.DiscoveryJob, job_id)
        assert job is not None and job.requested_by is not None and job.requested_by.username == "ops"
        errors = json.dumps(job.errors)
        found = {d.ssh_port: d.platform.network_driver for d in session.scalars(select(m.Device)) if d.platform}
    assert found == {d.port: d.platform_name for d in lab.devices}
    assert PASSWORD not in errors and PASSWORD not in text


# -- an upgrade run from the screen, against the lab ------------------------------------------------

TARGET = "17.12.03"
IMAGE = "cat9k_iosxe.17.12.03.SPA.bin"  # the lab boots the version an image's name carries


@pytest.fixture(scope="module")
def upgrade_lab() -> Iterator[LabThread]:
    with run_lab_in_thread(
        devices=2, platforms=["cisco_ios"], password=PASSWORD, enable_secret=ENABLE, reload_seconds=0.3
    ) as handle:
        yield handle


@pytest.mark.slow
async def test_run_an_upgrade_plan_from_the_screen_to_the_new_version(
    store: Store, upgrade_lab: LabThread, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from nettui.lifecycle import upgrade

    store = seed_lab_store(store, upgrade_lab, monkeypatch, password=PASSWORD, enable_secret=ENABLE)
    # Each database run upgrades a device of its own (the lab is shared by the module).
    device = {"sqlite": "sw1", "postgresql": "sw2"}[store.engine.dialect.name]
    image = tmp_path / IMAGE
    image.write_bytes(b"\x00" * 50_000)
    plan_id = upgrade.create_plan(store, device=device, target_version=TARGET, image=image)
    app = NettuiApp(store, user="ops", start="upgrades")  # the embedded engine runs the execution
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UpgradesScreen)
        await select_row(pilot, screen.query_one("#upgrade-plans LiveTable", LiveTable), str(plan_id))
        assert "run" in footer_keys(app)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("y")
        await until(
            pilot,
            lambda: screen.detail is not None and screen.detail.plan.status == "completed",
            "the plan to complete",
            timeout=120,
        )
        await settle(pilot)
        text = readable(screen_text(app))
        assert "✔ now the target" in text and f"#{plan_id}" in text
        assert f"17.9.4a → {TARGET}" in text and "✔ completed" in text  # the row grew with its new values
        assert screen.detail is not None and screen.detail.backup is not None
        (progress,) = screen.detail.progress
        assert progress.device == device and progress.status == "completed" and progress.backup_id is not None
        assert "run" not in footer_keys(app)  # a completed plan does not run again
    with store.read_session() as session:
        plan = session.get(m.UpgradePlan, plan_id)
        assert plan is not None and plan.status == UpgradeStatus.COMPLETED
        assert plan.execution is not None and plan.execution.requested_by.username == "ops"


# -- g-chords --------------------------------------------------------------------------------------


async def test_g_then_a_letter_goes_to_each_area_and_esc_or_a_pause_cancels(
    seeded_sqlite: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ChordScreen, "timeout_s", 600.0)  # a slow machine must not close the box early
    app = NettuiApp(seeded_sqlite, user="ops", engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for letter, area in [("s", "schedules"), ("u", "upgrades"), ("x", "sessions"), ("h", "home")]:
            await pilot.press("g")
            await settle(pilot)
            assert isinstance(app.screen, ChordScreen) and "g: go to" in readable(screen_text(app))
            await pilot.press(letter)
            await settle(pilot)
            assert app.current_mode == area
        await pilot.press("g", "escape")
        await settle(pilot)
        assert app.current_mode == "home" and isinstance(app.screen, HomeScreen)
        await pilot.press("g", "z")  # no such area: nothing but the box closing
        await settle(pilot)
        assert app.current_mode == "home" and isinstance(app.screen, HomeScreen)
        monkeypatch.setattr(ChordScreen, "timeout_s", 0.05)
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen), "the box to go away by itself")
        # The chords are in the key help.
        await pilot.press("question_mark")
        await settle(pilot)
        assert "g then a letter opens an area" in readable(screen_text(app))


async def test_g_typed_into_a_filter_box_is_a_letter(seeded_sqlite: Store) -> None:
    app = NettuiApp(seeded_sqlite, user="ops", engine=False, start="upgrades")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"g", "d")
        await settle(pilot)
        box = app.screen.query_one("#upgrade-plans .table-filter", Input)
        assert box.value == "gd" and app.current_mode == "upgrades"
        assert isinstance(app.screen, UpgradesScreen)
        assert app.screen.query_one("#upgrade-plans", FilterableTable).filter_text == "gd"


# -- the theme, remembered per user ---------------------------------------------------------------


async def test_the_theme_chosen_is_remembered_for_that_user_only(seeded_sqlite: Store) -> None:
    first = NettuiApp(seeded_sqlite, user="ops", engine=False)
    default = first.theme
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not settings_path("ops").exists()  # nothing chosen, nothing written
        await pilot.press("ctrl+p", *"theme", "enter")
        await settle(pilot)
        await pilot.press(*"nord", "enter")
        await settle(pilot)
        assert first.theme == "nord"
    assert json.loads(settings_path("ops").read_text()) == {"theme": "nord"}

    again = NettuiApp(seeded_sqlite, user="ops", engine=False)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.theme == "nord"
    other = NettuiApp(seeded_sqlite, user="boss", engine=False)
    async with other.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert other.theme == default


async def test_a_broken_settings_file_is_said_and_the_defaults_used(seeded_sqlite: Store) -> None:
    path = settings_path("ops")
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    app = NettuiApp(seeded_sqlite, user="ops", engine=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        assert str(path) in app.settings_problem and "not JSON" in app.settings_problem
        app.theme = "gruvbox"  # a new choice writes a good file
        await settle(pilot)
    assert json.loads(path.read_text()) == {"theme": "gruvbox"}
    path.write_text(json.dumps({"theme": "no-such-theme"}))
    app = NettuiApp(seeded_sqlite, user="ops", engine=False)
    assert app.theme == "textual-dark" and "'no-such-theme'" in app.settings_problem


# -- snapshots ------------------------------------------------------------------------------------


@pytest.fixture
def snapshot_store(sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(Store, "display_url", property(lambda _self: "sqlite:///demo/nettui.db"))
    return seed(sqlite_store, tmp_path)


def test_snapshot_of_the_upgrades_screen(snapshot_store: Store, snap_compare: Any) -> None:
    ids = plan_ids(snapshot_store)

    async def on_sw1(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, UpgradesScreen)
        await select_row(pilot, screen.query_one("#upgrade-plans LiveTable", LiveTable), str(ids["sw1"]))
        await until(pilot, lambda: screen.detail is not None and screen.detail.plan.id == ids["sw1"], "the plan")
        await settle(pilot)

    app = NettuiApp(snapshot_store, user="ops", engine=False, start="upgrades")
    assert snap_compare(app, terminal_size=SIZE, run_before=on_sw1)


def test_snapshot_of_the_discovery_screen(snapshot_store: Store, snap_compare: Any) -> None:
    async def on_the_first(pilot: Pilot[None]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DiscoveryScreen)
        jobs = screen.query_one("#discovery-jobs LiveTable", LiveTable)
        await until(pilot, lambda: len(keys(jobs)) == 2, "the jobs")
        await select_row(pilot, jobs, keys(jobs)[1])
        await settle(pilot)

    app = NettuiApp(snapshot_store, user="ops", engine=False, start="discovery")
    assert snap_compare(app, terminal_size=SIZE, run_before=on_the_first)
