"""The device inventory: every device in the store, narrowed by facets and fuzzy search.

Built for 50,000 devices: the rows are read in one column query in a thread, the table draws
only the lines on screen (``DeviceTable`` is a ``ScrollView`` over a plain list), and the
filter runs in a thread worker, the latest keystroke cancelling the one before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.markup import escape
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Header, Input, Select, Static
from textual.worker import Worker, WorkerState

from catalog.errors import NettuiError
from nettui.tui.device_index import (
    FACETS,
    DeviceFilter,
    DeviceRow,
    FacetChoices,
    filter_devices,
    load_device_rows,
)
from nettui.tui.screens.device_detail import DeviceDetailScreen

if TYPE_CHECKING:
    from catalog.store import Store

__all__ = ["DeviceRow", "DeviceTable", "DevicesScreen", "describe_error"]

LOAD_GROUP = "load-devices"
FILTER_GROUP = "filter-devices"

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
FACET_PROMPTS = {"location": "Location", "role": "Role", "platform": "Platform", "tag": "Tag", "status": "Status"}


def describe_error(error: BaseException | None) -> str:
    """A one-paragraph account of a failure, for a notification."""
    if isinstance(error, NettuiError):
        return error.render()
    if error is None:
        return "unknown error"
    # Database errors carry the SQL and a link after the first line; the first line says what.
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


# -- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the device table: heading, the row field it shows, and its width limits."""

    label: str
    key: str
    min_width: int
    max_width: int


COLUMNS = (
    Column("NAME", "name", 6, 40),
    Column("HOST", "host", 6, 32),
    Column("PLATFORM", "platform", 8, 24),
    Column("LOCATION", "location", 8, 24),
    Column("ROLE", "role", 6, 20),
    Column("STATUS", "status", 8, 15),
    Column("VERSION", "software_version", 7, 20),
    Column("TAGS", "tags", 6, 30),
)
COLUMN_GAP = 2


def cell_value(device: DeviceRow, key: str) -> str:
    if key == "tags":
        return ", ".join(device.tags)
    value: str = getattr(device, key)
    return value


def column_widths(devices: list[DeviceRow]) -> list[int]:
    """Each column as wide as its longest value, within its limits (measured once per load)."""
    widths = []
    for column in COLUMNS:
        longest = max((len(cell_value(device, column.key)) for device in devices), default=0)
        widths.append(max(column.min_width, len(column.label), min(column.max_width, longest)))
    return widths


def fit(text: str, width: int) -> str:
    """``text`` padded or cut (with an ellipsis) to exactly ``width`` cells."""
    if len(text) > width:
        return text[: width - 1] + "…"
    return text.ljust(width)


