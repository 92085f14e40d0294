"""The shared SQL store: one engine per process, sessions as transactions, migrations on open.

SQLite (the default, in the user's data directory) runs in WAL mode with foreign keys on and a
busy timeout. Write transactions start with ``BEGIN IMMEDIATE`` so that two processes never
deadlock upgrading a read lock; read-only sessions use a plain ``BEGIN``. PostgreSQL is used
when ``NETTUI_DATABASE_URL`` says so.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from catalog.errors import NettuiError

if TYPE_CHECKING:
    from alembic.config import Config

ENV_DATABASE_URL = "NETTUI_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Any fixed number: two processes opening one PostgreSQL store migrate one after the other.
_PG_MIGRATION_LOCK = 0x6E657474
# Alembic keeps its migration context in module globals: one migration per process at a time.
_MIGRATION_THREAD_LOCK = threading.Lock()


def data_dir() -> Path:
    """Where nettui keeps its files: ``NETTUI_DATA_DIR``, else the platform's user data dir."""
    explicit = os.environ.get("NETTUI_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_data_path

    return user_data_path("nettui", appauthor=False)


def default_database_url() -> str:
    """``NETTUI_DATABASE_URL`` if set, else an SQLite file in the data directory."""
    url = os.environ.get(ENV_DATABASE_URL, "").strip()
    if url:
        return url
    return f"sqlite:///{data_dir() / 'nettui.db'}"


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL; plain ``postgresql://`` uses psycopg 3, the driver nettui ships."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise NettuiError(
            f"cannot parse database URL {str(url)!r}",
            where=ENV_DATABASE_URL,
            hint="use sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise NettuiError(
            f"unsupported database {parsed.get_backend_name()!r}",
            where=ENV_DATABASE_URL,
            hint="nettui runs on SQLite (default) or PostgreSQL",
        )
    return parsed


def _sqlite_engine(url: URL, *, immediate: bool, **kwargs: Any) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


@dataclass(frozen=True)
class MigrationStatus:
    current: str | None
    head: str
    pending: list[str]

    @property
    def up_to_date(self) -> bool:
        return not self.pending


class Store:
    """The store behind every front door. ``session()`` is one write transaction."""

    def __init__(self, url: str | URL | None = None, *, echo: bool = False) -> None:
        self.url = normalise_url(url if url is not None else default_database_url())
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = _sqlite_engine(self.url, immediate=True, echo=echo)
            self.read_engine = _sqlite_engine(self.url, immediate=False, echo=echo)
        else:
            self.engine = create_engine(self.url, echo=echo, pool_pre_ping=True)
            self.read_engine = self.engine
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, fit for logs and status lines."""
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on any error."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only transaction that never blocks writers on SQLite."""
        with self._read_sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    # -- migrations -------------------------------------------------------------------------

    def _alembic_config(self, connection: Connection) -> Config:
        from alembic.config import Config  # alembic loads only when the schema is looked at

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        return config

    def migration_status(self) -> MigrationStatus:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        script = ScriptDirectory(str(MIGRATIONS_DIR))
        head = script.get_current_head()
        assert head is not None, "the migrations folder has no revisions"
        with self._connect(self.read_engine) as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            conn.rollback()
        pending = [rev.revision for rev in script.iterate_revisions(head, current or "base")]
        pending.reverse()
        return MigrationStatus(current=current, head=head, pending=pending)

    def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to ``revision``; safe to call from several processes at once."""
        from alembic import command

        self._migrate(lambda cfg: command.upgrade(cfg, revision))

    def downgrade(self, revision: str) -> None:
        from alembic import command

        self._migrate(lambda cfg: command.downgrade(cfg, revision))

    def _migrate(self, action: Any) -> None:
        with _MIGRATION_THREAD_LOCK, self._connect(self.engine) as conn:
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            action(self._alembic_config(conn))
            conn.commit()

    @contextmanager
    def _connect(self, engine: Engine) -> Iterator[Connection]:
        try:
            conn = engine.connect()
        except OperationalError as exc:
            raise NettuiError(
                f"cannot open the store: {exc.orig}",
                where=self.display_url,
                hint=f"check {ENV_DATABASE_URL} and that the database server is running",
            ) from None
        with conn:
            yield conn

    def ensure_schema(self) -> None:
        """Bring the schema up to date if it is not (every command calls this on open)."""
        if not self.migration_status().up_to_date:
            self.upgrade()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def open_store(url: str | URL | None = None, *, upgrade: bool = True) -> Store:
    """Open the store at ``url`` (default: ``NETTUI_DATABASE_URL`` or the SQLite file) and apply
    any pending migrations unless ``upgrade`` is false."""
    store = Store(url)
    if upgrade:
        store.ensure_schema()
    return store


def write_revision(store: Store, message: str, rev_id: str) -> None:
    """Autogenerate a migration from the difference between the models and ``store`` (a store
    at head). For developers changing the models: review the file it writes."""
    from alembic import command

    with store._connect(store.engine) as conn:
        command.revision(store._alembic_config(conn), message=message, autogenerate=True, rev_id=rev_id)
