"""`nettui schedules`: workflows that run by themselves (fired by `nettui engine`)."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog import models as m
from catalog.models.choices import ScheduleTrigger
from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_table, progress
from nettui.cli.render import parse_assignments
from nettui.cli.run import acting_user


@click.group(name="schedules")
def group() -> None:
    """Workflows that run by themselves: once, every interval, or on a cron line."""


@group.command(name="add")
@click.argument("name")
@click.option("--workflow", required=True, help="Workflow slug (it must allow schedules).")
@click.option("--device", "devices", multiple=True, required=True, help="Target device (repeatable).")
@click.option("--every", help="Interval: 30s, 15m, 2h, 1d.")
@click.option("--cron", help='Cron line in UTC, e.g. "0 2 * * *".')
@click.option("--at", "at_time", help="Once, at this ISO 8601 time.")
@click.option("--input", "assignments", multiple=True, metavar="KEY=VALUE", help="A workflow input (repeatable).")
@click.option("--as", "as_user", metavar="USER", help="Act as USER (admins only).")
@pass_app
def add(
    app: AppContext,
    name: str,
    workflow: str,
    devices: tuple[str, ...],
    every: str | None,
    cron: str | None,
    at_time: str | None,
    assignments: tuple[str, ...],
    as_user: str | None,
) -> None:
    """Add schedule NAME: run WORKFLOW on devices --every, on --cron, or once --at."""
    from nettui.engine.scheduling import add_schedule

    given = [(ScheduleTrigger.INTERVAL, every), (ScheduleTrigger.CRON, cron), (ScheduleTrigger.DATE, at_time)]
    chosen = [(t, e) for t, e in given if e]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --every, --cron and --at")
    trigger, expression = chosen[0]
    add_schedule(
        app.store(),
        name,
        workflow,
        trigger,
        str(expression),
        devices=list(devices),
        inputs=parse_assignments(assignments),
        requested_by=acting_user(app, as_user),
    )
    progress(f"schedule {name}: {workflow} {trigger.value} {expression} (fired by `nettui engine`)")


@group.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_schedules(app: AppContext, as_json: bool) -> None:
    """Every schedule."""
    with app.store().read_session() as session:
        rows = [
            {
                "name": s.name,
                "workflow": s.workflow.slug,
                "trigger": s.trigger.value,
                "expression": s.expression,
                "devices": s.devices,
                "enabled": s.enabled,
                "requested_by": s.requested_by.username,
                "last_fired_at": s.last_fired_at,
            }
            for s in session.scalars(
                select(m.Schedule)
                .options(selectinload(m.Schedule.workflow), selectinload(m.Schedule.requested_by))
                .order_by(m.Schedule.name)
            )
        ]
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            rows,
            [
                ("name", "NAME"),
                ("workflow", "WORKFLOW"),
                ("trigger", "TRIGGER"),
                ("expression", "WHEN"),
                ("enabled", "ON"),
                ("last_fired_at", "LAST FIRED"),
            ],
        )


@group.command(name="pause")
@click.argument("name")
@pass_app
def pause(app: AppContext, name: str) -> None:
    """Stop firing schedule NAME until resumed."""
    from nettui.engine.scheduling import set_enabled

    set_enabled(app.store(), name, False)
    progress(f"schedule {name}: paused")


@group.command(name="resume")
@click.argument("name")
@pass_app
def resume(app: AppContext, name: str) -> None:
    """Fire schedule NAME again."""
    from nettui.engine.scheduling import set_enabled

    set_enabled(app.store(), name, True)
    progress(f"schedule {name}: resumed")


@group.command(name="remove")
@click.argument("name")
@pass_app
def remove(app: AppContext, name: str) -> None:
    """Delete schedule NAME (executions it started stay)."""
    from nettui.engine.scheduling import remove_schedule

    remove_schedule(app.store(), name)
    progress(f"schedule {name}: removed")
