"""Transactions that only read end with COMMIT (PostgreSQL keeps its prepared statements);
anything that wrote, or failed, is rolled back as before (webapp/read_only_commit.py).

Each case runs in its own app context, as a request does: its end is where the session is
closed and the transaction committed or rolled back.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event, select, update

from tests.auth_helpers import make_vendor
from webapp.extensions import db
from webapp.vendors.models import Vendor


@pytest.fixture
def ends(app):
    """Record how each transaction on the app's engine ended."""
    seen: list[str] = []
    listeners = {"commit": lambda conn: seen.append("commit"),
                 "rollback": lambda conn: seen.append("rollback")}
    for name, fn in listeners.items():
        event.listen(db.engine, name, fn)
    yield seen
    for name, fn in listeners.items():
        event.remove(db.engine, name, fn)


def _name(vendor_id: int) -> str:
    with db.engine.connect() as conn:  # outside any session: what is committed
        return conn.scalar(select(Vendor.name).where(Vendor.id == vendor_id))


def test_a_transaction_that_only_read_is_committed(app, ends):
    vendor = make_vendor("Reader Co")
    ends.clear()
    with app.app_context():
        assert db.session.scalar(select(Vendor.name).where(Vendor.id == vendor.id)) == "Reader Co"
    assert ends == ["commit"]


def test_a_write_left_uncommitted_is_rolled_back(app, ends):
    vendor = make_vendor("Writer Co")
    ends.clear()
    with app.app_context():
        db.session.execute(update(Vendor).where(Vendor.id == vendor.id).values(name="Changed"))
        db.session.scalar(select(Vendor.name).where(Vendor.id == vendor.id))  # a read after
    assert ends == ["rollback"]
    assert _name(vendor.id) == "Writer Co"


def test_unflushed_changes_are_never_committed(app, ends):
    vendor = make_vendor("Pending Co")
    ends.clear()
    with app.app_context():
        db.session.get(Vendor, vendor.id).name = "Changed"  # dirty, not flushed
    assert ends == ["rollback"]
    assert _name(vendor.id) == "Pending Co"


def test_a_failed_context_is_rolled_back_even_after_reads(app, ends):
    vendor = make_vendor("Failing Co")
    ends.clear()
    with pytest.raises(RuntimeError), app.app_context():
        db.session.scalar(select(Vendor.name).where(Vendor.id == vendor.id))
        raise RuntimeError("the view failed")
    assert ends == ["rollback"]


def test_a_read_after_a_commit_is_committed_on_its_own(app, ends):
    vendor = make_vendor("Touch Co")
    ends.clear()
    with app.app_context():
        # As a page view that touches the session row, commits, then reads.
        db.session.execute(update(Vendor).where(Vendor.id == vendor.id).values(name="Touched"))
        db.session.commit()
        db.session.scalar(select(Vendor.name).where(Vendor.id == vendor.id))
    assert ends == ["commit", "commit"]
    assert _name(vendor.id) == "Touched"


def test_postgresql_keeps_prepared_statements_across_read_only_requests(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's (CI runs this file on PostgreSQL too)")
    vendor_id = make_vendor("Prepared Co").id
    db.session.remove()  # the fixture's own session gives its connection back to the pool
    statement = select(Vendor.name).where(Vendor.id == sa.bindparam("vendor_id"))
    for _ in range(6):  # psycopg prepares a statement on its 5th execution
        with app.app_context():
            db.session.scalar(statement, {"vendor_id": vendor_id})
    with app.app_context():
        prepared = db.session.scalar(sa.text(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%vendors.name%'"))
    assert prepared == 1
