"""The event store: streams of events per aggregate, a global order, and the outbox.

One ``append`` writes the events, their outbox rows and the position counter
in a single transaction, so an accepted command can never lose its events
and an event can never be published without having been stored.

Global positions come from a one-row counter that the appending transaction
updates first. The row lock is held until commit, so positions are handed out
in commit order: a reader that has seen position N will never later find a
new event below N (the outbox relay relies on this).

The outbox relay remembers how far it has published in a one-row cursor
(``es_relay_cursor``): an outbox row is published exactly when its position is
at most the cursor. One number, because marking each row published would
rewrite the row and its index entry, which keeps a relay slower than the
broker. Outbox rows are kept after publishing, as the record of exactly what
was sent (key, headers and bytes), until the worker's housekeeping deletes
those older than ``GUIDANCE_OUTBOX_RETENTION_DAYS`` (``housekeeping``): only
rows at or below the cursor, so never one still to be sent.

The outbox's ``published_at`` column is always NULL for rows this store
writes; a database whose rows carry timestamps there has its cursor created
(by the migration histories' baseline, ``guidance_shared.migrations``) just
after the last row so marked, so those rows are not published again.

Besides each stream's plain SHA-256 chain (``prev_hash``/``hash``), every event carries its link of the keyed
ledger (``ledger``): one HMAC chain over the whole store in position order, keyed outside the database
(``guidance_shared.ledger``). The append computes it under the counter's row lock it already holds.
``verify`` checks both chains, that positions run without a gap from 1 to the counter, and, with
checkpoints, that the store still extends what was signed (``guidance_shared.checkpoints``). Events stored
before the ledger existed carry none (NULL): the ledger starts after them, and their own chains still hold.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    select,
    update,
)

from guidance_shared.db import DriverStatement, reading
from guidance_shared.envelope import Envelope
from guidance_shared.errors import ConcurrencyError
from guidance_shared.ledger import LEDGER_GENESIS, LedgerKey, Linker, same
from guidance_shared.messages import NewEvent, StoredEvent

GENESIS_HASH = "0" * 64
NEW_STREAM = 0
"""Expected version of a stream that must not exist yet."""

METADATA = MetaData()
_BigInt = BigInteger().with_variant(Integer, "sqlite")

events_table = Table(
    "es_events",
    METADATA,
    Column("position", _BigInt, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_id", String(64), nullable=False),
    Column("stream_type", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("data", Text, nullable=False),
    Column("meta", Text, nullable=False),
    Column("occurred_at", String(40), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_es_events_stream_version"),
    # the keyed ledger's link (``guidance_shared.ledger``); NULL only for events stored before the ledger existed
    Column("ledger", String(64), nullable=True),
)

counter_table = Table(
    "es_counter",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_position", _BigInt, nullable=False),
)

outbox_table = Table(
    "es_outbox",
    METADATA,
    Column("position", _BigInt, primary_key=True, autoincrement=False),
    Column("topic", String(128), nullable=False),
    Column("key", Text, nullable=False),
    Column("headers", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("published_at", String(40), nullable=True),  # NULL; set only in databases older than the cursor
)

relay_cursor_table = Table(
    "es_relay_cursor",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_position", _BigInt, nullable=False),  # every outbox row at or below it was acknowledged
    Column("updated_at", String(40), nullable=False),
)

#: Which PostgreSQL database wrote this store (its OID), so a dump restored elsewhere is recognised before
#: web or worker start on it (``guidance_shared.restore``, the start fence). One row.
identity_table = Table(
    "es_database_identity",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("database_id", String(64), nullable=False),
    Column("noted_at", String(40), nullable=False),
)


# The append's statements, compiled once per dialect (``DriverStatement``): a command's append is a few
# small writes, and building and compiling them each time cost more than running them.
_TAKE_POSITIONS = DriverStatement(
    update(counter_table)
    .where(counter_table.c.id == 1)
    .values(last_position=counter_table.c.last_position + bindparam("n", type_=Integer))
    .returning(counter_table.c.last_position)
)
_HEAD = DriverStatement(
    select(events_table.c.version, events_table.c.hash)
    .where(events_table.c.stream_id == bindparam("stream_id", type_=String))
    .order_by(events_table.c.version.desc())
    .limit(1)
)
#: the ledger's link at a position: the previous one, read under the counter's lock (so committed and final)
_LINK_AT = DriverStatement(
    select(events_table.c.ledger).where(events_table.c.position == bindparam("position", type_=_BigInt))
)
_INSERT_EVENTS = DriverStatement(insert(events_table).values({c.name: bindparam(c.name) for c in events_table.columns}))
#: in a connection's ``info``: its transaction wrote outbox rows (read at commit by the relay's bell)
OUTBOX_WRITTEN = "guidance_outbox_written"
_INSERT_OUTBOX = DriverStatement(insert(outbox_table).values({c.name: bindparam(c.name) for c in outbox_table.columns}))

#: ``envelope.dump_json``'s canonical JSON (the hash depends on it) with its encoder built once, not per call.
_canonical = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode
_headers_encoder = json.JSONEncoder(ensure_ascii=False).encode  # ``json.dumps(headers, ensure_ascii=False)``
#: metadata key → the CloudEvents extension header that carries it, in the order the envelope writes them
_META_EXTENSIONS = (
    ("correlation_id", "ce_correlationid"),
    ("causation_id", "ce_causationid"),
    ("traceparent", "ce_traceparent"),
)


def _ce_time(moment: datetime) -> str:
    """``ce_time`` as the SDK's Kafka binding writes a datetime: ISO 8601, UTC as ``Z``."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class EventRow(TypedDict):
    """One row of ``es_events``, as ``append`` writes it."""

    position: int
    event_id: str
    stream_id: str
    stream_type: str
    version: int
    event_type: str
    data: str
    meta: str
    occurred_at: str
    prev_hash: str
    hash: str
    ledger: str


