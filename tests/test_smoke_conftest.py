from sqlalchemy import select

from catalog.models import Tag
from tests.conftest import run_cli


def test_store_fixture_roundtrip(store):
    with store.session() as s:
        s.add(Tag(name="core", slug="core"))
    with store.read_session() as s:
        assert s.scalars(select(Tag.name)).all() == ["core"]


def test_db_status_reports_up_to_date(store):
    result = run_cli(store, "db", "status", "--json")
    assert result.exit_code == 0, result.output
    assert '"up_to_date": true' in result.stdout
