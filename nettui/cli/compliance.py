"""`nettui compliance`: run checks, report scores, remediate failures."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from catalog.errors import NettuiError
from catalog.models.choices import ExecutionStatus
from catalog.yamlfile import load_yaml
from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_record, emit_table, progress
from nettui.cli.render import _merge, parse_assignments
from nettui.cli.run import acting_user


def _intended(intended_file: Path | None, assignments: tuple[str, ...]) -> dict[str, Any]:
    intended: dict[str, Any] = {}
    if intended_file is not None:
        loaded = load_yaml(intended_file)
        if not isinstance(loaded, dict):
            raise NettuiError("the intended file must be a mapping", where=str(intended_file))
        intended = dict(loaded)
    return _merge(intended, parse_assignments(assignments))


@click.group(name="compliance")
def group() -> None:
    """Compliance checks: run them, report scores, remediate failures."""


@group.command(name="run")
@click.option("--check", "checks", multiple=True, metavar="SLUG", help="Run this check (repeatable; default: all).")
@click.option("--device", "devices", multiple=True, help="Check this device (repeatable; default: all).")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="Check the devices matching.")
@click.option("--live", is_flag=True, help="Read each device's configuration now instead of its latest backup.")
@click.option(
    "--intended", "intended_file", type=click.Path(exists=True, path_type=Path), help="YAML intent the checks read."
)
@click.option(
    "--set", "assignments", multiple=True, metavar="KEY=VALUE", help="An intended value, e.g. ntp.servers=[10.0.0.1]."
)
@click.option("--driver", type=click.Choice(["asyncssh", "scrapli", "netmiko"]), default="asyncssh", show_default=True)
@click.option("--as", "as_user", metavar="USER", help="Act as USER (admins only).")
@click.option("--json", "as_json", is_flag=True, help="Print every run as JSON.")
@pass_app
def run(
    app: AppContext,
    checks: tuple[str, ...],
    devices: tuple[str, ...],
    filters: tuple[str, ...],
    live: bool,
    intended_file: Path | None,
    assignments: tuple[str, ...],
    driver: str,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Run compliance checks on devices, against their latest backup or --live.

    Exit status 1 when any check failed or could not run."""
    from catalog.inventory import list_devices, parse_filters
    from nettui.lifecycle.compliance import run_compliance

    store = app.store()
    names: list[str] | None = list(devices) or None
    if filters:
        with store.read_session() as session:
            names = sorted(set(names or []) | {d.name for d in list_devices(session, parse_filters(filters))})
    result = asyncio.run(
        run_compliance(
            store,
            checks=list(checks) or None,
            devices=names,
            live=live,
            intended=_intended(intended_file, assignments),
            requested_by=acting_user(app, as_user),
            driver=driver,
            on_progress=lambda done, total: progress(f"[{done}/{total}] checks run"),
        )
    )
    progress(result.summary())
    if as_json:
        emit_json(result.runs)
    else:
        emit_table(
            [{**r, "detail": "; ".join(r["missing"] + r["forbidden_present"]) or r["error"]} for r in result.runs],
            [
                ("id", "RUN"),
                ("device", "DEVICE"),
                ("check", "CHECK"),
                ("severity", "SEVERITY"),
                ("status", "STATUS"),
                ("detail", "MISSING / PRESENT / WHY"),
            ],
        )
    if any(r["status"] in ("failed", "error") for r in result.runs):
        raise SystemExit(1)


@group.command(name="report")
@click.option("--device", "devices", multiple=True, help="Only this device (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Everything as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Runs and scores as CSV.")
@pass_app
def report(app: AppContext, devices: tuple[str, ...], as_json: bool, as_csv: bool) -> None:
    """The latest result per device and check, with scores per device, check and standard."""
    from nettui.lifecycle.compliance import report as build
    from nettui.lifecycle.compliance import report_csv

    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    data = build(app.store(), list(devices) or None)
    if as_json:
        emit_json(data)
        return
    if as_csv:
        click.echo(report_csv(data), nl=False)
        return
    emit_table(
        data["runs"],
        [
            ("run_id", "RUN"),
            ("device", "DEVICE"),
            ("check", "CHECK"),
            ("standard", "STANDARD"),
            ("severity", "SEVERITY"),
            ("status", "STATUS"),
        ],
    )
    for scope in ("device", "check", "standard"):
        click.echo("")
        emit_table(
            data[scope + "s"],
            [
                (scope, scope.upper()),
                ("passed", "PASSED"),
                ("failed", "FAILED"),
                ("error", "ERROR"),
                ("skipped", "SKIPPED"),
                ("score", "SCORE %"),
            ],
        )
    click.echo(f"\noverall score: {'-' if data['score'] is None else data['score']} %")


@group.command(name="show")
@click.argument("run_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show(app: AppContext, run_id: int, as_json: bool) -> None:
    """One run: what was checked, what is missing or extra, and the remediation."""
    from catalog import models as m

    with app.store().read_session() as session:
        row = session.get(m.ComplianceRun, run_id)
        if row is None:
            raise NettuiError(f"no compliance run {run_id}", hint="`nettui compliance report`")
        record = {
            "id": row.id,
            "device": row.device.name if row.device else None,
            "check": row.check.slug,
            "status": row.status.value,
            "run_timestamp": row.run_timestamp,
            "requested_by": row.requested_by.username if row.requested_by else None,
            "remediation_execution": row.remediation_execution_id,
            **row.result_data,
        }
    if as_json:
        emit_json(record)
    else:
        emit_record({k: "\n".join(v) if isinstance(v, list) else v for k, v in record.items()})


@group.command(name="remediate")
@click.argument("run_id", type=int)
@click.option("--driver", type=click.Choice(["asyncssh", "scrapli", "netmiko"]), default="asyncssh", show_default=True)
@click.option("--as", "as_user", metavar="USER", help="Act as USER (admins only).")
@pass_app
def remediate(app: AppContext, run_id: int, driver: str, as_user: str | None) -> None:
    """Start the remediation workflow of failed run RUN_ID with its generated configuration.

    Exit status: 0 completed, 1 failed, 3 awaiting approval."""
    from nettui.lifecycle.compliance import remediate as start

    execution_id, status = start(app.store(), run_id, requested_by=acting_user(app, as_user), driver=driver)
    progress(f"execution {execution_id}: {status.value}")
    click.echo(execution_id)
    if status == ExecutionStatus.AWAITING_APPROVAL:
        raise SystemExit(3)
    if status != ExecutionStatus.COMPLETED:
        raise SystemExit(1)
