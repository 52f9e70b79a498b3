"""A service's app from its runtime: the web kit, the published event schemas, its blueprints."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Flask, Response

from guidance_shared.errors import NotFound
from guidance_shared.events.asyncapi import asyncapi_document
from guidance_shared.events.registry import EventRegistry
from guidance_shared.runtime import Runtime
from guidance_shared.version import suite_version
from guidance_shared.web.app import create_base_app


def create_service_app(runtime: Runtime, *, blueprints: Sequence[Any], testing: bool = False) -> Flask:
    app, smorest = create_base_app(
        runtime.spec.name,
        version=suite_version(),  # one version for every service's OpenAPI and the AsyncAPI
        engine=runtime.engine,  # web is ready when its database answers; the broker is the worker's concern
        registry=runtime.metrics_registry,
        testing=testing,
        trusted_proxies=runtime.settings.trusted_proxies,
    )
    app.config["GUIDANCE_REQUIRE_IF_MATCH"] = runtime.settings.require_if_match
    app.extensions["guidance"]["runtime"] = runtime
    app.extensions["guidance"]["api"] = smorest
    app.register_blueprint(schemas_blueprint(runtime.registry))
    for blueprint in blueprints:
        smorest.register_blueprint(blueprint)
    return app


def schemas_blueprint(registry: EventRegistry) -> Blueprint:
    """Every service publishes the event contracts: ``/schemas/events/<ce_type>.json`` and ``/asyncapi.json``."""
    blueprint = Blueprint("event_schemas", __name__)

    # ``ce_dataschema`` is the base URI + ``<ce_type>``; the ``.json`` form is kept for links made before.
    @blueprint.get("/schemas/events/<ce_type>")
    @blueprint.get("/schemas/events/<ce_type>.json")
    def event_schema(ce_type: str) -> Response:
        if registry.get(ce_type) is None:
            raise NotFound("event type", "事件类型", ce_type)
        return _json(registry.json_schema(ce_type), "application/schema+json")

    @blueprint.get("/asyncapi.json")
    def asyncapi() -> Response:
        return _json(asyncapi_document(registry), "application/json")

    return blueprint


def _json(document: dict[str, Any], mimetype: str) -> Response:
    return Response(json.dumps(document, ensure_ascii=False, sort_keys=True), mimetype=mimetype)
