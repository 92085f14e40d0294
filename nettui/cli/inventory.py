"""`nettui inventory` commands."""

from __future__ import annotations

import click


@click.group(name="inventory")
def group() -> None:
    """inventory (being built)."""
