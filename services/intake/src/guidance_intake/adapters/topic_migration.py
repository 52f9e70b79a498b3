"""Copying ``intake.events`` to a new topic version with every person's fields sealed (docs/operations.md,
"Migrating intake's topic to sealed events").

The old topic keeps what was sent before sealing, in clear, forever (its retention is infinite), and an event log
is not edited: so the topic is copied to a new one and the old one deleted, which is its erasure. The copy reads
each partition of the old topic from its beginning to its end as it was when the copy began, and writes each
record to the new topic with the same key, headers (the CloudEvents id, type, sequence …) and partition (the
same partitioner on the same key and partition count), in order; the value is the event's data as intake's
re-encrypted store holds it (``guidance-intake reencrypt`` first), found by the record's ``ce_id``. A record of a
sealed event type that would still hold a clear field stops the copy before it is written. Nothing is read from
the topic into the store. The suite's other topics, which intake's store does not hold, move with it to the new
prefix and are copied the same way, their records unchanged.

The new topic is written only by the copy, so how far it got is the new topic's end offsets: a copy run again
starts each partition there, and a record is never copied twice; with the old topic's offsets dense (as the relay
writes them) each record keeps its offset too, so consumer groups' committed offsets carry over unchanged.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from guidance_intake.adapters.reencryption import clear_paths
from guidance_intake.domain.personal_fields import SEALED_EVENTS
from guidance_shared.eventstore import events_table
from guidance_shared.rechain import Fields
from guidance_shared.transport.base import ConsumedRecord, Record, Transport

#: records written to the new topic per acknowledged batch
BATCH = 500


class TopicMigrationError(RuntimeError):
    """The copy cannot go on; the message says why (no personal data in it)."""


@dataclass
class Copied:
    topic: str
    partitions: dict[int, int] = field(default_factory=dict)  # records copied per partition, this run
    sealed_from_store: int = 0
    already: dict[int, int] = field(default_factory=dict)  # records the new topic held when this run began
    complete: bool = False

    def as_dict(self) -> Fields:
        return {
            "topic": self.topic,
            "copied": sum(self.partitions.values()),
            "copied_per_partition": {str(p): n for p, n in sorted(self.partitions.items())},
            "sealed_from_store": self.sealed_from_store,
            "already_copied": sum(self.already.values()),
            "complete": self.complete,
        }


def _header(record: ConsumedRecord, name: str) -> str | None:
    for key, value in record.headers:
        if key == name:
            return value.decode("utf-8")
    return None


class TopicCopy:
    """Copies ``topic`` from ``source`` to ``target`` (two transports: the old topic version's prefix, the new one's),
    taking the values of intake's events from the store on ``engine``."""

    def __init__(self, engine: Engine, source: Transport, target: Transport, topic: str, *, batch: int = BATCH) -> None:
        self._engine = engine
        self._source = source
        self._target = target
        self._topic = topic
        self._batch = batch

    def _stored(self, event_ids: list[str]) -> dict[str, str]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(events_table.c.event_id, events_table.c.data).where(events_table.c.event_id.in_(event_ids))
            )
            return {str(event_id): str(data) for event_id, data in rows}

    def run(self, *, timeout_s: float = 600.0, progress: Callable[[Copied], None] | None = None) -> Copied:
        ends = self._source.end_offsets(self._topic)
        already = self._target.end_offsets(self._topic)
        if len(already) != len(ends):
            raise TopicMigrationError(
                f"the new topic has {len(already)} partitions and the old one {len(ends)}: create it with as many, "
                "so every key stays on its partition"
            )
        done = Copied(self._topic, {p: 0 for p in ends}, already=dict(already))
        wanted = {p: end for p, end in ends.items() if already.get(p, 0) < end}
        if wanted:
            self._copy(wanted, already, done, timeout_s, progress or (lambda _done: None))
        after = self._target.end_offsets(self._topic)
        done.complete = all(after.get(p, 0) >= end for p, end in ends.items())
        return done

    def _copy(
        self,
        wanted: dict[int, int],
        start: dict[int, int],
        done: Copied,
        timeout_s: float,
        progress: Callable[[Copied], None],
    ) -> None:
        consumer = self._source.consumer(f"intake.topic-migration-{uuid.uuid4().hex[:12]}")
        producer = self._target.producer()
        read_to = {p: start.get(p, 0) for p in wanted}
        deadline = time.monotonic() + timeout_s
        try:
            consumer.subscribe([self._topic], lambda tp: start.get(tp.partition, 0))
            while any(read_to[p] < end for p, end in wanted.items()):
                if time.monotonic() >= deadline:
                    raise TopicMigrationError(f"{self._topic} not copied to its end within {timeout_s}s; run again")
                records = [
                    r
                    for r in consumer.poll(self._batch, 0.5)
                    if r.partition in wanted and read_to[r.partition] <= r.offset < wanted[r.partition]
                ]
                if not records:
                    continue
                producer.publish(self._records(records, done))
                for record in records:
                    read_to[record.partition] = record.offset + 1
                    done.partitions[record.partition] += 1
                progress(done)
        finally:
            consumer.close()
            producer.close()

    def _records(self, records: list[ConsumedRecord], done: Copied) -> list[Record]:
        ids = [i for r in records if (i := _header(r, "ce_id")) is not None]
        stored = self._stored(ids)
        out = []
        for record in records:
            event_id, event_type = _header(record, "ce_id"), _header(record, "ce_type") or ""
            value = record.value
            if event_id in stored and stored[event_id].encode("utf-8") != value:
                value = stored[event_id].encode("utf-8")
                done.sealed_from_store += 1
            if event_type in SEALED_EVENTS and clear_paths(event_type, json.loads(value)):
                raise TopicMigrationError(
                    f"event {event_id} ({event_type}) at {record.partition}:{record.offset} holds personal data in "
                    "clear and the store has it so too: run guidance-intake reencrypt first"
                )
            out.append(Record(self._topic, record.key, value, record.headers))
        return out
