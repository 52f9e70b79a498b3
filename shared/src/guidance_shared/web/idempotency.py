"""Idempotent writes: a county system may retry a POST and still cause one effect.

The view runs in one database transaction (``current_tx()``); the
idempotency record is written in that same transaction, so the events and
the stored response commit together or not at all. A retry with the same
``Idempotency-Key`` and the same request gets the stored response back; the
same key on a different request is refused.

Concurrent duplicates: the record's row is claimed (inserted) before the view
runs. On PostgreSQL the second insert waits for the first transaction and
then fails on the primary key, so the loser rolls back and replays the
winner; on SQLite ``BEGIN IMMEDIATE`` serialises the two and the loser finds
the committed record. Either way the view's effect happens once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import marshmallow as ma
from flask import Response, current_app, g, has_app_context, request
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from guidance_shared.errors import GuidanceError
from guidance_shared.logging import get_logger
from guidance_shared.web.json_input import request_json

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Headers that are part of the answer and so must come back on a replay.
STORED_HEADERS = ("Content-Type", "Location", "ETag", "Content-Location", "Last-Modified", "Link")
_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")

IDEMPOTENCY_METADATA = MetaData()

idempotency_keys = Table(
    "idempotency_keys",
    IDEMPOTENCY_METADATA,
    # Whose key it is (the department, once authentication sets g.idempotency_scope); '' until then.
    Column("scope", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("method", String(16), nullable=False),
    Column("path", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=True),  # NULL only inside the claiming transaction
    Column("headers", Text, nullable=False),
    Column("body", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

log = get_logger("guidance.idempotency")

#: How a command's first answer is kept for its retries, when it may not be kept as sent: it turns the answer's
#: bytes into what is stored, in the command's transaction (intake seals a natural person's fields with their
#: data key, so the stored copy is no clear copy of their data and an erasure reaches it).
AnswerKeeper = Callable[[Connection, bytes], bytes]
#: The reverse, for a retry: the stored bytes back into the answer (a person's fields opened, or ［已删除］).
AnswerOpener = Callable[[bytes], bytes]


class InvalidIdempotencyKey(GuidanceError):
    def __init__(self) -> None:
        super().__init__(
            code="invalid-idempotency-key",
            title_en="Invalid Idempotency-Key",
            title_zh="幂等键无效",
            status=400,
            detail_en="Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID.",
            detail_zh="Idempotency-Key 须为 1 至 255 个可见 ASCII 字符，建议使用 UUID。",
        )


class IdempotencyKeyReused(GuidanceError):
    def __init__(self) -> None:
        super().__init__(
            code="idempotency-key-reused",
            title_en="Idempotency key reused",
            title_zh="幂等键已被使用",
            status=422,
            detail_en="This Idempotency-Key was already used for a different request; use a new key.",
            detail_zh="该 Idempotency-Key 已用于另一个不同的请求，请为新请求使用新的键。",
        )


class IdempotencyKeyInFlight(GuidanceError):
    def __init__(self) -> None:
        super().__init__(
            code="idempotency-key-in-flight",
            title_en="Request still in progress",
            title_zh="请求仍在处理中",
            status=409,
            detail_en="A request with this Idempotency-Key is still being processed; retry shortly.",
            detail_zh="使用该 Idempotency-Key 的请求仍在处理中，请稍后重试。",
        )


class _IdempotencyKeyHeader(ma.Schema):
    """Documents the header in OpenAPI; the decorator parses it itself."""

    key = ma.fields.String(
        data_key=IDEMPOTENCY_KEY_HEADER,
        validate=ma.validate.Length(min=1, max=255),
        metadata={"description": "Recommended: a fresh UUID per logical request; retries reuse it."},
    )


@dataclass(frozen=True)
class _Attempt:
    """One keyed request, reduced to what decides replay versus reuse."""

    scope: str
    key: str
    method: str
    path: str
    fingerprint: str


def idempotent(view: Callable[..., Any]) -> Callable[..., Response]:
    """Run a write view once per ``Idempotency-Key``, inside one transaction exposed as ``current_tx()``.

    Stacking: ``@idempotent`` must sit *above* ``@blp.response`` (it stores the
    serialised response) and is best placed directly *below* the
    ``@blp.arguments`` decorators (invalid input is rejected before a
    transaction, and on SQLite the write lock, is taken)::

        @blp.route("/cases")
        class Cases(MethodView):
            @blp.arguments(CaseIn)
            @idempotent
            @blp.response(201, CaseOut)
            def post(self, data): ...

    The view must therefore return a ``Response`` (``@blp.response`` does);
    placed below ``@blp.response`` it raises ``TypeError`` on the first call.
    Without the header the view still runs in a transaction; nothing is
    stored. A raised exception or a 5xx response rolls everything back.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        key = _idempotency_key()
        engine = _engine()
        call = functools.partial(_call_view, view, args, kwargs)
        if key is None:
            return _execute(engine, call)
        return _execute_once(engine, _attempt(key), call)

    _document(wrapper)
    return wrapper


