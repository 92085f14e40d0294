"""Upgrades: the OS upgrade plans, and for the selected one its progress per device (the
steps of its execution, live while it runs), its pre-checks beside its post-checks with the
differences marked (version, interfaces up, LLDP neighbours, routes), and the backup it took.

The screen reads the store's UpgradePlan records; running a plan goes through
``nettui.lifecycle.upgrade`` (as ``nettui upgrade run`` does) when that module offers it.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from catalog import models as m
from catalog.models.choices import UserRole
from nettui.tui.screens import ScreenCommand
from nettui.tui.screens.executions import PolledScreen, describe_error
from nettui.tui.widgets.badges import STATUS_ICONS, STATUS_THEME_COLOURS, local_time
from nettui.tui.widgets.dialogs import ConfirmDialog
from nettui.tui.widgets.panes import DetailPane
from nettui.tui.widgets.tables import FilterableTable, LiveTable, Row

if TYPE_CHECKING:
    from catalog.store import Store
    from nettui.tui.app import NettuiApp

PLANS_SHOWN = 500
RUNNERS = (UserRole.OPERATOR, UserRole.ADMIN)
"""Who may start an upgrade."""
ENDED = ("completed", "failed", "cancelled")
"""Execution statuses after which a plan takes its final status."""

# An upgrade's status -> the execution status whose colour and icon it borrows.
STATUS_LOOKS = {
    "planned": "pending",
    "scheduled": "scheduled",
    "in_progress": "running",
    "completed": "completed",
    "failed": "failed",
    "rolled_back": "paused",
}
# The checks the comparison knows, in the order it shows them, and the names they go by.
CHECKS = {
    "version": "Version",
    "interfaces_up": "Interfaces up",
    "lldp_neighbors": "LLDP neighbours",
    "routes": "Routes",
}
ALIASES = {
    "software_version": "version",
    "os_version": "version",
    "interfaces": "interfaces_up",
    "up_interfaces": "interfaces_up",
    "lldp": "lldp_neighbors",
    "lldp_neighbours": "lldp_neighbors",
    "neighbors": "lldp_neighbors",
    "neighbours": "lldp_neighbors",
    "route": "routes",
    "route_table": "routes",
}
NOT_COMPARED = frozenset(
    {"checked_at", "collected_at", "timestamp", "at", "taken_at", "device", "error", "errors", "ok", "passed"}
)
# Device states of nettui.lifecycle.upgrade (besides the plan's own statuses).
DEVICE_LOOKS = {"pending": "pending", "not_started": "skipped"}


def upgrade_status_text(app: Any, status: str) -> Text:
    """An upgrade status in the colour of its execution look-alike (theme colours)."""
    look = STATUS_LOOKS.get(status) or DEVICE_LOOKS.get(status, status)
    colour = app.theme_variables.get(STATUS_THEME_COLOURS.get(look, ""), "")
    style = f"bold {colour}" if colour.startswith("#") else "dim"
    return Text(f"{STATUS_ICONS.get(look, '?')} {status.replace('_', ' ')}", style=style)


def scope_text(scope: dict[str, Any] | None) -> str:
    """``{"location": "Paris", "tag": ["core"]}`` -> ``scope location=Paris tag=core``."""
    if not scope:
        return "—"
    if isinstance(scope.get("filter"), dict):
        return scope_text(scope["filter"])
    parts = []
    for key, value in sorted(scope.items()):
        values = value if isinstance(value, list) else [value]
        parts.append(f"{key}={','.join(str(v) for v in values)}")
    return "scope " + " ".join(parts)


# -- what the screen shows, read in one go and detached from the session -------------------------


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One upgrade plan, as the list shows it."""

    id: int
    target: str
    device: str | None
    current_version: str
    target_version: str
    status: str
    scheduled: datetime | None
    execution_id: int | None
    execution_status: str
    workflow: str
    updated: datetime | None

    @property
    def search(self) -> str:
        return "\x00".join(
            (f"#{self.id}", self.target, self.current_version, self.target_version, self.status, self.workflow)
        )


