"""The outbox relay: append order, the cursor moves only after acknowledgement, waits out an absent log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text, update

from guidance_intake.bootstrap import SPEC as INTAKE
from guidance_shared.db import make_engine
from guidance_shared.envelope import Envelope
from guidance_shared.eventstore import NEW_STREAM, EventStore, NewEvent, outbox_table, relay_cursor_table
from guidance_shared.migrations import Migrations
from guidance_shared.relay import Fenced, Lease, OutboxRelay, lease_table, pending_count
from guidance_shared.transport.base import Producer, PublishError, Record
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.kernel.test_transport_contract import poll_until
from tests.support.events import ISSUED, RESPONDED, issued_data, responded_data
from tests.support.schema import kernel_tables, migrate


class SwitchableProducer(Producer):
    """A real producer behind a switch: while ``down``, every batch fails after half was sent."""

    def __init__(self, inner: Producer) -> None:
        self.inner = inner
        self.down = False

    def publish(self, records: Sequence[Record]) -> None:
        if self.down:
            self.inner.publish(records[: len(records) // 2])  # some records got through...
            raise PublishError("broker went away mid-batch")  # ...but the batch was not acknowledged
        self.inner.publish(records)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def setup(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/intake.sqlite")
    store = EventStore(engine, source="/guidance/intake", topic="intake.events")
    kernel_tables(engine)
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    transport.create_topics(["intake.events"], 3)
    producer = SwitchableProducer(transport.producer())
    yield store, transport, producer, OutboxRelay(engine, producer, batch_size=4)
    transport.close()
    engine.dispose()


def _issue(store: EventStore, n: int) -> list[str]:
    ids = [f"g-{i}" for i in range(n)]
    for g in ids:
        store.append(g, "Guidance", NEW_STREAM, [NewEvent(ISSUED, issued_data(g))])
        store.append(g, "Guidance", 1, [NewEvent(RESPONDED, responded_data(g))])
    return ids


def test_publishes_in_append_order_and_marks_after_acknowledgement(setup) -> None:
    store, transport, _producer, relay = setup
    _issue(store, 3)
    assert pending_count(store.engine) == 6
    assert relay.run_once() == 4 and pending_count(store.engine) == 2
    assert relay.drain() == 2 and pending_count(store.engine) == 0
    consumer = transport.consumer("check")
    consumer.subscribe(["intake.events"], lambda _tp: 0)
    records = poll_until(consumer, 6)
    for g in ("g-0", "g-1", "g-2"):
        mine = [Envelope.from_record(r) for r in records if r.key == g.encode()]
        assert [e.sequence for e in mine] == [1, 2]
        assert [e.type for e in mine] == [ISSUED, RESPONDED]


def test_an_unacknowledged_batch_stays_pending_and_is_sent_again(setup) -> None:
    store, transport, producer, relay = setup
    _issue(store, 2)
    producer.down = True
    with pytest.raises(PublishError):
        relay.run_once()
    assert pending_count(store.engine) == 4  # nothing marked: the broker never acknowledged the batch
    accepted = store.append("g-9", "Guidance", NEW_STREAM, [NewEvent(ISSUED, issued_data("g-9"))])
    assert accepted  # commands keep succeeding while the log is away
    producer.down = False
    assert relay.drain() == 5
    consumer = transport.consumer("check")
    consumer.subscribe(["intake.events"], lambda _tp: 0)
    records = poll_until(consumer, 7)
    ids = [Envelope.from_record(r).id for r in records]
    assert len(set(ids)) == 5  # every event arrived; the half-sent batch left duplicates for consumers to drop


def test_only_one_relay_holds_the_lease(setup) -> None:
    store, *_ = setup
    first, second = Lease(store.engine, "outbox-relay"), Lease(store.engine, "outbox-relay")
    assert first.acquire() and not second.acquire()
    assert first.acquire()  # renewing is fine
    first.release()
    assert second.acquire()


def _expire(engine, name: str = "outbox-relay") -> None:
    """As if the holder had been paused past its lease: the row's expiry is in the past."""
    with engine.begin() as conn:
        conn.execute(
            update(lease_table).where(lease_table.c.name == name).values(expires_at="2000-01-01T00:00:00+00:00")
        )


def _cursor(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(relay_cursor_table.c.last_position)).scalar_one())


def test_a_takeover_raises_the_epoch_and_fences_the_old_holder_before_it_reads(setup) -> None:
    store, _transport, producer, old = setup
    _issue(store, 3)
    assert old.lease.acquire() and old.lease.epoch == 1
    assert old.run_once() == 4 and _cursor(store.engine) == 4
    # Given the holder lost its lease while paused, and another relay took it over
    _expire(store.engine)
    new = OutboxRelay(store.engine, producer, batch_size=4)
    assert new.lease.acquire() and new.lease.epoch == 2
    # When the old one resumes, it publishes nothing and moves nothing
    with pytest.raises(Fenced):
        old.run_once()
    assert _cursor(store.engine) == 4 and pending_count(store.engine) == 2
    assert not old.lease.acquire()  # and it cannot take the lease back while the new holder lives
    assert new.run_once() == 2 and _cursor(store.engine) == 6
    old.lease.release()  # the old holder's release does not free the new holder's lease
    assert not Lease(store.engine, "outbox-relay").acquire()


