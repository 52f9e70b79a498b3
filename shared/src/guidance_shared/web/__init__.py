"""Web kit: what every service's Flask app is built from (app factory, problems, idempotency, probes)."""

from typing import Any

from flask import current_app, request

from guidance_shared.errors import GuidanceError
from guidance_shared.web.app import DEFAULT_MAX_CONTENT_LENGTH, GuidanceApi, create_base_app
from guidance_shared.web.health import database_check
from guidance_shared.web.idempotency import (
    IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENCY_METADATA,
    REPLAYED_HEADER,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    current_tx,
    idempotency_keys,
    idempotent,
    purge_expired,
)
from guidance_shared.web.json_input import Blueprint, read_json, request_json
from guidance_shared.web.messages import register_translation, translate
from guidance_shared.web.observability import CORRELATION_ID_HEADER, REQUEST_ID_HEADER, current_request_id
from guidance_shared.web.problems import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_BASE,
    ProblemSchema,
    http_error,
    problem_response,
)

__all__ = [
    "CONDITIONAL",
    "CORRELATION_ID_HEADER",
    "DEFAULT_MAX_CONTENT_LENGTH",
    "IDEMPOTENCY_KEY_HEADER",
    "IDEMPOTENCY_METADATA",
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_BASE",
    "REPLAYED_HEADER",
    "REQUEST_ID_HEADER",
    "Blueprint",
    "GuidanceApi",
    "IdempotencyKeyInFlight",
    "IdempotencyKeyReused",
    "InvalidIdempotencyKey",
    "ProblemSchema",
    "create_base_app",
    "current_request_id",
    "current_tx",
    "database_check",
    "idempotency_keys",
    "idempotent",
    "problem_response",
    "purge_expired",
    "read_json",
    "register_translation",
    "request_json",
    "translate",
]


def if_match() -> int | None:
    """The version in ``If-Match: "3"`` (the ETag a client last read), or None; malformed is a 400.

    A change made with a stale If-Match answers 412 (the problem handler turns the repository's
    version conflict into it); without If-Match, a change that met a concurrent one answers 409. A
    deployment that wants every change to name the version it read sets ``GUIDANCE_REQUIRE_IF_MATCH``:
    a change without If-Match is then a 428."""
    raw = request.headers.get("If-Match")
    if raw is None:
        if current_app.config.get("GUIDANCE_REQUIRE_IF_MATCH"):
            raise http_error(428)
        return None
    try:
        return int(raw.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise GuidanceError(
            code="bad-if-match",
            title_en="Malformed If-Match",
            title_zh="If-Match 格式错误",
            status=400,
            detail_en='If-Match must be the version in quotes, e.g. "2".',
            detail_zh='If-Match 应为带引号的版本号，例如 "2"。',
        ) from None


#: The OpenAPI of an operation that changes a record by version: ``@blp.doc(**CONDITIONAL)`` beside ``if_match()``.
CONDITIONAL: dict[str, Any] = {
    "parameters": [
        {
            "in": "header",
            "name": "If-Match",
            "required": False,
            "description": 'The ETag of the version you read, e.g. "3" (required under GUIDANCE_REQUIRE_IF_MATCH)',
            "schema": {"type": "string", "pattern": '^(W/)?"[0-9]+"$', "maxLength": 24},
        }
    ],
    "responses": {
        status: {
            "description": text,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status, text in (
            ("409", "A concurrent change came first (no If-Match was sent): reload and apply the change again"),
            ("412", "If-Match names a version that is no longer the record's: reload it"),
            ("428", "If-Match is required here (GUIDANCE_REQUIRE_IF_MATCH)"),
        )
    },
}
