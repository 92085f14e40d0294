"""Lists that update in place and narrow as you type.

``LiveTable`` takes the whole list again on every poll and changes only what differs, so a
refresh every second neither flickers nor moves the cursor. ``FilterableTable`` puts a ``/``
filter box over one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static

Cell = Text | str


@dataclass(frozen=True, slots=True)
class Row:
    """One row: a stable key (an id), the cells, and the text the filter searches."""

    key: str
    cells: tuple[Cell, ...]
    search: str = ""


def _subsequence(term: str, text: str) -> bool:
    position = 0
    for char in term:
        position = text.find(char, position) + 1
        if position == 0:
            return False
    return True


def fuzzy_match(query: str, search: str) -> bool:
    """Whether every whitespace-separated term of ``query`` is found in one field of ``search``
    (fields separated by NUL): as a substring, or as letters in order (``prvacc`` finds
    "provision-access-port"). Case does not matter."""
    fields = search.casefold().split("\x00")
    for term in query.casefold().split():
        if not any(term in field for field in fields) and not any(_subsequence(term, f) for f in fields):
            return False
    return True


def same_cell(before: Cell, after: Cell) -> bool:
    """Whether a cell would look the same: text, and for rich text its styles too (a theme
    change recolours a status without changing its words)."""
    if isinstance(before, Text) and isinstance(after, Text):
        return before.plain == after.plain and str(before.style) == str(after.style) and before.spans == after.spans
    return before == after


class LiveTable(DataTable[Cell]):
    """A row-cursor table fed whole lists by key; only changed cells are redrawn."""

    def __init__(self, columns: Sequence[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self._column_spec = list(columns)
        self.all_rows: list[Row] = []
        self.shown_rows: list[Row] = []
        self.filter_text = ""

    def on_mount(self) -> None:
        for key, label in self._column_spec:
            self.add_column(label, key=key)

    @property
    def current_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if not self.shown_rows or not 0 <= self.cursor_row < len(self.shown_rows):
            return None
        return self.shown_rows[self.cursor_row].key

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Show ``rows`` (those the filter lets through), keeping the cursor on its key."""
        self.all_rows = list(rows)
        self._apply()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._apply()

    def _apply(self) -> None:
        wanted = [r for r in self.all_rows if not self.filter_text.strip() or fuzzy_match(self.filter_text, r.search)]
        keys = [r.key for r in wanted]
        if keys == [r.key for r in self.shown_rows] and self.row_count == len(keys):
            columns = [key for key, _label in self._column_spec]
            for old, new in zip(self.shown_rows, wanted, strict=True):
                for column, before, after in zip(columns, old.cells, new.cells, strict=True):
                    if not same_cell(before, after):
                        self.update_cell(new.key, column, after, update_width=True)
            self.shown_rows = wanted
            return
        current = self.current_key
        row_before = self.cursor_row
        self.clear()
        for row in wanted:
            self.add_row(*row.cells, key=row.key)
        self.shown_rows = wanted
        if current in keys:
            self.move_cursor(row=keys.index(current), animate=False, scroll=False)
        elif wanted:
            self.move_cursor(row=min(row_before, len(wanted) - 1), animate=False, scroll=False)


class FilterableTable(Vertical):
    """A ``LiveTable`` under a one-line filter box: ``/`` to type, ``esc`` to clear."""

    DEFAULT_CSS = """
    FilterableTable {
        height: 1fr;
        & > .table-filter {
            height: 1;
            border: none;
            padding: 0 1;
            background: $surface;
            &:focus { background: $boost; }
        }
        & > LiveTable { height: 1fr; }
        & > .table-empty {
            display: none;
            color: $text-muted;
            padding: 1 2;
        }
        &.-empty > .table-empty { display: block; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            key_display="/",
            id="list.filter",
            tooltip="Narrow the list as you type (letters in order match too).",
            priority=True,  # "/abc" typed in one burst lands in the box
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            key_display="esc",
            id="list.clear_filter",
            tooltip="Empty the filter box and go back to the list.",
        ),
    ]

    filter_text: reactive[str] = reactive("", init=False)
    """What the operator typed in the filter box."""

    class Filtered(Message):
        """The filter changed (so a screen can update its counts)."""

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        *,
        placeholder: str = "filter",
        empty_text: str = "Nothing here.",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._columns = columns
        self._placeholder = placeholder
        self.empty_text = empty_text
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Input(placeholder=f"/  {self._placeholder}", classes="table-filter")
        yield LiveTable(self._columns)
        yield Static(classes="table-empty", markup=False)

    @property
    def table(self) -> LiveTable:
        return self.query_one(LiveTable)

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.loaded = True
        self.table.set_rows(rows)
        self._show_empty()

    def _show_empty(self) -> None:
        empty = self.loaded and not self.table.shown_rows
        if empty:
            text = self.empty_text
            if self.table.all_rows and self.filter_text.strip():
                text = f"Nothing matches '{self.filter_text.strip()}'. Press esc to clear the filter."
            self.query_one(".table-empty", Static).update(text)
        self.set_class(empty, "-empty")

    def watch_filter_text(self, text: str) -> None:
        self.table.set_filter(text)
        self._show_empty()
        self.post_message(self.Filtered())

    @on(Input.Changed, ".table-filter")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value

    @on(Input.Submitted, ".table-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def action_focus_filter(self) -> None:
        """Put the cursor in the filter box."""
        self.screen.set_focus(self.query_one(".table-filter", Input))

    def action_clear_filter(self) -> None:
        """Empty the filter box and go back to the list."""
        self.query_one(".table-filter", Input).clear()
        self.filter_text = ""
        self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        in_box = self.screen.focused is self.query_one(".table-filter", Input)
        if action == "focus_filter":
            return not in_box  # in the box, "/" is a character
        if action == "clear_filter":
            return bool(self.filter_text) or in_box
        return True
