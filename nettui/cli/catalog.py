"""`nettui catalog`: validate, import, export, list, show and explain the catalog."""

from __future__ import annotations

from pathlib import Path

import click

from catalog.files import KINDS
from catalog.loader import CatalogInvalid, load_catalog
from catalog.matching import describe_device, explain
from catalog.sync import (
    LIBRARY_DIR,
    export_catalog,
    file_data,
    find_object,
    import_catalog,
    known_in_store,
    list_catalog,
)
from catalog.sync import dump_yaml as to_yaml
from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_table, progress

KIND_CHOICES = [*KINDS, "implementation"]


@click.group(name="catalog")
def group() -> None:
    """Tasks, implementations, workflows, forms, checks and providers, kept as YAML files."""


@group.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--offline", is_flag=True, help="Do not consult the store for tasks and workflows the files refer to.")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@pass_app
def validate(app: AppContext, path: Path, offline: bool, as_json: bool) -> None:
    """Check every catalog file under PATH and report each problem as file:line. Imports nothing."""
    known = None
    if not offline:
        with app.store().read_session() as session:
            known = known_in_store(session)
    catalog = load_catalog(path, known)
    if as_json:
        emit_json(
            {
                "files": len(catalog.files),
                "problems": [{"path": p.path, "line": p.line, "message": p.message} for p in catalog.problems],
            }
        )
    else:
        for problem in catalog.problems:
            click.echo(str(problem))
        progress(f"{len(catalog.files)} file(s) read, {len(catalog.problems)} problem(s)")
    if catalog.problems:
        raise SystemExit(1)


@group.command(name="import")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--builtin", is_flag=True, help="Import the library that ships with nettui.")
@click.option("--prune", is_flag=True, help="Remove catalog objects that are not in the files.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
def import_(app: AppContext, paths: tuple[Path, ...], builtin: bool, prune: bool, dry_run: bool, as_json: bool) -> None:
    """Create or update catalog objects from PATHS (files or folders), matched by slug.

    One transaction: any problem and nothing is imported. Objects missing from the files stay
    unless --prune is given.
    """
    sources = list(paths) + ([LIBRARY_DIR] if builtin else [])
    if not sources:
        raise click.UsageError("give a PATH, or --builtin")
    try:
        report = import_catalog(app.store(), sources, prune=prune, dry_run=dry_run)
    except CatalogInvalid as exc:
        if as_json:
            emit_json({"problems": [{"path": p.path, "line": p.line, "message": p.message} for p in exc.problems]})
        raise
    if as_json:
        emit_json(report.as_dict())
    else:
        for label in report.created:
            progress(f"created   {label}")
        for label in report.updated:
            progress(f"updated   {label}")
        for label in report.removed:
            progress(f"removed   {label}")
    progress(report.summary())


@group.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@pass_app
def export(app: AppContext, directory: Path) -> None:
    """Write the catalog to DIRECTORY, one YAML file per object (what import reads)."""
    written = export_catalog(app.store(), directory)
    progress(f"{len(written)} file(s) written to {directory}")


@group.command(name="list")
@click.option("--kind", type=click.Choice(KIND_CHOICES), help="Only this kind.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_(app: AppContext, kind: str | None, as_json: bool) -> None:
    """List catalog objects."""
    with app.store().read_session() as session:
        rows = list_catalog(session, kind)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        progress("the catalog is empty: `nettui catalog import --builtin` loads the built-in library")
        return
    emit_table(rows, [("kind", "KIND"), ("key", "SLUG"), ("name", "NAME"), ("category", "CATEGORY"), ("enabled", "ON")])


@group.command()
@click.argument("slug")
@click.option("--kind", type=click.Choice(list(KINDS)), help="When SLUG names objects of several kinds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: AppContext, slug: str, kind: str | None, as_json: bool) -> None:
    """Show one catalog object as its file (YAML), or as JSON."""
    with app.store().read_session() as session:
        spec, obj = find_object(session, slug, kind)
        data = file_data(spec.to_file(obj))
    if as_json:
        emit_json(data)
    else:
        click.echo(to_yaml(data), nl=False)


@group.command(name="explain")
@click.argument("task")
@click.option("--device", "device_name", required=True, help="The device to match against.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def explain_(app: AppContext, task: str, device_name: str, as_json: bool) -> None:
    """Show which implementation of TASK runs on a device, and why each other one does not."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from catalog import models as m
    from catalog.errors import NettuiError

    with app.store().read_session() as session:
        task_obj = session.scalars(
            select(m.TaskDefinition)
            .where(m.TaskDefinition.slug == task)
            .options(selectinload(m.TaskDefinition.implementations))
        ).one_or_none()
        if task_obj is None:
            raise NettuiError(f"no task '{task}'", hint="`nettui catalog list --kind task` lists them")
        device = session.scalars(select(m.Device).where(m.Device.name == device_name)).one_or_none()
        if device is None:
            raise NettuiError(f"no device '{device_name}'", hint="`nettui inventory list` lists them")
        verdicts = explain(task_obj, device)
        rows = [
            {
                "implementation": v.implementation.slug,
                "priority": v.implementation.priority,
                "selected": i == 0 and v.accepted,
                "accepted": v.accepted,
                "reason": v.reason,
            }
            for i, v in enumerate(verdicts)
        ]
        device_text = describe_device(device)
    if as_json:
        emit_json({"task": task, "device": device_name, "candidates": rows})
    else:
        click.echo(f"task {task} on device {device_name} ({device_text}):")
        for row in rows:
            mark = "=>" if row["selected"] else ("ok" if row["accepted"] else "--")
            click.echo(f"  {mark} {row['implementation']} (priority {row['priority']}): {row['reason']}")
        if not rows:
            click.echo("  the task has no implementations")
    if not rows or not rows[0]["accepted"]:
        raise SystemExit(1)
