"""Alembic environment: runs on the connection the Store hands over (see catalog.store)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from catalog.models import Base, JSONType, UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write our column types in migrations as plain SQLAlchemy types, so that migrations never
    import application code that may change later."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and obj is JSONType:
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """APScheduler and procrastinate keep their own tables in the store: not ours to migrate."""
    table = name if type_ == "table" else parent_names.get("table_name")
    return not (table is not None and table.startswith(("apscheduler_", "procrastinate_")))


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("nettui migrations run through catalog.store.Store, e.g. `nettui db upgrade`")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
