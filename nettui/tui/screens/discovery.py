"""Discovery: the discovery jobs (what was probed, what was found, what failed and why), a form
to start one of each kind, and a job's progress live while it runs.

Everything goes through ``nettui.discovery``, as ``nettui discover`` does: the list is its
``list_jobs``, the form's last check and the new job are its ``create_job`` (so a job the CLI
would refuse is refused here with the same words), and the run is its ``run_discovery`` in a
thread worker whose progress events arrive here as messages.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, ProgressBar, Select, Static

from catalog.errors import NettuiError
from catalog.models.choices import UserRole
from nettui.tui.screens import ScreenCommand
from nettui.tui.screens.executions import PolledScreen, describe_error
from nettui.tui.widgets.badges import local_time, status_text
from nettui.tui.widgets.panes import DetailPane, ProgressLine
from nettui.tui.widgets.tables import FilterableTable, LiveTable, Row

if TYPE_CHECKING:
    from catalog.store import Store
    from nettui.discovery import DiscoveryProgress
    from nettui.tui.app import NettuiApp

RUN_GROUP = "discovery-run"
JOBS_SHOWN = 200
ERRORS_SHOWN = 300
PROBED_WIDTH = 34
"""What a job probed, cut to this in the list (the detail pane has it whole)."""
STARTERS = (UserRole.OPERATOR, UserRole.ADMIN)
"""Who may start a discovery (it logs in to whatever answers, and writes devices)."""

KINDS = (
    ("CIDR prefix", "cidr"),
    ("Address range", "ip_range"),
    ("CSV file", "csv_import"),
    ("LLDP crawl from seed devices", "lldp_crawl"),
    ("Controller API (HTTP provider)", "controller_api"),
)
# The form's fields, and the discovery kinds each belongs to.
FIELDS: dict[str, tuple[str, ...]] = {
    "cidr": ("cidr",),
    "range": ("ip_range",),
    "csv": ("csv_import",),
    "seeds": ("lldp_crawl",),
    "depth": ("lldp_crawl",),
    "allowed": ("lldp_crawl",),
    "max_devices": ("lldp_crawl",),
    "controller": ("controller_api",),
    "ports": ("cidr", "ip_range", "lldp_crawl"),
    "groups": ("cidr", "ip_range", "csv_import", "lldp_crawl", "controller_api"),
}
# Where a refusal from nettui.discovery points (its ``where``) -> the field to show it under.
WHERE_FIELDS = {
    "cidr": "cidr",
    "range": "range",
    "csv": "csv",
    "seeds": "seeds",
    "depth": "depth",
    "allowed_prefixes": "allowed",
    "max_devices": "max_devices",
    "controller": "controller",
    "ports": "ports",
    "secrets_groups": "groups",
}
MAX_TARGETS = 65536


# -- what the list shows ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobRow:
    """One discovery job, as ``nettui.discovery.list_jobs`` gives it."""

    id: int
    discovery_type: str
    status: str
    config: dict[str, Any]
    discovered: int
    created: int
    updated: int
    errors: tuple[dict[str, Any], ...]
    requested_by: str
    started: datetime | None
    results: tuple[dict[str, Any], ...] = ()  # every address's outcome, as the run recorded it

    @property
    def where(self) -> str:
        return describe_config(self.discovery_type, self.config)

    @property
    def search(self) -> str:
        return "\x00".join((f"#{self.id}", self.discovery_type, self.status, self.requested_by, self.where))

    @staticmethod
    def of(record: dict[str, Any]) -> JobRow:
        return JobRow(
            id=int(record["id"]),
            discovery_type=str(record["discovery_type"]),
            status=str(record["status"]),
            config=dict(record.get("discovery_config") or {}),
            discovered=int(record.get("devices_discovered") or 0),
            created=int(record.get("devices_created") or 0),
            updated=int(record.get("devices_updated") or 0),
            errors=tuple(record.get("errors") or ()),
            requested_by=str(record.get("requested_by") or ""),
            started=record.get("run_timestamp"),
            results=tuple(record.get("results") or ()),
        )


def describe_config(kind: str, config: dict[str, Any]) -> str:
    """What a job probes, in a few words: ``127.0.0.0/30 ports 22,830``, ``seeds sw1 depth 2``."""
    ports = config.get("ports")
    on_ports = f" ports {ports}" if ports else ""
    if kind == "cidr":
        return f"{config.get('cidr', '')}{on_ports}"
    if kind == "ip_range":
        return f"{config.get('range', '')}{on_ports}"
    if kind == "csv_import":
        return Path(str(config.get("csv", ""))).name
    if kind == "lldp_crawl":
        seeds = ", ".join(str(s) for s in config.get("seeds") or [])
        allowed = ", ".join(str(p) for p in config.get("allowed_prefixes") or [])
        return f"seeds {seeds} depth {config.get('depth', 1)} within {allowed}"
    if kind == "controller_api":
        return f"controller {config.get('controller', '')}"
    return ""


@dataclass
class LiveRun:
    """A job this window runs: its progress and what each address turned out to be."""

    done: int = 0
    total: int = 0
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # address, outcome, detail
    finished: bool = False
    error: str = ""


# -- the screen -----------------------------------------------------------------------------------


class DiscoveryScreen(PolledScreen):
    """Discovery jobs, newest first; the selected job's settings, results and errors; `n` starts one."""

    AUTO_FOCUS = "#discovery-jobs LiveTable"
    DEFAULT_CSS = """
    DiscoveryScreen {
        #discovery-jobs { height: 2fr; margin: 0 1; }
        #discovery-detail { height: 3fr; }
        #discovery-progress-line { height: 1; margin: 0 1; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "n",
            "new",
            "New discovery",
            id="discovery.new",
            tooltip="Start one: a prefix, a range, a CSV file, an LLDP crawl or a controller (operators and admins).",
        ),
        Binding(
            "r",
            "again",
            "Run again",
            id="discovery.again",
            tooltip="Start a new job with the selected job's settings (operators, admins).",
        ),
        Binding(
            "tab",
            "focus_next",
            "Next pane",
            show=False,
            id="discovery.next",
            tooltip="Move between the jobs and the selected job's results.",
        ),
    ]

    class Progressed(Message):
        """A job this window runs moved on (sent from the worker's thread)."""

        def __init__(self, job_id: int, event: DiscoveryProgress) -> None:
            super().__init__()
            self.job_id = job_id
            self.event = event

    class Finished(Message):
        """A job this window ran ended: its record, or why it could not run."""

        def __init__(self, job_id: int, result: dict[str, Any] | None, error: str) -> None:
            super().__init__()
            self.job_id = job_id
            self.result = result
            self.error = error

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.jobs: list[JobRow] = []
        self.live: dict[int, LiveRun] = {}
        self._shown_detail: tuple[Any, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterableTable(
            [
                ("id", "JOB"),
                ("type", "TYPE"),
                ("status", "STATUS"),
                ("where", "PROBED"),
                ("found", "FOUND"),
                ("created", "NEW"),
                ("updated", "UPDATED"),
                ("errors", "ERRORS"),
                ("by", "BY"),
                ("started", "STARTED"),
            ],
            placeholder="filter by type, status, user or what was probed",
            empty_text="No discovery yet. Press n to start one (or: nettui discover --cidr PREFIX --secrets-group G).",
            id="discovery-jobs",
        )
        yield DetailPane(title="Job", placeholder="Pick a job to see its results.", id="discovery-detail")
        yield ProgressLine("discovery")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Discovery"

    # -- reading ----------------------------------------------------------------------------------

    def read(self) -> list[JobRow]:
        from nettui.discovery import list_jobs

        return [JobRow.of(record) for record in list_jobs(self.store, JOBS_SHOWN)]

    def show(self, data: list[JobRow]) -> None:
        self.jobs = data
        table = self.query_one("#discovery-jobs", FilterableTable)
        table.set_rows([self._row(job) for job in data])
        running = sum(job.status == "running" for job in data)
        table.table.border_subtitle = f"{len(data)} job(s)" + (f", {running} running" if running else "")
        self._show_detail()
        self.refresh_bindings()

    def _row(self, job: JobRow) -> Row:
        errors = len(job.errors)
        return Row(
            str(job.id),
            (
                Text(f"#{job.id}", style="bold"),
                Text(job.discovery_type),
                status_text(self.app, job.status),
                Text(job.where if len(job.where) <= PROBED_WIDTH else job.where[: PROBED_WIDTH - 1] + "…"),
                Text(str(job.discovered)),
                Text(str(job.created)),
                Text(str(job.updated)),
                Text(str(errors), style="bold red" if errors else "dim"),
                Text(job.requested_by or "—", style="" if job.requested_by else "dim"),
                Text(local_time(job.started)[:16]),
            ),
            search=job.search,
        )

    def selected(self) -> JobRow | None:
        key = self.query_one("#discovery-jobs LiveTable", LiveTable).current_key
        return next((job for job in self.jobs if str(job.id) == key), None)

    @on(DataTable.RowHighlighted, "#discovery-jobs LiveTable")
    def _highlighted(self) -> None:
        self._show_detail()
        self.refresh_bindings()

    # -- the selected job -------------------------------------------------------------------------

    def _show_detail(self) -> None:
        job = self.selected()
        pane = self.query_one("#discovery-detail", VerticalScroll)
        body = self.query_one("#discovery-detail-body", Static)
        live = self.live.get(job.id) if job is not None else None
        key = (job, live.done if live else None, live.finished if live else None, self.app.current_theme.name)
        if key == self._shown_detail:
            return
        self._shown_detail = key
        if job is None:
            pane.border_title = "Job"
            body.update(Text("Pick a job to see its results.", style="dim"))
            return
        pane.border_title = f"Job #{job.id}: {job.discovery_type}"
        pane.border_subtitle = job.status
        body.update(job_detail(self.app, job, live))

    # -- starting a job ---------------------------------------------------------------------------

    @property
    def may_start(self) -> bool:
        app: NettuiApp = self.app  # type: ignore[assignment]
        return app.role in STARTERS

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new":
            return self.may_start
        if action == "again":
            return self.may_start and self.selected() is not None
        return True

    def action_new(self) -> None:
        """Open the form for a new discovery."""
        if not self.may_start:
            self.notify("Only operators and admins start a discovery.", title="Discovery", severity="warning")
            return
        app: NettuiApp = self.app  # type: ignore[assignment]
        self.app.push_screen(DiscoveryForm(self.store, app.user), self._created)

    def action_again(self) -> None:
        """A new job with the selected job's type and settings."""
        job = self.selected()
        if job is None or not self.may_start:
            return
        self._create_again(job.discovery_type, job.config)

    @work(thread=True, exit_on_error=False, group="discovery-create", description="checking the settings")
    def _create_again(self, kind: str, config: dict[str, Any]) -> None:
        from nettui.discovery import create_job

        app: NettuiApp = self.app  # type: ignore[assignment]
        try:
            job_id = create_job(self.store, kind, config, requested_by=app.user)
        except Exception as exc:  # the settings no longer hold (a group or a file is gone): said
            app.call_from_thread(
                self.notify, describe_error(exc), title="Not started", severity="error", markup=False, timeout=10
            )
            return
        app.call_from_thread(self._created, job_id)

    def _created(self, job_id: int | None) -> None:
        if job_id is None:
            return
        self.live[job_id] = LiveRun()
        self.start(job_id)
        self.poll()
        self.call_after_refresh(self._select, job_id)

    def _select(self, job_id: int, tries: int = 25) -> None:
        """Put the cursor on the new job once the list has it (read every 0.2 s, 5 s at most)."""
        table = self.query_one("#discovery-jobs LiveTable", LiveTable)
        keys = [row.key for row in table.shown_rows]
        if str(job_id) in keys:
            table.move_cursor(row=keys.index(str(job_id)))
        elif tries > 0:
            self.set_timer(0.2, lambda: self._select(job_id, tries - 1) if self.is_attached else None)

    @work(thread=True, exit_on_error=False, group=RUN_GROUP, description="discovering")
    def start(self, job_id: int) -> None:
        """Run the pending job ``job_id`` to its end (in this worker's own event loop)."""
        from nettui.discovery import run_discovery

        def progressed(event: DiscoveryProgress) -> None:
            self.post_message(self.Progressed(job_id, event))

        try:
            result = asyncio.run(run_discovery(self.store, job_id, progress=progressed))
        except Exception as exc:  # a store error, an interruption: said, not fatal
            self.post_message(self.Finished(job_id, None, describe_error(exc)))
            return
        self.post_message(self.Finished(job_id, result, ""))

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        live = self.live.setdefault(message.job_id, LiveRun())
        event = message.event
        live.done, live.total = event.done, event.total
        if event.address is not None:
            live.outcomes.append((event.address, event.outcome, event.detail))
        self._show_progress()
        job = self.selected()
        if job is not None and job.id == message.job_id:
            self._show_detail()

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        live = self.live.setdefault(message.job_id, LiveRun())
        live.finished = True
        live.error = message.error
        result = message.result
        if result is None:
            self.notify(message.error, title=f"Discovery #{message.job_id} stopped", severity="error", markup=False)
        else:
            failed = len(result.get("errors") or [])
            self.notify(
                f"{result['devices_discovered']} device(s) found: {result['devices_created']} new,"
                f" {result['devices_updated']} updated; {failed} address(es) with a reason",
                title=f"Discovery #{message.job_id} {result['status']}",
                severity="information" if result["status"] == "completed" else "error",
                markup=False,
            )
        self._show_progress()
        self.poll()

    def _show_progress(self) -> None:
        running = {job_id: live for job_id, live in self.live.items() if not live.finished}
        line = self.query_one("#discovery-progress-line")
        line.set_class(bool(running), "-running")
        if not running:
            return
        done = sum(live.done for live in running.values())
        total = sum(live.total for live in running.values())
        self.query_one("#discovery-bar", ProgressBar).update(total=max(total, 1), progress=done)
        last = next(
            (live.outcomes[-1] for live in reversed(list(running.values())) if live.outcomes), ("", "started", "")
        )
        jobs = ", ".join(f"#{job_id}" for job_id in running)
        self.query_one("#discovery-progress", Static).update(
            f"discovering ({jobs}): {done}/{total}  {last[0]} {last[1]} {last[2]}".rstrip()
        )

    def commands(self) -> list[ScreenCommand]:
        out = []
        if self.check_action("new", ()):
            out.append(ScreenCommand("New discovery", "A prefix, a range, a CSV file, an LLDP crawl", self.action_new))
        job = self.selected()
        if job is not None and self.check_action("again", ()):
            out.append(ScreenCommand(f"Run discovery #{job.id} again", job.where, self.action_again))
        return out


def job_detail(app: Any, job: JobRow, live: LiveRun | None) -> RenderableType:
    """A job's settings, counts, the devices it found (live while this window runs it, else as
    the job recorded them) and every address's reason for yielding no device."""
    parts: list[RenderableType] = []
    head = Text.assemble(
        ("Probed: ", "bold"),
        job.where or "—",
        "\n",
        ("Secrets groups: ", "bold"),
        ", ".join(job.config.get("secrets_groups") or []) or "— (the seeds' or rows' own)",
        "\n",
        ("Requested by ", "bold"),
        job.requested_by or "unknown",
        (" at ", "bold"),
        local_time(job.started),
        "\n",
        ("Result: ", "bold"),
        f"{job.discovered} device(s) found, {job.created} new, {job.updated} updated, ",
        (f"{len(job.errors)} address(es) with a reason", "bold red" if job.errors else ""),
        "\n",
    )
    parts.append(head)
    if live is not None and (live.outcomes or not live.finished):
        if not live.finished:
            parts.append(Text(f"Running: {live.done}/{live.total} address(es) done\n", style="bold"))
        found = [o for o in live.outcomes if o[1] in ("created", "updated")]
        if found:
            table = Table(box=None, show_header=True, header_style="bold", padding=(0, 1), expand=False)
            table.add_column("ADDRESS")
            table.add_column("DEVICE")
            table.add_column("RESULT")
            for address, outcome, detail in found:
                table.add_row(address, detail, Text(outcome, style="green" if outcome == "created" else "cyan"))
            parts.append(Text(f"Devices ({len(found)})", style="bold underline"))
            parts.append(table)
            parts.append(Text(""))
    elif any(r.get("outcome") in ("created", "updated") for r in job.results):
        recorded = [r for r in job.results if r.get("outcome") in ("created", "updated")]
        table = Table(box=None, show_header=True, header_style="bold", padding=(0, 1), expand=False)
        for column in ("ADDRESS", "DEVICE", "PLATFORM", "SERIAL", "VERSION", "RESULT"):
            table.add_column(column, no_wrap=True)
        for result in recorded[:ERRORS_SHOWN]:
            outcome = str(result.get("outcome"))
            table.add_row(
                str(result.get("address") or "—"),
                str(result.get("device") or ""),
                str(result.get("platform") or ""),
                str(result.get("serial") or ""),
                str(result.get("version") or ""),
                Text(outcome, style="green" if outcome == "created" else "cyan"),
            )
        parts.append(Text(f"Devices ({len(recorded)})", style="bold underline"))
        parts.append(table)
        if len(recorded) > ERRORS_SHOWN:
            more = len(recorded) - ERRORS_SHOWN
            parts.append(Text(f"… and {more} more: nettui discover show {job.id} --json", style="dim"))
        parts.append(Text(""))
    elif job.discovered:
        parts.append(
            Text(
                "The devices found are in the inventory (6); the store keeps this job's counts and reasons.\n",
                style="dim",
            )
        )
    if job.errors:
        table = Table(box=None, show_header=True, header_style="bold", padding=(0, 1), expand=True)
        table.add_column("ADDRESS", no_wrap=True)
        table.add_column("STAGE", no_wrap=True)
        table.add_column("REASON", ratio=1, overflow="fold")
        for error in job.errors[:ERRORS_SHOWN]:
            table.add_row(
                str(error.get("address") or "—"),
                Text(str(error.get("stage") or ""), style="yellow"),
                Text(str(error.get("reason") or "")),
            )
        parts.append(Text(f"Reasons ({len(job.errors)})", style="bold underline"))
        parts.append(table)
        if len(job.errors) > ERRORS_SHOWN:
            parts.append(
                Text(
                    f"… and {len(job.errors) - ERRORS_SHOWN} more: nettui discover show {job.id} --json",
                    style="dim",
                )
            )
    elif job.status == "completed":
        parts.append(Text("Every address probed yielded a device.", style="green"))
    return Group(*parts)


# -- the form -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormChoices:
    """What the form checks names against, read from the store when it opens."""

    groups: tuple[str, ...]
    controllers: tuple[str, ...]
    devices: frozenset[str]


def load_choices(store: Store) -> FormChoices:
    """The secrets groups, HTTP API provider configs and device names. Blocking."""
    from sqlalchemy import select

    from catalog import models as m

    with store.read_session() as session:
        return FormChoices(
            groups=tuple(session.scalars(select(m.SecretsGroup.name).order_by(m.SecretsGroup.name))),
            controllers=tuple(session.scalars(select(m.ProviderConfig.name).order_by(m.ProviderConfig.name))),
            devices=frozenset(session.scalars(select(m.Device.name))),
        )


def split_list(text: str) -> list[str]:
    """``a, b c`` -> ``["a", "b", "c"]``."""
    return [part for part in text.replace(",", " ").split() if part]


def check_field(name: str, value: str, choices: FormChoices | None) -> str:
    """Why one field's text is wrong, or "" (an empty optional field is fine; required
    fields are checked when the job starts)."""
    from nettui.discovery import DiscoveryConfigError, parse_ports, range_bounds

    value = value.strip()
    if not value:
        return ""
    if name == "cidr":
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            return f"not a prefix: {exc} (e.g. 10.0.0.0/24)"
        if network.num_addresses > MAX_TARGETS:
            return f"{network.num_addresses} addresses, more than {MAX_TARGETS} in one job: split it"
        return ""
    if name in ("range", "ports"):
        try:
            (range_bounds if name == "range" else parse_ports)(value)
        except DiscoveryConfigError as exc:
            return f"{exc.what}: {exc.hint}" if exc.hint else exc.what
        return ""
    if name == "csv":
        path = Path(value).expanduser()
        return "" if path.is_file() else f"no such file: {path}"
    if name in ("depth", "max_devices"):
        low, high = (0, 64) if name == "depth" else (1, 100000)
        if not value.isdigit() or not low <= int(value) <= high:
            return f"a whole number from {low} to {high}"
        return ""
    if name == "allowed":
        for part in split_list(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError as exc:
                return f"not a prefix: {exc}"
        return ""
    if choices is None:
        return ""
    if name == "groups":
        unknown = [g for g in split_list(value) if g not in choices.groups]
        if unknown:
            known = ", ".join(choices.groups) or "none yet: nettui secrets set NAME ..."
            return f"no secrets group {', '.join(unknown)}; known: {known}"
    if name == "controller" and value not in choices.controllers:
        known = ", ".join(choices.controllers) or "none yet"
        return f"no provider config '{value}'; known: {known}"
    if name == "seeds":
        unknown = [s for s in split_list(value) if s not in choices.devices and ":" not in s]
        if unknown:
            return f"no device {', '.join(unknown)} in the inventory; name a device, or give host:port"
    return ""


class DiscoveryForm(ModalScreen[int | None]):
    """The settings of a new discovery, checked as they are typed; Start records the job
    (``create_job``) and dismisses with its id; what the store refuses is shown in place."""

    DEFAULT_CSS = """
    DiscoveryForm {
        align: center middle;
        & > VerticalScroll {
            width: 90;
            max-width: 95%;
            height: auto;
            max-height: 90%;
            padding: 1 2 0 2;
            background: $panel;
            border: round $primary;
            border-title-style: bold;
        }
        .dform-field { height: auto; margin-bottom: 1; }
        .dform-row { height: auto; }
        .dform-label { width: 20; color: $text-muted; }
        .dform-row > Input, .dform-row > Select { width: 1fr; }
        .dform-row > Input.-invalid { background: $error 30%; }
        .dform-error { color: $error; height: auto; padding-left: 20; display: none; &.-shown { display: block; } }
        #discovery-form-error { color: $error; height: auto; display: none; &.-shown { display: block; } }
        #discovery-form-foot { height: auto; margin: 1 0; }
        #discovery-form-hint { width: 1fr; color: $text-muted; padding-top: 1; }
        #discovery-form-foot Button { margin-left: 2; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="discovery_form.cancel", tooltip="Start nothing."),
        Binding(
            "ctrl+s", "start", "Start", id="discovery_form.start", tooltip="Check the settings and start the discovery."
        ),
    ]
    LABELS: ClassVar[dict[str, tuple[str, str]]] = {
        "cidr": ("Prefix *", "10.0.0.0/24"),
        "range": ("Addresses *", "10.0.0.1-10.0.0.20, or 10.0.0.1-20"),
        "csv": ("CSV file *", "/path/to/devices.csv (host, ssh_port, name, platform, secrets_group)"),
        "seeds": ("Seed devices *", "device names (or host:port), separated by commas"),
        "depth": ("Depth", "hops from the seeds (default 1)"),
        "allowed": ("Allowed prefixes *", "follow neighbours only inside these, e.g. 10.0.0.0/16"),
        "max_devices": ("Count limit", "stop after this many devices (default 1000)"),
        "controller": ("Controller *", "the name of an http_api provider config"),
        "ports": ("SSH ports", "22 (default), 22,830 or 10022-10041"),
        "groups": ("Secrets groups", "tried in order, separated by commas"),
    }

    def __init__(self, store: Store, user: str) -> None:
        super().__init__()
        self.store = store
        self.user = user
        self.choices: FormChoices | None = None
        self.starting = False

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = Content("Start a discovery")
            with Horizontal(classes="dform-row dform-field"):
                yield Label("What to probe", classes="dform-label")
                yield Select(KINDS, value="cidr", allow_blank=False, compact=True, id="kind")
            for name, (label, placeholder) in self.LABELS.items():
                with Vertical(classes="dform-field", id=f"field-{name}"):
                    with Horizontal(classes="dform-row"):
                        yield Label(label, classes="dform-label")
                        yield Input(placeholder=placeholder, compact=True, id=f"input-{name}")
                    yield Label("", classes="dform-error", id=f"error-{name}")
            yield Label("", id="discovery-form-error")
            with Horizontal(id="discovery-form-foot"):
                yield Label("enter starts · esc cancels · * required", id="discovery-form-hint")
                yield Button("Cancel", id="cancel")
                yield Button("Start", id="start", variant="primary", tooltip="ctrl+s")

    def on_mount(self) -> None:
        self._show_fields()
        self._load_choices()
        self.query_one("#input-cidr", Input).focus()

    @work(thread=True, exit_on_error=False, description="reading secrets groups and devices")
    def _load_choices(self) -> None:
        try:
            choices = load_choices(self.store)
        except Exception as exc:  # checked again when the job starts: the form stays usable
            self.app.call_from_thread(self._form_error, f"Cannot read the store: {describe_error(exc)}")
            return
        self.app.call_from_thread(self._choices_loaded, choices)

    def _choices_loaded(self, choices: FormChoices) -> None:
        self.choices = choices
        if choices.groups:
            self.query_one("#input-groups", Input).placeholder = f"tried in order; known: {', '.join(choices.groups)}"
        if choices.controllers:
            self.query_one("#input-controller", Input).placeholder = f"known: {', '.join(choices.controllers)}"
        for name in self.LABELS:
            self._check(name)

    @property
    def kind(self) -> str:
        return str(self.query_one("#kind", Select).value)

    def _show_fields(self) -> None:
        for name, kinds in FIELDS.items():
            self.query_one(f"#field-{name}").display = self.kind in kinds
        optional_groups = self.kind in ("csv_import", "lldp_crawl")
        label = "Secrets groups" if optional_groups else "Secrets groups *"
        self.query_one("#field-groups .dform-label", Label).update(label)

    @on(Select.Changed, "#kind")
    def _kind_changed(self) -> None:
        self._show_fields()
        self._form_error("")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("input-")
        if name in self.LABELS:
            self._check(name)

    def _check(self, name: str) -> bool:
        value = self.query_one(f"#input-{name}", Input).value
        problem = check_field(name, value, self.choices)
        self._field_error(name, problem)
        return not problem

    def _field_error(self, name: str, problem: str) -> None:
        error = self.query_one(f"#error-{name}", Label)
        error.update(Content(problem))
        error.set_class(bool(problem), "-shown")
        self.query_one(f"#input-{name}", Input).set_class(bool(problem), "-invalid")

    def _form_error(self, text: str) -> None:
        error = self.query_one("#discovery-form-error", Label)
        error.update(Content(text))
        error.set_class(bool(text), "-shown")

    def config(self) -> dict[str, Any]:
        """The job's ``discovery_config`` from the visible fields (as ``nettui discover`` builds it)."""

        def value(name: str) -> str:
            return self.query_one(f"#input-{name}", Input).value.strip()

        kind = self.kind
        config: dict[str, Any] = {"secrets_groups": split_list(value("groups"))}
        if value("ports") and "ports" in FIELDS and kind in FIELDS["ports"]:
            config["ports"] = value("ports")
        if kind == "cidr":
            config["cidr"] = value("cidr")
        elif kind == "ip_range":
            config["range"] = value("range")
        elif kind == "csv_import":
            config["csv"] = str(Path(value("csv")).expanduser().resolve()) if value("csv") else ""
        elif kind == "controller_api":
            config["controller"] = value("controller")
        elif kind == "lldp_crawl":
            config["seeds"] = split_list(value("seeds"))
            config["depth"] = int(value("depth")) if value("depth").isdigit() else 1
            config["allowed_prefixes"] = split_list(value("allowed"))
            if value("max_devices").isdigit():
                config["max_devices"] = int(value("max_devices"))
        return config

    def action_start(self) -> None:
        """Check every visible field, then record the job."""
        if self.starting:
            return
        visible = [name for name, kinds in FIELDS.items() if self.kind in kinds]
        good = [self._check(name) for name in visible]
        if not all(good):
            self._form_error("Fix the fields marked in red first.")
            return
        self.starting = True
        self._form_error("")
        self.query_one("#start", Button).disabled = True
        self._create(self.kind, self.config())

    @work(thread=True, exit_on_error=False, group="discovery-form", description="recording the job")
    def _create(self, kind: str, config: dict[str, Any]) -> None:
        from nettui.discovery import create_job

        try:
            job_id = create_job(self.store, kind, config, requested_by=self.user)
        except NettuiError as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        except Exception as exc:  # a store error: said in the form, which stays open
            self.app.call_from_thread(self._refused, NettuiError(describe_error(exc)))
            return
        self.app.call_from_thread(self.dismiss, job_id)

    def _refused(self, error: NettuiError) -> None:
        """Show what the discovery module refused under the field it names (or below the form)."""
        self.starting = False
        self.query_one("#start", Button).disabled = False
        text = error.what + (f" ({error.hint})" if error.hint else "")
        field_name = WHERE_FIELDS.get(error.where or "")
        if field_name is None and " needs " in error.what:  # "a cidr discovery needs cidr"
            field_name = WHERE_FIELDS.get(error.what.rsplit(" needs ", 1)[1].strip())
            text = "required"
        if field_name is None:  # names the store does not know
            lowered = error.what.lower()
            field_name = next(
                (
                    name
                    for needle, name in (
                        ("secrets group", "groups"),
                        ("provider config", "controller"),
                        ("start the crawl", "seeds"),
                        ("no such file", "csv"),
                    )
                    if needle in lowered
                ),
                None,
            )
        if field_name is not None and self.query_one(f"#field-{field_name}").display:
            self._field_error(field_name, text)
            self.query_one(f"#input-{field_name}", Input).focus()
            self._form_error("Not started: see the field marked in red.")
        else:
            self._form_error(f"Not started: {error.render()}")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
