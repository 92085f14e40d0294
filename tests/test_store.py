"""Where the store lives and how SQLite is set up."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from catalog.errors import NettuiError
from catalog.store import Store, default_database_url, normalise_url, open_store


def test_default_store_is_sqlite_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETTUI_DATA_DIR", str(tmp_path / "data"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'data' / 'nettui.db'}"
    store = open_store()
    assert (tmp_path / "data" / "nettui.db").exists()
    store.dispose()


def test_environment_variable_selects_the_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NETTUI_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    assert Store().url.database == str(tmp_path / "elsewhere.db")


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(sqlite_store: Store) -> None:
    for engine in (sqlite_store.engine, sqlite_store.read_engine):
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_write_sessions_take_the_write_lock_at_once(sqlite_store: Store) -> None:
    """BEGIN IMMEDIATE: a second writer waits (here: times out) instead of failing mid-transaction."""
    import sqlite3

    path = sqlite_store.url.database
    assert path is not None
    with sqlite_store.session() as session:
        session.execute(text("SELECT 1"))
        other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    with sqlite_store.read_session() as session:  # readers never take it
        session.execute(text("SELECT 1"))
        other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()


def test_postgres_urls_use_psycopg_and_hide_passwords() -> None:
    assert normalise_url("postgresql://u:secret@db/nettui").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@db/nettui").drivername == "postgresql+psycopg"
    store = Store("postgresql://u:s3cr3t-pw@127.0.0.1:5432/nettui")
    assert "s3cr3t-pw" not in store.display_url
    store.dispose()


def test_bad_urls_are_refused_with_a_hint() -> None:
    with pytest.raises(NettuiError, match="cannot parse database URL") as info:
        normalise_url("not a url")
    assert info.value.hint
