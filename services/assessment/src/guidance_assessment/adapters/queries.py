"""The read side of assessment: the SELECTs behind its pages and its commands, as typed rows.

Its own periods, external scores, deliverables and scorecard versions (``read_model.py``), and what
the consumer built from the four topics (``projection.py``): facts, activity counts, names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from guidance_assessment.adapters.projection import activity, facts, names
from guidance_assessment.adapters.read_model import deliverables, externals, periods, scorecards
from guidance_assessment.domain.facts import Fact
from guidance_assessment.domain.scoring import Difference, IndicatorResult


@dataclass(frozen=True)
class Period:
    period_id: str
    year: int
    starts_on: date
    ends_on: date
    rubric: Mapping[str, Any]  # the rubric document the period keeps; empty: the configured one
    department_ids: list[str]  # empty: every department seen
    opened_at: str
    version: int


@dataclass(frozen=True)
class ExternalScore:
    period_id: str
    department_id: str
    score: float
    method: str
    event_id: str
    recorded_at: str


@dataclass(frozen=True)
class RecordedDeliverable:
    period_id: str
    department_id: str
    deliverable: str
    done_on: date
    evidence: str
    event_id: str
    recorded_at: str


@dataclass(frozen=True)
class ScorecardVersion:
    scorecard_id: str
    version: int
    period_id: str
    department_id: str
    score: float
    rank: int
    indicators: dict[str, IndicatorResult]
    differences: list[Difference]  # [] for version 1
    new_source_event_ids: list[str]
    published_at: str
    event_id: str


# -- periods and scorecards -------------------------------------------------------------------------
def period(conn: Connection, year: int) -> Period | None:
    row = conn.execute(select(periods).where(periods.c.year == year)).first()
    if row is None:
        return None
    return Period(
        period_id=row.period_id,
        year=row.year,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        rubric=json.loads(row.rubric),
        department_ids=json.loads(row.department_ids),
        opened_at=row.opened_at,
        version=row.version,
    )


def all_periods(conn: Connection) -> list[Period]:
    return [p for (year,) in conn.execute(select(periods.c.year).order_by(periods.c.year)) if (p := period(conn, year))]


def externals_of(conn: Connection, period_id: str) -> list[ExternalScore]:
    rows = conn.execute(select(externals).where(externals.c.period_id == period_id).order_by(externals.c.department_id))
    return [ExternalScore(**r._mapping) for r in rows]


def deliverables_of(conn: Connection, period_id: str, department_id: str | None = None) -> list[RecordedDeliverable]:
    query = select(deliverables).where(deliverables.c.period_id == period_id)
    if department_id is not None:
        query = query.where(deliverables.c.department_id == department_id)
    rows = conn.execute(query.order_by(deliverables.c.department_id, deliverables.c.deliverable))
    return [RecordedDeliverable(**r._mapping) for r in rows]


def versions(conn: Connection, period_id: str, department_id: str | None = None) -> list[ScorecardVersion]:
    """Every published version, oldest first per department."""
    query = select(scorecards).where(scorecards.c.period_id == period_id)
    if department_id is not None:
        query = query.where(scorecards.c.department_id == department_id)
    out = []
    for row in conn.execute(query.order_by(scorecards.c.department_id, scorecards.c.version)):
        item = dict(row._mapping)
        for key in ("indicators", "differences", "new_source_event_ids"):
            item[key] = json.loads(item[key])
        out.append(ScorecardVersion(**item))
    return out


def latest(conn: Connection, period_id: str) -> dict[str, ScorecardVersion]:
    """The latest published version of each department's scorecard."""
    return {v.department_id: v for v in versions(conn, period_id)}


# -- what the consumer built ------------------------------------------------------------------------
def facts_of(conn: Connection, department_ids: Iterable[str] | None = None) -> dict[str, list[Fact]]:
    """Facts by department: of the given departments, or of every department seen."""
    query = select(facts.c.department_id, facts.c.data).order_by(facts.c.kind, facts.c.subject_id)
    if department_ids is not None:
        query = query.where(facts.c.department_id.in_(list(department_ids)))
    out: dict[str, list[Fact]] = {}
    for row in conn.execute(query):
        out.setdefault(row.department_id, []).append(json.loads(row.data))
    return out


def facts_dump(conn: Connection) -> list[dict[str, str]]:
    """Every fact row (kind, subject, department, JSON), in key order: what a replay must reproduce."""
    rows = conn.execute(select(facts).order_by(facts.c.kind, facts.c.subject_id))
    return [dict(r._mapping) for r in rows]


def activity_counts(conn: Connection, department_id: str, year: int) -> dict[str, int]:
    """Event name → how many of them the department caused in the year (China's calendar)."""
    rows = conn.execute(
        select(activity.c.event_name, activity.c.count)
        .where(activity.c.department_id == department_id, activity.c.year == year)
        .order_by(activity.c.event_name)
    )
    return {row.event_name: int(row._mapping["count"]) for row in rows}


def department_names(conn: Connection) -> dict[str, str]:
    """Department id → the agency's name as intake's latest event about it carried it."""
    return {row.department_id: row.name for row in conn.execute(select(names))}
