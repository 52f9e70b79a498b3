"""The WAL checkpointer: the log is copied back by its own thread, not inside the writers' commits."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Column, Engine, Integer, MetaData, Table, Text, insert, text

from guidance_shared.db import make_engine
from guidance_shared.fast.wal import WalCheckpointer

METADATA = MetaData()
NOTES = Table("notes", METADATA, Column("id", Integer, primary_key=True), Column("body", Text, nullable=False))


def _write(engine: Engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(insert(NOTES), [{"body": "记录" * 400} for _ in range(rows)])


def _autocheckpoint(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())


def _wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_the_log_reaches_the_database_file_without_a_writer_checkpointing(tmp_path: Path) -> None:
    database = tmp_path / "projection.sqlite"
    engine = make_engine(f"sqlite:///{database}")
    METADATA.create_all(engine)
    checkpointer = WalCheckpointer(engine, interval_s=0.05)
    checkpointer.start()
    try:
        assert _autocheckpoint(engine) == checkpointer.safety_pages  # writers leave it to the thread
        before = os.path.getsize(database)
        _write(engine, 200)  # ~500 KB: well under the writers' safety net, so only the thread copies it
        assert _wait_for(lambda: os.path.getsize(database) > before + 200_000)
    finally:
        checkpointer.stop()
    assert _autocheckpoint(engine) == 1000  # SQLite's own default again
    engine.dispose()


def test_without_it_the_same_writes_stay_in_the_log(tmp_path: Path) -> None:
    """The control for the test above: the same writes, under SQLite's own 1000-page threshold."""
    database = tmp_path / "projection.sqlite"
    engine = make_engine(f"sqlite:///{database}")
    METADATA.create_all(engine)
    before = os.path.getsize(database)
    _write(engine, 200)
    time.sleep(0.3)
    assert os.path.getsize(database) < before + 200_000
    engine.dispose()


def _contents(database: Path) -> tuple[str, list[tuple[int, str]]]:
    """What a fresh connection reads from the file: SQLite's integrity verdict and every row."""
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        verdict = str(conn.execute(text("PRAGMA integrity_check")).scalar_one())
        rows = [(int(r[0]), str(r[1])) for r in conn.execute(text("SELECT id, body FROM notes ORDER BY id"))]
    engine.dispose()
    return verdict, rows


def test_the_same_writes_leave_the_same_database_with_or_without_it(tmp_path: Path) -> None:
    """It changes when the log is copied back, never what the database holds: many small commits
    while the thread checkpoints under them read back exactly as with SQLite's own checkpoints."""
    contents = []
    for with_thread in (True, False):
        database = tmp_path / f"projection-{with_thread}.sqlite"
        engine = make_engine(f"sqlite:///{database}")
        METADATA.create_all(engine)
        checkpointer = WalCheckpointer(engine, interval_s=0.01)
        if with_thread:
            checkpointer.start()
        try:
            for batch in range(40):
                with engine.begin() as conn:
                    conn.execute(insert(NOTES), [{"body": f"第{batch}批" * 200} for _ in range(10)])
        finally:
            checkpointer.stop()
        engine.dispose()
        contents.append(_contents(database))
    with_it, without_it = contents
    assert with_it == without_it
    assert with_it[0] == "ok" and len(with_it[1]) == 400


def test_it_does_nothing_for_databases_that_are_not_sqlite_files(tmp_path: Path) -> None:
    memory = make_engine("sqlite:///:memory:")
    checkpointer = WalCheckpointer(memory)
    checkpointer.start()
    assert checkpointer._thread is None
    checkpointer.stop()
    assert WalCheckpointer(make_engine("postgresql://nobody@127.0.0.1:1/none")).path is None
