"""revisit's Flask app: the shared web kit, authentication, and revisit's blueprints."""

from __future__ import annotations

from flask import Flask

from guidance_revisit.entrypoints.http import calendars, history, reminder_plans, revisits
from guidance_shared.auth import AuthSettings, install_auth
from guidance_shared.runtime import Runtime
from guidance_shared.web.service import create_service_app


def create_app(runtime: Runtime, *, testing: bool = False, auth: AuthSettings | None = None) -> Flask:
    app = create_service_app(runtime, blueprints=[], testing=testing)
    smorest = app.extensions["guidance"]["api"]
    install_auth(app, auth or AuthSettings.from_env("revisit"), smorest)
    for blueprint in (history.history, revisits.blp, calendars.feeds, reminder_plans.blp):
        smorest.register_blueprint(blueprint)
    return app
