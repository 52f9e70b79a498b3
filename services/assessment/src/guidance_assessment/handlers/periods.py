"""assessment's commands: open a period, record deliverables and external scores, publish, revise.

Publishing freezes a period's live standing (``standing.py``) as version 1 of each department's
scorecard; revising compares a published period with its live standing and appends the next version,
with the differences, for every scorecard that moved. Each runs in the caller's transaction; the
event data is held to the published contract (``valid_event_data``) before the aggregate records it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection

from guidance_assessment.adapters import queries
from guidance_assessment.domain.commands import (
    OpenPeriod,
    PublishScorecards,
    RecordDeliverable,
    RecordExternalEvaluation,
    ReviseScorecards,
)
from guidance_assessment.domain.period import AssessmentPeriod, Scorecard, period_id_of, scorecard_id_of
from guidance_assessment.domain.scoring import Published, differences, rounded
from guidance_assessment.domain.scoring import Scorecard as Card
from guidance_assessment.domain.sources import counted_sources
from guidance_assessment.handlers.deps import AssessmentDeps
from guidance_assessment.handlers.standing import YEARS, Standing, rubric_of, standings
from guidance_shared import catalogue
from guidance_shared.aggregate import Aggregate
from guidance_shared.chronology import require_not_after
from guidance_shared.errors import NotFound
from guidance_shared.handling import valid_event_data
from guidance_shared.repository import Repository

A = TypeVar("A", bound=Aggregate)


def open_period(deps: AssessmentDeps, conn: Connection, cmd: OpenPeriod) -> str:
    """The period's id; a year already open is a 409."""
    period_id = period_id_of(cmd.year)
    period = _load_or_new(deps.periods, conn, period_id, AssessmentPeriod)
    data = {
        "period_id": period_id,
        "year": cmd.year,
        "starts_on": cmd.starts_on or date(cmd.year, 1, 1),
        "ends_on": cmd.ends_on or date(cmd.year, 12, 31),
        "rubric": {"name": deps.rubric.name, "version": deps.rubric.version, "weights": deps.rubric.weights()},
        "department_ids": list(cmd.department_ids),
        "rubric_config": deps.rubric.source,
        "opened_at": deps.now(),
    }
    period.open(valid_event_data(deps.registry, catalogue.ASSESSMENT_PERIOD_OPENED, data))
    deps.periods.save(conn, period)
    return period_id


def record_external(deps: AssessmentDeps, conn: Connection, cmd: RecordExternalEvaluation) -> None:
    period_id = _open_period_id(deps, conn, cmd.year)
    data = {
        "score": cmd.evaluation.score,
        "method": cmd.evaluation.method,
        "note": cmd.evaluation.note,
        "period_id": period_id,
        "department_id": cmd.department_id,
        "recorded_at": deps.now(),
    }
    event = valid_event_data(deps.registry, catalogue.EXTERNAL_EVALUATION_RECORDED, data)
    deps.periods.change(conn, period_id, lambda period: period.record_external(event))


def record_deliverable(deps: AssessmentDeps, conn: Connection, cmd: RecordDeliverable) -> None:
    require_not_after(cmd.deliverable.done_on, deps.today(), "done_on")
    period_id = _open_period_id(deps, conn, cmd.year)
    data = {
        "deliverable": cmd.deliverable.deliverable,
        "done_on": cmd.deliverable.done_on,
        "evidence": cmd.deliverable.evidence,
        "period_id": period_id,
        "department_id": cmd.department_id,
        "recorded_at": deps.now(),
    }
    event = valid_event_data(deps.registry, catalogue.ROLLOUT_DELIVERABLE_RECORDED, data)
    deps.periods.change(
        conn,
        period_id,
        lambda period: period.record_deliverable(event, rubric_of(deps, period.rubric_config)),
    )


def publish(deps: AssessmentDeps, conn: Connection, cmd: PublishScorecards) -> int:
    """Freeze every department's live scorecard as version 1; a second publication is a 409."""
    standing = standings(deps, conn, cmd.year)
    count = 0
    for rank, card in standing.ranked:
        _publish_card(deps, conn, standing, rank, card)
        count += 1
    return count


def revise(deps: AssessmentDeps, conn: Connection, cmd: ReviseScorecards) -> int:
    """For a published period: the next version of every scorecard whose figures, score or rank moved."""
    standing = standings(deps, conn, cmd.year)
    latest = queries.latest(conn, standing.period.period_id)
    if not latest:
        return 0
    count = 0
    for rank, card in standing.ranked:
        before = latest.get(card.department_id)
        if before is None:  # a department first seen after publication gets its first version
            _publish_card(deps, conn, standing, rank, card)
            count += 1
            continue
        after = _published_body(rank, card)
        changes = differences(Published(indicators=before.indicators, score=before.score, rank=before.rank), after)
        if not changes:
            continue
        data = {
            **_scorecard_data(deps, standing, before.scorecard_id, card, after),
            "version": before.version + 1,
            "differences": changes,
        }
        deps.scorecards.change(
            conn,
            before.scorecard_id,
            partial(_revise, deps, card, data),
        )
        count += 1
    return count


def _open_period_id(deps: AssessmentDeps, conn: Connection, year: int) -> str:
    """The id of the year's period, or a 404 naming the year."""
    period_id = period_id_of(year)
    if year not in YEARS or not deps.periods.exists(conn, period_id):
        raise NotFound("assessment period", "考核年度", str(year))
    return period_id


def _revise(deps: AssessmentDeps, card: Card, data: Mapping[str, Any], scorecard: Scorecard) -> None:
    """The next version, listing the source events the latest one did not count."""
    data = {**data, "new_source_event_ids": scorecard.newly_counted(_source_ids(card))}
    scorecard.revise(valid_event_data(deps.registry, catalogue.SCORECARD_REVISED, data))


def _load_or_new(repository: Repository[A], conn: Connection, stream_id: str, new: Callable[[str], A]) -> A:
    """The aggregate if its stream exists, else a new one (whose first command decides if it may begin)."""
    return repository.load(conn, stream_id) if repository.exists(conn, stream_id) else new(stream_id)


def _publish_card(deps: AssessmentDeps, conn: Connection, standing: Standing, rank: int, card: Card) -> None:
    scorecard_id = scorecard_id_of(standing.period.period_id, card.department_id)
    scorecard = _load_or_new(deps.scorecards, conn, scorecard_id, Scorecard)
    data = _scorecard_data(deps, standing, scorecard_id, card, _published_body(rank, card))
    scorecard.publish(valid_event_data(deps.registry, catalogue.SCORECARD_PUBLISHED, data))
    deps.scorecards.save(conn, scorecard)


def _published_body(rank: int, card: Card) -> Published:
    return Published(indicators=card.indicators(), score=rounded(card.total, 2), rank=rank)


def _scorecard_data(
    deps: AssessmentDeps, standing: Standing, scorecard_id: str, card: Card, body: Published
) -> dict[str, Any]:
    """The data a version's event carries (``ScorecardPublished``; a revision adds its differences)."""
    return {
        "scorecard_id": scorecard_id,
        "period_id": standing.period.period_id,
        "department_id": card.department_id,
        **body,
        "rubric_version": standing.rubric.version,
        "published_at": deps.now(),
        "counted_sources": counted_sources(_source_ids(card)),
    }


def _source_ids(card: Card) -> set[str]:
    return {event_id for line in card.lines for source in line.figure.sources for event_id in source.event_ids}
