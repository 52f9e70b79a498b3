"""Command handlers and queries of assessment: one function each, inside the caller's transaction.

The live standing of a period is computed on demand from the facts projection (what the consumer
built from the four topics) and the period's own records (deliverables, external scores); publishing
freezes it as version 1 of each department's scorecard; ``revise`` compares a published period with
its live standing and appends the next version, with the differences, for every scorecard that moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection

from guidance_assessment.adapters import read_model
from guidance_assessment.domain.facts import Fact, days_of
from guidance_assessment.domain.indicators import Deliverable, External, Window, activity
from guidance_assessment.domain.period import (
    DELIVERABLE,
    EXTERNAL,
    OPENED,
    PUBLISHED,
    REVISED,
    AssessmentPeriod,
    Scorecard,
    period_id_of,
    scorecard_id_of,
)
from guidance_assessment.domain.rubric import Rubric
from guidance_assessment.domain.scoring import Scorecard as Card
from guidance_assessment.domain.scoring import differences, rounded, score_departments
from guidance_assessment.domain.sources import counted_sources
from guidance_assessment.projection import AssessmentProjection
from guidance_shared.aggregate import Aggregate
from guidance_shared.commands import save, valid_event_data
from guidance_shared.errors import NotFound
from guidance_shared.events.common import CHINA_TZ
from guidance_shared.events.registry import EventRegistry
from guidance_shared.eventstore import EventStore


@dataclass
class Assessments:
    store: EventStore
    registry: EventRegistry
    projection: AssessmentProjection
    rubric: Rubric  # for periods opened from now on; an open period keeps its own
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    names: dict[str, str] = field(default_factory=dict)  # department id → short name, for pages and tables
    learned: dict[str, str] = field(default_factory=dict)  # department id → name from the events

    def name_of(self, department_id: str) -> str:
        """The registry's short name, else the name the events carry, else the start of the id."""
        return self.names.get(department_id) or self.learned.get(department_id) or department_id[:8]

    def learn_names(self, conn: Connection) -> None:
        self.learned = self.projection.department_names(conn)

    def today(self) -> date:
        return self.now().astimezone(CHINA_TZ).date()


@dataclass(frozen=True)
class Standing:
    """A period's live figures: every department's scorecard, ranked, and what they were computed from."""

    period: dict[str, Any]
    rubric: Rubric
    window: Window
    ranked: list[tuple[int, Card]]

    def card(self, department_id: str) -> tuple[int, Card] | None:
        return next(((r, c) for r, c in self.ranked if c.department_id == department_id), None)


# -- commands ------------------------------------------------------------------------------------
def open_period(a: Assessments, conn: Connection, command: dict[str, Any], *, correlation_id: str | None = None) -> str:
    year = int(command["year"])
    period = AssessmentPeriod.from_history(period_id_of(year), a.store.load(period_id_of(year), conn=conn))
    data = {
        "period_id": period.period_id,
        "year": year,
        "starts_on": command.get("starts_on") or date(year, 1, 1),
        "ends_on": command.get("ends_on") or date(year, 12, 31),
        "rubric": {"name": a.rubric.name, "version": a.rubric.version, "weights": a.rubric.weights()},
        "department_ids": command.get("department_ids") or [],
        "rubric_config": a.rubric.source,
        "opened_at": a.now(),
    }
    period.open(valid_event_data(a.registry, OPENED, data))
    _save(a, conn, period, period.period_id, "AssessmentPeriod", correlation_id)
    return period.period_id


def record_external(
    a: Assessments, conn: Connection, year: int, department_id: str, command: dict[str, Any], **meta: Any
) -> None:
    period = load_period(a, conn, year)
    data = {**command, "period_id": period.period_id, "department_id": department_id, "recorded_at": a.now()}
    period.record_external(valid_event_data(a.registry, EXTERNAL, data))
    _save(a, conn, period, period.period_id, "AssessmentPeriod", meta.get("correlation_id"))


def record_deliverable(
    a: Assessments, conn: Connection, year: int, department_id: str, command: dict[str, Any], **meta: Any
) -> None:
    period = load_period(a, conn, year)
    data = {**command, "period_id": period.period_id, "department_id": department_id, "recorded_at": a.now()}
    period.record_deliverable(valid_event_data(a.registry, DELIVERABLE, data), rubric_of(a, period.rubric_config))
    _save(a, conn, period, period.period_id, "AssessmentPeriod", meta.get("correlation_id"))


