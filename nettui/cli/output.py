"""How every command prints: aligned plain-text tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

import click


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, default=_json_default, ensure_ascii=False))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return ",".join(_cell(v) for v in value) or "-"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    return text if text else "-"


def emit_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> None:
    """Print rows as an aligned table; ``columns`` is a list of (key, HEADER) pairs."""
    cells = [[_cell(row.get(key)) for key, _ in columns] for row in rows]
    headers = [header for _, header in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for r in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def emit_record(record: Mapping[str, Any]) -> None:
    """Print one object as ``key: value`` lines (nested lists one item per line)."""
    width = max((len(k) for k in record), default=0)
    for key, value in record.items():
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            click.echo(f"{key}:")
            for item in value:
                click.echo("  - " + ", ".join(f"{k}={_cell(v)}" for k, v in item.items()))
        else:
            click.echo(f"{key.ljust(width)}  {_cell(value)}")


def progress(message: str) -> None:
    """A progress or status line on stderr, so stdout stays clean for --json."""
    click.echo(message, err=True)


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()
