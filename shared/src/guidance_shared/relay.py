"""The outbox relay: moves stored events to the log, in append order, at least once.

What has been published is one number, the cursor (``es_relay_cursor``): the
position of the last outbox row the log acknowledged. It moves only after the
log acknowledged the whole batch. If the log is down, publishing fails, the
cursor stays, and the same rows are tried again after a back-off; commands
keep succeeding meanwhile because they only ever write to the database. A
relay that crashed after the acknowledgement but before moving the cursor
republishes the batch; consumers drop the duplicates by event id.

A cursor is enough because the event store hands out positions in commit
order (see ``eventstore``): once the relay has read position N, no row below N
can appear later. A batch costs one range read and a one-row update; marking
each row published would rewrite each ~2 KB row and its index entry and keep
the relay well below the broker's rate. The outbox rows stay (the record of
what was sent) until housekeeping deletes the published ones past their
retention; see ``eventstore`` and ``housekeeping``.

Only one relay per service publishes at a time (a lease row), so two worker
processes cannot interleave the same events out of order.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from guidance_shared.eventstore import outbox_table, published_position, relay_cursor_table
from guidance_shared.metrics import KernelMetrics
from guidance_shared.transport.base import Producer, PublishError, Record, TransportError

log = structlog.get_logger(__name__)

LEASE_METADATA = MetaData()
lease_table = Table(
    "es_relay_lease",
    LEASE_METADATA,
    Column("name", String(64), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("expires_at", String(40), nullable=False),
)


class Lease:
    """A time-boxed claim on a named job, renewed while the holder lives."""

    def __init__(self, engine: Engine, name: str, ttl: timedelta = timedelta(seconds=15)) -> None:
        self.engine = engine
        self.name = name
        self.ttl = ttl
        self.owner = str(uuid.uuid4())

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live holder has it."""
        now = datetime.now(UTC)
        expires = (now + self.ttl).isoformat()
        with self.engine.begin() as conn:
            row = conn.execute(select(lease_table).where(lease_table.c.name == self.name)).first()
            if row is None:
                return self._insert(conn, expires)
            if row.owner != self.owner and datetime.fromisoformat(row.expires_at) > now:
                return False
            conn.execute(
                update(lease_table).where(lease_table.c.name == self.name).values(owner=self.owner, expires_at=expires)
            )
            return True

    def _insert(self, conn: Connection, expires: str) -> bool:
        try:
            with conn.begin_nested():
                conn.execute(insert(lease_table).values(name=self.name, owner=self.owner, expires_at=expires))
        except IntegrityError:
            return False
        return True

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(lease_table)
                .where(lease_table.c.name == self.name, lease_table.c.owner == self.owner)
                .values(expires_at=datetime.fromtimestamp(0, UTC).isoformat())
            )


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        producer: Producer,
        *,
        batch_size: int = 1000,
        metrics: KernelMetrics | None = None,
        lease_name: str = "outbox-relay",
    ) -> None:
        self.engine = engine
        self.producer = producer
        self.batch_size = batch_size
        self.metrics = metrics
        self.lease = Lease(engine, lease_name)

    def pending(self) -> int:
        return pending_count(self.engine)

    def run_once(self) -> int:
        """Publish one batch of pending rows; return how many were published (0 when idle)."""
        with self.engine.connect() as conn:
            after = published_position(conn)
            rows = list(conn.execute(_SELECT_AFTER, {"after": after, "limit": self.batch_size}))
        if not rows:
            return 0
        records = [
            Record(
                topic=row.topic,
                key=row.key.encode("utf-8"),
                value=row.value.encode("utf-8"),
                headers=tuple((k, v.encode("utf-8")) for k, v in json.loads(row.headers).items()),
            )
            for row in rows
        ]
        self.producer.publish(records)  # returns only after every record is acknowledged
        with self.engine.begin() as conn:
            conn.execute(_ADVANCE, {"last": rows[-1].position, "at": datetime.now(UTC).isoformat()})
        if self.metrics:
            self.metrics.relay_published.inc(len(rows))
        return len(rows)

    def drain(self, timeout_s: float = 60.0) -> int:
        """Publish until nothing is pending (tests, shutdown); raise TimeoutError if it can't."""
        deadline = time.monotonic() + timeout_s
        total = 0
        while time.monotonic() < deadline:
            try:
                published = self.run_once()
            except TransportError:
                time.sleep(0.5)
                continue
            if published == 0:
                return total
            total += published
        raise TimeoutError(f"outbox not drained within {timeout_s}s; {self.pending()} rows pending")

    def run_forever(self, stop: threading.Event, *, idle_sleep: float = 0.2, max_backoff: float = 10.0) -> None:
        backoff = idle_sleep
        while not stop.is_set():
            if not self.lease.acquire():
                stop.wait(self.lease.ttl.total_seconds() / 3)
                continue
            try:
                published = self.run_once()
                backoff = idle_sleep
            except PublishError as exc:
                log.warning("relay.publish_failed", error=str(exc), retry_in_s=backoff)
                published = 0
                backoff = min(backoff * 2, max_backoff)
            except TransportError as exc:
                log.warning("relay.transport_unavailable", error=str(exc), retry_in_s=backoff)
                published = 0
                backoff = min(backoff * 2, max_backoff)
            if self.metrics:
                self.metrics.outbox_pending.set(self.pending())
            if published == 0:
                stop.wait(backoff)
        self.lease.release()


_SELECT_AFTER = (
    select(
        outbox_table.c.position, outbox_table.c.topic, outbox_table.c.key, outbox_table.c.headers, outbox_table.c.value
    )
    .where(outbox_table.c.position > bindparam("after"))
    .order_by(outbox_table.c.position)
    .limit(bindparam("limit"))
)
# Only forward: a relay that lost its lease mid-batch and finishes late cannot move the cursor back.
_ADVANCE = (
    update(relay_cursor_table)
    .where(relay_cursor_table.c.id == 1, relay_cursor_table.c.last_position < bindparam("last"))
    .values(last_position=bindparam("last"), updated_at=bindparam("at"))
)


def pending_count(engine: Engine) -> int:
    """Outbox rows the log has not acknowledged yet: those after the relay cursor."""
    with engine.connect() as conn:
        after = published_position(conn)
        query = select(func.count()).select_from(outbox_table).where(outbox_table.c.position > after)
        return int(conn.execute(query).scalar_one())
