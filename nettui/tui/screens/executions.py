"""Executions: every run with status filters, and one run in detail, live.

The list and the detail read the store in thread workers, once a second while they are on
screen (the next read is armed when the last one finished, so reads never pile up). Actions
(cancel, re-run) call the engine's functions, which check who is asking; their refusals are
shown as notifications.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Static, Tab, TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState

from catalog import models as m
from catalog.errors import NettuiError, NotFoundError
from catalog.models.choices import ExecutionStatus, StepStatus
from nettui.tui.screens import ScreenCommand
from nettui.tui.widgets.badges import duration, local_time, status_label, status_text
from nettui.tui.widgets.code import config_syntax, json_syntax, titled
from nettui.tui.widgets.dialogs import ConfirmDialog
from nettui.tui.widgets.tables import FilterableTable, LiveTable, Row

if TYPE_CHECKING:
    from catalog.store import Store
    from nettui.tui.app import NettuiApp

POLL_S = 1.0
LIST_LIMIT = 500
FINAL = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED)

# The list's status filters: tab id -> the statuses it shows (None: all).
STATUS_FILTERS: dict[str, tuple[ExecutionStatus, ...] | None] = {
    "all": None,
    "running": (ExecutionStatus.RUNNING, ExecutionStatus.PENDING, ExecutionStatus.SCHEDULED),
    "awaiting": (ExecutionStatus.AWAITING_APPROVAL,),
    "failed": (ExecutionStatus.FAILED,),
    "completed": (ExecutionStatus.COMPLETED,),
    "cancelled": (ExecutionStatus.CANCELLED,),
}


def describe_error(error: BaseException | None) -> str:
    """A failure in one paragraph, for a notification."""
    if isinstance(error, NettuiError):
        return error.render()
    if error is None:
        return "unknown error"
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


# -- what the screens show, read in one go and detached from the session ------------------------


@dataclass(frozen=True, slots=True)
class ExecutionRow:
    """One execution as the lists show it."""

    id: int
    workflow: str
    workflow_slug: str
    status: str
    requested_by: str
    approved_by: str
    devices: tuple[str, ...]
    dry_run: bool
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    error: str = ""
    steps_done: int = 0
    steps_total: int = 0

    @property
    def search(self) -> str:
        return "\x00".join(
            (
                f"#{self.id}",
                self.workflow,
                self.workflow_slug,
                status_label(self.status),
                self.requested_by,
                *self.devices,
            )
        )

    @property
    def devices_text(self) -> str:
        if len(self.devices) <= 2:
            return ", ".join(self.devices)
        return f"{self.devices[0]}, {self.devices[1]} +{len(self.devices) - 2}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def execution_rows(session: Any, executions: list[m.Execution]) -> list[ExecutionRow]:
    """Rows for loaded executions (workflow, requested_by, approved_by, target_devices loaded),
    with step progress and the first error of each failed one."""
    ids = [e.id for e in executions]
    progress: dict[int, tuple[int, int]] = {}
    errors: dict[int, str] = {}
    if ids:
        counts = session.execute(
            select(m.ExecutionStep.execution_id, m.ExecutionStep.status, func.count())
            .where(m.ExecutionStep.execution_id.in_(ids))
            .group_by(m.ExecutionStep.execution_id, m.ExecutionStep.status)
        ).all()
        for execution_id, status, count in counts:
            done, total = progress.get(execution_id, (0, 0))
            finished = status in (StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED)
            progress[execution_id] = (done + (count if finished else 0), total + count)
        failed = [e.id for e in executions if e.status == ExecutionStatus.FAILED]
        if failed:
            for execution_id, message in session.execute(
                select(m.ExecutionStep.execution_id, m.ExecutionStep.error_message)
                .where(m.ExecutionStep.execution_id.in_(failed), m.ExecutionStep.status == StepStatus.FAILED)
                .order_by(m.ExecutionStep.id)
            ).all():
                errors.setdefault(execution_id, _first_line(message))
    rows = []
    for e in executions:
        done, total = progress.get(e.id, (0, 0))
        error = str(e.context.get("error") or "") or errors.get(e.id, "")
        if e.status == ExecutionStatus.CANCELLED and e.context.get("rejected"):
            error = "rejected"
        rows.append(
            ExecutionRow(
                id=e.id,
                workflow=e.workflow.name,
                workflow_slug=e.workflow.slug,
                status=e.status.value,
                requested_by=e.requested_by.username,
                approved_by=e.approved_by.username if e.approved_by else "",
                devices=tuple(d.name for d in e.target_devices),
                dry_run=bool(e.context.get("dry_run")),
                created_at=e.created_at,
                started_at=e.started_at,
                completed_at=e.completed_at,
                error=error,
                steps_done=done,
                steps_total=total,
            )
        )
    return rows


def _execution_query() -> Any:
    return select(m.Execution).options(
        selectinload(m.Execution.workflow),
        selectinload(m.Execution.requested_by),
        selectinload(m.Execution.approved_by),
        selectinload(m.Execution.target_devices),
    )


def load_executions(
    store: Store, *, statuses: tuple[ExecutionStatus, ...] | None = None, limit: int = LIST_LIMIT
) -> list[ExecutionRow]:
    """The newest executions (of these statuses), newest first. Blocking."""
    with store.read_session() as session:
        query = _execution_query().order_by(m.Execution.id.desc()).limit(limit)
        if statuses:
            query = query.where(m.Execution.status.in_(statuses))
        return execution_rows(session, list(session.scalars(query)))


@dataclass(frozen=True, slots=True)
class StepRow:
    """What one step did on one device."""

    id: int
    order: int
    step: str
    step_type: str
    device: str
    status: str
    implementation: str
    started_at: datetime | None
    completed_at: datetime | None
    logs: str
    rendered: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    error: str


@dataclass(frozen=True, slots=True)
class EventRow:
    """One entry of the audit trail."""

    id: int
    at: datetime | None
    kind: str
    actor: str
    detail: str


@dataclass(frozen=True)
class ExecutionDetail:
    """Everything about one execution, for its screen."""

    row: ExecutionRow
    inputs: dict[str, Any]
    request_form: str
    steps: list[StepRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    changed_devices: tuple[str, ...] = ()

    @property
    def cancel_requested(self) -> bool:
        return any(e.kind == "cancel_requested" for e in self.events)

    @property
    def final(self) -> bool:
        return self.row.status in {s.value for s in FINAL}


def load_execution(store: Store, execution_id: int) -> ExecutionDetail:
    """One execution with its steps and audit trail. Blocking."""
    with store.read_session() as session:
        execution = session.scalars(
            _execution_query()
            .where(m.Execution.id == execution_id)
            .options(
                selectinload(m.Execution.request_form),
                selectinload(m.Execution.steps).selectinload(m.ExecutionStep.workflow_step),
                selectinload(m.Execution.steps).selectinload(m.ExecutionStep.device),
                selectinload(m.Execution.steps).selectinload(m.ExecutionStep.task_implementation),
            )
        ).one_or_none()
        if execution is None:
            raise NotFoundError(f"no execution {execution_id}", hint="see the Executions screen")
        row = execution_rows(session, [execution])[0]
        steps = [
            StepRow(
                id=s.id,
                order=s.order,
                step=s.workflow_step.name if s.workflow_step else "?",
                step_type=s.workflow_step.step_type.value if s.workflow_step else "",
                device=s.device.name if s.device else "",
                status=s.status.value,
                implementation=s.task_implementation.slug if s.task_implementation else "",
                started_at=s.started_at,
                completed_at=s.completed_at,
                logs=s.logs,
                rendered=s.rendered_content,
                inputs=dict(s.inputs or {}),
                outputs=dict(s.outputs or {}),
                error=s.error_message,
            )
            for s in execution.steps
        ]
        events = [
            EventRow(id=ev.id, at=ev.at, kind=ev.kind, actor=ev.actor.username if ev.actor else "", detail=ev.detail)
            for ev in session.scalars(
                select(m.ExecutionEvent)
                .where(m.ExecutionEvent.execution_id == execution_id)
                .options(selectinload(m.ExecutionEvent.actor))
                .order_by(m.ExecutionEvent.id)
            )
        ]
        return ExecutionDetail(
            row=row,
            inputs=dict(execution.inputs),
            request_form=execution.request_form.name if execution.request_form else "",
            steps=steps,
            events=events,
            changed_devices=tuple(execution.context.get("changed_devices") or ()),
        )


def execution_table_rows(app: Any, rows: list[ExecutionRow]) -> list[Row]:
    """The list's cells for each execution (no clock-relative values: they stay still)."""
    out = []
    for r in rows:
        took = duration(r.started_at, r.completed_at) if r.completed_at else ""
        progress = f"{r.steps_done}/{r.steps_total}" if r.steps_total else ""
        workflow = Text(r.workflow) + (Text(" (dry run)", style="dim") if r.dry_run else Text(""))
        out.append(
            Row(
                key=str(r.id),
                cells=(
                    Text(f"#{r.id}", style="bold"),
                    workflow,
                    status_text(app, r.status),
                    Text(r.requested_by),
                    Text(r.devices_text),
                    Text(progress),
                    Text(local_time(r.created_at)),
                    Text(took),
                    Text(r.error, style="red") if r.error else Text(""),
                ),
                search=r.search,
            )
        )
    return out