class OutboxRow(TypedDict):
    """One row of ``es_outbox``: exactly the record the relay sends (headers as a JSON object)."""

    position: int
    topic: str
    key: str
    headers: str
    value: str
    published_at: None


@dataclass(frozen=True)
class Metadata:
    """Who and what caused an event; travels as CloudEvents extensions."""

    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, str]:
        out: dict[str, str] = dict(self.extra)
        for key in ("correlation_id", "causation_id", "traceparent"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


@dataclass(frozen=True)
class ChainBreak:
    """A break of one stream's chain; ``kind``: ``version`` (an event is missing), ``prev-hash`` (the link
    to the previous event), ``altered`` (content and hash disagree)."""

    stream_id: str
    version: int
    position: int
    reason: str
    kind: str = ""


@dataclass(frozen=True)
class LedgerBreak:
    """A break of the keyed ledger at ``position``; ``kind``: ``missing`` (positions skipped: events deleted),
    ``truncated`` (the last positions handed out are gone), ``link`` (the keyed link does not match: the
    event, its hash or its place was changed, or the chain was made without the key), ``unkeyed`` (an
    event without a link after the ledger began), ``counter`` (the counter is behind the events)."""

    position: int
    kind: str
    reason: str


#: at most this many ledger breaks are listed (a forged store breaks at every event); the rest are counted
LEDGER_BREAKS_LISTED = 1000


@dataclass
class LedgerReport:
    """The keyed ledger's state: where it starts (the events at or below ``starts_after`` predate it), its
    head (the link at ``head_position``), and its breaks."""

    starts_after: int | None = None
    head_position: int = 0
    head: str | None = None
    keyed_events: int = 0
    last_position: int = 0  # the counter: the last position handed out
    breaks: list[LedgerBreak] = field(default_factory=list)
    more_breaks: int = 0
    development_key: bool = False

    def add(self, position: int, kind: str, reason: str) -> None:
        if len(self.breaks) < LEDGER_BREAKS_LISTED:
            self.breaks.append(LedgerBreak(position, kind, reason))
        else:
            self.more_breaks += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "starts_after": self.starts_after,
            "head_position": self.head_position,
            "head": self.head,
            "keyed_events": self.keyed_events,
            "last_position": self.last_position,
            "development_key": self.development_key,
            "breaks": [b.__dict__ for b in self.breaks],
            "more_breaks": self.more_breaks,
        }


@dataclass
class VerifyReport:
    streams: int = 0
    events: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    ledger: LedgerReport | None = None  # None: one stream was verified, not the store

    @property
    def ok(self) -> bool:
        return not self.breaks and (self.ledger is None or not (self.ledger.breaks or self.ledger.more_breaks))


