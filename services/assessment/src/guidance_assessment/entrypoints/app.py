"""assessment's Flask app: the shared web kit, authentication, and assessment's blueprints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from guidance_assessment.entrypoints.http import api_activity, api_dashboard, api_periods
from guidance_assessment.handlers.deps import AssessmentDeps
from guidance_shared.auth import AuthSettings, install_auth
from guidance_shared.runtime import Runtime
from guidance_shared.web.service import create_service_app


def create_app(runtime: Runtime[AssessmentDeps], *, testing: bool = False, auth: AuthSettings | None = None) -> Flask:
    app = create_service_app(runtime, blueprints=[], testing=testing)
    smorest = app.extensions["guidance"]["api"]
    install_auth(app, auth or AuthSettings.from_env("assessment"), smorest)
    for blueprint in (api_activity.activity, api_periods.blp, api_dashboard.blp):
        smorest.register_blueprint(blueprint)
    describe_deliverables(smorest.spec.components.schemas, runtime.deps.rubric.deliverables)
    return app


def describe_deliverables(schemas: dict[str, Any], deliverables: Mapping[str, str]) -> None:
    """Name the deliverable codes in the OpenAPI, as an ``enum``, from the rubric this process was started with:
    every period opened from now on keeps that rubric, so these are the codes its periods take.

    The server checks a code against the period's own rubric (422 otherwise), so a period opened under an
    earlier rubric also takes that rubric's codes, which its ``deliverables`` list shows with their due dates;
    the description says so."""
    listed = " · ".join(f"{code} (due {due})" for code, due in deliverables.items())
    field = schemas["DeliverableRequest"]["properties"]["deliverable"]
    field["description"] = (
        "A deliverable of the rubric the period was opened under; under the rubric in force: "
        + listed
        + ". A period opened under an earlier rubric also takes that rubric's codes."
    )
    field["enum"] = list(deliverables)
    field["examples"] = list(deliverables)[:1]
