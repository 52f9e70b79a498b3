"""A period's live standing, computed on demand: the facts the consumer built from the four topics and
the period's own records (deliverables, external scores), scored under the rubric the period keeps.

What the pages show (the standing, one department's explanation, the rollout programme) and what
publishing and revising freeze (``periods.py``) are computed here, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection

from guidance_assessment.adapters import queries
from guidance_assessment.adapters.queries import Period
from guidance_assessment.domain.facts import Fact, days_of
from guidance_assessment.domain.indicators import Deliverable, External, Window, activity
from guidance_assessment.domain.rubric import Rubric
from guidance_assessment.domain.scoring import Scorecard, rounded, score_departments
from guidance_assessment.handlers.deps import AssessmentDeps
from guidance_shared.errors import NotFound

YEARS = range(2000, 2101)  # what AssessmentPeriodOpened.year allows; any other year has no period


@dataclass(frozen=True)
class Standing:
    """A period's live figures: every department's scorecard, ranked, and what they were computed from."""

    period: Period
    rubric: Rubric
    window: Window
    ranked: list[tuple[int, Scorecard]]

    def card(self, department_id: str) -> tuple[int, Scorecard] | None:
        return next(((r, c) for r, c in self.ranked if c.department_id == department_id), None)


def period_row(conn: Connection, year: int) -> Period:
    """The year's period, or a 404."""
    row = queries.period(conn, year) if year in YEARS else None
    if row is None:
        raise NotFound("assessment period", "考核年度", str(year))
    return row


def rubric_of(deps: AssessmentDeps, config: Mapping[str, Any]) -> Rubric:
    """The rubric a period keeps (the document in its opening event), else the configured one."""
    return Rubric.from_mapping(config) if config else deps.rubric


def due_dates(rubric: Rubric, year: int) -> dict[str, date]:
    """Each deliverable of the rubric → the day in ``year`` it is due."""
    return {code: date.fromisoformat(f"{year}-{due}") for code, due in rubric.deliverables.items()}


def standings(deps: AssessmentDeps, conn: Connection, year: int) -> Standing:
    period = period_row(conn, year)
    rubric = rubric_of(deps, period.rubric)
    window = Window(period.starts_on, period.ends_on, as_of=min(deps.today(), period.ends_on))
    externals = {
        r.department_id: External(Fraction(str(r.score)), r.event_id)
        for r in queries.externals_of(conn, period.period_id)
    }
    deliverables: dict[str, list[Deliverable]] = {}
    for r in queries.deliverables_of(conn, period.period_id):
        deliverables.setdefault(r.department_id, []).append(Deliverable(r.deliverable, r.done_on, r.event_id))
    if period.department_ids:
        departments = period.department_ids
        facts = queries.facts_of(conn, departments)
    else:
        facts = queries.facts_of(conn)
        # every department known (the registry file, the names intake's events carry) is ranked, one with
        # nothing to measure by the rubric's when_empty: a county's ranking leaves no department out
        registered = set(deps.names) | set(queries.department_names(conn))
        departments = sorted(set(_active(facts, window)) | set(externals) | set(deliverables) | registered)
    ranked = score_departments(
        facts, departments, window, rubric, deliverables=deliverables, externals=externals, year=year
    )
    return Standing(period, rubric, window, ranked)


def explain(deps: AssessmentDeps, conn: Connection, year: int, department_id: str) -> dict[str, Any]:
    """Each indicator of one department: raw figure, source events, normalised value, weight, points."""
    standing = standings(deps, conn, year)
    found = standing.card(department_id)
    if found is None:
        raise NotFound("scorecard", "记分卡", department_id)
    rank, card = found
    facts = department_facts(conn, department_id)
    published = queries.latest(conn, standing.period.period_id).get(department_id)
    return {
        "year": year,
        "department_id": department_id,
        "as_of": standing.window.as_of,
        "rubric_version": standing.rubric.version,
        "score": rounded(card.total, 2),
        "rank": rank,
        "groups": {group: rounded(points, 2) for group, points in card.group_points().items()},
        "published_version": published.version if published else None,
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


def programme(deps: AssessmentDeps, conn: Connection, year: int) -> dict[str, Any]:
    """The rollout programme of the year (phases with dates) and each department's deliverables against it."""
    standing = standings(deps, conn, year)
    due = due_dates(standing.rubric, year)
    recorded: dict[str, dict[str, queries.RecordedDeliverable]] = {}
    for each in queries.deliverables_of(conn, standing.period.period_id):
        recorded.setdefault(each.department_id, {})[each.deliverable] = each
    departments = []
    for _, card in sorted(standing.ranked, key=lambda ranked: ranked[1].department_id):
        mine = recorded.get(card.department_id, {})
        items = []
        for code, due_on in due.items():
            row = mine.get(code)
            status = "missing" if row is None else ("on_time" if row.done_on <= due_on else "late")
            items.append(
                {
                    "deliverable": code,
                    "due_on": due_on,
                    "done_on": row.done_on if row else None,
                    "evidence": row.evidence if row else None,
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


def department_facts(conn: Connection, department_id: str) -> list[Fact]:
    """One department's facts, of any year (look-backs need them)."""
    return queries.facts_of(conn, [department_id]).get(department_id, [])


def _active(facts: dict[str, list[Fact]], window: Window) -> list[str]:
    """Departments with a fact dated in the window (an act issued, a case closed, a deadline…)."""
    return [d for d, mine in facts.items() if any(window.holds(day) for f in mine for day in days_of(f))]
