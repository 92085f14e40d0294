"""Every model on SQLite and PostgreSQL: every field round-trips, and the database itself
enforces unique names and slugs, foreign keys and choices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Enum, Integer, String, Table, Text, UniqueConstraint, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import RelationshipProperty

from catalog import models as m
from catalog.store import Store
from tests.model_graph import T0, build_graph

ALL_MODELS = {mapper.class_ for mapper in m.Base.registry.mappers}


def _column_values(obj: m.Base) -> dict[str, Any]:
    mapper = inspect(type(obj))
    return {attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs}


def _m2m_values(obj: m.Base) -> dict[str, list[int]]:
    mapper = inspect(type(obj))
    out = {}
    for rel in mapper.relationships:
        if isinstance(rel, RelationshipProperty) and rel.secondary is not None:
            out[rel.key] = sorted(o.id for o in getattr(obj, rel.key))
    return out


def test_the_graph_covers_every_model_and_sets_every_field(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        graph = build_graph(session)
        assert set(graph) == ALL_MODELS
        for model, obj in graph.items():
            unset = [k for k, v in _column_values(obj).items() if v is None]
            assert not unset, f"{model.__name__} leaves {unset} unset: the round-trip would not cover them"
            for key, ids in _m2m_values(obj).items():
                assert ids, f"{model.__name__}.{key} is empty"


def test_every_field_round_trips(store: Store) -> None:
    with store.session() as session:
        graph = build_graph(session)
        written = {model: (obj.id, _column_values(obj), _m2m_values(obj)) for model, obj in graph.items()}
    with store.read_session() as session:
        for model, (ident, columns, m2m) in written.items():
            loaded = session.get(model, ident)
            assert loaded is not None
            assert _column_values(loaded) == columns, model.__name__
            assert _m2m_values(loaded) == m2m, model.__name__


def test_times_come_back_aware_in_utc_and_naive_times_are_refused(store: Store) -> None:
    paris = timezone(timedelta(hours=1))
    with store.session() as session:
        graph = build_graph(session)
        graph[m.BackupRecord].backup_timestamp = datetime(2026, 1, 1, 13, 0, tzinfo=paris)  # type: ignore[attr-defined]
        backup_id = graph[m.BackupRecord].id
    with store.read_session() as session:
        backup = session.get(m.BackupRecord, backup_id)
        assert backup is not None
        assert backup.backup_timestamp == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        assert backup.backup_timestamp.utcoffset() == timedelta(0)
    with pytest.raises(StatementError, match="naive datetime"), store.session() as session:
        session.add(m.Tag(name="x", slug="x", created_at=datetime(2026, 1, 1)))


# -- constraints, derived from the schema so that new tables are covered automatically ---------


def _table_rows(store: Store) -> dict[str, dict[str, Any]]:
    """One row of every table (as the graph wrote it), keyed by table name."""
    with store.session() as session:
        build_graph(session)
    rows = {}
    with store.read_session() as session:
        for table in m.Base.metadata.sorted_tables:
            row = session.execute(select(table).limit(1)).mappings().first()
            assert row is not None, f"{table.name} has no row"
            rows[table.name] = dict(row)
    return rows


def _fresh(value: Any, n: int) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value + 1000 + n
    if isinstance(value, str):
        return f"{value}-{n}"
    return value


def _unique_sets(table: Table) -> list[tuple[str, ...]]:
    sets = [tuple(c.name for c in con.columns) for con in table.constraints if isinstance(con, UniqueConstraint)]
    if table.primary_key.columns.keys() != ["id"]:  # association tables: the pair is the key
        sets.append(tuple(table.primary_key.columns.keys()))
    return sets


def _copy_row(table: Table, row: dict[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    """The row again, with every unique column not in ``keep`` changed (and no id)."""
    new = {k: v for k, v in row.items() if k != "id"}
    fk_columns = {fk.parent.name for fk in table.foreign_keys}
    for columns in _unique_sets(table):
        for name in columns:
            if name not in keep and name not in fk_columns:
                new[name] = _fresh(new[name], 1)
    return new


UNIQUE_CASES = [(t.name, cols) for t in m.Base.metadata.sorted_tables for cols in _unique_sets(t)]
FK_CASES = [(t.name, fk.parent.name) for t in m.Base.metadata.sorted_tables for fk in t.foreign_keys]
CHOICE_CASES = [
    (t.name, col.name) for t in m.Base.metadata.sorted_tables for col in t.columns if isinstance(col.type, Enum)
]


def test_schema_has_the_constraints_the_data_model_names() -> None:
    assert len(UNIQUE_CASES) > 50 and len(FK_CASES) > 60 and len(CHOICE_CASES) >= 25
    assert ("device", ("name",)) in UNIQUE_CASES and ("task_definition", ("slug",)) in UNIQUE_CASES
    assert ("execution", "status") in CHOICE_CASES and ("workflow_step", "step_type") in CHOICE_CASES


def _assert_rejected(store: Store, statement: Any, params: Any, kind: str) -> None:
    patterns = {
        "unique": r"UNIQUE constraint failed|duplicate key value violates unique constraint",
        "foreign key": r"FOREIGN KEY constraint failed|violates foreign key constraint",
        "check": r"CHECK constraint failed|violates check constraint",
    }
    with pytest.raises(IntegrityError, match=patterns[kind]), store.engine.begin() as conn:
        conn.execute(statement, params)


def test_unique_names_slugs_and_keys_are_enforced(store: Store) -> None:
    rows = _table_rows(store)
    for table_name, columns in UNIQUE_CASES:
        table = m.Base.metadata.tables[table_name]
        duplicate = _copy_row(table, rows[table_name], keep=columns)
        _assert_rejected(store, insert(table), duplicate, "unique")


def test_foreign_keys_are_enforced(store: Store) -> None:
    """Point each foreign key of an existing row at a row that does not exist (an UPDATE, so
    that no other constraint can be what refuses it)."""
    rows = _table_rows(store)
    for table_name, column in FK_CASES:
        table = m.Base.metadata.tables[table_name]
        keys = list(table.primary_key.columns.keys())
        where = " AND ".join(f'"{k}" = :k_{k}' for k in keys)
        params = {f"k_{k}": rows[table_name][k] for k in keys}
        statement = text(f'UPDATE "{table_name}" SET "{column}" = 987654 WHERE {where}')
        _assert_rejected(store, statement, params, "foreign key")


def test_choices_are_enforced_by_the_database(store: Store) -> None:
    """Raw SQL, bypassing SQLAlchemy's own checks: the database refuses unknown choices."""
    rows = _table_rows(store)
    for table_name, column in CHOICE_CASES:
        statement = text(f'UPDATE "{table_name}" SET "{column}" = :bogus WHERE id = :id')
        _assert_rejected(store, statement, {"bogus": "bogus", "id": rows[table_name]["id"]}, "check")


