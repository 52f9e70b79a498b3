"""The part of every service's ``create_app`` that is the same everywhere.

A service calls :func:`create_base_app`, registers its blueprints on the
returned :class:`flask_smorest.Api`, and gets request ids, access logs,
metrics, probes, OpenAPI and problem+json errors without writing them.
"""

from __future__ import annotations

import copy
import http
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from prometheus_client import CollectorRegistry, Gauge, GCCollector, PlatformCollector, ProcessCollector
from sqlalchemy import Engine
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.middleware.proxy_fix import ProxyFix

from guidance_shared.tracing import instrument_app
from guidance_shared.web.health import database_check, ops_blueprint
from guidance_shared.web.observability import HttpMetrics, install_request_hooks
from guidance_shared.web.openapi import SharedResponses, complete_document
from guidance_shared.web.problems import (
    PROBLEM_MEDIA_TYPE,
    ProblemSchema,
    register_problem_handlers,
)
from guidance_shared.web.strict import StrictBodies

DEFAULT_MAX_CONTENT_LENGTH = 2 * 1024 * 1024


#: Headers an error response carries, as the standards ask: a challenge with every 401 (RFC 6750 §3), when to
#: retry with a 429 or 503 (RFC 9110 §10.2.3), what is allowed with a 405.
RESPONSE_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": 'Bearer realm="guidance", with error and error_description when a token was sent',
            "schema": {"type": "string"},
        }
    },
    405: {"Allow": {"description": "The methods the path allows", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}},
}


class GuidanceApi(Api):
    """flask-smorest Api whose errors, served and documented, are problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        register_problem_handlers(self._app)

    _served_document: str | None = None

    def _openapi_json(self) -> Any:
        """The document served at /openapi.json, with what needs all of it (``openapi.complete_document``).

        Built on the first request and kept: the routes are all registered by then (bootstrap wires them before
        the app serves), and building the examples walks every schema and the whole event catalogue."""
        if self._served_document is None:
            strict = next((p.names for p in self.spec.plugins if isinstance(p, StrictBodies)), set())
            document = complete_document(copy.deepcopy(self.spec.to_dict()), strict)
            self._served_document = current_app.json.dumps(document, indent=2, sort_keys=False)
        return current_app.response_class(self._served_document, mimetype="application/json")

    def _register_responses(self) -> None:
        """As flask-smorest's, but documented with the problem+json media type."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            if status in RESPONSE_HEADERS:
                response["headers"] = RESPONSE_HEADERS[status]
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


def create_base_app(
    service: str,
    *,
    version: str,
    checks: Mapping[str, Callable[[], None]] | None = None,
    engine: Engine | None = None,
    registry: CollectorRegistry | None = None,
    testing: bool = False,
    trusted_proxies: int = 0,
) -> tuple[Flask, Api]:
    """A Flask app and its Api with the suite's conventions; the service adds blueprints.

    With an ``engine``, readiness checks the database and the
    ``idempotency_keys`` table is created. Give each app its own ``registry``
    (one is made if omitted) so several apps can live in one test process.
    """
    app = Flask(service, static_folder=None)
    app.config.update(
        TESTING=testing,
        MAX_CONTENT_LENGTH=DEFAULT_MAX_CONTENT_LENGTH,
        API_TITLE=service,
        API_VERSION=version,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    if trusted_proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies)  # type: ignore[method-assign]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    registry = registry if registry is not None else _process_registry()
    Gauge("guidance_build_info", "Service and version.", ["service", "version"], registry=registry).labels(
        service=service, version=version
    ).set(1)
    all_checks = {"database": database_check(engine)} if engine is not None else {}
    all_checks.update(checks or {})
    app.extensions["guidance"] = {"service": service, "version": version, "engine": engine, "registry": registry}
    instrument_app(app)  # first: the request hooks below continue its span
    install_request_hooks(app, HttpMetrics.create(registry))
    app.before_request(_guard_body)
    api = GuidanceApi(app, spec_kwargs={"extra_plugins": [SharedResponses(), StrictBodies()]})
    app.register_blueprint(ops_blueprint(all_checks, registry))
    return app, api


def _process_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def _guard_body() -> None:
    """Refuse oversized bodies and non-JSON bodies sent to JSON endpoints before any parsing."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()
    if _has_body() and not request.is_json and _expects_json_body():
        raise UnsupportedMediaType()


def _has_body() -> bool:
    return (request.content_length or 0) > 0 or "chunked" in request.headers.get("Transfer-Encoding", "")


def _expects_json_body() -> bool:
    """Whether the matched view declares ``@blp.arguments(..., location="json")`` (the default)."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    func = getattr(view_class, request.method.lower(), None) if view_class is not None else view
    parameters = getattr(func, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(isinstance(p, Mapping) and p.get("in") == "json" for p in parameters)
