"""assessment's Flask app: the shared web kit, authentication, and assessment's blueprints."""

from __future__ import annotations

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
    return app
