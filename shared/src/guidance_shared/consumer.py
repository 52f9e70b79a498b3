"""The consumer runner: applies events to a projection exactly once in effect.

Each polled batch is applied in one projection transaction that also
records, per partition, the next offset to read and, per event, its id. So
after any crash the projection and its bookkeeping agree: on restart the
runner seeks to the stored offsets (the Kafka-committed ones are only a
courtesy for tooling) and skips event ids it has already applied, which
also absorbs the relay's occasional republished duplicates.

A poison event (it fails ``max_retries`` times) goes to the group's
dead-letter topic and its aggregate is *parked*: later events of that
aggregate are kept aside, in order, instead of being applied out of order.
Other aggregates keep flowing. ``redrive`` replays a parked aggregate once an
operator has fixed the cause.

Two paths apply a batch, with the same outcome. This module is the
*careful* path, which handles everything: a savepoint per event, retries,
dead-lettering, parking (``_handle``). Each batch is first tried on the
*plain* path (``guidance_shared.fast.consumer``): one transaction for the
common case, a batch of readable, known, valid events of unparked aggregates
that apply without error. The first record that is anything else aborts it,
its transaction rolls back, and the same records come here. The plain path
has no effect outside its transaction until it commits, so a poison event
costs one wasted plain pass and nothing else changes.

Both paths apply each event inside its flow (``guidance_shared.tracing.applying``): what a projection's
reaction stores carries the consumed event's correlation id, the event as its cause and a span in its
trace. A projection's ``apply_many`` is handed a run of events with no flow of its own, so it writes
tables and stores no events.
"""

from __future__ import annotations

import gc
import json
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict

import structlog
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from guidance_shared.db import is_contention, save_offsets
from guidance_shared.envelope import Envelope, MalformedEvent
from guidance_shared.events.registry import EventRegistry, InvalidEventData, UnknownEventType
from guidance_shared.fast.bulk import BulkStatement
from guidance_shared.fast.consumer import NotPlain, apply_plain, cyclic_gc_paused, read_plain
from guidance_shared.fast.wal import WalCheckpointer
from guidance_shared.metrics import KernelMetrics
from guidance_shared.projection import ConsumedEvent, Preparing, Projection
from guidance_shared.tracing import applying
from guidance_shared.transport.base import ConsumedRecord, Consumer, Producer, Record, TopicPartition

log = structlog.get_logger(__name__)

