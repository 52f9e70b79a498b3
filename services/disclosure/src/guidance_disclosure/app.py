"""disclosure's Flask app: the shared web kit, authentication, and disclosure's blueprints."""

from __future__ import annotations

import os

from flask import Flask

from guidance_disclosure import api, api_credit, api_items, api_requests
from guidance_disclosure.public_pages import decision_pages, pages
from guidance_disclosure.public_rate_limit import ENV_VAR, install_rate_limit, limit_from_env
from guidance_shared.auth import AuthSettings, install_auth
from guidance_shared.runtime import Runtime
from guidance_shared.web.service import create_service_app

VERSION = "0.1.0"


def create_app(
    runtime: Runtime, *, testing: bool = False, auth: AuthSettings | None = None, public_rate_limit: int | None = None
) -> Flask:
    """``public_rate_limit``: requests per minute per client on ``/public/`` (0 = off; default from the env)."""
    app = create_service_app(runtime, version=VERSION, blueprints=[api.public, api.public_decisions], testing=testing)
    smorest = app.extensions["guidance"]["api"]
    install_auth(app, auth or AuthSettings.from_env("disclosure"), smorest)
    smorest.register_blueprint(api_requests.blp)
    smorest.register_blueprint(api_items.blp)
    smorest.register_blueprint(api_credit.blp)
    app.register_blueprint(pages)
    app.register_blueprint(decision_pages)
    limit = public_rate_limit if public_rate_limit is not None else limit_from_env(os.environ.get(ENV_VAR))
    install_rate_limit(app, limit)
    return app
