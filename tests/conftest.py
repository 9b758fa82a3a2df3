"""Fixtures: a real database (SQLite file or PostgreSQL) and a real Redis for every test run.

TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL select real servers; unset, the suite uses a
SQLite file and an embedded redis-server. On PostgreSQL each run gets its own database, created
here and dropped at the end, so parallel runs never share rows.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from flask_migrate import upgrade as migrate_upgrade

from config import TestConfig
from tests.databases import scratch_postgres
from webapp import create_app
from webapp.embedded_redis import EmbeddedRedis
from webapp.extensions import db


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """Yield a fresh, empty database URL for this test session."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'acorn-test.db'}"
        return
    with scratch_postgres(base, "acorn_test") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """Yield a Redis URL: TEST_REDIS_URL (flushed first) or a private embedded server."""
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        redis.Redis.from_url(url).flushdb()
        yield url
        return
    server = EmbeddedRedis(Path(tmp_path_factory.mktemp("redis")))
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def test_config(database_url, redis_url, tmp_path_factory):
    """The TestConfig of this session, pointing at this session's database and Redis."""
    instance = tmp_path_factory.mktemp("instance")

    class SessionConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = redis_url
        INSTANCE_DIR = str(instance)
        MEDIA_DIR = str(instance / "media")

    return SessionConfig


@pytest.fixture(scope="session")
def _migrated(test_config):
    """Upgrade the session database to the newest migration once."""
    app = create_app(test_config)
    with app.app_context():
        migrate_upgrade()
        db.engine.dispose()
    return True


def _empty_all_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(test_config, _migrated, redis_url):
    """A fresh app on empty tables and an empty Redis database."""
    app = create_app(test_config)
    with app.app_context():
        _empty_all_tables()
        redis.Redis.from_url(redis_url).flushdb()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
