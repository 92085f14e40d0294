"""Statuses as coloured words: theme colours, so a status stays readable in every theme."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from textual.app import App

# Status -> theme variable. Statuses of executions, steps, schedules and devices share words.
STATUS_THEME_COLOURS = {
    "running": "accent",
    "pending": "secondary",
    "scheduled": "secondary",
    "awaiting_approval": "warning",
    "completed": "success",
    "failed": "error",
    "cancelled": "foreground-darken-3",
    "skipped": "foreground-darken-3",
    "paused": "warning",
    "enabled": "success",
}

STATUS_ICONS = {
    "running": "▶",
    "pending": "○",
    "scheduled": "◷",
    "awaiting_approval": "⏸",
    "completed": "✔",
    "failed": "✖",
    "cancelled": "⊘",
    "skipped": "·",
    "paused": "⏸",
    "enabled": "▶",
}


def status_label(status: str) -> str:
    """``awaiting_approval`` -> ``awaiting approval``: the words an operator reads."""
    return status.replace("_", " ")


def status_text(app: App[object], status: str, *, icon: bool = True) -> Text:
    """A status as a bold word in its theme colour (dim when the theme has no such colour)."""
    colour = app.theme_variables.get(STATUS_THEME_COLOURS.get(status, ""), "")
    style = f"bold {colour}" if colour.startswith("#") else "dim"
    label = status_label(status)
    return Text(f"{STATUS_ICONS.get(status, '?')} {label}" if icon else label, style=style)


def local_time(moment: datetime | None, *, with_date: bool = True) -> str:
    """A stored UTC time as local time, as the operator reads it; empty when unknown."""
    if moment is None:
        return ""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def duration(start: datetime | None, end: datetime | None, now: datetime | None = None) -> str:
    """``1m 05s`` between two times (to ``now`` while it runs); empty when it has not started."""
    if start is None:
        return ""
    stop = end or now
    if stop is None:
        return ""
    seconds = max(0, int((stop - start).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
