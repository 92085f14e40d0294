"""`nettui inventory`: import devices from CSV or YAML, list them, show one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from catalog.inventory import DEVICE_FILTER_KEYS, device_to_dict, get_device, list_devices, parse_filters
from catalog.inventory_io import CSV_TAG_SEPARATOR, DEVICE_CSV_COLUMNS, InventoryImportError, import_inventory_file
from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_record, emit_table, progress

LIST_COLUMNS = [
    ("name", "NAME"),
    ("host", "HOST"),
    ("platform", "PLATFORM"),
    ("location", "LOCATION"),
    ("role", "ROLE"),
    ("status", "STATUS"),
    ("software_version", "VERSION"),
]


@click.group(name="inventory")
def group() -> None:
    """Devices and what they connect to: import, list, show."""


@group.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary (or the problems) as JSON on stdout.")
@pass_app
def import_(app: AppContext, file: Path, as_json: bool) -> None:
    """Create or update devices from FILE (.csv, or .yaml/.yml for the whole inventory).

    \b
    CSV: a header row, then one device per row. Columns:
      {columns}
    name and host are required; host is an IP address or a DNS name. ssh_port defaults
    to 22 and status to active. Separate several tags with '{sep}' in one cell.

    \b
    YAML: optional top-level lists manufacturers, platforms, locations, tenants, tags,
    roles, vlans, vrfs, devices (the CSV columns, tags as a list, and interfaces),
    prefixes and ip_addresses.

    Devices are matched by name: existing ones are updated, others created. An empty cell
    clears a field; a column left out of the file leaves it as it is. Missing locations,
    tenants, tags, roles and manufacturers are created; a platform is created when its
    name is a network driver (cisco_ios, arista_eos, napalm's ios...). Secrets groups must
    exist already. The import is all or nothing: any problem is reported with its
    file:line and nothing is changed.
    """
    store = app.store()
    started = time.perf_counter()
    try:
        with store.session() as session:
            summary = import_inventory_file(session, file)
    except InventoryImportError as exc:
        if as_json:
            emit_json({"file": str(file), "imported": False, "problems": [p.to_dict() for p in exc.problems]})
        raise
    elapsed = time.perf_counter() - started
    progress(f"imported {file} in {elapsed:.2f} s")
    for line in summary.lines():
        progress(f"  {line}")
    if as_json:
        emit_json({**summary.to_dict(), "imported": True, "seconds": round(elapsed, 3)})


if import_.help:
    import_.help = import_.help.format(columns=", ".join(DEVICE_CSV_COLUMNS), sep=CSV_TAG_SEPARATOR)


@group.command(name="list")
@click.option(
    "-f",
    "--filter",
    "filters",
    multiple=True,
    metavar="KEY=VALUE",
    help=f"Only matching devices; repeat a key for OR, use different keys for AND; '*' globs. "
    f"Keys: {', '.join(DEVICE_FILTER_KEYS)}.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_(app: AppContext, filters: tuple[str, ...], as_json: bool) -> None:
    """List devices, e.g. `nettui inventory list -f location=dc1 -f role=core -f 'name=sw*'`."""
    parsed = parse_filters(filters)
    with app.store().read_session() as session:
        records = [device_to_dict(device) for device in list_devices(session, parsed)]
    if as_json:
        emit_json(records)
    else:
        emit_table(records, LIST_COLUMNS)


@group.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: AppContext, name: str, as_json: bool) -> None:
    """Show everything about device NAME: fields, tags, interfaces, VLANs, IP addresses."""
    with app.store().read_session() as session:
        record = device_to_dict(get_device(session, name), with_interfaces=True)
    if as_json:
        emit_json(record)
        return
    emit_record({**record, "interfaces": [_interface_line(i) for i in record["interfaces"]]})


def _interface_line(interface: dict[str, Any]) -> dict[str, Any]:
    """An interface for the text view: IP addresses as one readable cell."""
    addresses = [ip["address"] + (f" (vrf {ip['vrf']})" if ip["vrf"] else "") for ip in interface["ip_addresses"]]
    return {**interface, "ip_addresses": addresses}


@group.group(name="sync")
def sync() -> None:
    """Sync the inventory from a source of truth (Nautobot)."""


@sync.command(name="nautobot")
@click.option("--url", required=True, help="Nautobot's address, e.g. https://nautobot.example.net.")
@click.option(
    "--token-ref",
    required=True,
    metavar="REF",
    help="Where the API token is: env:VARIABLE, file:/path or keyring:SERVICE/USERNAME (never the token itself).",
)
@click.option("--dry-run", is_flag=True, help="Show what would change (per kind of object); write nothing.")
@click.option(
    "--delete",
    "delete_policy",
    type=click.Choice(["keep", "mark", "delete"]),
    default="keep",
    show_default=True,
    help="Objects gone from Nautobot: keep them, mark them (devices get the tag nautobot-deleted), or delete them.",
)
@click.option("--full", is_flag=True, help="Fetch everything, not only what changed since the last sync.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@pass_app
def sync_nautobot_(
    app: AppContext, url: str, token_ref: str, dry_run: bool, delete_policy: str, full: bool, as_json: bool
) -> None:
    """Import Locations, Tenants, Tags, Manufacturers, Platforms, Devices, Interfaces, VLANs,
    VRFs, Prefixes and IP addresses from Nautobot, in one transaction.

    Rows are matched by Nautobot id (kept from earlier syncs), else by name. After the first
    sync, only objects changed in Nautobot since the last one are fetched (--full fetches all).
    """
    from nettui.sync.nautobot import resolve_token, sync_nautobot

    token = resolve_token(token_ref)
    summary = sync_nautobot(
        app.store(), url, token, dry_run=dry_run, delete_policy=delete_policy, full=full, progress=progress
    )
    for line in summary.lines():
        progress(line)
    progress(f"fetched in {summary.seconds['fetch']:.2f} s, applied in {summary.seconds['write']:.2f} s")
    if as_json:
        emit_json(summary.to_dict())
