"""The embedded log: Kafka's semantics in one SQLite file, for a laptop with nothing but Python.

Topics have partitions; a record's partition is murmur2(key) like Kafka's
default partitioner; offsets are dense per partition; consumer groups share
partitions among live members (heartbeats) and keep committed offsets. It is
not fast or distributed; it is faithful enough that the same contract tests
pass against it and against a real broker.

A consumer with nothing to read waits on a doorbell (``doorbell``): it binds a Unix datagram socket
in the directory beside the log's file (``<file>.wake.d/``), and a producer that committed a batch
rings every socket there. So consumers in other processes read a record within milliseconds of
its commit instead of polling for it; without a ring they still look every ``timeout_s`` of a poll.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kafka.partitioner.default import murmur2
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from guidance_shared.db import make_engine, reading, save_offsets
from guidance_shared.transport.base import (
    COMMIT_INTERVAL_S,
    ConsumedRecord,
    Consumer,
    PositionLookup,
    Producer,
    PublishError,
    Record,
    TopicPartition,
    Transport,
    TransportError,
)
from guidance_shared.transport.doorbell import Doorbell, datagram_listener, ring_path, socket_path_beside

METADATA = MetaData()
topics_table = Table(
    "el_topics",
    METADATA,
    Column("name", String(200), primary_key=True),
    Column("partitions", Integer, nullable=False),
)
ends_table = Table(
    "el_partition_ends",
    METADATA,
    Column("topic", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", Integer, nullable=False),
)
records_table = Table(
    "el_records",
    METADATA,
    Column("topic", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", Integer, primary_key=True),
    Column("key", LargeBinary, nullable=True),
    Column("value", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
    Column("timestamp_ms", Integer, nullable=False),
)
group_offsets_table = Table(
    "el_group_offsets",
    METADATA,
    Column("group_id", String(200), primary_key=True),
    Column("topic", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", Integer, nullable=False),
)
members_table = Table(
    "el_members",
    METADATA,
    Column("group_id", String(200), primary_key=True),
    Column("member_id", String(64), primary_key=True),
    Column("heartbeat", Float, nullable=False),
)

SESSION_TIMEOUT_S = 10.0


def partition_for(key: bytes | None, partitions: int, counter: int = 0) -> int:
    """Kafka's default: murmur2 of the key, positive, modulo the partition count."""
    if key is None:
        return counter % partitions
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class EmbeddedTransport(Transport):
    def __init__(self, path_or_url: str, *, default_partitions: int = 3) -> None:
        url = path_or_url if "://" in path_or_url else f"sqlite:///{path_or_url}"
        self.engine: Engine = make_engine(url)
        self.default_partitions = default_partitions
        # The development stand-in for the broker, not a service's table: it makes its own, in no migration history.
        METADATA.create_all(self.engine)
        beside = socket_path_beside(self.engine.url.database)
        # Where the consumers' wake sockets live (one each); None where there can be none: they poll.
        self.wake_dir: Path | None = beside.with_name(beside.name + ".d") if beside is not None else None
        self._partition_counts: dict[str, int] = {}

    def ring_consumers(self) -> None:
        """After a commit that added records: wake every consumer waiting on this log, in any process."""
        if self.wake_dir is None:
            return
        try:
            entries = list(os.scandir(self.wake_dir))
        except OSError:  # no consumer ever waited here
            return
        for entry in entries:
            if not ring_path(Path(entry.path)):
                # Nobody bound there: a consumer that died without closing. Its name is never reused.
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)

    def consumer_bell(self, member_id: str) -> Doorbell | None:
        """A doorbell for one consumer, rung by ``ring_consumers``; None where no socket can be bound."""
        if self.wake_dir is None:
            return None
        with contextlib.suppress(OSError):
            self.wake_dir.mkdir(exist_ok=True)
        path = self.wake_dir / member_id[:12]
        if len(os.fsencode(path)) > 100:
            return None
        listener = datagram_listener(path)
        if listener is None:
            return None
        bell = Doorbell()
        bell.attach(listener)
        return bell

    def producer(self) -> Producer:
        return EmbeddedProducer(self)

    def consumer(self, group: str, *, client_id: str | None = None) -> Consumer:
        return EmbeddedConsumer(self, group)

    def create_topics(self, topics: Sequence[str], partitions: int) -> None:
        with self.engine.begin() as conn:
            for topic in topics:
                exists = conn.execute(select(topics_table.c.name).where(topics_table.c.name == topic)).first()
                if exists:
                    continue
                conn.execute(insert(topics_table).values(name=topic, partitions=partitions))
                conn.execute(
                    insert(ends_table), [{"topic": topic, "partition": p, "next_offset": 0} for p in range(partitions)]
                )

    def partitions(self, topic: str) -> int:
        """A topic's partition count; remembered once seen (a topic's partitions never change here)."""
        if topic in self._partition_counts:
            return self._partition_counts[topic]
        with reading(self.engine) as conn:
            value = conn.execute(select(topics_table.c.partitions).where(topics_table.c.name == topic)).scalar()
        if value is None:
            raise TransportError(f"topic {topic!r} does not exist; provision it first")
        self._partition_counts[topic] = int(value)
        return int(value)

    def end_offsets(self, topic: str) -> dict[int, int]:
        with reading(self.engine) as conn:  # reads never queue on the write lock that producers take
            rows = conn.execute(
                select(ends_table.c.partition, ends_table.c.next_offset).where(ends_table.c.topic == topic)
            )
            return {int(r.partition): int(r.next_offset) for r in rows}

    def close(self) -> None:
        self.engine.dispose()


