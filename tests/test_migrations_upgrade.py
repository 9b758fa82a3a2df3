"""Upgrading from every earlier revision to head keeps every row: a deploy never loses data.

For each revision R in the Alembic history (found by walking the scripts, so new migrations
are covered without touching this file): a fresh database is migrated to R, every table that
exists at R gets a representative row (values derived from the column types, foreign keys
pointing at the parent rows), the database is upgraded to head, and every row is read back
unchanged. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from config import BASE_DIR, TestConfig
from tests.databases import scratch_postgres
from webapp import create_app
from webapp.extensions import db

SCRIPTS = ScriptDirectory(str(BASE_DIR / "migrations"))
HEAD = SCRIPTS.get_current_head()
EARLIER = [rev.revision for rev in reversed(list(SCRIPTS.walk_revisions()))
           if rev.revision != HEAD]
MOMENT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture
def scratch_database(tmp_path):
    """A fresh, empty database of the suite's kind (SQLite file or PostgreSQL database)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'upgrade.db'}"
        return
    with scratch_postgres(base, "acorn_upgrade") as url:
        yield url


def _app(database_url: str, instance: Path):
    class UpgradeConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        INSTANCE_DIR = str(instance)
        REDIS_URL = "redis://127.0.0.1:1/0"  # never contacted: migrations need no Redis

    return create_app(UpgradeConfig)


def _value(column: sa.Column, n: int):
    """A representative value for a column of this type."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.Integer):
        return 7 + n
    if isinstance(kind, sa.Numeric):
        return Decimal("12.3400")
    if isinstance(kind, sa.DateTime):
        return MOMENT
    if isinstance(kind, sa.Date):
        return date(2026, 3, 4)
    if isinstance(kind, sa.Time):
        return time(5, 6, 7)
    if isinstance(kind, sa.JSON):
        return {"kept": [1, "two", None]}
    if isinstance(kind, sa.LargeBinary):
        return b"\x00kept\xff"
    if isinstance(kind, sa.String | sa.Text):
        text = f"v{n}-{column.name}"
        length = getattr(kind, "length", None)
        return text[:length] if length else text
    raise AssertionError(f"no representative value for {column.table.name}.{column.name} "
                         f"of type {kind!r}: teach _value about it")


def _seed(connection, metadata: sa.MetaData) -> dict[str, tuple[dict, dict]]:
    """Insert one row per table in dependency order; return {table: (primary key, row)}."""
    seeded: dict[str, tuple[dict, dict]] = {}
    for n, table in enumerate(metadata.sorted_tables):
        if table.name == "alembic_version":
            continue
        row = {}
        for column in table.columns:
            fks = list(column.foreign_keys)
            if fks:
                parent = fks[0].column
                if parent.table.name in seeded:
                    row[column.name] = seeded[parent.table.name][1][parent.name]
                elif column.nullable:
                    row[column.name] = None
                else:
                    raise AssertionError(f"{table.name}.{column.name} needs a row of "
                                         f"{parent.table.name} first")
            elif (column.primary_key and isinstance(column.type, sa.Integer)
                  and len(table.primary_key.columns) == 1):
                continue  # the database numbers it
            else:
                row[column.name] = _value(column, n)
        result = connection.execute(table.insert().values(**row))
        key = dict(zip([c.name for c in table.primary_key.columns],
                       result.inserted_primary_key, strict=True))
        stored = connection.execute(sa.select(table).filter_by(**key)).mappings().one()
        seeded[table.name] = (key, dict(stored))
    return seeded


@pytest.mark.parametrize("revision", EARLIER)
def test_upgrade_from_revision_keeps_every_row(revision, scratch_database, tmp_path):
    app = _app(scratch_database, tmp_path / "instance")
    with app.app_context():
        upgrade(revision=revision)
        old = sa.MetaData()
        old.reflect(bind=db.engine)
        with db.engine.begin() as connection:
            seeded = _seed(connection, old)
        assert seeded, f"no table at revision {revision}"
        db.engine.dispose()

        upgrade(revision="head")
        new = sa.MetaData()
        new.reflect(bind=db.engine)
        with db.engine.connect() as connection:
            version = connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
            assert version == HEAD
            for name, (key, before) in seeded.items():
                assert name in new.tables, f"table {name} (from {revision}) was dropped"
                table = new.tables[name]
                after = connection.execute(
                    sa.select(table).filter_by(**key)).mappings().one_or_none()
                assert after is not None, f"row {key} of {name} lost from {revision}"
                for column, value in before.items():
                    if column in after:
                        assert after[column] == value, (name, column, value, after[column])
        db.engine.dispose()
    print(f"\n[upgrade] from={revision} to={HEAD} tables_checked={len(seeded)}")


def test_history_is_one_line_from_base_to_head():
    assert len(SCRIPTS.get_heads()) == 1
    assert EARLIER and EARLIER[0] == SCRIPTS.get_base()