TRACKING = MetaData()
offsets_table = Table(
    "cr_offsets",
    TRACKING,
    Column("group_id", String(200), primary_key=True),
    Column("topic", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", Integer, nullable=False),
)
applied_table = Table(
    "cr_applied",
    TRACKING,
    Column("group_id", String(200), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    # SQLite: rows kept in the primary key's own tree, not in a rowid table beside an index on
    # the key (one tree to write per applied event, not two). An existing table keeps the form it has.
    sqlite_with_rowid=False,
)
parked_table = Table(
    "cr_parked",
    TRACKING,
    Column("group_id", String(200), primary_key=True),
    Column("aggregate_id", String(200), primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("parked_at", String(40), nullable=False),
)
parked_events_table = Table(
    "cr_parked_events",
    TRACKING,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", String(200), nullable=False, index=True),
    Column("aggregate_id", String(200), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", Integer, nullable=False),
    Column("key", LargeBinary, nullable=True),
    Column("value", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
)
#: Bumped when a rebuilt projection is swapped in (``guidance_shared.rebuild``): a runner that sees a
#: generation other than the one it started with rolls its batch back and reads again from the
#: offsets now stored, which are the rebuilt projection's.
generations_table = Table(
    "cr_generations",
    TRACKING,
    Column("group_id", String(200), primary_key=True),
    Column("generation", Integer, nullable=False),
)
#: An operator's decision (``redrive --skip-poison``) that an event is never to be applied. Unlike the
#: group's other records it survives ``reset`` and a rebuild's swap: a replay from zero seeds the applied
#: ids with these, so it passes the event as the live runner did instead of parking its aggregate again.
skip_decisions_table = Table(
    "cr_skip_decisions",
    TRACKING,
    Column("group_id", String(200), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("aggregate_id", String(200), nullable=False),
    Column("event_type", String(200), nullable=True),
    Column("decided_at", String(40), nullable=False),
)
skipped_table = Table(
    "cr_skipped",
    TRACKING,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", String(200), nullable=False),
    Column("event_id", String(64), nullable=True),
    Column("event_type", String(200), nullable=True),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", String(40), nullable=False),
)


class ParkedAggregate(TypedDict):
    """One row of ``cr_parked``: an aggregate kept aside behind the event that could not be applied."""

    group_id: str
    aggregate_id: str
    event_id: str
    reason: str
    parked_at: str


class _Rewound(Exception):
    """The projection was swapped under this runner: nothing of the batch is kept, read again."""


class ConsumerRunner:
    #: try each batch on the plain path first (see the module docstring); False = careful path only
    plain_path: bool = True

    def __init__(
        self,
        *,
        engine: Engine,
        consumer: Consumer,
        projection: Projection,
        registry: EventRegistry,
        group: str,
        topics: Sequence[str],
        dlq_producer: Producer,
        max_retries: int = 3,
        batch_size: int = 1000,
        metrics: KernelMetrics | None = None,
    ) -> None:
        self.engine = engine
        self.consumer = consumer
        self.projection = projection
        self.registry = registry
        self.group = group
        self.topics = list(topics)
        self.dlq_producer = dlq_producer
        self.dlq_topic = f"{group}.dlq"
        self.max_retries = max_retries
        self.batch_size = batch_size
        self.metrics = metrics
        self._subscribed = False
        self._generation = 0
        # Each export asks the broker for end offsets (a round trip) and counts parked aggregates: every
        # 5 s is fresher than a scrape interval needs, and an idle worker's largest cost after polling.
        self.lag_export_interval_s = 5.0
        #: How long ``drain`` waits without progress (no partitions, or records left that no poll returns) before
        #: it joins again: past the broker's session timeout (45 s by default), after which a previous member's
        #: partitions are given out anyway.
        self.rejoin_stalled_after_s = 60.0
        self._lag_exported_at = -1e9
        self._insert_applied = BulkStatement(insert(applied_table))  # built once: values are parameters
        self._checkpointer = WalCheckpointer(engine)  # SQLite: checkpoints off the batches' commits

    # -- setup -----------------------------------------------------------------
    def start(self) -> None:
        if not self._subscribed:
            with self.engine.begin() as conn:
                self._generation = ensure_generation(conn, self.group)
            self.consumer.subscribe(self.topics, self.stored_offset)
            self._checkpointer.start()
            self._subscribed = True

    def stored_offset(self, tp: TopicPartition) -> int:
        """The projection database is the authority: no stored offset means nothing applied, start at zero."""
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(offsets_table.c.next_offset).where(
                    offsets_table.c.group_id == self.group,
                    offsets_table.c.topic == tp.topic,
                    offsets_table.c.partition == tp.partition,
                )
            ).scalar()
        return int(stored) if stored is not None else 0

    # -- the loop --------------------------------------------------------------
    def run_once(self, timeout_s: float = 0.5) -> int:
        """Poll one batch and apply it atomically; return the number of records handled."""
        self.start()
        # The collector paused from the fetch on, not only for the plain path's apply: the client's
        # records and the decoded events all stay alive until the batch commits, and its scans of
        # them while fetching cost a replay ~5 % of its CPU (``fast.consumer.cyclic_gc_paused``).
        collector_on = gc.isenabled()
        with cyclic_gc_paused():
            return self._poll_and_apply(timeout_s, collector_on)

    def _poll_and_apply(self, timeout_s: float, collector_on: bool) -> int:
        records = self.consumer.poll(self.batch_size, timeout_s)
        if not records:
            self._export_lag()
            return 0
        next_offsets: dict[TopicPartition, int] = {}
        for record in records:
            next_offsets[record.tp] = record.offset + 1
        try:
            if not (self.plain_path and self._run_plain(records, next_offsets)):
                if collector_on:
                    gc.enable()  # the careful path runs as code runs elsewhere; the pause ends with it anyway
                with self.engine.begin() as conn:
                    self._check_generation(conn)
                    applied_ids = self._already_applied(conn, records)
                    parked = self._parked(conn)
                    for record in records:
                        self._handle(conn, record, applied_ids, parked)
                    self._store_offsets(conn, next_offsets)
        except _Rewound:
            self._rewind()
            return 0
        except Exception:
            # The batch did not commit: rewind so the same records are read again.
            for tp in {r.tp for r in records}:
                self.consumer.seek(tp, self.stored_offset(tp))
            raise
        self.consumer.commit(next_offsets)
        self._export_lag()
        return len(records)

    def run_forever(self, stop: threading.Event, *, poll_timeout_s: float = 1.0) -> None:
        """Apply batches until ``stop``. A poll returns as soon as records come (Kafka's long poll, the
        embedded log's doorbell), so its timeout costs no latency; it bounds how soon ``stop`` is seen
        and, on the embedded log, how late a record whose wake was lost is read."""
        backoff = 0.5
        while not stop.is_set():
            try:
                self.run_once(poll_timeout_s)
                backoff = 0.5
            except Exception:
                log.exception("consumer.batch_failed", group=self.group, retry_in_s=backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def drain(self, timeout_s: float = 30.0, idle_polls: int = 2) -> int:
        """Apply until caught up: partitions assigned, nothing left to read, ``idle_polls`` times in a row.

        Waiting for an assignment matters on Kafka: a group whose previous member
        died rejoins only after that member's session times out.
        """
        deadline = time.monotonic() + timeout_s
        total, idle = 0, 0
        stalled_since: float | None = None
        while idle < idle_polls:
            now = time.monotonic()
            if now >= deadline:
                raise TimeoutError(f"{self.group} not caught up within {timeout_s}s (applied {total})")
            handled = self.run_once(0.3)
            total += handled
            if handled:
                idle, stalled_since = 0, None
                continue
            lag = self.consumer.lag()
            caught_up = bool(lag) and sum(lag.values()) == 0
            idle = idle + 1 if caught_up else 0
            if caught_up:
                stalled_since = None
            elif stalled_since is None:
                stalled_since = now
            elif now - stalled_since >= self.rejoin_stalled_after_s:
                # No partitions, or records left and none coming, for longer than a dead member's session keeps
                # partitions away: the client's membership is stuck (``Consumer.rejoin``). A drain is its group's
                # only member, so joining again costs no one.
                log.warning("consumer.rejoining", group=self.group, stalled_s=round(now - stalled_since, 1))
                self.consumer.rejoin()
                stalled_since = now
        self._export_lag(force=True)  # a drained runner reports where it ended
        return total

    # -- the plain path ----------------------------------------------------------
    def _run_plain(self, records: Sequence[ConsumedRecord], next_offsets: dict[TopicPartition, int]) -> bool:
        """Apply and commit the batch on the plain path; False (nothing committed) if it needs care.

        The events are read and validated before the transaction begins: that is pure work, and on
        SQLite the transaction holds the database's write lock from its first statement, so the
        service's other writers (its API, a second worker) wait only for the projection's writes.
        Errors outside the events themselves (the database is away, storing offsets fails)
        propagate as they would from the careful path: the batch is read again.
        """
        with cyclic_gc_paused():
            try:
                events = read_plain(records, self.registry)
                self._prepare(events)
                with self.engine.begin() as conn:
                    self._check_generation(conn)
                    applied_ids = self._applied_among(conn, [event.envelope.id for event in events])
                    new_ids = apply_plain(conn, self.projection, events, applied_ids, self._parked(conn))
                    self._mark_all_applied(conn, new_ids)
                    self._store_offsets(conn, next_offsets)
            except NotPlain:
                return False
        if self.metrics:
            self.metrics.consumer_applied.labels(self.group).inc(len(new_ids))
            if duplicates := len(events) - len(new_ids):
                self.metrics.consumer_skipped.labels(self.group, "duplicate").inc(duplicates)
        return True

    def _prepare(self, events: Sequence[ConsumedEvent]) -> None:
        """The projection's work for the batch before its transaction (``Preparing``); a failure only loses
        the head start: each event's ``apply`` fetches what it needs itself, and fails there if it must."""
        if not isinstance(self.projection, Preparing):
            return
        try:
            self.projection.prepare(events)
        except Exception as exc:
            log.warning("consumer.prepare_failed", group=self.group, error=type(exc).__name__)

    # -- one record (the careful path) -----------------------------------------
    def _handle(self, conn: Connection, record: ConsumedRecord, applied_ids: set[str], parked: set[str]) -> None:
        try:
            envelope = Envelope.from_record(record)
        except MalformedEvent as exc:
            self._dead_letter(record, str(exc))
            self._skip(conn, record, None, None, f"malformed: {exc}")
            return
        with applying(envelope, record.topic, record.partition, record.offset):
            if envelope.id in applied_ids:
                self._count_skip("duplicate")
                return
            aggregate = envelope.subject
            if aggregate in parked:
                self._keep_parked(conn, aggregate, record)
                self._count_skip("parked")
                return
            try:
                event_type, data = self.registry.load_typed(envelope.type, envelope.data)
            except UnknownEventType:
                log.info("consumer.unknown_event_type", event_type=envelope.type)
                self._skip(conn, record, envelope.id, envelope.type, "unknown event type")
                self._mark_applied(conn, envelope.id, applied_ids)
                return
            except InvalidEventData as exc:
                messages = json.dumps(exc.messages, ensure_ascii=False, default=str)
                self._park(conn, aggregate, envelope, record, f"invalid data for {envelope.type}: {messages}")
                parked.add(aggregate)
                return
            event = ConsumedEvent(envelope, data, record.topic, record.partition, record.offset, event_type.ce_type)
            error = self._apply_with_retries(conn, event)
            if error is not None:
                self._park(conn, aggregate, envelope, record, error)
                parked.add(aggregate)
                return
            self._mark_applied(conn, envelope.id, applied_ids)

    def _apply_with_retries(self, conn: Connection, event: ConsumedEvent) -> str | None:
        error = ""
        for attempt in range(1, self.max_retries + 1):
            try:
                with conn.begin_nested():
                    self.projection.apply(conn, event)
                if self.metrics:
                    self.metrics.consumer_applied.labels(self.group).inc()
                return None
            except Exception as exc:
                if is_contention(exc):
                    # Another transaction's locks, not this event: retrying inside this transaction keeps the
                    # locks that caused it (two workers on PostgreSQL deadlocked on shared counters so, and
                    # parked good events). The whole batch is rolled back and read again instead.
                    raise
                error = "".join(traceback.format_exception_only(exc)).strip()
                log.warning("consumer.apply_failed", attempt=attempt, max_retries=self.max_retries, error=error)
        return error

    def _park(self, conn: Connection, aggregate: str, envelope: Envelope, record: ConsumedRecord, reason: str) -> None:
        log.error("consumer.parked", aggregate_id=aggregate, reason=reason)
        self._dead_letter(record, reason)
        conn.execute(
            insert(parked_table).values(
                group_id=self.group,
                aggregate_id=aggregate,
                event_id=envelope.id,
                reason=reason[:4000],
                parked_at=_now(),
            )
        )
        self._keep_parked(conn, aggregate, record)
        if self.metrics:
            self.metrics.consumer_dead_lettered.labels(self.group).inc()

    def _keep_parked(self, conn: Connection, aggregate: str, record: ConsumedRecord) -> None:
        conn.execute(
            insert(parked_events_table).values(
                group_id=self.group,
                aggregate_id=aggregate,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                value=record.value,
                headers=kept_headers(record.headers),
            )
        )

    def _dead_letter(self, record: ConsumedRecord, reason: str) -> None:
        headers = (
            *record.headers,
            ("dlq_group", self.group.encode()),
            ("dlq_reason", reason[:2000].encode("utf-8")),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
        )
        self.dlq_producer.publish([Record(self.dlq_topic, record.key, record.value, headers)])

    # -- bookkeeping -----------------------------------------------------------
    def _already_applied(self, conn: Connection, records: Sequence[ConsumedRecord]) -> set[str]:
        return self._applied_among(conn, [v.decode() for r in records for k, v in r.headers if k == "ce_id"])

    def _applied_among(self, conn: Connection, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            found.update(conn.execute(_APPLIED_AMONG, {"group_id": self.group, "event_ids": chunk}).scalars())
        return found

    def _check_generation(self, conn: Connection) -> None:
        """First statement of every batch transaction; on PostgreSQL it also holds the generation row
        shared until commit, so a swap waits for batches in flight and batches after it see it."""
        if current_generation(conn, self.group, hold=True) != self._generation:
            raise _Rewound

    def _rewind(self) -> None:
        with self.engine.connect() as conn:
            self._generation = current_generation(conn, self.group)
        for tp in self.consumer.lag():
            self.consumer.seek(tp, self.stored_offset(tp))
        log.info("consumer.rewound", group=self.group, generation=self._generation)

    def _parked(self, conn: Connection) -> set[str]:
        return set(conn.execute(_PARKED, {"group_id": self.group}).scalars())

    def _mark_applied(self, conn: Connection, event_id: str, applied_ids: set[str]) -> None:
        self._insert_applied.executemany(conn, [{"group_id": self.group, "event_id": event_id}])
        applied_ids.add(event_id)

    def _mark_all_applied(self, conn: Connection, event_ids: Sequence[str]) -> None:
        """One executemany for a batch's ids (a statement per id cost more than the projection)."""
        if event_ids:
            self._insert_applied.executemany(conn, [{"group_id": self.group, "event_id": i} for i in event_ids])

    def _skip(
        self, conn: Connection, record: ConsumedRecord, event_id: str | None, event_type: str | None, reason: str
    ) -> None:
        conn.execute(
            insert(skipped_table).values(
                group_id=self.group,
                event_id=event_id,
                event_type=event_type,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                reason=reason[:4000],
                at=_now(),
            )
        )
        self._count_skip("unknown_type" if event_id else "malformed")

    def _count_skip(self, reason: str) -> None:
        if self.metrics:
            self.metrics.consumer_skipped.labels(self.group, reason).inc()

    def _store_offsets(self, conn: Connection, next_offsets: dict[TopicPartition, int]) -> None:
        save_offsets(conn, offsets_table, self.group, next_offsets)

    def _export_lag(self, *, force: bool = False) -> None:
        """At most once per ``lag_export_interval_s``: asking the broker for end offsets costs a round trip."""
        if not self.metrics:
            return
        now = time.monotonic()
        if not force and now - self._lag_exported_at < self.lag_export_interval_s:
            return
        self._lag_exported_at = now
        for tp, lag in self.consumer.lag().items():
            self.metrics.consumer_lag.labels(self.group, tp.topic, str(tp.partition)).set(lag)
        with self.engine.connect() as conn:
            count = conn.execute(
                select(func.count()).select_from(parked_table).where(parked_table.c.group_id == self.group)
            ).scalar_one()
        self.metrics.parked_aggregates.labels(self.group).set(count)

    # -- operator actions --------------------------------------------------------
    def parked_aggregates(self) -> list[ParkedAggregate]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(parked_table).where(parked_table.c.group_id == self.group))
            return [
                {
                    "group_id": r.group_id,
                    "aggregate_id": r.aggregate_id,
                    "event_id": r.event_id,
                    "reason": r.reason,
                    "parked_at": r.parked_at,
                }
                for r in rows
            ]

    def redrive(self, aggregate_id: str, *, skip_poison: bool = False) -> int:
        """Unpark an aggregate and apply its kept events in order; re-parks if it fails again."""
        with self.engine.begin() as conn:
            rows = list(
                conn.execute(
                    select(parked_events_table)
                    .where(
                        parked_events_table.c.group_id == self.group, parked_events_table.c.aggregate_id == aggregate_id
                    )
                    .order_by(parked_events_table.c.id)
                )
            )
            conn.execute(
                delete(parked_table).where(
                    parked_table.c.group_id == self.group, parked_table.c.aggregate_id == aggregate_id
                )
            )
            conn.execute(
                delete(parked_events_table).where(
                    parked_events_table.c.group_id == self.group, parked_events_table.c.aggregate_id == aggregate_id
                )
            )
            records = [kept_record(r.topic, r.partition, r.offset, r.key, r.value, r.headers) for r in rows]
            if skip_poison and records:
                self._decide_to_skip(conn, aggregate_id, records[0])
                records = records[1:]
            applied_ids = self._already_applied(conn, records)
            parked: set[str] = set()
            for record in records:
                self._handle(conn, record, applied_ids, parked)
        return len(records)

    def _decide_to_skip(self, conn: Connection, aggregate_id: str, record: ConsumedRecord) -> None:
        """Record the operator's decision to drop ``record``, and treat it as applied from now on."""
        try:
            envelope = Envelope.from_record(record)
        except MalformedEvent:
            return  # unreadable: a replay dead-letters it again and goes on, nothing parks on it
        conn.execute(
            insert(skip_decisions_table).values(
                group_id=self.group,
                event_id=envelope.id,
                aggregate_id=aggregate_id,
                event_type=envelope.type,
                decided_at=datetime.now(UTC).isoformat(),
            )
        )
        self._mark_applied(conn, envelope.id, set())
        log.info("consumer.poison_skipped_by_operator", event_id=envelope.id, event_type=envelope.type)

    def reset(self) -> None:
        """Forget everything this group applied and empty the projection: the next run replays from zero,
        passing the events an operator decided to skip, as the live runner did."""
        with self.engine.begin() as conn:
            for table in (offsets_table, applied_table, parked_table, parked_events_table, skipped_table):
                conn.execute(delete(table).where(table.c.group_id == self.group))
            seed_skip_decisions(conn, self.group, skip_decisions(conn, self.group))
            self._generation = bump_generation(conn, self.group)  # other runners of the group start over too
        self.projection.metadata.drop_all(self.engine)
        self.projection.metadata.create_all(self.engine)
        # A consumer that already read keeps its place in memory; rewind what it holds, so this runner
        # replays too (a fresh one seeks to the stored offsets, which are now gone: zero).
        for tp in self.consumer.lag():
            self.consumer.seek(tp, 0)

    def close(self) -> None:
        self._checkpointer.stop()
        self.consumer.close()


def kept_headers(headers: Sequence[tuple[str, bytes]]) -> str:
    """A record's headers as a table keeps them (JSON text; CloudEvents headers are text), for ``kept_record``."""
    return json.dumps([[k, v.decode("utf-8", "replace")] for k, v in headers], ensure_ascii=False)


def kept_record(
    topic: str, partition: int, offset: int, key: bytes | None, value: bytes, headers: str
) -> ConsumedRecord:
    """A record kept in a table (a parked aggregate's, a projection's held one) as the consumer read it."""
    return ConsumedRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        key=key,
        value=value,
        headers=tuple((k, v.encode("utf-8")) for k, v in json.loads(headers)),
    )


def skip_decisions(conn: Connection, group: str) -> list[dict[str, Any]]:
    """The operator's skip decisions of ``group``, oldest first."""
    query = select(skip_decisions_table).where(skip_decisions_table.c.group_id == group)
    return [dict(row._mapping) for row in conn.execute(query.order_by(skip_decisions_table.c.decided_at))]


def seed_skip_decisions(conn: Connection, group: str, decisions: Sequence[Mapping[str, Any]]) -> None:
    """Make ``conn``'s database start a replay knowing the decisions: kept, and their events as applied."""
    known = {row["event_id"] for row in skip_decisions(conn, group)}
    fresh = [dict(row) for row in decisions if row["event_id"] not in known]
    if fresh:
        conn.execute(insert(skip_decisions_table), fresh)
    wanted = [row["event_id"] for row in decisions]
    if not wanted:
        return
    c = applied_table.c
    applied = set(conn.execute(select(c.event_id).where(c.group_id == group, c.event_id.in_(wanted))).scalars())
    ids = [{"group_id": group, "event_id": event_id} for event_id in wanted if event_id not in applied]
    if ids:
        conn.execute(insert(applied_table), ids)


def current_generation(conn: Connection, group: str, *, hold: bool = False) -> int:
    return int(conn.execute(_HELD_GENERATION if hold else _GENERATION, {"group_id": group}).scalar() or 0)


# What every batch of every consumer reads before it applies anything, built once: at a few events a batch,
# building these statements and their cache keys cost the runner more than the database's answers
# (docs/performance.md, "Propagation's tail, located").
_GENERATION = select(generations_table.c.generation).where(generations_table.c.group_id == bindparam("group_id"))
_HELD_GENERATION = _GENERATION.with_for_update(read=True)  # PostgreSQL: FOR SHARE; SQLite's BEGIN IMMEDIATE holds
_APPLIED_AMONG = select(applied_table.c.event_id).where(
    applied_table.c.group_id == bindparam("group_id"),
    applied_table.c.event_id.in_(bindparam("event_ids", expanding=True)),
)
_PARKED = select(parked_table.c.aggregate_id).where(parked_table.c.group_id == bindparam("group_id"))


def ensure_generation(conn: Connection, group: str) -> int:
    """The group's generation, its row created (at 0) if missing: a batch must always find a row to
    hold, or on PostgreSQL a group's first swap could slip in between a batch's check and its writes."""
    current = conn.execute(select(generations_table.c.generation).where(generations_table.c.group_id == group)).scalar()
    if current is not None:
        return int(current)
    try:
        with conn.begin_nested():
            conn.execute(insert(generations_table).values(group_id=group, generation=0))
    except IntegrityError:
        pass  # another runner of the group created it first
    return current_generation(conn, group)


def bump_generation(conn: Connection, group: str) -> int:
    """The group's next generation (call inside the transaction that changes what its runners rely on)."""
    generation = current_generation(conn, group) + 1
    if not conn.execute(
        update(generations_table).where(generations_table.c.group_id == group).values(generation=generation)
    ).rowcount:
        conn.execute(insert(generations_table).values(group_id=group, generation=generation))
    return generation


def _now() -> str:
    return datetime.now(UTC).isoformat()
