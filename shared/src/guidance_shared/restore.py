"""After a database restore: find and recover the events a service published that its store has lost.

A service's database restored from a dump taken at time T is consistent in itself: its event store,
outbox, relay cursor, read models, serials and consumer offsets are all as of T. What it may lack is
what it *published* after T: its own topic keeps every record forever, so the topic can hold events
the restored store has never seen. Left so, the service would hand out the same stream versions and
document numbers again (intake's 文号), and a projection re-reading its inputs would record, under
new event ids, reactions it had already published (disclosure opening an item): two different
events at one version of one stream, on a topic nobody can rewrite.

``check`` reads the service's own topic from the beginning and compares it with the store, by event
id and by stream version. ``recover`` appends what is missing, each event exactly as it was
published (its id, type, data, time and version), linked into its stream's hash chain after the
restored head, in one transaction (a hash covers nothing the topic does not carry, so each event gets
back the hash it had); it gives the service a chance to continue what those events
used up (``ServiceSpec.recovered``: intake's serials), then refolds the service's own read models.
The recovered events get no outbox rows: they are on the topic already, and the relay sends only
outbox rows, so nothing is published twice by the recovery. An event whose version the store
already holds under another id is a *conflict* (commands were accepted on the restored database
before the recovery): nothing is appended and the operator is told which streams; so is a document
number the restored service issued again before the recovery (intake's step finds those).

On PostgreSQL the recovery cannot be forgotten: the database notes which database it is (its OID,
``es_database_identity``), and a restored dump lands in a new database with another OID. ``web``
and ``worker`` refuse to start while the noted identity is not the database's own
(``start_refusal``); ``recover`` notes it once the store lacks nothing. The check needs no broker,
so web still starts while Kafka is away. SQLite has no such identity: there the runbook's block is
the only gate.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict

import structlog
from sqlalchemy import (
    Connection,
    Engine,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from guidance_shared.envelope import Envelope, MalformedEvent, dump_json
from guidance_shared.eventstore import EventStore, counter_table, event_hash, events_table, identity_table
from guidance_shared.messages import StoredEvent
from guidance_shared.rebuild import rebuild_read_models
from guidance_shared.repository import Repository
from guidance_shared.runtime import Runtime
from guidance_shared.transport.base import TopicPartition

log = structlog.get_logger(__name__)


class RestoreCheckReport(TypedDict):
    """What ``restore-check`` prints."""

    ok: bool
    topic: str
    topic_events: int
    store_events: int
    missing: int  # on the topic, not in the store
    streams_behind: list[str]  # streams the missing events belong to (at most 50 listed)
    conflicts: list[str]  # stream versions held in the store under another event id


class RecoverReport(RestoreCheckReport):
    """What ``recover-from-topic`` prints: the comparison as it was before, and what the recovery did."""

    recovered: int
    service: Mapping[str, Any]  # what the service's own step did (intake: the serials it moved)
    read_models: dict[str, int]


class RestoreConflict(RuntimeError):
    """The store and the topic disagree (another event at one stream version, a document number issued twice):
    commands were accepted on the restored database before the recovery; replaying cannot reconcile that."""


@dataclass
class _Comparison:
    topic: str
    topic_events: int
    store_events: int
    missing: list[Envelope] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def report(self) -> RestoreCheckReport:
        streams = sorted({e.subject for e in self.missing})
        return {
            "ok": not self.missing and not self.conflicts,
            "topic": self.topic,
            "topic_events": self.topic_events,
            "store_events": self.store_events,
            "missing": len(self.missing),
            "streams_behind": streams[:50],
            "conflicts": self.conflicts[:50],
        }


def check(runtime: Runtime[Any], *, timeout_s: float = 300.0) -> RestoreCheckReport:
    """Compare the service's event store with its own topic; ``ok`` when the store lacks nothing."""
    return _compare(runtime, read_topic(runtime, timeout_s=timeout_s)).report()


