"""`nettui backup`: configuration backups, their history and differences, restore."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from catalog.models.choices import BackupType, ExecutionStatus, ScheduleTrigger
from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_table, progress
from nettui.cli.run import acting_user

DRIVERS = click.Choice(["asyncssh", "scrapli", "netmiko"])


def target_devices(app: AppContext, devices: tuple[str, ...], filters: tuple[str, ...], every: bool) -> list[str]:
    """--device names, the devices --filter selects, or --all of them."""
    from catalog.inventory import list_devices, parse_filters

    if every and (devices or filters):
        raise click.UsageError("--all goes alone, without --device or --filter")
    names = list(devices)
    if filters or every:
        with app.store().read_session() as session:
            names += [d.name for d in list_devices(session, parse_filters(filters) if filters else None)]
    if not names:
        raise click.UsageError("give --device NAME, --filter KEY=VALUE or --all")
    return sorted(set(names))


@click.group(name="backup")
def group() -> None:
    """Configuration backups: collect, history, diff and restore."""


@group.command(name="run")
@click.option("--device", "devices", multiple=True, help="Back up this device (repeatable).")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="Back up the devices matching.")
@click.option("--all", "every", is_flag=True, help="Back up every device in the inventory.")
@click.option("--driver", type=DRIVERS, default="asyncssh", show_default=True, help="Client library.")
@click.option("--concurrency", type=click.IntRange(1, 1000), help="Devices at a time (default: the driver's).")
@click.option(
    "--secrets",
    type=click.Choice(["mask", "remove", "keep"]),
    help="Secret lines: mask the secret, remove the line, or keep it (default: $NETTUI_BACKUP_SECRETS, else mask).",
)
@click.option("--no-startup", is_flag=True, help="Collect the running configuration only.")
@click.option("--no-facts", is_flag=True, help="Do not record version and hardware with the backup.")
@click.option("--keep", "keep_last", type=click.IntRange(1), help="Then keep only the last N versions per device.")
@click.option("--keep-days", type=click.FloatRange(min=0, min_open=True), help="Then drop versions older than D days.")
@click.option(
    "--git",
    "git_url",
    metavar="URL|REPO",
    help="Then commit every device's configuration to this Git repository: a URL, or the name of a "
    "repository added with `nettui catalog repo add NAME --provides backups` (its URL, branch, folder "
    "and credentials).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome per device as JSON.")
@pass_app
def run(
    app: AppContext,
    devices: tuple[str, ...],
    filters: tuple[str, ...],
    every: bool,
    driver: str,
    concurrency: int | None,
    secrets: str | None,
    no_startup: bool,
    no_facts: bool,
    keep_last: int | None,
    keep_days: float | None,
    git_url: str | None,
    as_json: bool,
) -> None:
    """Back up devices' configurations; a new version is stored only when it changed.

    Exit status 1 when any device could not be backed up."""
    from nettui.lifecycle.backup import DeviceBackup, run_backups
    from nettui.lifecycle.configtext import secret_policy

    store = app.store()
    names = target_devices(app, devices, filters, every)

    def done(outcome: DeviceBackup, count: int, total: int) -> None:
        what = "failed: " + outcome.error if not outcome.ok else "collected"
        progress(f"[{count}/{total}] {outcome.device}: {what}")

    result = asyncio.run(
        run_backups(
            store,
            names,
            driver=driver,
            concurrency=concurrency,
            policy=secret_policy(secrets) if secrets else None,
            startup=not no_startup,
            facts=not no_facts,
            keep_last=keep_last,
            keep_days=keep_days,
            git_url=git_url,
            on_done=done,
        )
    )
    progress(result.summary())
    if result.git_commit:
        progress(f"git: committed {result.git_commit[:12]} to {git_url}")
    if as_json:
        emit_json(result.to_json())
    else:
        emit_table(
            [
                {
                    "device": d.device,
                    "result": "failed" if not d.ok else ("changed" if d.stored else "unchanged"),
                    "versions": ", ".join(f"{s} #{i}" for s, i in d.stored.items()),
                    "problems": "; ".join(f"{s}: {', '.join(p)}" for s, p in d.problems.items()) or d.error,
                }
                for d in result.devices
            ],
            [("device", "DEVICE"), ("result", "RESULT"), ("versions", "NEW VERSIONS"), ("problems", "PROBLEMS")],
        )
    if result.failed:
        raise SystemExit(1)


@group.command(name="list")
@click.argument("device", required=False)
@click.option("--source", type=click.Choice(["running", "startup"]), help="Only this configuration.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def list_(app: AppContext, device: str | None, source: str | None, as_json: bool) -> None:
    """A device's versions, newest first; without DEVICE, the latest of every device."""
    from nettui.lifecycle.backup import history

    rows = history(app.store(), device, source=source)
    if as_json:
        emit_json(rows)
        return
    emit_table(
        rows,
        [
            ("id", "VERSION"),
            ("device", "DEVICE"),
            ("backup_type", "TYPE"),
            ("source", "SOURCE"),
            ("backup_timestamp", "TAKEN (UTC)"),
            ("validated", "VALID"),
            ("restore_count", "RESTORED"),
            ("version", "SOFTWARE"),
            ("lines", "LINES"),
        ],
    )


@group.command(name="show")
@click.argument("version", type=int)
@click.option("--json", "as_json", is_flag=True, help="The record with its metadata as JSON.")
@pass_app
def show(app: AppContext, version: int, as_json: bool) -> None:
    """Print backup VERSION (the configuration text; --json for every field)."""
    from nettui.lifecycle.backup import get_record

    record = get_record(app.store(), version)
    if as_json:
        emit_json(record)
        return
    click.echo(record["backup_data"], nl=not record["backup_data"].endswith("\n"))


