"""assessment's read model of its own periods and scorecards, updated in the transaction that appends
their events, from those events alone (so it can be rebuilt from the event store).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Column, Connection, Date, Float, Integer, MetaData, String, Table, Text, delete, insert, select

from guidance_assessment.domain.period import DELIVERABLE, EXTERNAL, OPENED, PUBLISHED, REVISED
from guidance_shared.eventstore import StoredEvent

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


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def apply(conn: Connection, events: Iterable[StoredEvent]) -> None:
    for event in events:
        d = event.data
        if event.type == OPENED:
            conn.execute(
                insert(periods).values(
                    period_id=event.stream_id,
                    year=d["year"],
                    starts_on=_day(d["starts_on"]),
                    ends_on=_day(d["ends_on"]),
                    rubric=json.dumps(d.get("rubric_config") or {}, ensure_ascii=False),
                    department_ids=json.dumps([str(x) for x in d.get("department_ids") or []]),
                    opened_at=_text(d["opened_at"]),
                    version=event.version,
                )
            )
        elif event.type == EXTERNAL:
            key = (externals.c.period_id == event.stream_id) & (externals.c.department_id == str(d["department_id"]))
            conn.execute(delete(externals).where(key))
            conn.execute(
                insert(externals).values(
                    period_id=event.stream_id,
                    department_id=str(d["department_id"]),
                    score=float(d["score"]),
                    method=d["method"],
                    event_id=event.event_id,
                    recorded_at=_text(d["recorded_at"]),
                )
            )
        elif event.type == DELIVERABLE:
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
                    done_on=_day(d["done_on"]),
                    evidence=d["evidence"],
                    event_id=event.event_id,
                    recorded_at=_text(d["recorded_at"]),
                )
            )
        elif event.type in (PUBLISHED, REVISED):
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
                    published_at=_text(d["published_at"]),
                    event_id=event.event_id,
                )
            )
        if event.type in (EXTERNAL, DELIVERABLE):
            conn.execute(periods.update().where(periods.c.period_id == event.stream_id).values(version=event.version))


# -- reads -------------------------------------------------------------------------------------
def period(conn: Connection, year: int) -> dict[str, Any] | None:
    row = conn.execute(select(periods).where(periods.c.year == year)).first()
    if row is None:
        return None
    item = dict(row._mapping)
    item["rubric"] = json.loads(item["rubric"])
    item["department_ids"] = json.loads(item["department_ids"])
    return item


def all_periods(conn: Connection) -> list[dict[str, Any]]:
    return [p for (year,) in conn.execute(select(periods.c.year).order_by(periods.c.year)) if (p := period(conn, year))]


def externals_of(conn: Connection, period_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(externals).where(externals.c.period_id == period_id).order_by(externals.c.department_id))
    return [dict(r._mapping) for r in rows]


def deliverables_of(conn: Connection, period_id: str, department_id: str | None = None) -> list[dict[str, Any]]:
    query = select(deliverables).where(deliverables.c.period_id == period_id)
    if department_id is not None:
        query = query.where(deliverables.c.department_id == department_id)
    rows = conn.execute(query.order_by(deliverables.c.department_id, deliverables.c.deliverable))
    return [dict(r._mapping) for r in rows]


def versions(conn: Connection, period_id: str, department_id: str | None = None) -> list[dict[str, Any]]:
    """Every published version, oldest first per department."""
    query = select(scorecards).where(scorecards.c.period_id == period_id)
    if department_id is not None:
        query = query.where(scorecards.c.department_id == department_id)
    out = []
    for row in conn.execute(query.order_by(scorecards.c.department_id, scorecards.c.version)):
        item = dict(row._mapping)
        for key in ("indicators", "differences", "new_source_event_ids"):
            item[key] = json.loads(item[key])
        out.append(item)
    return out


def latest(conn: Connection, period_id: str) -> dict[str, dict[str, Any]]:
    """The latest published version of each department's scorecard."""
    return {v["department_id"]: v for v in versions(conn, period_id)}
