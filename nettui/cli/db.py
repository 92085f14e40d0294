"""`nettui db`: the store's schema and where it lives."""

from __future__ import annotations

import click

from catalog.store import write_revision
from nettui.cli import AppContext, pass_app
from nettui.cli.output import emit_json, emit_record, progress


@click.group(name="db")
def group() -> None:
    """The store: schema migrations and status."""


@group.command()
@click.option("--revision", default="head", show_default=True, help="Migrate up to this revision.")
@pass_app
def upgrade(app: AppContext, revision: str) -> None:
    """Apply pending migrations (every command also does this when it opens the store)."""
    store = app.store(upgrade=False)
    before = store.migration_status()
    store.upgrade(revision)
    after = store.migration_status()
    if before.current == after.current:
        progress(f"{store.display_url}: already at {after.current}")
    else:
        progress(f"{store.display_url}: upgraded {before.current or 'empty'} -> {after.current}")


@group.command()
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Confirm: downgrading drops tables and the data in them.")
@pass_app
def downgrade(app: AppContext, revision: str, yes: bool) -> None:
    """Revert migrations down to REVISION ('base' drops every table)."""
    if not yes:
        raise click.UsageError("downgrading drops data; pass --yes to confirm")
    store = app.store(upgrade=False)
    store.downgrade(revision)
    progress(f"{store.display_url}: now at {store.migration_status().current or 'base'}")


@group.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Show where the store is and whether its schema is up to date. Changes nothing."""
    store = app.store(upgrade=False)
    st = store.migration_status()
    record = {
        "url": store.display_url,
        "backend": store.url.get_backend_name(),
        "current_revision": st.current,
        "head_revision": st.head,
        "pending": st.pending,
        "up_to_date": st.up_to_date,
    }
    if as_json:
        emit_json(record)
    else:
        emit_record(record)


@group.command(hidden=True)
@click.option("-m", "--message", required=True)
@click.option("--rev-id", required=True, help="Revision id, e.g. 0002.")
@pass_app
def revision(app: AppContext, message: str, rev_id: str) -> None:
    """(Developers) autogenerate a migration from model changes."""
    write_revision(app.store(), message, rev_id)
