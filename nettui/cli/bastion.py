"""`nettui bastion`: the SSH endpoint through which engineers reach devices, recorded."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
from pathlib import Path

import click

from nettui.cli import AppContext, pass_app

__all__ = ["group"]


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise click.BadParameter(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:2222)")
    return host.strip("[]") or "127.0.0.1", int(port)


@click.group(name="bastion", invoke_without_command=True)
@click.option(
    "--listen",
    default="127.0.0.1:2222",
    show_default=True,
    metavar="HOST:PORT",
    help="Address to listen on (port 0: any free port).",
)
@click.option(
    "--host-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The bastion's SSH host key (default: made on first start in the data directory, mode 0600).",
)
@click.option(
    "--recordings",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where session recordings go (default: recordings/ in the data directory).",
)
@click.option("--idle-timeout", type=click.FloatRange(1), default=900, show_default=True, help="Seconds of silence.")
@click.option(
    "--max-duration", type=click.FloatRange(1), default=8 * 3600, show_default=True, help="Seconds a session may last."
)
@click.option("--login-grace", type=click.FloatRange(1), default=30, show_default=True, help="Seconds to log in.")
@click.option(
    "--max-auth-failures",
    type=click.IntRange(1),
    default=5,
    show_default=True,
    help="Failed logins per address within 5 minutes before that address is refused.",
)
@click.option("--allow-port-forwarding", is_flag=True, help="Let users forward ports through the bastion.")
@click.option("--allow-agent-forwarding", is_flag=True, help="Let users forward their SSH agent.")
@click.option("--allow-x11-forwarding", is_flag=True, help="Let users forward X11.")
@click.pass_context
def group(
    ctx: click.Context,
    listen: str,
    host_key: Path | None,
    recordings: Path | None,
    idle_timeout: float,
    max_duration: float,
    login_grace: float,
    max_auth_failures: int,
    allow_port_forwarding: bool,
    allow_agent_forwarding: bool,
    allow_x11_forwarding: bool,
) -> None:
    """Serve recorded device sessions over SSH: ssh -p PORT USER%DEVICE@HOST.

    Without a command, runs the bastion until Ctrl-C. Users log in with the SSH keys on their
    nettui user (`nettui users`), and reach the devices inside their scope.
    """
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.find_object(AppContext)
    assert app is not None
    from bastion.policy import BastionPolicy
    from bastion.server import Bastion

    host, port = _listen(listen)
    policy = BastionPolicy(
        host=host,
        port=port,
        idle_timeout=idle_timeout,
        max_duration=max_duration,
        login_grace=login_grace,
        max_auth_failures=max_auth_failures,
        allow_port_forwarding=allow_port_forwarding,
        allow_agent_forwarding=allow_agent_forwarding,
        allow_x11_forwarding=allow_x11_forwarding,
    )
    if host_key is not None:
        policy = dataclasses.replace(policy, host_key_path=host_key)
    if recordings is not None:
        policy = dataclasses.replace(policy, recordings_dir=recordings)
    if host not in ("127.0.0.1", "::1", "localhost"):
        click.echo(f"note: the bastion listens on {host}; users still need a key on their nettui user.", err=True)
    store = app.store()

    async def run() -> None:
        bastion = Bastion(store, policy)
        try:
            await bastion.start()
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        click.echo(
            f"bastion listening on {host}:{bastion.port}; recordings in {policy.recordings_dir}; "
            f"connect with: ssh -p {bastion.port} USER%DEVICE@{host}",
            err=True,
        )
        try:
            await stop.wait()
        finally:
            await bastion.stop()

    asyncio.run(run())


@group.command()
@click.argument("username")
@click.option(
    "--secrets-group",
    metavar="GROUP",
    help="The secrets group holding the user's base32 TOTP seed (the one their authenticator app has).",
)
@click.option("--entry", default="totp", show_default=True, help="The entry of the group with the seed.")
@click.option("--off", is_flag=True, help="No longer ask USERNAME for a code.")
@pass_app
def totp(app: AppContext, username: str, secrets_group: str | None, entry: str, off: bool) -> None:
    """Ask USERNAME for a one-time code (TOTP) after their key, or stop asking (--off)."""
    from bastion.sessions import set_second_factor

    if off == (secrets_group is not None):
        raise click.UsageError("give either --secrets-group GROUP or --off")
    set_second_factor(app.store(), username, None if off else secrets_group, entry)
    click.echo(f"{username}: {'no second factor' if off else f'one-time code required ({secrets_group}/{entry})'}")
