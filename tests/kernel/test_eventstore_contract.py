"""One contract for the event store, run against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC

import pytest
from sqlalchemy import Engine, select, text, update

from guidance_shared.db import make_engine
from guidance_shared.envelope import Envelope
from guidance_shared.errors import ConcurrencyError
from guidance_shared.eventstore import NEW_STREAM, EventStore, Metadata, NewEvent, events_table, outbox_table
from tests.support.schema import kernel_tables

ISSUED = "guidance.GuidanceIssued.v1"
RESPONDED = "guidance.GuidanceResponded.v1"


def issued(n: int = 1) -> list[NewEvent]:
    return [NewEvent(ISSUED, {"matter": f"食品经营许可 {i}", "n": i}) for i in range(n)]


class EventStoreContract:
    """Subclasses provide ``engine``; every test here must hold for every backend."""

    @pytest.fixture
    def store(self, engine: Engine) -> EventStore:
        store = EventStore(
            engine, source="/guidance/intake", topic="intake.events", dataschema=lambda t: f"urn:guidance:schema:{t}"
        )
        kernel_tables(engine)
        return store

    def test_append_then_load_returns_the_stream_in_order(self, store: EventStore) -> None:
        store.append("g-1", "Guidance", NEW_STREAM, issued(1))
        store.append("g-1", "Guidance", 1, [NewEvent(RESPONDED, {"response": "accepted"})])
        stream = store.load("g-1")
        assert [e.version for e in stream] == [1, 2]
        assert [e.type for e in stream] == [ISSUED, RESPONDED]
        assert stream[0].data == {"matter": "食品经营许可 0", "n": 0}
        assert store.version("g-1") == 2

    def test_stale_expected_version_raises_conflict_with_current_version(self, store: EventStore) -> None:
        store.append("g-1", "Guidance", NEW_STREAM, issued(2))
        with pytest.raises(ConcurrencyError) as caught:
            store.append("g-1", "Guidance", 1, issued(1))
        assert (caught.value.expected, caught.value.actual) == (1, 2)
        assert caught.value.status == 409
        assert store.version("g-1") == 2

    def test_new_stream_must_not_exist(self, store: EventStore) -> None:
        store.append("g-1", "Guidance", NEW_STREAM, issued(1))
        with pytest.raises(ConcurrencyError):
            store.append("g-1", "Guidance", NEW_STREAM, issued(1))

    def test_outbox_row_per_event_in_the_same_transaction(self, store: EventStore, engine: Engine) -> None:
        with pytest.raises(RuntimeError), store.transaction() as conn:
            store.append("g-1", "Guidance", NEW_STREAM, issued(1), conn=conn)
            raise RuntimeError("command failed after appending")
        with engine.connect() as conn:
            assert conn.execute(select(events_table)).first() is None
            assert conn.execute(select(outbox_table)).first() is None
        events = store.append("g-2", "Guidance", NEW_STREAM, issued(3), metadata=Metadata(correlation_id="corr-1"))
        with engine.connect() as conn:
            rows = list(conn.execute(select(outbox_table).order_by(outbox_table.c.position)))
        assert [r.position for r in rows] == [e.position for e in events]
        assert all(r.published_at is None and r.topic == "intake.events" and r.key == "g-2" for r in rows)

    def test_outbox_holds_a_cloudevent_with_the_architecture_attributes(
        self, store: EventStore, engine: Engine
    ) -> None:
        import json

        from guidance_shared.transport.base import Record

        [event] = store.append(
            "g-1", "Guidance", NEW_STREAM, issued(1), metadata=Metadata(correlation_id="corr-1", causation_id="cmd-1")
        )
        with engine.connect() as conn:
            row = conn.execute(select(outbox_table)).one()
        headers = tuple((k, v.encode()) for k, v in json.loads(row.headers).items())
        envelope = Envelope.from_record(Record("intake.events", b"g-1", row.value.encode(), headers))
        assert envelope.id == event.event_id
        assert envelope.type == ISSUED and envelope.source == "/guidance/intake"
        assert envelope.subject == "g-1" and envelope.sequence == 1
        assert envelope.correlationid == "corr-1" and envelope.causationid == "cmd-1"
        assert envelope.dataschema == f"urn:guidance:schema:{ISSUED}"
        assert envelope.data == {"matter": "食品经营许可 0", "n": 0}
        assert "食品" in row.value  # Chinese travels unescaped

    @pytest.mark.parametrize(
        "metadata",
        [
            None,
            Metadata(correlation_id="corr-1"),
            Metadata(correlation_id='c"引号', causation_id="cmd-1", traceparent="00-ab-cd-01", extra={"x": "y"}),
        ],
    )
    def test_outbox_rows_are_what_the_cloudevents_sdk_writes(
        self, store: EventStore, engine: Engine, metadata: Metadata | None
    ) -> None:
        """``append`` builds the record's headers and value itself; they are the SDK binding's, byte for byte."""
        import json
        from datetime import datetime, timedelta, timezone

        events = [
            NewEvent(ISSUED, {"matter": "食品", "b": [1, 2.5, None], "a": {"z": True}}),
            NewEvent(RESPONDED, {"response": "accepted"}, occurred_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
            NewEvent(
                RESPONDED,
                {"response": "x"},
                occurred_at=datetime(2026, 3, 1, 8, 0, 1, 5, tzinfo=timezone(timedelta(hours=8))),
            ),
        ]
        stored = store.append("g-1", "Guidance", NEW_STREAM, events, metadata=metadata)
        with engine.connect() as conn:
            rows = list(conn.execute(select(outbox_table).order_by(outbox_table.c.position)))
        for event, row in zip(stored, rows, strict=True):
            record = store.envelope(event).to_record("intake.events")
            assert list(json.loads(row.headers).items()) == [(k, v.decode()) for k, v in record.headers]
            assert row.value.encode() == record.value and row.key.encode() == record.key

    def test_a_driver_error_is_sqlalchemys_and_leaves_nothing(self, store: EventStore) -> None:
        """The append runs its SQL on the driver's cursor; a constraint it breaks is still SQLAlchemy's error."""
        from sqlalchemy.exc import IntegrityError

        [first] = store.append("g-1", "Guidance", NEW_STREAM, issued(1))
        with pytest.raises(IntegrityError):
            store.append("g-2", "Guidance", NEW_STREAM, [NewEvent(ISSUED, {"n": 2}, id=first.event_id)])
        assert store.version("g-2") == 0
        assert [e.position for e in store.append("g-3", "Guidance", NEW_STREAM, issued(1))] == [2]

    def test_a_check_refuses_an_event_before_anything_is_stored(self, engine: Engine) -> None:
        kernel_tables(engine)
        checked: list[tuple[str, str, object]] = []

        def check(ce_type: str, data_json: str, data: object) -> None:
            checked.append((ce_type, data_json, data))
            if "bad" in data_json:
                raise ValueError("breaks its contract")

        store = EventStore(engine, source="/guidance/intake", topic="intake.events", check=check)
        store.append("g-1", "Guidance", NEW_STREAM, issued(1))
        assert checked == [(ISSUED, '{"matter":"食品经营许可 0","n":0}', {"matter": "食品经营许可 0", "n": 0})]
        with pytest.raises(ValueError, match="contract"):
            store.append("g-2", "Guidance", NEW_STREAM, [NewEvent(ISSUED, {"matter": "bad"})])
        assert store.version("g-2") == 0 and len(store.read_all()) == 1

    def test_global_positions_are_dense_and_in_append_order(self, store: EventStore) -> None:
        store.append("a", "Guidance", NEW_STREAM, issued(2))
        store.append("b", "Guidance", NEW_STREAM, issued(1))
        store.append("a", "Guidance", 2, issued(1))
        everything = store.read_all()
        assert [e.position for e in everything] == [1, 2, 3, 4]
        assert [(e.stream_id, e.version) for e in everything] == [("a", 1), ("a", 2), ("b", 1), ("a", 3)]
        assert [e.position for e in store.read_all(after_position=2, limit=1)] == [3]

    def test_concurrent_appends_with_the_same_expected_version_exactly_one_wins(self, store: EventStore) -> None:
        store.append("g-1", "Guidance", NEW_STREAM, issued(1))
        barrier = threading.Barrier(8)
        outcomes: list[str] = []
        lock = threading.Lock()

        def attempt(i: int) -> None:
            barrier.wait()
            try:
                store.append("g-1", "Guidance", 1, [NewEvent(RESPONDED, {"by": i})])
                result = "won"
            except ConcurrencyError:
                result = "conflict"
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
        assert store.version("g-1") == 2

    def test_readers_never_see_positions_out_of_commit_order(self, store: EventStore) -> None:
        stop = threading.Event()
        errors: list[BaseException] = []

        def writer(prefix: str) -> None:
            try:
                for i in range(40):
                    store.append(f"{prefix}-{i}", "Guidance", NEW_STREAM, issued(2))
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        seen: list[int] = []

        def reader() -> None:
            last = 0
            while True:
                writers_done = stop.is_set()  # read the flag first: a later empty batch is then final
                batch = store.read_all(after_position=last, limit=50)
                for e in batch:
                    seen.append(e.position)
                    last = e.position
                if writers_done and not batch:
                    break

        writers = [threading.Thread(target=writer, args=(p,)) for p in ("x", "y", "z")]
        reading = threading.Thread(target=reader)
        reading.start()
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        stop.set()
        reading.join(timeout=60)
        assert not errors
        # A reader that only ever moves forward saw every position exactly once: none appeared behind it.
        assert seen == list(range(1, 241))

    def test_verify_accepts_an_untouched_store(self, store: EventStore) -> None:
        store.append("a", "Guidance", NEW_STREAM, issued(3))
        store.append("b", "Guidance", NEW_STREAM, issued(2))
        report = store.verify()
        assert report.ok and report.streams == 2 and report.events == 5

    def test_verify_detects_an_altered_event(self, store: EventStore, engine: Engine) -> None:
        store.append("a", "Guidance", NEW_STREAM, issued(3))
        with engine.begin() as conn:
            conn.execute(
                update(events_table)
                .where(events_table.c.stream_id == "a", events_table.c.version == 2)
                .values(data='{"matter":"篡改","n":1}')
            )
        report = store.verify("a")
        assert not report.ok
        assert [(b.stream_id, b.version) for b in report.breaks] == [("a", 2)]
        assert "altered" in report.breaks[0].reason

    def test_verify_detects_a_deleted_event(self, store: EventStore, engine: Engine) -> None:
        store.append("a", "Guidance", NEW_STREAM, issued(3))
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM es_events WHERE stream_id = 'a' AND version = 2"))
        report = store.verify()
        assert not report.ok and report.breaks[0].version == 3


class TestSQLiteEventStore(EventStoreContract):
    @pytest.fixture
    def engine(self, tmp_path) -> Iterator[Engine]:
        engine = make_engine(f"sqlite:///{tmp_path}/store.sqlite")
        yield engine
        engine.dispose()


@pytest.mark.postgres
class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    def engine(self, postgres_db_url: str) -> Iterator[Engine]:
        engine = make_engine(postgres_db_url, pool_size=10)
        yield engine
        engine.dispose()
