"""disclosure's Flask app: the shared web kit, authentication, and disclosure's blueprints."""

from __future__ import annotations

from flask import Flask

from guidance_disclosure.entrypoints.http import credit, items, public, requests
from guidance_disclosure.entrypoints.http.pages import decision_pages, pages
from guidance_disclosure.entrypoints.http.rate_limit import install_rate_limit
from guidance_disclosure.handlers import DisclosureDeps
from guidance_shared.auth import AuthSettings, install_auth
from guidance_shared.runtime import Runtime
from guidance_shared.web.access_log import access_log_blp
from guidance_shared.web.service import create_service_app


def build_app(
    runtime: Runtime[DisclosureDeps],
    *,
    testing: bool = False,
    auth: AuthSettings | None = None,
    public_rate_limit: int | None = None,
) -> Flask:
    """``public_rate_limit``: requests per minute per client on ``/public/`` (0 = off; default from settings)."""
    app = create_service_app(runtime, blueprints=[public.public, public.public_decisions], testing=testing)
    smorest = app.extensions["guidance"]["api"]
    install_auth(app, auth or AuthSettings.from_env("disclosure"), smorest)
    smorest.register_blueprint(requests.blp)
    smorest.register_blueprint(items.blp)
    smorest.register_blueprint(credit.blp)
    smorest.register_blueprint(access_log_blp)
    app.register_blueprint(pages)
    app.register_blueprint(decision_pages)
    limit = public_rate_limit if public_rate_limit is not None else runtime.deps.settings.public_rate_limit
    install_rate_limit(app, limit)
    return app
