"""End transactions that only read with COMMIT, so PostgreSQL keeps its prepared statements.

Flask-SQLAlchemy closes the session after every request, which rolls back the open
transaction. psycopg forgets every prepared statement on ROLLBACK (`connection.rollback()`
clears its prepare cache and deallocates on the server), so with a rollback at the end of
every page view it never reaches its prepare threshold: PostgreSQL parses and plans every
statement of every request (measured: about two thirds of its CPU on the PO page).

A transaction that ran nothing but SELECTs has the same outcome whether it commits or rolls
back, so at the end of the app context it is committed instead, and the prepared statements
survive. A transaction that wrote anything (an INSERT, UPDATE or DELETE, any statement that
is not a plain SELECT, or unflushed changes in the session) is left alone: Flask-SQLAlchemy
rolls it back exactly as before, and a request that failed is never committed.
"""

from __future__ import annotations

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.orm import Session

_CONNECTION = "acorn_transaction_connection"  # Session.info: the transaction's connection
_WROTE = "acorn_transaction_wrote"  # Connection.info: something other than a SELECT ran


def _reads_only(statement: str) -> bool:
    return statement.lstrip()[:6].upper() == "SELECT"


def _track(session, _transaction, connection) -> None:
    session.info[_CONNECTION] = connection
    connection.info[_WROTE] = False


def _note_writes(conn, _cursor, statement, _parameters, _context, executemany) -> None:
    if executemany or not _reads_only(statement):
        conn.info[_WROTE] = True


def commit_read_only_transactions(app: Flask, db: SQLAlchemy) -> None:
    """Install the listeners and the teardown (after `db.init_app`, so it runs before its own)."""
    if not event.contains(Session, "after_begin", _track):  # once per process, every app
        event.listen(Session, "after_begin", _track)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _note_writes)

    @app.teardown_appcontext
    def _commit_if_only_read(exc):
        if exc is not None or not db.session.registry.has():
            return
        session = db.session.registry()
        connection = session.info.get(_CONNECTION)
        if connection is None or not session.in_transaction() or connection.closed:
            return
        if connection.info.get(_WROTE, True) or session.new or session.dirty or session.deleted:
            return
        session.commit()