class EmbeddedProducer(Producer):
    def __init__(self, transport: EmbeddedTransport) -> None:
        self.transport = transport
        self._partition_counts: dict[str, int] = {}
        self._round_robin = 0

    def publish(self, records: Sequence[Record]) -> None:
        """Append the whole batch in one transaction: acknowledged means committed."""
        if not records:
            return
        try:
            with self.transport.engine.begin() as conn:
                for record in records:
                    count = self._partitions(conn, record.topic)
                    self._round_robin += 1
                    partition = partition_for(record.key, count, self._round_robin)
                    offset = (
                        conn.execute(
                            update(ends_table)
                            .where(ends_table.c.topic == record.topic, ends_table.c.partition == partition)
                            .values(next_offset=ends_table.c.next_offset + 1)
                            .returning(ends_table.c.next_offset)
                        ).scalar_one()
                        - 1
                    )
                    conn.execute(
                        insert(records_table).values(
                            topic=record.topic,
                            partition=partition,
                            offset=offset,
                            key=record.key,
                            value=record.value,
                            headers=json.dumps([[k, v.decode("utf-8", "surrogateescape")] for k, v in record.headers]),
                            timestamp_ms=int(time.time() * 1000),
                        )
                    )
        except OperationalError as exc:
            raise PublishError(f"embedded log unavailable: {exc}") from exc
        self.transport.ring_consumers()

    def _partitions(self, conn: Connection, topic: str) -> int:
        if topic not in self._partition_counts:
            count = conn.execute(select(topics_table.c.partitions).where(topics_table.c.name == topic)).scalar()
            if count is None:
                raise PublishError(f"topic {topic!r} does not exist; provision it first")
            self._partition_counts[topic] = int(count)
        return self._partition_counts[topic]

    def close(self) -> None:
        """Nothing to release: the transport owns the connection pool."""


@functools.lru_cache(maxsize=64)
def _fetch_statement(assignment: tuple[TopicPartition, ...]) -> Select[Any]:
    """The read of an assignment's next records, built once per assignment with a named parameter for each
    partition's position (``from_<i>``) and for the batch size: a consumer polls after every commit to the
    log, and a member of a group reading four topics spent a third of its time building this statement
    and its cache key again (docs/performance.md, "Propagation")."""
    condition = or_(
        *[
            and_(
                records_table.c.topic == tp.topic,
                records_table.c.partition == tp.partition,
                records_table.c.offset >= bindparam(f"from_{i}"),
            )
            for i, tp in enumerate(assignment)
        ]
    )
    return (
        select(records_table)
        .where(condition)
        .order_by(records_table.c.topic, records_table.c.partition, records_table.c.offset)
        .limit(bindparam("max_records"))
    )


