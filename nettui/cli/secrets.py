"""`nettui secrets`: secrets groups hold references (env:, file:, keyring:), never values.

No command here ever prints a secret: ``check`` fetches each one only to say whether it is
there, and ``store-keyring`` writes a typed-in value into the keyring, not into the store.
"""

from __future__ import annotations

import sys

import click

from catalog.errors import NettuiError
from catalog.secrets import (
    Secret,
    check_group,
    delete_group,
    find_group,
    format_reference,
    get_group,
    group_record,
    list_groups,
    parse_assignment,
    remove_entries,
    set_group_entries,
    store_in_keyring,
)
from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_record, emit_table, progress

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group(name="secrets")
def group() -> None:
    """Secrets groups: where each credential lives (env:, file: or keyring:).

    nettui stores references, never secret values.
    """


@group.command(name="set")
@click.argument("group_name", metavar="GROUP")
@click.argument("assignments", metavar="ENTRY=REF...", nargs=-1, required=True)
@click.option("--description", help="Describe the group (replaces the current description).")
@pass_app
def set_(app: AppContext, group_name: str, assignments: tuple[str, ...], description: str | None) -> None:
    """Create GROUP if needed and set entries to references.

    A reference is env:VARIABLE, file:/path/to/file or keyring:SERVICE/USERNAME. Example:

    \b
        nettui secrets set lab username=env:LAB_USER password=keyring:nettui-lab/admin
    """
    entries: dict[str, str] = {}
    for text in assignments:
        name, ref = parse_assignment(text)
        if name in entries:
            raise NettuiError(f"entry {name!r} is given twice", where=f"secrets group {group_name!r}")
        entries[name] = ref
    with app.store().session() as session:
        created = find_group(session, group_name) is None
        grp = set_group_entries(session, group_name, entries, description=description)
        count = len(grp.entries)
    verb = "created" if created else "updated"
    progress(f"secrets group {group_name!r} {verb}: {', '.join(entries)} set ({count} entries)")


@group.command()
@click.argument("group_name", metavar="GROUP")
@click.argument("names", metavar="ENTRY...", nargs=-1, required=True)
@pass_app
def unset(app: AppContext, group_name: str, names: tuple[str, ...]) -> None:
    """Remove entries from GROUP (the secrets themselves are left where they are)."""
    with app.store().session() as session:
        grp = remove_entries(session, group_name, names)
        left = len(grp.entries)
    progress(f"secrets group {group_name!r}: removed {', '.join(names)} ({left} entries left)")


@group.command()
@click.argument("group_name", metavar="GROUP")
@click.option("--yes", is_flag=True, help="Confirm the deletion.")
@pass_app
def delete(app: AppContext, group_name: str, yes: bool) -> None:
    """Delete GROUP and its references (refused while devices use it)."""
    if not yes:
        raise click.UsageError("pass --yes to delete the group")
    with app.store().session() as session:
        delete_group(session, group_name)
    progress(f"secrets group {group_name!r} deleted")


@group.command(name="list")
@_JSON
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """List secrets groups and their entries' names."""
    with app.store().read_session() as session:
        records = [group_record(g) for g in list_groups(session)]
    if as_json:
        emit_json(records)
        return
    rows = [
        {
            "name": r["name"],
            "entries": [e["name"] for e in r["entries"]],
            "backends": sorted({e["backend"] for e in r["entries"]}),
            "description": r["description"],
        }
        for r in records
    ]
    emit_table(
        rows, [("name", "GROUP"), ("entries", "ENTRIES"), ("backends", "BACKENDS"), ("description", "DESCRIPTION")]
    )


@group.command()
@click.argument("group_name", metavar="GROUP")
@_JSON
@pass_app
def show(app: AppContext, group_name: str, as_json: bool) -> None:
    """Show GROUP's entries and where each one points (never the values)."""
    with app.store().read_session() as session:
        record = group_record(get_group(session, group_name))
    if as_json:
        emit_json(record)
        return
    emit_record({"name": record["name"], "description": record["description"]})
    click.echo()
    rows = [
        {"name": e["name"], "backend": e["backend"], "reference": f"{e['backend']}:{e['reference']}"}
        for e in record["entries"]
    ]
    emit_table(rows, [("name", "ENTRY"), ("backend", "BACKEND"), ("reference", "REFERENCE")])


@group.command()
@click.argument("group_name", metavar="GROUP")
@_JSON
@pass_app
def check(app: AppContext, group_name: str, as_json: bool) -> None:
    """Fetch every secret of GROUP and report which are missing and why.

    Values are never printed. Exits with status 1 if any entry is missing.
    """
    with app.store().read_session() as session:
        grp = get_group(session, group_name)
        results = check_group(grp)
    missing = [r for r in results if not r.ok]
    if as_json:
        emit_json({"group": group_name, "ok": not missing, "entries": [r.as_dict() for r in results]})
    else:
        rows = [
            {
                "entry": r.entry,
                "reference": format_reference(r.backend, r.reference),
                "status": "ok" if r.ok else "MISSING",
                "note": r.problem or (f"warning: {r.warning}" if r.warning else ""),
            }
            for r in results
        ]
        emit_table(rows, [("entry", "ENTRY"), ("reference", "REFERENCE"), ("status", "STATUS"), ("note", "NOTE")])
        for r in results:
            if r.ok and r.warning:
                progress(f"warning: secrets group {group_name!r} entry {r.entry!r} ({r.backend.value}): {r.warning}")
        for r in missing:
            line = f"error: secrets group {group_name!r} entry {r.entry!r} ({r.backend.value}): {r.problem}"
            progress(line + (f"\n  hint: {r.hint}" if r.hint else ""))
    if not results:
        progress(f"secrets group {group_name!r} has no entries")
    if missing:
        progress(f"{len(missing)} of {len(results)} entries of secrets group {group_name!r} missing")
        sys.exit(1)


@group.command(name="store-keyring")
@click.argument("item", metavar="SERVICE/USERNAME")
def store_keyring(item: str) -> None:
    """Prompt for a secret (hidden, twice) and write it into the keyring item SERVICE/USERNAME.

    The store is not touched: point an entry at it with
    `nettui secrets set GROUP ENTRY=keyring:SERVICE/USERNAME`.
    """
    item = item.removeprefix("keyring:")
    value = click.prompt(f"secret for keyring item {item}", hide_input=True, confirmation_prompt=True, err=True)
    backend = store_in_keyring(item, Secret(value))
    del value
    progress(f"stored keyring item {item} in {backend}")
    if "Plaintext" in backend:
        # Worth saying out loud: this backend keeps the secret unencrypted on disk.
        progress(f"warning: {backend} stores secrets unencrypted; prefer an encrypted keyring backend")
    progress(f"use it with: nettui secrets set GROUP ENTRY=keyring:{item}")
