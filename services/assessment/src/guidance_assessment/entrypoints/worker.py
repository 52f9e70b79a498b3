"""assessment's periodic task: revising published scorecards when events arrived after publication."""

from __future__ import annotations

import threading

import structlog

from guidance_assessment.adapters import queries
from guidance_assessment.domain.commands import ReviseScorecards
from guidance_assessment.handlers import periods
from guidance_assessment.handlers.deps import AssessmentDeps
from guidance_shared.runtime import Runtime

log = structlog.get_logger(__name__)


def revise_published(runtime: Runtime[AssessmentDeps]) -> int:
    """One pass: a new version of every published scorecard whose live figures moved. Only when the
    consumer has caught up, so a projection being rebuilt never looks like a change."""
    if sum(runtime.lag().values()):
        return 0
    revised = 0
    with runtime.engine.connect() as conn:
        years = [p.year for p in queries.all_periods(conn) if queries.latest(conn, p.period_id)]
    for year in years:
        with runtime.engine.begin() as conn:
            revised += periods.revise(runtime.deps, conn, ReviseScorecards(year))
    return revised


def revision_check(runtime: Runtime[AssessmentDeps], stop: threading.Event) -> None:
    """Every five minutes (GUIDANCE_ASSESSMENT_REVISE_INTERVAL_S): revise what late events changed."""
    while not stop.is_set():
        try:
            revised = revise_published(runtime)
            if revised:
                log.info("assessment.scorecards_revised", count=revised)
        except Exception:
            log.exception("assessment.revision_check_failed")
        stop.wait(runtime.deps.settings.revise_interval_s)