@dataclass(frozen=True, slots=True)
class DeviceProgress:
    """One device's part of a plan: its execution steps, and what the upgrade recorded."""

    device: str
    steps: tuple[tuple[str, str], ...]  # (step name, status), in order
    stage: str  # the upgrade's stage, or the step's latest log line: where it is
    status: str
    error: str
    backup_id: int | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanDetail:
    """Everything the detail pane shows about one plan."""

    plan: PlanRow
    scope: dict[str, Any] | None
    pre: dict[str, Any]
    post: dict[str, Any]
    backup: dict[str, Any] | None
    progress: tuple[DeviceProgress, ...]


def _row(plan: m.UpgradePlan) -> PlanRow:
    device = plan.device.name if plan.device is not None else None
    return PlanRow(
        id=plan.id,
        target=device or scope_text(plan.scope_query),
        device=device,
        current_version=plan.current_version,
        target_version=plan.target_version,
        status=plan.status.value,
        scheduled=plan.scheduled_time,
        execution_id=plan.execution_id,
        execution_status=plan.execution.status.value if plan.execution is not None else "",
        workflow=plan.upgrade_workflow.slug if plan.upgrade_workflow is not None else "",
        updated=plan.updated_at,
    )


def load_plans(store: Store, limit: int = PLANS_SHOWN) -> list[PlanRow]:
    """The latest plans, newest first. Blocking."""
    with store.read_session() as session:
        plans = session.scalars(
            select(m.UpgradePlan)
            .options(
                selectinload(m.UpgradePlan.device),
                selectinload(m.UpgradePlan.upgrade_workflow),
                selectinload(m.UpgradePlan.execution),
            )
            .order_by(m.UpgradePlan.id.desc())
            .limit(limit)
        )
        return [_row(plan) for plan in plans]


