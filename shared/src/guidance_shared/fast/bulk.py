"""Bulk statements: many rows handed to SQLite's driver as plain tuples, and a row replaced in one statement.

What it buys: ``conn.execute(statement, rows)`` has SQLAlchemy build and type-process every row's
parameters, ~2 µs a row and statement, a fifth of the SQL time on ``bench/run``'s replay phase;
``BulkStatement`` hands the driver plain tuples instead. ``upsert`` replaces a row in one
statement and one index search, where delete + insert takes two of each. Both are part of the
replay's ~25 µs an event of writes (README, "Benchmarks";
``bench/results/kernel-2026-11-25-session3.json``). Held equal to ``conn.execute`` by
``tests/kernel/test_bulk_statements.py``, on SQLite and on PostgreSQL: the same rows, the same
errors, the same fallbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


class BulkStatement:
    """A statement run with many rows at once, at the database driver's own speed where it can be.

    ``conn.execute(statement, rows)`` has SQLAlchemy build and type-process every row's parameters,
    ~2 µs a row and statement, a fifth of a replay's SQL time. Where nothing needs
    processing (no bind processors: strings, integers, ``None``) and the driver takes positional
    parameters (SQLite), this compiles the statement once per dialect and column set and hands the
    driver plain tuples (``exec_driver_sql``); the SQL text is SQLAlchemy's own compilation, so the
    effect is the same. Anything else goes through ``conn.execute``.
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

    Delete-then-insert would take two statements and two index searches per row. SQLite and
    PostgreSQL spell it alike; SQLAlchemy has it per dialect.
    """
    dialects: dict[str, Callable[[Table], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
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
