"""The full-screen terminal UI. The only package that imports Textual."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catalog.store import Store


def run_tui(store: Store, *, user: str | None = None) -> None:
    """Open the terminal UI on ``store`` as ``user`` (default: the login name) and return when
    the user quits."""
    from nettui.tui.app import NettuiApp

    NettuiApp(store, user=user).run()