def current_tx() -> Connection:
    """The connection of the running ``@idempotent`` view's transaction; commands append through it."""
    tx = g.get("tx") if has_app_context() else None
    if tx is None:
        raise RuntimeError("current_tx() is only available while a view decorated with @idempotent runs")
    return tx


def keep_answer_as(keeper: AnswerKeeper) -> None:
    """Inside a command: its answer, if it is stored for retries, is stored as ``keeper`` makes it."""
    g.answer_keeper = keeper


def open_stored_answers_with(app: Any, opener: AnswerOpener) -> None:
    """``app`` gives a retry the stored answer as ``opener`` makes it (the reverse of every ``keep_answer_as``)."""
    app.extensions["guidance"]["open_stored_answer"] = opener


def purge_expired(
    engine: Engine,
    older_than: timedelta,
    *,
    batch_size: int = 1000,
    now: datetime | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Forget keys older than ``older_than``; a later retry with such a key runs the view again.

    Deletes in transactions of at most ``batch_size`` rows, so a large backlog never holds a long lock."""
    cutoff = (now or datetime.now(UTC)) - older_than
    t = idempotency_keys.c
    victims = select(t.scope, t.key).where(t.created_at < cutoff).order_by(t.created_at).limit(batch_size)
    statement = delete(idempotency_keys).where(tuple_(t.scope, t.key).in_(victims), t.created_at < cutoff)
    total = 0
    while stop is None or not stop.is_set():
        with engine.begin() as conn:
            deleted = int(conn.execute(statement).rowcount)
        total += deleted
        if deleted < batch_size:
            break
    return total


def _idempotency_key() -> str | None:
    raw = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if raw is None:
        return None
    if not _KEY_PATTERN.fullmatch(raw):
        raise InvalidIdempotencyKey()
    return raw


def _engine() -> Engine:
    engine = current_app.extensions.get("guidance", {}).get("engine")
    if engine is None:
        raise RuntimeError("@idempotent needs create_base_app(..., engine=...)")
    return engine


def _attempt(key: str) -> _Attempt:
    return _Attempt(
        scope=str(g.get("idempotency_scope", "")),
        key=key,
        method=request.method,
        path=request.path,
        fingerprint=_fingerprint(),
    )


def _fingerprint() -> str:
    """sha256 of method, path, sorted query and the canonical JSON body (key order and spacing ignored)."""
    digest = hashlib.sha256()
    query = "&".join(sorted(request.query_string.decode("latin-1").split("&")))
    for part in (request.method, request.path, query):
        digest.update(part.encode() + b"\n")
    if request.mimetype == "multipart/form-data":
        # The boundary is random per attempt: fingerprint the fields and files, not the raw bytes.
        for name, value in sorted(request.form.items(multi=True)):
            digest.update(f"field:{name}={value}\n".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            content = upload.stream.read()
            upload.stream.seek(0)
            digest.update(f"file:{name}:{upload.filename}:".encode() + hashlib.sha256(content).digest() + b"\n")
    else:
        digest.update(_canonical(request.get_data(cache=True)))
    return digest.hexdigest()


def _canonical(body: bytes) -> bytes:
    if not request.is_json:
        return body
    # Read as the request schemas read it (strict and bounded; a hostile body is its 400 or 422 here).
    return json.dumps(request_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _call_view(view: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Response:
    result = current_app.ensure_sync(view)(*args, **kwargs)
    if not isinstance(result, Response):
        raise TypeError(
            f"@idempotent on {view.__qualname__} got {type(result).__name__}, not a Response: "
            "place @idempotent above @blp.response (or return a Response)"
        )
    return result


def _run_view(conn: Connection, call: Callable[[], Response]) -> Response:
    g.tx = conn
    try:
        return call()
    finally:
        g.pop("tx", None)


def _execute(engine: Engine, call: Callable[[], Response]) -> Response:
    with engine.connect() as conn, conn.begin() as tx:
        response = _run_view(conn, call)
        if response.status_code >= 500:
            tx.rollback()
        return response


def _execute_once(engine: Engine, attempt: _Attempt, call: Callable[[], Response]) -> Response:
    with engine.connect() as conn, conn.begin() as tx:
        stored = _load(conn, attempt)
        if stored is None and _claim(conn, attempt):
            response = _run_view(conn, call)
            if response.status_code >= 500:
                tx.rollback()
            else:
                _record(conn, attempt, response)
            return response
        tx.rollback()
    if stored is None:  # lost the race for the claim: the winner has committed by now
        stored = _load_committed(engine, attempt)
    return _answer_from(stored, attempt)


def _load(conn: Connection, attempt: _Attempt) -> Row[Any] | None:
    t = idempotency_keys.c
    query = select(idempotency_keys).where(t.scope == attempt.scope, t.key == attempt.key)
    return conn.execute(query).first()


def _load_committed(engine: Engine, attempt: _Attempt) -> Row[Any] | None:
    with engine.connect() as conn:
        return _load(conn, attempt)


def _claim(conn: Connection, attempt: _Attempt) -> bool:
    """Insert the record's row; False when another request holds the key (unique violation)."""
    row = {
        "scope": attempt.scope,
        "key": attempt.key,
        "method": attempt.method,
        "path": attempt.path,
        "fingerprint": attempt.fingerprint,
        "headers": "[]",
        "created_at": datetime.now(UTC),
    }
    try:
        conn.execute(insert(idempotency_keys).values(**row))
    except IntegrityError:
        return False
    return True


def _record(conn: Connection, attempt: _Attempt, response: Response) -> None:
    kept = [[name, value] for name, value in response.headers.items() if name in STORED_HEADERS]
    body = response.get_data()
    keeper: AnswerKeeper | None = g.pop("answer_keeper", None)
    if keeper is not None and body:
        body = keeper(conn, body)
    t = idempotency_keys.c
    conn.execute(
        update(idempotency_keys)
        .where(t.scope == attempt.scope, t.key == attempt.key)
        .values(status=response.status_code, headers=json.dumps(kept), body=body)
    )


def _answer_from(stored: Row[Any] | None, attempt: _Attempt) -> Response:
    if stored is None or stored.status is None:
        raise IdempotencyKeyInFlight()
    if stored.fingerprint != attempt.fingerprint:
        raise IdempotencyKeyReused()
    log.info("idempotent_replay", idempotency_key=attempt.key, status=stored.status)
    body = stored.body
    opener: AnswerOpener | None = current_app.extensions["guidance"].get("open_stored_answer")
    if opener is not None and body:
        body = opener(body)
    response = current_app.response_class(
        body, status=stored.status, headers=[tuple(h) for h in json.loads(stored.headers)]
    )
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _document(wrapper: Any) -> None:
    """Add the optional header to the operation in OpenAPI, next to flask-smorest's own docs."""
    wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    parameters = wrapper._apidoc.setdefault("arguments", {}).setdefault("parameters", [])
    parameters.append({"in": "headers", "required": False, "schema": _IdempotencyKeyHeader()})
