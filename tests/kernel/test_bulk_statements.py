"""``BulkStatement`` and ``Upsert``: the same rows as ``conn.execute`` would leave, on every database.

The fast path hands the driver plain tuples, so what it must never change is the effect: the same
rows, NULLs where a value is None, the same conflict handling, and a fall back to SQLAlchemy for
anything it does not model (typed parameters that need processing, named-parameter drivers).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from guidance_shared.db import DriverStatement, make_engine
from guidance_shared.fast.bulk import BulkStatement, Upsert

METADATA = MetaData()
ITEMS = Table(
    "bulk_items",
    METADATA,
    Column("item_id", String(36), primary_key=True),
    Column("title", Text, nullable=False),
    Column("count", Integer, nullable=True),
    Column("note", String(20), nullable=True),
)
DATED = Table(
    "bulk_dated",
    METADATA,
    Column("item_id", String(36), primary_key=True),
    Column("day", Date, nullable=False),
)

TYPED = Table(
    "bulk_typed",
    METADATA,
    Column("item_id", String(36), primary_key=True),
    Column("day", Date, nullable=True),
    Column("flag", Boolean, nullable=True),
)


def _rows(engine: Engine, table: Table = ITEMS) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(table.c.item_id))]


class BulkContract:
    @pytest.fixture
    def tables(self, engine: Engine) -> Engine:
        METADATA.drop_all(engine)
        METADATA.create_all(engine)
        return engine

    def test_insert_many_leaves_what_execute_leaves(self, tables: Engine) -> None:
        rows = [{"item_id": f"i{n}", "title": f"标题{n}", "count": n, "note": None} for n in range(5)]
        with tables.begin() as conn:
            BulkStatement(insert(ITEMS)).executemany(conn, rows)
        assert _rows(tables) == [(f"i{n}", f"标题{n}", n, None) for n in range(5)]

    def test_a_row_missing_an_optional_column_gets_null_as_with_execute(self, tables: Engine) -> None:
        with tables.begin() as conn:
            BulkStatement(insert(ITEMS)).executemany(conn, [{"item_id": "a", "title": "t"}])
        assert _rows(tables) == [("a", "t", None, None)]

    def test_a_driver_statement_stores_typed_values_as_execute_does(self, tables: Engine) -> None:
        # a Date and a Boolean need the dialect's bind processing on SQLite: the driver path must apply it
        rows = [
            {"item_id": "a", "day": date(2026, 2, 28), "flag": True},
            {"item_id": "b", "day": None, "flag": False},
            {"item_id": "c", "day": date(2025, 12, 31), "flag": None},
        ]
        statement = DriverStatement(insert(TYPED).values({c.name: bindparam(c.name) for c in TYPED.columns}))
        with tables.begin() as conn:
            statement.executemany(conn, rows[:2])
            statement.executemany(conn, rows[2:])
        driver = _rows(tables, TYPED)
        with tables.begin() as conn:
            conn.execute(TYPED.delete())
            conn.execute(insert(TYPED), rows)
        assert (
            driver
            == _rows(tables, TYPED)
            == [
                ("a", date(2026, 2, 28), True),
                ("b", None, False),
                ("c", date(2025, 12, 31), None),
            ]
        )
        assert all(plan is not None for plan in statement._plans.values())  # not the fallback

    def test_named_parameters_other_than_columns(self, tables: Engine) -> None:
        with tables.begin() as conn:
            conn.execute(insert(ITEMS), [{"item_id": "a", "title": "t"}, {"item_id": "b", "title": "t"}])
            rename = update(ITEMS).where(ITEMS.c.item_id == bindparam("key")).values(title=bindparam("new"))
            BulkStatement(rename).executemany(conn, [{"key": "b", "new": "乙"}, {"key": "a", "new": "甲"}])
        assert _rows(tables) == [("a", "甲", None, None), ("b", "乙", None, None)]

    def test_types_that_need_processing_still_are_processed(self, tables: Engine) -> None:
        with tables.begin() as conn:
            BulkStatement(insert(DATED)).executemany(conn, [{"item_id": "a", "day": date(2026, 2, 17)}])
        assert _rows(tables, DATED) == [("a", date(2026, 2, 17))]

    def test_a_conflict_still_raises(self, tables: Engine) -> None:
        bulk = BulkStatement(insert(ITEMS))
        with pytest.raises(IntegrityError), tables.begin() as conn:
            bulk.executemany(conn, [{"item_id": "a", "title": "t"}, {"item_id": "a", "title": "u"}])
        assert _rows(tables) == []

    def test_upsert_replaces_every_other_column_and_the_last_row_of_a_key_wins(self, tables: Engine) -> None:
        replace = Upsert(ITEMS, "item_id")
        with tables.begin() as conn:
            replace.executemany(conn, [{"item_id": "a", "title": "old", "count": 1, "note": "n"}])
        with tables.begin() as conn:
            replace.executemany(
                conn,
                [
                    {"item_id": "a", "title": "new", "count": None, "note": None},
                    {"item_id": "b", "title": "b1", "count": 2, "note": None},
                    {"item_id": "b", "title": "b2", "count": 3, "note": "x"},
                ],
            )
        assert _rows(tables) == [("a", "new", None, None), ("b", "b2", 3, "x")]

    def test_nothing_to_write_is_no_statement(self, tables: Engine) -> None:
        with tables.begin() as conn:
            BulkStatement(insert(ITEMS)).executemany(conn, [])
            Upsert(ITEMS, "item_id").executemany(conn, [])
        assert _rows(tables) == []


class TestSqliteBulk(BulkContract):
    @pytest.fixture
    def engine(self, tmp_path) -> Iterator[Engine]:
        engine = make_engine(f"sqlite:///{tmp_path}/bulk.sqlite")
        yield engine
        engine.dispose()

    def test_sqlite_takes_the_driver_path_for_plain_columns(self, engine: Engine) -> None:
        bulk, dated = BulkStatement(insert(ITEMS)), BulkStatement(insert(DATED))
        METADATA.create_all(engine)
        with engine.begin() as conn:
            bulk.executemany(conn, [{"item_id": "a", "title": "t"}])
            dated.executemany(conn, [{"item_id": "a", "day": date(2026, 1, 1)}])
        assert [plan is not None for plan in bulk._plans.values()] == [True]
        assert [plan is not None for plan in dated._plans.values()] == [False]  # Date needs processing


@pytest.mark.postgres
class TestPostgresBulk(BulkContract):
    @pytest.fixture
    def engine(self, postgres_db_url: str) -> Iterator[Engine]:
        engine = make_engine(postgres_db_url)
        yield engine
        engine.dispose()
