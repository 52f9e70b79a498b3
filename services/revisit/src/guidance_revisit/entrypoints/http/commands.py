"""One shape for every command endpoint: check the caller may act on the record, build the typed
command from the loaded body, run its handler in the request's transaction, answer with the record.

``POST /v1/revisits/<id>/completion`` and ``POST /v1/reminder-plans/<id>/acceptance`` alike:
roles first, then the body (a 422 before any transaction), then ``@idempotent`` (one transaction,
replayed for a repeated ``Idempotency-Key``), then the response schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from flask.views import MethodView
from marshmallow import Schema
from sqlalchemy import Connection

from guidance_revisit.entrypoints.http.context import deps
from guidance_revisit.handlers import RevisitDeps
from guidance_shared.auth import requires
from guidance_shared.web import CONDITIONAL, Blueprint, current_tx, idempotent, if_match

C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Handler(Protocol[C_contra, R_co]):
    """A command handler: the deps, the request's transaction, the command, the version the client saw."""

    def __call__(
        self,
        deps: RevisitDeps,
        conn: Connection,
        cmd: C_contra,
        *,
        expected_version: int | None = None,
    ) -> R_co: ...


def command_route(
    blp: Blueprint,
    path: str,
    view_name: str,
    *,
    roles: Sequence[str],
    schema: type[Schema],
    response: type[Schema],
    own: Callable[[str, Connection], object],
    build: Callable[[str, Mapping[str, Any]], C],
    handler: Handler[C, R],
    respond: Callable[[str, R, Connection], Any],
    summary: str,
) -> None:
    """Route ``POST <path>`` (one ``<uuid:…>`` in it) to ``handler``, as the view class ``view_name``.

    ``own(id, conn)`` raises unless the caller may act on the record; ``build(id, body)`` makes the
    command; ``respond(id, result, conn)`` is the view's return value (body, status, headers).
    """

    @requires(*roles)
    @blp.arguments(schema)
    @idempotent
    @blp.doc(**CONDITIONAL)
    @blp.response(200, response)
    def post(self: Any, body: Mapping[str, Any], **path_args: Any) -> Any:
        [record_id] = [str(value) for value in path_args.values()]
        conn = current_tx()
        own(record_id, conn)
        result = handler(
            deps(),
            conn,
            build(record_id, body),
            expected_version=if_match(),
        )
        return respond(record_id, result, conn)

    post.__doc__ = summary
    blp.route(path)(type(view_name, (MethodView,), {"post": post}))
