"""The PostgreSQL fixtures give a real server and an empty database of each test's own."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.postgres


def test_the_server_answers(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
    assert make_url(postgres_url).drivername == "postgresql+psycopg"


def test_a_table_round_trip_in_a_fresh_database(postgres_db_url: str) -> None:
    engine = create_engine(postgres_db_url)
    assert inspect(engine).get_table_names() == []
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE cases (id TEXT PRIMARY KEY, title TEXT NOT NULL)"))
        connection.execute(text("INSERT INTO cases VALUES ('c-1', '行政指导 case')"))
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, title FROM cases")).all()
    engine.dispose()  # the fixture drops the database; it forces lingering sessions out anyway
    assert [tuple(row) for row in rows] == [("c-1", "行政指导 case")]
    assert (make_url(postgres_db_url).database or "").startswith("t_")
