"""RFC 9457 problem details: the one place where errors become HTTP responses.

Every failure a client sees is ``application/problem+json`` with English and
Chinese text and, for bad input, one entry per field. Unexpected exceptions
become a bare 500 that names only the request id: the traceback goes to the
log, never to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, NamedTuple

import marshmallow as ma
from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from guidance_shared.errors import ConcurrencyError, FieldProblem, GuidanceError
from guidance_shared.logging import get_logger
from guidance_shared.web.messages import field_problems
from guidance_shared.web.observability import current_request_id

PROBLEM_TYPE_BASE = "https://guidance-suite.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
_STANDARD_MEMBERS = frozenset(
    {"type", "title", "title_zh", "status", "detail", "detail_zh", "instance", "request_id", "errors"}
)
_PASSED_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")

log = get_logger("guidance.web")


class HttpText(NamedTuple):
    code: str
    title_en: str
    title_zh: str
    detail_en: str
    detail_zh: str


# Texts for the HTTP errors the framework raises itself; {path}, {method}, {allowed}, {limit} are filled in.
HTTP_TEXTS: dict[int, HttpText] = {
    400: HttpText("bad-request", "Bad request", "请求有误", "The request could not be understood.", "无法解析该请求。"),
    401: HttpText("unauthorized", "Unauthorized", "未认证", "Send a valid bearer token.", "请提供有效的访问令牌。"),
    403: HttpText("forbidden", "Forbidden", "无权访问", "You may not access this resource.", "您无权访问该资源。"),
    404: HttpText("not-found", "Not found", "未找到", "Nothing is served at {path}.", "路径 {path} 不存在。"),
    405: HttpText(
        "method-not-allowed",
        "Method not allowed",
        "不支持该请求方法",
        "{method} is not allowed on {path}; allowed: {allowed}.",
        "{path} 不支持 {method} 方法；可用方法：{allowed}。",
    ),
    406: HttpText(
        "not-acceptable",
        "Not acceptable",
        "无法提供所需格式",
        "Accept application/json.",
        "请接受 application/json 格式。",
    ),
    409: HttpText(
        "conflict", "Conflict", "请求冲突", "The request conflicts with the current state.", "请求与当前状态冲突。"
    ),
    412: HttpText(
        "precondition-failed",
        "Precondition failed",
        "前置条件不满足",
        "The record changed since you read it; reload it and try again.",
        "记录在您读取后已被修改，请重新读取后再试。",
    ),
    413: HttpText(
        "payload-too-large",
        "Request body too large",
        "请求体过大",
        "The request body exceeds the limit of {limit} bytes.",
        "请求体超过 {limit} 字节的上限。",
    ),
    415: HttpText(
        "unsupported-media-type",
        "Unsupported media type",
        "不支持的媒体类型",
        "Send the request body as application/json (UTF-8).",
        "请以 application/json（UTF-8）格式提交请求体。",
    ),
    422: HttpText(
        "validation-failed",
        "Validation failed",
        "数据校验未通过",
        "Some fields are invalid; see errors.",
        "部分字段不符合要求，详见 errors。",
    ),
    428: HttpText(
        "precondition-required",
        "Precondition required",
        "缺少前置条件",
        "Send If-Match with the record's ETag.",
        "请在 If-Match 中提供记录的 ETag。",
    ),
    429: HttpText(
        "too-many-requests", "Too many requests", "请求过于频繁", "Slow down and retry later.", "请稍后重试。"
    ),
    500: HttpText(
        "internal-error",
        "Internal server error",
        "服务器内部错误",
        "An unexpected error occurred; quote the request_id when reporting it.",
        "服务器发生意外错误；报告问题时请提供 request_id。",
    ),
    503: HttpText(
        "service-unavailable",
        "Service unavailable",
        "服务暂不可用",
        "Retry later.",
        "请稍后重试。",
    ),
}
MALFORMED_JSON = HttpText(
    "malformed-json",
    "Malformed JSON body",
    "请求体不是有效的 JSON",
    "The request body is not valid JSON{where}.",
    "请求体不是有效的 JSON{where_zh}。",
)


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(metadata={"description": "Dotted path of the field, e.g. legal_basis.0.article"})
    message_en = ma.fields.String()
    message_zh = ma.fields.String()


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details with Chinese texts (documentation only).

    RFC 9457 §3.2 lets a problem carry extension members, so the schema admits more than it lists; those
    a client may act on are listed."""

    class Meta:
        unknown = ma.INCLUDE  # documented as additionalProperties: extension members (RFC 9457 §3.2)

    type = ma.fields.String(metadata={"description": f"{PROBLEM_TYPE_BASE}<code>"})
    title = ma.fields.String()
    title_zh = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    detail_zh = ma.fields.String()
    instance = ma.fields.String(metadata={"description": "Request path"})
    request_id = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))
    reason = ma.fields.String(
        metadata={"description": "401: why the token was refused (missing-token, expired, wrong-audience, …)"}
    )
    required_roles = ma.fields.List(ma.fields.String(), metadata={"description": "403: roles that may do this"})
    expected_version = ma.fields.Integer(metadata={"description": "409/412: the version the request expected"})
    current_version = ma.fields.Integer(metadata={"description": "409/412: the record's version now"})
    stream_id = ma.fields.String(metadata={"description": "409/412: the record that changed"})
    limit = ma.fields.Integer(metadata={"description": "400/413: the limit the request went past"})


