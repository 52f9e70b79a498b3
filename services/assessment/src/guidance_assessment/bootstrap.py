"""What assessment is to the kernel, and everything its handlers need, built once per runtime.

assessment reads every topic (a department is scored on all it did), publishes assessment.events, and
runs one periodic job: revising published scorecards when events arrived after publication.
``wire`` reads the service's settings and files once and hands the result to handlers by parameter.
"""

from __future__ import annotations

from flask import Flask

from guidance_assessment.adapters import migrations, read_model
from guidance_assessment.adapters.files import department_names, load_rubric
from guidance_assessment.adapters.projection import AssessmentProjection
from guidance_assessment.adapters.read_model import READ_MODEL
from guidance_assessment.domain.period import AssessmentPeriod, Scorecard
from guidance_assessment.entrypoints import app
from guidance_assessment.entrypoints.worker import revision_check
from guidance_assessment.handlers.deps import AssessmentDeps
from guidance_assessment.settings import AssessmentSettings
from guidance_shared.auth import AuthSettings
from guidance_shared.repository import Repository
from guidance_shared.runtime import ReadModel, Runtime, ServiceSpec


def wire(runtime: Runtime[AssessmentDeps]) -> AssessmentDeps:
    """The rubric (``GUIDANCE_ASSESSMENT_RUBRIC``, else the packaged one), the department registry's short
    names, the repositories of periods and scorecards, and the registry that checks event data."""
    if runtime.store is None:
        raise RuntimeError("assessment publishes assessment.events: its runtime needs an event store")
    settings = AssessmentSettings.from_env(runtime.settings.env)
    return AssessmentDeps(
        periods=Repository(
            runtime.store, AssessmentPeriod, "AssessmentPeriod", "assessment period", "考核年度", read_model.apply
        ),
        scorecards=Repository(runtime.store, Scorecard, "Scorecard", "scorecard", "记分卡", read_model.apply),
        registry=runtime.registry,
        rubric=load_rubric(settings.rubric),
        settings=settings,
        names=department_names(settings.departments),
    )


def create_app(runtime: Runtime[AssessmentDeps], *, testing: bool = False, auth: AuthSettings | None = None) -> Flask:
    return app.create_app(runtime, testing=testing, auth=auth)


SPEC: ServiceSpec[AssessmentDeps] = ServiceSpec(
    name="assessment",
    publishes="assessment.events",
    consumes=("intake.events", "revisit.events", "disclosure.events", "assessment.events"),
    wire=wire,
    projection=lambda _runtime: AssessmentProjection(),
    migrations=migrations.LOCATION,
    extra_metadata=(READ_MODEL,),
    read_models=(ReadModel(READ_MODEL, read_model.apply),),
    tasks=(revision_check,),
)
