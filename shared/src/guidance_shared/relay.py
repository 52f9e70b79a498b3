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

An idle relay waits on a doorbell (``guidance_shared.transport.doorbell``) that every transaction
writing outbox rows rings once it commits (``install_outbox_bell``), in this process or another, so
an event leaves within milliseconds of its command; without a ring it still looks every
``idle_s``, so a lost ring delays an event by at most that, and never loses it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from guidance_shared.db import reading
from guidance_shared.eventstore import OUTBOX_WRITTEN, outbox_table, published_position, relay_cursor_table
from guidance_shared.metrics import KernelMetrics
from guidance_shared.transport.base import Producer, PublishError, Record, TransportError
from guidance_shared.transport.doorbell import Doorbell, ring_path, socket_path_beside

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


LEASE_RENEWAL_S = 1.0


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        producer: Producer,
        *,
        batch_size: int = 1000,
        metrics: KernelMetrics | None = None,
        lease_name: str = "outbox-relay",
        doorbell: Doorbell | None = None,
    ) -> None:
        self.engine = engine
        self.producer = producer
        self.batch_size = batch_size
        self.metrics = metrics
        self.lease = Lease(engine, lease_name)
        self.doorbell = doorbell  # rung when outbox rows commit; None: look every idle_s
        self._lease_renewed_at = -1e9

    def pending(self) -> int:
        return pending_count(self.engine)

    def run_once(self) -> int:
        """Publish one batch of pending rows; return how many were published (0 when idle)."""
        # A snapshot read (no write lock on SQLite, where commands would queue behind it): positions
        # are handed out in commit order, so the snapshot holds every row up to its last, none missing.
        with reading(self.engine) as conn:
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

    def run_forever(
        self, stop: threading.Event, *, idle_s: float = 0.2, retry_s: float = 0.2, max_backoff: float = 10.0
    ) -> None:
        """Publish until ``stop``. Idle, wait for the doorbell up to ``idle_s`` (without a doorbell, sleep
        that long); after a failed publish, back off from ``retry_s`` (rings do not cut a back-off short:
        commits keep coming while the log is away). Whoever sets ``stop`` rings the doorbell too."""
        backoff = retry_s
        renew_every = self.lease.ttl.total_seconds() / 3
        while not stop.is_set():
            # Renewed before publishing, as ever, but at most once a second: with a doorbell the loop turns
            # once per commit, and each renewal is a write that commands would queue behind on SQLite.
            if time.monotonic() - self._lease_renewed_at >= LEASE_RENEWAL_S:
                if not self.lease.acquire():
                    self._lease_renewed_at = -1e9
                    stop.wait(renew_every)
                    continue
                self._lease_renewed_at = time.monotonic()
            failed = False
            try:
                published = self.run_once()
                backoff = retry_s
            except PublishError as exc:
                log.warning("relay.publish_failed", error=str(exc), retry_in_s=backoff)
                published, failed = 0, True
            except TransportError as exc:
                log.warning("relay.transport_unavailable", error=str(exc), retry_in_s=backoff)
                published, failed = 0, True
            if self.metrics and (published or failed):
                self.metrics.outbox_pending.set(self.pending())
            if failed:
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
            elif published == 0:
                if self.doorbell is not None:
                    self.doorbell.wait(idle_s)
                else:
                    stop.wait(idle_s)
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
    with reading(engine) as conn:
        after = published_position(conn)
        query = select(func.count()).select_from(outbox_table).where(outbox_table.c.position > after)
        return int(conn.execute(query).scalar_one())


OUTBOX_COMMITTED = "guidance_outbox_committed"  # ... and committed: ring once the commit has returned


def notify_channel(service: str) -> str:
    """The PostgreSQL channel a service's outbox commits are announced on."""
    return f"guidance_outbox_{service}"


def install_outbox_bell(engine: Engine, doorbell: Doorbell | None, *, channel: str) -> None:
    """Ring the relay whenever a transaction on ``engine`` that inserted outbox rows commits (the event
    store, their one writer, marks its connection: ``eventstore.OUTBOX_WRITTEN``).

    ``doorbell`` is rung in this process; other processes hear of it by NOTIFY ``channel`` on PostgreSQL,
    sent inside the transaction (delivered at its commit, dropped with its rollback), and by a datagram
    to the socket beside the database file on SQLite (``doorbell.socket_path_beside``). A SQLite ring
    must follow the commit, or the relay could look before the rows are visible and sleep again; the
    commit event fires before it, so the ring waits for the connection's next ``begin`` or its return
    to the pool, whichever comes first (a ``with engine.begin()`` block returns it at once).
    """
    postgres = engine.dialect.name == "postgresql"
    path = None if postgres else socket_path_beside(engine.url.database)

    def ring() -> None:
        if doorbell is not None:
            doorbell.ring()
        ring_path(path)

    @event.listens_for(engine, "commit")
    def _committing(conn: Connection) -> None:
        if not conn.info.pop(OUTBOX_WRITTEN, False):
            return
        if postgres:
            # On the driver's connection: a statement through ``conn`` here would re-enter the transaction
            # that is committing.
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute("SELECT pg_notify(%s, '')", (channel,))
            finally:
                cursor.close()
        conn.info[OUTBOX_COMMITTED] = True

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn: Connection) -> None:
        conn.info.pop(OUTBOX_WRITTEN, None)

    @event.listens_for(engine, "begin")
    def _next_begin(conn: Connection) -> None:
        if conn.info.pop(OUTBOX_COMMITTED, False):
            ring()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(OUTBOX_COMMITTED, False):
            ring()