def event_hash(
    prev_hash: str, stream_id: str, version: int, event_id: str, event_type: str, data_json: str, occurred_at: str
) -> str:
    """The link of the chain: any change to an event or its order changes every later hash."""
    material = "\x1f".join([prev_hash, stream_id, str(version), event_id, event_type, data_json, occurred_at])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class EventStore:
    """Append-only streams with optimistic concurrency and a transactional outbox."""

    def __init__(
        self,
        engine: Engine,
        *,
        source: str,
        topic: str,
        dataschema: Any = None,
        check: Callable[[str, str, Any], None] | None = None,
        ledger_key: LedgerKey | None = None,
    ) -> None:
        """``source`` is the CloudEvents source (``/guidance/intake``); ``topic`` the logical
        topic this service publishes to; ``dataschema`` maps a type to its schema URI; ``check``
        raises if an event's data (type, canonical JSON, that JSON parsed) breaks its contract, before
        it is stored (``guidance_shared.handling.contract_check``); ``ledger_key`` keys the ledger
        (None: the public development key, ``guidance_shared.ledger``)."""
        self.engine = engine
        self.source = source
        self.topic = topic
        self._dataschema = dataschema
        self._check = check
        self.linker = Linker(ledger_key or LedgerKey.from_setting(None))

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def append(
        self,
        stream_id: str,
        stream_type: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        metadata: Metadata | None = None,
        conn: Connection | None = None,
    ) -> list[StoredEvent]:
        """Append after ``expected_version`` or raise ConcurrencyError; outbox rows go in the same transaction."""
        if conn is None:
            with self.engine.begin() as own:
                return self._append(own, stream_id, stream_type, expected_version, events, metadata)
        return self._append(conn, stream_id, stream_type, expected_version, events, metadata)

    def _append(
        self,
        conn: Connection,
        stream_id: str,
        stream_type: str,
        expected_version: int,
        events: Sequence[NewEvent],
        metadata: Metadata | None,
    ) -> list[StoredEvent]:
        if not events:
            return []
        meta = (metadata or Metadata()).as_dict()
        # Take the counter row lock first: it orders positions by commit and serialises appends.
        [(last_position,)] = _TAKE_POSITIONS.rows(conn, {"n": len(events)})
        last_position -= len(events)
        head = _HEAD.rows(conn, {"stream_id": stream_id})
        current_version, prev_hash = head[0] if head else (0, GENESIS_HASH)
        if current_version != expected_version:
            raise ConcurrencyError(stream_id, expected_version, current_version)

        stored, event_rows, outbox_rows = self.rows(
            stream_id,
            stream_type,
            expected_version,
            last_position,
            prev_hash,
            events,
            meta,
            ledger_after=self.link_at(conn, last_position),
        )
        _INSERT_EVENTS.executemany(conn, event_rows)
        _INSERT_OUTBOX.executemany(conn, outbox_rows)
        # Said here, not seen: the rows go by the driver's cursor, past SQLAlchemy's execute events, and
        # the relay's bell (``relay.install_outbox_bell``) rings at this transaction's commit.
        conn.info[OUTBOX_WRITTEN] = True
        return stored

    def link_at(self, conn: Connection, position: int) -> str:
        """The ledger's link at ``position``: what the next event's link follows. Read under the counter's
        lock, when every position up to it is committed; an event from before the ledger has none."""
        if position <= 0:
            return LEDGER_GENESIS
        found = _LINK_AT.rows(conn, {"position": position})
        return (found[0][0] if found else None) or LEDGER_GENESIS

    def rows(
        self,
        stream_id: str,
        stream_type: str,
        after_version: int,
        after_position: int,
        prev_hash: str,
        events: Sequence[NewEvent],
        meta: dict[str, str],
        *,
        ledger_after: str,
    ) -> tuple[list[StoredEvent], list[EventRow], list[OutboxRow]]:
        """The events, their ``es_events`` rows and their outbox rows, chained after ``prev_hash`` and
        the ledger's ``ledger_after`` (the link at ``after_position``), numbered after ``after_version`` and
        ``after_position``, each checked against its contract: what an append writes (a bulk loader that
        numbers many streams itself writes the same rows, passing on the last row's ``ledger``)."""
        link = self.linker.link
        stored: list[StoredEvent] = []
        event_rows: list[EventRow] = []
        outbox_rows: list[OutboxRow] = []
        meta_json = _canonical(meta)
        for offset, new in enumerate(events, start=1):
            version = after_version + offset
            position = after_position + offset
            event_id = new.id or str(uuid.uuid4())
            occurred = (new.occurred_at or datetime.now(UTC)).astimezone(UTC)
            occurred_text = occurred.isoformat()
            data_json = _canonical(new.data)
            # The data as a later load gives it back (keys sorted, JSON values), so what a caller
            # builds from the appended events (a read model) is what a refold from the store builds.
            data = json.loads(data_json)
            if self._check is not None:
                self._check(new.type, data_json, data)
            digest = event_hash(prev_hash, stream_id, version, event_id, new.type, data_json, occurred_text)
            ledger_after = link(ledger_after, position, digest, stream_type, meta_json)
            event_rows.append(
                {
                    "position": position,
                    "event_id": event_id,
                    "stream_id": stream_id,
                    "stream_type": stream_type,
                    "version": version,
                    "event_type": new.type,
                    "data": data_json,
                    "meta": meta_json,
                    "occurred_at": occurred_text,
                    "prev_hash": prev_hash,
                    "hash": digest,
                    "ledger": ledger_after,
                }
            )
            stored.append(
                StoredEvent(
                    position,
                    event_id,
                    stream_id,
                    stream_type,
                    version,
                    new.type,
                    data,
                    meta,
                    occurred,
                    prev_hash,
                    digest,
                )
            )
            outbox_rows.append(
                {
                    "position": position,
                    "topic": self.topic,
                    "key": stream_id,
                    "headers": self._headers_json(new.type, stream_id, event_id, occurred, version, meta),
                    # The record's value is the data's canonical JSON: what the envelope would write
                    # (``Envelope.to_record`` dumps the same data the same way).
                    "value": data_json,
                    "published_at": None,
                }
            )
            prev_hash = digest
        return stored, event_rows, outbox_rows

    def _headers_json(
        self, ce_type: str, subject: str, event_id: str, occurred: datetime, version: int, meta: dict[str, str]
    ) -> str:
        """The record's CloudEvents headers as ``Envelope.to_record`` (the SDK's Kafka binding) writes them,
        in its order, as a JSON object: built directly, the SDK's event objects cost more than the append's
        SQL (``tests/kernel/test_eventstore_contract.py`` holds the two equal)."""
        headers = {
            "ce_id": event_id,
            "ce_source": self.source,
            "ce_type": ce_type,
            "ce_subject": subject,
            "ce_time": _ce_time(occurred),
            "content-type": "application/json",
        }
        if self._dataschema:
            schema = self._dataschema(ce_type)
            if schema:
                headers["ce_dataschema"] = str(schema)
        headers["ce_sequence"] = str(version)
        for key, name in _META_EXTENSIONS:
            value = meta.get(key)
            if value is not None:
                headers[name] = str(value)
        headers["ce_specversion"] = "1.0"
        return _headers_encoder(headers)

    def envelope(self, event: StoredEvent) -> Envelope:
        return Envelope(
            id=event.event_id,
            type=event.type,
            source=self.source,
            subject=event.stream_id,
            time=event.occurred_at,
            data=event.data,
            dataschema=self._dataschema(event.type) if self._dataschema else None,
            sequence=event.version,
            correlationid=event.meta.get("correlation_id"),
            causationid=event.meta.get("causation_id"),
            traceparent=event.meta.get("traceparent"),
        )

    def load(self, stream_id: str, *, conn: Connection | None = None) -> list[StoredEvent]:
        query = select(events_table).where(events_table.c.stream_id == stream_id).order_by(events_table.c.version)
        return [_row_to_event(row) for row in self._rows(query, conn)]

    def version(self, stream_id: str, *, conn: Connection | None = None) -> int:
        query = select(func.max(events_table.c.version)).where(events_table.c.stream_id == stream_id)
        rows = self._rows(query, conn)
        return int(rows[0][0] or 0)

    def read_all(
        self, after_position: int = 0, limit: int = 1000, *, conn: Connection | None = None
    ) -> list[StoredEvent]:
        """Events in global order; positions are dense and commit-ordered."""
        query = (
            select(events_table)
            .where(events_table.c.position > after_position)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        return [_row_to_event(row) for row in self._rows(query, conn)]

    def _rows(self, query: Any, conn: Connection | None) -> list[Any]:
        if conn is not None:
            return list(conn.execute(query))
        with self.engine.connect() as own:
            return list(own.execute(query))

    def verify(self, stream_id: str | None = None, *, batch: int = 5000) -> VerifyReport:
        """Recompute every hash; report each event whose content or place in its stream was altered. For the
        whole store (no ``stream_id``) also the keyed ledger: gaps in the positions, a cut-off tail, and
        every link the key does not reproduce (``ledger``)."""
        query = select(events_table).order_by(events_table.c.stream_id, events_table.c.version)
        if stream_id is not None:
            query = query.where(events_table.c.stream_id == stream_id)
        report = VerifyReport()
        current: str | None = None
        prev_hash = GENESIS_HASH
        expected_version = 0
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                if row.stream_id != current:
                    current, prev_hash, expected_version = row.stream_id, GENESIS_HASH, 0
                    report.streams += 1
                report.events += 1
                expected_version += 1
                problem = _check_link(row, prev_hash, expected_version)
                if problem:
                    report.breaks.append(ChainBreak(row.stream_id, row.version, row.position, *problem))
                prev_hash = row.hash
        if stream_id is None:
            report.ledger = self.verify_ledger(batch=batch)
        return report

    def verify_ledger(self, *, batch: int = 5000) -> LedgerReport:
        """Walk the store in position order: every position from 1 to the counter present, every link the
        keyed HMAC of its predecessor and the event's own hash (``_check_link`` checks that hash against the
        content), no unkeyed event after the first keyed one."""
        report = LedgerReport(development_key=self.linker.key.development)
        link = self.linker.link
        columns = (
            events_table.c.position,
            events_table.c.stream_type,
            events_table.c.meta,
            events_table.c.hash,
            events_table.c.ledger,
        )
        expected = 1
        prev: str | None = LEDGER_GENESIS  # None: the predecessor is missing, so this link cannot be judged
        with reading(self.engine) as conn:
            report.last_position = int(
                conn.execute(select(counter_table.c.last_position).where(counter_table.c.id == 1)).scalar() or 0
            )
            after = 0
            while True:
                page = list(
                    conn.execute(
                        select(*columns)
                        .where(events_table.c.position > after)
                        .order_by(events_table.c.position)
                        .limit(batch)
                    )
                )
                if not page:
                    break
                after = page[-1].position
                for row in page:
                    if row.position != expected:
                        report.add(
                            expected,
                            "missing",
                            f"positions {expected}–{row.position - 1} are missing (events were deleted)",
                        )
                        prev = None if report.starts_after is not None else prev
                    if row.ledger is None:
                        if report.starts_after is not None:
                            report.add(row.position, "unkeyed", "no ledger link after the ledger began")
                            prev = None
                    else:
                        if report.starts_after is None:
                            report.starts_after = row.position - 1
                            prev = LEDGER_GENESIS
                        if prev is not None and not same(
                            link(prev, row.position, row.hash, row.stream_type, row.meta), row.ledger
                        ):
                            report.add(
                                row.position,
                                "link",
                                "the keyed link does not match: the event, its hash or its place in the order was "
                                "changed, or the chain was made without the key",
                            )
                        prev = row.ledger
                        report.keyed_events += 1
                        report.head_position, report.head = row.position, row.ledger
                    expected = row.position + 1
        end = expected - 1
        if report.last_position > end:
            report.add(
                end + 1,
                "truncated",
                f"positions {end + 1}–{report.last_position} were handed out but are missing "
                "(the last events were deleted)",
            )
        elif report.last_position < end:
            report.add(
                report.last_position,
                "counter",
                f"the position counter ({report.last_position}) is behind the last event ({end})",
            )
        return report


def published_position(conn: Connection) -> int:
    """The relay cursor: every outbox row at or below this position has been acknowledged by the log."""
    value = conn.execute(_PUBLISHED_POSITION).scalar()
    return int(value) if value is not None else 0  # no cursor yet: nothing was sent


#: the relay reads it twice for every batch it publishes: built once
_PUBLISHED_POSITION = select(relay_cursor_table.c.last_position).where(relay_cursor_table.c.id == 1)


def _check_link(row: Any, prev_hash: str, expected_version: int) -> tuple[str, str] | None:
    """What is wrong with a stream's event, and its kind; None when nothing is."""
    if row.version != expected_version:
        return f"version {row.version} where {expected_version} was expected (an event is missing)", "version"
    if row.prev_hash != prev_hash:
        return "previous-hash link does not match the previous event", "prev-hash"
    digest = event_hash(prev_hash, row.stream_id, row.version, row.event_id, row.event_type, row.data, row.occurred_at)
    if digest != row.hash:
        return "content does not match its hash (the event was altered)", "altered"
    return None


def _row_to_event(row: Any) -> StoredEvent:
    return StoredEvent(
        position=row.position,
        event_id=row.event_id,
        stream_id=row.stream_id,
        stream_type=row.stream_type,
        version=row.version,
        type=row.event_type,
        data=json.loads(row.data),
        meta=json.loads(row.meta),
        occurred_at=datetime.fromisoformat(row.occurred_at),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
