"""`nettui discover`: find devices on the network and record them; list and show past jobs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_record, emit_table, progress

if TYPE_CHECKING:
    from nettui.discovery import DiscoveryProgress

__all__ = ["group"]

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_SOURCES = ("cidr", "ip_range", "csv_file", "seeds", "controller")


def _address_map(path: Path) -> dict[str, str]:
    """A YAML (or JSON) mapping: advertised management address -> host:port to reach it at."""
    import yaml

    from catalog.errors import NettuiError

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise NettuiError(f"cannot read the address map: {exc}", where=str(path)) from None
    if not isinstance(data, dict):
        raise NettuiError(
            "expected a mapping of advertised addresses to host:port",
            where=str(path),
            hint="e.g. 10.200.0.2: 127.0.0.1:10023",
        )
    return {str(k): str(v) for k, v in data.items()}


def _print_progress(event: DiscoveryProgress) -> None:
    if event.address is None:
        progress(f"discovering: {event.total} target(s)")
        return
    progress(f"[{event.done}/{event.total}] {event.address}  {event.outcome}  {event.detail}".rstrip())


def result_line(result: dict[str, Any]) -> str:
    """One address's outcome in words: ``created sw1 (cisco_ios, serial FOC...)`` or ``[reach] unreachable``."""
    if result.get("outcome") == "failed":
        return f"[{result.get('stage')}] {result.get('reason')}"
    facts = ", ".join(f"{key} {result[key]}" for key in ("serial", "model", "version") if result.get(key))
    return f"{result.get('outcome')}  {result.get('device')} ({result.get('platform')}{', ' + facts if facts else ''})"


def _emit_job(record: dict[str, Any]) -> None:
    errors = record.pop("errors")
    results = record.pop("results", None) or []
    record.pop("devices", None)
    emit_record(record)
    if results:
        click.echo("\naddresses:")
        for result in results:
            click.echo(f"  {result.get('address') or '-'}  {result_line(result)}")
    shown = {r.get("address") for r in results}
    rest = [e for e in errors if not e.get("address") or e.get("address") not in shown]
    if rest:
        click.echo("\nerrors:")
        for error in rest:
            click.echo(f"  {error.get('address') or '-'}  [{error.get('stage')}] {error.get('reason')}")


