"""Home: what runs now, what waits for an approver, what failed lately, and the counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from sqlalchemy import func, select
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static

from catalog import models as m
from catalog.models.choices import ExecutionStatus
from nettui.tui.screens import ScreenCommand
from nettui.tui.screens.executions import (
    ExecutionRow,
    PolledScreen,
    _execution_query,
    execution_rows,
)
from nettui.tui.widgets.badges import STATUS_ICONS, local_time, status_text
from nettui.tui.widgets.tables import LiveTable, Row

if TYPE_CHECKING:
    from catalog.store import Store
    from nettui.tui.app import NettuiApp

RECENT_FAILURES = 10

EMPTY_TEXT = (
    "Nothing has run yet.\n\nAsk for a change in the Portal (2), or run a workflow: nettui run WORKFLOW --device NAME"
)
NO_DEVICES_TEXT = "No devices yet. Add them from an inventory file with: nettui inventory import FILE"


@dataclass(frozen=True)
class HomeData:
    """One reading of the store for Home."""

    counts: dict[str, int]
    running: list[ExecutionRow]
    awaiting: list[ExecutionRow]
    failures: list[ExecutionRow]
    devices: int


def load_home(store: Store) -> HomeData:
    """Counts per status, the running and awaiting executions, the latest failures. Blocking."""
    active = (ExecutionStatus.RUNNING, ExecutionStatus.PENDING, ExecutionStatus.SCHEDULED)
    with store.read_session() as session:
        counts = {
            status.value: count
            for status, count in session.execute(
                select(m.Execution.status, func.count()).group_by(m.Execution.status)
            ).all()
        }
        running = list(
            session.scalars(_execution_query().where(m.Execution.status.in_(active)).order_by(m.Execution.id.desc()))
        )
        awaiting = list(
            session.scalars(
                _execution_query()
                .where(m.Execution.status == ExecutionStatus.AWAITING_APPROVAL)
                .order_by(m.Execution.id)
            )
        )
        failures = list(
            session.scalars(
                _execution_query()
                .where(m.Execution.status == ExecutionStatus.FAILED)
                .order_by(m.Execution.id.desc())
                .limit(RECENT_FAILURES)
            )
        )
        devices = session.scalar(select(func.count()).select_from(m.Device)) or 0
        return HomeData(
            counts=counts,
            running=execution_rows(session, running),
            awaiting=execution_rows(session, awaiting),
            failures=execution_rows(session, failures),
            devices=devices,
        )


class HomeScreen(PolledScreen):
    """Live: running executions, executions awaiting approval, recent failures, counts."""

    AUTO_FOCUS = "#running"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="home.open", tooltip="Open the execution under the cursor."),
        Binding("tab", "focus_next", "Next list", show=False, id="home.next", tooltip="Move to the next list."),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.data: HomeData | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="home-counts")
        with Vertical(id="home-lists"):
            with Horizontal(id="home-top"):
                yield LiveTable(
                    [
                        ("id", "ID"),
                        ("workflow", "WORKFLOW"),
                        ("status", "STATUS"),
                        ("by", "BY"),
                        ("devices", "DEVICES"),
                        ("steps", "STEPS"),
                        ("started", "STARTED"),
                    ],
                    id="running",
                )
                yield LiveTable(
                    [("id", "ID"), ("workflow", "WORKFLOW"), ("by", "BY"), ("devices", "DEVICES"), ("since", "SINCE")],
                    id="awaiting",
                )
            yield LiveTable(
                [
                    ("id", "ID"),
                    ("workflow", "WORKFLOW"),
                    ("by", "BY"),
                    ("devices", "DEVICES"),
                    ("ended", "ENDED"),
                    ("error", "ERROR"),
                ],
                id="failures",
            )
            yield Static(id="home-empty", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.store.display_url
        titles = {"running": "Running", "awaiting": "Awaiting approval", "failures": "Recent failures"}
        for table_id, title in titles.items():
            self.query_one(f"#{table_id}", LiveTable).border_title = title
        self.query_one("#home-lists").loading = True

    def read(self) -> HomeData:
        return load_home(self.store)

    def show(self, data: HomeData) -> None:
        self.data = data
        self.query_one("#home-lists").loading = False
        counts = Text()
        for status in ("running", "pending", "awaiting_approval", "failed", "completed", "cancelled"):
            if counts:
                counts.append("   ")
            number = data.counts.get(status, 0)
            label = status_text(self.app, status, icon=False)
            counts.append(f"{STATUS_ICONS[status]} {number} ", style=label.style if number else "dim")
            counts.append(label.plain, style="" if number else "dim")
        self.query_one("#home-counts", Static).update(counts)
        running = self.query_one("#running", LiveTable)
        running.set_rows(
            [
                Row(
                    str(r.id),
                    (
                        Text(f"#{r.id}", style="bold"),
                        Text(r.workflow),
                        status_text(self.app, r.status),
                        Text(r.requested_by),
                        Text(r.devices_text),
                        Text(f"{r.steps_done}/{r.steps_total}" if r.steps_total else ""),
                        Text(local_time(r.started_at, with_date=False)),
                    ),
                )
                for r in data.running
            ]
        )
        running.border_subtitle = str(len(data.running))
        awaiting = self.query_one("#awaiting", LiveTable)
        awaiting.set_rows(
            [
                Row(
                    str(r.id),
                    (
                        Text(f"#{r.id}", style="bold"),
                        Text(r.workflow),
                        Text(r.requested_by),
                        Text(r.devices_text),
                        Text(local_time(r.created_at)),
                    ),
                )
                for r in data.awaiting
            ]
        )
        awaiting.border_subtitle = str(len(data.awaiting))
        failures = self.query_one("#failures", LiveTable)
        failures.set_rows(
            [
                Row(
                    str(r.id),
                    (
                        Text(f"#{r.id}", style="bold"),
                        Text(r.workflow),
                        Text(r.requested_by),
                        Text(r.devices_text),
                        Text(local_time(r.completed_at)),
                        Text(r.error, style="red"),
                    ),
                )
                for r in data.failures
            ]
        )
        failures.border_subtitle = str(len(data.failures))
        nothing_ran = not data.counts
        empty_text = "\n\n".join(
            t for t in (EMPTY_TEXT if nothing_ran else "", NO_DEVICES_TEXT if not data.devices else "") if t
        )
        self.query_one("#home-empty", Static).update(empty_text)
        self.set_class(bool(empty_text), "-has-advice")

    def _open(self, table: DataTable[object]) -> None:
        if isinstance(table, LiveTable) and table.current_key is not None:
            app: NettuiApp = self.app  # type: ignore[assignment]
            app.open_execution(int(table.current_key))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            app: NettuiApp = self.app  # type: ignore[assignment]
            app.open_execution(int(event.row_key.value))

    def action_open(self) -> None:
        """Open the execution under the cursor."""
        if isinstance(self.focused, LiveTable):
            self._open(self.focused)

    def commands(self) -> list[ScreenCommand]:
        out = []
        app: NettuiApp = self.app  # type: ignore[assignment]
        if self.data is not None:
            for r in self.data.running + self.data.awaiting:
                out.append(
                    ScreenCommand(
                        f"Open execution #{r.id} ({r.workflow})",
                        f"{r.status.replace('_', ' ')}, requested by {r.requested_by}",
                        lambda i=r.id, app=app: app.open_execution(i),
                    )
                )
        return out
