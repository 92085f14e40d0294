"""The ``nettui`` command: every noun and verb, JSON on request, non-zero exit on failure."""

from __future__ import annotations

import sys
from typing import Any

import click

from catalog.errors import NettuiError
from catalog.store import ENV_DATABASE_URL, Store, open_store


class AppContext:
    """Shared state of one CLI invocation: the store is opened (and migrated) on first use."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url
        self._store: Store | None = None

    def store(self, *, upgrade: bool = True) -> Store:
        if self._store is None:
            self._store = open_store(self.database_url, upgrade=upgrade)
        return self._store


pass_app = click.make_pass_decorator(AppContext)


class NettuiGroup(click.Group):
    """Turns NettuiError into a clear message and exit status 1, instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NettuiError as exc:
            click.echo(f"error: {exc.render()}", err=True)
            sys.exit(1)


@click.group(cls=NettuiGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database",
    "database_url",
    envvar=ENV_DATABASE_URL,
    metavar="URL",
    help=f"Store URL (default: ${ENV_DATABASE_URL}, else SQLite in the user data directory).",
)
@click.version_option(package_name="nettui")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """nettui: a network-automation workbench.

    Run without a command to open the terminal UI on the store.
    """
    ctx.obj = AppContext(database_url)
    if ctx.invoked_subcommand is None:
        from nettui.tui import run_tui  # Textual is imported only when the UI opens

        run_tui(ctx.obj.store())


def _register() -> None:
    from nettui.cli import catalog, db, inventory, render, secrets, users

    for module in (db, inventory, users, secrets, catalog, render):
        main.add_command(module.group)


_register()
