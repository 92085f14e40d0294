"""One device: its fields, last known facts (live on request), interfaces, the VLANs at its
location and its recent executions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from nettui.tui.device_index import DeviceDetail, DeviceRow, facts_as_text, load_device_detail, local_time

if TYPE_CHECKING:
    from catalog.store import Store

DETAIL_GROUP = "device-detail"
FACTS_GROUP = "device-facts"
FACT_LABELS = {
    "hostname": "Hostname",
    "model": "Model",
    "serial": "Serial",
    "software_version": "Software version",
    "version": "Software version",
    "uptime": "Uptime",
    "network_driver": "Driver",
}


def field_id(label: str) -> str:
    """The widget id of a field's value, e.g. ``field-ssh-port`` for "SSH port"."""
    return "field-" + "-".join(label.lower().split())


def fact_label(key: str) -> str:
    return FACT_LABELS.get(key, key.replace("_", " ").capitalize())


def _describe_error(error: BaseException | None) -> str:
    from nettui.tui.screens.devices import describe_error

    return describe_error(error)


class DeviceDetailScreen(Screen[None]):
    """Everything nettui knows about one device. ``f`` reads its facts live, through the
    device's driver; ``enter`` on an execution opens it."""

    CSS_PATH = "device_detail.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", key_display="esc", id="device.close", tooltip="Back to the devices."),
        Binding(
            "f",
            "fetch_facts",
            "Live facts",
            id="device.facts",
            tooltip="Connect to the device now and read its hostname, model, serial, version and uptime.",
        ),
        Binding("r", "reload", "Reload", id="device.reload", tooltip="Read this device again from the store."),
        Binding("i", "show_tab('interfaces')", "Interfaces", id="device.interfaces", tooltip="The interfaces tab."),
        Binding("v", "show_tab('vlans')", "VLANs", id="device.vlans", tooltip="The VLANs at the device's location."),
        Binding("e", "show_tab('executions')", "Executions", id="device.executions", tooltip="Recent executions."),
    ]

    def __init__(self, store: Store, device: DeviceRow) -> None:
        super().__init__(classes="device-screen")
        self.store = store
        self.device = device
        self.detail: DeviceDetail | None = None
        self.live_facts: dict[str, str] | None = None
        self.live_at: datetime | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="device-top"):
            with VerticalScroll(id="device-card") as card:
                card.border_title = Content(self.device.name)  # Content: a str title is read as markup
                with Grid(id="device-field-grid", classes="fields -two-up"):
                    for label, value in self.device.details():
                        yield Label(label, classes="field-label")
                        # markup=False: values are the operator's data, never Textual markup.
                        yield Label(value or "—", id=field_id(label), classes="field-value", markup=False)
            with VerticalScroll(id="facts-card") as facts:
                facts.border_title = "Facts"
                facts.border_subtitle = "f: read live"
                yield Grid(id="facts", classes="fields")
        with TabbedContent(id="device-tabs", initial="interfaces"):
            with TabPane("Interfaces", id="interfaces"):
                yield DataTable(id="interfaces-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="interfaces-empty", classes="empty-note", markup=False)
            with TabPane("VLANs", id="vlans"):
                yield DataTable(id="vlans-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="vlans-empty", classes="empty-note", markup=False)
            with TabPane("Executions", id="executions"):
                yield DataTable(id="executions-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="executions-empty", classes="empty-note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.device.name
        columns = {
            "#interfaces-table": ("NAME", "ENABLED", "MODE", "UNTAGGED", "TAGGED", "ADDRESSES", "DESCRIPTION"),
            "#vlans-table": ("VID", "NAME", "STATUS", "PORTS HERE", "DESCRIPTION"),
            "#executions-table": ("ID", "WORKFLOW", "STATUS", "REQUESTED BY", "CREATED", "COMPLETED"),
        }
        for selector, labels in columns.items():
            table = self.query_one(selector, DataTable)
            for label in labels:
                table.add_column(label, key=label.lower())
        self.query_one("#device-tabs").loading = True
        self.load()

    # -- loading ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group=DETAIL_GROUP, description="loading the device")
    def load(self) -> DeviceDetail:
        """Read the device, its interfaces, VLANs, facts and executions off the UI thread."""
        return load_device_detail(self.store, self.device.id)

    @work(exclusive=True, exit_on_error=False, group=FACTS_GROUP, description="reading facts")
    async def fetch_facts(self) -> dict[str, Any]:
        """Connect through the device's driver (provider selection) and read its facts."""
        from drivers.connect import connect

        provider = await connect(self.store, self.device.name, driver=None)
        try:
            return await provider.get_facts()
        finally:
            await provider.close()

    @on(Worker.StateChanged)
    def _on_worker_state(self, event: Worker.StateChanged) -> None:
        group = event.worker.group
        if group == DETAIL_GROUP:
            if event.state == WorkerState.SUCCESS and isinstance(event.worker.result, DeviceDetail):
                self._show(event.worker.result)
            elif event.state == WorkerState.ERROR:
                self.query_one("#device-tabs").loading = False
                self.notify(
                    _describe_error(event.worker.error),
                    title=f"Could not read {self.device.name}",
                    severity="error",
                    timeout=15,
                    markup=False,
                )
        elif group == FACTS_GROUP:
            facts_card = self.query_one("#facts-card")
            facts_card.loading = event.state in (WorkerState.PENDING, WorkerState.RUNNING)
            if event.state == WorkerState.SUCCESS:
                self.live_facts = facts_as_text(event.worker.result or {})
                self.live_at = datetime.now().astimezone()
                self._show_facts()
                self.notify(f"Facts of {self.device.name} read live", timeout=3, markup=False)
            elif event.state == WorkerState.ERROR:
                self.notify(
                    _describe_error(event.worker.error),
                    title=f"Could not read facts from {self.device.name}",
                    severity="error",
                    timeout=15,
                    markup=False,
                )

    # -- showing ------------------------------------------------------------------------------

    def _show(self, detail: DeviceDetail) -> None:
        self.detail = detail
        self.device = detail.device
        self.query_one("#device-tabs").loading = False
        for label, value in detail.device.details():
            self.query_one(f"#{field_id(label)}", Label).update(value or "—")
        self._fill(
            "#interfaces-table",
            (
                (
                    i.name,
                    "yes" if i.enabled else Text("no", style="dim"),
                    i.mode,
                    str(i.untagged_vlan or ""),
                    ", ".join(map(str, i.tagged_vlans)),
                    ", ".join(i.addresses),
                    i.description,
                )
                for i in detail.interfaces
            ),
            "No interfaces in the inventory for this device.",
        )
        self._fill(
            "#vlans-table",
            ((str(v.vid), v.name, v.status, str(v.ports or ""), v.description) for v in detail.vlans),
            "No VLANs at this device's location." if detail.device.location else "The device has no location.",
        )
        self._fill(
            "#executions-table",
            (
                (
                    str(e.id),
                    e.workflow,
                    self._status(e.status),
                    e.requested_by,
                    local_time(e.created_at),
                    local_time(e.completed_at),
                )
                for e in detail.executions
            ),
            "No execution has targeted this device yet.",
            keys=[str(e.id) for e in detail.executions],
        )
        tabs = self.query_one(TabbedContent)
        tabs.get_tab("interfaces").label = Content(f"Interfaces ({len(detail.interfaces)})")
        tabs.get_tab("vlans").label = Content(f"VLANs ({len(detail.vlans)})")
        tabs.get_tab("executions").label = Content(f"Executions ({len(detail.executions)})")
        self._show_facts()

    def _status(self, status: str) -> Text:
        try:
            from nettui.tui.widgets.badges import status_text
        except ImportError:  # the shared widgets are not there: plain words
            return Text(status.replace("_", " "))
        return status_text(self.app, status)

    def _fill(
        self,
        selector: str,
        rows: Any,
        empty: str,
        keys: list[str] | None = None,
    ) -> None:
        table = self.query_one(selector, DataTable)
        table.clear()
        for index, cells in enumerate(rows):
            # Text, not str: DataTable reads a str as markup, and names may contain "[".
            table.add_row(
                *(cell if isinstance(cell, Text) else Text(cell) for cell in cells),
                key=keys[index] if keys else None,
            )
        note = self.query_one(selector.replace("-table", "-empty"), Static)
        note.update(empty)
        note.display = table.row_count == 0

    def _show_facts(self) -> None:
        grid = self.query_one("#facts", Grid)
        card = self.query_one("#facts-card")
        if self.live_facts is not None and self.live_at is not None:
            facts = self.live_facts
            card.border_title = f"Facts · live, read {self.live_at.strftime('%H:%M:%S')}"
        elif self.detail is not None:
            facts = self.detail.facts
            card.border_title = f"Facts · last known ({self.detail.facts_source})"
        else:
            return
        widgets: list[Static] = []
        for key, value in facts.items():
            widgets.append(Label(fact_label(key), classes="field-label"))
            widgets.append(Label(value or "—", id=f"fact-{key}", classes="field-value", markup=False))
        self.call_later(self._replace_facts, grid, widgets)

    async def _replace_facts(self, grid: Grid, widgets: list[Static]) -> None:
        # The old labels must be gone before the new ones (same ids) arrive.
        await grid.remove_children()
        await grid.mount_all(widgets)

    # -- actions ------------------------------------------------------------------------------

    def action_close(self) -> None:
        """Back to where the device was opened from."""
        self.dismiss()

    def action_fetch_facts(self) -> None:
        """Read the device's facts live, in the background."""
        self.notify(f"Connecting to {self.device.name}…", timeout=2, markup=False)
        self.fetch_facts()

    def action_reload(self) -> None:
        """Read the device again from the store."""
        self.load()

    def action_show_tab(self, tab: str) -> None:
        """Switch to one of the tabs."""
        self.query_one(TabbedContent).active = tab

    @on(DataTable.RowSelected, "#executions-table")
    def _execution_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is None:
            return
        opener: Callable[[int], object] | None = getattr(self.app, "open_execution", None)
        if opener is None:
            self.notify("This nettui has no executions screen yet.", severity="warning", timeout=4)
            return
        opener(int(event.row_key.value))
