"""assessment's read model of its own periods and scorecards, updated in the transaction that appends
their events, from those events alone (so it can be rebuilt from the event store). Each event type has
its one function in ``APPLIERS``; the reads of these tables are in ``queries.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from sqlalchemy import Column, Connection, Date, Float, Integer, MetaData, String, Table, Text, delete, insert

from guidance_shared import catalogue
from guidance_shared.dates import as_date, iso
from guidance_shared.dispatch import EventHandlers
from guidance_shared.messages import StoredEvent

READ_MODEL = MetaData()

periods = Table(
    "assessment_periods",
    READ_MODEL,
    Column("period_id", String(36), primary_key=True),
    Column("year", Integer, nullable=False, unique=True),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("rubric", Text, nullable=False),  # JSON: the rubric the period keeps
    Column("department_ids", Text, nullable=False),  # JSON list; empty = every department seen
    Column("opened_at", String(40), nullable=False),
    Column("version", Integer, nullable=False),
)
externals = Table(
    "assessment_externals",
    READ_MODEL,
    Column("period_id", String(36), primary_key=True),
    Column("department_id", String(36), primary_key=True),
    Column("score", Float, nullable=False),
    Column("method", String(100), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("recorded_at", String(40), nullable=False),
)
deliverables = Table(
    "assessment_deliverables",
    READ_MODEL,
    Column("period_id", String(36), primary_key=True),
    Column("department_id", String(36), primary_key=True),
    Column("deliverable", String(64), primary_key=True),
    Column("done_on", Date, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("recorded_at", String(40), nullable=False),
)
scorecards = Table(
    "assessment_scorecards",
    READ_MODEL,
    Column("scorecard_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("period_id", String(36), nullable=False, index=True),
    Column("department_id", String(36), nullable=False, index=True),
    Column("score", Float, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("indicators", Text, nullable=False),  # JSON, as published
    Column("differences", Text, nullable=False),  # JSON list; [] for version 1
    Column("new_source_event_ids", Text, nullable=False),  # JSON list
    Column("published_at", String(40), nullable=False),
    Column("event_id", String(36), nullable=False),
)


def apply(conn: Connection, events: Iterable[StoredEvent]) -> None:
    for event in events:
        APPLIERS[event.type](conn, event)


def _opened(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    conn.execute(
        insert(periods).values(
            period_id=event.stream_id,
            year=d["year"],
            starts_on=as_date(d["starts_on"]),
            ends_on=as_date(d["ends_on"]),
            rubric=json.dumps(d.get("rubric_config") or {}, ensure_ascii=False),
            department_ids=json.dumps([str(x) for x in d.get("department_ids") or []]),
            opened_at=iso(d["opened_at"]),
            version=event.version,
        )
    )


def _external(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    key = (externals.c.period_id == event.stream_id) & (externals.c.department_id == str(d["department_id"]))
    conn.execute(delete(externals).where(key))
    conn.execute(
        insert(externals).values(
            period_id=event.stream_id,
            department_id=str(d["department_id"]),
            score=float(d["score"]),
            method=d["method"],
            event_id=event.event_id,
            recorded_at=iso(d["recorded_at"]),
        )
    )
    _period_version(conn, event)


def _deliverable(conn: Connection, event: StoredEvent) -> None:
    d = event.data
    key = (
        (deliverables.c.period_id == event.stream_id)
        & (deliverables.c.department_id == str(d["department_id"]))
        & (deliverables.c.deliverable == d["deliverable"])
    )
    conn.execute(delete(deliverables).where(key))
    conn.execute(
        insert(deliverables).values(
            period_id=event.stream_id,
            department_id=str(d["department_id"]),
            deliverable=d["deliverable"],
            done_on=as_date(d["done_on"]),
            evidence=d["evidence"],
            event_id=event.event_id,
            recorded_at=iso(d["recorded_at"]),
        )
    )
    _period_version(conn, event)


def _period_version(conn: Connection, event: StoredEvent) -> None:
    conn.execute(periods.update().where(periods.c.period_id == event.stream_id).values(version=event.version))


def _version(conn: Connection, event: StoredEvent) -> None:
    """A scorecard version (published: 1, revised: the next), with its differences from the one before."""
    d = event.data
    conn.execute(
        insert(scorecards).values(
            scorecard_id=event.stream_id,
            version=int(d.get("version", 1)),
            period_id=str(d["period_id"]),
            department_id=str(d["department_id"]),
            score=float(d["score"]),
            rank=int(d["rank"]),
            indicators=json.dumps(d["indicators"], ensure_ascii=False, sort_keys=True),
            differences=json.dumps(d.get("differences") or [], ensure_ascii=False),
            new_source_event_ids=json.dumps([str(x) for x in d.get("new_source_event_ids") or []]),
            published_at=iso(d["published_at"]),
            event_id=event.event_id,
        )
    )


APPLIERS: EventHandlers[Callable[[Connection, StoredEvent], None]] = EventHandlers(
    {
        catalogue.ASSESSMENT_PERIOD_OPENED: _opened,
        catalogue.EXTERNAL_EVALUATION_RECORDED: _external,
        catalogue.ROLLOUT_DELIVERABLE_RECORDED: _deliverable,
        catalogue.SCORECARD_PUBLISHED: _version,
        catalogue.SCORECARD_REVISED: _version,
    }
)
