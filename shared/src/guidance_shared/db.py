"""Database engines: SQLite for the embedded default, PostgreSQL in production.

SQLite needs help to behave like a server database: WAL so readers never
block the writer, ``BEGIN IMMEDIATE`` so a transaction takes the write lock at its
start (no deadlock when two readers both try to upgrade) and savepoints work, and
one writer at a time per process (``_WriterQueue``): SQLite's busy handler makes a
waiting writer sleep and retry with growing back-offs (up to 100 ms a try), which
under eight threads turned a 5 ms command into a 450 ms tail, so a process's writers
queue on a lock instead and meet the busy handler only when another process writes.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, create_engine, event, insert, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

#: Connections a process may hold beyond one per web thread: its other threads that read or write (the
#: worker's relay, consumer and housekeeping; the web process's health probes).
SPARE_CONNECTIONS = 4
#: At most this many connections per process (or ``pool_size`` when that is more).
MOST_CONNECTIONS = 15


def pool_size(threads: int) -> int:
    """How many connections the pool keeps open for a process serving ``threads`` threads: one each and
    the spares. SQLAlchemy's default keeps 5 and closes any connection checked in beyond them, so under 8
    busy threads connections were opened and closed as the load moved: on SQLite a connect, four PRAGMAs
    and the schema read again by its first statement; on PostgreSQL a server process forked and an
    authentication, both inside a request."""
    return threads + SPARE_CONNECTIONS


def make_engine(url: str, *, threads: int | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url``, tuned for the embedded or the server case. ``threads``: how many threads
    of the process use it at once (a service's ``web_threads``), which sizes its pool (``pool_size``)."""
    parsed = make_url(url)
    if threads is not None and parsed.database not in (None, "", ":memory:"):
        kept = pool_size(threads)
        kwargs.setdefault("pool_size", kept)
        # Opened beyond those only under a burst, up to the 15 SQLAlchemy's defaults allowed (5 + 10), so
        # the connection budget in docs/operations.md holds at the default 8 threads.
        kwargs.setdefault("max_overflow", max(0, MOST_CONNECTIONS - kept))
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
    busy_ms = int(float(connect_args["timeout"]) * 1000)  # the driver's timeout and SQLite's busy handler agree
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    writers = _WriterQueue(busy_ms / 1000)
    writers.install(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (pysqlite's own is broken for savepoints).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock when it begins, so two writers queue instead of failing on upgrade;
        # a reader (``reading``) begins deferred and reads its WAL snapshot without waiting for any writer.
        owner = conn.connection.dbapi_connection
        if conn.get_execution_options().get(_READ_ONLY):
            _begin(conn, owner, "BEGIN")
            return
        writers.acquire(owner)
        try:
            _begin(conn, owner, "BEGIN IMMEDIATE")
        except BaseException:
            writers.release(owner)
            raise

    return engine


def _begin(conn: Connection, dbapi_connection: Any, statement: str) -> None:
    """``statement`` on the driver's connection itself. Through ``exec_driver_sql`` a BEGIN cost the whole
    statement path (execution context, events, a result object): 9 % of a public list page's time under
    16 clients, for a statement SQLite answers in microseconds. A driver error is raised as SQLAlchemy's,
    as ``exec_driver_sql`` raised it (``OperationalError`` for a lock held by another process)."""
    try:
        dbapi_connection.execute(statement)
    except sqlite3.Error as error:
        raise _wrapped(conn, statement, (), error) from error


class _WriterQueue:
    """One SQLite write transaction at a time in this process, the others waiting in arrival order.

    A waiter sleeps on a lock of its own, handed over by the writer that ends before it (first come,
    first served: a plain lock wakes an arbitrary waiter, and under eight threads some waited many turns,
    the tail), instead of polling in SQLite's busy handler. Taken just before ``BEGIN IMMEDIATE``,
    released just after the COMMIT or ROLLBACK has run (the dialect's ``do_commit``/``do_rollback``, which
    also end a transaction when the pool resets a connection). A connection the pool invalidates, checks
    in or closes while it holds the queue releases it too, so no path that ends a transaction can leave
    it taken. Keyed by the DBAPI connection: a release by a connection that does not hold it is a no-op."""

    def __init__(self, timeout_s: float) -> None:
        self._mutex = threading.Lock()  # guards the fields below; held only for a few operations
        self._taken = False
        self._owner: Any = None
        self._waiting: deque[threading.Lock] = deque()
        self._timeout_s = timeout_s

    def acquire(self, owner: Any) -> None:
        with self._mutex:
            if not self._taken:
                self._taken, self._owner = True, owner
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        handed = turn.acquire(timeout=self._timeout_s)
        with self._mutex:
            if not handed:
                try:
                    self._waiting.remove(turn)
                except ValueError:
                    handed = True  # handed over between the timeout and this check: it is ours after all
            if handed:
                self._owner = owner
                return
        # What SQLite's busy handler says after the same wait, so callers see one kind of error for both.
        raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))

    def release(self, connection: Any) -> None:
        owner = getattr(connection, "dbapi_connection", connection)  # the pool's proxy or the DBAPI connection
        with self._mutex:
            if owner is None or owner is not self._owner:
                return
            self._owner = None
            if self._waiting:
                self._waiting.popleft().release()  # the next in line owns it now; it stays taken
            else:
                self._taken = False

    def install(self, engine: Engine) -> None:
        dialect = engine.dialect  # this engine's own instance: wrapping it touches no other engine
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(connection: Any) -> None:
            try:
                commit(connection)
            finally:
                self.release(connection)

        def do_rollback(connection: Any) -> None:
            try:
                rollback(connection)
            finally:
                self.release(connection)

        setattr(dialect, "do_commit", do_commit)  # noqa: B010  (mypy refuses assigning to a method)
        setattr(dialect, "do_rollback", do_rollback)  # noqa: B010

        def ended(dbapi_connection: Any, *_args: Any) -> None:
            self.release(dbapi_connection)

        for name in ("checkin", "invalidate", "close"):
            event.listen(engine, name, ended)