class DeviceTable(ScrollView, can_focus=True):
    """The device list, virtualised: only the lines on screen are drawn, so 50,000 rows cost
    no more than fifty. ``enter`` (or a click on the highlighted row) opens a device."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Details", id="devices.details", tooltip="Open the device under the cursor."),
        Binding("up,k", "cursor_up", "Up", show=False, id="devices.up", tooltip="The device above."),
        Binding("down,j", "cursor_down", "Down", show=False, id="devices.down", tooltip="The device below."),
        Binding("pageup", "page_up", "Page up", show=False, id="devices.page_up", tooltip="One screen up."),
        Binding("pagedown", "page_down", "Page down", show=False, id="devices.page_down", tooltip="One screen down."),
        Binding("home,g", "first", "First", show=False, id="devices.first", tooltip="The first device."),
        Binding("end,G", "last", "Last", show=False, id="devices.last", tooltip="The last device."),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "device-table--header",
        "device-table--cursor",
        "device-table--even",
    }
    DEFAULT_CSS = """
    DeviceTable {
        background: $surface;
        & > .device-table--header { color: $text-muted; text-style: bold; background: $panel; }
        & > .device-table--cursor { background: $block-cursor-blurred-background; }
        & > .device-table--even { background: $surface-lighten-1; }
        &:focus > .device-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    cursor_row: reactive[int] = reactive(0, init=False)
    """Index (in ``rows``) of the highlighted device."""

    @dataclass
    class Selected(Message):
        """The operator opened a device (enter, or a click on the highlighted row)."""

        table: DeviceTable
        device: DeviceRow

        @property
        def control(self) -> DeviceTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[DeviceRow] = []
        self.widths = [max(c.min_width, len(c.label)) for c in COLUMNS]

    # -- data ----------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def current(self) -> DeviceRow | None:
        """The device under the cursor, if any."""
        return self.rows[self.cursor_row] if 0 <= self.cursor_row < len(self.rows) else None

    def set_rows(self, rows: list[DeviceRow], widths: list[int] | None = None, *, keep_id: int | None = None) -> None:
        """Show ``rows``; the cursor stays on device ``keep_id`` if it is among them, else goes
        to the first row."""
        self.rows = rows
        if widths is not None:
            self.widths = widths
        index = 0
        if keep_id is not None:
            index = next((i for i, row in enumerate(rows) if row.id == keep_id), 0)
        self.virtual_size = Size(self._line_width, len(rows) + 1)  # + the heading
        self.set_reactive(DeviceTable.cursor_row, index)
        self._scroll_cursor_into_view(animate=False)
        self.refresh()

    @property
    def _line_width(self) -> int:
        return sum(self.widths) + COLUMN_GAP * (len(self.widths) - 1) + 2

    # -- drawing ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("device-table--header")
            text = " " + (" " * COLUMN_GAP).join(fit(c.label, w) for c, w in zip(COLUMNS, self.widths, strict=True))
            return Strip([Segment(text, base + header)]).crop_extend(scroll_x, scroll_x + width, base + header)
        index = scroll_y + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, base)
        device = self.rows[index]
        style = base
        if index == self.cursor_row:
            style += self.get_component_rich_style("device-table--cursor")
        elif index % 2:
            style += self.get_component_rich_style("device-table--even")
        segments = [Segment(" ", style)]
        for position, (column, column_width) in enumerate(zip(COLUMNS, self.widths, strict=True)):
            if position:
                segments.append(Segment(" " * COLUMN_GAP, style))
            value = fit(cell_value(device, column.key), column_width)
            cell_style = style + self._status_style(device.status) if column.key == "status" else style
            segments.append(Segment(value, cell_style))
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, style)

    def _status_style(self, status: str) -> Style:
        colour = self.app.theme_variables.get(STATUS_THEME_COLOURS.get(status, ""), "")
        return Style.parse(f"bold {colour}") if colour.startswith("#") else Style(dim=True)

    def text_lines(self) -> list[str]:
        """The rows as plain text (heading first), as the table would draw them at full width."""
        lines = [(" " * COLUMN_GAP).join(fit(c.label, w) for c, w in zip(COLUMNS, self.widths, strict=True))]
        for device in self.rows:
            cells = (fit(cell_value(device, c.key), w) for c, w in zip(COLUMNS, self.widths, strict=True))
            lines.append((" " * COLUMN_GAP).join(cells))
        return [line.rstrip() for line in lines]

    # -- the cursor ---------------------------------------------------------------------------

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def watch_cursor_row(self) -> None:
        self._scroll_cursor_into_view()
        self.refresh()

    def _scroll_cursor_into_view(self, *, animate: bool = False) -> None:
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=animate, immediate=True)
        elif self.cursor_row >= top + self._page:
            self.scroll_to(y=self.cursor_row - self._page + 1, animate=animate, immediate=True)

    def move_cursor(self, row: int) -> None:
        """Put the cursor on ``row`` (clamped to the rows there are)."""
        self.cursor_row = max(0, min(row, len(self.rows) - 1))

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - self._page)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + self._page)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.rows) - 1)

    def action_select_cursor(self) -> None:
        """Open the device under the cursor."""
        if (device := self.current) is not None:
            self.post_message(self.Selected(self, device))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = self.scroll_offset.y + offset.y - 1
        if not 0 <= index < len(self.rows):
            return
        if index == self.cursor_row:
            self.action_select_cursor()
        else:
            self.cursor_row = index

    def on_resize(self) -> None:
        self._scroll_cursor_into_view()


# -- the screen ---------------------------------------------------------------------------------


class FacetSelect(Select[str]):
    """One facet of the filter bar: any value (blank), or one the inventory has."""


