"""Backups: every device with its latest configuration backup, a device's history, the
difference between any two versions (unified or side by side), restore, and new backups.

Everything goes through ``nettui.lifecycle.backup``, as ``nettui backup`` does: the history
and diffs are its ``history``/``resolve_pair``/``unified_diff``, a backup is its
``run_backups`` (in a thread worker, with progress per device) and a restore is its
``restore`` (the restore-config workflow, which asks an approver first; the execution opens).
"""

from __future__ import annotations

import asyncio
import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, ProgressBar, Static
from textual.worker import Worker, WorkerState

from catalog import models as m
from catalog.models.choices import BackupType
from nettui.tui.screens import ScreenCommand
from nettui.tui.screens.executions import PolledScreen, describe_error
from nettui.tui.widgets.badges import local_time
from nettui.tui.widgets.code import config_syntax, titled
from nettui.tui.widgets.dialogs import ConfirmDialog
from nettui.tui.widgets.panes import ProgressLine
from nettui.tui.widgets.tables import FilterableTable, LiveTable, Row

if TYPE_CHECKING:
    from catalog.store import Store
    from nettui.lifecycle.backup import BackupRun, DeviceBackup
    from nettui.tui.app import NettuiApp

HISTORY_GROUP = "backup-history"
DIFF_GROUP = "backup-diff"
BACKUP_GROUP = "backup-run"


@dataclass(frozen=True, slots=True)
class DeviceLine:
    """One device with its latest backup (any type and source), as the list shows it."""

    name: str
    platform: str
    latest_id: int | None
    taken: datetime | None
    backup_type: str
    source: str
    validated: bool | None
    size: int
    versions: int

    @property
    def search(self) -> str:
        return "\x00".join((self.name, self.platform, self.backup_type, self.source))


def load_devices(store: Store) -> list[DeviceLine]:
    """Every device by name with its latest backup and how many versions it has. Blocking."""
    with store.read_session() as session:
        counts = dict(
            session.execute(select(m.BackupRecord.device_id, func.count()).group_by(m.BackupRecord.device_id)).all()
        )
        # The latest running configuration of each device; its latest backup of any kind when it has none.
        latest_ids = dict(
            session.execute(
                select(m.BackupRecord.device_id, func.max(m.BackupRecord.id)).group_by(m.BackupRecord.device_id)
            ).all()
        )
        latest_ids.update(
            session.execute(
                select(m.BackupRecord.device_id, func.max(m.BackupRecord.id))
                .where(
                    m.BackupRecord.backup_type == BackupType.CONFIG,
                    m.BackupRecord.metadata_["source"].as_string() == "running",
                )
                .group_by(m.BackupRecord.device_id)
            ).all()
        )
        latest: dict[int, Any] = {}
        ids = list(latest_ids.values())
        for chunk in [ids[i : i + 500] for i in range(0, len(ids), 500)]:
            for row in session.execute(
                select(
                    m.BackupRecord.id,
                    m.BackupRecord.device_id,
                    m.BackupRecord.backup_timestamp,
                    m.BackupRecord.backup_type,
                    m.BackupRecord.validated,
                    m.BackupRecord.metadata_,
                    func.length(m.BackupRecord.backup_data),
                ).where(m.BackupRecord.id.in_(chunk))
            ):
                latest[row[1]] = row
        out = []
        for device_id, name, platform in session.execute(
            select(m.Device.id, m.Device.name, m.Platform.name)
            .join(m.Platform, m.Device.platform_id == m.Platform.id, isouter=True)
            .order_by(m.Device.name)
        ):
            found = latest.get(device_id)
            if found is None:
                out.append(DeviceLine(name, platform or "", None, None, "", "", None, 0, 0))
                continue
            record_id, _device, taken, backup_type, validated, metadata, length = found
            metadata = metadata or {}
            size = int(metadata.get("size") or length or 0) if backup_type.value != "config" else int(length or 0)
            out.append(
                DeviceLine(
                    name,
                    platform or "",
                    int(record_id),
                    taken,
                    backup_type.value,
                    str(metadata.get("source", "")) if backup_type.value == "config" else "file",
                    bool(validated),
                    size,
                    int(counts.get(device_id, 0)),
                )
            )
        return out