def problem_response(error: GuidanceError, headers: Mapping[str, str] | None = None, **members: Any) -> Response:
    """Render ``error`` as problem+json; ``members`` become extension members."""
    body: dict[str, Any] = {
        **{k: v for k, v in {**error.extra, **members}.items() if k not in _STANDARD_MEMBERS},
        "type": f"{PROBLEM_TYPE_BASE}{error.code}",
        "title": error.title_en,
        "title_zh": error.title_zh,
        "status": error.status,
        "detail": error.detail_en or error.title_en,
        "detail_zh": error.detail_zh or error.title_zh,
        "instance": request.path,
        "request_id": current_request_id(),
    }
    if error.fields:
        body["errors"] = [f.as_dict() for f in error.fields]
    response = current_app.response_class(
        current_app.json.dumps(body), status=error.status, mimetype=PROBLEM_MEDIA_TYPE
    )
    response.headers.extend(dict(headers or {}))
    return response


def http_error(status: int, fields: Sequence[FieldProblem] = (), **fmt: Any) -> GuidanceError:
    """A GuidanceError carrying the standard texts for an HTTP status."""
    text = HTTP_TEXTS.get(status) or _generic_text(status)
    return _from_text(text, status, fields, **fmt)


def register_problem_handlers(app: Flask) -> None:
    """Make every error path answer with a problem (no HTML page, no traceback)."""
    app.register_error_handler(GuidanceError, handle_guidance_error)
    app.register_error_handler(ma.ValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


def handle_guidance_error(error: GuidanceError) -> Response:
    if isinstance(error, ConcurrencyError) and request.headers.get("If-Match") is not None:
        # The version the caller named is not the record's (RFC 9110 §13.1.1): a failed precondition.
        text = HTTP_TEXTS[412]
        stale = GuidanceError(text.code, text.title_en, text.title_zh, 412, error.detail_en, error.detail_zh)
        return problem_response(stale, **dict(error.extra))
    return problem_response(error)


def handle_validation_error(error: ma.ValidationError) -> Response:
    """A schema.load() inside a view failed: the caller's input, so 422, not 500."""
    return problem_response(http_error(422, field_problems(error.messages, root="body")))


def handle_http_exception(error: HTTPException) -> Response:
    """werkzeug/flask-smorest/webargs aborts, including validation (422) and malformed JSON (400)."""
    status = error.code or 500
    if getattr(error, "original_exception", None) is not None:
        return handle_unexpected(error)
    data: Mapping[str, Any] = getattr(error, "data", None) or {}
    cause = getattr(error, "exc", None)
    headers = {k: v for k, v in error.get_headers() if k in _PASSED_HEADERS}
    headers.update(data.get("headers") or {})
    if isinstance(cause, json.JSONDecodeError | UnicodeDecodeError):
        return problem_response(_malformed_json(cause), headers)
    problem = http_error(
        status,
        _webargs_fields(data.get("errors") or data.get("messages")),
        method=request.method,
        allowed=", ".join(getattr(error, "valid_methods", None) or ()),
        limit=current_app.config.get("MAX_CONTENT_LENGTH"),
    )
    if "message" in data:  # flask_smorest.abort(409, message="...")
        problem.detail_en = str(data["message"])
        problem.detail_zh = str(data.get("message_zh", problem.detail_zh))
    return problem_response(problem, headers)


def handle_unexpected(error: BaseException) -> Response:
    """Log the traceback with the request id; tell the client nothing about it."""
    original = getattr(error, "original_exception", None) or error
    log.error("unhandled_exception", path=request.path, exc_info=original)
    return problem_response(http_error(500))


def _webargs_fields(messages: Any) -> list[FieldProblem]:
    """webargs nests messages under the location (``json``, ``query``); the field path starts below it."""
    if not isinstance(messages, Mapping):
        return field_problems(messages, root="body") if messages else []
    problems: list[FieldProblem] = []
    for location, nested in messages.items():
        problems.extend(field_problems(nested, root=str(location)))
    return problems


def _malformed_json(cause: json.JSONDecodeError | UnicodeDecodeError) -> GuidanceError:
    if isinstance(cause, json.JSONDecodeError):
        where, where_zh = (
            f" (line {cause.lineno}, column {cause.colno})",
            f"（第 {cause.lineno} 行第 {cause.colno} 列）",
        )
    else:
        where, where_zh = " (not UTF-8)", "（不是 UTF-8 编码）"
    return _from_text(MALFORMED_JSON, 400, (), where=where, where_zh=where_zh)


def _from_text(text: HttpText, status: int, fields: Sequence[FieldProblem], **fmt: Any) -> GuidanceError:
    values = {"path": request.path, **fmt}
    return GuidanceError(
        code=text.code,
        title_en=text.title_en,
        title_zh=text.title_zh,
        status=status,
        detail_en=text.detail_en.format_map(_Lenient(values)),
        detail_zh=text.detail_zh.format_map(_Lenient(values)),
        fields=list(fields),
    )


def _generic_text(status: int) -> HttpText:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    code = phrase.lower().replace(" ", "-").replace("'", "")
    return HttpText(code, phrase, "请求未能处理", phrase + ".", "请求未能处理。")


class _Lenient(dict[str, Any]):
    """format_map that leaves unknown placeholders empty instead of raising."""

    def __missing__(self, key: str) -> str:
        return ""
