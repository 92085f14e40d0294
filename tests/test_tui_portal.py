"""The portal, the form screen and the catalog screen, driven by Textual's pilot: a request
filled in with dependent fields and run to completion on a lab switch, invalid answers shown
inline and refused, catalog browsing with a render preview; snapshots of the three screens."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import func, select
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from catalog import models as m
from catalog.models.choices import ExecutionStatus
from catalog.store import Store
from drivers.connect import connect
from nettui.engine.approvals import decide
from nettui.lab import LabThread, run_lab_in_thread
from nettui.tui.screens.catalog import CatalogScreen, RenderPreviewScreen
from nettui.tui.screens.form import FormScreen
from nettui.tui.screens.portal import PortalScreen
from tests.lab_store import seed_lab_store
from tests.test_forms import seed

SIZE = (140, 44)


class Host(App[None]):
    """A bare app around one screen: no clock, no store URL, nothing that changes per run."""

    CSS_PATH = "../nettui/tui/nettui.tcss"

    def __init__(self, screen: Any, user: str = "ops") -> None:
        super().__init__()
        self.first = screen
        self.user = user
        self.opened: list[int] = []

    def get_default_screen(self) -> Any:
        return self.first

    def open_execution(self, execution_id: int) -> None:
        self.opened.append(execution_id)


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app: App[Any]) -> str:
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, color_system=None)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return " ".join(re.sub(r"[\u2500-\u259f]", " ", console.export_text()).split())


async def fill_provision_form(pilot: Pilot[Any], device: str, port: str, vlan: str, description: str) -> None:
    """From the portal: open "Connect a device to the network" and answer it key by key."""
    await settle(pilot)
    await pilot.press("slash", *"connect a device", "enter", "enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, FormScreen)
    for answer in (device, port, vlan):
        await pilot.press(*answer, "enter")
        await settle(pilot)
    await pilot.press(*description)
    await settle(pilot)


# -- against the lab ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with run_lab_in_thread(devices=1, platforms=["cisco_ios"], password="portal-pw", enable_secret="portal-en") as lab:
        yield lab


@pytest.fixture
def lab_store(sqlite_store: Store, lab: LabThread, monkeypatch: pytest.MonkeyPatch) -> Store:
    store = seed_lab_store(sqlite_store, lab, monkeypatch, password="portal-pw", enable_secret="portal-en")
    with store.session() as session:
        role = m.DeviceRole(name="Access switch", slug="access-switch")
        site = session.scalars(select(m.Location).where(m.Location.name == "Lab")).one()
        for device in session.scalars(select(m.Device)):
            device.role = role
            session.add(m.Interface(device=device, name="GigabitEthernet1/0/7"))
        session.add(m.VLAN(vid=140, name="desks", location=site))
        session.add(m.User(username="boss", role="approver"))
    return store


async def _create_vlan_on(store: Store, device: str) -> None:
    provider = await connect(store, device)
    try:
        await provider.send_config(["vlan 140", " name desks"])
    finally:
        await provider.close()


def _status(store: Store, execution_id: int) -> ExecutionStatus:
    with store.read_session() as session:
        execution = session.get(m.Execution, execution_id)
        assert execution is not None
        return execution.status


async def test_a_request_with_dependent_fields_runs_to_completion_on_a_lab_switch(
    lab: LabThread, lab_store: Store
) -> None:
    from nettui.tui.app import NettuiApp

    switch = lab.devices[0].name
    await _create_vlan_on(lab_store, switch)
    app = NettuiApp(lab_store, user="ops", engine=True, start="portal")
    async with app.run_test(size=SIZE) as pilot:
        await fill_provision_form(pilot, switch, "1/0/7", "140", "Desk 3.14")
        form = app.screen
        assert isinstance(form, FormScreen) and form.draft is not None
        assert form.draft.inputs() == {
            "device": switch,
            "interface": "GigabitEthernet1/0/7",
            "vlan": 140,
            "description": "Desk 3.14",
        }
        text = screen_text(app)
        assert "switchport access vlan 140" in text  # the preview, rendered as the engine will
        assert f"No current configuration is known for {switch}" in text

        await pilot.press("ctrl+s")
        await settle(pilot)
        with lab_store.read_session() as session:
            execution_id = session.scalars(select(m.Execution.id)).one()
        assert type(app.screen).__name__ == "ExecutionDetailScreen"  # submitting opens the execution

        # Approvals (the request, then the workflow's approval step) by another user; the
        # embedded engine runs the rest against the lab switch.
        for _ in range(600):
            status = await asyncio.to_thread(_status, lab_store, execution_id)
            if status == ExecutionStatus.AWAITING_APPROVAL:
                await asyncio.to_thread(decide, lab_store, execution_id, "boss", approve=True, comment="go")
            elif status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED):
                break
            await pilot.pause(0.1)
    with lab_store.read_session() as session:
        execution = session.get(m.Execution, execution_id)
        assert execution is not None
        steps = [(s.order, s.status.value, s.error_message) for s in execution.steps]
        assert execution.status == ExecutionStatus.COMPLETED, steps
        assert execution.request_form is not None and execution.request_form.slug == "provision-access-port"


# -- on both stores -------------------------------------------------------------------------------


async def test_invalid_answers_are_shown_inline_and_submit_is_refused(store: Store) -> None:
    seed(store)
    app = Host(FormScreen(store, "create-vlan"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*"hq-sw1", "enter")
        await settle(pilot)
        await pilot.press(*"5000")
        await settle(pilot)
        assert "Must be at most 4094." in screen_text(app)
        await pilot.press("tab", *"bad name")
        await settle(pilot)
        assert "Not in the expected form. A letter, then" in screen_text(app)

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.opened == []
        assert isinstance(app.screen, FormScreen)
        assert [n.title for n in app._notifications] == ["Not submitted: 2 problems"]
    with store.read_session() as session:
        assert session.scalars(select(m.Execution)).all() == []


async def test_catalog_browsing_and_a_render_preview_that_says_why(store: Store) -> None:
    seed(store)
    app = Host(CatalogScreen(store))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        with store.read_session() as session:  # as many as the store holds (the library grows)
            counts = [
                ("Tasks", m.TaskDefinition),
                ("Workflows", m.Workflow),
                ("Request forms", m.RequestForm),
                ("Compliance checks", m.ComplianceCheck),
            ]
            headings = [
                f"{label} ({session.scalar(select(func.count()).select_from(model))})" for label, model in counts
            ]
        for heading in headings:
            assert heading in text
        await pilot.press("slash", *"change vlan", "enter", "down")
        await settle(pilot)
        assert "Implementations (press r for a render preview)" in screen_text(app)
        await pilot.press("down", "down")  # cisco_ios, its template
        await settle(pilot)
        assert "switchport access vlan {{ native }}" in screen_text(app)

        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RenderPreviewScreen)
        app.screen.query_one("#render-device", Input).value = "hq-sw1"
        app.screen.query_one(
            "#render-intended", TextArea
        ).text = "port: {name: Gi1/0/9, mode: access, untagged_vlan: 10}"
        await pilot.press("ctrl+r")
        await settle(pilot)
        text = screen_text(app)
        assert "change-vlan-cisco-ios matches: manufacturer Cisco, platform cisco_ios" in text
        assert "change-vlan-arista-eos manufacturer Arista is not the device's Cisco" in text
        assert "interface GigabitEthernet1/0/9 switchport mode access switchport access vlan 10" in text


# -- snapshots ------------------------------------------------------------------------------------


@pytest.fixture
def snapshot_store(sqlite_store: Store) -> Store:
    return seed(sqlite_store)


async def forms_shown(pilot: Pilot[Any]) -> None:
    """settle, then (bounded) until the list has stopped loading, shows the forms and has the
    focus (the footer offers enter): the worker's result, the focus and the footer's refresh
    can land after settle's last pause, and the snapshot then missed "Open" now and then."""
    await settle(pilot)
    forms = pilot.app.screen.query_one("#forms")
    for _ in range(100):
        footer = screen_text(pilot.app).rstrip().splitlines()[-1]
        if not forms.loading and forms.option_count and not forms.query("LoadingIndicator") and "Open" in footer:
            break
        await asyncio.sleep(0.05)
        await pilot.pause()
    await pilot.pause()


def test_portal_snapshot(snapshot_store: Store, snap_compare: Any) -> None:
    assert snap_compare(Host(PortalScreen(snapshot_store)), terminal_size=SIZE, run_before=forms_shown)


def test_form_snapshot(snapshot_store: Store, snap_compare: Any) -> None:
    async def fill(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for answer in ("hq-sw1", "1/0/1", "10"):
            await pilot.press(*answer, "enter")
            await settle(pilot)
        await pilot.press(*"Desk 3.14", "tab")  # off the input: no cursor in the picture
        await settle(pilot)

    app = Host(FormScreen(snapshot_store, "provision-access-port"))
    assert snap_compare(app, terminal_size=SIZE, run_before=fill)


def test_catalog_snapshot(snapshot_store: Store, snap_compare: Any) -> None:
    async def browse(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("down", "down")
        await settle(pilot)

    assert snap_compare(Host(CatalogScreen(snapshot_store)), terminal_size=SIZE, run_before=browse)
