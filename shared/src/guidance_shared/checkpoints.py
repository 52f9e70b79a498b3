"""Signed checkpoints of the keyed ledger, sent where the database's writer cannot rewrite them.

A checkpoint states, signed with the ledger's key (``guidance_shared.ledger``): at ``position`` the ledger's
link was ``head``, at time ``at``; for a service that keeps the access log, also its last entry's number and
hash (the access log's own chain is plain SHA-256; the signed head anchors it). The worker takes one when
``GUIDANCE_CHECKPOINT_EVENTS`` events were appended since the last, or ``GUIDANCE_CHECKPOINT_INTERVAL_S``
passed with any appended, and sends it two ways, neither through the database:

- to the ``audit.checkpoints`` topic, directly with a producer (not through the outbox, whose rows the
  database's writer could change before they are sent), keyed by the service;
- to the export file (JSON lines, ``GUIDANCE_CHECKPOINT_FILE``), appended and synced.

``verify --against FILE|latest|topic`` then checks the store against every checkpoint of a file (``latest``:
the export file's last line; ``topic``: every one of the service's on the topic): the signature, the key, and
that the store's link at the signed position is still the signed head, so history up to it was neither
rewritten nor cut off. What it cannot catch is the ADR's
(docs/decisions/0008-keyed-anchored-ledger.md): an attacker who holds the key and can rewrite both copies.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, select

from guidance_shared.access_log import ACCESS_LOG_METADATA, access_log
from guidance_shared.db import reading
from guidance_shared.eventstore import events_table
from guidance_shared.ledger import Linker, same
from guidance_shared.topics import CHECKPOINT_TOPIC
from guidance_shared.transport.base import Producer, Record, TopicPartition, Transport

log = structlog.get_logger(__name__)


class CheckpointError(ValueError):
    """A checkpoint file or line that cannot be read; the message says which."""


@dataclass(frozen=True)
class Checkpoint:
    service: str
    position: int
    head: str
    at: str
    key_id: str
    access_log_seq: int | None = None
    access_log_hash: str | None = None
    signature: str = ""

    def payload(self) -> bytes:
        """What the signature covers: every other field, as canonical JSON."""
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def signed(self, linker: Linker) -> Checkpoint:
        return replace(self, signature=linker.sign(self.payload()))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        try:
            fields = json.loads(text)
            return cls(
                service=str(fields["service"]),
                position=int(fields["position"]),
                head=str(fields["head"]),
                at=str(fields["at"]),
                key_id=str(fields["key_id"]),
                access_log_seq=None if fields.get("access_log_seq") is None else int(fields["access_log_seq"]),
                access_log_hash=None if fields.get("access_log_hash") is None else str(fields["access_log_hash"]),
                signature=str(fields["signature"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"not a checkpoint: {exc}") from None


@dataclass(frozen=True)
class Mismatch:
    """Why the store does not extend a checkpoint; ``kind``: ``signature``, ``key``, ``service``, ``truncated``,
    ``rewritten``, ``access-log-truncated``, ``access-log-rewritten``."""

    position: int
    kind: str
    reason: str


def take(
    conn: Connection, linker: Linker, service: str, *, with_access_log: bool, now: datetime | None = None
) -> Checkpoint | None:
    """A signed checkpoint of the store's head now; None while no event carries a link."""
    head = conn.execute(
        select(events_table.c.position, events_table.c.ledger).order_by(events_table.c.position.desc()).limit(1)
    ).first()
    if head is None or head.ledger is None:
        return None
    seq, digest = None, None
    if with_access_log:
        last = conn.execute(select(access_log.c.seq, access_log.c.hash).order_by(access_log.c.seq.desc()).limit(1))
        row = last.first()
        if row is not None:
            seq, digest = int(row.seq), str(row.hash)
    moment = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    checkpoint = Checkpoint(service, int(head.position), str(head.ledger), moment, linker.key.key_id, seq, digest)
    return checkpoint.signed(linker)


def check(conn: Connection, linker: Linker, service: str, checkpoint: Checkpoint) -> list[Mismatch]:
    """Every way the store fails to extend ``checkpoint``; empty when it does."""
    at = checkpoint.position
    if checkpoint.key_id != linker.key.key_id:
        return [Mismatch(at, "key", f"signed with another key (key id {checkpoint.key_id}, ours {linker.key.key_id})")]
    if not same(linker.sign(checkpoint.payload()), checkpoint.signature):
        return [Mismatch(at, "signature", "the checkpoint's signature does not verify (it was altered or forged)")]
    if checkpoint.service != service:
        return [Mismatch(at, "service", f"a checkpoint of {checkpoint.service}, not of {service}")]
    problems: list[Mismatch] = []
    link = conn.execute(select(events_table.c.ledger).where(events_table.c.position == at)).first()
    if link is None:
        end = conn.execute(select(events_table.c.position).order_by(events_table.c.position.desc()).limit(1)).scalar()
        problems.append(
            Mismatch(
                at,
                "truncated",
                f"the store has no event at the signed position {at} (it ends at {end or 0}): events signed "
                "for were deleted",
            )
        )
    elif link.ledger is None or not same(link.ledger, checkpoint.head):
        problems.append(
            Mismatch(
                at, "rewritten", f"the link at position {at} is not the signed head: history up to it was rewritten"
            )
        )
    if checkpoint.access_log_seq is not None and checkpoint.access_log_hash is not None:
        entry = conn.execute(select(access_log.c.hash).where(access_log.c.seq == checkpoint.access_log_seq)).first()
        if entry is None:
            problems.append(
                Mismatch(at, "access-log-truncated", f"access log entry {checkpoint.access_log_seq} is gone")
            )
        elif not same(str(entry.hash), checkpoint.access_log_hash):
            problems.append(
                Mismatch(
                    at,
                    "access-log-rewritten",
                    f"access log entry {checkpoint.access_log_seq} is not the signed one: the log was rewritten",
                )
            )
    return problems


