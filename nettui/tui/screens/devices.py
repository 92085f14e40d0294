"""The device inventory: every device in the store in a table that narrows as you type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.markup import escape
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import Worker, WorkerState

from catalog.errors import NettuiError
from catalog.inventory import list_devices
from catalog.models import Device
from nettui.tui.screens.device_detail import DeviceDetailScreen

if TYPE_CHECKING:
    from catalog.store import Store

LOAD_GROUP = "load-devices"

EMPTY_STORE_TEXT = (
    "[b]No devices yet.[/b]\n\n"
    "Add them from an inventory file with\n\n"
    "[b $accent]nettui inventory import FILE[/]\n\n"
    "then press [b]r[/b] here to reload."
)

# Theme colours rather than fixed ones, so a status stays readable in every theme;
# statuses not listed (offline, decommissioning) are shown dim.
STATUS_THEME_COLOURS = {
    "active": "success",
    "planned": "warning",
    "staged": "warning",
    "failed": "error",
    "inventory": "secondary",
}


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One device as the UI shows it: plain values, detached from any database session."""

    id: int
    name: str
    host: str
    ssh_port: int
    platform: str
    network_driver: str
    manufacturer: str
    model: str
    location: str
    role: str
    status: str
    tenant: str
    tags: tuple[str, ...]
    software_version: str
    serial: str
    created_at: datetime | None
    updated_at: datetime | None
    search_text: str

    @classmethod
    def from_device(cls, device: Device) -> DeviceRow:
        """Copy what the UI needs out of a loaded ``Device`` (relationships must be loaded)."""
        platform = device.platform.name if device.platform else ""
        network_driver = device.platform.network_driver if device.platform else ""
        location = device.location.name if device.location else ""
        role = device.role.name if device.role else ""
        searchable = (device.name, device.host, platform, network_driver, location, role)
        return cls(
            id=device.id,
            name=device.name,
            host=device.host,
            ssh_port=device.ssh_port,
            platform=platform,
            network_driver=network_driver,
            manufacturer=device.manufacturer.name if device.manufacturer else "",
            model=device.model,
            location=location,
            role=role,
            status=str(device.status),
            tenant=device.tenant.name if device.tenant else "",
            tags=tuple(tag.name for tag in device.tags),
            software_version=device.software_version,
            serial=device.serial,
            created_at=device.created_at,
            updated_at=device.updated_at,
            search_text="\x00".join(searchable).casefold(),
        )

    def matches(self, query: str) -> bool:
        """Whether every whitespace-separated term of ``query`` occurs in a searchable field.

        Terms combine with AND, so ``ios lon`` finds IOS devices in London.
        """
        return all(term in self.search_text for term in query.casefold().split())

    def details(self) -> list[tuple[str, str]]:
        """Every field as (label, value) pairs, in the order an operator reads them."""

        def when(moment: datetime | None) -> str:
            # The store holds UTC; the operator reads local time.
            return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if moment else ""

        platform = f"{self.platform} ({self.network_driver})" if self.network_driver else self.platform
        return [
            ("Name", self.name),
            ("Host", self.host),
            ("SSH port", str(self.ssh_port)),
            ("Status", self.status),
            ("Platform", platform),
            ("Manufacturer", self.manufacturer),
            ("Model", self.model),
            ("Software version", self.software_version),
            ("Serial", self.serial),
            ("Location", self.location),
            ("Role", self.role),
            ("Tenant", self.tenant),
            ("Tags", ", ".join(self.tags)),
            ("Created", when(self.created_at)),
            ("Updated", when(self.updated_at)),
        ]


def load_device_rows(store: Store) -> list[DeviceRow]:
    """Every device in the store, by name, through the same query as `nettui inventory list`.
    Blocking: call it from a thread worker."""
    with store.read_session() as session:
        return [DeviceRow.from_device(device) for device in list_devices(session)]


