"""Database engines: SQLite for the embedded default, PostgreSQL in production.

SQLite needs help to behave like a server database: WAL so readers never
block the writer, a busy timeout so concurrent writers queue instead of
failing, and ``BEGIN IMMEDIATE`` so a transaction takes the write lock at its
start (no deadlock when two readers both try to upgrade) and savepoints work.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, insert, text, update
from sqlalchemy.engine import make_url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``, tuned for the embedded or the server case."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", 30)
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (pysqlite's own is broken for savepoints).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def create_tables(engine: Engine, *metadatas: MetaData) -> None:
    """Create missing tables; safe when several processes of one service start at once.

    PostgreSQL's CREATE TABLE is not race-free (two ``checkfirst`` creators can
    both decide a table is missing), so creators queue on an advisory lock.
    SQLite's ``BEGIN IMMEDIATE`` already serialises them.
    """
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7340031)"))
        for metadata in metadatas:
            metadata.create_all(conn)


def save_offsets(conn: Connection, table: Table, group: str, offsets: Mapping[Any, int]) -> None:
    """Upsert the next offset per (topic, partition) of ``group`` in a table shaped
    (group_id, topic, partition, next_offset): the consumer runner's tracking and the embedded log's groups."""
    for (topic, partition), offset in offsets.items():
        key = (table.c.group_id == group, table.c.topic == topic, table.c.partition == partition)
        if not conn.execute(update(table).where(*key).values(next_offset=offset)).rowcount:
            conn.execute(insert(table).values(group_id=group, topic=topic, partition=partition, next_offset=offset))


class BulkStatement:
    """A statement run with many rows at once, at the database driver's own speed where it can be.

    ``conn.execute(statement, rows)`` has SQLAlchemy build and type-process every row's parameters,
    ~2 µs a row and statement, which on a replay was a fifth of the SQL time. Where nothing needs
    processing (no bind processors: strings, integers, ``None``) and the driver takes positional
    parameters (SQLite), this compiles the statement once per dialect and column set and hands the
    driver plain tuples (``exec_driver_sql``); the SQL text is SQLAlchemy's own compilation, so the
    effect is the same. Anything else goes through ``conn.execute`` as before.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._plans: dict[tuple[Any, tuple[str, ...]], tuple[str, tuple[str, ...]] | None] = {}

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if conn.get_execution_options().get("schema_translate_map"):
            conn.execute(self.statement, list(rows))  # driver SQL would miss the translation
            return
        keys = tuple(rows[0])
        plan_key = (conn.dialect, keys)
        if plan_key in self._plans:
            plan = self._plans[plan_key]
        else:
            plan = self._plans[plan_key] = self._plan(conn.dialect, keys)
        if plan is None:
            conn.execute(self.statement, list(rows))
            return
        sql, order = plan
        conn.exec_driver_sql(sql, [tuple(row[key] for key in order) for row in rows])

    def _plan(self, dialect: Any, keys: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
        if dialect.paramstyle != "qmark":
            return None
        compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
        order = compiled.positiontup
        if order is None or not set(order) <= set(keys):
            return None
        for bind in compiled.binds.values():
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                return None
        return str(compiled), tuple(order)


def upsert(table: Table, key: Sequence[str], dialect_name: str) -> Any:
    """``INSERT … ON CONFLICT (key) DO UPDATE`` of every other column: a row replaced in one statement.

    Delete-then-insert did the same with two statements and two index searches per row. SQLite and
    PostgreSQL spell it alike; SQLAlchemy has it per dialect.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    dialects: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    if dialect_name not in dialects:
        raise ValueError(f"no upsert for {dialect_name}")
    statement = dialects[dialect_name](table)
    others = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in key}
    return statement.on_conflict_do_update(index_elements=list(key), set_=others)


class Upsert:
    """``upsert`` of one table, built per dialect on first use and run as a ``BulkStatement``."""

    def __init__(self, table: Table, *key: str) -> None:
        self.table, self.key = table, key
        self._by_dialect: dict[str, BulkStatement] = {}

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        name = conn.dialect.name
        bulk = self._by_dialect.get(name)
        if bulk is None:
            bulk = self._by_dialect[name] = BulkStatement(upsert(self.table, self.key, name))
        bulk.executemany(conn, rows)


class WalCheckpointer:
    """Keeps a SQLite database's write-ahead log short from a thread of its own.

    SQLite checkpoints (copies the log back into the database file and syncs it) inside whichever
    commit pushes the log past ``wal_autocheckpoint`` pages, 1000 by default; a consumer's batch
    writes about that much, so nearly every batch paid for a checkpoint and its fsync, ~10 µs an
    event on a replay. While this runs, the engine's connections checkpoint only past
    ``safety_pages`` (in case this thread stalls), and this thread runs a PASSIVE checkpoint every
    ``interval_s``: it never blocks a writer or a reader, and SQLite does its work without holding
    Python's lock, so it overlaps with the batch being applied. A no-op for anything but a SQLite file.
    """

    def __init__(self, engine: Engine, *, interval_s: float = 0.2, safety_pages: int = 10_000) -> None:
        self.engine, self.interval_s, self.safety_pages = engine, interval_s, safety_pages
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self.path = database if database and database != ":memory:" and not database.startswith("file:") else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.path is None or self._thread is not None:
            return
        event.listen(self.engine, "checkout", self._on_checkout)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=10)
        self._thread = None
        event.remove(self.engine, "checkout", self._on_checkout)
        self.engine.pool.dispose()  # pooled connections go back to SQLite's own checkpoints

    def _on_checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={int(self.safety_pages)}")

    def _run(self) -> None:
        assert self.path is not None
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0)
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # busy or locked now: the next round, or the safety net, will do it
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            pass
        finally:
            connection.close()
