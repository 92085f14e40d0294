"""Migrations: from empty to head and back to base on both databases, applied automatically
when the store opens, safe when several processes open a new store at once, and in step with
the models (a model change without a migration fails here)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, inspect

from catalog.models import Base
from catalog.store import Store, open_store
from tests.conftest import run_cli, sqlite_url


def _fresh_urls(tmp_path: Path, empty_postgres_url: str) -> list[str]:
    return [sqlite_url(tmp_path / "fresh.db"), empty_postgres_url]


def _drift(store: Store, metadata: MetaData) -> list[object]:
    with store.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata))


def test_upgrade_from_empty_and_downgrade_to_base(tmp_path: Path, empty_postgres_url: str) -> None:
    for url in _fresh_urls(tmp_path, empty_postgres_url):
        store = Store(url)
        assert store.migration_status().current is None
        store.upgrade()
        status = store.migration_status()
        assert status.current == status.head and status.up_to_date
        assert set(Base.metadata.tables) <= set(inspect(store.engine).get_table_names())
        store.downgrade("base")
        assert store.migration_status().current is None
        assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
        store.upgrade()  # and up again: downgrade left nothing behind that blocks it
        assert store.migration_status().up_to_date
        store.dispose()


def test_models_and_migrations_do_not_drift(store: Store) -> None:
    assert _drift(store, Base.metadata) == []


def test_drift_check_notices_a_model_change(store: Store) -> None:
    """Control for the test above: a column added to the models without a migration is found."""
    changed = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["device"].append_column(Column("rack", String(50)))
    diff = _drift(store, changed)
    assert any(op[0] == "add_column" and op[3].name == "rack" for op in diff)  # type: ignore[index]


def test_opening_the_store_applies_migrations(tmp_path: Path, empty_postgres_url: str) -> None:
    for url in _fresh_urls(tmp_path, empty_postgres_url):
        store = open_store(url)
        assert store.migration_status().up_to_date
        store.dispose()


def test_a_command_opening_a_new_store_migrates_it(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "new" / "nettui.db")
    before = Store(url).migration_status()
    assert before.current is None
    result = run_cli(None, "--database", url, "users", "list", "--json")
    assert result.exit_code == 0, result.output
    assert Store(url).migration_status().up_to_date


def test_db_status_changes_nothing_and_db_upgrade_migrates(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "nettui.db")
    status = run_cli(None, "--database", url, "db", "status", "--json")
    assert status.exit_code == 0 and '"up_to_date": false' in status.stdout
    assert Store(url).migration_status().current is None
    upgraded = run_cli(None, "--database", url, "db", "upgrade")
    assert upgraded.exit_code == 0 and "upgraded empty ->" in upgraded.stderr
    assert Store(url).migration_status().up_to_date
    refused = run_cli(None, "--database", url, "db", "downgrade", "base")
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert Store(url).migration_status().up_to_date


def test_several_processes_opening_a_new_store_at_once(tmp_path: Path, empty_postgres_url: str) -> None:
    """Four processes start on a store nobody has migrated yet: all succeed, it migrates once."""
    code = "import sys; from catalog.store import open_store; open_store(sys.argv[1]).dispose()"
    for url in _fresh_urls(tmp_path, empty_postgres_url):
        procs = [
            subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True) for _ in range(4)
        ]
        failures = []
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            if proc.returncode != 0:
                failures.append(err)
        assert not failures, failures
        assert Store(url).migration_status().up_to_date


def test_threads_opening_a_new_store_at_once(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "threads.db")
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            open_store(url).dispose()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert Store(url).migration_status().up_to_date


def test_unreachable_database_gives_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(None, "--database", "postgresql://postgres@127.0.0.1:1/test", "db", "status")
    assert result.exit_code == 1
    assert "cannot open the store" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_unsupported_database_url_is_refused(tmp_path: Path) -> None:
    result = run_cli(None, "--database", "mysql://root@127.0.0.1/test", "db", "status")
    assert result.exit_code == 1 and "unsupported database 'mysql'" in result.stderr


def test_migrations_keep_existing_rows(tmp_path: Path, empty_postgres_url: str) -> None:
    """Upgrading a store that has executions in it (columns added later get a default)."""
    from sqlalchemy import text

    for url in _fresh_urls(tmp_path, empty_postgres_url):
        store = Store(url)
        store.upgrade("0003")
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    'INSERT INTO "user" (username, full_name, email, role, is_active, created_at, '
                    "updated_at) VALUES ('u', '', '', 'operator', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO workflow (name, slug, description, category, version, enabled, "
                    "approval_required, schedule_allowed, input_schema, default_inputs, created_at, "
                    "updated_at) VALUES ('w', 'w', '', '', '1.0.0', true, false, false, '{}', '{}', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO execution (workflow_id, requested_by_id, status, inputs, context, "
                    "created_at) VALUES (1, 1, 'completed', '{}', '{}', CURRENT_TIMESTAMP)"
                )
            )
        store.upgrade()
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT owner FROM execution")).scalar() == ""
        store.dispose()