class DevicesScreen(Screen[None]):
    """The inventory: a filter bar (fuzzy text and five facets) over a virtual device table."""

    AUTO_FOCUS = "DeviceTable"
    CSS_PATH = "devices.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            key_display="/",
            id="devices.filter",
            tooltip="Narrow the table: name, host, platform, location, role or tag; letters in order are enough.",
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
            tooltip="Empty the filter box and every facet, and go back to the table.",
        ),
        Binding("r", "reload", "Reload", id="devices.reload", tooltip="Read the devices again from the store."),
    ]

    device_filter: reactive[DeviceFilter] = reactive(DeviceFilter, init=False)
    """What the operator asked for: the text in the box and the facet values picked."""

    loaded: reactive[bool] = reactive(False, init=False)
    """Whether the first load from the store has finished (until then, a loading indicator)."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.all_devices: list[DeviceRow] = []
        self.shown_devices: list[DeviceRow] = []
        self.widths: list[int] | None = None
        # Only a reload the operator asked for says so; the first load shows itself.
        self._announce_load = False
        self._filling_facets = False

    @property
    def filter_text(self) -> str:
        return self.device_filter.text

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="device-filter-bar"):
            yield Input(placeholder="/  name, host, platform, location, role, tag", id="device-filter")
            with Horizontal(id="device-facets"):
                for facet in FACETS:
                    select = FacetSelect([], prompt=FACET_PROMPTS[facet], id=f"facet-{facet}", compact=True)
                    select.tooltip = f"Only devices with this {facet}"
                    yield select
        with Vertical(id="device-list"):
            table = DeviceTable(id="device-table")
            table.border_title = "Devices"
            yield table
            yield Static(id="device-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#device-list").loading = True
        self._update_sub_title()
        # Status colours come from the theme, so a new theme repaints the rows.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.query_one(DeviceTable).refresh())
        # After the first paint: the screen (and its loading indicator) shows at once, instead of
        # waiting while the reading thread holds the interpreter (50,000 devices: about 1 s).
        self.call_after_refresh(self.load_devices)

    # -- loading ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group=LOAD_GROUP, description="loading devices")
    def load_devices(self) -> tuple[list[DeviceRow], FacetChoices, list[int]]:
        """Read the inventory (and measure its columns) off the UI thread; the result arrives
        in ``_on_worker_state``."""
        rows = load_device_rows(self.store)
        return rows, FacetChoices.of(rows), column_widths(rows)

    @work(thread=True, exclusive=True, exit_on_error=False, group=FILTER_GROUP, description="filtering devices")
    def filter_in_background(self, devices: list[DeviceRow], wanted: DeviceFilter) -> list[DeviceRow]:
        """Filter off the UI thread; a newer filter cancels this one (its result is dropped)."""
        return filter_devices(devices, wanted)

    @on(Worker.StateChanged)
    def _on_worker_state(self, event: Worker.StateChanged) -> None:
        group = event.worker.group
        if group == LOAD_GROUP:
            self._on_load_state(event)
        elif group == FILTER_GROUP and event.state == WorkerState.SUCCESS:
            self._show(event.worker.result or [])

    def _on_load_state(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.SUCCESS:
            rows, choices, widths = event.worker.result or ([], FacetChoices([], [], [], [], []), None)
            self.all_devices = rows
            self.widths = widths
            self._fill_facets(choices)
            self.loaded = True
            self._apply_filter()
            if self._announce_load:
                self.notify(self._count_text(), title="Reloaded", timeout=2)
        elif event.state == WorkerState.ERROR:
            self.query_one("#device-list").loading = False
            self.sub_title = f"could not read devices · {self.store.display_url}"
            self.notify(
                f"{describe_error(event.worker.error)}\nCheck the store with: nettui db status",
                title="Could not read devices from the store",
                severity="error",
                timeout=15,
                markup=False,  # error text often holds brackets, never markup
            )

    def _fill_facets(self, choices: FacetChoices) -> None:
        """Offer each facet's values (with device counts); a value picked before a reload
        stays picked if the inventory still has it."""
        self._filling_facets = True
        wanted = self.device_filter
        for facet in FACETS:
            select = self.query_one(f"#facet-{facet}", FacetSelect)
            values: list[tuple[str, int]] = getattr(choices, facet)
            select.set_options((f"{value} ({count:,})", value) for value, count in values)
            current = getattr(wanted, facet)
            if current is not None and any(value == current for value, _ in values):
                select.value = current
            elif current is not None:
                wanted = replace(wanted, **{facet: None})
        self.set_reactive(DevicesScreen.device_filter, wanted)
        self.call_after_refresh(self._facets_filled)

    def _facets_filled(self) -> None:
        self._filling_facets = False

    def watch_loaded(self, loaded: bool) -> None:
        self.query_one("#device-list").loading = not loaded

    # -- filtering and showing ----------------------------------------------------------------

    def watch_device_filter(self, old: DeviceFilter, new: DeviceFilter) -> None:
        self._apply_filter()
        typing = isinstance(self.focused, Input)
        if (typing or not old.is_empty) != (typing or not new.is_empty):
            # Only then does "clear filter" come or go (see check_action): while the operator
            # types in the box it stays. Refreshing the bindings makes the footer recompose,
            # which cost more than filtering 50,000 devices.
            self.refresh_bindings()

    def _apply_filter(self) -> None:
        if not self.loaded:
            return
        if self.device_filter.is_empty:
            # Nothing to compute: show everything now (the common case after a load).
            self.workers.cancel_group(self, FILTER_GROUP)
            self._show(self.all_devices)
        else:
            self.filter_in_background(self.all_devices, self.device_filter)

    def _show(self, devices: list[DeviceRow]) -> None:
        """Fill the table with ``devices``, keeping the cursor's device."""
        table = self.query_one(DeviceTable)
        current = table.current
        self.shown_devices = devices
        table.set_rows(devices, self.widths, keep_id=current.id if current else None)
        shown, total = len(devices), len(self.all_devices)
        table.border_subtitle = f"{shown:,} of {total:,}" if not self.device_filter.is_empty else f"{total:,}"
        self._show_empty_state()
        self._update_sub_title()
        # After the styles apply: a table that just reappeared (store no longer empty) takes focus.
        self.call_after_refresh(self._focus_table_if_nothing_focused)

    def _focus_table_if_nothing_focused(self) -> None:
        if self.focused is None:
            self._focus_table()

    def _show_empty_state(self) -> None:
        """Say why the table is empty, if it is: an empty store, or a filter matching nothing."""
        empty_store = self.loaded and not self.all_devices
        no_match = self.loaded and bool(self.all_devices) and not self.shown_devices
        store_emptiness_changed = empty_store != self.has_class("-empty-store")
        if empty_store:
            self.query_one("#device-empty", Static).update(EMPTY_STORE_TEXT)
        elif no_match:
            self.query_one("#device-empty", Static).update(
                f"No device matches [b]{escape(self.device_filter.describe())}[/b]."
                "  Press [b]esc[/b] to clear the filter."
            )
        self.set_class(empty_store, "-empty-store")
        self.set_class(no_match, "-no-match")
        if store_emptiness_changed:  # "/" is offered only when there is something to filter
            self.refresh_bindings()

    def _count_text(self) -> str:
        count = len(self.all_devices)
        return f"{count:,} device" if count == 1 else f"{count:,} devices"

    def _update_sub_title(self) -> None:
        # The count first: a long URL is cut at the right edge of the header, the count is not.
        self.sub_title = f"{self._count_text() if self.loaded else 'loading…'} · {self.store.display_url}"

    # -- actions ------------------------------------------------------------------------------

    @on(Input.Changed, "#device-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.device_filter = replace(self.device_filter, text=event.value)

    @on(Input.Submitted, "#device-filter")
    def _filter_submitted(self) -> None:
        # Type, then enter: the cursor goes to the (now short) list.
        self._focus_table()

    @on(Select.Changed)
    def _facet_changed(self, event: Select.Changed) -> None:
        if self._filling_facets or not isinstance(event.select, FacetSelect) or event.select.id is None:
            return
        facet = event.select.id.removeprefix("facet-")
        value = None if event.value is Select.NULL else str(event.value)
        self.device_filter = replace(self.device_filter, **{facet: value})

    @on(DeviceTable.Selected)
    def _device_selected(self, event: DeviceTable.Selected) -> None:
        self.open_device(event.device)

    def open_device(self, device: DeviceRow) -> None:
        """Push the device screen for ``device``."""
        self.app.push_screen(DeviceDetailScreen(self.store, device))

    def set_facet(self, facet: str, value: str | None) -> None:
        """Pick ``value`` (None: any) in the facet's select, as the operator would."""
        select = self.query_one(f"#facet-{facet}", FacetSelect)
        if value is None:
            select.clear()
        else:
            select.value = value

    def action_focus_filter(self) -> None:
        """Put the cursor in the filter box."""
        # set_focus now rather than focus(), which waits: the next key must find the box focused.
        self.set_focus(self.query_one("#device-filter", Input))

    def action_clear_filter(self) -> None:
        """Empty the filter box and the facets, and go back to the table."""
        self.query_one("#device-filter", Input).clear()
        for facet in FACETS:
            self.query_one(f"#facet-{facet}", FacetSelect).clear()
        self.device_filter = DeviceFilter()
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
            return not self.device_filter.is_empty or isinstance(self.focused, Input)
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