@pytest.mark.parametrize(
    ("table_name", "column", "value"),
    [
        ("device", "ssh_port", 0),
        ("device", "ssh_port", 65536),
        ("vlan", "vid", 4095),
        ("interface", "mtu", 10),
        ("backup_record", "restore_count", -1),
        ("discovery_job", "devices_created", -1),
        ("workflow_step", "task_id", None),  # a task step must name its task
        ("request_form_field", "object_type", None),  # an object selector must say what it selects
        ("compliance_run", "device_id", None),  # neither a device nor a scope: set below
    ],
)
def test_range_and_consistency_checks(store: Store, table_name: str, column: str, value: Any) -> None:
    rows = _table_rows(store)
    row_id = rows[table_name]["id"]
    if table_name == "request_form_field":
        with store.engine.begin() as conn:  # the first field is the object selector
            row_id = conn.execute(text("SELECT id FROM request_form_field WHERE field_type='object_selector'")).scalar()
    if table_name == "compliance_run":
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE compliance_run SET scope_query = NULL"))
    statement = text(f'UPDATE "{table_name}" SET "{column}" = :v WHERE id = :id')
    _assert_rejected(store, statement, {"v": value, "id": row_id}, "check")


def test_python_side_refuses_unknown_choices_before_the_database(store: Store) -> None:
    with pytest.raises(StatementError, match="bogus"), store.session() as session:
        session.execute(insert(m.Device), [{"name": "d", "host": "h", "status": "bogus"}])


# -- what deleting things does --------------------------------------------------------------------


def test_deleting_a_device_removes_its_interfaces_and_backups(store: Store) -> None:
    with store.session() as session:
        session.add(
            m.Device(
                name="sw9",
                host="192.0.2.9",
                interfaces=[m.Interface(name="Gi1"), m.Interface(name="Gi2")],
            )
        )
    with store.session() as session:
        device = session.scalars(select(m.Device).where(m.Device.name == "sw9")).one()
        session.add(m.BackupRecord(device=device, backup_data="end"))
    with store.session() as session:
        session.delete(session.scalars(select(m.Device)).one())
    with store.read_session() as session:
        assert session.scalar(select(m.Interface.id)) is None
        assert session.scalar(select(m.BackupRecord.id)) is None


def test_audit_records_keep_their_device_and_user(store: Store) -> None:
    """A device or user with recorded sessions cannot be deleted: the audit trail stays whole."""
    with store.session() as session:
        graph = build_graph(session)
        device_id, user_id = graph[m.Device].id, graph[m.User].id
    for table, ident in (("device", device_id), ("user", user_id)):
        with pytest.raises(IntegrityError), store.engine.begin() as conn:
            conn.execute(text(f'DELETE FROM "{table}" WHERE id = :id'), {"id": ident})
    with store.read_session() as session:
        assert session.get(m.Device, device_id) is not None


def test_a_location_in_use_cannot_be_deleted(store: Store) -> None:
    with store.session() as session:
        session.add(m.Device(name="sw1", host="h", location=m.Location(name="Lyon", slug="lyon")))
    with pytest.raises(IntegrityError), store.session() as session:
        session.delete(session.scalars(select(m.Location)).one())


def test_column_types_used_are_portable() -> None:
    """Only types both databases support well (guards against a PostgreSQL-only type sneaking in)."""
    allowed = (Integer, String, Text, Enum, m.UTCDateTime)
    for table in m.Base.metadata.sorted_tables:
        for column in table.columns:
            ok = (
                isinstance(column.type, allowed)
                or column.type is m.JSONType
                or type(column.type).__name__
                in (
                    "Boolean",
                    "JSON",
                )
            )
            assert ok, f"{table.name}.{column.name}: {column.type!r}"


def test_timestamps_are_set_on_create_and_update(store: Store) -> None:
    with store.session() as session:
        tag = m.Tag(name="a", slug="a")
        session.add(tag)
    created, updated = tag.created_at, tag.updated_at
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=5)
    with store.session() as session:
        session.get(m.Tag, tag.id).description = "changed"  # type: ignore[union-attr]
    with store.read_session() as session:
        again = session.get(m.Tag, tag.id)
        assert again is not None
        assert again.created_at == created and again.updated_at >= updated
    assert T0.tzinfo is UTC