def test_a_holder_fenced_while_its_batch_was_in_flight_does_not_move_the_cursor(setup) -> None:
    store, transport, producer, _relay = setup
    _issue(store, 3)
    new = OutboxRelay(store.engine, producer, batch_size=4)

    class TakenOverMidBatch(Producer):
        """The real producer; while the batch is on its way, the lease lapses and another relay takes it."""

        def publish(self, records: Sequence[Record]) -> None:
            producer.publish(records)
            _expire(store.engine)
            assert new.lease.acquire()

        def close(self) -> None:
            pass

    old = OutboxRelay(store.engine, TakenOverMidBatch(), batch_size=4)
    assert old.lease.acquire()
    with pytest.raises(Fenced):
        old.run_once()  # its batch reached the log, but the cursor is the new holder's now
    assert _cursor(store.engine) == 0
    assert new.drain() == 6 and _cursor(store.engine) == 6
    consumer = transport.consumer("check")
    consumer.subscribe(["intake.events"], lambda _tp: 0)
    ids = [Envelope.from_record(r).id for r in poll_until(consumer, 10)]
    assert len(ids) == 10 and len(set(ids)) == 6  # the fenced batch arrived twice; consumers drop it by id


def test_a_holder_that_cannot_know_its_lease_still_stands_does_not_send(setup) -> None:
    store, _transport, producer, _relay = setup
    _issue(store, 1)
    relay = OutboxRelay(store.engine, producer, batch_size=4, lease_ttl=timedelta(0))
    assert relay.lease.acquire()  # a zero lease is stale at once: as if paused past it right after renewing
    with pytest.raises(Fenced, match="may have expired"):
        relay.run_once()
    assert pending_count(store.engine) == 2


def test_of_two_relays_finding_the_lease_expired_one_takes_it_over(setup) -> None:
    store, *_ = setup
    holder = Lease(store.engine, "outbox-relay")
    assert holder.acquire()
    _expire(store.engine)
    contenders = [Lease(store.engine, "outbox-relay") for _ in range(4)]
    assert [c.acquire() for c in contenders] == [True, False, False, False]
    assert contenders[0].epoch == 2


def test_the_cursor_says_what_was_published_and_only_moves_forward(setup) -> None:
    store, _transport, _producer, relay = setup
    _issue(store, 3)
    relay.run_once()
    with store.engine.connect() as conn:
        assert conn.execute(select(relay_cursor_table.c.last_position)).scalar_one() == 4
        # the rows stay: they are the record of what was sent
        assert len(conn.execute(select(outbox_table.c.position)).all()) == 6
    with store.engine.begin() as conn:  # a late relay finishing an older batch must not move it back
        conn.execute(update(relay_cursor_table).values(last_position=5))
    relay.run_once()
    assert pending_count(store.engine) == 0
    with store.engine.connect() as conn:
        assert conn.execute(select(relay_cursor_table.c.last_position)).scalar_one() == 6


INDEXES = "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"


def test_a_store_marked_by_an_older_relay_starts_its_cursor_after_the_marked_rows(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/legacy.sqlite")
    migrate(INTAKE, engine)
    store = EventStore(engine, source="/guidance/intake", topic="intake.events")
    _issue(store, 3)

    scratch = make_engine(f"sqlite:///{tmp_path}/baseline.sqlite")
    Migrations("intake", INTAKE.migrations).upgrade(scratch, "0001")  # what the first revision makes
    with scratch.connect() as conn:
        baseline = set(inspect(conn).get_table_names())
        baseline_columns = {t: {c["name"] for c in inspect(conn).get_columns(t)} for t in baseline}
        baseline_indexes = set(conn.execute(text(INDEXES)).scalars())
    scratch.dispose()

    def from_before_the_cursor(marked: int) -> None:
        """What a pre-cursor relay left, in a database from before the migration histories."""
        with engine.begin() as conn:
            conn.execute(
                update(outbox_table).where(outbox_table.c.position <= marked).values(published_at="2026-01-01")
            )
            conn.execute(relay_cursor_table.delete())
            conn.execute(text("DROP TABLE alembic_version"))
            # every table and index a revision after the baseline added: not in such a database
            for name in sorted(set(inspect(conn).get_table_names()) - baseline):
                conn.execute(text(f"DROP TABLE {name}"))
            for name in sorted(set(conn.execute(text(INDEXES)).scalars()) - baseline_indexes):
                conn.execute(text(f"DROP INDEX {name}"))
            # and every column a revision added to a baseline table
            for table in sorted(set(inspect(conn).get_table_names()) & baseline):
                columns = baseline_columns[table]
                for column in sorted({c["name"] for c in inspect(conn).get_columns(table)} - columns):
                    conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))

    from_before_the_cursor(4)
    assert migrate(INTAKE, engine)["adopted"]  # the baseline creates the cursor after the marked rows
    assert pending_count(engine) == 2
    from_before_the_cursor(6)
    migrate(INTAKE, engine)
    assert pending_count(engine) == 0
    engine.dispose()
