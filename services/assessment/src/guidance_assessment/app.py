"""assessment's Flask app: the web kit plus assessment's read API."""

from __future__ import annotations

from flask import Flask

from guidance_assessment import api
from guidance_shared.runtime import Runtime
from guidance_shared.web import create_base_app

VERSION = "0.1.0"


def create_app(runtime: Runtime, *, testing: bool = False) -> Flask:
    app, smorest = create_base_app(
        "assessment",
        version=VERSION,
        checks=runtime.checks(),
        engine=runtime.engine,
        registry=runtime.metrics_registry,
        testing=testing,
    )
    app.extensions["guidance"]["runtime"] = runtime
    if runtime.projection is not None:
        # The web process reads the tables the worker writes, and must answer before the worker's first batch.
        runtime.projection.metadata.create_all(runtime.engine)
    smorest.register_blueprint(api.activity)
    return app