_READ_ONLY = "guidance_read_only"


def reading(engine: Engine) -> Connection:
    """A connection for reads only. On SQLite its transactions begin deferred: a reader never queues on the
    write lock (the public pages under load did, behind ``BEGIN IMMEDIATE``), and sees the snapshot of its
    first read. Writing through it is a mistake: SQLite would then have to upgrade its lock mid-transaction.
    On PostgreSQL it is an ordinary connection (MVCC readers never wait for writers)."""
    return engine.connect().execution_options(**{_READ_ONLY: True})


#: PostgreSQL's SQLSTATEs for a transaction the server gave up on because of another one: a deadlock, a
#: serialisation failure, a lock it could not get in time. Nothing is wrong with the work itself.
_CONTENDED = frozenset({"40P01", "40001", "55P03"})


def is_contention(error: BaseException) -> bool:
    """Whether ``error`` is the database refusing this transaction because of a concurrent one, so the whole
    transaction should be rolled back (releasing its locks) and tried again later, rather than judged."""
    if not isinstance(error, DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in _CONTENDED:
        return True
    return isinstance(error.orig, sqlite3.OperationalError) and "locked" in str(error.orig)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def save_offsets(conn: Connection, table: Table, group: str, offsets: Mapping[Any, int]) -> None:
    """Upsert the next offset per (topic, partition) of ``group`` in a table shaped
    (group_id, topic, partition, next_offset): the consumer runner's tracking and the embedded log's groups."""
    moved, first = _offset_statements(table)
    for (topic, partition), offset in offsets.items():
        params = {"o_group": group, "o_topic": topic, "o_partition": partition, "o_next": offset}
        if not conn.execute(moved, params).rowcount:
            conn.execute(first, params)


@functools.cache
def _offset_statements(table: Table) -> tuple[Any, Any]:
    """``save_offsets``' UPDATE and INSERT for ``table``, built once: every batch of every consumer stores its
    offsets, and rebuilding the two statements cost more than running them (docs/performance.md, "Propagation's
    tail, located")."""
    key = (
        table.c.group_id == bindparam("o_group"),
        table.c.topic == bindparam("o_topic"),
        table.c.partition == bindparam("o_partition"),
    )
    moved = update(table).where(*key).values(next_offset=bindparam("o_next"))
    first = insert(table).values(
        group_id=bindparam("o_group"),
        topic=bindparam("o_topic"),
        partition=bindparam("o_partition"),
        next_offset=bindparam("o_next"),
    )
    return moved, first


class DriverStatement:
    """A Core statement compiled once per dialect and run on the driver's cursor: a command's hot writes.

    ``conn.execute(statement)`` costs a cache-key walk, a cache lookup, per-parameter processing and a
    result object on every call, more than the statement's own work for the few-row writes a command
    makes (~100 µs of a ~300 µs append, four times). This compiles the statement (SQLAlchemy's own
    compilation, so the same SQL) the first time a dialect runs it, then hands the driver's cursor the
    parameters as they are, in the connection's transaction (begun first, as ``execute`` would), and
    raises a driver error as SQLAlchemy's (``IntegrityError``, ``OperationalError``...). The caller
    names its parameters with ``bindparam``; the statement's literals keep their compiled values. A
    parameter whose type needs processing for the dialect (a ``Date`` or ``Boolean`` on SQLite) goes through
    the dialect's own bind processor, as ``execute`` would send it; where the connection translates schemas,
    it runs through ``conn.execute`` instead.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._plans: dict[Any, _Plan] = {}

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run it once; the rows it returns (a RETURNING clause's or a SELECT's), as tuples."""
        plan = self._plan(conn)
        if plan is None:
            return [tuple(row) for row in conn.execute(self.statement, dict(params))]
        parameters = plan.parameters(params)
        cursor = _cursor(conn)
        try:
            cursor.execute(plan.sql, parameters)
            return [tuple(row) for row in cursor.fetchall()]
        except conn.dialect.loaded_dbapi.Error as error:
            raise _wrapped(conn, plan.sql, parameters, error) from error
        finally:
            cursor.close()

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        plan = self._plan(conn)
        if plan is None:
            conn.execute(self.statement, [dict(row) for row in rows])
            return
        parameters = [plan.parameters(row) for row in rows]
        cursor = _cursor(conn)
        try:
            cursor.executemany(plan.sql, parameters)
        except conn.dialect.loaded_dbapi.Error as error:
            raise _wrapped(conn, plan.sql, parameters, error) from error
        finally:
            cursor.close()

    def _plan(self, conn: Connection) -> _Plan | None:
        if conn.get_execution_options().get("schema_translate_map"):
            return None  # driver SQL would miss the translation
        dialect = conn.dialect
        if dialect not in self._plans:
            self._plans[dialect] = _Plan.of(self.statement, dialect)
        return self._plans[dialect]


def _cursor(conn: Connection) -> Any:
    if not conn.in_transaction():
        conn.begin()  # what the first ``execute`` would do (autobegin): the caller's commit or rollback ends it
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]  # an open connection has one


