"""On SQLite a reader does not queue behind a writer: ``reading`` begins deferred and reads its snapshot;
writers of one process queue on a lock instead of sleeping in SQLite's busy handler.

Every other transaction begins ``BEGIN IMMEDIATE`` (writers queue on the lock instead of failing when
they upgrade it); the public pages read through ``reading``, so a command holding the write lock does
not hold them up. The engine's busy timeout is cut to a fraction of a second, so the writer-style
connection's wait shows as "database is locked" instead of a 30-second sleep."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from guidance_shared.db import make_engine, reading


def test_a_reader_reads_its_snapshot_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/store.sqlite", connect_args={"timeout": 0.2})
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE acts (n INTEGER)"))
        conn.execute(text("INSERT INTO acts VALUES (1)"))
    with engine.connect() as writer:
        writer.execute(text("INSERT INTO acts VALUES (2)"))  # BEGIN IMMEDIATE: holds the write lock, uncommitted

        with reading(engine) as reader:
            assert reader.execute(text("SELECT count(*) FROM acts")).scalar_one() == 1  # the committed snapshot

        with engine.connect() as queued, pytest.raises(OperationalError, match="database is locked"):
            queued.execute(text("SELECT count(*) FROM acts"))  # a writer-style transaction waits for the lock
        writer.commit()
    with reading(engine) as reader:
        assert reader.execute(text("SELECT count(*) FROM acts")).scalar_one() == 2
    engine.dispose()


def test_writers_of_one_process_queue_without_the_busy_handler(tmp_path: Path) -> None:
    """SQLite's busy handler is switched off (``busy_timeout=0``) after the engine sets it up: any writer
    that met another's write lock would fail at once with "database is locked". Eight threads writing
    at once all succeed, so each waited in the process's queue and none met SQLite's lock."""
    engine = make_engine(f"sqlite:///{tmp_path}/store.sqlite")

    @event.listens_for(engine, "connect")
    def _no_busy_handler(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE acts (n INTEGER)"))
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def write(n: int) -> None:
        start.wait()
        try:
            for i in range(25):
                with engine.begin() as tx:
                    tx.execute(text("INSERT INTO acts VALUES (:n)"), {"n": n * 100 + i})
                    tx.execute(text("SELECT count(*) FROM acts")).scalar_one()
                if i % 5 == 0:  # a failed transaction releases the queue too
                    with pytest.raises(ZeroDivisionError), engine.begin() as tx:
                        tx.execute(text("INSERT INTO acts VALUES (-1)"))
                        raise ZeroDivisionError
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with reading(engine) as reader:
        assert reader.execute(text("SELECT count(*) FROM acts")).scalar_one() == 8 * 25
    engine.dispose()