def backups_signature(store: Store) -> tuple[Any, ...]:
    """What changes when the list would: backups added, removed or restored, devices added,
    removed or changed (two aggregate queries, so an unchanged store is not read again)."""
    with store.read_session() as session:
        records = session.execute(
            select(func.count(), func.max(m.BackupRecord.id), func.sum(m.BackupRecord.restore_count))
        ).one()
        devices = session.execute(select(func.count(), func.max(m.Device.id), func.max(m.Device.updated_at))).one()
        return (*records, *devices)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def side_by_side(a_title: str, a: str, b_title: str, b: str) -> RenderableType:
    """Two versions in two columns, changed lines coloured; unchanged runs folded to 3 lines of context."""
    table = Table(show_header=True, header_style="bold", expand=True, box=None, padding=(0, 1))
    table.add_column(a_title, ratio=1, overflow="fold")
    table.add_column(b_title, ratio=1, overflow="fold")
    old, new = a.splitlines(), b.splitlines()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for group in matcher.get_grouped_opcodes(3):
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for left, right in zip(old[i1:i2], new[j1:j2], strict=True):
                    table.add_row(Text(left, style="dim"), Text(right, style="dim"))
                continue
            lefts, rights = old[i1:i2], new[j1:j2]
            for index in range(max(len(lefts), len(rights))):
                left = Text(lefts[index], style="red") if index < len(lefts) else Text("")
                right = Text(rights[index], style="green") if index < len(rights) else Text("")
                table.add_row(left, right)
        table.add_row(Text("⋯", style="dim"), Text("⋯", style="dim"))
    return table


@dataclass(frozen=True)
class DiffView:
    """What the diff pane shows: two versions (or one, alone) of a device."""

    device: str
    older: int | None
    newer: int
    unified: str
    older_text: str
    newer_text: str
    older_label: str
    newer_label: str


def load_diff(store: Store, device: str, older: int | None, newer: int) -> DiffView:
    """The diff between ``older`` and ``newer`` (``older`` None: the version before ``newer``
    of the same source, if there is one). Blocking."""
    from catalog.errors import NettuiError
    from nettui.lifecycle.backup import get_record, resolve_pair, unified_diff

    record = get_record(store, newer)
    if record["backup_type"] != "config":
        label = f"#{newer} {record['backup_type']}"
        return DiffView(device, None, newer, "", "", record["backup_data"], "", label)
    if older is None:
        try:
            older, _ = resolve_pair(store, device, None, newer, record["source"])
        except NettuiError:
            older = None
    label = f"#{newer} {record['source']} {local_time(record['backup_timestamp'])}"
    if older is None:
        return DiffView(device, None, newer, "", "", record["backup_data"], "", label)
    previous = get_record(store, older)
    older_label = f"#{older} {previous['source']} {local_time(previous['backup_timestamp'])}"
    return DiffView(
        device,
        older,
        newer,
        unified_diff(store, older, newer),
        previous["backup_data"],
        record["backup_data"],
        older_label,
        label,
    )


