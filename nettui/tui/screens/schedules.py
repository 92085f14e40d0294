"""Schedules: workflows that run by themselves, their next run times; pause and resume."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header

from catalog import models as m
from catalog.errors import NettuiError
from nettui.tui.screens import ScreenCommand
from nettui.tui.screens.executions import PolledScreen, describe_error
from nettui.tui.widgets.badges import local_time, status_text
from nettui.tui.widgets.tables import FilterableTable, LiveTable, Row

if TYPE_CHECKING:
    from catalog.store import Store
    from nettui.tui.app import NettuiApp


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    """One schedule as the list shows it."""

    id: int
    name: str
    workflow: str
    trigger: str
    expression: str
    devices: tuple[str, ...]
    requested_by: str
    enabled: bool
    last_fired_at: datetime | None
    next_run: datetime | None
    problem: str = ""

    @property
    def search(self) -> str:
        return "\x00".join((self.name, self.workflow, self.trigger, self.expression, self.requested_by, *self.devices))


def next_run(trigger: str, expression: str, last_fired_at: datetime | None, now: datetime) -> datetime | None:
    """When the schedule fires next: after its last firing if that is still ahead, else from
    now; None when a one-off time has passed. ValueError-like NettuiError for a bad line."""
    from catalog.models.choices import ScheduleTrigger
    from nettui.engine.scheduling import make_trigger

    made = make_trigger(ScheduleTrigger(trigger), expression)
    if last_fired_at is not None:
        after_last = made.get_next_fire_time(last_fired_at, now)
        if after_last is None or after_last >= now:
            return after_last  # type: ignore[no-any-return]
    return made.get_next_fire_time(None, now)  # type: ignore[no-any-return]


def load_schedules(store: Store) -> list[ScheduleRow]:
    """Every schedule by name, with its next run time. Blocking."""
    now = datetime.now(UTC)
    rows = []
    with store.read_session() as session:
        for s in session.scalars(
            select(m.Schedule)
            .options(selectinload(m.Schedule.workflow), selectinload(m.Schedule.requested_by))
            .order_by(m.Schedule.name)
        ):
            problem = ""
            upcoming = None
            if s.enabled:
                try:
                    upcoming = next_run(s.trigger.value, s.expression, s.last_fired_at, now)
                except NettuiError as exc:
                    problem = exc.what
            rows.append(
                ScheduleRow(
                    id=s.id,
                    name=s.name,
                    workflow=s.workflow.name,
                    trigger=s.trigger.value,
                    expression=s.expression,
                    devices=tuple(str(d) for d in s.devices),
                    requested_by=s.requested_by.username,
                    enabled=s.enabled,
                    last_fired_at=s.last_fired_at,
                    next_run=upcoming,
                    problem=problem,
                )
            )
    return rows


class SchedulesScreen(PolledScreen):
    """Every schedule, when it runs next; pause and resume."""

    AUTO_FOCUS = "#schedules LiveTable"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pause", "Pause", id="schedules.pause", tooltip="Stop the selected schedule from firing."),
        Binding("u", "resume", "Resume", id="schedules.resume", tooltip="Let the selected schedule fire again."),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.rows: list[ScheduleRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterableTable(
            [
                ("name", "NAME"),
                ("workflow", "WORKFLOW"),
                ("state", "STATE"),
                ("when", "WHEN"),
                ("next", "NEXT RUN"),
                ("last", "LAST FIRED"),
                ("devices", "DEVICES"),
                ("by", "BY"),
            ],
            placeholder="filter by name, workflow, device or user",
            empty_text=(
                "No schedules. Add one with: nettui schedules add NAME --workflow SLUG --device NAME --cron '0 2 * * *'"
            ),
            id="schedules",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Schedules (they fire inside `nettui engine`)"

    def read(self) -> list[ScheduleRow]:
        return load_schedules(self.store)

    def show(self, data: list[ScheduleRow]) -> None:
        self.rows = data
        table = self.query_one("#schedules", FilterableTable)
        table.set_rows(
            [
                Row(
                    str(r.id),
                    (
                        Text(r.name, style="bold"),
                        Text(r.workflow),
                        status_text(self.app, "enabled" if r.enabled else "paused"),
                        Text(f"{r.trigger} {r.expression}"),
                        Text(r.problem, style="red")
                        if r.problem
                        else Text(local_time(r.next_run) if r.next_run else ("—" if r.enabled else "paused"), style=""),
                        Text(local_time(r.last_fired_at) or "never", style="" if r.last_fired_at else "dim"),
                        Text(", ".join(r.devices)),
                        Text(r.requested_by),
                    ),
                    search=r.search,
                )
                for r in data
            ]
        )
        table.table.border_subtitle = f"{len(data)} schedule(s)"
        self.refresh_bindings()

    def selected(self) -> ScheduleRow | None:
        key = self.query_one("#schedules LiveTable", LiveTable).current_key
        return next((r for r in self.rows if str(r.id) == key), None)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("pause", "resume"):
            app: NettuiApp = self.app  # type: ignore[assignment]
            row = self.selected()
            if row is None or not app.can_operate:
                return False
            return row.enabled if action == "pause" else not row.enabled
        return True

    def action_pause(self) -> None:
        """Stop the selected schedule from firing."""
        self._set(False)

    def action_resume(self) -> None:
        """Let the selected schedule fire again."""
        self._set(True)

    def _set(self, enabled: bool) -> None:
        row = self.selected()
        if row is not None and self.check_action("resume" if enabled else "pause", ()):
            self._write(row.name, enabled)

    @work(thread=True, exit_on_error=False, group="schedule-write", description="saving")
    def _write(self, name: str, enabled: bool) -> None:
        from nettui.engine.scheduling import set_enabled

        try:
            set_enabled(self.store, name, enabled)
        except Exception as exc:  # a refusal (NettuiError) or a store error: said, not fatal
            self.app.call_from_thread(
                self.notify, describe_error(exc), title="Not changed", severity="error", markup=False
            )
            return
        self.app.call_from_thread(
            self.notify, f"{name}: {'resumed' if enabled else 'paused'}", title="Schedule", markup=False
        )
        self.app.call_from_thread(self.poll)

    def commands(self) -> list[ScreenCommand]:
        row = self.selected()
        out = []
        if row is not None and self.check_action("pause", ()):
            out.append(ScreenCommand(f"Pause schedule {row.name}", "Stop it firing", self.action_pause))
        if row is not None and self.check_action("resume", ()):
            out.append(ScreenCommand(f"Resume schedule {row.name}", "Let it fire again", self.action_resume))
        return out