def _wrapped(conn: Connection, sql: str, parameters: Any, error: Exception) -> BaseException:
    return DBAPIError.instance(sql, parameters, error, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect)


class _Plan:
    """One dialect's SQL of a ``DriverStatement``, the order of its positional parameters (None: named),
    and the values of the binds the statement fixed itself (its literals: ``id = 1``, ``LIMIT 1``)."""

    def __init__(
        self,
        sql: str,
        order: tuple[str, ...] | None,
        fixed: dict[str, Any],
        processors: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        self.sql, self.order, self.fixed = sql, order, fixed
        self.processors = dict(processors or {})
        # A row's positional parameters in one C call (``itemgetter`` of one name gives a bare value).
        self._positional = (
            None if order is None else itemgetter(*order) if len(order) > 1 else (lambda row: (row[order[0]],))
        )

    @classmethod
    def of(cls, statement: Any, dialect: Any) -> _Plan:
        compiled = statement.compile(dialect=dialect)
        processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        fixed = {name: value for name, value in compiled.params.items() if value is not None}
        order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup is not None else None
        return cls(str(compiled), order, fixed, processors)

    def parameters(self, given: Mapping[str, Any]) -> Any:
        values = {**self.fixed, **given} if self.fixed else given
        if self.processors:
            values = dict(values)
            for name, processor in self.processors.items():
                if name in values:
                    values[name] = processor(values[name])
        return self._positional(values) if self._positional is not None else dict(values)