def describe_error(error: BaseException | None) -> str:
    """A one-paragraph account of a failure, for a notification."""
    if isinstance(error, NettuiError):
        return error.render()
    if error is None:
        return "unknown error"
    # Database errors carry the SQL and a link after the first line; the first line says what.
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


class DeviceTable(DataTable[Text]):
    """The device list; ``enter`` opens the device under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select_cursor",
            "Details",
            id="devices.details",
            tooltip="Show every field of the device under the cursor.",
        ),
    ]


class DevicesScreen(Screen[None]):
    """The inventory: a filter box over a table of devices, read from the store in a thread."""

    AUTO_FOCUS = "DeviceTable"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            key_display="/",
            id="devices.filter",
            tooltip="Narrow the table by name, host, platform, location or role.",
            # Priority: the app runs it before reading the next key, so "/lon" typed fast (or
            # pasted) lands in the box. In the box, check_action passes "/" on as a character.
            priority=True,
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            key_display="esc",
            id="devices.clear_filter",
            tooltip="Empty the filter box and go back to the table.",
        ),
        Binding("r", "reload", "Reload", id="devices.reload", tooltip="Read the devices again from the store."),
    ]

    filter_text: reactive[str] = reactive("", init=False)
    """What the operator typed in the filter box; the table shows only devices matching it."""

    loaded: reactive[bool] = reactive(False, init=False)
    """Whether the first load from the store has finished (until then, a loading indicator)."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.all_devices: list[DeviceRow] = []
        self.shown_devices: list[DeviceRow] = []
        # Only a reload the operator asked for says so; the first load shows itself.
        self._announce_load = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="/  filter by name, host, platform, location, role", id="filter")
        with Vertical(id="device-pane"):
            table = DeviceTable(id="devices", cursor_type="row", zebra_stripes=True)
            table.border_title = "Devices"
            yield table
            yield Static(id="empty-state")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DeviceTable)
        for label in ("NAME", "HOST", "PLATFORM", "LOCATION", "ROLE", "STATUS", "VERSION"):
            table.add_column(label, key=label.lower())
        self.query_one("#device-pane").loading = True
        self._update_sub_title()
        # Status colours come from the theme, so a new theme repaints the rows.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._show_devices())
        self.load_devices()

    # -- loading ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group=LOAD_GROUP, description="loading devices")
    def load_devices(self) -> list[DeviceRow]:
        """Read the inventory off the UI thread; the result arrives in ``_on_load_state``."""
        return load_device_rows(self.store)

    @on(Worker.StateChanged)
    def _on_load_state(self, event: Worker.StateChanged) -> None:
        if event.worker.group != LOAD_GROUP:
            return
        if event.state == WorkerState.SUCCESS:
            self.all_devices = event.worker.result or []
            self.loaded = True
            self._show_devices()
            if self._announce_load:
                self.notify(self._count_text(), title="Reloaded", timeout=2)
        elif event.state == WorkerState.ERROR:
            self.query_one("#device-pane").loading = False
            self.sub_title = f"could not read devices · {self.store.display_url}"
            self.notify(
                f"{describe_error(event.worker.error)}\nCheck the store with: nettui db status",
                title="Could not read devices from the store",
                severity="error",
                timeout=15,
                markup=False,  # error text often holds brackets, never markup
            )

    def watch_loaded(self, loaded: bool) -> None:
        self.query_one("#device-pane").loading = not loaded

    # -- showing ------------------------------------------------------------------------------

    def watch_filter_text(self) -> None:
        self._show_devices()

    def _show_devices(self) -> None:
        """Fill the table with the devices matching the filter, keeping the cursor's device."""
        table = self.query_one(DeviceTable)
        current = self._device_under_cursor()
        filtering = bool(self.filter_text.strip())
        self.shown_devices = [device for device in self.all_devices if device.matches(self.filter_text)]
        table.clear()
        for device in self.shown_devices:
            # Text, not str: DataTable reads a str as markup, and a name may contain "[".
            table.add_row(
                Text(device.name),
                Text(device.host),
                Text(device.platform),
                Text(device.location),
                Text(device.role),
                Text(device.status, style=self._status_style(device.status)),
                Text(device.software_version),
                key=str(device.id),
            )
        if current is not None:
            # The same device (by id: a reload makes new rows) keeps the cursor.
            ids = [device.id for device in self.shown_devices]
            if current.id in ids:
                table.move_cursor(row=ids.index(current.id))
        shown, total = len(self.shown_devices), len(self.all_devices)
        table.border_subtitle = f"{shown} of {total}" if filtering else str(total)
        self._show_empty_state()
        self._update_sub_title()
        # After the styles apply: a table that just reappeared (store no longer empty) takes focus.
        self.call_after_refresh(self._focus_table_if_nothing_focused)

    def _focus_table_if_nothing_focused(self) -> None:
        if self.focused is None:
            self._focus_table()

    def _status_style(self, status: str) -> str:
        colour = self.app.theme_variables.get(STATUS_THEME_COLOURS.get(status, ""), "")
        return f"bold {colour}" if colour.startswith("#") else "dim"

    def _show_empty_state(self) -> None:
        """Say why the table is empty, if it is: an empty store, or a filter matching nothing."""
        empty_store = self.loaded and not self.all_devices
        no_match = self.loaded and bool(self.all_devices) and not self.shown_devices
        if empty_store:
            self.query_one("#empty-state", Static).update(EMPTY_STORE_TEXT)
        elif no_match:
            self.query_one("#empty-state", Static).update(
                f"No device matches [b]{escape(self.filter_text.strip())}[/b].  Press [b]esc[/b] to clear the filter."
            )
        self.set_class(empty_store, "-empty-store")
        self.set_class(no_match, "-no-match")
        self.refresh_bindings()

    def _count_text(self) -> str:
        count = len(self.all_devices)
        return f"{count} device" if count == 1 else f"{count} devices"

    def _update_sub_title(self) -> None:
        # The count first: a long URL is cut at the right edge of the header, the count is not.
        self.sub_title = f"{self._count_text() if self.loaded else 'loading…'} · {self.store.display_url}"

    def _device_under_cursor(self) -> DeviceRow | None:
        table = self.query_one(DeviceTable)
        if not self.shown_devices or not 0 <= table.cursor_row < len(self.shown_devices):
            return None
        return self.shown_devices[table.cursor_row]

    # -- actions ------------------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.refresh_bindings()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        # Type, then enter: the cursor goes to the (now short) list.
        self._focus_table()

    @on(DataTable.RowSelected, "#devices")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        device = next((d for d in self.shown_devices if str(d.id) == event.row_key.value), None)
        if device is not None:
            self.app.push_screen(DeviceDetailScreen(device))

    def action_focus_filter(self) -> None:
        """Put the cursor in the filter box."""
        # set_focus now rather than focus(), which waits: the next key must find the box focused.
        self.set_focus(self.query_one("#filter", Input))

    def action_clear_filter(self) -> None:
        """Empty the filter box and go back to the table."""
        self.query_one("#filter", Input).clear()
        self._focus_table()

    def action_reload(self) -> None:
        """Read the devices again from the store, in the background."""
        self._announce_load = True
        self.load_devices()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_filter":
            # Nothing to filter in an empty store; in the box itself "/" is just a character.
            return bool(self.all_devices) and not isinstance(self.focused, Input)
        if action == "clear_filter":
            # Only offered when there is a filter to clear or a filter box to leave.
            return bool(self.filter_text) or isinstance(self.focused, Input)
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def _focus_table(self) -> None:
        table = self.query_one(DeviceTable)
        if table.display:
            table.focus()
        else:
            # An empty store hides the table; keys still reach the screen with nothing focused.
            self.set_focus(None)