def recover(runtime: Runtime[Any], *, timeout_s: float = 300.0) -> RecoverReport:
    """Append what the topic has and the store lacks, continue serials, refold the read models.

    Idempotent: run again, it finds nothing missing and only refolds. Raises ``RestoreConflict``
    (and changes nothing) when the store holds another event at a version the topic has, or when
    the service's own step finds a problem (intake: a document number issued twice).
    """
    if runtime.store is None:
        raise ValueError(f"{runtime.spec.name} keeps no event store")
    comparison = _compare(runtime, read_topic(runtime, timeout_s=timeout_s))
    before = comparison.report()
    if comparison.conflicts:
        raise RestoreConflict(
            f"{len(comparison.conflicts)} stream version(s) differ between the store and {comparison.topic}: "
            + ", ".join(comparison.conflicts[:10])
        )
    stream_types = _stream_types(runtime)
    recovered: list[StoredEvent] = []
    service: Mapping[str, Any] = {}
    with runtime.engine.begin() as conn:
        for envelope in _in_stream_order(comparison.missing):
            recovered.append(_append_as_published(conn, runtime.store, envelope, stream_types))
        if recovered and runtime.spec.recovered is not None:
            service = runtime.spec.recovered(runtime, conn, recovered)
            if problems := service.get("problems"):
                raise RestoreConflict("; ".join(str(p) for p in problems))  # rolls back: nothing is kept
    folded = rebuild_read_models(runtime)["tables"] if runtime.spec.read_models else {}
    note_identity(runtime.engine)  # the store lacks nothing now: web and worker may start
    log.info("restore.recovered", service=runtime.spec.name, events=len(recovered))
    # The counts are the comparison's before the recovery; ``ok``: the store lacks nothing now.
    return {**before, "ok": True, "recovered": len(recovered), "service": service, "read_models": folded}


def read_topic(runtime: Runtime[Any], *, timeout_s: float = 300.0) -> list[Envelope]:
    """Every event on the service's own topic, from offset zero to the end as it was when reading began.

    A consumer group of its own (``<service>.restore-<token>``), so the service's group is untouched."""
    topic = runtime.spec.publishes
    if topic is None:
        raise ValueError(f"{runtime.spec.name} publishes nothing")
    ends = {TopicPartition(topic, p): end for p, end in runtime.transport.end_offsets(topic).items()}
    wanted = {tp: end for tp, end in ends.items() if end > 0}
    consumer = runtime.transport.consumer(f"{runtime.spec.name}.restore-{uuid.uuid4().hex[:12]}")
    events: list[Envelope] = []
    read_to: dict[TopicPartition, int] = {}
    deadline = time.monotonic() + timeout_s
    try:
        consumer.subscribe([topic], lambda _tp: 0)
        while any(read_to.get(tp, 0) < end for tp, end in wanted.items()):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{topic} not read to its end within {timeout_s}s")
            records = consumer.poll(1000, 0.5)
            if not records and _at_end(consumer.lag(), wanted):
                break  # nothing more to read even if an offset was never a record (a gap in the log)
            for record in records:
                if record.offset >= ends.get(record.tp, 0):
                    continue  # published after the reading began: a running relay, not a lost event
                read_to[record.tp] = record.offset + 1
                try:
                    events.append(Envelope.from_record(record))
                except MalformedEvent:
                    log.warning("restore.malformed_record", topic=record.topic, partition=record.partition)
    finally:
        consumer.close()
    return events


def _at_end(lag: Mapping[TopicPartition, int], wanted: Mapping[TopicPartition, int]) -> bool:
    return bool(lag) and all(tp in lag and lag[tp] == 0 for tp in wanted)


def _compare(runtime: Runtime[Any], published: list[Envelope]) -> _Comparison:
    assert runtime.store is not None and runtime.spec.publishes is not None
    with runtime.engine.connect() as conn:
        held = {
            row.event_id: (row.stream_id, row.version)
            for row in conn.execute(select(events_table.c.event_id, events_table.c.stream_id, events_table.c.version))
        }
    at_version = {place: event_id for event_id, place in held.items()}
    comparison = _Comparison(runtime.spec.publishes, len({e.id for e in published}), len(held))
    seen: set[str] = set()
    for envelope in published:
        if envelope.id in held or envelope.id in seen:
            continue  # the relay may publish a row twice; the store keeps it once
        seen.add(envelope.id)
        place = (envelope.subject, envelope.sequence or 0)
        if place in at_version:
            comparison.conflicts.append(f"{place[0]}@{place[1]}")
        else:
            comparison.missing.append(envelope)
    return comparison


def _in_stream_order(missing: list[Envelope]) -> list[Envelope]:
    """Per stream by version; streams by the time of their first missing event (the topic's partitions
    keep no order between them, and no reader relies on one between streams)."""
    by_stream: dict[str, list[Envelope]] = defaultdict(list)
    for envelope in missing:
        by_stream[envelope.subject].append(envelope)
    streams = [sorted(events, key=lambda e: e.sequence or 0) for events in by_stream.values()]
    streams.sort(key=lambda events: events[0].time)
    return [e for events in streams for e in events]


