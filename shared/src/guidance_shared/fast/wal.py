"""A thread of its own that keeps a SQLite database's write-ahead log short.

What it buys: without it, nearly every consumer batch's commit also checkpoints the log and syncs
the database file, ~10 µs an event on ``bench/run``'s replay phase (README, "Benchmarks";
``bench/results/kernel-2026-11-25-session3.json``). Held equal to SQLite's own checkpoints by
``tests/kernel/test_wal_checkpointer.py``: the same commits leave the same rows (and a sound file)
with or without it; the log reaches the database file without a writer checkpointing, while the
same writes stay in the log without it (the control); the writers' threshold is SQLite's default
again once it stops; it does nothing for anything but a SQLite file.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, event


class WalCheckpointer:
    """Keeps a SQLite database's write-ahead log short from a thread of its own.

    SQLite checkpoints (copies the log back into the database file and syncs it) inside whichever
    commit pushes the log past ``wal_autocheckpoint`` pages, 1000 by default; a consumer's batch
    writes about that much, so nearly every batch would pay for a checkpoint and its fsync, ~10 µs
    an event on a replay. While this runs, the engine's connections checkpoint only past
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
