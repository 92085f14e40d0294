"""`nettui catalog`: validate, import, export, list, show and explain the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


# -- the catalog in Git ------------------------------------------------------------------------


@group.group(name="repo")
def repo_group() -> None:
    """Git repositories that hold catalog content (or backups): add, list, show, remove."""


@repo_group.command(name="add")
@click.argument("name")
@click.option("--url", required=True, help="The remote: https://, ssh://, file:// or git@host:path (no password).")
@click.option("--branch", default="main", show_default=True, help="The branch to pull from and push to.")
@click.option("--path", "folder", default="", help="The folder inside the repository (default: its root).")
@click.option(
    "--provides",
    default="tasks,workflows,forms,checks,providers",
    show_default=True,
    help="Comma-separated content kinds: tasks, implementations, workflows, forms, checks, providers, backups.",
)
@click.option("--credentials", metavar="GROUP", help="Secrets group with a 'token' (https) or 'ssh_key' entry.")
@click.option("--json", "as_json", is_flag=True, help="Print the repository as JSON.")
@pass_app
def repo_add(
    app: AppContext,
    name: str,
    url: str,
    branch: str,
    folder: str,
    provides: str,
    credentials: str | None,
    as_json: bool,
) -> None:
    """Record repository NAME (nothing is fetched until `nettui catalog pull NAME`)."""
    from nettui.gitrepo import add_repository

    record = add_repository(
        app.store(),
        name,
        url,
        branch=branch,
        path=folder,
        provides=provides.split(","),
        credentials=credentials,
    )
    if as_json:
        emit_json(record)
    else:
        progress(f"repository {record['name']} added: {record['url']} ({record['branch']})")


@repo_group.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def repo_list(app: AppContext, as_json: bool) -> None:
    """List the repositories, with how their last pull or push ended."""
    from nettui.gitrepo import list_repositories

    rows = list_repositories(app.store())
    if as_json:
        emit_json(rows)
        return
    if not rows:
        progress("no repositories: `nettui catalog repo add NAME --url URL` records one")
        return
    for row in rows:
        row["last_commit"] = (row.get("last_commit") or "")[:12]
    emit_table(
        rows,
        [
            ("name", "NAME"),
            ("url", "URL"),
            ("branch", "BRANCH"),
            ("path", "PATH"),
            ("provides", "PROVIDES"),
            ("last_status", "LAST"),
            ("last_commit", "COMMIT"),
        ],
    )


@repo_group.command(name="show")
@click.argument("name")
@click.option("--limit", default=20, show_default=True, help="How many pulls and pushes to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def repo_show(app: AppContext, name: str, limit: int, as_json: bool) -> None:
    """Show repository NAME and its latest pulls and pushes (commit, time, status, errors)."""
    from nettui.gitrepo import show_repository

    record = show_repository(app.store(), name, syncs=max(1, limit))
    if as_json:
        emit_json(record)
        return
    for key in ("name", "url", "branch", "path", "provides", "credentials"):
        value = record[key]
        click.echo(f"{key}: {','.join(value) if isinstance(value, list) else (value or '-')}")
    click.echo("syncs:" if record["syncs"] else "syncs: none yet")
    for sync in record["syncs"]:
        when = sync["started_at"].strftime("%Y-%m-%d %H:%M:%S")
        first = (sync["message"] or "").splitlines()[0] if sync["message"] else ""
        click.echo(f"  {when}  {sync['direction']:<6} {sync['status']:<9} {sync['commit'][:12] or '-':<12}  {first}")
        for error in sync["errors"][:20]:
            where = f"{error['path']}:{error['line']}" if "line" in error else error.get("path", "")
            click.echo(f"      {where}: {error.get('message', '')}")


@repo_group.command(name="remove")
@click.argument("name")
@pass_app
def repo_remove(app: AppContext, name: str) -> None:
    """Forget repository NAME and its history of pulls and pushes (the remote is untouched)."""
    from nettui.gitrepo import remove_repository

    remove_repository(app.store(), name)
    progress(f"repository {name} removed")


def _sync_outcome(result: Any, as_json: bool) -> None:
    if as_json:
        emit_json(result.as_dict())
    elif result.ok:
        report = result.report
        for verb in ("created", "updated", "removed", "added", "modified", "deleted"):
            for label in report.get(verb, []):
                progress(f"{verb:<9} {label}")
        progress(result.message)
    else:
        click.echo(result.message, err=True)
    if not result.ok:
        raise SystemExit(1)


@group.command()
@click.argument("repo")
@click.option("--commit", metavar="SHA", help="Import this commit of the branch (default: its latest).")
@click.option("--dry-run", is_flag=True, help="Report what would change; write and record nothing.")
@click.option(
    "--discard-local",
    is_flag=True,
    help="Take the repository's version of objects also changed in the store since the last pull or push.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_app
def pull(app: AppContext, repo: str, commit: str | None, dry_run: bool, discard_local: bool, as_json: bool) -> None:
    """Import the catalog files of one commit of REPO, all or nothing, and record it.

    Any problem (reported as file:line from the repository's root) and nothing is imported.
    Objects changed in the store since the last pull or push that the commit would replace are
    reported as conflicts, and nothing is imported, unless --discard-local is given."""
    from nettui.gitrepo import pull_catalog

    result = pull_catalog(app.store(), repo, commit=commit, dry_run=dry_run, discard_local=discard_local)
    _sync_outcome(result, as_json)


@group.command()
@click.argument("repo")
@click.option("--message", "-m", help="The commit's title (default: what changed).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@pass_app
def push(app: AppContext, repo: str, message: str | None, as_json: bool) -> None:
    """Export the store's content of the kinds REPO provides, commit it and push (never forced).

    A file changed both in the repository and in the store since the last pull or push is a
    conflict: it is reported and nothing is pushed."""
    from nettui.gitrepo import push_catalog

    _sync_outcome(push_catalog(app.store(), repo, message=message), as_json)
