"""The keyed ledger and its checkpoints (issue 16, point 4), on SQLite and a real PostgreSQL server.

Every tampering is done as an attacker with the database's rights but not the key would do it: straight SQL
on the tables, recomputing every plain SHA-256 hash the change invalidates, so that the streams' own chains
hold and only the keyed ledger (and the checkpoints signed with the key) can tell.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, select, text, update

from guidance_shared import access_log
from guidance_shared.checkpoints import Checkpoint, append_to_file, check, read_file, take
from guidance_shared.db import make_engine
from guidance_shared.eventstore import (
    GENESIS_HASH,
    NEW_STREAM,
    EventStore,
    NewEvent,
    counter_table,
    event_hash,
    events_table,
    outbox_table,
)
from guidance_shared.ledger import LedgerKey
from tests.support.schema import kernel_tables

KEY = LedgerKey.from_setting("k" * 40)
ISSUED = "guidance.GuidanceIssued.v1"


def issued(n: int, tag: str = "") -> list[NewEvent]:
    return [NewEvent(ISSUED, {"matter": f"食品经营许可 {tag}{i}", "n": i}) for i in range(n)]


def rehash_stream(conn: Connection, stream_id: str) -> None:
    """What an attacker without the key can do after changing a stream: make its plain chain whole again."""
    prev = GENESIS_HASH
    rows = conn.execute(
        select(events_table).where(events_table.c.stream_id == stream_id).order_by(events_table.c.version)
    ).all()
    for version, row in enumerate(rows, start=1):
        digest = event_hash(prev, row.stream_id, version, row.event_id, row.event_type, row.data, row.occurred_at)
        conn.execute(
            update(events_table)
            .where(events_table.c.position == row.position)
            .values(version=version, prev_hash=prev, hash=digest)
        )
        prev = digest


def kinds(store: EventStore) -> list[tuple[int, str]]:
    report = store.verify()
    assert report.ledger is not None
    assert report.breaks == [], "the streams' own chains were made whole: only the ledger may break"
    return [(b.position, b.kind) for b in report.ledger.breaks]


class LedgerContract:
    @pytest.fixture
    def store(self, engine: Engine) -> EventStore:
        kernel_tables(engine, access_log.ACCESS_LOG_METADATA)
        return EventStore(engine, source="/guidance/intake", topic="intake.events", ledger_key=KEY)

    @pytest.fixture
    def filled(self, store: EventStore) -> EventStore:
        """Positions 1–3: a; 4–5: b; 6–7: c; 8: a again."""
        store.append("a", "Guidance", NEW_STREAM, issued(3, "a"))
        store.append("b", "Guidance", NEW_STREAM, issued(2, "b"))
        store.append("c", "Guidance", NEW_STREAM, issued(2, "c"))
        store.append("a", "Guidance", 3, issued(1, "a+"))
        return store

    def test_an_untouched_store_verifies_and_every_event_is_linked(self, filled: EventStore, engine: Engine) -> None:
        report = filled.verify()
        assert report.ok and report.ledger is not None
        assert (report.ledger.starts_after, report.ledger.keyed_events, report.ledger.head_position) == (0, 8, 8)
        assert report.ledger.development_key is False
        with engine.connect() as conn:
            links = conn.execute(select(events_table.c.ledger).order_by(events_table.c.position)).scalars().all()
        assert len(set(links)) == 8 and all(len(link) == 64 for link in links)

    def test_concurrent_appenders_make_one_unbroken_ledger(self, store: EventStore) -> None:
        """Each append reads its predecessor's link under the counter's lock: never one not yet committed."""
        errors: list[BaseException] = []

        def writer(prefix: str) -> None:
            try:
                for i in range(25):
                    store.append(f"{prefix}-{i}", "Guidance", NEW_STREAM, issued(2, prefix))
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(p,)) for p in "wxyz"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        report = store.verify()
        assert report.ok and report.ledger is not None
        assert (report.ledger.keyed_events, report.ledger.head_position) == (200, 200)

    def test_data_changed_and_its_hash_recomputed_is_named(self, filled: EventStore, engine: Engine) -> None:
        with engine.begin() as conn:
            conn.execute(
                update(events_table).where(events_table.c.position == 2).values(data='{"matter":"篡改","n":1}')
            )
            rehash_stream(conn, "a")
        # positions 2, 3 and 8 are a's events whose plain hashes the attacker had to recompute
        assert kinds(filled) == [(2, "link"), (3, "link"), (8, "link")]

    def test_a_whole_stream_deleted_is_named(self, filled: EventStore, engine: Engine) -> None:
        with engine.begin() as conn:
            conn.execute(delete(events_table).where(events_table.c.stream_id == "b"))
        assert kinds(filled) == [(4, "missing")]
        assert "positions 4–5 are missing" in filled.verify().ledger.breaks[0].reason  # type: ignore[union-attr]

    def test_the_last_events_of_a_stream_deleted_are_named(self, filled: EventStore, engine: Engine) -> None:
        with engine.begin() as conn:
            conn.execute(delete(events_table).where(events_table.c.stream_id == "c", events_table.c.version == 2))
        assert kinds(filled) == [(7, "missing")]

    def test_the_last_events_of_the_store_deleted_are_named(self, filled: EventStore, engine: Engine) -> None:
        with engine.begin() as conn:
            conn.execute(delete(events_table).where(events_table.c.position >= 7))
        assert kinds(filled) == [(7, "truncated")]

    def test_a_gap_in_the_positions_is_named(self, filled: EventStore, engine: Engine) -> None:
        with engine.begin() as conn:  # the last event moved up: no event is lost, but a position is skipped
            conn.execute(update(events_table).where(events_table.c.position == 8).values(position=9))
            conn.execute(update(counter_table).values(last_position=9))
        assert kinds(filled) == [(8, "missing")]

    def test_reordering_is_named(self, filled: EventStore, engine: Engine) -> None:
        with engine.begin() as conn:  # b's and c's events swap places in the global order
            for old, new in ((4, 104), (5, 105), (6, 4), (7, 5), (104, 6), (105, 7)):
                conn.execute(update(events_table).where(events_table.c.position == old).values(position=new))
        assert kinds(filled) == [(4, "link"), (5, "link"), (6, "link"), (7, "link"), (8, "link")]

    def test_an_event_without_a_link_inside_the_ledger_is_named(self, filled: EventStore, engine: Engine) -> None:
        with engine.begin() as conn:
            conn.execute(update(events_table).where(events_table.c.position == 5).values(ledger=None))
        assert (5, "unkeyed") in kinds(filled)

    def test_a_store_rechained_without_the_key_is_named_at_every_event(
        self, filled: EventStore, engine: Engine
    ) -> None:
        forger = EventStore(
            engine, source="/guidance/intake", topic="intake.events", ledger_key=LedgerKey.from_setting("f" * 40)
        )
        with engine.begin() as conn:  # every link recomputed, with a key of the forger's
            prev = "0" * 64
            for row in conn.execute(select(events_table).order_by(events_table.c.position)).all():
                prev = forger.linker.link(prev, row.position, row.hash, row.stream_type, row.meta)
                conn.execute(update(events_table).where(events_table.c.position == row.position).values(ledger=prev))
        assert kinds(filled) == [(p, "link") for p in range(1, 9)]

    # -- checkpoints ---------------------------------------------------------------------------------
    def test_the_store_extends_its_checkpoint_and_grows_past_it(self, filled: EventStore, engine: Engine) -> None:
        checkpoint = self._checkpoint(filled, engine)
        filled.append("d", "Guidance", NEW_STREAM, issued(2, "d"))
        with engine.connect() as conn:
            assert check(conn, filled.linker, "intake", checkpoint) == []
        assert (checkpoint.position, checkpoint.key_id) == (8, KEY.key_id)

    def test_a_cut_off_tail_the_counter_hides_is_named_against_the_checkpoint(
        self, filled: EventStore, engine: Engine
    ) -> None:
        checkpoint = self._checkpoint(filled, engine)
        with engine.begin() as conn:  # the last events and the counter's memory of them, gone
            conn.execute(delete(events_table).where(events_table.c.position >= 7))
            conn.execute(update(counter_table).values(last_position=6))
        assert filled.verify().ok  # nothing inside the store can tell
        assert self._mismatches(filled, engine, checkpoint) == [(8, "truncated")]

    def test_a_store_replaced_by_a_forgery_is_named_against_the_checkpoint(
        self, filled: EventStore, engine: Engine
    ) -> None:
        checkpoint = self._checkpoint(filled, engine)
        with engine.begin() as conn:  # a whole new history, plain chains whole, and no ledger at all
            conn.execute(delete(events_table))
            conn.execute(delete(outbox_table))
            conn.execute(update(counter_table).values(last_position=0))
        forged = EventStore(engine, source="/guidance/intake", topic="intake.events", ledger_key=KEY)
        with engine.begin() as conn:
            forged.append("a", "Guidance", NEW_STREAM, issued(8, "forged"), conn=conn)
            conn.execute(update(events_table).values(ledger=None))  # looks like a store from before the ledger
        assert filled.verify().ok
        assert self._mismatches(filled, engine, checkpoint) == [(8, "rewritten")]

    def test_a_changed_or_foreign_checkpoint_is_named(self, filled: EventStore, engine: Engine) -> None:
        checkpoint = self._checkpoint(filled, engine)
        moved = Checkpoint(**{**checkpoint.__dict__, "position": 3})
        assert self._mismatches(filled, engine, moved) == [(3, "signature")]
        other = EventStore(engine, source="/x", topic="x", ledger_key=LedgerKey.from_setting("o" * 40))
        with engine.connect() as conn:
            foreign = take(conn, other.linker, "intake", with_access_log=False)
        assert foreign is not None
        assert self._mismatches(filled, engine, foreign) == [(8, "key")]

    def test_the_access_log_rewritten_is_named_against_the_checkpoint(self, filled: EventStore, engine: Engine) -> None:
        who = access_log.Access(actor="u-1", actor_department="d-1", roles="officer", purpose="records.read")
        access_log.append(engine, [who, who])
        checkpoint = self._checkpoint(filled, engine)
        assert checkpoint.access_log_seq == 2
        with engine.begin() as conn:  # the DDL rights' way round the triggers: a new, consistent log
            for statement in access_log.drop_append_only_statements(engine.dialect.name):
                conn.execute(text(statement))
            conn.execute(delete(access_log.access_log))
        access_log.append(engine, [who, access_log.Access(actor="u-2", actor_department="d-1", roles="r", purpose="p")])
        with engine.connect() as conn:
            assert access_log.verify(conn) == []
        assert self._mismatches(filled, engine, checkpoint) == [(8, "access-log-rewritten")]

    def test_the_export_file_round_trips(self, filled: EventStore, engine: Engine, tmp_path: Path) -> None:
        first = self._checkpoint(filled, engine)
        filled.append("d", "Guidance", NEW_STREAM, issued(1, "d"))
        second = self._checkpoint(filled, engine)
        path = tmp_path / "out" / "intake-checkpoints.jsonl"
        append_to_file(path, first)
        append_to_file(path, second)
        assert read_file(path) == [first, second]

    def _checkpoint(self, store: EventStore, engine: Engine) -> Checkpoint:
        with engine.connect() as conn:
            checkpoint = take(conn, store.linker, "intake", with_access_log=True)
        assert checkpoint is not None
        return checkpoint

    def _mismatches(self, store: EventStore, engine: Engine, checkpoint: Checkpoint) -> list[tuple[int, str]]:
        with engine.connect() as conn:
            return [(m.position, m.kind) for m in check(conn, store.linker, "intake", checkpoint)]


class TestSQLiteLedger(LedgerContract):
    @pytest.fixture
    def engine(self, tmp_path: Path) -> Iterator[Engine]:
        engine = make_engine(f"sqlite:///{tmp_path}/store.sqlite")
        yield engine
        engine.dispose()


@pytest.mark.postgres
class TestPostgresLedger(LedgerContract):
    @pytest.fixture
    def engine(self, postgres_db_url: str) -> Iterator[Engine]:
        engine = make_engine(postgres_db_url)
        yield engine
        engine.dispose()


def test_events_from_before_the_ledger_keep_their_chains_and_the_ledger_starts_after_them(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/store.sqlite")
    try:
        kernel_tables(engine)
        store = EventStore(engine, source="/guidance/intake", topic="intake.events", ledger_key=KEY)
        store.append("old", "Guidance", NEW_STREAM, issued(3))
        with engine.begin() as conn:  # as the migration leaves a store it upgrades
            conn.execute(update(events_table).values(ledger=None))
        store.append("new", "Guidance", NEW_STREAM, issued(2))
        report = store.verify()
        assert report.ok and report.ledger is not None
        assert (report.ledger.starts_after, report.ledger.keyed_events, report.ledger.head_position) == (3, 2, 5)
    finally:
        engine.dispose()


def test_without_a_key_the_store_is_chained_with_the_development_key_and_says_so(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/store.sqlite")
    try:
        kernel_tables(engine)
        store = EventStore(engine, source="/guidance/intake", topic="intake.events")
        store.append("a", "Guidance", NEW_STREAM, issued(1))
        report: Any = store.verify()
        assert report.ok and report.ledger.development_key is True
        keyed = EventStore(engine, source="/guidance/intake", topic="intake.events", ledger_key=KEY)
        assert [b.kind for b in keyed.verify().ledger.breaks] == ["link"]  # type: ignore[union-attr]
    finally:
        engine.dispose()
