"""`nettui device`: quick checks against one device, through its provider."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import click

from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_record, progress

DRIVERS = ["netmiko", "scrapli", "asyncssh"]
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


class _TransferReport:
    """Progress of a transfer on stderr, a line per tenth (called from worker threads too)."""

    def __init__(self, device: str, verb: str) -> None:
        self.device = device
        self.verb = verb
        self._shown = -1
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int) -> None:
        tenth = 10 if total <= 0 else min(done * 10 // total, 10)
        with self._lock:
            if tenth <= self._shown:
                return
            self._shown = tenth
        progress(f"{self.device}: {self.verb} {tenth * 10}% ({_size(done)} of {_size(total)})")


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _emit_transfer(result: Any, as_json: bool, driver: str) -> None:
    if as_json:
        emit_json({**result.to_json(), "driver": driver})
        return
    if result.skipped:
        outcome = "identical file already in place: nothing sent"
    else:
        outcome = "copied and verified" if result.verified else "copied (not verified)"
    emit_record(
        {
            "device": result.device,
            "remote": result.remote_path,
            "local": result.local_path,
            "size": f"{result.size:,} bytes",
            "result": outcome,
            "md5": result.remote_md5 or result.local_md5,
            "sha256": result.local_sha256,
            "driver": driver,
            "elapsed_s": round(result.elapsed, 3),
        }
    )


_file_system_option = click.option(
    "--file-system",
    default=None,
    help="Where on the device (flash:, bootflash:, /var/tmp/); default: from REMOTE, "
    "else the platform's image file system.",
)
_no_verify_option = click.option(
    "--no-verify",
    is_flag=True,
    help="Skip the device's hash check after the copy (an identical file is still skipped).",
)


@group.command()
@click.argument("name")
@click.argument("local", type=click.Path(path_type=Path))
@click.argument("remote", required=False)
@driver_option
@timeout_option
@retries_option
@_file_system_option
@_no_verify_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
def put(
    app: AppContext,
    name: str,
    local: Path,
    remote: str | None,
    driver: str | None,
    timeout: float | None,
    retries: int | None,
    file_system: str | None,
    no_verify: bool,
    as_json: bool,
) -> None:
    """Copy the file LOCAL to device NAME over SCP, checked with the device's own hash command.

    REMOTE is a name (it goes on the platform's image file system), or a place such as
    flash:image.bin or /var/tmp/package.tgz; by default LOCAL's name. A file with the same MD5
    already there is not sent again. Progress goes to stderr.
    """
    report = _TransferReport(name, "sent")
    result, used = asyncio.run(
        _with_device(
            app,
            name,
            driver,
            timeout,
            lambda p: p.put_file(local, remote, file_system=file_system, verify=not no_verify, progress=report),
            retries,
        )
    )
    _emit_transfer(result, as_json, used)


@group.command()
@click.argument("name")
@click.argument("remote")
@click.argument("local", type=click.Path(path_type=Path), required=False)
@driver_option
@timeout_option
@retries_option
@_file_system_option
@_no_verify_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
def get(
    app: AppContext,
    name: str,
    remote: str,
    local: Path | None,
    driver: str | None,
    timeout: float | None,
    retries: int | None,
    file_system: str | None,
    no_verify: bool,
    as_json: bool,
) -> None:
    """Copy the file REMOTE (flash:config.txt, /var/tmp/x.log, or a name on the image file
    system) from device NAME to LOCAL (a file, or a folder; default: the current folder),
    checked against the device's own MD5. Progress goes to stderr.
    """
    report = _TransferReport(name, "received")
    result, used = asyncio.run(
        _with_device(
            app,
            name,
            driver,
            timeout,
            lambda p: p.get_file(remote, local, file_system=file_system, verify=not no_verify, progress=report),
            retries,
        )
    )
    _emit_transfer(result, as_json, used)
