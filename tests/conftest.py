"""Shared fixtures: real stores on SQLite and on PostgreSQL (127.0.0.1:5432, database ``test``).

Every test runs with its own data directory, so nothing touches the user's real store or
keyring. PostgreSQL isolation: each pytest worker migrates its own schema once, and each test
starts from empty tables in it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from catalog.models import Base
from catalog.store import Store

POSTGRES_SERVER = os.environ.get("NETTUI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETTUI_DATA_DIR", str(tmp_path / "nettui-data"))
    monkeypatch.delenv("NETTUI_DATABASE_URL", raising=False)
    # keyring's file backends (keyrings.alt) keep their files under XDG_DATA_HOME.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    # The TUI remembers each user's theme under XDG_CONFIG_HOME (nettui.tui.settings).
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "nettui.db"
    store = Store(sqlite_url(path))
    store.upgrade()
    store.dispose()
    with sqlite3.connect(path) as conn:  # fold the WAL into the file so a copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def sqlite_store(tmp_path: Path, _sqlite_template: Path) -> Iterator[Store]:
    """A migrated SQLite store of its own."""
    path = tmp_path / "store.db"
    shutil.copy(_sqlite_template, path)
    store = Store(sqlite_url(path))
    yield store
    store.dispose()


def postgres_schema_url(schema: str) -> str:
    return f"{POSTGRES_SERVER}?options=-csearch_path%3D{schema}"


class PostgresSchemas:
    """Creates throw-away schemas in the ``test`` database and drops them at the end."""

    def __init__(self) -> None:
        self.engine = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def new(self) -> str:
        name = f"nettui_test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        self.created.append(name)
        return postgres_schema_url(name)

    def drop_all(self) -> None:
        with self.engine.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        self.engine.dispose()


@pytest.fixture(scope="session")
def postgres_schemas() -> Iterator[PostgresSchemas]:
    schemas = PostgresSchemas()
    yield schemas
    schemas.drop_all()


@pytest.fixture(scope="session")
def _postgres_migrated_url(postgres_schemas: PostgresSchemas) -> str:
    url = postgres_schemas.new()
    store = Store(url)
    store.upgrade()
    store.dispose()
    return url


@pytest.fixture
def postgres_store(_postgres_migrated_url: str) -> Iterator[Store]:
    """A migrated PostgreSQL store (a schema per worker) with every table emptied."""
    store = Store(_postgres_migrated_url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield store
    store.dispose()


@pytest.fixture
def empty_postgres_url(postgres_schemas: PostgresSchemas) -> str:
    """A new, empty PostgreSQL schema (nothing migrated)."""
    return postgres_schemas.new()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Store:
    """The same test on both databases nettui supports."""
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]


def run_cli(store: Store | None, *args: str, input: str | None = None) -> Result:
    """Run ``nettui ARGS`` in-process against ``store``; stdout and stderr are kept apart."""
    from nettui.cli import main

    prefix = ["--database", store.url.render_as_string(hide_password=False)] if store is not None else []
    return CliRunner().invoke(main, [*prefix, *args], input=input, catch_exceptions=False)