@group.command(name="diff")
@click.argument("device")
@click.option("--from", "older", type=int, help="The older version (default: the one before --to).")
@click.option("--to", "newer", type=int, help="The newer version (default: the latest).")
@click.option("--source", type=click.Choice(["running", "startup"]), default="running", show_default=True)
@pass_app
def diff(app: AppContext, device: str, older: int | None, newer: int | None, source: str) -> None:
    """Unified diff between two versions of DEVICE (default: the two latest)."""
    from nettui.lifecycle.backup import resolve_pair, unified_diff

    store = app.store()
    a, b = resolve_pair(store, device, older, newer, source)
    text = unified_diff(store, a, b)
    if not text:
        progress(f"versions {a} and {b} are the same")
        return
    click.echo(text, nl=False)


@group.command(name="restore")
@click.argument("version", type=int)
@click.option("--driver", type=DRIVERS, default="asyncssh", show_default=True)
@click.option("--dry-run", is_flag=True, help="Print what would be sent; change nothing.")
@click.option("--as", "as_user", metavar="USER", help="Act as USER (admins only).")
@pass_app
def restore(app: AppContext, version: int, driver: str, dry_run: bool, as_user: str | None) -> None:
    """Bring a device back to backup VERSION through the restore-config workflow.

    The difference from the live configuration is sent (hier-config); lines holding a
    masked secret are not. Exit status: 0 restored (or nothing to do), 1 failed, 3 awaiting
    approval."""
    from nettui.lifecycle.backup import plan_restore
    from nettui.lifecycle.backup import restore as do_restore

    store = app.store()
    if dry_run:
        plan = asyncio.run(plan_restore(store, version, driver=driver))
        for line in plan.lines:
            click.echo(line)
        progress(f"{plan.device}: {len(plan.lines)} line(s) would be sent, {len(plan.skipped)} masked line(s) not")
        return
    plan, execution_id, status = do_restore(store, version, requested_by=acting_user(app, as_user), driver=driver)
    if plan.skipped:
        progress(f"not sent ({len(plan.skipped)} line(s) with a masked secret): set those secrets by hand")
    if execution_id is None:
        progress(f"{plan.device} already has the configuration of version {version}: nothing to send")
        return
    progress(f"execution {execution_id}: restore-config on {plan.device}: {status.value if status else '?'}")
    if status == ExecutionStatus.AWAITING_APPROVAL:
        progress(f"an approver runs it: nettui approve {execution_id}")
        click.echo(execution_id)
        raise SystemExit(3)
    if status != ExecutionStatus.COMPLETED:
        raise SystemExit(1)


@group.command(name="prune")
@click.option("--keep", "keep_last", type=click.IntRange(1), help="Keep the last N versions per device.")
@click.option("--keep-days", type=click.FloatRange(min=0, min_open=True), help="Drop versions older than D days.")
@pass_app
def prune(app: AppContext, keep_last: int | None, keep_days: float | None) -> None:
    """Apply the retention policy (the latest version of each device always stays)."""
    from nettui.lifecycle.backup import prune as do_prune

    if keep_last is None and keep_days is None:
        raise click.UsageError("give --keep N and/or --keep-days D")
    progress(f"{do_prune(app.store(), keep_last=keep_last, keep_days=keep_days)} version(s) removed")


@group.command(name="add-file")
@click.argument("device")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--type", "backup_type", type=click.Choice(["os_image", "full"]), required=True)
@pass_app
def add_file(app: AppContext, device: str, path: Path, backup_type: str) -> None:
    """Record an OS image or full backup of DEVICE kept at PATH (a reference and its SHA-256)."""
    from nettui.lifecycle.backup import register_file_backup

    record_id = register_file_backup(app.store(), device, path, BackupType(backup_type))
    click.echo(record_id)


@group.command(name="export-git")
@click.argument("url", metavar="URL|REPO")
@pass_app
def export_git(app: AppContext, url: str) -> None:
    """Commit every device's latest configuration to a Git repository and push it.

    URL|REPO is the repository's URL, or the name of a repository added with
    `nettui catalog repo add NAME --provides backups` (then its URL, branch, folder and
    credentials are used). One file per device, one commit per export, never force-pushed.
    """
    from nettui.lifecycle.backup import export_to_git

    commit = export_to_git(app.store(), url)
    progress(f"committed {commit}" if commit else "nothing changed since the last export")


@group.command(name="schedule")
@click.argument("name")
@click.option("--device", "devices", multiple=True, help="Back up this device (repeatable).")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="Back up the devices matching.")
@click.option("--all", "every", is_flag=True, help="Every device in the inventory now.")
@click.option("--every", "interval", help="Interval: 30m, 6h, 1d.")
@click.option("--cron", help='Cron line in UTC, e.g. "0 2 * * *".')
@click.option("--as", "as_user", metavar="USER", help="Act as USER (admins only).")
@pass_app
def schedule(
    app: AppContext,
    name: str,
    devices: tuple[str, ...],
    filters: tuple[str, ...],
    every: bool,
    interval: str | None,
    cron: str | None,
    as_user: str | None,
) -> None:
    """Schedule NAME: the backup-all workflow on these devices (fired by `nettui engine`)."""
    from nettui.engine.scheduling import add_schedule

    if bool(interval) == bool(cron):
        raise click.UsageError("give one of --every or --cron")
    names = target_devices(app, devices, filters, every)
    trigger = ScheduleTrigger.INTERVAL if interval else ScheduleTrigger.CRON
    schedule_id = add_schedule(
        app.store(),
        name,
        "backup-all",
        trigger,
        str(interval or cron),
        devices=names,
        inputs={},
        requested_by=acting_user(app, as_user),
    )
    progress(f"schedule {name} ({schedule_id}): backup-all on {len(names)} device(s)")