def publish(a: Assessments, conn: Connection, year: int, *, correlation_id: str | None = None) -> int:
    """Freeze every department's live scorecard as version 1; a second publication is a 409."""
    standing = standings(a, conn, year)
    count = 0
    for rank, card in standing.ranked:
        _publish_card(a, conn, standing, rank, card, correlation_id)
        count += 1
    return count


def revise(a: Assessments, conn: Connection, year: int, *, correlation_id: str | None = None) -> int:
    """For a published period: the next version of every scorecard whose figures, score or rank moved."""
    standing = standings(a, conn, year)
    latest = read_model.latest(conn, standing.period["period_id"])
    if not latest:
        return 0
    count = 0
    for rank, card in standing.ranked:
        before = latest.get(card.department_id)
        if before is None:  # a department first seen after publication gets its first version
            _publish_card(a, conn, standing, rank, card, correlation_id)
            count += 1
            continue
        after = _published_body(rank, card)
        changes = differences(before, after)
        if not changes:
            continue
        scorecard = load_scorecard(a, conn, before["scorecard_id"])
        data = {
            **_scorecard_data(a, standing, scorecard.scorecard_id, card, after),
            "version": before["version"] + 1,
            "differences": changes,
            "new_source_event_ids": scorecard.newly_counted(_source_ids(card)),
        }
        scorecard.revise(valid_event_data(a.registry, REVISED, data))
        _save(a, conn, scorecard, scorecard.scorecard_id, "Scorecard", correlation_id)
        count += 1
    return count


def _publish_card(
    a: Assessments, conn: Connection, standing: Standing, rank: int, card: Card, correlation_id: str | None
) -> None:
    scorecard_id = scorecard_id_of(standing.period["period_id"], card.department_id)
    scorecard = load_scorecard(a, conn, scorecard_id)
    data = _scorecard_data(a, standing, scorecard_id, card, _published_body(rank, card))
    scorecard.publish(valid_event_data(a.registry, PUBLISHED, data))
    _save(a, conn, scorecard, scorecard_id, "Scorecard", correlation_id)


def _published_body(rank: int, card: Card) -> dict[str, Any]:
    return {"indicators": card.indicators(), "score": rounded(card.total, 2), "rank": rank}


def _scorecard_data(
    a: Assessments, standing: Standing, scorecard_id: str, card: Card, body: dict[str, Any]
) -> dict[str, Any]:
    return {
        "scorecard_id": scorecard_id,
        "period_id": standing.period["period_id"],
        "department_id": card.department_id,
        **body,
        "rubric_version": standing.rubric.version,
        "published_at": a.now(),
        "counted_sources": counted_sources(_source_ids(card)),
    }


def _source_ids(card: Card) -> set[str]:
    return {event_id for line in card.lines for source in line.figure.sources for event_id in source.event_ids}


# -- queries ---------------------------------------------------------------------------------------
YEARS = range(2000, 2101)  # what AssessmentPeriodOpened.year allows; any other year has no period


def period_row(conn: Connection, year: int) -> dict[str, Any]:
    row = read_model.period(conn, year) if year in YEARS else None
    if row is None:
        raise NotFound("assessment period", "考核年度", str(year))
    return row


def standings(a: Assessments, conn: Connection, year: int) -> Standing:
    period = period_row(conn, year)
    rubric = rubric_of(a, period["rubric"])
    window = Window(period["starts_on"], period["ends_on"], as_of=min(a.today(), period["ends_on"]))
    period_id = period["period_id"]
    externals = {
        r["department_id"]: External(Fraction(str(r["score"])), r["event_id"])
        for r in read_model.externals_of(conn, period_id)
    }
    deliverables: dict[str, list[Deliverable]] = {}
    for r in read_model.deliverables_of(conn, period_id):
        deliverables.setdefault(r["department_id"], []).append(
            Deliverable(r["deliverable"], r["done_on"], r["event_id"])
        )
    if period["department_ids"]:
        departments = period["department_ids"]
        facts = a.projection.facts.of_departments(conn, departments)
    else:
        facts = a.projection.facts.of_departments(conn)
        departments = sorted(set(_active(facts, window)) | set(externals) | set(deliverables))
    ranked = score_departments(
        facts, departments, window, rubric, deliverables=deliverables, externals=externals, year=year
    )
    return Standing(period, rubric, window, ranked)


