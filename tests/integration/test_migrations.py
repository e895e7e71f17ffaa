"""Alembic migrations, from empty to head and back, on SQLite and PostgreSQL."""

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import SAWarning

from intranet import migrations
from intranet.db import get_engine
from intranet.models import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/empty.sqlite"
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        name = f"empty_{tmp_path.name[-8:].replace('-', '_')}"
        cluster.admin(f"CREATE DATABASE {name}")
        url = cluster.url(name)
    engine = get_engine({"sqlalchemy.url": url})
    yield engine
    engine.dispose()


def test_upgrade_to_head_matches_the_models(empty_engine):
    migrations.upgrade(empty_engine)
    with empty_engine.connect() as connection, warnings.catch_warnings():
        # xid8 (0028) is no type SQLAlchemy knows: reflected as NullType, and left out below.
        warnings.filterwarnings("ignore", "Did not recognize type 'xid8'", SAWarning)
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    # The trigram index exists only where pg_trgm does (migration 0005), so no model has it;
    # nor what PostgreSQL alone keeps for the preview (migration 0028, publications.since).
    assert [d for d in diff if not postgresql_only(d)] == []


def postgresql_only(difference) -> bool:
    kind, *what = difference
    if kind == "remove_index":
        return what[0].name in ("ix_applications_search_key", "ix_applications_changed_xact")
    if kind == "remove_column":
        return (what[1], what[2].name) == ("applications", "changed_xact")
    return kind == "remove_table" and what[0].name == "application_keys_dropped"


def test_downgrade_to_base_and_up_again(empty_engine):
    migrations.upgrade(empty_engine)
    migrations.downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrations.upgrade(empty_engine)
    assert "applications" in inspect(empty_engine).get_table_names()




def test_action_details_migration_gives_existing_programmes_the_shipped_kinds(empty_engine):
    """0014: a programme made before it gets the default 不備の種類, bits 0…, in three
    languages; its applications have none, and older frozen rows stay NULL (their digest
    is as before: intranet.publications.content.content_line)."""
    from sqlalchemy import MetaData, Table, select

    from intranet.deficiencies.defaults import DEFAULT_KINDS

    migrations.upgrade(empty_engine, "0012")
    programmes = Table("programmes", MetaData(), autoload_with=empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(programmes.insert().values(
            code="tokubetsu-2020", name="特別定額給付金", name_en="", needs_birth_date=False,
            contact="", retention_years=5, name_easy=""))
    migrations.upgrade(empty_engine)
    metadata = MetaData()
    kinds = Table("deficiency_kinds", metadata, autoload_with=empty_engine)
    wordings = Table("deficiency_kind_wordings", metadata, autoload_with=empty_engine)
    with empty_engine.connect() as connection:
        rows = connection.execute(select(kinds.c.code, kinds.c.bit).order_by(kinds.c.bit)).all()
        languages = connection.execute(select(wordings.c.lang)).scalars().all()
    assert rows == [(code, bit) for bit, (code, _, _) in enumerate(DEFAULT_KINDS)]
    assert sorted(set(languages)) == ["en", "ja", "ja-easy"]
    assert len(languages) == 3 * len(DEFAULT_KINDS)
    migrations.downgrade(empty_engine, "0012")
    assert "deficiency_kinds" not in inspect(empty_engine).get_table_names()
