"""Approvals: the queue of executions waiting for an approver, what each will change on each
device (rendered configuration, and its diff against the device's latest backup), and the
decision with a comment. Only approvers and admins are offered the decision, and never on
their own requests (the engine refuses both anyway)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState

from nettui.tui.screens import ScreenCommand
from nettui.tui.screens.executions import ExecutionRow, PolledScreen, describe_error, execution_rows
from nettui.tui.widgets.badges import local_time
from nettui.tui.widgets.code import config_syntax, diff_renderable, titled
from nettui.tui.widgets.dialogs import CommentDialog
from nettui.tui.widgets.tables import FilterableTable, LiveTable, Row

if TYPE_CHECKING:
    from catalog.store import Store
    from nettui.engine.preview import ChangePreview
    from nettui.tui.app import NettuiApp

PREVIEW_GROUP = "preview"


def load_queue(store: Store) -> list[ExecutionRow]:
    """Executions awaiting approval, oldest first. Blocking."""
    from nettui.engine.approvals import awaiting_approval

    with store.read_session() as session:
        return execution_rows(session, awaiting_approval(session))


def load_preview(store: Store, execution_id: int) -> list[ChangePreview]:
    from nettui.engine.preview import preview_execution

    with store.read_session() as session:
        return preview_execution(session, execution_id)


class ApprovalsScreen(PolledScreen):
    """The approval queue, with what each request will change."""

    AUTO_FOCUS = "#queue LiveTable"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "a", "approve", "Approve", id="approvals.approve", tooltip="Approve the selected request, with a comment."
        ),
        Binding("x", "reject", "Reject", id="approvals.reject", tooltip="Reject the selected request, with a comment."),
        Binding("o", "open", "Open", id="approvals.open", tooltip="Open the execution: its steps and audit trail."),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.queue: list[ExecutionRow] = []
        self.previews: dict[int, list[ChangePreview]] = {}
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="approvals-pane"):
            yield FilterableTable(
                [("id", "ID"), ("workflow", "WORKFLOW"), ("by", "BY"), ("devices", "DEVICES"), ("since", "SINCE")],
                placeholder="filter by workflow, requester or device",
                empty_text="Nothing waits for approval.",
                id="queue",
            )
            with VerticalScroll(id="approval-detail"):
                yield Static(id="approval-body")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Approvals"
        self.query_one("#approval-body", Static).update(Text("Nothing selected.", style="dim"))

    def read(self) -> list[ExecutionRow]:
        return load_queue(self.store)

    def show(self, data: list[ExecutionRow]) -> None:
        self.queue = data
        self.query_one("#queue", FilterableTable).set_rows(
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
                    search=r.search,
                )
                for r in data
            ]
        )
        self.query_one("#queue LiveTable", LiveTable).border_subtitle = f"{len(data)} waiting"
        self.sub_title = f"Approvals · {len(data)} waiting"
        self._show_selected()
        self.refresh_bindings()

    # -- the selected request -------------------------------------------------------------------

    def selected(self) -> ExecutionRow | None:
        key = self.query_one("#queue LiveTable", LiveTable).current_key
        return next((r for r in self.queue if str(r.id) == key), None)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_selected()
        self.refresh_bindings()

    def _show_selected(self) -> None:
        """Show the selected request with what it changes (rendered in a worker, once)."""
        row = self.selected()
        previews = self.previews.get(row.id) if row is not None else None
        # Redraw only when something shown changes, so the scroll position stays put.
        state = (row, previews is not None, self.app.current_theme.name)
        if state == self._shown:
            return
        self._shown = state
        body = self.query_one("#approval-body", Static)
        if row is None:
            body.update(Text("Nothing selected.", style="dim"))
            return
        body.update(self._body(row, previews))
        if previews is None:
            self.load_preview(row.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group=PREVIEW_GROUP, description="rendering the change")
    def load_preview(self, execution_id: int) -> tuple[int, list[ChangePreview]]:
        return execution_id, load_preview(self.store, execution_id)

    @on(Worker.StateChanged)
    def _preview_loaded(self, event: Worker.StateChanged) -> None:
        if event.worker.group != PREVIEW_GROUP:
            return
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            execution_id, previews = event.worker.result
            self.previews[execution_id] = previews
            self._show_selected()
        elif event.state == WorkerState.ERROR:
            self.query_one("#approval-body", Static).update(
                Text(f"Cannot show what it changes: {describe_error(event.worker.error)}", style="red")
            )

    def _body(self, row: ExecutionRow, previews: list[ChangePreview] | None) -> RenderableType:
        app: NettuiApp = self.app  # type: ignore[assignment]
        theme = "ansi_dark" if app.current_theme.dark else "ansi_light"
        head = Text.assemble((f"#{row.id} {row.workflow}", "bold"), f"  ({row.workflow_slug})")
        head.append(f"\nrequested by {row.requested_by} · {local_time(row.created_at)}")
        head.append(f"\n{len(row.devices)} device(s): {', '.join(row.devices)}")
        parts: list[RenderableType] = [head, Text("")]
        if row.requested_by == app.user:
            parts.append(Text("You requested this one: another approver decides.\n", style="bold"))
        elif not app.can_approve:
            parts.append(Text("Only approvers and admins decide.\n", style="dim"))
        if previews is None:
            parts.append(Text("Rendering what it will change…", style="dim"))
            return Group(*parts)
        if not previews:
            parts.append(Text("It sends no configuration to a device (no task steps to render).", style="dim"))
        for preview in previews:
            title = f"{preview.device} · {preview.step}"
            if preview.error:
                parts.append(titled(title, Text(f"cannot render: {preview.error}", style="red")))
                continue
            parts.append(titled(f"{title} · {preview.implementation}", config_syntax(preview.content, theme=theme)))
            if preview.current_config is None:
                parts.append(
                    Text(
                        f"Current configuration of {preview.device}: unknown (no backup yet), so no diff.\n",
                        style="dim italic",
                    )
                )
            else:
                label = (
                    f"Against the backup of {local_time(preview.backup_at)}: {preview.new_lines} new line(s)"
                    if preview.new_lines
                    else f"Against the backup of {local_time(preview.backup_at)}: the device has every line already"
                )
                parts.append(titled(label, diff_renderable(preview.lines, theme=theme)))
        return Group(*parts)

    # -- deciding -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "reject"):
            app: NettuiApp = self.app  # type: ignore[assignment]
            row = self.selected()
            return row is not None and app.can_approve and row.requested_by != app.user
        if action == "open":
            return self.selected() is not None
        return True

    def action_approve(self) -> None:
        """Approve the selected request, with a comment."""
        self._decide(approve=True)

    def action_reject(self) -> None:
        """Reject the selected request, with a comment."""
        self._decide(approve=False)

    def _decide(self, *, approve: bool) -> None:
        row = self.selected()
        if row is None or not self.check_action("approve", ()):
            return
        verb = "Approve" if approve else "Reject"
        prompt = f"{verb} #{row.id} {row.workflow}, requested by {row.requested_by}, on {len(row.devices)} device(s)?"

        def answered(comment: str | None) -> None:
            if comment:
                self._send_decision(row.id, approve, comment)

        self.app.push_screen(
            CommentDialog(f"{verb} #{row.id}", prompt, confirm=verb, variant="success" if approve else "error"),
            answered,
        )

    @work(thread=True, exit_on_error=False, group="decide", description="deciding")
    def _send_decision(self, execution_id: int, approve: bool, comment: str) -> None:
        from nettui.engine.approvals import decide

        app: NettuiApp = self.app  # type: ignore[assignment]
        try:
            decide(self.store, execution_id, app.user, approve=approve, comment=comment)
        except Exception as exc:  # a refusal (NettuiError) or a store error: said, not fatal
            app.call_from_thread(self.notify, describe_error(exc), title="No decision", severity="error", markup=False)
            return
        if approve:
            then = "the embedded engine runs it now" if app.engine is not None else "it runs when an engine picks it up"
            message = f"approved: {then}"
        else:
            message = "rejected"
        app.call_from_thread(self.notify, message, title=f"Execution #{execution_id}", markup=False)
        app.call_from_thread(self.poll)

    def action_open(self) -> None:
        """Open the selected execution."""
        row = self.selected()
        if row is not None:
            app: NettuiApp = self.app  # type: ignore[assignment]
            app.open_execution(row.id)

    def commands(self) -> list[ScreenCommand]:
        out = []
        row = self.selected()
        if row is not None and self.check_action("approve", ()):
            out.append(
                ScreenCommand(f"Approve #{row.id}", f"{row.workflow} by {row.requested_by}", self.action_approve)
            )
            out.append(ScreenCommand(f"Reject #{row.id}", f"{row.workflow} by {row.requested_by}", self.action_reject))
        return out
