"""On SQLite a reader does not queue behind a writer: ``reading`` begins deferred and reads its snapshot.

Every other transaction begins ``BEGIN IMMEDIATE`` (writers queue on the lock instead of failing when
they upgrade it); the public pages read through ``reading``, so a command holding the write lock does
not hold them up. The engine's busy timeout is cut to a fraction of a second, so the writer-style
connection's wait shows as "database is locked" instead of a 30-second sleep."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
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