class BackupsScreen(PolledScreen):
    """Devices with their latest backup; a device's versions; diffs; restore; back up now."""

    AUTO_FOCUS = "#backup-devices LiveTable"
    DEFAULT_CSS = """
    BackupsScreen {
        #backups-pane { height: 1fr; margin: 0 1; }
        #backup-left { width: 62; }
        #backup-devices { height: 1fr; }
        #backup-history { height: 12; border: round $border-blurred; &:focus { border: round $border; } }
        #backup-diff {
            height: 1fr;
            padding: 0 1;
            border: round $border-blurred;
            &:focus { border: round $border; }
        }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space",
            "pick",
            "Pick",
            id="backups.pick",
            tooltip="Add the device under the cursor to those to back up, or take it out.",
        ),
        Binding(
            "b",
            "backup",
            "Back up",
            id="backups.backup",
            tooltip="Back up the picked devices now (the device under the cursor when none is picked).",
        ),
        Binding(
            "m",
            "mark",
            "Mark version",
            id="backups.mark",
            tooltip="Compare against this version: the diff goes from the marked version to the one under the cursor.",
        ),
        Binding(
            "v",
            "toggle_view",
            "Unified/side by side",
            id="backups.view",
            tooltip="Show the difference as a unified diff or in two columns side by side.",
        ),
        Binding(
            "c",
            "toggle_config",
            "Diff/config",
            id="backups.config",
            tooltip="Show the whole configuration of the version under the cursor, or its diff.",
        ),
        Binding(
            "r",
            "restore",
            "Restore",
            id="backups.restore",
            tooltip="Bring the device back to the version under the cursor (restore-config workflow; asks first).",
        ),
        Binding(
            "tab",
            "focus_next",
            "Next pane",
            show=False,
            id="backups.next",
            tooltip="Move between the devices, the versions and the diff.",
        ),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.devices: list[DeviceLine] = []
        self.picked: set[str] = set()
        self.history_device: str | None = None
        self.history: list[dict[str, Any]] = []
        self.marked: int | None = None
        self.side_by_side = False
        self.show_config = False
        self.diff: DiffView | None = None
        self.backing_up = False
        self._versions_seen: dict[str, int] = {}
        self._history_loading: str | None = None
        self._signature: tuple[Any, ...] | None = None
        self._diff_loading: tuple[str, int | None, int] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="backups-pane"):
            with Vertical(id="backup-left"):
                yield FilterableTable(
                    [
                        ("device", "DEVICE"),
                        ("taken", "LATEST BACKUP"),
                        ("type", "TYPE"),
                        ("valid", "VALID"),
                        ("size", "SIZE"),
                        ("versions", "VERSIONS"),
                    ],
                    placeholder="filter by device, platform or type",
                    empty_text="No devices in the inventory. Import some with: nettui inventory import FILE",
                    id="backup-devices",
                )
                yield LiveTable(
                    [
                        ("version", "VERSION"),
                        ("taken", "TAKEN"),
                        ("source", "SOURCE"),
                        ("valid", "VALID"),
                        ("lines", "LINES"),
                        ("restored", "RESTORED"),
                    ],
                    id="backup-history",
                )
            with VerticalScroll(id="backup-diff"):
                yield Static(id="backup-diff-body")
        yield ProgressLine("backup")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Backups"
        self.query_one("#backup-history", LiveTable).border_title = "Versions"
        self.query_one("#backup-diff", VerticalScroll).border_title = "Difference"
        self.query_one("#backup-diff-body", Static).update(Text("Pick a device to see its versions.", style="dim"))

    # -- the device list ------------------------------------------------------------------------

    def read(self) -> list[DeviceLine] | None:
        """The devices, or None when nothing changed since the last read (checked cheaply first)."""
        signature = (backups_signature(self.store), self.app.current_theme.name)
        if signature == self._signature:
            return None
        devices = load_devices(self.store)
        self._signature = signature
        return devices

    def show(self, data: list[DeviceLine] | None) -> None:
        if data is None:
            return
        self.devices = data
        self._show_devices()
        backed = sum(1 for d in data if d.latest_id is not None)
        self.query_one(
            "#backup-devices LiveTable", LiveTable
        ).border_subtitle = f"{backed}/{len(data)} device(s) backed up"
        self.sub_title = f"Backups · {backed}/{len(data)} device(s) backed up"
        device = self.selected_device()
        if device is not None and self._versions_seen.get(device.name) != device.versions:
            self._versions_seen[device.name] = device.versions
            self._want_history(device.name, again=True)
        elif device is not None and self.history_device != device.name:
            self._want_history(device.name)
        self.refresh_bindings()

    def _show_devices(self) -> None:
        rows = []
        for d in self.devices:
            valid = Text("")
            if d.validated is not None:
                valid = Text("✔", style="green") if d.validated else Text("✖", style="bold red")
            rows.append(
                Row(
                    d.name,
                    (
                        Text.assemble(("● " if d.name in self.picked else "  ", "bold"), (d.name, "bold")),
                        Text(local_time(d.taken)[:16]) if d.taken else Text("never", style="dim"),
                        Text(d.backup_type if d.source in ("running", "file", "") else f"{d.backup_type} ({d.source})"),
                        valid,
                        Text(human_size(d.size) if d.latest_id else ""),
                        Text(str(d.versions) if d.versions else ""),
                    ),
                    search=d.search,
                )
            )
        self.query_one("#backup-devices", FilterableTable).set_rows(rows)

    def selected_device(self) -> DeviceLine | None:
        key = self.query_one("#backup-devices LiveTable", LiveTable).current_key
        return next((d for d in self.devices if d.name == key), None)

    @on(DataTable.RowHighlighted, "#backup-devices LiveTable")
    @on(FilterableTable.Filtered)
    def _device_highlighted(self) -> None:
        """Another device under the cursor (moved, or the filter put another row where it is)."""
        device = self.selected_device()
        if device is not None and device.name != self.history_device:
            self._want_history(device.name)
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#backup-devices LiveTable")
    def _device_selected(self) -> None:
        self.query_one("#backup-history", LiveTable).focus()

    # -- a device's versions --------------------------------------------------------------------

    def _want_history(self, device: str, *, again: bool = False) -> None:
        """Read ``device``'s versions, unless that read is already under way."""
        if self._history_loading == device and not again:
            return
        self._history_loading = device
        self.load_history(device)

    @work(thread=True, exclusive=True, exit_on_error=False, group=HISTORY_GROUP, description="reading versions")
    def load_history(self, device: str) -> tuple[str, list[dict[str, Any]]]:
        from nettui.lifecycle.backup import history

        return device, history(self.store, device)

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        group = event.worker.group
        if event.state == WorkerState.ERROR and group in (HISTORY_GROUP, DIFF_GROUP):
            self._history_loading = self._diff_loading = None
            self.query_one("#backup-diff-body", Static).update(
                Text(f"Cannot read the backups: {describe_error(event.worker.error)}", style="red")
            )
            return
        if event.state != WorkerState.SUCCESS or event.worker.result is None:
            return
        if group == HISTORY_GROUP:
            device, rows = event.worker.result
            self._history_loading = None
            before = {r["id"] for r in self.history} if device == self.history_device else set()
            if device != self.history_device:
                self.marked = None
                self.diff = None  # another device's diff is not this one's
            self.history_device, self.history = device, rows
            self._show_history()
            if rows and rows[0]["id"] not in before:  # a new device, or a new version: show the newest
                self.query_one("#backup-history", LiveTable).move_cursor(row=0, animate=False)
            self._load_selected_diff()
        elif group == DIFF_GROUP:
            self._diff_loading = None
            self.diff = event.worker.result
            self._show_diff()
        self.refresh_bindings()

    def _show_history(self) -> None:
        table = self.query_one("#backup-history", LiveTable)
        rows = []
        for r in self.history:
            rows.append(
                Row(
                    str(r["id"]),
                    (
                        Text.assemble(
                            ("◆ " if r["id"] == self.marked else "  ", "bold yellow"), (f"#{r['id']}", "bold")
                        ),
                        Text(local_time(r["backup_timestamp"])[:16]),
                        Text(r["source"] if r["backup_type"] == "config" else r["backup_type"]),
                        Text("✔", style="green") if r["validated"] else Text("✖", style="bold red"),
                        Text("" if r["lines"] is None else str(r["lines"])),
                        Text(str(r["restore_count"]) if r["restore_count"] else ""),
                    ),
                    search=str(r["id"]),
                )
            )
        table.set_rows(rows)
        table.border_title = f"Versions of {self.history_device}" if self.history_device else "Versions"
        table.border_subtitle = f"{len(rows)} version(s)"
        if not rows:
            self.diff = None
            self.query_one("#backup-diff-body", Static).update(
                Text(
                    f"{self.history_device} has no backup yet. Press b to back it up now"
                    f" (or: nettui backup run --device {self.history_device}).",
                    style="dim",
                )
            )

    def selected_version(self) -> dict[str, Any] | None:
        key = self.query_one("#backup-history", LiveTable).current_key
        return next((r for r in self.history if str(r["id"]) == key), None)

    @on(DataTable.RowHighlighted, "#backup-history")
    def _version_highlighted(self) -> None:
        self._load_selected_diff()
        self.refresh_bindings()

    def _load_selected_diff(self) -> None:
        version = self.selected_version()
        if version is None or self.history_device is None:
            return
        if self.diff is not None and self.diff.newer == version["id"] and self._wanted_older() == self.diff.older:
            return
        older = self._wanted_older()
        wanted = (self.history_device, older if older != version["id"] else None, int(version["id"]))
        if wanted == self._diff_loading:
            return
        self._diff_loading = wanted
        self.load_diff(*wanted)

    def _wanted_older(self) -> int | None:
        version = self.selected_version()
        if self.marked is not None and version is not None and self.marked != version["id"]:
            return self.marked
        return (
            self.diff.older
            if self.diff is not None and version is not None and self.diff.newer == version["id"]
            else None
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group=DIFF_GROUP, description="comparing versions")
    def load_diff(self, device: str, older: int | None, newer: int) -> DiffView:
        return load_diff(self.store, device, older, newer)

    def _show_diff(self) -> None:
        body = self.query_one("#backup-diff-body", Static)
        pane = self.query_one("#backup-diff", VerticalScroll)
        view = self.diff
        if view is None:
            return
        app: NettuiApp = self.app  # type: ignore[assignment]
        theme = "ansi_dark" if app.current_theme.dark else "ansi_light"
        if self.show_config or view.older is None:
            pane.border_title = f"Configuration {view.newer_label}"
            parts: list[RenderableType] = []
            if view.older is None and not self.show_config:
                parts.append(Text("The first version: nothing to compare with.\n", style="dim italic"))
            parts.append(config_syntax(view.newer_text, theme=theme))
            body.update(Group(*parts))
            return
        pane.border_title = f"{view.older_label} → {view.newer_label}"
        if not view.unified:
            body.update(Text(f"Versions #{view.older} and #{view.newer} are the same.", style="dim"))
        elif self.side_by_side:
            body.update(side_by_side(f"#{view.older}", view.older_text, f"#{view.newer}", view.newer_text))
        else:
            from rich.syntax import Syntax

            added = sum(1 for line in view.unified.splitlines() if line[:1] == "+" and not line.startswith("+++"))
            removed = sum(1 for line in view.unified.splitlines() if line[:1] == "-" and not line.startswith("---"))
            body.update(
                titled(
                    f"{added} line(s) added, {removed} removed",
                    Syntax(view.unified.rstrip("\n"), "diff", theme=theme, background_color="default", word_wrap=True),
                )
            )

    # -- keys -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        app: NettuiApp = self.app  # type: ignore[assignment]
        if action == "restore":
            version = self.selected_version()
            return (
                app.can_operate
                and version is not None
                and version["backup_type"] == "config"
                and version["source"] == "running"
            )
        if action == "backup":
            return app.can_operate and not self.backing_up and (bool(self.picked) or self.selected_device() is not None)
        if action == "pick":
            return self.focused is self.query_one("#backup-devices LiveTable", LiveTable)
        if action in ("mark", "toggle_config"):
            return self.selected_version() is not None
        if action == "toggle_view":
            return self.diff is not None and self.diff.older is not None
        return True

    def action_pick(self) -> None:
        """Add the device under the cursor to those to back up, or take it out."""
        device = self.selected_device()
        if device is None:
            return
        self.picked.symmetric_difference_update({device.name})
        self._show_devices()
        table = self.query_one("#backup-devices LiveTable", LiveTable)
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)
        self.refresh_bindings()

    def action_mark(self) -> None:
        """Compare against the version under the cursor."""
        version = self.selected_version()
        if version is None:
            return
        self.marked = None if self.marked == version["id"] else int(version["id"])
        self._show_history()
        self.diff = None
        self._load_selected_diff()
        self.notify(
            f"the diff now goes from #{self.marked} to the version under the cursor"
            if self.marked
            else "the diff goes from each version's previous one again",
            title="Versions",
        )

    def action_toggle_view(self) -> None:
        """Unified diff, or side by side."""
        self.side_by_side = not self.side_by_side
        self._show_diff()

    def action_toggle_config(self) -> None:
        """The whole configuration, or the diff."""
        self.show_config = not self.show_config
        self._show_diff()

    # -- backing up -----------------------------------------------------------------------------

    def targets(self) -> list[str]:
        if self.picked:
            return sorted(self.picked)
        device = self.selected_device()
        return [device.name] if device is not None else []

    def action_backup(self) -> None:
        """Back up the picked devices (or the one under the cursor) now."""
        if not self.check_action("backup", ()):
            return
        names = self.targets()
        self.backing_up = True
        line = self.query_one("#backup-progress-line")
        line.add_class("-running")
        bar = self.query_one("#backup-bar", ProgressBar)
        bar.update(total=len(names), progress=0)
        self.query_one("#backup-progress", Static).update(f"backing up {len(names)} device(s)…")
        self.refresh_bindings()
        self.run_backup(names)

    @work(thread=True, exclusive=True, exit_on_error=False, group=BACKUP_GROUP, description="backing up")
    def run_backup(self, names: list[str]) -> None:
        from nettui.lifecycle.backup import run_backups

        app: NettuiApp = self.app  # type: ignore[assignment]

        def done(outcome: DeviceBackup, count: int, total: int) -> None:
            what = "collected" if outcome.ok else f"failed: {outcome.error}"
            app.call_from_thread(self._progress, count, total, f"[{count}/{total}] {outcome.device}: {what}")

        try:
            result = asyncio.run(run_backups(self.store, names, on_done=done))
        except Exception as exc:  # a refusal (NettuiError) or a store error: said, not fatal
            app.call_from_thread(self._backup_finished, None, describe_error(exc))
            return
        app.call_from_thread(self._backup_finished, result, "")

    def _progress(self, count: int, total: int, text: str) -> None:
        self.query_one("#backup-bar", ProgressBar).update(total=total, progress=count)
        self.query_one("#backup-progress", Static).update(text)

    def _backup_finished(self, result: BackupRun | None, error: str) -> None:
        self.backing_up = False
        self.query_one("#backup-progress-line").remove_class("-running")
        if result is None:
            self.notify(error, title="Backup not done", severity="error", markup=False, timeout=10)
        else:
            failed = result.failed
            details = "".join(f"\n{d.device}: {d.error}" for d in failed[:5])
            self.notify(
                result.summary() + details,
                title="Backup",
                severity="error" if failed else "information",
                markup=False,
                timeout=10 if failed else 5,
            )
            self.picked.clear()
        self.history_device = None  # read the versions again
        self._history_loading = None
        device = self.selected_device()
        if device is not None:
            self._want_history(device.name, again=True)
        self.poll()
        self.refresh_bindings()

    # -- restoring ------------------------------------------------------------------------------

    def action_restore(self) -> None:
        """Bring the device back to the version under the cursor, after asking."""
        version = self.selected_version()
        if version is None or not self.check_action("restore", ()):
            return
        question = (
            f"Bring {version['device']} back to version #{version['id']} of {local_time(version['backup_timestamp'])}?"
            " nettui reads its live configuration and submits the restore-config workflow with the difference"
            " (lines holding a masked secret are not sent); it may wait for an approver."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._restore(int(version["id"]))

        self.app.push_screen(ConfirmDialog("Restore a backup", question, confirm="Restore"), answered)

    @work(thread=True, exit_on_error=False, group="backup-restore", description="planning the restore")
    def _restore(self, record_id: int) -> None:
        from nettui.lifecycle.backup import restore

        app: NettuiApp = self.app  # type: ignore[assignment]
        app.call_from_thread(self.notify, "reading the live configuration…", title=f"Restore #{record_id}")
        try:
            plan, execution_id, status = restore(self.store, record_id, requested_by=app.user, run=False)
        except Exception as exc:  # a refusal (NettuiError), an unreachable device: said, not fatal
            app.call_from_thread(
                self.notify, describe_error(exc), title="Not restored", severity="error", markup=False, timeout=10
            )
            return
        if execution_id is None:
            app.call_from_thread(
                self.notify,
                f"{plan.device} already has the configuration of version #{record_id}: nothing to send",
                title="Restore",
                markup=False,
            )
            return
        skipped = f"; {len(plan.skipped)} line(s) with a masked secret not sent" if plan.skipped else ""
        app.call_from_thread(
            self.notify,
            f"execution #{execution_id}: {len(plan.lines)} line(s), {status.value if status else '?'}{skipped}",
            title="Restore",
            markup=False,
        )
        app.call_from_thread(app.open_execution, execution_id)

    def commands(self) -> list[ScreenCommand]:
        out = []
        if self.check_action("backup", ()):
            names = self.targets()
            out.append(
                ScreenCommand(
                    f"Back up {', '.join(names[:3])}{' …' if len(names) > 3 else ''}", "Now", self.action_backup
                )
            )
        version = self.selected_version()
        if version is not None and self.check_action("restore", ()):
            out.append(
                ScreenCommand(
                    f"Restore {version['device']} to version #{version['id']}", "Asks first", self.action_restore
                )
            )
        if self.check_action("toggle_view", ()):
            out.append(ScreenCommand("Diff: unified / side by side", "Switch the diff view", self.action_toggle_view))
        if version is not None:
            out.append(ScreenCommand(f"Mark version #{version['id']}", "Diff from it", self.action_mark))
        return out