def read_file(path: Path) -> list[Checkpoint]:
    """Every checkpoint of an export file (JSON lines), in order."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CheckpointError(f"cannot read {path} ({exc.strerror or exc})") from None
    out = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                out.append(Checkpoint.from_json(line))
            except CheckpointError as exc:
                raise CheckpointError(f"{path}:{number}: {exc}") from None
    if not out:
        raise CheckpointError(f"{path} holds no checkpoint")
    return out


def read_topic(transport: Transport, service: str, *, timeout_s: float = 300.0) -> list[Checkpoint]:
    """Every checkpoint of ``service`` on ``audit.checkpoints``, from offset zero to the end as it was when
    reading began, in a consumer group of its own (nothing of the service's is touched)."""
    ends = {TopicPartition(CHECKPOINT_TOPIC, p): end for p, end in transport.end_offsets(CHECKPOINT_TOPIC).items()}
    wanted = {tp: end for tp, end in ends.items() if end > 0}
    consumer = transport.consumer(f"{service}.checkpoints-{uuid.uuid4().hex[:12]}")
    found: list[Checkpoint] = []
    read_to: dict[TopicPartition, int] = {}
    deadline = time.monotonic() + timeout_s
    try:
        consumer.subscribe([CHECKPOINT_TOPIC], lambda _tp: 0)
        while any(read_to.get(tp, 0) < end for tp, end in wanted.items()):
            if time.monotonic() >= deadline:
                raise CheckpointError(f"{CHECKPOINT_TOPIC} not read to its end within {timeout_s}s")
            for record in consumer.poll(1000, 0.5):
                if record.offset >= ends.get(record.tp, 0):
                    continue  # sent after the reading began
                read_to[record.tp] = record.offset + 1
                if record.key == service.encode("utf-8"):
                    found.append(Checkpoint.from_json(record.value.decode("utf-8")))
    finally:
        consumer.close()
    if not found:
        raise CheckpointError(f"{CHECKPOINT_TOPIC} holds no checkpoint of {service}")
    return found


def append_to_file(path: Path, checkpoint: Checkpoint) -> None:
    """One line more, on disk before this returns (a checkpoint lost in a crash anchors nothing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(checkpoint.to_json() + "\n")
        out.flush()
        os.fsync(out.fileno())


def keeps_access_log(tables: Sequence[Any]) -> bool:
    return ACCESS_LOG_METADATA in tables


class CheckpointWriter:
    """The worker's checkpoint loop: a checkpoint after ``every_events`` new events, or after ``interval_s``
    if any arrived, to the topic and the file. Several worker replicas each write theirs: harmless, every
    one is a true signed statement."""

    def __init__(
        self,
        engine: Engine,
        linker: Linker,
        service: str,
        *,
        producer: Producer,
        path: Path,
        every_events: int,
        interval_s: float,
        with_access_log: bool,
    ) -> None:
        self.engine = engine
        self.linker = linker
        self.service = service
        self.producer = producer
        self.path = path
        self.every_events = every_events
        self.interval_s = interval_s
        self.with_access_log = with_access_log
        self.last: Checkpoint | None = None
        self._last_at = time.monotonic()
        self._unsent: Checkpoint | None = None

    def write_once(self) -> Checkpoint | None:
        """A checkpoint now, unless the store has not grown since the last one."""
        with reading(self.engine) as conn:
            checkpoint = take(conn, self.linker, self.service, with_access_log=self.with_access_log)
        self._last_at = time.monotonic()
        if checkpoint is None or (
            self.last is not None
            and (checkpoint.position, checkpoint.access_log_seq) == (self.last.position, self.last.access_log_seq)
        ):
            return None
        append_to_file(self.path, checkpoint)
        self.last = self._unsent = checkpoint
        self._send()
        return checkpoint

    def _send(self) -> None:
        """The newest checkpoint to the topic; one the broker refused goes at the next try (the file has it)."""
        if self._unsent is None:
            return
        self.producer.publish(
            [Record(CHECKPOINT_TOPIC, self.service.encode("utf-8"), self._unsent.to_json().encode("utf-8"))]
        )
        self._unsent = None

    def due(self) -> bool:
        with reading(self.engine) as conn:
            end = conn.execute(select(events_table.c.position).order_by(events_table.c.position.desc()).limit(1))
            position = end.scalar() or 0
        grown = position - (self.last.position if self.last else 0)
        return grown >= self.every_events or (grown > 0 and time.monotonic() - self._last_at >= self.interval_s)

    def run_forever(self, stop: threading.Event) -> None:
        """A checkpoint at start, then whenever one is due; a failed round is logged and tried again."""
        poll_s = min(self.interval_s, 5.0)
        first = True
        while not stop.is_set():
            try:
                if first or self.due():
                    checkpoint = self.write_once()
                    if checkpoint is not None:
                        log.info("checkpoint.written", position=checkpoint.position, topic=CHECKPOINT_TOPIC)
                first = False
                self._send()
            except Exception as exc:  # the broker or the database away: the next round tries again
                log.warning("checkpoint.failed", error=str(exc), retry_in_s=poll_s)
            stop.wait(poll_s)
