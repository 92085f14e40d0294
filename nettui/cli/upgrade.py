"""`nettui upgrade`: plan, list, show, run and schedule OS upgrades (nettui.lifecycle.upgrade)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from catalog.errors import NettuiError
from catalog.models.choices import UpgradeStatus
from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_record, emit_table, progress

# Exit statuses, as `nettui run`: 0 completed, 1 failed (or rolled back), 3 awaiting approval.
EXIT = {"completed": 0, "failed": 1, "rolled_back": 1}


def _run_options(function: Any) -> Any:
    """The options `run` and `schedule` share: the batch and how to wait for reloads."""
    for option in reversed(
        [
            click.option(
                "--parallel",
                type=click.IntRange(1, 500),
                default=5,
                show_default=True,
                help="Devices upgraded at the same time.",
            ),
            click.option(
                "--max-failures",
                type=click.IntRange(0, None),
                default=None,
                help="Stop starting devices once more than this many failed.",
            ),
            click.option(
                "--max-failure-rate",
                type=click.FloatRange(0, 1),
                default=None,
                help="Stop starting devices once more than this share (0-1) of the plan failed.",
            ),
            click.option(
                "--reload-timeout",
                type=click.FloatRange(1, 7200),
                default=900.0,
                show_default=True,
                help="Seconds to wait for a device to come back after a reload.",
            ),
            click.option(
                "--poll-interval",
                type=click.FloatRange(0.05, 60),
                default=2.0,
                show_default=True,
                help="Seconds between attempts to reach a reloading device.",
            ),
            click.option(
                "--driver",
                type=click.Choice(["asyncssh", "scrapli", "netmiko"]),
                default="asyncssh",
                show_default=True,
                help="Client library for the devices.",
            ),
            click.option("--as", "as_user", metavar="USER", help="Act as USER (admins only)."),
        ]
    ):
        function = option(function)
    return function


@click.group(name="upgrade")
def group() -> None:
    """OS upgrades: plan, run in batches with pre/post checks and rollback, schedule."""


@group.command(name="plan")
@click.option("--device", "devices", multiple=True, help="A device to upgrade (repeatable).")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="Upgrade the devices matching.")
@click.option("--target-version", required=True, help="The version the devices must run afterwards.")
@click.option(
    "--image",
    required=True,
    type=click.Path(path_type=Path),
    help="The image file to install (its name must be what the device boots).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@pass_app
def plan(
    app: AppContext,
    devices: tuple[str, ...],
    filters: tuple[str, ...],
    target_version: str,
    image: Path,
    as_json: bool,
) -> None:
    """Plan an upgrade of --device NAME (one or more) or of the devices --filter selects."""
    from catalog.inventory import parse_filters
    from nettui.lifecycle.upgrade import create_plan, plan_detail

    if bool(devices) == bool(filters):
        raise click.UsageError("give --device NAME (repeatable) or --filter KEY=VALUE, not both")
    store = app.store()
    if len(devices) == 1:
        plan_id = create_plan(store, device=devices[0], target_version=target_version, image=image)
    elif devices:
        plan_id = create_plan(store, devices=list(devices), target_version=target_version, image=image)
    else:
        plan_id = create_plan(store, filters=parse_filters(filters), target_version=target_version, image=image)
    detail = plan_detail(store, plan_id)
    if as_json:
        emit_json(detail.to_json())
        return
    progress(
        f"upgrade plan {plan_id}: {detail.summary.target} to {target_version} with {detail.summary.image} "
        f"(run it: nettui upgrade run {plan_id})"
    )
    click.echo(plan_id)


@group.command(name="list")
@click.option("--status", type=click.Choice([s.value for s in UpgradeStatus]), help="Only plans in this status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_plans(app: AppContext, status: str | None, as_json: bool) -> None:
    """Upgrade plans, newest first."""
    from nettui.lifecycle.upgrade import list_plans as plans

    rows = [p.to_json() for p in plans(app.store(), status=status)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        row["progress"] = " ".join(f"{k}={v}" for k, v in sorted(row["counts"].items()))
    emit_table(
        rows,
        [
            ("id", "ID"),
            ("status", "STATUS"),
            ("target", "DEVICES"),
            ("current_version", "FROM"),
            ("target_version", "TO"),
            ("image", "IMAGE"),
            ("progress", "PROGRESS"),
            ("scheduled_time", "SCHEDULED"),
            ("execution_id", "EXECUTION"),
        ],
    )


def _listing(values: Any) -> str:
    if values is None:
        return "not available"
    return ", ".join(map(str, values)) or "none"


@group.command(name="show")
@click.argument("plan_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: AppContext, plan_id: int, as_json: bool) -> None:
    """One plan: each device's status and stage, and its pre-checks against its post-checks."""
    from nettui.lifecycle.upgrade import plan_detail

    detail = plan_detail(app.store(), plan_id)
    if as_json:
        emit_json(detail.to_json())
        return
    summary = detail.summary
    emit_record(
        {
            "plan": summary.id,
            "status": summary.status,
            "devices": summary.target,
            "from": summary.current_version,
            "to": summary.target_version,
            "image": f"{detail.request.get('image')} (md5 {detail.request.get('image_md5')})",
            "scheduled": summary.scheduled_time,
            "execution": summary.execution_id,
            "backup": detail.backup_reference,
            "stopped": detail.stopped or None,
        }
    )
    for device in detail.devices:
        click.echo("")
        click.echo(f"{device.name}: {device.status}" + (f" (stage {device.stage})" if device.stage else ""))
        if device.error:
            click.echo(f"  error: {device.error.splitlines()[0]}")
        if device.backup_id:
            click.echo(f"  backup: {device.backup_id}")
        pre, post, comparison = device.pre or {}, device.post or {}, device.comparison or {}
        if not pre:
            continue
        rows: list[dict[str, Any]] = [
            {"check": "version", "pre": pre.get("version"), "post": post.get("version"), "ok": None},
            {
                "check": "interfaces up",
                "pre": len(pre.get("interfaces_up") or []),
                "post": len(post.get("interfaces_up") or []) if post else None,
                "ok": None,
            },
            {
                "check": "LLDP neighbours",
                "pre": _listing(pre.get("lldp_neighbors")),
                "post": _listing(post.get("lldp_neighbors")) if post else None,
                "ok": None,
            },
            {
                "check": "routes",
                "pre": len(pre["routes"]) if pre.get("routes") is not None else "not available",
                "post": (len(post["routes"]) if post.get("routes") is not None else "not available") if post else None,
                "ok": None,
            },
        ]
        keys = ["version", "interfaces_up", "lldp_neighbors", "routes"]
        for row, key in zip(rows, keys, strict=True):
            if comparison.get(key):
                row["ok"] = "yes" if comparison[key].get("ok") else "NO"
        click.echo("  pre-checks against post-checks:")
        emit_table(rows, [("check", "CHECK"), ("pre", "BEFORE"), ("post", "AFTER"), ("ok", "OK")])
        for problem in comparison.get("problems") or []:
            click.echo(f"  problem: {problem}")
        if device.rollback:
            state = "restored" if device.rollback.get("ok") else f"FAILED: {device.rollback.get('error')}"
            click.echo(f"  rollback: {state}, runs {device.rollback.get('version') or '?'}")


