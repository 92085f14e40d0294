"""`nettui run` and `nettui executions`: run workflows and read what they did."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.errors import NettuiError, NotFoundError
from catalog.models.choices import ExecutionStatus, UserRole
from catalog.yamlfile import load_yaml
from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_record, emit_table, progress
from nettui.cli.render import parse_assignments

# Exit statuses a script can tell apart (a rejected execution is cancelled, and exits 4).
EXIT = {
    ExecutionStatus.COMPLETED: 0,
    ExecutionStatus.FAILED: 1,
    ExecutionStatus.AWAITING_APPROVAL: 3,
    ExecutionStatus.CANCELLED: 5,
}
EXIT_REJECTED = 4
FINAL = {ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}


def exit_code(store: Any, execution_id: int) -> int:
    """0 completed, 1 failed, 3 awaiting approval, 4 rejected, 5 cancelled; 0 for an execution
    handed to the engine and not waited for."""
    with store.read_session() as session:
        execution = session.get(m.Execution, execution_id)
        assert execution is not None
        if execution.status == ExecutionStatus.CANCELLED and execution.context.get("rejected"):
            return EXIT_REJECTED
        if execution.status in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.SCHEDULED):
            return 0
        return EXIT.get(execution.status, 1)


def carry_out(store: Any, execution_id: int, *, wait: bool, driver: str | None = None) -> ExecutionStatus:
    """Run a pending execution: hand it to a live engine if there is one (and, with ``wait``,
    follow it to its end), else run it here; its status when this returns."""
    from nettui.engine.dispatch import defer_executions, engine_will_run, live_nodes, queue_installed
    from nettui.engine.runner import run_execution

    with store.read_session() as session:
        execution = session.get(m.Execution, execution_id)
        assert execution is not None
        status: ExecutionStatus = execution.status
    if status != ExecutionStatus.PENDING:
        return status
    engine = engine_will_run(store)
    if engine is None:
        return asyncio.run(run_execution(store, execution_id, driver=driver, on_event=progress))
    if driver is not None:
        with store.session() as session:
            execution = session.get(m.Execution, execution_id)
            assert execution is not None
            execution.context = {**execution.context, "driver": driver}
    if queue_installed(store) and any("worker" in n.roles for n in live_nodes(store)):
        defer_executions(store, [execution_id])
    progress(f"execution {execution_id}: handed to {engine}")
    if not wait:
        progress(f"follow it with: nettui executions logs {execution_id} --follow")
        return status
    return follow_logs(store, execution_id, follow=True)


def follow_logs(store: Any, execution_id: int, *, follow: bool, interval: float = 0.5) -> ExecutionStatus:
    """Print every step's new log lines, per device; with ``follow``, until the execution ends."""
    import time

    from nettui.engine.runner import step_rows

    printed: dict[int, int] = {}  # step row id -> characters of its log already shown
    while True:
        with store.read_session() as session:
            execution = session.get(m.Execution, execution_id)
            if execution is None:
                raise NotFoundError(f"no execution {execution_id}", hint="`nettui executions list`")
            status: ExecutionStatus = execution.status
            rows = step_rows(session, execution_id)
            for row in rows:
                text = row.logs + (f"error: {row.error_message}\n" if row.error_message else "")
                seen = printed.get(row.id, 0)
                if len(text) > seen:
                    prefix = f"[{row.order} {row.workflow_step.name if row.workflow_step else '?'}"
                    prefix += f" @ {row.device.name}]" if row.device else "]"
                    for line in text[seen:].splitlines():
                        click.echo(f"{prefix} {line}")
                    printed[row.id] = len(text)
        if not follow or status in FINAL:
            return status
        time.sleep(interval)


def acting_user(app: AppContext, as_user: str | None) -> str:
    """The OS login name, or --as USER when the OS user is an admin in nettui."""
    login = getpass.getuser()
    if as_user is None or as_user == login:
        return login
    with app.store().read_session() as session:
        me = session.scalars(select(m.User).where(m.User.username == login)).one_or_none()
        if me is None or me.role != UserRole.ADMIN:
            raise NettuiError(f"only an admin may act as another user; '{login}' is not one")
    return as_user


