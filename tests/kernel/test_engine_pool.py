"""An engine's pool keeps one connection per thread that uses it at once (``make_engine(threads=…)``), so a
web process's threads do not open and close connections as the load moves between them; and SQLite's
BEGIN, run on the driver's connection, still fails as SQLAlchemy's ``OperationalError`` when another
process holds the write lock."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

from guidance_shared.db import SPARE_CONNECTIONS, make_engine, pool_size, reading
from guidance_shared.settings import Settings

THREADS = 8  # more than SQLAlchemy's default pool of 5


def _connections_opened_by_busy_threads(engine: Engine, rounds: int) -> int:
    """Connections the engine opened while ``THREADS`` threads each held one at once, ``rounds`` times."""
    opened = []

    @event.listens_for(engine, "connect")
    def _count(_dbapi_connection: Any, _record: Any) -> None:
        opened.append(1)

    for _ in range(rounds):
        together = threading.Barrier(THREADS)

        def hold(together: threading.Barrier = together) -> None:
            with reading(engine) as conn:
                conn.execute(text("SELECT 1")).scalar_one()
                together.wait(timeout=30)  # every thread holds its connection at the same time

        threads = [threading.Thread(target=hold) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return len(opened)


def test_the_pool_keeps_a_connection_per_thread_on_sqlite(tmp_path: Path) -> None:
    sized = make_engine(f"sqlite:///{tmp_path}/sized.sqlite", threads=THREADS)
    default = make_engine(f"sqlite:///{tmp_path}/default.sqlite")
    try:
        assert _connections_opened_by_busy_threads(sized, rounds=3) == THREADS  # opened once, then kept
        # Without it, the connections beyond the default five are closed at check-in and opened again.
        assert _connections_opened_by_busy_threads(default, rounds=3) > THREADS
    finally:
        sized.dispose()
        default.dispose()


def test_the_pool_keeps_a_connection_per_thread_on_postgresql(postgres_db_url: str) -> None:
    engine = make_engine(postgres_db_url, threads=THREADS)
    try:
        assert _connections_opened_by_busy_threads(engine, rounds=3) == THREADS
    finally:
        engine.dispose()


def test_a_service_sizes_its_pool_from_its_web_threads() -> None:
    settings = Settings.from_env("disclosure", {"GUIDANCE_WEB_THREADS": "12"})
    assert pool_size(settings.web_threads) == 12 + SPARE_CONNECTIONS


def test_a_lock_held_by_another_process_fails_begin_as_sqlalchemys_error(tmp_path: Path) -> None:
    """Two engines on one file queue their writers separately, as two processes do: the second meets SQLite's
    own lock at ``BEGIN IMMEDIATE``, and, once the first has committed, begins normally."""
    url = f"sqlite:///{tmp_path}/store.sqlite"
    first = make_engine(url)
    second = make_engine(url, connect_args={"timeout": 0.2})
    try:
        with first.begin() as conn:
            conn.execute(text("CREATE TABLE acts (n INTEGER)"))
        with first.connect() as holder:
            holder.execute(text("INSERT INTO acts VALUES (1)"))
            with second.connect() as blocked, pytest.raises(OperationalError, match="database is locked"):
                blocked.execute(text("INSERT INTO acts VALUES (2)"))
            holder.commit()
        with second.begin() as conn:  # its queue was released by the failed BEGIN
            conn.execute(text("INSERT INTO acts VALUES (2)"))
        with reading(second) as conn:
            assert conn.execute(text("SELECT count(*) FROM acts")).scalar_one() == 2
    finally:
        first.dispose()
        second.dispose()