@click.group(name="discover", invoke_without_command=True)
@click.option("--cidr", metavar="PREFIX", help="Probe every address of PREFIX (on each of --ports).")
@click.option("--range", "ip_range", metavar="A-B", help="Probe addresses A to B (10.0.0.1-10.0.0.9 or 10.0.0.1-9).")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(path_type=Path),
    help="Probe the rows of a CSV file (host, ssh_port, name, platform, secrets_group).",
)
@click.option("--lldp-seed", "seeds", multiple=True, metavar="NAME", help="Crawl LLDP neighbours from this device.")
@click.option("--controller", metavar="NAME", help="Take the device list from this HTTP API provider config.")
@click.option("--ports", metavar="LIST", help="SSH ports to probe: 22, 22,830 or 10022-10041 (default 22).")
@click.option(
    "--secrets-group", "groups", multiple=True, metavar="NAME", help="Credentials to try, in order (repeatable)."
)
@click.option(
    "--depth", type=click.IntRange(0, 64), default=1, show_default=True, help="LLDP crawl: hops from the seeds."
)
@click.option("--max-devices", type=click.IntRange(1), help="LLDP crawl: stop after this many devices.")
@click.option(
    "--allow", "allowed", multiple=True, metavar="PREFIX", help="LLDP crawl: follow only addresses in PREFIX."
)
@click.option(
    "--address-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="LLDP crawl: YAML mapping advertised address -> host:port where it is reached.",
)
@click.option("--controller-path", metavar="PATH", help="Controller: the device list's path (default /devices).")
@click.option("--no-probe", is_flag=True, help="Controller: record its devices as it lists them, without logging in.")
@click.option("--concurrency", type=click.IntRange(1, 1000), help="Addresses probed at once (default 20).")
@click.option("--connect-timeout", type=click.FloatRange(0.05, 120), help="Seconds to wait for a TCP connection (2).")
@click.option("--timeout", type=click.FloatRange(0.5, 600), help="Seconds to wait for a prompt or output (15).")
@click.option(
    "--detect",
    type=click.Choice(["show_version", "netmiko"]),
    help="How to tell the platform: read show version (default), or netmiko's autodetect (slow).",
)
@click.option("--as", "as_user", metavar="USER", help="Act as USER (admins only).")
@_JSON
@click.pass_context
def group(
    ctx: click.Context,
    cidr: str | None,
    ip_range: str | None,
    csv_file: Path | None,
    seeds: tuple[str, ...],
    controller: str | None,
    ports: str | None,
    groups: tuple[str, ...],
    depth: int,
    max_devices: int | None,
    allowed: tuple[str, ...],
    address_map: Path | None,
    controller_path: str | None,
    no_probe: bool,
    concurrency: int | None,
    connect_timeout: float | None,
    timeout: float | None,
    detect: str | None,
    as_user: str | None,
    as_json: bool,
) -> None:
    """Find devices (CIDR, range, CSV, controller, LLDP crawl) and record them."""
    if ctx.invoked_subcommand is not None:
        return
    given = [name for name, value in zip(_SOURCES, (cidr, ip_range, csv_file, seeds, controller), strict=True) if value]
    if len(given) != 1:
        raise click.UsageError(
            "give one of --cidr PREFIX, --range A-B, --csv FILE, --lldp-seed NAME or --controller NAME"
            + (f" (not {len(given)})" if given else "")
        )
    from nettui.cli.run import acting_user
    from nettui.discovery import discover

    config: dict[str, Any] = {"secrets_groups": list(groups)}
    if ports:
        config["ports"] = ports
    if cidr:
        kind, config["cidr"] = "cidr", cidr
    elif ip_range:
        kind, config["range"] = "ip_range", ip_range
    elif csv_file:
        kind, config["csv"] = "csv_import", str(csv_file.resolve())
    elif controller:
        kind, config["controller"] = "controller_api", controller
        if controller_path:
            config["controller_path"] = controller_path
        if no_probe:
            config["probe"] = False
    else:
        kind, config["seeds"], config["depth"] = "lldp_crawl", list(seeds), depth
        config["allowed_prefixes"] = list(allowed)
        if max_devices is not None:
            config["max_devices"] = max_devices
        if address_map is not None:
            config["address_map"] = _address_map(address_map)
    tuning = {"concurrency": concurrency, "connect_timeout": connect_timeout, "timeout": timeout, "detect": detect}
    for key, value in tuning.items():
        if value is not None:
            config[key] = value
    app = ctx.ensure_object(AppContext)
    store = app.store()
    result = asyncio.run(
        discover(store, kind, config, requested_by=acting_user(app, as_user), progress=_print_progress)
    )
    if as_json:
        emit_json(result)
    else:
        devices = result.get("devices") or []
        _emit_job(dict(result))
        if devices:
            click.echo(f"\ndevices: {', '.join(devices)}")
    if result["status"] != "completed":
        for error in result["errors"]:
            if error.get("stage") == "job":
                click.echo(f"error: {error['reason']}", err=True)
        ctx.exit(1)


@group.command(name="list")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="How many jobs.")
@_JSON
@pass_app
def list_(app: AppContext, limit: int, as_json: bool) -> None:
    """List discovery jobs, newest first."""
    from nettui.discovery import list_jobs

    rows = list_jobs(app.store(), limit)
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        row["failures"] = len(row["errors"])
        row.pop("results", None)
    emit_table(
        rows,
        [
            ("id", "ID"),
            ("discovery_type", "TYPE"),
            ("status", "STATUS"),
            ("run_timestamp", "STARTED"),
            ("devices_discovered", "FOUND"),
            ("devices_created", "CREATED"),
            ("devices_updated", "UPDATED"),
            ("failures", "ERRORS"),
            ("requested_by", "BY"),
        ],
    )


@group.command()
@click.argument("job_id", type=int)
@_JSON
@pass_app
def show(app: AppContext, job_id: int, as_json: bool) -> None:
    """Show discovery job JOB_ID: its settings, counts and every address's outcome (the device
    created or updated, or the reason it failed)."""
    from nettui.discovery import get_job

    record = get_job(app.store(), job_id)
    if as_json:
        emit_json(record)
        return
    _emit_job(record)
