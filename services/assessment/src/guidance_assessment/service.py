"""What assessment is to the kernel, and the parts its handlers need, built once per runtime.

assessment reads every topic (a department is scored on all it did), publishes assessment.events, and
runs one periodic job: revising published scorecards when events arrived after publication.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import structlog
import yaml

from guidance_assessment import handlers
from guidance_assessment.adapters import read_model
from guidance_assessment.adapters.read_model import READ_MODEL, all_periods, latest
from guidance_assessment.domain.rubric import load_rubric
from guidance_assessment.projection import AssessmentProjection
from guidance_shared.runtime import ReadModel, Runtime, ServiceSpec

log = structlog.get_logger(__name__)


def assessments_of(runtime: Runtime) -> handlers.Assessments:
    """The rubric from ``GUIDANCE_ASSESSMENT_RUBRIC`` (YAML; the packaged one by default), store and registry."""
    if "assessments" not in runtime.extensions:
        assert runtime.store is not None and isinstance(runtime.projection, AssessmentProjection)
        runtime.extensions["assessments"] = handlers.Assessments(
            store=runtime.store,
            registry=runtime.registry,
            projection=runtime.projection,
            rubric=load_rubric(os.environ.get("GUIDANCE_ASSESSMENT_RUBRIC") or None),
            names=department_names(
                os.environ.get("GUIDANCE_ASSESSMENT_DEPARTMENTS") or os.environ.get("GUIDANCE_DEPARTMENTS")
            ),
        )
    assessments: handlers.Assessments = runtime.extensions["assessments"]
    return assessments


def department_names(path: str | None) -> dict[str, str]:
    """Short names from a department registry YAML (the format intake reads: ``departments: [{department_id,
    name, short_name}]``); without one, pages show the start of each department id."""
    if not path:
        return {}
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {
        str(entry["department_id"]).lower(): str(entry.get("short_name") or entry.get("name") or entry["department_id"])
        for entry in raw.get("departments") or []
    }


def revise_published(runtime: Runtime) -> int:
    """One pass: a new version of every published scorecard whose live figures moved. Only when the
    consumer has caught up, so a projection being rebuilt never looks like a change."""
    if sum(runtime.lag().values()):
        return 0
    revised = 0
    with runtime.engine.connect() as conn:
        years = [p["year"] for p in all_periods(conn) if latest(conn, p["period_id"])]
    for year in years:
        with runtime.engine.begin() as conn:
            revised += handlers.revise(assessments_of(runtime), conn, year)
    return revised


def revision_check(runtime: Runtime, stop: threading.Event) -> None:
    """Every five minutes (GUIDANCE_ASSESSMENT_REVISE_INTERVAL_S): revise what late events changed."""
    interval = float(os.environ.get("GUIDANCE_ASSESSMENT_REVISE_INTERVAL_S", "300"))
    while not stop.is_set():
        try:
            revised = revise_published(runtime)
            if revised:
                log.info("assessment.scorecards_revised", count=revised)
        except Exception:
            log.exception("assessment.revision_check_failed")
        stop.wait(interval)


SPEC = ServiceSpec(
    name="assessment",
    publishes="assessment.events",
    consumes=("intake.events", "revisit.events", "disclosure.events", "assessment.events"),
    projection=lambda _runtime: AssessmentProjection(),
    extra_metadata=(READ_MODEL,),
    read_models=(ReadModel(READ_MODEL, read_model.apply),),
    tasks=(revision_check,),
)