def _append_as_published(
    conn: Connection, store: EventStore, envelope: Envelope, stream_types: dict[str, str]
) -> StoredEvent:
    """One published event back into the store, linked after its stream's head (which must be its predecessor)
    and after the ledger's last link (a recovered event takes the next position, as any append)."""
    head = conn.execute(
        select(events_table.c.version, events_table.c.hash, events_table.c.stream_type)
        .where(events_table.c.stream_id == envelope.subject)
        .order_by(events_table.c.version.desc())
        .limit(1)
    ).first()
    version, prev_hash, stream_type = (head[0], head[1], head[2]) if head else (0, "0" * 64, None)
    if envelope.sequence != version + 1:
        raise RestoreConflict(
            f"{envelope.subject}: the topic's event {envelope.id} is version {envelope.sequence}, "
            f"but the store's stream ends at version {version} (an event is missing from the topic)"
        )
    version += 1
    stream_type = stream_type or stream_types.get(envelope.type)
    if stream_type is None:
        raise RestoreConflict(f"{envelope.subject}: no aggregate of this service records {envelope.type}")
    position = conn.execute(
        update(counter_table)
        .where(counter_table.c.id == 1)
        .values(last_position=counter_table.c.last_position + 1)
        .returning(counter_table.c.last_position)
    ).scalar_one()
    occurred = envelope.time.astimezone(UTC)
    data_json = dump_json(envelope.data)
    digest = event_hash(
        prev_hash, envelope.subject, version, envelope.id, envelope.type, data_json, occurred.isoformat()
    )
    meta: dict[str, str] = {
        key: value
        for key, value in (
            ("correlation_id", envelope.correlationid),
            ("causation_id", envelope.causationid),
            ("traceparent", envelope.traceparent),
        )
        if value
    }
    meta_json = dump_json(meta)
    conn.execute(
        insert(events_table).values(
            position=position,
            event_id=envelope.id,
            stream_id=envelope.subject,
            stream_type=stream_type,
            version=version,
            event_type=envelope.type,
            data=data_json,
            meta=meta_json,
            occurred_at=occurred.isoformat(),
            prev_hash=prev_hash,
            hash=digest,
            ledger=store.linker.link(store.link_at(conn, position - 1), position, digest, stream_type, meta_json),
        )
    )
    return StoredEvent(
        position,
        envelope.id,
        envelope.subject,
        stream_type,
        version,
        envelope.type,
        envelope.data,
        meta,
        occurred,
        prev_hash,
        digest,
    )


def _stream_types(runtime: Runtime[Any]) -> dict[str, str]:
    """Event type → stream type, from the repositories among the service's dependencies (a stream's
    type is not on the wire; its first event's type says which aggregate it is)."""
    out: dict[str, str] = {}
    for repository in _repositories(runtime.deps):
        for event_type in repository.aggregate.appliers.handled:
            out.setdefault(event_type, repository.stream_type)
    return out


def _repositories(value: Any, depth: int = 2) -> list[Repository[Any]]:
    if isinstance(value, Repository):
        return [value]
    if depth == 0 or not is_dataclass(value) or isinstance(value, type):
        return []
    return [r for f in fields(value) for r in _repositories(getattr(value, f.name), depth - 1)]


# -- the start fence (PostgreSQL) --------------------------------------------------------------------------
def start_refusal(engine: Engine, service: str) -> str | None:
    """Why ``web`` or ``worker`` must not start on this database, or None. A database without a noted
    identity (a new one, or one from before this check) has it noted now: it was not restored here."""
    current = _database_id(engine)
    if current is None:
        return None
    with engine.begin() as conn:
        noted = conn.execute(select(identity_table.c.database_id).where(identity_table.c.id == 1)).scalar()
        if noted is None:
            _insert_identity(conn, current)
            return None
    if noted == current:
        return None
    return (
        f"this database was restored or copied (it is database {current}, its data was written in database {noted}): "
        f"run `guidance-{service} recover-from-topic` before starting web or worker "
        "(docs/operations.md, Backup and restore)"
    )


def note_identity(engine: Engine) -> None:
    """Note the database's identity: what it holds is recovered, web and worker may start on it."""
    current = _database_id(engine)
    if current is None:
        return
    with engine.begin() as conn:
        conn.execute(delete(identity_table))
        _insert_identity(conn, current)


def _database_id(engine: Engine) -> str | None:
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT oid FROM pg_database WHERE datname = current_database()")).scalar_one())


def _insert_identity(conn: Connection, database_id: str) -> None:
    try:
        with conn.begin_nested():
            conn.execute(insert(identity_table).values(id=1, database_id=database_id, noted_at=_now()))
    except IntegrityError:
        pass  # another process of the service noted it first: the same database, the same identity


def _now() -> str:
    return datetime.now(UTC).isoformat()
