"""Web kit: what every service's Flask app is built from (app factory, problems, idempotency, probes)."""

from flask import request

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
from guidance_shared.web.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE, ProblemSchema, problem_response

__all__ = [
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
    """The version in ``If-Match: "3"`` (the ETag a client last read), or None; malformed is a 400."""
    raw = request.headers.get("If-Match")
    if raw is None:
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
