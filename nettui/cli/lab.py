"""`nettui lab`: run simulated devices over real SSH on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
import sys
from pathlib import Path

import click
import platformdirs

from nettui.lab.platforms import PLATFORM_NAMES

__all__ = ["group"]


@click.group(name="lab")
def group() -> None:
    """Simulated multi-vendor devices for tests, demos and benchmarks."""


def _platforms(value: str) -> list[str]:
    names = [p.strip() for p in value.split(",") if p.strip()]
    unknown = [p for p in names if p not in PLATFORM_NAMES]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown platform(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(PLATFORM_NAMES)}"
        )
    return names


@group.command()
@click.option(
    "--devices", "count", type=click.IntRange(1, 5000), default=4, show_default=True, help="Number of devices."
)
@click.option(
    "--platforms",
    default=",".join(PLATFORM_NAMES),
    show_default=True,
    help="Comma-separated platforms, assigned to the devices in turn.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--base-port",
    type=click.IntRange(0, 65535),
    default=10022,
    show_default=True,
    help="Device i listens on BASE+i; 0 gives each device a free port.",
)
@click.option(
    "--topology", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Lab file with devices and links."
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Load device state from and save it to this file.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the lab keeps its SSH host key (default: the user data directory).",
)
@click.option(
    "--inventory-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write an inventory for `nettui inventory import`.",
)
@click.option("--username", default="admin", show_default=True)
@click.option("--password", default="admin", show_default=True, help="Login password of every device.")
@click.option("--enable-secret", default="enable", show_default=True)
@click.option(
    "--reload-seconds", type=click.FloatRange(0, 3600), default=5.0, show_default=True, help="How long a reload takes."
)
def start(
    count: int,
    platforms: str,
    host: str,
    base_port: int,
    topology: Path | None,
    state_file: Path | None,
    state_dir: Path | None,
    inventory_out: Path | None,
    username: str,
    password: str,
    enable_secret: str,
    reload_seconds: float,
) -> None:
    """Run a lab in the foreground until Ctrl-C.

    Prints one ready line with the ports, and writes the inventory (and an env file with the
    credentials, mode 0600, beside it) when --inventory-out is given.
    """
    from nettui.lab.inventory import secrets_command, write_env_file, write_inventory
    from nettui.lab.server import Lab
    from nettui.lab.topology import TopologyError

    if host not in ("127.0.0.1", "::1", "localhost"):
        click.echo(f"warning: the lab listens on {host}, not loopback: anyone who can reach it can log in.", err=True)
    try:
        lab = Lab(
            count,
            _platforms(platforms),
            host=host,
            base_port=base_port,
            username=username,
            password=password,
            enable_secret=enable_secret,
            state_dir=state_dir or Path(platformdirs.user_data_dir("nettui")) / "lab",
            state_file=state_file,
            topology=topology,
            reload_seconds=reload_seconds,
        )
    except (ValueError, TopologyError) as exc:
        raise click.ClickException(str(exc)) from exc

    async def run() -> None:
        try:
            await lab.start()
        except OSError as exc:
            raise click.ClickException(str(exc)) from exc
        ports = [d.port for d in lab.devices]
        contiguous = ports == list(range(ports[0], ports[0] + len(ports)))
        span = f"{ports[0]}-{ports[-1]}" if contiguous and len(ports) > 1 else ",".join(map(str, ports))
        if inventory_out is not None:
            write_inventory(inventory_out, lab.devices)
            env_file = inventory_out.with_name(inventory_out.stem + ".env")
            write_env_file(env_file, username, password, enable_secret)
            click.echo(f"inventory: {inventory_out}  credentials: {env_file} (mode 0600)", err=True)
            click.echo("to use it:", err=True)
            click.echo(f"  source {shlex.quote(str(env_file))}", err=True)
            click.echo(f"  {secrets_command()}", err=True)
            click.echo(f"  nettui inventory import {shlex.quote(str(inventory_out))}", err=True)
        # Handlers first, then the ready line: whoever waits for that line may signal at once.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        click.echo(f"lab ready: {len(lab.devices)} devices on {host} ports {span} (Ctrl-C to stop)", err=False)
        sys.stdout.flush()
        try:
            await stop.wait()
        finally:
            await lab.stop()
            click.echo("lab stopped", err=True)

    asyncio.run(run())


@group.command(name="platforms")
def platforms_() -> None:
    """List the simulated platforms and their netmiko and scrapli names."""
    from nettui.lab.platforms import get_platform

    for name in PLATFORM_NAMES:
        info = get_platform(name).describe()
        click.echo(f"{name:<15} {info['manufacturer']:<9} netmiko={info['netmiko']:<15} scrapli={info['scrapli']}")
