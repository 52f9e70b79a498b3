"""The personal-data access log: append-only, gap-free and chained, on SQLite and a real PostgreSQL.

One contract, run against both databases: what is appended reads back in order and verifies; the
database itself refuses to change or delete an entry; and an entry changed, removed or reordered by
someone who got past the triggers (they hold the DDL) is named by ``verify``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from guidance_shared import access_log
from guidance_shared.access_log import Access, append, verify
from guidance_shared.db import make_engine


def read(actor: str = "officer-1", subject: str | None = "p-1", count: int = 1) -> Access:
    return Access(
        actor=actor,
        actor_department="3898b87c-d9e4-5a37-8351-e465fdfcaae6",
        roles="officer",
        purpose="getGuidanceItem",
        subject_ref=subject,
        record_id="7d0e5c1a-0000-4000-8000-000000000001",
        count=count,
        request_id="r-1",
    )


def create(engine: Engine) -> None:
    access_log.ACCESS_LOG_METADATA.create_all(engine)
    with engine.begin() as conn:
        for statement in access_log.append_only_statements(engine.dialect.name):
            conn.execute(text(statement))


def without_triggers(engine: Engine) -> None:
    """What an intruder holding DDL rights does first."""
    with engine.begin() as conn:
        for statement in access_log.drop_append_only_statements(engine.dialect.name):
            conn.execute(text(statement))


class AccessLogContract:
    def test_entries_are_numbered_chained_and_read_back(self, engine: Engine) -> None:
        first = append(engine, [read(), read(subject="p-2")])
        second = append(engine, [read(subject=None, count=240)])
        assert [e.seq for e in first + second] == [1, 2, 3]
        assert first[0].prev_hash == access_log.GENESIS and second[0].prev_hash == first[1].hash
        with engine.connect() as conn:
            assert access_log.entries(conn) == first + second
            assert [e.seq for e in access_log.entries(conn, subject_ref="p-2")] == [2]
            assert [e.seq for e in access_log.entries(conn, after=1, limit=1)] == [2]
            assert verify(conn) == []

    def test_the_database_refuses_to_change_or_delete_an_entry(self, engine: Engine) -> None:
        append(engine, [read(), read()])
        for statement in (
            "UPDATE pd_access_log SET actor = 'someone-else' WHERE seq = 1",
            "DELETE FROM pd_access_log WHERE seq = 2",
        ):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
        with engine.connect() as conn:
            assert [e.actor for e in access_log.entries(conn)] == ["officer-1", "officer-1"]

    def test_verify_names_a_changed_a_removed_and_a_reordered_entry(self, engine: Engine) -> None:
        append(engine, [read(actor=f"officer-{n}") for n in range(1, 7)])
        without_triggers(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE pd_access_log SET subject_ref = 'p-9' WHERE seq = 2"))
            conn.execute(text("DELETE FROM pd_access_log WHERE seq = 4"))
            # entries 5 and 6 swap their numbers: the order of reads is rewritten
            conn.execute(text("UPDATE pd_access_log SET seq = 1000 WHERE seq = 5"))
            conn.execute(text("UPDATE pd_access_log SET seq = 5 WHERE seq = 6"))
            conn.execute(text("UPDATE pd_access_log SET seq = 6 WHERE seq = 1000"))
        with engine.connect() as conn:
            problems = {(b.seq, b.problem) for b in verify(conn)}
        assert (2, "its fields do not match its hash") in problems
        assert (5, "entries 4–4 are missing") in problems
        assert (5, "does not follow the entry before it") in problems
        assert (6, "does not follow the entry before it") in problems
        assert {seq for seq, _ in problems} == {2, 5, 6}  # 3 still links to the hash 2 was stored with

    def test_concurrent_appends_stay_one_gap_free_chain(self, engine: Engine) -> None:
        failures: list[BaseException] = []

        def reader(n: int) -> None:
            try:
                for _ in range(15):
                    append(engine, [read(actor=f"officer-{n}")])
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        with engine.connect() as conn:
            assert [e.seq for e in access_log.entries(conn, limit=1000)] == list(range(1, 61))
            assert verify(conn) == []


class TestOnSQLite(AccessLogContract):
    @pytest.fixture
    def engine(self, tmp_path: Path) -> Iterator[Engine]:
        engine = make_engine(f"sqlite:///{tmp_path / 'access.sqlite'}")
        create(engine)
        yield engine
        engine.dispose()


class TestOnPostgres(AccessLogContract):
    @pytest.fixture
    def engine(self, postgres_db_url: str) -> Iterator[Engine]:
        engine = make_engine(postgres_db_url, pool_size=6)
        create(engine)
        yield engine
        engine.dispose()
