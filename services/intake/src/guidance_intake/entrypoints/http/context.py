"""What a view needs of the running service: its handlers' dependencies and a connection for reading."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from flask import Response, current_app, request
from sqlalchemy import Connection, Engine

from guidance_intake import handlers
from guidance_intake.domain.case import Case
from guidance_intake.domain.guidance import Guidance
from guidance_intake.handlers import IntakeDeps
from guidance_shared.db import reading as read_only
from guidance_shared.personal_data.field import is_sealed
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.web import current_tx
from guidance_shared.web.access_log import record_read
from guidance_shared.web.idempotency import REPLAYED_HEADER, keep_answer_as
from guidance_shared.web.json_input import operation_id

#: counterparts who are natural persons: reading their record is a read of personal data
PERSONS = ("person", "individual_business")


def _runtime() -> Runtime[IntakeDeps]:
    """The runtime the app was created with: the one place a view looks it up."""
    return cast(Runtime[IntakeDeps], current_app.extensions["guidance"]["runtime"])


def deps() -> IntakeDeps:
    return _runtime().deps


def settings() -> Settings:
    """The kernel's settings the service runs with (e.g. the web worker's timeout)."""
    return _runtime().settings


def engine() -> Engine:
    """The service's database engine."""
    return _runtime().engine


@contextmanager
def reading() -> Iterator[Connection]:
    """The request's transaction when it has one (a command), else a connection of its own (a read)."""
    try:
        tx: Connection | None = current_tx()
    except RuntimeError:
        tx = None
    if tx is not None:
        yield tx
    else:
        with read_only(_runtime().engine) as conn:
            yield conn


def record_person_read(purpose: str, details: Mapping[str, Any], record_id: str | None, *, count: int = 1) -> None:
    """Record, before the answer leaves, that the caller read a natural person's data (an act's or a case's
    counterpart); nothing for an enterprise's record. The person is named by pseudonym when one is configured.
    Inside a command the entry is written in the command's transaction: it commits exactly when the command
    does, and the answer that echoes the record leaves only after that commit."""
    counterpart = details.get("counterpart") or {}
    if counterpart.get("kind") not in PERSONS:
        return
    personal = deps().personal
    if personal is not None:  # the pseudonym the event carries, or one computed from the clear number
        subject = personal.subject_id(counterpart)
    else:
        pseudonyms, id_no = deps().pseudonyms, counterpart.get("id_no")
        subject = pseudonyms.subject_id(str(id_no)) if pseudonyms is not None and id_no else None
    record_read(purpose, subject_refs=(subject,), record_id=record_id, count=count, within=_command_tx())


def record_person_answer(details: Mapping[str, Any], record_id: str, *, shaped_as: str) -> None:
    """A command's answer shows the record it changed, its counterpart opened: a read like a GET's, named by the
    command's operation (``postGuidanceCollection``, ``postCaseDecision`` …, as in the OpenAPI document).

    The answer is also kept for the command's retries (``Idempotency-Key``): that copy keeps the person's fields
    sealed, as the record's events do (``shaped_as``: the event whose fields the record's details have), so no
    clear copy of them outlives the answer, and a retry after the person's erasure reads ［已删除］."""
    record_person_read(answer_operation(), details, record_id)
    personal = deps().personal
    if personal is not None and personal.sealing and (details.get("counterpart") or {}).get("kind") in PERSONS:
        keep_answer_as(functools.partial(_sealed_answer, shaped_as))


def _sealed_answer(event_name: str, conn: Connection, body: bytes) -> bytes:
    answer = json.loads(body)
    personal = deps().personal
    if personal is None or not isinstance(answer, dict) or not isinstance(answer.get("details"), dict):
        return body
    answer["details"] = personal.sealed_answer(conn, event_name, answer["details"])
    return _same_form(answer)


def open_stored_answer(body: bytes) -> bytes:
    """A stored command answer as it was sent: its sealed fields opened (``［已删除］`` once erased)."""
    personal = deps().personal
    if personal is None or SEALED_MARK not in body:
        return body
    answer = json.loads(body)
    details = answer.get("details") if isinstance(answer, dict) else None
    event_name = next((v["aad"]["event"] for v in _sealed_values(details) if isinstance(v.get("aad"), dict)), None)
    if not isinstance(details, dict) or not isinstance(event_name, str):
        return body
    with read_only(_runtime().engine) as conn:
        answer["details"] = personal.opener(conn).opened(event_name, details)
    return _same_form(answer)


#: what every sealed field's JSON holds (docs/personal-data.md §2): a stored answer without it has none
SEALED_MARK = b'"A256GCM"'


def _sealed_values(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, dict):
        if is_sealed(node):
            yield node
        else:
            for value in node.values():
                yield from _sealed_values(value)


def _same_form(answer: Any) -> bytes:
    """``answer`` serialised as the app serialises its answers (so a retry's body is the first's, byte for byte)."""
    return cast(Response, current_app.json.response(answer)).get_data()


def answer_operation() -> str:
    """The current request's ``operationId``."""
    return operation_id(request.method, (request.endpoint or "").rsplit(".", 1)[-1])


def replays_recorded(id_field: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Above ``@idempotent``: a retried command is answered with the stored body of its first answer, which
    echoes the record as the first did, without running the view again; so the replayed answer is recorded
    here, as the view recorded the first (``id_field``: where the body names the record)."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            response = view(*args, **kwargs)
            if response.headers.get(REPLAYED_HEADER) == "true" and response.status_code < 300:
                body = response.get_json(silent=True)
                if isinstance(body, dict) and isinstance(body.get("details"), dict):
                    record_person_read(answer_operation(), body["details"], str(body.get(id_field) or "") or None)
            return response

        return wrapper

    return decorate


def _command_tx() -> Connection | None:
    try:
        return current_tx()
    except RuntimeError:
        return None


def shown_guidance(guidance: Guidance) -> Guidance:
    """The act as an answer or a document shows it: its counterpart opened (docs/personal-data.md §6)."""
    with reading() as conn:
        return handlers.opened_guidance(deps(), conn, guidance)


def shown_case(case: Case) -> Case:
    """The case as an answer shows it: its counterpart opened."""
    with reading() as conn:
        return handlers.opened_case(deps(), conn, case)