def explain(a: Assessments, conn: Connection, year: int, department_id: str) -> dict[str, Any]:
    """Each indicator of one department: raw figure, source events, normalised value, weight, points."""
    standing = standings(a, conn, year)
    found = standing.card(department_id)
    if found is None:
        raise NotFound("scorecard", "记分卡", department_id)
    rank, card = found
    facts = a.projection.facts.of_departments(conn, [department_id]).get(department_id, [])
    published = read_model.latest(conn, standing.period["period_id"]).get(department_id)
    return {
        "year": year,
        "department_id": department_id,
        "as_of": standing.window.as_of,
        "rubric_version": standing.rubric.version,
        "score": rounded(card.total, 2),
        "rank": rank,
        "groups": {group: rounded(points, 2) for group, points in card.group_points().items()},
        "published_version": published["version"] if published else None,
        "activity": activity(facts, standing.window),
        "indicators": [
            {
                "code": line.code,
                "name": line.name,
                "group": line.group,
                "value": rounded(line.figure.value, 4) if line.figure.value is not None else None,
                "numerator": line.figure.numerator,
                "denominator": line.figure.denominator,
                "normalised": rounded(line.normalised, 4),
                "weight": rounded(line.weight, 2),
                "score": rounded(line.points, 2),
                "detail": line.figure.detail,
                "sources": [
                    {"subject_id": s.subject_id, "event_ids": list(s.event_ids), "counted": s.counted, "note": s.note}
                    for s in line.figure.sources
                ],
            }
            for line in card.lines
        ],
    }


def programme(a: Assessments, conn: Connection, year: int) -> dict[str, Any]:
    """The rollout programme of the year (phases with dates) and each department's deliverables against it."""
    standing = standings(a, conn, year)
    due = {code: date.fromisoformat(f"{year}-{mmdd}") for code, mmdd in standing.rubric.deliverables.items()}
    recorded: dict[str, dict[str, dict[str, Any]]] = {}
    for each in read_model.deliverables_of(conn, standing.period["period_id"]):
        recorded.setdefault(each["department_id"], {})[each["deliverable"]] = each
    departments = []
    for _, card in sorted(standing.ranked, key=lambda ranked: ranked[1].department_id):
        mine = recorded.get(card.department_id, {})
        items = []
        for code, due_on in due.items():
            row = mine.get(code)
            status = "missing" if row is None else ("on_time" if row["done_on"] <= due_on else "late")
            items.append(
                {
                    "deliverable": code,
                    "due_on": due_on,
                    "done_on": row["done_on"] if row else None,
                    "evidence": row["evidence"] if row else None,
                    "status": status,
                }
            )
        departments.append({"department_id": card.department_id, "deliverables": items})
    phases = [
        {
            "phase": p["phase"],
            "name": p["name"],
            "starts_on": date.fromisoformat(f"{year}-{p['from']}"),
            "ends_on": date.fromisoformat(f"{year}-{p['to']}"),
        }
        for p in standing.rubric.programme
    ]
    return {"year": year, "phases": phases, "departments": departments}


def _active(facts: dict[str, list[Fact]], window: Window) -> list[str]:
    """Departments with a fact dated in the window (an act issued, a case closed, a deadline…)."""
    return [d for d, mine in facts.items() if any(window.holds(day) for f in mine for day in days_of(f))]


def rubric_of(a: Assessments, config: dict[str, Any]) -> Rubric:
    return Rubric.from_mapping(config) if config else a.rubric


def load_period(a: Assessments, conn: Connection, year: int) -> AssessmentPeriod:
    if year not in YEARS:
        raise NotFound("assessment period", "考核年度", str(year))
    period_id = period_id_of(year)
    period = AssessmentPeriod.from_history(period_id, a.store.load(period_id, conn=conn))
    if not period.opened:
        raise NotFound("assessment period", "考核年度", str(year))
    return period


def load_scorecard(a: Assessments, conn: Connection, scorecard_id: str) -> Scorecard:
    return Scorecard.from_history(scorecard_id, a.store.load(scorecard_id, conn=conn))


def _save(
    a: Assessments, conn: Connection, aggregate: Aggregate, stream_id: str, stream_type: str, correlation_id: str | None
) -> None:
    save(a.store, conn, aggregate, stream_id, stream_type, project=read_model.apply, correlation_id=correlation_id)
