"""`nettui sessions`: recorded device sessions through the bastion: list, show, terminate,
play back and export."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_record, emit_table

__all__ = ["group"]

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group(name="sessions")
def group() -> None:
    """Bastion device sessions: list, show, terminate, play back, export."""


@group.command(name="list")
@click.option("--active", is_flag=True, help="Only sessions still open.")
@_JSON
@pass_app
def list_(app: AppContext, active: bool, as_json: bool) -> None:
    """List sessions, newest first (sessions of a bastion that died are marked terminated first)."""
    from bastion.sessions import list_sessions

    rows = list_sessions(app.store(), active_only=active)
    if as_json:
        emit_json(rows)
        return
    emit_table(
        rows,
        [
            ("id", "ID"),
            ("user", "USER"),
            ("device", "DEVICE"),
            ("status", "STATUS"),
            ("session_start", "START"),
            ("session_end", "END"),
            ("commands", "COMMANDS"),
        ],
    )


@group.command()
@click.argument("session_id", type=int)
@_JSON
@pass_app
def show(app: AppContext, session_id: int, as_json: bool) -> None:
    """Show session SESSION_ID with the commands typed and the (redacted) log."""
    from bastion.sessions import get_session

    record = get_session(app.store(), session_id)
    if as_json:
        emit_json(record)
        return
    commands = record.pop("commands_executed")
    log = record.pop("session_log")
    emit_record(record)
    click.echo("\ncommands:")
    for entry in commands:
        click.echo(f"  {entry['timestamp']}  {entry['command']}")
    click.echo("\nlog:")
    click.echo(log)


@group.command()
@click.argument("session_id", type=int)
@click.option("--as", "as_user", metavar="USER", help="Act as USER (admins only).")
@pass_app
def terminate(app: AppContext, session_id: int, as_user: str | None) -> None:
    """End active session SESSION_ID (admins only); the bastion closes it within a second."""
    from bastion.sessions import terminate_session
    from nettui.cli.run import acting_user

    status = terminate_session(app.store(), session_id, acting_user(app, as_user))
    click.echo(f"session {session_id}: {status}")


def _recording(app: AppContext, session_id: int) -> Path:
    from bastion.sessions import get_session
    from catalog.errors import NettuiError

    path = get_session(app.store(), session_id)["recording_path"]
    if not path:
        raise NettuiError(f"session {session_id} has no recording", hint="it was refused before it started")
    return Path(path)


@group.command()
@click.argument("session_id", type=int)
@click.option("--speed", type=click.FloatRange(min=0.01), default=1.0, show_default=True, help="Playback speed.")
@click.option(
    "--idle-limit",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Longest pause played, in seconds (0: no limit).",
)
@pass_app
def play(app: AppContext, session_id: int, speed: float, idle_limit: float) -> None:
    """Play the recording of session SESSION_ID in this terminal."""
    from bastion.recording import read_asciicast

    _, events = read_asciicast(_recording(app, session_id))
    previous = 0.0
    out = sys.stdout
    for t, kind, data in events:
        pause = max(0.0, t - previous)
        if idle_limit:
            pause = min(pause, idle_limit)
        previous = t
        if kind != "o":
            continue
        if pause:
            out.flush()
            time.sleep(pause / speed)
        out.write(data)
    out.write("\r\n")
    out.flush()


@group.command()
@click.argument("session_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["asciicast", "text"]),
    default="asciicast",
    show_default=True,
    help="asciicast: the recording as is (asciinema plays it); text: the screen and scrollback at the end.",
)
@pass_app
def export(app: AppContext, session_id: int, fmt: str) -> None:
    """Write the recording of session SESSION_ID to standard output."""
    from bastion.recording import read_asciicast

    path = _recording(app, session_id)
    header, events = read_asciicast(path)
    if fmt == "asciicast":
        click.echo(json.dumps(header))
        for event in events:
            click.echo(json.dumps(list(event)))
        return
    click.echo(render_text(header, events))


def render_text(header: dict[str, Any], events: list[tuple[float, str, str]]) -> str:
    """What a terminal showed at the end of the session, scrollback included, through pyte."""
    import pyte

    width, height = int(header.get("width", 80)), int(header.get("height", 24))
    screen = pyte.HistoryScreen(width, height, history=1_000_000, ratio=0.5)
    stream = pyte.Stream(screen)
    for _, kind, data in events:
        if kind == "o":
            stream.feed(data)
        elif kind == "r":
            cols, _, rows = data.partition("x")
            if cols.isdigit() and rows.isdigit():
                screen.resize(int(rows), int(cols))
    history = ["".join(line[x].data for x in range(screen.columns)) for line in screen.history.top]
    lines = [line.rstrip() for line in [*history, *screen.display]]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)
