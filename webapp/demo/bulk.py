"""Bulk inserts for seeding: COPY on PostgreSQL, a raw executemany on SQLite, Core elsewhere.

Values still go through each column type's own bind processor (so `UTCDateTime` rejects naive
datetimes and JSON is serialised as SQLAlchemy would); only the per-row statement machinery
of `Connection.execute` is skipped, which is most of the cost at a million rows.
"""

from __future__ import annotations

import queue
import threading
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Connection, Engine, Table, insert

from webapp.db_types import UTCDateTime


def bulk_insert(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the connection's transaction."""
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy_postgresql(connection, table, rows)
    elif dialect.name == "sqlite":
        _executemany_sqlite(connection, table, rows)
    else:
        connection.execute(insert(table), rows)


class ChunkWriter:
    """Insert chunks of rows, each in its own transaction; on PostgreSQL from a thread.

    PostgreSQL checks keys and builds indexes in its own process, so a writer thread lets
    it work on one chunk while the caller generates the next. SQLite works inside this
    process under the GIL, where a thread only adds contention, so chunks go inline.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._thread = None
        if engine.dialect.name == "postgresql":
            self._thread = threading.Thread(
                target=self._drain, name="demo-seed-writer", daemon=True
            )

    def __enter__(self) -> ChunkWriter:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        if self.error is not None and exc_info[0] is None:
            raise self.error

    def put(self, chunk: list[tuple[Table, list[dict]]]) -> None:
        """Queue one chunk of (table, rows) pairs, written in order in one transaction."""
        if self.error is not None:
            raise self.error
        if self._thread is None:
            self._write(chunk)
        else:
            self._queue.put(chunk)

    def _drain(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self.error is None:  # after a failure, keep draining so `put` never blocks
                try:
                    self._write(chunk)
                except BaseException as exc:  # handed to the caller's thread
                    self.error = exc

    def _write(self, chunk: list[tuple[Table, list[dict]]]) -> None:
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Seed data can be regenerated, so commits need not wait for the WAL flush.
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO off")
            for table, rows in chunk:
                bulk_insert(connection, table, rows)


def _prepared(dialect, table: Table, rows: list[dict]):
    """Return the column names and an iterator of bound value lists."""
    names = list(rows[0])
    processors = [_processor(table.c[n].type, dialect) for n in names]
    converted = [(i, p) for i, p in enumerate(processors) if p is not None]

    def values():
        for row in rows:
            out = [row[n] for n in names]
            for i, process in converted:
                out[i] = process(out[i])
            yield out

    return names, values()


def _processor(column_type, dialect):
    """Return the type's bind processor, or a faster one proven to give the same results."""
    generic = column_type.dialect_impl(dialect).bind_processor(dialect)
    if dialect.name != "sqlite" or not isinstance(column_type, UTCDateTime):
        return generic

    # SQLite stores these as text; formatting millions of them is a large share of the time.
    def fast(value):
        if value is None:
            return None
        if value.tzinfo is not UTC:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column; attach a time zone")
            value = value.astimezone(UTC)
        return value.isoformat(" ", "microseconds")[:-6]  # without "+00:00"

    probes = [
        None,
        datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 1, 1, tzinfo=UTC),
    ]
    return fast if all(fast(p) == generic(p) for p in probes) else generic


def _copy_postgresql(connection: Connection, table: Table, rows: list[dict]) -> None:
    names, values = _prepared(connection.dialect, table, rows)
    columns = ", ".join(f'"{n}"' for n in names)
    raw = connection.connection.dbapi_connection
    with raw.cursor() as cursor:
        # Binary COPY spares the server from parsing timestamps and numerics as text.
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass",
            (table.name,),
        )
        oids = dict(cursor.fetchall())
        statement = f'COPY "{table.name}" ({columns}) FROM STDIN (FORMAT BINARY)'
        with cursor.copy(statement) as copy:
            copy.set_types([oids[n] for n in names])
            for value in values:
                copy.write_row(value)


def _executemany_sqlite(connection: Connection, table: Table, rows: list[dict]) -> None:
    names, values = _prepared(connection.dialect, table, rows)
    columns = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("?" for _ in names)
    raw = connection.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.executemany(
            f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})',  # noqa: S608 - our names
            values,
        )
    finally:
        cursor.close()
