"""`nettui users` commands."""

from __future__ import annotations

import click


@click.group(name="users")
def group() -> None:
    """users (being built)."""
