"""`nettui device`: quick checks against one device, through its provider."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_record, progress

DRIVERS = ["netmiko", "scrapli"]
driver_option = click.option(
    "--driver",
    type=click.Choice(DRIVERS),
    default=None,
    help="Client library (default: the device's provider config, else netmiko).",
)
timeout_option = click.option(
    "--timeout", type=float, default=None, help="Seconds per step (default: the provider config's, else 15)."
)
retries_option = click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=None,
    help="Tries again to reach an unreachable device, never re-sending a command "
    "(default: the provider config's, else 0).",
)


@click.group(name="device")
def group() -> None:
    """Talk to one device: run a command, read its facts or configuration, trust its host key."""


async def _with_device(
    app: AppContext, name: str, driver: str | None, timeout: float | None, action: Any, retries: int | None = None
) -> Any:
    from drivers.connect import connect

    provider = await connect(app.store(), name, driver, timeout=timeout, retries=retries)
    try:
        value = await action(provider)
        value_driver = provider.name
    finally:
        await provider.close()
    return value, value_driver


@group.command()
@click.argument("name")
@click.argument("command")
@driver_option
@timeout_option
@retries_option
@click.option("--parse", is_flag=True, help="Parse the output with ntc-templates (TextFSM) where a template exists.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (output, and the parse with --parse).")
@pass_app
def run(
    app: AppContext,
    name: str,
    command: str,
    driver: str | None,
    timeout: float | None,
    retries: int | None,
    parse: bool,
    as_json: bool,
) -> None:
    """Run one show COMMAND on device NAME and print what it answers."""
    result, used = asyncio.run(
        _with_device(app, name, driver, timeout, lambda p: p.send_command(command, parse=parse or as_json), retries)
    )
    if as_json:
        emit_json(
            {
                "device": name,
                "command": command,
                "driver": used,
                "output": result.output,
                "parsed": result.parsed,
                "elapsed_s": round(result.elapsed, 3),
            }
        )
    elif parse and result.parsed is not None:
        emit_json(result.parsed)
    else:
        click.echo(result.output)


@group.command()
@click.argument("name")
@driver_option
@timeout_option
@retries_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def facts(
    app: AppContext, name: str, driver: str | None, timeout: float | None, retries: int | None, as_json: bool
) -> None:
    """Hostname, model, serial, software version and uptime of device NAME, read live."""
    found, _ = asyncio.run(_with_device(app, name, driver, timeout, lambda p: p.get_facts(), retries))
    if as_json:
        emit_json({"device": name, **found})
    else:
        emit_record({"device": name, **found})


@group.command()
@click.argument("name")
@driver_option
@timeout_option
@retries_option
@click.option("--startup", is_flag=True, help="The startup configuration instead of the running one.")
@pass_app
def config(
    app: AppContext, name: str, driver: str | None, timeout: float | None, retries: int | None, startup: bool
) -> None:
    """Print the running (or startup) configuration of device NAME."""
    text, _ = asyncio.run(
        _with_device(app, name, driver, timeout, lambda p: p.get_config("startup" if startup else "running"), retries)
    )
    click.echo(text)


@group.command()
@click.argument("name")
@timeout_option
@click.option("--yes", is_flag=True, help="Accept the key the device presents now without asking.")
@pass_app
def trust(app: AppContext, name: str, timeout: float | None, yes: bool) -> None:
    """Accept the SSH host key device NAME presents now (after a replacement or re-key)."""
    from drivers.connect import trust_current_key
    from drivers.trust import fetch_host_key

    store = app.store()
    timeout = timeout or 15.0
    if not yes:
        from catalog.inventory import get_device

        with store.read_session() as session:
            device = get_device(session, name)
            host, port = device.host, device.ssh_port
        key = asyncio.run(fetch_host_key(name, host, port, timeout))
        click.confirm(f"device {name} presents {key.key_type} {key.fingerprint}. Trust it?", abort=True)
    previous, current = asyncio.run(trust_current_key(store, name, timeout=timeout))
    before = f"{previous.key_type} {previous.fingerprint}" if previous else "none"
    progress(f"device {name}: now trusting {current.key_type} {current.fingerprint} (was: {before})")