class EmbeddedConsumer(Consumer):
    def __init__(self, transport: EmbeddedTransport, group: str) -> None:
        self.transport = transport
        self.group = group
        self.member_id = str(uuid.uuid4())
        self.topics: list[str] = []
        self.position_lookup: PositionLookup = lambda _tp: None
        self.assignment: list[TopicPartition] = []
        self.positions: dict[TopicPartition, int] = {}
        self._last_heartbeat = 0.0
        self._bell: Doorbell | None = None
        self._bell_made = False
        self._uncommitted: dict[TopicPartition, int] = {}
        self._committed_at = -1e9

    def subscribe(self, topics: Sequence[str], position_lookup: PositionLookup) -> None:
        self.topics = list(topics)
        self.position_lookup = position_lookup
        self._heartbeat(force=True)

    def _heartbeat(self, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._last_heartbeat < 1.0:
            return
        self._last_heartbeat = now
        engine = self.transport.engine
        with engine.begin() as conn:
            updated = conn.execute(
                update(members_table)
                .where(members_table.c.group_id == self.group, members_table.c.member_id == self.member_id)
                .values(heartbeat=now)
            ).rowcount
            if not updated:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(members_table).values(group_id=self.group, member_id=self.member_id, heartbeat=now)
                        )
                except IntegrityError:
                    pass
            conn.execute(
                delete(members_table).where(
                    members_table.c.group_id == self.group, members_table.c.heartbeat < now - SESSION_TIMEOUT_S
                )
            )
            members = sorted(
                r[0]
                for r in conn.execute(select(members_table.c.member_id).where(members_table.c.group_id == self.group))
            )
        self._rebalance(members)

    def _rebalance(self, members: list[str]) -> None:
        """Range-style assignment: every live member computes the same split independently."""
        every = sorted(
            TopicPartition(topic, p) for topic in self.topics for p in range(self.transport.partitions(topic))
        )
        index = members.index(self.member_id) if self.member_id in members else 0
        mine = [tp for i, tp in enumerate(every) if i % max(len(members), 1) == index]
        if mine == self.assignment:
            return
        self.assignment = mine
        committed = self._committed(mine)
        self.positions = {}
        for tp in mine:
            stored = self.position_lookup(tp)
            self.positions[tp] = stored if stored is not None else committed.get(tp, 0)

    def _committed(self, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        with reading(self.transport.engine) as conn:
            rows = conn.execute(select(group_offsets_table).where(group_offsets_table.c.group_id == self.group))
            return {
                TopicPartition(r.topic, r.partition): r.next_offset
                for r in rows
                if TopicPartition(r.topic, r.partition) in tps
            }

    def poll(self, max_records: int, timeout_s: float) -> list[ConsumedRecord]:
        deadline = time.monotonic() + timeout_s
        self._flush_commits(when_due=True)  # what an idle consumer was given to commit goes within an interval
        while True:
            self._heartbeat()
            records = self._fetch(max_records)
            remaining = deadline - time.monotonic()
            if records or remaining <= 0:
                return records
            bell = self._doorbell()
            if bell is not None:
                bell.wait(remaining)  # a producer's commit rings it; else the poll's own bound
            else:
                time.sleep(min(0.05, remaining))

    def _doorbell(self) -> Doorbell | None:
        if not self._bell_made:  # bound at the first wait, so a consumer that never waits leaves no socket
            self._bell_made = True
            self._bell = self.transport.consumer_bell(self.member_id.replace("-", ""))
        return self._bell

    def _fetch(self, max_records: int) -> list[ConsumedRecord]:
        if not self.assignment:
            return []
        statement = _fetch_statement(tuple(self.assignment))
        params: dict[str, object] = {f"from_{i}": self.positions[tp] for i, tp in enumerate(self.assignment)}
        params["max_records"] = max_records
        # A snapshot read: committed batches are whole, and offsets are dense, so no record can appear
        # later below one this read returns. It does not queue behind producers on the write lock.
        with reading(self.transport.engine) as conn:
            rows = list(conn.execute(statement, params))
        out = [
            ConsumedRecord(
                topic=r.topic,
                partition=r.partition,
                offset=r.offset,
                key=r.key,
                value=r.value,
                headers=tuple((k, v.encode("utf-8", "surrogateescape")) for k, v in json.loads(r.headers)),
                timestamp_ms=r.timestamp_ms,
            )
            for r in rows
        ]
        for record in out:
            self.positions[record.tp] = record.offset + 1
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        if tp in self.positions:
            self.positions[tp] = offset

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Written at most once per ``COMMIT_INTERVAL_S``, and by ``close``: as on Kafka, committed offsets
        are a courtesy for lag tooling and groups without stored positions (the caller's database holds the
        authoritative ones), and a write per batch queued on the log's write lock behind the producers,
        holding up the consumer's next batch for tens of milliseconds under load."""
        self._uncommitted.update(offsets)
        self._flush_commits(when_due=True)

    def _flush_commits(self, *, when_due: bool = False) -> None:
        if not self._uncommitted or (when_due and time.monotonic() - self._committed_at < COMMIT_INTERVAL_S):
            return
        with self.transport.engine.begin() as conn:
            save_offsets(conn, group_offsets_table, self.group, self._uncommitted)
        self._uncommitted = {}
        self._committed_at = time.monotonic()

    def lag(self) -> dict[TopicPartition, int]:
        ends: dict[str, dict[int, int]] = {}
        out: dict[TopicPartition, int] = {}
        for tp in self.assignment:
            if tp.topic not in ends:
                ends[tp.topic] = self.transport.end_offsets(tp.topic)
            out[tp] = max(ends[tp.topic].get(tp.partition, 0) - self.positions.get(tp, 0), 0)
        return out

    def close(self) -> None:
        self._flush_commits()
        with self.transport.engine.begin() as conn:
            conn.execute(
                delete(members_table).where(
                    members_table.c.group_id == self.group, members_table.c.member_id == self.member_id
                )
            )
        self.assignment = []
        if self._bell is not None:
            self._bell.close()
            self._bell = None