EXECUTION_COLUMNS = [
    ("id", "ID"),
    ("workflow", "WORKFLOW"),
    ("status", "STATUS"),
    ("by", "BY"),
    ("devices", "DEVICES"),
    ("steps", "STEPS"),
    ("created", "CREATED"),
    ("took", "TOOK"),
    ("error", "ERROR"),
]


class PolledScreen(Screen[None]):
    """A screen that reads the store every second while it is on screen, never overlapping."""

    POLL_GROUP = "poll"

    def __init__(self) -> None:
        super().__init__()
        self._poll_timer: Timer | None = None
        self._active = False

    def on_mount(self) -> None:
        # Status colours come from the theme: read again (and recolour) when it changes.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.poll() if self._active else None)

    def on_screen_resume(self) -> None:
        self._active = True
        self.poll()

    def on_screen_suspend(self) -> None:
        self._active = False
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None

    def poll(self) -> None:
        """Read now (in a thread); the result arrives in ``show``."""
        if self._poll_timer is not None:
            self._poll_timer.stop()
        self._poll_timer = None
        self.run_worker(
            self.read, thread=True, exclusive=True, group=self.POLL_GROUP, exit_on_error=False, description="reading"
        )

    def read(self) -> Any:
        raise NotImplementedError

    def show(self, data: Any) -> None:
        raise NotImplementedError

    def keep_polling(self) -> bool:
        return True

    @on(Worker.StateChanged)
    def _polled(self, event: Worker.StateChanged) -> None:
        if event.worker.group != self.POLL_GROUP:
            return
        if event.state == WorkerState.SUCCESS:
            self.show(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self.read_failed(event.worker.error)
        else:
            return
        if self._active and self.keep_polling() and self._poll_timer is None:
            self._poll_timer = self.set_timer(POLL_S, self.poll)

    def read_failed(self, error: BaseException | None) -> None:
        self.notify(
            f"{describe_error(error)}\nCheck the store with: nettui db status",
            title="Could not read from the store",
            severity="error",
            timeout=10,
            markup=False,
        )


# -- the list -----------------------------------------------------------------------------------


class ExecutionsScreen(PolledScreen):
    """Every execution, newest first, with status filters and a ``/`` filter."""

    AUTO_FOCUS = "LiveTable"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "s",
            "next_status",
            "Status filter",
            id="executions.status",
            tooltip="Show the next status: all, running, awaiting, failed, completed, cancelled.",
        ),
        Binding("enter", "open", "Open", id="executions.open", tooltip="Open the execution under the cursor."),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.rows: list[ExecutionRow] = []
        self.status_filter = "all"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Tabs(*[Tab(name, id=f"status-{name}") for name in STATUS_FILTERS], id="status-tabs")
        yield FilterableTable(
            EXECUTION_COLUMNS,
            placeholder="filter by id, workflow, status, user or device",
            empty_text="No executions yet. Submit one from the Portal (2), or run: nettui run WORKFLOW --device NAME",
            id="executions",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Executions"

    def read(self) -> list[ExecutionRow]:
        return load_executions(self.store)

    def show(self, data: list[ExecutionRow]) -> None:
        self.rows = data
        self._fill()

    def _fill(self) -> None:
        statuses = STATUS_FILTERS[self.status_filter]
        wanted = [r for r in self.rows if statuses is None or r.status in {s.value for s in statuses}]
        table = self.query_one("#executions", FilterableTable)
        table.set_rows(execution_table_rows(self.app, wanted))
        table.table.border_subtitle = f"{len(table.table.shown_rows)} of {len(self.rows)}"
        self.sub_title = f"Executions · {self.status_filter}"

    @on(Tabs.TabActivated, "#status-tabs")
    def _status_chosen(self, event: Tabs.TabActivated) -> None:
        self.status_filter = (event.tab.id or "status-all").removeprefix("status-")
        self._fill()
        self.query_one("#executions LiveTable", LiveTable).focus()  # keys (/, enter) act on the list

    @on(FilterableTable.Filtered)
    def _filtered(self) -> None:
        table = self.query_one("#executions", FilterableTable).table
        table.border_subtitle = f"{len(table.shown_rows)} of {len(self.rows)}"

    def set_status_filter(self, name: str) -> None:
        """Show only executions with the statuses of filter ``name`` (see STATUS_FILTERS)."""
        self.query_one("#status-tabs", Tabs).active = f"status-{name}"

    def action_next_status(self) -> None:
        """Cycle through the status filters."""
        names = list(STATUS_FILTERS)
        self.set_status_filter(names[(names.index(self.status_filter) + 1) % len(names)])

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            app: NettuiApp = self.app  # type: ignore[assignment]
            app.open_execution(int(event.row_key.value))

    def action_open(self) -> None:
        """Open the execution under the cursor."""
        key = self.query_one(LiveTable).current_key
        if key is not None:
            app: NettuiApp = self.app  # type: ignore[assignment]
            app.open_execution(int(key))

    def commands(self) -> list[ScreenCommand]:
        return [
            ScreenCommand(
                f"Executions: show {name}", f"Only {name} executions", lambda n=name: self.set_status_filter(n)
            )
            for name in STATUS_FILTERS
        ]


# -- one execution ------------------------------------------------------------------------------

STEP_COLUMNS = [
    ("order", "#"),
    ("step", "STEP"),
    ("device", "DEVICE"),
    ("status", "STATUS"),
    ("implementation", "IMPLEMENTATION"),
    ("started", "STARTED"),
    ("took", "TOOK"),
]
EVENT_COLUMNS = [("at", "AT"), ("who", "WHO"), ("what", "WHAT"), ("detail", "DETAIL")]


class ExecutionDetailScreen(PolledScreen):
    """One execution: its steps per device (live), each step's logs, rendered configuration,
    outputs and error, its inputs, and its audit trail; cancel and re-run."""

    AUTO_FOCUS = "#steps LiveTable"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", key_display="esc", id="execution.back", tooltip="Back to where you were."),
        Binding(
            "c",
            "cancel_execution",
            "Cancel run",
            id="execution.cancel",
            tooltip="Cancel this execution (asks first): at once if it has not started, else at its next safe point.",
        ),
        Binding(
            "R",
            "rerun",
            "Re-run",
            key_display="shift+r",
            id="execution.rerun",
            tooltip="Run the same workflow again with the same inputs and devices, as you (asks first).",
        ),
    ]

    def __init__(self, store: Store, execution_id: int) -> None:
        super().__init__()
        self.store = store
        self.execution_id = execution_id
        self.detail: ExecutionDetail | None = None
        self._shown_step: tuple[Any, ...] | None = None
        self._cursor_placed = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="execution-summary", markup=False)
        with TabbedContent(id="execution-tabs"):
            with TabPane("Steps", id="tab-steps"), Horizontal(id="steps-pane"):
                yield FilterableTable(
                    STEP_COLUMNS,
                    placeholder="filter by step, device or status",
                    empty_text="No step has run yet.",
                    id="steps",
                )
                with VerticalScroll(id="step-detail"):
                    yield Static(id="step-body")
            with TabPane("Inputs", id="tab-inputs"), VerticalScroll():
                yield Static(id="inputs-body")
            with TabPane("Audit trail", id="tab-events"):
                yield FilterableTable(EVENT_COLUMNS, placeholder="filter the audit trail", id="events")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Execution #{self.execution_id}"
        self.query_one("#execution-summary", Static).update("loading…")

    def read(self) -> ExecutionDetail:
        return load_execution(self.store, self.execution_id)

    def keep_polling(self) -> bool:
        # A finished execution changes no more; one that waits for approval may resume.
        return self.detail is None or not self.detail.final

    def show(self, data: ExecutionDetail) -> None:
        self.detail = data
        row = data.row
        self.sub_title = f"Execution #{row.id} · {row.workflow}"
        self.query_one("#execution-summary", Static).update(self._summary(data))
        steps = self.query_one("#steps", FilterableTable)
        steps.set_rows(
            [
                Row(
                    key=str(s.id),
                    cells=(
                        Text(str(s.order)),
                        Text(s.step),
                        Text(s.device or "—", style="" if s.device else "dim"),
                        status_text(self.app, s.status),
                        Text(s.implementation),
                        Text(local_time(s.started_at, with_date=False)),
                        Text(duration(s.started_at, s.completed_at) if s.completed_at else ""),
                    ),
                    search="\x00".join((s.step, s.device, s.status, s.implementation, s.step_type)),
                )
                for s in data.steps
            ]
        )
        self.query_one("#events", FilterableTable).set_rows(
            [
                Row(
                    key=str(e.id),
                    cells=(Text(local_time(e.at)), Text(e.actor or "engine"), Text(e.kind), Text(e.detail)),
                    search="\x00".join((e.kind, e.actor, e.detail)),
                )
                for e in data.events
            ]
        )
        self.query_one("#inputs-body", Static).update(
            Group(titled("Inputs", json_syntax(data.inputs, theme=self._syntax_theme())))
        )
        if not self._cursor_placed and data.steps:
            # First look: straight at what went wrong, or at what runs now.
            self._cursor_placed = True
            wanted = next((s for s in data.steps if s.status == "failed"), None) or next(
                (s for s in data.steps if s.status == "running"), None
            )
            table = self.query_one("#steps LiveTable", LiveTable)
            if wanted is not None and str(wanted.id) in [r.key for r in table.shown_rows]:
                table.move_cursor(row=[r.key for r in table.shown_rows].index(str(wanted.id)), animate=False)
        self._show_step()
        self.refresh_bindings()

    def _syntax_theme(self) -> str:
        return "ansi_dark" if self.app.current_theme.dark else "ansi_light"

    def _summary(self, data: ExecutionDetail) -> Text:
        r = data.row
        text = Text.assemble((f"#{r.id} ", "bold"), (r.workflow, "bold"), f"  ({r.workflow_slug})  ")
        text.append_text(status_text(self.app, r.status))
        if r.dry_run:
            text.append("  dry run: nothing is sent to devices", style="italic")
        text.append(f"\nrequested by {r.requested_by}")
        if r.approved_by:
            text.append(f" · approved by {r.approved_by}")
        if data.request_form:
            text.append(f" · form: {data.request_form}")
        text.append(f" · {len(r.devices)} device(s): {', '.join(r.devices) or 'none'}")
        text.append(f"\ncreated {local_time(r.created_at)}")
        if r.started_at:
            text.append(f" · started {local_time(r.started_at)}")
        if r.completed_at:
            text.append(f" · ended {local_time(r.completed_at)} · took {duration(r.started_at, r.completed_at)}")
        if data.cancel_requested and not data.final:
            text.append("\ncancel requested: it stops at its next safe point", style="bold")
        if r.error:
            text.append(f"\n{r.error}", style="bold red")
        if data.final and data.changed_devices:
            text.append(f"\nchanged: {', '.join(data.changed_devices)}")
        return text

    def _selected_step(self) -> StepRow | None:
        if self.detail is None:
            return None
        key = self.query_one("#steps LiveTable", LiveTable).current_key
        return next((s for s in self.detail.steps if str(s.id) == key), None)

    def _show_step(self) -> None:
        step = self._selected_step()
        if step is None:
            body: RenderableType = Text("Select a step to see its logs, configuration and outputs.", style="dim")
            state: tuple[Any, ...] | None = None
        else:
            state = (step, self.app.current_theme.name)
            if state == self._shown_step:
                return  # unchanged: leave the scroll position alone
            theme = self._syntax_theme()
            title = Text.assemble((f"{step.order}. {step.step}", "bold"), f"  {step.device}" if step.device else "")
            parts: list[RenderableType] = [title, Text("")]
            if step.error:
                parts.append(titled("Error", Text(step.error, style="red")))
            parts.append(titled("Logs", Text(step.logs.rstrip() or "(none yet)", style="" if step.logs else "dim")))
            if step.rendered:
                parts.append(titled(f"Rendered by {step.implementation}", config_syntax(step.rendered, theme=theme)))
            if step.outputs:
                parts.append(titled("Outputs", json_syntax(step.outputs, theme=theme)))
            if step.inputs:
                parts.append(titled("Inputs", json_syntax(step.inputs, theme=theme)))
            body = Group(*parts)
        if state is None or state != self._shown_step:
            self._shown_step = state
            self.query_one("#step-body", Static).update(body)

    @on(DataTable.RowHighlighted)
    def _step_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.parent is not None and event.data_table.parent.id == "steps":
            self._show_step()

    # -- actions ------------------------------------------------------------------------------

    def action_back(self) -> None:
        """Back to where you were."""
        self.dismiss()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        app: NettuiApp = self.app  # type: ignore[assignment]
        detail = self.detail
        if action == "cancel_execution":
            # The engine decides in the end; the screen offers it only to someone it would accept.
            if detail is None or detail.final or app.read_only:
                return False
            return app.can_approve or detail.row.requested_by == app.user
        if action == "rerun":
            return detail is not None and detail.final and app.can_operate
        return True

    def action_cancel_execution(self) -> None:
        """Cancel this execution, after asking."""
        if self.detail is None:
            return
        row = self.detail.row
        question = (
            f"Cancel execution #{row.id} ({row.workflow}, {status_label(row.status)})?\n"
            "A running execution stops at its next safe point; what it changed stays changed."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._cancel()

        self.app.push_screen(ConfirmDialog("Cancel execution", question, confirm="Cancel it"), answered)

    @work(thread=True, exit_on_error=False, group="action", description="cancelling")
    def _cancel(self) -> None:
        from nettui.engine.approvals import cancel

        app: NettuiApp = self.app  # type: ignore[assignment]
        try:
            status = cancel(self.store, self.execution_id, app.user, reason="cancelled in the TUI")
        except Exception as exc:  # a refusal (NettuiError) or a store error: said, not fatal
            app.call_from_thread(
                self.notify, describe_error(exc), title="Not cancelled", severity="error", markup=False, timeout=10
            )
            return
        message = (
            "cancelled" if status == ExecutionStatus.CANCELLED else "cancel requested: it stops at its next safe point"
        )
        app.call_from_thread(self.notify, message, title=f"Execution #{self.execution_id}", markup=False)
        app.call_from_thread(self.poll)

    def action_rerun(self) -> None:
        """Run the same workflow again with the same inputs and devices, after asking."""
        if self.detail is None:
            return
        row = self.detail.row
        app: NettuiApp = self.app  # type: ignore[assignment]
        question = f"Run {row.workflow} again on {len(row.devices)} device(s) with the same inputs, as {app.user}?" + (
            " (dry run)" if row.dry_run else ""
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._rerun()

        self.app.push_screen(ConfirmDialog("Re-run", question, confirm="Run it"), answered)

    @work(thread=True, exit_on_error=False, group="action", description="submitting")
    def _rerun(self) -> None:
        from nettui.engine.runner import submit

        app: NettuiApp = self.app  # type: ignore[assignment]
        assert self.detail is not None
        row = self.detail.row
        try:
            new_id = submit(
                self.store,
                row.workflow_slug,
                list(row.devices),
                dict(self.detail.inputs),
                requested_by=app.user,
                dry_run=row.dry_run,
            )
        except Exception as exc:  # a refusal (NettuiError) or a store error: said, not fatal
            app.call_from_thread(
                self.notify, describe_error(exc), title="Not submitted", severity="error", markup=False
            )
            return
        app.call_from_thread(self.notify, f"submitted as execution #{new_id}", title="Re-run", markup=False)
        app.call_from_thread(self.app.switch_screen, ExecutionDetailScreen(self.store, new_id))

    def commands(self) -> list[ScreenCommand]:
        out = [ScreenCommand("Back", "Close this execution", self.action_back)]
        if self.check_action("cancel_execution", ()):
            out.append(
                ScreenCommand(f"Cancel execution #{self.execution_id}", "Asks first", self.action_cancel_execution)
            )
        if self.check_action("rerun", ()):
            out.append(
                ScreenCommand(f"Re-run execution #{self.execution_id}", "Same inputs and devices", self.action_rerun)
            )
        return out