def device_states(post: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What nettui.lifecycle.upgrade records per device in the post-check results (status,
    stage, error, backup_id, comparison, ...); {} for results of another shape."""
    devices = post.get("devices")
    if not isinstance(devices, dict):
        return {}
    return {str(k): v for k, v in devices.items() if isinstance(v, dict) and "status" in v}


def _progress(
    steps: dict[str, list[tuple[str, str, str, str]]], states: dict[str, dict[str, Any]]
) -> tuple[DeviceProgress, ...]:
    """Per device: its steps (name, status, last log line, error) and its recorded state."""
    out = []
    for name in sorted({*steps, *states}):
        own = steps.get(name, [])
        state = states.get(name, {})
        current = next((s for s in own if s[1] == "running"), None)
        current = current or next((s for s in own if s[1] == "failed"), None) or (own[-1] if own else None)
        status = str(state.get("status") or (current[1] if current else "pending"))
        stage = str(state.get("stage") or "")
        line = current[2] if current else ""
        if line and line != stage and (status in ("in_progress", "running") or not stage):
            stage = f"{stage}: {line}" if stage else line  # the latest log line while it runs
        found = state.get("comparison")
        comparison: dict[str, Any] = found if isinstance(found, dict) else {}
        backup = state.get("backup_id")
        out.append(
            DeviceProgress(
                device=name,
                steps=tuple((s[0], s[1]) for s in own),
                stage=stage,
                status=status,
                error=str(state.get("error") or (current[3] if current else "")).strip(),
                backup_id=backup if isinstance(backup, int) else None,
                problems=tuple(str(p) for p in comparison.get("problems") or ()),
            )
        )
    return tuple(out)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def load_detail(store: Store, plan_id: int) -> PlanDetail | None:
    """One plan with its execution's steps per device and its backup. Blocking."""
    with store.read_session() as session:
        plan = session.get(
            m.UpgradePlan,
            plan_id,
            options=[
                selectinload(m.UpgradePlan.device),
                selectinload(m.UpgradePlan.upgrade_workflow),
                selectinload(m.UpgradePlan.execution),
                selectinload(m.UpgradePlan.backup_reference).selectinload(m.BackupRecord.device),
            ],
        )
        if plan is None:
            return None
        backup = None
        if plan.backup_reference is not None:
            record = plan.backup_reference
            backup = {
                "id": record.id,
                "device": record.device.name,
                "taken": record.backup_timestamp,
                "validated": record.validated,
                "method": record.backup_method,
            }
        steps_by_device: dict[str, list[tuple[str, str, str, str]]] = {}
        if plan.execution_id is not None:
            steps = session.scalars(
                select(m.ExecutionStep)
                .where(m.ExecutionStep.execution_id == plan.execution_id)
                .options(selectinload(m.ExecutionStep.device), selectinload(m.ExecutionStep.workflow_step))
                .order_by(m.ExecutionStep.order, m.ExecutionStep.id)
            ).all()
            for step in steps:
                if step.device is not None:
                    name = step.workflow_step.name if step.workflow_step is not None else f"step {step.order}"
                    steps_by_device.setdefault(step.device.name, []).append(
                        (name, step.status.value, _last_line(step.logs), step.error_message.strip())
                    )
        progress = _progress(steps_by_device, device_states(plan.post_check_results or {}))
        return PlanDetail(
            plan=_row(plan),
            scope=plan.scope_query,
            pre=dict(plan.pre_check_results or {}),
            post=dict(plan.post_check_results or {}),
            backup=backup,
            progress=tuple(progress),
        )


# -- the comparison -------------------------------------------------------------------------------


def same_version(a: str, b: str) -> bool:
    """``17.12.3`` and ``17.12.03`` are the same version (numbers compared as numbers)."""

    def parts(text: str) -> list[str]:
        return [str(int(p)) if p.isdigit() else p.lower() for p in re.findall(r"\d+|[A-Za-z]+", text)]

    return bool(a.strip()) and parts(a) == parts(b)


def _check_name(key: str) -> str:
    return ALIASES.get(key, key)


def _is_checks(value: dict[str, Any]) -> bool:
    """Whether a dict holds checks (rather than devices' checks)."""
    return any(_check_name(key) in CHECKS for key in value)


def per_device(results: dict[str, Any], device: str | None) -> dict[str, dict[str, Any]]:
    """A plan's check results by device: one device's checks as they are, or a mapping of
    device names to checks (also under a ``devices`` key, where a device's entry may be its
    upgrade state with the checks under ``checks``, as nettui.lifecycle.upgrade keeps them)."""
    if not results:
        return {}
    if isinstance(results.get("devices"), dict):
        out = {}
        for name, value in results["devices"].items():
            if isinstance(value, dict) and isinstance(value.get("checks"), dict):
                out[str(name)] = value["checks"]
            elif isinstance(value, dict) and _is_checks(value):
                out[str(name)] = value
        return out
    if _is_checks(results) or not all(isinstance(v, dict) for v in results.values()):
        return {device or "": results}
    return {str(k): v for k, v in results.items()}


def _item_label(item: Any) -> str:
    if isinstance(item, dict):
        return " ".join(str(v) for v in item.values())
    return str(item)


def _items(value: Any) -> list[str] | None:
    """A list-like check as sorted labels; None for a single value."""
    if isinstance(value, list | tuple | set):
        return sorted({_item_label(v) for v in value})
    if isinstance(value, dict):
        return sorted(f"{k}: {_item_label(v)}" for k, v in value.items())
    return None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One check before and after: the values as shown, and what went or came."""

    check: str
    label: str
    before: str
    after: str
    lost: tuple[str, ...]
    gained: tuple[str, ...]
    changed: bool


def compare(pre: dict[str, Any], post: dict[str, Any]) -> list[Comparison]:
    """Every check of ``pre`` and ``post`` (known ones first), side by side."""
    before = {_check_name(k): v for k, v in pre.items() if k not in NOT_COMPARED}
    after = {_check_name(k): v for k, v in post.items() if k not in NOT_COMPARED}
    keys = [k for k in CHECKS if k in before or k in after]
    keys += sorted(k for k in {*before, *after} if k not in CHECKS)
    out = []
    for key in keys:
        a, b = before.get(key), after.get(key)
        label = CHECKS.get(key, key.replace("_", " ").capitalize())
        items_a, items_b = _items(a), _items(b)
        if items_a is not None or items_b is not None:
            set_a, set_b = set(items_a or []), set(items_b or [])
            lost, gained = tuple(sorted(set_a - set_b)), tuple(sorted(set_b - set_a))
            shown_a = "—" if a is None else f"{len(set_a)}"
            shown_b = "—" if b is None else f"{len(set_b)}"
            out.append(
                Comparison(
                    key, label, shown_a, shown_b, lost, gained, bool(lost or gained) or (a is None) != (b is None)
                )
            )
            continue
        shown_a = "—" if a is None else (json.dumps(a) if isinstance(a, bool) else str(a))
        shown_b = "—" if b is None else (json.dumps(b) if isinstance(b, bool) else str(b))
        out.append(Comparison(key, label, shown_a, shown_b, (), (), shown_a != shown_b))
    return out


def comparison_table(pre: dict[str, Any], post: dict[str, Any], target_version: str) -> Table:
    """Pre-checks beside post-checks; a difference in red (lost), yellow (new), or green for
    the version when it became the target."""
    table = Table(show_header=True, header_style="bold", expand=True, box=None, padding=(0, 1))
    table.add_column("CHECK", no_wrap=True)
    table.add_column("BEFORE", ratio=1, overflow="fold")
    table.add_column("AFTER", ratio=1, overflow="fold")
    table.add_column("DIFFERENCE", ratio=2, overflow="fold")
    for row in compare(pre, post):
        if not row.changed:
            table.add_row(
                Text(row.label),
                Text(row.before, style="dim"),
                Text(row.after, style="dim"),
                Text("= same", style="dim"),
            )
            continue
        if row.check == "version":
            good = bool(target_version) and same_version(row.after, target_version)
            style = "bold green" if good else "bold red"
            note = Text("✔ now the target" if good else f"✖ the target is {target_version or '?'}", style=style)
            table.add_row(Text(row.label, style="bold"), Text(row.before), Text(row.after, style=style), note)
            continue
        difference = Text()
        if row.after == "—":
            difference.append("not checked after", style="bold red")
        elif row.before == "—":
            difference.append("not checked before", style="yellow")
        for item in row.lost:
            difference.append(("\n" if difference else "") + f"- {item}", style="bold red")
        for item in row.gained:
            difference.append(("\n" if difference else "") + f"+ {item}", style="yellow")
        if not difference and not row.lost and not row.gained:
            difference.append("changed", style="bold red")
        after_style = "bold red" if row.lost or row.after == "—" else "yellow"
        table.add_row(Text(row.label, style="bold"), Text(row.before), Text(row.after, style=after_style), difference)
    return table


def checks_table(checks: dict[str, Any], waiting: str) -> Table:
    """One side only (the pre-checks while the post-checks are still to come)."""
    table = Table(show_header=True, header_style="bold", expand=True, box=None, padding=(0, 1))
    table.add_column("CHECK", no_wrap=True)
    table.add_column("BEFORE", ratio=1, overflow="fold")
    table.add_column("AFTER", ratio=1, overflow="fold")
    table.add_column("DIFFERENCE", ratio=2, overflow="fold")
    for row in compare(checks, {}):
        table.add_row(Text(row.label), Text(row.before), Text(waiting, style="dim"), Text(""))
    return table


def step_icons(steps: tuple[tuple[str, str], ...]) -> Text:
    text = Text()
    for _name, status in steps:
        colour = {"completed": "green", "failed": "bold red", "running": "bold cyan", "skipped": "dim"}.get(status, "")
        text.append(STATUS_ICONS.get(status, "?"), style=colour)
    return text


def plan_detail(app: Any, detail: PlanDetail) -> RenderableType:
    """The detail pane: summary, progress per device, pre/post comparison, backup."""
    plan = detail.plan
    parts: list[RenderableType] = []
    summary = Text.assemble(
        ("Devices: ", "bold"),
        plan.device or scope_text(detail.scope),
        "\n",
        ("Version: ", "bold"),
        plan.current_version or "?",
        " → ",
        (plan.target_version, "bold"),
        "   ",
        upgrade_status_text(app, plan.status),
        "\n",
        ("Image: ", "bold"),
        str((detail.pre.get("request") or {}).get("image_name") or "—"),
        ("   Workflow: ", "bold"),
        plan.workflow or "—",
        ("   Scheduled: ", "bold"),
        local_time(plan.scheduled) or "—",
        ("   Execution: ", "bold"),
        f"#{plan.execution_id} ({plan.execution_status.replace('_', ' ')}), o or enter opens it"
        if plan.execution_id
        else "— (not run yet)",
        "\n",
    )
    parts.append(summary)
    stopped = str(detail.post.get("stopped") or "")
    if stopped:
        parts.append(Text(f"Stopped starting devices: {stopped}\n", style="bold red"))

    parts.append(Text("Progress per device", style="bold underline"))
    if detail.progress:
        table = Table(show_header=True, header_style="bold", expand=True, box=None, padding=(0, 1))
        table.add_column("DEVICE", no_wrap=True)
        table.add_column("STEPS", no_wrap=True)
        table.add_column("STATUS", no_wrap=True)
        table.add_column("WHERE IT IS", ratio=1, overflow="fold")
        for device in detail.progress:
            where = Text(device.stage or "—", style="" if device.stage else "dim")
            if device.error:
                where = Text(device.error, style="bold red")
            for problem in device.problems:
                where.append(f"\n{problem}", style="red")
            if device.backup_id is not None:
                where.append(f"\nbackup #{device.backup_id}", style="dim")
            table.add_row(
                device.device, step_icons(device.steps), upgrade_status_text(app, _step_look(device.status)), where
            )
        parts.append(table)
    else:
        parts.append(Text("Nothing has run yet.", style="dim"))
    parts.append(Text(""))

    pre = per_device(detail.pre, plan.device)
    post = per_device(detail.post, plan.device)
    parts.append(Text("Pre-checks and post-checks", style="bold underline"))
    if not pre and not post:
        parts.append(Text("No checks yet: the pre-checks run when the upgrade starts.", style="dim"))
    for name in sorted({*pre, *post}):
        if name and (len(pre) > 1 or len(post) > 1 or not plan.device):
            parts.append(Text(name, style="bold"))
        if post.get(name):
            parts.append(comparison_table(pre.get(name, {}), post[name], plan.target_version))
        else:
            parts.append(checks_table(pre.get(name, {}), "no post-checks yet"))
    parts.append(Text(""))

    parts.append(Text("Backup", style="bold underline"))
    backup = detail.backup
    if backup is None:
        parts.append(
            Text("None taken yet (the upgrade backs the configuration up before it changes anything).", style="dim")
        )
    else:
        valid = Text(" validated", style="green") if backup["validated"] else Text(" not validated", style="bold red")
        parts.append(
            Text.assemble(
                (f"#{backup['id']}", "bold"),
                f" of {backup['device']}, taken {local_time(backup['taken'])}",
                valid,
                (f" · in Backups (8): nettui backup show {backup['id']}", "dim"),
            )
        )
    return Group(*parts)


def _step_look(status: str) -> str:
    """A step status as the upgrade status it looks like (for the colours)."""
    return {"running": "in_progress", "pending": "planned"}.get(status, status)


# -- the screen -----------------------------------------------------------------------------------


def upgrade_module() -> Any:
    """``nettui.lifecycle.upgrade`` when it offers what the screen runs plans with, else None."""
    try:
        from nettui.lifecycle import upgrade
    except ImportError:
        return None
    wanted = ("start_plan", "run_plan", "finalize_plan")
    return upgrade if all(callable(getattr(upgrade, name, None)) for name in wanted) else None


def finish_ended_plans(store: Store, plans: list[PlanRow]) -> bool:
    """Give plans whose execution has ended (run by an engine) their final status, as
    nettui.lifecycle.upgrade's own read API does; whether any changed. Blocking."""
    module = upgrade_module()
    ended = [p.id for p in plans if p.status == "in_progress" and p.execution_status in ENDED]
    if module is None or not ended:
        return False
    for plan_id in ended:
        module.finalize_plan(store, plan_id)
    return True


class UpgradesScreen(PolledScreen):
    """Upgrade plans, newest first; the selected plan's progress, checks and backup."""

    AUTO_FOCUS = "#upgrade-plans LiveTable"
    DEFAULT_CSS = """
    UpgradesScreen {
        #upgrade-plans { height: 2fr; margin: 0 1; }
        #upgrade-detail { height: 3fr; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "o",
            "open_execution",
            "Open execution",
            id="upgrades.open",
            tooltip="Show the selected plan's execution: every step per device, its logs and errors.",
        ),
        Binding(
            "r",
            "run",
            "Run",
            id="upgrades.run",
            tooltip="Start the selected plan now (asks first; operators and admins).",
        ),
        Binding(
            "tab",
            "focus_next",
            "Next pane",
            show=False,
            id="upgrades.next",
            tooltip="Move between the plans and the selected plan's detail.",
        ),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.plans: list[PlanRow] = []
        self.detail: PlanDetail | None = None
        self._selected_id: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterableTable(
            [
                ("id", "PLAN"),
                ("target", "DEVICES"),
                ("versions", "VERSION"),
                ("status", "STATUS"),
                ("scheduled", "SCHEDULED"),
                ("execution", "EXECUTION"),
                ("updated", "UPDATED"),
            ],
            placeholder="filter by device, version or status",
            empty_text=(
                "No upgrade plans yet. Plan one with: nettui upgrade plan --device NAME --target-version V --image FILE"
            ),
            id="upgrade-plans",
        )
        yield DetailPane(title="Plan", placeholder="Pick a plan to see its progress.", id="upgrade-detail")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Upgrades"

    # -- reading ----------------------------------------------------------------------------------

    def read(self) -> tuple[list[PlanRow], PlanDetail | None]:
        """The plans, and the detail of the one under the cursor (read together, so they agree)."""
        plans = load_plans(self.store)
        if finish_ended_plans(self.store, plans):
            plans = load_plans(self.store)
        wanted = self._selected_id
        if wanted is None and plans:
            wanted = plans[0].id
        return plans, (load_detail(self.store, wanted) if wanted is not None else None)

    def show(self, data: tuple[list[PlanRow], PlanDetail | None]) -> None:
        plans, detail = data
        self.plans = plans
        table = self.query_one("#upgrade-plans", FilterableTable)
        table.set_rows(
            [
                Row(
                    str(plan.id),
                    (
                        Text(f"#{plan.id}", style="bold"),
                        Text(plan.target, overflow="ellipsis", no_wrap=True),
                        Text.assemble(plan.current_version or "?", (" → ", "dim"), (plan.target_version, "bold")),
                        upgrade_status_text(self.app, plan.status),
                        Text(local_time(plan.scheduled)[:16] or "—", style="" if plan.scheduled else "dim"),
                        Text(
                            f"#{plan.execution_id}" if plan.execution_id else "—",
                            style="" if plan.execution_id else "dim",
                        ),
                        Text(local_time(plan.updated)[:16]),
                    ),
                    search=plan.search,
                )
                for plan in plans
            ]
        )
        counts: dict[str, int] = {}
        for plan in plans:
            counts[plan.status] = counts.get(plan.status, 0) + 1
        table.table.border_subtitle = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items())) or ""
        selected = self.selected()
        if detail is not None and (selected is None or detail.plan.id == selected.id):
            self._show_detail(detail)
        elif selected is not None and (self.detail is None or self.detail.plan.id != selected.id):
            self._selected_id = selected.id
            self.poll()
        self.refresh_bindings()

    def _show_detail(self, detail: PlanDetail) -> None:
        self.detail = detail
        pane = self.query_one("#upgrade-detail", VerticalScroll)
        pane.border_title = f"Plan #{detail.plan.id}: {detail.plan.target}"
        pane.border_subtitle = detail.plan.status.replace("_", " ")
        self.query_one("#upgrade-detail-body", Static).update(plan_detail(self.app, detail))

    def selected(self) -> PlanRow | None:
        key = self.query_one("#upgrade-plans LiveTable", LiveTable).current_key
        return next((plan for plan in self.plans if str(plan.id) == key), None)

    @on(DataTable.RowHighlighted, "#upgrade-plans LiveTable")
    def _highlighted(self) -> None:
        plan = self.selected()
        if plan is not None and plan.id != self._selected_id:
            self._selected_id = plan.id
            self.poll()
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#upgrade-plans LiveTable")
    def _chosen(self) -> None:
        self.action_open_execution()

    # -- actions ----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        plan = self.selected()
        if action == "open_execution":
            return plan is not None and plan.execution_id is not None
        if action == "run":
            app: NettuiApp = self.app  # type: ignore[assignment]
            return (
                upgrade_module() is not None
                and app.role in RUNNERS
                and plan is not None
                and plan.status in ("planned", "scheduled", "failed", "rolled_back")
            )
        return True

    def action_open_execution(self) -> None:
        """Open the selected plan's execution."""
        plan = self.selected()
        if plan is None or plan.execution_id is None:
            return
        app: NettuiApp = self.app  # type: ignore[assignment]
        app.open_execution(plan.execution_id)

    def action_run(self) -> None:
        """Start the selected plan now, after asking."""
        plan = self.selected()
        if plan is None or not self.check_action("run", ()):
            return
        question = (
            f"Upgrade {plan.target} from {plan.current_version or '?'} to {plan.target_version} now?"
            " Each device is checked, backed up, gets the image, reloads and is checked again;"
            " a device whose post-checks fail is rolled back."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(plan.id)

        self.app.push_screen(ConfirmDialog(f"Run upgrade plan #{plan.id}", question, confirm="Upgrade"), answered)

    @work(thread=True, exit_on_error=False, group="upgrade-run", description="upgrading")
    def _run(self, plan_id: int) -> None:
        """Submit the plan's execution; the embedded engine runs it, or (none) this worker does."""
        app: NettuiApp = self.app  # type: ignore[assignment]
        module = upgrade_module()
        try:
            if module is None:
                raise RuntimeError("this nettui cannot run upgrades from the screen: nettui upgrade run PLAN")
            execution_id, _status = module.start_plan(self.store, plan_id, requested_by=app.user, run=False)
        except Exception as exc:  # a refusal (NettuiError) or a store error: said, not fatal
            app.call_from_thread(
                self.notify, describe_error(exc), title="Not started", severity="error", markup=False, timeout=10
            )
            return
        app.call_from_thread(
            self.notify,
            f"upgrade plan #{plan_id}: execution #{execution_id} started (o opens it)",
            title="Upgrade",
            markup=False,
        )
        app.call_from_thread(self.poll)
        if app.engine is not None:
            return  # the embedded engine runs it; the plan is finished when read after it ends
        try:
            status = asyncio.run(module.run_plan(self.store, plan_id, execution_id))
        except Exception as exc:  # the execution could not run here: said, the records say the rest
            app.call_from_thread(
                self.notify, describe_error(exc), title=f"Upgrade plan #{plan_id}", severity="error", markup=False
            )
        else:
            app.call_from_thread(
                self.notify,
                f"upgrade plan #{plan_id}: {status.replace('_', ' ')}",
                title="Upgrade",
                severity="information" if status == "completed" else "error",
                markup=False,
            )
        app.call_from_thread(self.poll)

    def commands(self) -> list[ScreenCommand]:
        plan = self.selected()
        out = []
        if plan is not None and self.check_action("run", ()):
            out.append(
                ScreenCommand(
                    f"Run upgrade plan #{plan.id}", f"{plan.target} to {plan.target_version}", self.action_run
                )
            )
        if plan is not None and plan.execution_id is not None:
            out.append(
                ScreenCommand(
                    f"Open execution #{plan.execution_id}", f"of upgrade plan #{plan.id}", self.action_open_execution
                )
            )
        return out
