"""Compliance: a device by check matrix of the latest runs, coloured by status and severity,
scores by standard, a cell's missing/extra lines and remediation configuration, remediation
and new runs.

Everything goes through ``nettui.lifecycle.compliance``, as ``nettui compliance`` does: the
matrix and scores are its ``report``, a run is its ``run_compliance`` (against the latest
backups, or live; in a thread worker with progress) and a remediation is its ``remediate``
(the check's remediation workflow or apply-remediation; the execution opens and the embedded
engine runs it).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, ProgressBar, Static
from textual.worker import Worker, WorkerState

from catalog import models as m
from nettui.tui.screens import ScreenCommand
from nettui.tui.screens.executions import PolledScreen, describe_error
from nettui.tui.widgets.badges import local_time
from nettui.tui.widgets.code import config_syntax, json_syntax, titled
from nettui.tui.widgets.dialogs import ConfirmDialog
from nettui.tui.widgets.panes import DetailPane, ProgressLine
from nettui.tui.widgets.tables import fuzzy_match

if TYPE_CHECKING:
    from catalog.store import Store
    from nettui.lifecycle.compliance import ComplianceResult
    from nettui.tui.app import NettuiApp

DETAIL_GROUP = "compliance-detail"
RUN_GROUP = "compliance-run"
HEADER_WIDTH = 16

# A failed check's colour says how much it matters.
SEVERITY_STYLES = {
    "critical": "bold white on red",
    "error": "bold red",
    "warning": "bold yellow",
    "info": "bold cyan",
}
STATUS_CELLS = {
    "passed": ("✔ pass", "green"),
    "failed": ("✖ fail", ""),
    "error": ("! error", "bold magenta"),
    "skipped": ("· skip", "dim"),
}


def cell_text(status: str, severity: str, remediated: bool = False) -> Text:
    """A matrix cell: the status, coloured by status (and by severity when it failed)."""
    label, style = STATUS_CELLS.get(status, (status, ""))
    if status == "failed":
        style = SEVERITY_STYLES.get(severity, "bold red")
    text = Text(label, style=style)
    if remediated:
        text.append(" ⚙", style="bold")
    return text


def score_text(score: float | None) -> Text:
    if score is None:
        return Text("—", style="dim")
    style = "green" if score >= 90 else ("yellow" if score >= 60 else "bold red")
    return Text(f"{score:.1f} %", style=style)


@dataclass
class Matrix:
    """The latest run of each device and check, with the scores (from the lifecycle report)."""

    devices: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    device_scores: dict[str, float | None] = field(default_factory=dict)
    standards: list[dict[str, Any]] = field(default_factory=list)
    score: float | None = None


def load_matrix(store: Store) -> Matrix:
    """The report as a matrix. Blocking."""
    from nettui.lifecycle.compliance import report

    data = report(store)
    matrix = Matrix(standards=list(data["standards"]), score=data["score"])
    for run in data["runs"]:
        matrix.cells[(run["device"], run["check"])] = run
    matrix.devices = sorted({d for d, _ in matrix.cells})
    matrix.checks = sorted({c for _, c in matrix.cells})
    matrix.device_scores = {row["device"]: row["score"] for row in data["devices"]}
    return matrix


def runs_signature(store: Store) -> tuple[Any, ...]:
    """What changes when the matrix would: runs added or removed, runs remediated."""
    from sqlalchemy import func, select

    with store.read_session() as session:
        return tuple(
            session.execute(
                select(
                    func.count(),
                    func.max(m.ComplianceRun.id),
                    func.count(m.ComplianceRun.remediation_execution_id),
                )
            ).one()
        )


def load_run(store: Store, run_id: int) -> dict[str, Any]:
    """One compliance run with what it found, as ``nettui compliance show`` reads it. Blocking."""
    from catalog.errors import NotFoundError

    with store.read_session() as session:
        row = session.get(m.ComplianceRun, run_id)
        if row is None:
            raise NotFoundError(f"no compliance run {run_id}", hint="`nettui compliance report`")
        return {
            "id": row.id,
            "device": row.device.name if row.device else "",
            "check": row.check.slug,
            "check_name": row.check.name,
            "standard": row.check.standard or "custom",
            "severity": row.check.severity.value,
            "remediation_workflow": row.check.remediation_workflow.slug if row.check.remediation_workflow else "",
            "status": row.status.value,
            "run_timestamp": row.run_timestamp,
            "requested_by": row.requested_by.username if row.requested_by else "",
            "remediation_execution": row.remediation_execution_id,
            "result": dict(row.result_data or {}),
        }


class ComplianceScreen(PolledScreen):
    """Devices by checks, scores by standard, drill-down, remediation and new runs."""

    AUTO_FOCUS = "#compliance-matrix"
    DEFAULT_CSS = """
    ComplianceScreen {
        #compliance-scores { height: auto; padding: 0 1; margin: 0 1; background: $boost; }
        #compliance-filter {
            height: 1; border: none; padding: 0 1; margin: 0 1; background: $surface;
            &:focus { background: $boost; }
        }
        #compliance-matrix {
            height: 1fr; margin: 0 1; border: round $border-blurred;
            &:focus { border: round $border; }
        }
        #compliance-empty { display: none; color: $text-muted; padding: 1 2; }
        &.-empty #compliance-empty { display: block; }
        &.-empty #compliance-matrix { display: none; }
        #compliance-detail { height: 1fr; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            key_display="/",
            id="compliance.filter",
            tooltip="Narrow the devices as you type (letters in order match too).",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            key_display="esc",
            id="compliance.clear_filter",
            tooltip="Empty the filter box and go back to the matrix.",
        ),
        Binding(
            "x",
            "remediate",
            "Remediate",
            id="compliance.remediate",
            tooltip="Send the generated remediation of the failed check under the cursor (asks first).",
        ),
        Binding(
            "r",
            "run_checks",
            "Run (backups)",
            id="compliance.run",
            tooltip="Run every check on the devices shown, against their latest backups (no device contact).",
        ),
        Binding(
            "l",
            "run_live",
            "Run (live)",
            id="compliance.run_live",
            tooltip="Run every check on the devices shown, reading each configuration from the device now.",
        ),
        Binding(
            "o",
            "open_execution",
            "Open remediation",
            id="compliance.open",
            tooltip="Open the execution that remediated the run under the cursor.",
        ),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.matrix = Matrix()
        self.filter_text = ""
        self.shown_devices: list[str] = []
        self.shown_checks: list[str] = []
        self.detail: dict[str, Any] | None = None
        self.running = False
        self._drawn: tuple[Any, ...] | None = None
        self._detail_loading: tuple[Any, ...] | None = None
        self._signature: tuple[Any, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="compliance-scores")
        yield Input(placeholder="/  filter devices", id="compliance-filter")
        yield DataTable(id="compliance-matrix", cursor_type="cell", zebra_stripes=True)
        yield Static(
            "No compliance runs yet. Press r to run the checks against the latest backups (or: nettui compliance run).",
            id="compliance-empty",
            markup=False,
        )
        yield DetailPane(title="Run", placeholder="Nothing selected.", id="compliance-detail")
        yield ProgressLine("compliance")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Compliance"

    def keep_polling(self) -> bool:
        return True

    # -- the matrix -----------------------------------------------------------------------------

    def read(self) -> Matrix | None:
        """The matrix, or None when no run was added or remediated since the last read."""
        signature = (runs_signature(self.store), self.app.current_theme.name)
        if signature == self._signature:
            return None
        matrix = load_matrix(self.store)
        self._signature = signature
        return matrix

    def show(self, data: Matrix | None) -> None:
        if data is None:
            return
        self.matrix = data
        self._draw()
        self.refresh_bindings()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#compliance-matrix", DataTable)

    def _draw(self) -> None:
        matrix = self.matrix
        scores = Text("Scores  ", style="bold")
        for row in matrix.standards:
            scores.append(f"{row['standard']} ")
            scores.append_text(score_text(row["score"]))
            scores.append(f" ({row['passed']}/{row['passed'] + row['failed'] + row['error']})   ", style="dim")
        scores.append("overall ", style="bold")
        scores.append_text(score_text(matrix.score))
        self.query_one("#compliance-scores", Static).update(scores)
        devices = [d for d in matrix.devices if not self.filter_text.strip() or fuzzy_match(self.filter_text, d)]
        state = (devices, matrix.checks, matrix.cells, matrix.device_scores, self.app.current_theme.name)
        if state == self._drawn:
            return
        self._drawn = state
        table = self.table
        cursor = table.cursor_coordinate
        current = self.selected_cell()
        if matrix.checks != self.shown_checks:
            table.clear(columns=True)
            table.add_column("DEVICE", key="device")
            for check in matrix.checks:
                label = check if len(check) <= HEADER_WIDTH else check[: HEADER_WIDTH - 1] + "…"
                table.add_column(label, key=check)
            table.add_column("SCORE", key="score")
        else:
            table.clear()
        for device in devices:
            cells: list[Text] = [Text(device, style="bold")]
            for check in matrix.checks:
                run = matrix.cells.get((device, check))
                cells.append(cell_text(run["status"], run["severity"], bool(run["remediated_by"])) if run else Text(""))
            cells.append(score_text(matrix.device_scores.get(device)))
            table.add_row(*cells, key=device)
        self.shown_devices, self.shown_checks = devices, list(matrix.checks)
        if current is not None and current[0] in devices and current[1] in matrix.checks:
            table.move_cursor(
                row=devices.index(current[0]), column=matrix.checks.index(current[1]) + 1, animate=False, scroll=False
            )
        elif devices:
            table.move_cursor(
                row=min(cursor.row, len(devices) - 1),
                column=max(1, min(cursor.column, len(matrix.checks))),
                animate=False,
                scroll=False,
            )
        judged = len(matrix.devices)
        table.border_title = f"{len(devices)}/{judged} device(s), {len(matrix.checks)} check(s)"
        table.border_subtitle = "✔ pass  ✖ fail (colour: severity)  ! error  · skip  ⚙ remediated"
        self.set_class(not matrix.cells, "-empty")
        self._show_selected()

    def selected_cell(self) -> tuple[str, str] | None:
        """(device, check) under the cursor, when it is on a check's column."""
        coordinate = self.table.cursor_coordinate
        if not self.shown_devices or not 0 <= coordinate.row < len(self.shown_devices):
            return None
        if not 1 <= coordinate.column <= len(self.shown_checks):
            return None
        return self.shown_devices[coordinate.row], self.shown_checks[coordinate.column - 1]

    def selected_run(self) -> dict[str, Any] | None:
        cell = self.selected_cell()
        return self.matrix.cells.get(cell) if cell is not None else None

    @on(DataTable.CellHighlighted, "#compliance-matrix")
    def _highlighted(self) -> None:
        self._show_selected()
        self.refresh_bindings()

    @on(DataTable.CellSelected, "#compliance-matrix")
    def _selected(self) -> None:
        if self.selected_run() is not None:
            self.query_one("#compliance-detail", VerticalScroll).focus()

    # -- a cell in detail -----------------------------------------------------------------------

    def _show_selected(self) -> None:
        run = self.selected_run()
        body = self.query_one("#compliance-detail-body", Static)
        pane = self.query_one("#compliance-detail", VerticalScroll)
        if run is None:
            cell = self.selected_cell()
            pane.border_title = "Run"
            body.update(
                Text(
                    f"{cell[1]} does not apply to {cell[0]} (its match rules), or has not run on it."
                    if cell
                    else "Put the cursor on a cell to see what the check found.",
                    style="dim",
                )
            )
            return
        if (
            self.detail is not None
            and self.detail["id"] == run["run_id"]
            and self.detail.get("_stamp")
            == (
                run["status"],
                run["remediated_by"],
            )
        ):
            return
        wanted = (run["run_id"], (run["status"], run["remediated_by"]))
        if wanted == self._detail_loading:
            return
        self._detail_loading = wanted
        self.load_detail(*wanted)

    @work(thread=True, exclusive=True, exit_on_error=False, group=DETAIL_GROUP, description="reading the run")
    def load_detail(self, run_id: int, stamp: tuple[Any, ...]) -> dict[str, Any]:
        return {**load_run(self.store, run_id), "_stamp": stamp}

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != DETAIL_GROUP:
            return
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self._detail_loading = None
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            self.detail = event.worker.result
            self._show_detail()
            self.refresh_bindings()
        elif event.state == WorkerState.ERROR:
            self.query_one("#compliance-detail-body", Static).update(
                Text(f"Cannot read the run: {describe_error(event.worker.error)}", style="red")
            )

    def _show_detail(self) -> None:
        detail = self.detail
        if detail is None:
            return
        app: NettuiApp = self.app  # type: ignore[assignment]
        theme = "ansi_dark" if app.current_theme.dark else "ansi_light"
        result = detail["result"]
        pane = self.query_one("#compliance-detail", VerticalScroll)
        pane.border_title = f"Run #{detail['id']} · {detail['device']} · {detail['check_name']}"
        head = Text.assemble(
            cell_text(detail["status"], detail["severity"]),
            "  ",
            (detail["severity"], SEVERITY_STYLES.get(detail["severity"], "")),
            f"  ·  {detail['standard']}  ·  {detail['check']}  ·  against {result.get('source', '?')}",
        )
        head.append(f"\nrun {local_time(detail['run_timestamp'])}")
        if detail["requested_by"]:
            head.append(f" by {detail['requested_by']}")
        if detail["remediation_execution"]:
            head.append(f"\nremediated by execution #{detail['remediation_execution']} (o opens it)", style="bold")
        parts: list[RenderableType] = [head, Text("")]
        if result.get("error") or result.get("reason"):
            parts.append(Text(str(result.get("error") or result.get("reason")), style="red"))
            if result.get("hint"):
                parts.append(Text(f"What to do: {result['hint']}", style="italic"))
            parts.append(Text(""))

        def lines(title: str, key: str, style: str = "") -> None:
            found = [str(x) for x in result.get(key) or []]
            if found:
                if style:
                    parts.append(titled(f"{title} ({len(found)})", Text("\n".join(found), style=style)))
                else:
                    parts.append(titled(f"{title} ({len(found)})", config_syntax("\n".join(found), theme=theme)))

        lines("Missing", "missing", "red")
        lines("Present but forbidden", "forbidden_present", "red")
        lines("Extra (reported, not failed)", "extra", "yellow")
        if result.get("remediation"):
            via = detail["remediation_workflow"] or "apply-remediation"
            parts.append(
                titled(
                    f"Remediation configuration (through {via})",
                    config_syntax("\n".join(result["remediation"]), theme=theme),
                )
            )
        if result.get("remediation_error"):
            parts.append(Text(str(result["remediation_error"]), style="red"))
        lines("Intended", "intended")
        for key in ("response", "data", "result"):
            if key in result:
                parts.append(titled(key.capitalize(), json_syntax(result[key], theme=theme)))
        if detail["status"] == "failed" and not app.can_operate:
            parts.append(Text("Only operators and up launch a remediation.", style="dim"))
        self.query_one("#compliance-detail-body", Static).update(Group(*parts))

    # -- filter ---------------------------------------------------------------------------------

    @on(Input.Changed, "#compliance-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value
        self._draw()

    @on(Input.Submitted, "#compliance-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def action_focus_filter(self) -> None:
        """Put the cursor in the filter box."""
        self.set_focus(self.query_one("#compliance-filter", Input))

    def action_clear_filter(self) -> None:
        """Empty the filter box and go back to the matrix."""
        self.query_one("#compliance-filter", Input).clear()
        self.filter_text = ""
        self._draw()
        self.table.focus()

    # -- actions --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        app: NettuiApp = self.app  # type: ignore[assignment]
        in_box = self.focused is self.query_one("#compliance-filter", Input)
        if action == "focus_filter":
            return not in_box
        if action == "clear_filter":
            return bool(self.filter_text) or in_box
        if in_box and action in ("remediate", "run_checks", "run_live", "open_execution"):
            return False
        if action == "remediate":
            run = self.selected_run()
            return app.can_operate and run is not None and run["status"] == "failed"
        if action in ("run_checks", "run_live"):
            return app.can_operate and not self.running
        if action == "open_execution":
            run = self.selected_run()
            return run is not None and bool(run["remediated_by"])
        return True

    def action_remediate(self) -> None:
        """Launch the remediation of the failed run under the cursor, after asking."""
        run = self.selected_run()
        if run is None or not self.check_action("remediate", ()):
            return
        count = (
            len(self.detail["result"].get("remediation") or [])
            if self.detail and self.detail["id"] == run["run_id"]
            else None
        )
        lines = f" ({count} line(s))" if count is not None else ""
        question = (
            f"Send the remediation of {run['check']}{lines} to {run['device']} as {self.app.user}?"  # type: ignore[attr-defined]
            " The workflow sends it, then checks the device again live."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._remediate(int(run["run_id"]))

        self.app.push_screen(ConfirmDialog(f"Remediate run #{run['run_id']}", question, confirm="Remediate"), answered)

    @work(thread=True, exit_on_error=False, group="compliance-remediate", description="submitting the remediation")
    def _remediate(self, run_id: int) -> None:
        from nettui.lifecycle.compliance import remediate

        app: NettuiApp = self.app  # type: ignore[assignment]
        try:
            execution_id, status = remediate(self.store, run_id, requested_by=app.user, run=False)
        except Exception as exc:  # a refusal (NettuiError) or a store error: said, not fatal
            app.call_from_thread(
                self.notify, describe_error(exc), title="Not remediated", severity="error", markup=False, timeout=10
            )
            return
        app.call_from_thread(
            self.notify,
            f"execution #{execution_id}: {status.value}",
            title=f"Remediation of run #{run_id}",
            markup=False,
        )
        app.call_from_thread(self.poll)
        app.call_from_thread(app.open_execution, execution_id)

    def action_open_execution(self) -> None:
        """Open the execution that remediated the run under the cursor."""
        run = self.selected_run()
        if run is not None and run["remediated_by"]:
            app: NettuiApp = self.app  # type: ignore[assignment]
            app.open_execution(int(run["remediated_by"]))

    def action_run_checks(self) -> None:
        """Run every check on the devices shown, against their latest backups."""
        self._start_run(live=False)

    def action_run_live(self) -> None:
        """Run every check on the devices shown, reading their configuration now."""
        self._start_run(live=True)

    def _start_run(self, *, live: bool) -> None:
        if not self.check_action("run_live" if live else "run_checks", ()):
            return
        devices = list(self.shown_devices) if self.filter_text.strip() else None
        self.running = True
        self.query_one("#compliance-progress-line").add_class("-running")
        self.query_one("#compliance-bar", ProgressBar).update(total=None, progress=0)
        where = "live" if live else "against the latest backups"
        scope = f"{len(devices)} device(s)" if devices is not None else "every device"
        self.query_one("#compliance-progress", Static).update(f"running the checks on {scope}, {where}…")
        self.refresh_bindings()
        self.run_checks(devices, live)

    @work(thread=True, exclusive=True, exit_on_error=False, group=RUN_GROUP, description="running checks")
    def run_checks(self, devices: list[str] | None, live: bool) -> None:
        from nettui.lifecycle.compliance import run_compliance

        app: NettuiApp = self.app  # type: ignore[assignment]

        def progress(done: int, total: int) -> None:
            app.call_from_thread(self._progress, done, total)

        try:
            result = asyncio.run(
                run_compliance(self.store, devices=devices, live=live, requested_by=app.user, on_progress=progress)
            )
        except Exception as exc:  # a refusal (NettuiError) or a store error: said, not fatal
            app.call_from_thread(self._run_finished, None, describe_error(exc))
            return
        app.call_from_thread(self._run_finished, result, "")

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#compliance-bar", ProgressBar).update(total=total, progress=done)
        self.query_one("#compliance-progress", Static).update(f"[{done}/{total}] checks run")

    def _run_finished(self, result: ComplianceResult | None, error: str) -> None:
        self.running = False
        self.query_one("#compliance-progress-line").remove_class("-running")
        if result is None:
            self.notify(error, title="Checks not run", severity="error", markup=False, timeout=10)
        else:
            bad = any(r["status"] in ("failed", "error") for r in result.runs)
            self.notify(
                result.summary(), title="Compliance", severity="warning" if bad else "information", markup=False
            )
        self.detail = None
        self.poll()
        self.refresh_bindings()

    def commands(self) -> list[ScreenCommand]:
        out = []
        run = self.selected_run()
        if run is not None and self.check_action("remediate", ()):
            out.append(
                ScreenCommand(
                    f"Remediate {run['check']} on {run['device']}",
                    f"run #{run['run_id']}; asks first",
                    self.action_remediate,
                )
            )
        if run is not None and self.check_action("open_execution", ()):
            out.append(
                ScreenCommand(f"Open remediation #{run['remediated_by']}", "The execution", self.action_open_execution)
            )
        if self.check_action("run_checks", ()):
            out.append(
                ScreenCommand("Run compliance checks (backups)", "Every check, latest backups", self.action_run_checks)
            )
            out.append(
                ScreenCommand(
                    "Run compliance checks (live)", "Every check, read from the devices", self.action_run_live
                )
            )
        return out