@click.command(name="run")
@click.argument("workflow")
@click.option("--device", "devices", multiple=True, help="Target device (repeatable).")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="Target the devices matching.")
@click.option("--input", "assignments", multiple=True, metavar="KEY=VALUE", help="A workflow input (repeatable).")
@click.option("--inputs", "inputs_file", type=click.Path(exists=True, path_type=Path), help="Inputs from YAML.")
@click.option("--dry-run", is_flag=True, help="Render and check; change nothing.")
@click.option(
    "--driver",
    type=click.Choice(["netmiko", "scrapli", "asyncssh"]),
    default=None,
    help="Client library for every device (default: each device's provider config, else netmiko).",
)
@click.option(
    "--wait/--no-wait",
    default=False,
    help="When an engine service takes the execution, follow it to its end (without an engine it runs here).",
)
@click.option("--as", "as_user", metavar="USER", help="Act as USER (admins only).")
@click.option("--json", "as_json", is_flag=True, help="Print the execution as JSON at the end.")
@pass_app
def group(
    app: AppContext,
    workflow: str,
    devices: tuple[str, ...],
    filters: tuple[str, ...],
    assignments: tuple[str, ...],
    inputs_file: Path | None,
    dry_run: bool,
    driver: str | None,
    wait: bool,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Run WORKFLOW on devices.

    With an engine service running (`nettui engine`, workers, or a TUI's embedded engine) the
    execution is handed to it and its id printed on stdout; --wait follows it to its end.
    With none, it runs here and this command waits for it.

    Exit status: 0 completed (or handed over), 1 failed, 3 awaiting approval, 4 rejected,
    5 cancelled.
    """
    from catalog.inventory import list_devices, parse_filters
    from nettui.engine.runner import submit

    store = app.store()
    names = list(devices)
    if filters:
        with store.read_session() as session:
            names += [d.name for d in list_devices(session, parse_filters(filters))]
    if not names:
        raise click.UsageError("give --device NAME or --filter KEY=VALUE")
    inputs: dict[str, Any] = {}
    if inputs_file is not None:
        loaded = load_yaml(inputs_file)
        if not isinstance(loaded, dict):
            raise NettuiError("the inputs file must be a mapping", where=str(inputs_file))
        inputs.update(loaded)
    inputs.update(parse_assignments(assignments))
    user = acting_user(app, as_user)
    execution_id = submit(store, workflow, sorted(set(names)), inputs, requested_by=user, dry_run=dry_run)
    progress(f"execution {execution_id}: {workflow} on {len(set(names))} device(s){' (dry run)' if dry_run else ''}")
    status = carry_out(store, execution_id, wait=wait, driver=driver)
    progress(f"execution {execution_id}: {status.value}")
    if as_json:
        with store.read_session() as session:
            emit_json(execution_record(session, execution_id, with_steps=True))
    elif status not in FINAL:
        click.echo(execution_id)  # for scripts: id=$(nettui run ...)
    raise SystemExit(exit_code(store, execution_id))


def execution_record(session: Any, execution_id: int, *, with_steps: bool = False) -> dict[str, Any]:
    execution = session.scalars(
        select(m.Execution)
        .where(m.Execution.id == execution_id)
        .options(
            selectinload(m.Execution.workflow),
            selectinload(m.Execution.requested_by),
            selectinload(m.Execution.approved_by),
            selectinload(m.Execution.target_devices),
            selectinload(m.Execution.steps).selectinload(m.ExecutionStep.workflow_step),
            selectinload(m.Execution.steps).selectinload(m.ExecutionStep.device),
            selectinload(m.Execution.steps).selectinload(m.ExecutionStep.task_implementation),
        )
    ).one_or_none()
    if execution is None:
        raise NotFoundError(f"no execution {execution_id}", hint="`nettui executions list`")
    record: dict[str, Any] = {
        "id": execution.id,
        "workflow": execution.workflow.slug,
        "status": execution.status.value,
        "requested_by": execution.requested_by.username,
        "approved_by": execution.approved_by.username if execution.approved_by else None,
        "devices": [d.name for d in execution.target_devices],
        "dry_run": bool(execution.context.get("dry_run")),
        "inputs": execution.inputs,
        "created_at": execution.created_at,
        "started_at": execution.started_at,
        "completed_at": execution.completed_at,
    }
    if with_steps:
        record["steps"] = [
            {
                "order": s.order,
                "step": s.workflow_step.name if s.workflow_step else None,
                "device": s.device.name if s.device else None,
                "status": s.status.value,
                "implementation": s.task_implementation.slug if s.task_implementation else None,
                "error": s.error_message,
                "rendered_content": s.rendered_content,
                "logs": s.logs,
            }
            for s in execution.steps
        ]
    return record


@click.group(name="executions")
def executions_group() -> None:
    """What ran, when, for whom, and what each step did."""


@executions_group.command(name="list")
@click.option("--status", type=click.Choice([s.value for s in ExecutionStatus]), help="Only this status.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_executions(app: AppContext, status: str | None, limit: int, as_json: bool) -> None:
    """Recent executions, newest first."""
    with app.store().read_session() as session:
        query = select(m.Execution.id).order_by(m.Execution.id.desc()).limit(limit)
        if status:
            query = query.where(m.Execution.status == ExecutionStatus(status))
        rows = [execution_record(session, i) for i in session.scalars(query)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        row["devices"] = len(row["devices"])
    emit_table(
        rows,
        [
            ("id", "ID"),
            ("workflow", "WORKFLOW"),
            ("status", "STATUS"),
            ("requested_by", "BY"),
            ("devices", "DEVICES"),
            ("dry_run", "DRY"),
            ("created_at", "CREATED"),
        ],
    )


@executions_group.command(name="show")
@click.argument("execution_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show_execution(app: AppContext, execution_id: int, as_json: bool) -> None:
    """One execution with every step, per device."""
    with app.store().read_session() as session:
        record = execution_record(session, execution_id, with_steps=True)
    if as_json:
        emit_json(record)
        return
    steps = record.pop("steps")
    emit_record(record)
    click.echo("steps:")
    emit_table(
        steps,
        [
            ("order", "#"),
            ("step", "STEP"),
            ("device", "DEVICE"),
            ("status", "STATUS"),
            ("implementation", "IMPLEMENTATION"),
            ("error", "ERROR"),
        ],
    )


@executions_group.command(name="cancel")
@click.argument("execution_id", type=int)
@click.option("--reason", default="", help="Why (kept in the audit trail).")
@click.option("--as", "as_user", metavar="USER", help="Act as USER (admins only).")
@pass_app
def cancel_execution(app: AppContext, execution_id: int, reason: str, as_user: str | None) -> None:
    """Cancel an execution: at once if it has not started, else at its next safe point."""
    from nettui.engine.approvals import cancel

    status = cancel(app.store(), execution_id, acting_user(app, as_user), reason=reason)
    if status == ExecutionStatus.CANCELLED:
        progress(f"execution {execution_id}: cancelled")
    else:
        progress(f"execution {execution_id}: cancel requested; it stops at its next safe point")


@executions_group.command(name="logs")
@click.argument("execution_id", type=int)
@click.option("--follow", "-f", is_flag=True, help="Keep printing until the execution ends.")
@click.option("--interval", type=float, default=0.5, show_default=True, help="Seconds between polls with --follow.")
@pass_app
def execution_logs(app: AppContext, execution_id: int, follow: bool, interval: float) -> None:
    """Every step's log lines, per device, as they were written (and as they arrive, with -f)."""
    status = follow_logs(app.store(), execution_id, follow=follow, interval=interval)
    progress(f"execution {execution_id}: {status.value}")
