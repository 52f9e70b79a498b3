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
processes cannot interleave the same events out of order. A lease alone is a
promise in time, and a process can outlive it without knowing (stopped by
SIGSTOP, swapped out, a long pause of the host): so each holding of the lease
carries a fencing token, its ``epoch``, raised by one at every takeover. The
holder checks its epoch in the snapshot it reads a batch from and again, with
the lease row locked, in the transaction that moves the cursor; a relay whose
epoch is no longer the lease's (``Fenced``) moves nothing, stops publishing and
goes back to acquiring. What a fence cannot stop is a batch already handed to
the log before the pause: it arrives late, as duplicates of records the new
holder sent first, which consumers drop by event id (ADR 0001, "Fencing").

An idle relay waits on a doorbell (``guidance_shared.transport.doorbell``) that every transaction
writing outbox rows rings once it commits (``install_outbox_bell``), in this process or another, so
an event leaves within milliseconds of its command; without a ring it still looks every
``idle_s``, so a lost ring delays an event by at most that, and never loses it.
"""

from __future__ import annotations

import functools
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
    Integer,
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
    # The fencing token: raised by one each time another owner takes the lease over.
    Column("epoch", Integer, nullable=False, server_default="0"),
)


class Fenced(RuntimeError):
    """The lease is no longer this holder's (another took it over, raising the epoch, or it lapsed
    unrenewed): whatever it was about to do as the holder, it must not."""


class Lease:
    """A time-boxed claim on a named job, renewed while the holder lives, with a fencing token.

    ``epoch`` is the token of this holder's current holding (None before the first ``acquire``). A
    holder that was paused past its expiry learns it lost the lease from ``check`` (the row's epoch or
    owner changed) or from ``fresh`` (its own clock says the expiry may have passed since it renewed)."""

    def __init__(self, engine: Engine, name: str, ttl: timedelta = timedelta(seconds=15)) -> None:
        self.engine = engine
        self.name = name
        self.ttl = ttl
        self.owner = str(uuid.uuid4())
        self.epoch: int | None = None
        self._renewed_at = -1e9  # monotonic time just before the last successful acquire began

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live holder has it.

        A takeover is a compare-and-set on the owner and epoch it saw, so of two relays that both find
        the lease expired exactly one wins (on PostgreSQL the loser's UPDATE waits for the winner's and
        then matches no row; on SQLite ``BEGIN IMMEDIATE`` serialises them)."""
        started = time.monotonic()
        now = datetime.now(UTC)
        expires = (now + self.ttl).isoformat()
        with self.engine.begin() as conn:
            row = conn.execute(_lease_row(self.name, lock=self._locks())).first()
            if row is None:
                if not self._insert(conn, expires):
                    return False
                self.epoch = 1
            elif row.owner == self.owner:
                # Renewing (also after a lapse nobody used: no one else held it, so the token stands).
                conn.execute(_RENEW, {"lease_name": self.name, "holder": self.owner, "expires": expires})
                self.epoch = int(row.epoch)
            elif datetime.fromisoformat(row.expires_at) > now:
                return False
            else:
                taken = conn.execute(
                    _TAKE_OVER,
                    {
                        "lease_name": self.name,
                        "seen_owner": row.owner,
                        "seen_epoch": row.epoch,
                        "holder": self.owner,
                        "expires": expires,
                        "next_epoch": int(row.epoch) + 1,
                    },
                )
                if taken.rowcount != 1:
                    return False
                self.epoch = int(row.epoch) + 1
        self._renewed_at = started
        return True

    def _insert(self, conn: Connection, expires: str) -> bool:
        try:
            with conn.begin_nested():
                conn.execute(insert(lease_table).values(name=self.name, owner=self.owner, expires_at=expires, epoch=1))
        except IntegrityError:
            return False
        return True

    def fresh(self) -> bool:
        """By this process's own clock, the lease cannot have expired since it was last acquired."""
        return time.monotonic() - self._renewed_at < self.ttl.total_seconds()

    def check(self, conn: Connection, *, lock: bool = False) -> None:
        """Raise ``Fenced`` unless the lease row still names this holder and its epoch. With ``lock``
        (inside a writing transaction), the row stays locked until the transaction ends, so a takeover
        waits for it (PostgreSQL; on SQLite the transaction already holds the write lock)."""
        row = conn.execute(_lease_row(self.name, lock=lock and self._locks())).first()
        if row is None or row.owner != self.owner or row.epoch != self.epoch:
            seen = None if row is None else int(row.epoch)
            raise Fenced(f"lease {self.name!r} epoch {self.epoch} was taken over (now {seen})")

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(lease_table)
                .where(lease_table.c.name == self.name, lease_table.c.owner == self.owner)
                .values(expires_at=datetime.fromtimestamp(0, UTC).isoformat())
            )
        self._renewed_at = -1e9

    def _locks(self) -> bool:
        return self.engine.dialect.name == "postgresql"


