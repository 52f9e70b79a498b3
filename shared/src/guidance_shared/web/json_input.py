"""Request bodies read as strict, bounded JSON, before any schema sees them.

Python's ``json`` accepts what no client of ours means and what later code cannot store: nesting a
few thousand deep (a ``RecursionError`` while decoding), integer literals of thousands of digits
(``ValueError`` when converted), ``NaN``, the same key twice (the last one silently wins, while
another parser may keep the first), and strings holding a lone surrogate (``"\\ud800"``, which no
UTF-8 encoder accepts: the event hash failed) or NUL (which PostgreSQL's text refuses). Each of
those became a 500. Here every JSON body is decoded once, by ``read_json``, with those limits; what
breaks them is a 400 problem naming the limit, or a 422 naming the field, and the decoded value is
what the request schemas load (``Blueprint`` below), so the limits cannot be bypassed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NoReturn

import flask_smorest
from flask import Request, g, request
from webargs import core
from webargs.flaskparser import FlaskParser

from guidance_shared.errors import FieldProblem, GuidanceError

#: Deepest nesting a request may have; the deepest schema of the suite is four levels.
MAX_DEPTH = 32
#: Longest number literal: an amount in yuan or a count has far fewer digits.
MAX_NUMBER_CHARS = 40
_CACHE = "guidance_json_body"


class JsonLimitExceeded(GuidanceError):
    def __init__(self, code: str, detail_en: str, detail_zh: str, **extra: Any) -> None:
        super().__init__(
            code=code,
            title_en="Request body outside the JSON limits",
            title_zh="请求体超出 JSON 限制",
            status=400,
            detail_en=detail_en,
            detail_zh=detail_zh,
            extra=extra,
        )


class MalformedJson(GuidanceError):
    def __init__(self, detail_en: str, detail_zh: str) -> None:
        super().__init__(
            code="malformed-json",
            title_en="Malformed JSON",
            title_zh="JSON 格式错误",
            status=400,
            detail_en=detail_en,
            detail_zh=detail_zh,
        )


def read_json(raw: bytes) -> Any:
    """The body as JSON within the limits above; raises a ``GuidanceError`` (400 or 422) otherwise."""
    try:
        text = raw.decode("utf-8-sig")  # RFC 8259 §8.1: a parser may ignore a byte order mark
    except UnicodeDecodeError as error:
        raise MalformedJson(
            f"The body is not UTF-8 (byte {error.start}).", f"请求体不是 UTF-8 编码（第 {error.start} 字节）。"
        ) from None
    try:
        value = json.loads(
            text,
            parse_int=_integer,
            parse_float=_decimal,
            parse_constant=_not_a_number,
            object_pairs_hook=_object,
        )
    except RecursionError:
        _too_deep()
    except json.JSONDecodeError as error:
        raise MalformedJson(
            f"The body is not JSON: {error.msg} (line {error.lineno}, column {error.colno}).",
            f"请求体不是合法的 JSON：第 {error.lineno} 行第 {error.colno} 列。",
        ) from None
    _check_text_and_depth(value)
    return value


def request_json(req: Request | None = None) -> Any:
    """The current request's JSON body, decoded once per request by ``read_json``."""
    if _CACHE not in g:
        setattr(g, _CACHE, read_json((req or request).get_data(cache=True)))
    return getattr(g, _CACHE)


def _integer(literal: str) -> int:
    return int(_bounded(literal))


def _decimal(literal: str) -> float:
    return float(_bounded(literal))


def _bounded(literal: str) -> str:
    if len(literal) > MAX_NUMBER_CHARS:
        _number_too_long(literal)
    return literal


def _number_too_long(literal: str) -> NoReturn:
    raise JsonLimitExceeded(
        "json-number-too-long",
        f"A number in the body has {len(literal)} characters; at most {MAX_NUMBER_CHARS} are accepted.",
        f"请求体中的数字长达 {len(literal)} 个字符，最多允许 {MAX_NUMBER_CHARS} 个。",
        limit=MAX_NUMBER_CHARS,
    )


