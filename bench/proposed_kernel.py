"""Prototypes of kernel changes proposed by the kernel benchmark, to measure them before adopting them.

Nothing here is used by the services. Each class subclasses the kernel's own and changes only the
per-record hot path; ``python -m bench.kernel_bench --kernel proposed`` runs the benchmark with them
(``stock`` by default). What each one changes, and why, is in its docstring; the numbers are in
the benchmark's report. Once a change moves into ``guidance_shared`` its prototype here is deleted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from guidance_disclosure.projection import NATURAL_PERSON_KINDS, PublicGuidanceProjection
from guidance_shared.consumer import ConsumedEvent, ConsumerRunner, applied_table
from guidance_shared.envelope import Envelope, MalformedEvent
from guidance_shared.events.registry import EventRegistry, InvalidEventData, UnknownEventType
from guidance_shared.eventstore import outbox_table
from guidance_shared.logging import log_context
from guidance_shared.privacy import mask_name, scrub_text
from guidance_shared.relay import OutboxRelay
from guidance_shared.transport.base import ConsumedRecord, Record

# --- envelope: decode binary-mode CloudEvents without the SDK on the common path --------------

_KNOWN_HEADERS = {
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_specversion",
    "ce_subject",
    "ce_time",
    "ce_dataschema",
    "ce_sequence",
    "ce_correlationid",
    "ce_causationid",
    "ce_traceparent",
    "content-type",
}


def decode_envelope(record: ConsumedRecord) -> Envelope:
    """``Envelope.from_record`` for the records the suite writes, ~6x cheaper; anything else
    (unknown header, other content type, missing attribute, bad time) goes to the SDK path, which
    decodes it or raises the usual ``MalformedEvent``."""
    attrs: dict[str, str] = {}
    try:
        for name, value in record.headers:
            if name not in _KNOWN_HEADERS:
                return Envelope.from_record(record)
            attrs[name] = value.decode("utf-8")
        if (
            attrs.get("ce_specversion") != "1.0"
            or not attrs.get("ce_id")
            or not attrs.get("ce_source")
            or not attrs.get("ce_type")
            or attrs.get("content-type", "application/json") != "application/json"
        ):
            return Envelope.from_record(record)
        data = json.loads(record.value) if record.value else {}
        time_text = attrs.get("ce_time")
        moment = datetime.fromisoformat(time_text) if time_text else datetime.now(UTC)
        sequence = attrs.get("ce_sequence")
        sequence_number = int(sequence) if sequence is not None else None
    except (UnicodeDecodeError, ValueError):
        return Envelope.from_record(record)
    if not isinstance(data, dict):
        raise MalformedEvent("event data is not a JSON object")
    return Envelope(
        id=attrs["ce_id"],
        source=attrs["ce_source"],
        type=attrs["ce_type"],
        subject=attrs.get("ce_subject") or (record.key or b"").decode("utf-8"),
        time=moment,
        data=data,
        dataschema=attrs.get("ce_dataschema"),
        sequence=sequence_number,
        correlationid=attrs.get("ce_correlationid"),
        causationid=attrs.get("ce_causationid"),
        traceparent=attrs.get("ce_traceparent"),
    )


# --- registry: no deep copy when there is nothing to upcast ------------------------------------


def lean_upcast(registry: EventRegistry) -> EventRegistry:
    """``EventRegistry.upcast`` deep-copies the data before looking for an upcaster; the copy only
    protects the caller's dict from an upcaster, and marshmallow's ``load`` does not mutate its
    input. Proposed: ``if ce_type not in self._upcasters: return ce_type, dict(data)`` first."""
    original = registry.upcast

    def upcast(ce_type: str, data: Any) -> tuple[str, dict[str, Any]]:
        if ce_type not in registry._upcasters:
            return ce_type, dict(data)
        return original(ce_type, data)

    registry.upcast = upcast  # type: ignore[method-assign]
    return registry


# --- the consumer runner: optimistic batches -------------------------------------------------------


class _CarefulPath(Exception):
    """This batch has something other than plain, applicable events: redo it record by record."""


class ProposedConsumerRunner(ConsumerRunner):
    """Same guarantees, less work per record when nothing goes wrong (the common case).

    ``run_once`` first applies the batch *optimistically*: one transaction, no savepoint per
    event, the applied ids inserted with one executemany at the end, the envelope decoded without
    the SDK. The optimistic pass has no effect outside its transaction (no dead-letter publish, no
    metric) until it commits. The first record that is not a plain applicable event (malformed,
    unknown type, invalid data, a parked aggregate, an apply that raises) aborts it: the
    transaction rolls back and the same records go through the existing careful path
    (``_handle`` with savepoints, retries, parking and dead-lettering), so a poison event costs
    one wasted optimistic pass and nothing else changes.
    """

    batch_apply = False

    def run_once(self, timeout_s: float = 0.5) -> int:
        self.start()
        records = self.consumer.poll(self.batch_size, timeout_s)
        if not records:
            self._export_lag()
            return 0
        next_offsets = {record.tp: record.offset + 1 for record in records}
        try:
            try:
                with self.engine.begin() as conn:
                    applied, duplicates = self._apply_optimistically(conn, records)
                    self._store_offsets(conn, next_offsets)
            except _CarefulPath:
                with self.engine.begin() as conn:
                    applied_ids = self._already_applied(conn, records)
                    parked = self._parked(conn)
                    for record in records:
                        self._handle(conn, record, applied_ids, parked)
                    self._store_offsets(conn, next_offsets)
            else:
                if self.metrics:
                    self.metrics.consumer_applied.labels(self.group).inc(applied)
                    if duplicates:
                        self.metrics.consumer_skipped.labels(self.group, "duplicate").inc(duplicates)
        except Exception:
            for tp in {r.tp for r in records}:
                self.consumer.seek(tp, self.stored_offset(tp))
            raise
        self.consumer.commit(next_offsets)
        self._export_lag()
        return len(records)

    def _apply_optimistically(self, conn: Connection, records: Sequence[ConsumedRecord]) -> tuple[int, int]:
        applied_ids = self._already_applied(conn, records)
        parked = self._parked(conn)
        new_ids: list[str] = []
        duplicates = 0
        apply_many = getattr(self.projection, "apply_many", None) if self.batch_apply else None
        events: list[ConsumedEvent] = []
        for record in records:
            try:
                envelope = decode_envelope(record)
            except MalformedEvent as exc:
                raise _CarefulPath from exc
            if envelope.id in applied_ids:
                duplicates += 1
                continue
            if envelope.subject in parked:
                raise _CarefulPath
            try:
                event_type, data = self.registry.load_typed(envelope.type, envelope.data)
            except (UnknownEventType, InvalidEventData) as exc:
                raise _CarefulPath from exc
            event = ConsumedEvent(envelope, data, record.topic, record.partition, record.offset, event_type.ce_type)
            if apply_many is not None:
                events.append(event)
            else:
                with log_context(
                    event_id=envelope.id,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    correlation_id=envelope.correlationid,
                ):
                    try:
                        self.projection.apply(conn, event)
                    except Exception as exc:
                        raise _CarefulPath from exc
            applied_ids.add(envelope.id)
            new_ids.append(envelope.id)
        if events:
            try:
                apply_many(conn, events)
            except Exception as exc:
                raise _CarefulPath from exc
        if new_ids:
            conn.execute(insert(applied_table), [{"group_id": self.group, "event_id": i} for i in new_ids])
        return len(new_ids), duplicates


# --- the projection: statements built once ---------------------------------------------------------


class PreparedPublicGuidanceProjection(PublicGuidanceProjection):
    """The disclosure projection with its statements built once and executed with parameters.

    ``insert(table).values(**row)`` builds a new statement per event whose cache key covers every
    value, so SQLAlchemy spends more time constructing and keying statements than SQLite spends
    running them. Proposed for ``guidance_disclosure.projection`` (and as the pattern for every
    projection): build ``insert(self.items)`` and the delete/updates with ``bindparam`` in
    ``__init__``, and call ``conn.execute(stmt, params)``.
    """

    def __init__(self) -> None:
        super().__init__()
        items = self.items
        self._insert = insert(items)
        self._delete = delete(items).where(items.c.guidance_id == bindparam("gid"))
        self._set_status = update(items).where(items.c.guidance_id == bindparam("gid")).values(status=bindparam("st"))

    def _on_GuidanceIssued(self, conn: Connection, data: dict[str, Any]) -> None:
        row = self._issued_row(data)
        conn.execute(self._delete, {"gid": row["guidance_id"]})
        conn.execute(self._insert, row)

    def apply_many(self, conn: Connection, events: Sequence[ConsumedEvent]) -> None:
        """A batch in order: runs of GuidanceIssued for distinct ids as two executemany calls."""
        run: list[dict[str, Any]] = []

        def flush() -> None:
            if run:
                conn.execute(self._delete, [{"gid": row["guidance_id"]} for row in run])
                conn.execute(self._insert, run)
                run.clear()

        ids: set[str] = set()
        for event in events:
            if event.name == "GuidanceIssued":
                row = self._issued_row(event.data)
                if row["guidance_id"] in ids:
                    flush()
                    ids.clear()
                ids.add(row["guidance_id"])
                run.append(row)
            else:
                flush()
                ids.clear()
                self.apply(conn, event)
        flush()

    def _issued_row(self, data: dict[str, Any]) -> dict[str, Any]:
        counterpart = data["counterpart"]
        person = counterpart["kind"] in NATURAL_PERSON_KINDS
        withheld = data["disclosure"]["level"] != "public"
        row = {
            "guidance_id": str(data["guidance_id"]),
            "doc_no": data["doc_no"],
            "department_id": str(data["department_id"]),
            "content_type": data["content_type"],
            "domain": data["domain"],
            "form": data["form"],
            "methods": json.dumps(list(data["methods"]), ensure_ascii=False),
            "counterpart_kind": counterpart["kind"],
            "counterpart_name": mask_name(counterpart["name"]) if person else counterpart["name"],
            "counterpart_uscc": None if person else counterpart.get("uscc"),
            "matter": scrub_text(data["matter"]),
            "legal_basis": json.dumps(
                [{"instrument": b["instrument"], "article": b["article"]} for b in data["legal_basis"]],
                ensure_ascii=False,
            ),
            "content": scrub_text(data["content"]),
            "rights_notice": scrub_text(data["rights_notice"]),
            "correction_deadline": data["correction_deadline"].isoformat() if data.get("correction_deadline") else None,
            "issued_at": data["issued_at"].isoformat(),
            "status": "issued",
            "withheld": "Y" if withheld else "N",
        }
        return row

    def _on_GuidanceWithdrawn(self, conn: Connection, data: dict[str, Any]) -> None:
        conn.execute(self._set_status, {"gid": str(data["guidance_id"]), "st": "withdrawn"})

    def _on_GuidanceSuspended(self, conn: Connection, data: dict[str, Any]) -> None:
        conn.execute(self._set_status, {"gid": str(data["guidance_id"]), "st": "suspended"})


# --- the relay: a cursor instead of marking every row ------------------------------------------------

CURSOR_METADATA = MetaData()
relay_cursor_table = Table(
    "es_relay_cursor",
    CURSOR_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_position", Integer, nullable=False),
    Column("updated_at", String(40), nullable=False),
)


class CursorOutboxRelay(OutboxRelay):
    """Remember the last published position in one row instead of setting ``published_at`` on each.

    Marking rewrites every published outbox row (value and headers included, ~2 KB each here) and
    its entry in the partial index, so each batch's commit writes megabytes of WAL and triggers
    checkpoints. Positions are handed out in commit order (the event store's counter lock), which
    the relay already relies on, so "published" is exactly "position <= cursor": one row updated
    per batch. Rows below the cursor can be deleted by a periodic purge (or kept for audit).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        CURSOR_METADATA.create_all(self.engine)
        with self.engine.begin() as conn:
            if conn.execute(select(relay_cursor_table.c.id)).first() is None:
                first_pending = conn.execute(
                    select(func.min(outbox_table.c.position)).where(outbox_table.c.published_at.is_(None))
                ).scalar()
                if first_pending is not None:
                    start = first_pending - 1
                else:
                    start = conn.execute(select(func.coalesce(func.max(outbox_table.c.position), 0))).scalar_one()
                conn.execute(insert(relay_cursor_table).values(id=1, last_position=start, updated_at=_now()))
        self._select = (
            select(
                outbox_table.c.position,
                outbox_table.c.topic,
                outbox_table.c.key,
                outbox_table.c.headers,
                outbox_table.c.value,
            )
            .where(outbox_table.c.position > bindparam("after"))
            .order_by(outbox_table.c.position)
            .limit(bindparam("limit"))
        )
        self._advance = (
            update(relay_cursor_table)
            .where(relay_cursor_table.c.id == 1, relay_cursor_table.c.last_position == bindparam("expected"))
            .values(last_position=bindparam("last"), updated_at=bindparam("at"))
        )

    def cursor(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(relay_cursor_table.c.last_position)).scalar_one())

    def pending(self) -> int:
        after = self.cursor()
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(outbox_table).where(outbox_table.c.position > after)
                ).scalar_one()
            )

    def run_once(self) -> int:
        with self.engine.connect() as conn:
            after = int(conn.execute(select(relay_cursor_table.c.last_position)).scalar_one())
            rows = conn.execute(self._select, {"after": after, "limit": self.batch_size}).all()
        if not rows:
            return 0
        records = [
            Record(
                topic=topic,
                key=key.encode("utf-8"),
                value=value.encode("utf-8"),
                headers=tuple((k, v.encode("utf-8")) for k, v in json.loads(headers).items()),
            )
            for _position, topic, key, headers, value in rows
        ]
        self.producer.publish(records)
        with self.engine.begin() as conn:
            conn.execute(self._advance, {"expected": after, "last": rows[-1][0], "at": _now()})
        if self.metrics:
            self.metrics.relay_published.inc(len(rows))
        return len(rows)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def proposed_registry(registry: EventRegistry) -> EventRegistry:
    return lean_upcast(registry)


# For separating the effects in experiments: name -> (runner class, projection class)
RUNNER_VARIANTS: dict[str, tuple[type[ConsumerRunner], type[PublicGuidanceProjection]]] = {
    "runner": (ProposedConsumerRunner, PublicGuidanceProjection),
    "projection": (ConsumerRunner, PreparedPublicGuidanceProjection),
    "both": (ProposedConsumerRunner, PreparedPublicGuidanceProjection),
}


class BatchApplyConsumerRunner(ProposedConsumerRunner):
    """``ProposedConsumerRunner`` that hands the projection the whole batch when it has ``apply_many``."""

    batch_apply = True


RUNNER_VARIANTS["batch"] = (BatchApplyConsumerRunner, PreparedPublicGuidanceProjection)
RELAYS = {"cursor": CursorOutboxRelay}

#: what ``kernel_bench --kernel proposed`` runs: (runner class, projection class, relay class, registry adapter)
PROPOSED = (BatchApplyConsumerRunner, PreparedPublicGuidanceProjection, CursorOutboxRelay, proposed_registry)