@functools.cache
def _lease_row(name: str, *, lock: bool) -> Any:
    """The lease's row, read before and after every batch the relay publishes: built once per lease and mode."""
    query = select(lease_table.c.owner, lease_table.c.expires_at, lease_table.c.epoch).where(lease_table.c.name == name)
    return query.with_for_update() if lock else query


_RENEW = (
    update(lease_table)
    .where(lease_table.c.name == bindparam("lease_name"), lease_table.c.owner == bindparam("holder"))
    .values(expires_at=bindparam("expires"))
)
_TAKE_OVER = (
    update(lease_table)
    .where(
        lease_table.c.name == bindparam("lease_name"),
        lease_table.c.owner == bindparam("seen_owner"),
        lease_table.c.epoch == bindparam("seen_epoch"),
    )
    .values(owner=bindparam("holder"), expires_at=bindparam("expires"), epoch=bindparam("next_epoch"))
)


LEASE_RENEWAL_S = 1.0


class OutboxRelay:
    """Publishes the outbox in position order. ``run_forever`` (the worker's relay) publishes only as the
    lease's holder, fenced by its epoch; ``run_once`` and ``drain`` called directly, without ever taking
    the lease, publish unfenced (tests, and one-shot tools where no worker runs)."""

    def __init__(
        self,
        engine: Engine,
        producer: Producer,
        *,
        batch_size: int = 1000,
        metrics: KernelMetrics | None = None,
        lease_name: str = "outbox-relay",
        lease_ttl: timedelta = timedelta(seconds=15),
        doorbell: Doorbell | None = None,
    ) -> None:
        self.engine = engine
        self.producer = producer
        self.batch_size = batch_size
        self.metrics = metrics
        self.lease = Lease(engine, lease_name, lease_ttl)
        self.doorbell = doorbell  # rung when outbox rows commit; None: look every idle_s
        self._lease_renewed_at = -1e9

    def pending(self) -> int:
        return pending_count(self.engine)

    def run_once(self) -> int:
        """Publish one batch of pending rows; return how many were published (0 when idle). As the lease's
        holder, raise ``Fenced`` instead of publishing or moving the cursor once the lease is not its own."""
        fenced = self.lease.epoch is not None
        # A snapshot read (no write lock on SQLite, where commands would queue behind it): positions
        # are handed out in commit order, so the snapshot holds every row up to its last, none missing.
        with reading(self.engine) as conn:
            if fenced:
                self.lease.check(conn)
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
        if fenced and not self.lease.fresh():
            # Paused (or slowed) past the lease since it was renewed: another relay may be publishing.
            raise Fenced(f"lease {self.lease.name!r} may have expired since it was renewed")
        self.producer.publish(records)  # returns only after every record is acknowledged
        with self.engine.begin() as conn:
            if fenced:
                # Locked until the commit: a takeover cannot slip in between the check and the move.
                self.lease.check(conn, lock=True)
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
        commits keep coming while the log is away). Whoever sets ``stop`` rings the doorbell too.
        Fenced (the lease was taken over, or may have lapsed), it publishes nothing more until it has
        acquired the lease again."""
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
            except Fenced as exc:
                log.warning("relay.fenced", reason=str(exc), epoch=self.lease.epoch)
                self._lease_renewed_at = -1e9  # acquire again before anything else
                continue
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
        return int(conn.execute(_PENDING, {"after": published_position(conn)}).scalar_one())


#: read after every published batch for the pending-rows gauge
_PENDING = select(func.count()).select_from(outbox_table).where(outbox_table.c.position > bindparam("after"))


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