@group.command(name="run")
@click.argument("plan_id", type=int)
@_run_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON at the end.")
@pass_app
def run(
    app: AppContext,
    plan_id: int,
    parallel: int,
    max_failures: int | None,
    max_failure_rate: float | None,
    reload_timeout: float,
    poll_interval: float,
    driver: str,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Run upgrade plan PLAN_ID now, with progress on stderr.

    With an engine service running, the execution is handed to it (follow it with `nettui
    executions logs ID --follow`). Exit status: 0 completed, 1 failed or rolled back,
    3 awaiting approval.
    """
    from nettui.cli.run import acting_user
    from nettui.engine.dispatch import engine_will_run
    from nettui.lifecycle.upgrade import plan_detail, start_plan

    store = app.store()
    here = engine_will_run(store) is None
    execution_id, _status = start_plan(
        store,
        plan_id,
        requested_by=acting_user(app, as_user),
        parallel=parallel,
        max_failures=max_failures,
        max_failure_rate=max_failure_rate,
        reload_timeout=reload_timeout,
        poll_interval=poll_interval,
        driver=driver,
        run=here,
        on_progress=progress,
    )
    detail = plan_detail(store, plan_id)
    progress(
        f"upgrade plan {plan_id}: {detail.summary.status} (execution {execution_id}; "
        + " ".join(f"{k}={v}" for k, v in sorted(detail.summary.counts.items()))
        + ")"
    )
    if as_json:
        emit_json(detail.to_json())
    if not here:
        from nettui.cli.run import carry_out

        carry_out(store, execution_id, wait=False, driver=None)
        raise SystemExit(0)
    from nettui.cli.run import exit_code

    code = EXIT.get(detail.summary.status)
    raise SystemExit(code if code is not None else exit_code(store, execution_id))  # 3: awaiting approval


@group.command(name="schedule")
@click.argument("plan_id", type=int)
@click.option("--at", "at_time", required=True, help="When, as an ISO 8601 time (naive means UTC).")
@_run_options
@pass_app
def schedule(
    app: AppContext,
    plan_id: int,
    at_time: str,
    parallel: int,
    max_failures: int | None,
    max_failure_rate: float | None,
    reload_timeout: float,
    poll_interval: float,
    driver: str,
    as_user: str | None,
) -> None:
    """Run upgrade plan PLAN_ID once, --at a time (fired by `nettui engine`)."""
    from nettui.cli.run import acting_user
    from nettui.lifecycle.upgrade import schedule_plan

    try:
        when = datetime.fromisoformat(at_time)
    except ValueError:
        raise NettuiError(f"bad time {at_time!r}", where="--at", hint="ISO 8601, e.g. 2026-12-01T02:00:00Z") from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    schedule_id = schedule_plan(
        app.store(),
        plan_id,
        at=when,
        requested_by=acting_user(app, as_user),
        parallel=parallel,
        max_failures=max_failures,
        max_failure_rate=max_failure_rate,
        reload_timeout=reload_timeout,
        poll_interval=poll_interval,
        driver=driver,
    )
    progress(
        f"upgrade plan {plan_id}: scheduled at {when.isoformat()} (schedule {schedule_id}, fired by `nettui engine`)"
    )