def _not_a_number(literal: str) -> NoReturn:
    raise MalformedJson(f"{literal} is not a JSON number.", f"{literal} 不是合法的 JSON 数值。")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise MalformedJson(f"The key {twice!r} appears twice in one object.", f"同一对象中键 {twice!r} 出现了两次。")
    return value


def _too_deep() -> NoReturn:
    raise JsonLimitExceeded(
        "json-too-deep",
        f"The body is nested more than {MAX_DEPTH} levels deep.",
        f"请求体的嵌套层数超过 {MAX_DEPTH} 层。",
        limit=MAX_DEPTH,
    )


def _check_text_and_depth(value: Any) -> None:
    """Walk the value without recursion: depth, and text that could not be stored or hashed."""
    pending: list[tuple[Any, str, int]] = [(value, "", 0)]
    problems: list[FieldProblem] = []
    while pending:
        node, path, depth = pending.pop()
        if depth > MAX_DEPTH:
            _too_deep()
        if isinstance(node, str):
            problem = _unstorable(node, path or "body")
            if problem:
                problems.append(problem)
        elif isinstance(node, dict):
            for key, child in node.items():
                # A key may be the unencodable text itself: the problem names it escaped, as JSON would write it.
                shown = key.encode("utf-8", "backslashreplace").decode("utf-8")
                child_path = f"{path}.{shown}" if path else shown
                problem = _unstorable(key, child_path) if shown != key or "\x00" in key else None
                if problem:
                    problems.append(problem)
                pending.append((child, child_path, depth + 1))
        elif isinstance(node, list):
            pending.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(node))
    if problems:
        problems.sort(key=lambda p: p.field)
        raise GuidanceError(
            code="validation-failed",
            title_en="Validation failed",
            title_zh="数据校验未通过",
            status=422,
            detail_en="Some fields hold text that cannot be stored; see errors.",
            detail_zh="部分字段含有无法保存的字符，详见 errors。",
            fields=problems,
        )


def _unstorable(text: str, field: str) -> FieldProblem | None:
    if "\x00" in text:
        return FieldProblem(field, "Text must not contain NUL (\\u0000).", "文本中不得包含空字符（\\u0000）。")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return FieldProblem(
            field,
            "Text holds a lone surrogate (\\ud800–\\udfff), which is not a character.",
            "文本中含有孤立的代理码位（\\ud800–\\udfff），不是合法字符。",
        )
    return None


class GuidanceParser(FlaskParser):
    """webargs' Flask parser reading JSON bodies through ``read_json`` (once per request)."""

    def _raw_load_json(self, req: Request) -> Any:
        if not core.is_json(req.mimetype):
            return core.missing
        return request_json(req)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint whose ``arguments`` read JSON bodies strictly and whose operations each carry
    an ``operationId``; every service's API uses it."""

    ARGUMENTS_PARSER = GuidanceParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(_prepare_operation_id)

    def _store_endpoint_docs(self, endpoint: str, obj: Any, parameters: Any, tags: Any, **options: Any) -> None:
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        for method, info in self._docs[endpoint].items():
            if method != "parameters":
                info["operation_id"] = operation_id(method, endpoint)


def operation_id(method: str, endpoint: str) -> str:
    """The operation's default ``operationId``: the HTTP method and the view's name in lower camel case,
    ``post`` + ``GuidanceCollection`` → ``postGuidanceCollection``, ``get`` + ``public_item`` → ``getPublicItem``.

    Code generators name their methods after it, so it follows the view, which changes only with the route's
    meaning; a route can still set its own with ``blp.doc(operationId=…)``, which wins.
    """
    words = [word for word in endpoint.replace("-", "_").split("_") if word]
    return method.lower() + "".join(word[0].upper() + word[1:] for word in words)


def _prepare_operation_id(doc: dict[str, Any], doc_info: Mapping[str, Any], **_: Any) -> dict[str, Any]:
    if "operation_id" in doc_info:
        doc["operationId"] = doc_info["operation_id"]
    return doc
