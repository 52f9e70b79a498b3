"""Housekeeping: keeps the outbox and the idempotency table bounded (the worker runs it periodically).

Published outbox rows are deleted once older than the retention. A row is
published exactly when its position is at most the relay cursor
(``es_relay_cursor``), and the cursor only moves forward, so the delete names
the cursor inside its own statement: a row above it is never touched, however
the purge and the relay interleave. A row's age is its event's ``occurred_at``
(the kernel sets it when it appends). Each batch is one short transaction of
at most ``batch_size`` rows: a purge killed at any point rolls back at most
one batch of already-published rows and leaves every unpublished row, the
cursor and the event store (``verify``) as they were.

Idempotency records older than their time to live are forgotten the same
way, in batches (``web.idempotency.purge_expired``); a retry after that runs
the view again.

Every worker replica may run it: the deletes are idempotent, and a batch that
loses a race to another replica just deletes fewer rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import Engine, delete, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from guidance_shared.eventstore import events_table, outbox_table, relay_cursor_table
from guidance_shared.web.idempotency import idempotency_keys, purge_expired

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class HousekeepingReport:
    outbox_deleted: int = 0
    idempotency_deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"outbox_deleted": self.outbox_deleted, "idempotency_deleted": self.idempotency_deleted}


def purge_outbox_batch(engine: Engine, cutoff: datetime, batch_size: int) -> int:
    """Delete at most ``batch_size`` published outbox rows whose event occurred before ``cutoff``."""
    cursor = select(relay_cursor_table.c.last_position).where(relay_cursor_table.c.id == 1).scalar_subquery()
    with engine.begin() as conn:
        lowest = conn.execute(select(func.min(outbox_table.c.position))).scalar()
        if lowest is None:
            return 0
        # Both tables start at the outbox's lowest row, so a batch never walks the events purged before it.
        victims = (
            select(outbox_table.c.position)
            .join(events_table, events_table.c.position == outbox_table.c.position)
            .where(
                outbox_table.c.position >= lowest,
                events_table.c.position >= lowest,
                outbox_table.c.position <= cursor,
                events_table.c.occurred_at < cutoff.astimezone(UTC).isoformat(),
            )
            .order_by(outbox_table.c.position)
            .limit(batch_size)
        )
        # The cursor is named again outside the subquery: whatever a planner does, only published rows go.
        statement = delete(outbox_table).where(
            outbox_table.c.position.in_(victims.scalar_subquery()), outbox_table.c.position <= cursor
        )
        return int(conn.execute(statement).rowcount)


def purge_published_outbox(
    engine: Engine,
    older_than: timedelta,
    *,
    batch_size: int = 1000,
    now: datetime | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Delete published outbox rows older than ``older_than``, batch by batch; return how many went."""
    cutoff = (now or datetime.now(UTC)) - older_than
    total = 0
    while stop is None or not stop.is_set():
        deleted = purge_outbox_batch(engine, cutoff, batch_size)
        total += deleted
        if deleted < batch_size:
            break
    return total


class Housekeeping:
    """One service's housekeeping: the outbox (if it keeps an event store) and idempotency records (if any)."""

    def __init__(
        self,
        engine: Engine,
        *,
        outbox: bool,
        outbox_retention: timedelta,
        idempotency_ttl: timedelta,
        batch_size: int = 1000,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.outbox_retention = outbox_retention
        self.idempotency_ttl = idempotency_ttl
        self.batch_size = batch_size

    def run_once(self, *, now: datetime | None = None, stop: threading.Event | None = None) -> HousekeepingReport:
        outbox_deleted = 0
        if self.outbox:
            outbox_deleted = purge_published_outbox(
                self.engine, self.outbox_retention, batch_size=self.batch_size, now=now, stop=stop
            )
        idempotency_deleted = 0
        # The web process creates the table; a worker started first finds none yet.
        if inspect(self.engine).has_table(idempotency_keys.name):
            idempotency_deleted = purge_expired(
                self.engine, self.idempotency_ttl, batch_size=self.batch_size, now=now, stop=stop
            )
        return HousekeepingReport(outbox_deleted, idempotency_deleted)

    def run_forever(self, stop: threading.Event, interval_s: float) -> None:
        """A pass at start, then one every ``interval_s``; a failed pass is logged and tried at the next."""
        while not stop.is_set():
            try:
                report = self.run_once(stop=stop)
                log.info("housekeeping.done", **report.as_dict())
            except SQLAlchemyError as exc:
                log.warning("housekeeping.failed", error=str(exc), retry_in_s=interval_s)
            stop.wait(interval_s)
