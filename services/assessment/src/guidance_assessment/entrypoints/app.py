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
    """Name the deliverable codes in the OpenAPI, from the rubric this process was started with.

    Not an ``enum``: a period keeps the rubric it was opened under, so last year's period may take a code
    today's rubric dropped, and the server checks the code against the period's own rubric (422 otherwise).
    """
    listed = " · ".join(f"{code} (due {due})" for code, due in deliverables.items())
    field = schemas["DeliverableRequest"]["properties"]["deliverable"]
    field["description"] = (
        "A deliverable of the rubric the period was opened under; under the rubric in force: " + listed
    )
    field["examples"] = list(deliverables)[:1]
