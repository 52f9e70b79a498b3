"""The access log over HTTP: endpoints record their reads of personal data; auditors read the log.

``record_read`` is what an endpoint that returns a natural person's data in clear calls before it returns:
it appends the entry (``guidance_shared.access_log``) in a transaction of its own, and if that fails the
request fails with 503 — personal data is never served unrecorded.

``GET /v1/access-log`` pages through the entries (auditor or admin; keyset on the entry number) and
``GET /v1/access-log/export`` streams them as CSV, with the same filters. The entries name people by
pseudonym only, so reading the log is not itself a read of personal data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC
from typing import Any

from flask import Response, current_app, stream_with_context
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import Connection

from guidance_shared import access_log
from guidance_shared.auth import ADMIN, AUDITOR, requires
from guidance_shared.auth.web import current_principal
from guidance_shared.db import reading
from guidance_shared.errors import GuidanceError
from guidance_shared.spreadsheets import CSV_TYPE, to_csv
from guidance_shared.web.json_input import Blueprint
from guidance_shared.web.observability import current_request_id

PAGE_LIMIT = 500
EXPORT_BATCH = 2000
COLUMNS = tuple(field.name for field in access_log.access_log.columns)

access_log_blp = Blueprint(
    "access_log",
    __name__,
    url_prefix="/v1/access-log",
    description="个人信息访问记录 who read which natural person's data, when and why (auditors)",
)


class AccessNotRecorded(GuidanceError):
    """The read could not be recorded, so its data is not served."""

    def __init__(self) -> None:
        super().__init__(
            code="access-not-recorded",
            title_en="Access could not be recorded",
            title_zh="访问记录写入失败",
            status=503,
            detail_en="Personal data is served only once its access is recorded; try again shortly.",
            detail_zh="个人信息须在访问被记录后方可提供，请稍后重试。",
        )


def record_read(
    purpose: str,
    *,
    subject_refs: tuple[str | None, ...] = (None,),
    record_id: str | None = None,
    count: int = 1,
    within: Connection | None = None,
) -> None:
    """Record that the current caller read personal data: one entry per subject (a bulk read: one entry, ``count``).
    ``within``: a command's transaction, when its answer is the read; the entry then commits with the command."""
    principal = current_principal()
    accesses = [
        access_log.Access(
            actor=principal.subject,
            actor_department=principal.department_id,
            roles=",".join(sorted(principal.roles)),
            purpose=purpose,
            subject_ref=subject_ref,
            record_id=record_id,
            count=count,
            request_id=current_request_id(),
        )
        for subject_ref in subject_refs
    ]
    try:
        if within is None:
            access_log.append(_engine(), accesses)
        else:
            access_log.append_within(within, accesses)
    except Exception as error:  # any failure to write: refuse rather than serve unrecorded
        raise AccessNotRecorded() from error


@dataclass(frozen=True)
class Read:
    """One read among several of one request (``record_reads``): why, whom, which record."""

    purpose: str
    subject_ref: str | None
    record_id: str | None


def record_reads(reads: Sequence[Read]) -> None:
    """Record several reads of the current caller at once, one entry each, in one transaction (a key API call
    handing out many keys); refused (503) as ``record_read`` is when they cannot be written."""
    principal = current_principal()
    accesses = [
        access_log.Access(
            actor=principal.subject,
            actor_department=principal.department_id,
            roles=",".join(sorted(principal.roles)),
            purpose=read.purpose,
            subject_ref=read.subject_ref,
            record_id=read.record_id,
            request_id=current_request_id(),
        )
        for read in reads
    ]
    try:
        access_log.append(_engine(), accesses)
    except Exception as error:  # any failure to write: refuse rather than serve unrecorded
        raise AccessNotRecorded() from error


class AccessQuery(Schema):
    after = fields.Integer(
        load_default=0, validate=validate.Range(min=0), metadata={"description": "游标：上一页最后一条的序号"}
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=PAGE_LIMIT))
    actor = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "令牌主体"})
    subject_ref = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "当事人假名"})
    since = fields.AwareDateTime(metadata={"description": "起（含）"})
    until = fields.AwareDateTime(metadata={"description": "止（不含）"})


class ExportQuery(AccessQuery):
    class Meta:
        exclude = ("after", "limit")


class AccessEntry(Schema):
    seq = fields.Integer(required=True)
    at = fields.String(required=True, metadata={"description": "UTC, ISO 8601"})
    actor = fields.String(required=True)
    actor_department = fields.String(allow_none=True)
    roles = fields.String(required=True)
    purpose = fields.String(required=True, metadata={"description": "the operation that read the data"})
    subject_ref = fields.String(allow_none=True, metadata={"description": "the person's pseudonym; null for bulk"})
    record_id = fields.String(allow_none=True)
    count = fields.Integer(required=True, metadata={"description": "records read (a ledger export: its rows)"})
    request_id = fields.String(allow_none=True)
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)


class AccessPage(Schema):
    entries = fields.List(fields.Nested(AccessEntry), required=True)
    next = fields.Integer(allow_none=True, required=True, metadata={"description": "pass as after= for the next page"})


def _filters(query: Mapping[str, Any]) -> dict[str, Any]:
    def moment(key: str) -> str | None:
        value = query.get(key)
        return None if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")

    return {
        "actor": query.get("actor"),
        "subject_ref": query.get("subject_ref"),
        "since": moment("since"),
        "until": moment("until"),
    }


def _engine() -> Any:
    return current_app.extensions["guidance"]["runtime"].engine


@access_log_blp.route("")
class AccessLog(MethodView):
    @requires(AUDITOR, ADMIN)
    @access_log_blp.arguments(AccessQuery, location="query")
    @access_log_blp.response(200, AccessPage)
    def get(self, query: Mapping[str, Any]) -> Any:
        """Entries of the access log in order, after a cursor, filtered by reader, person or time."""
        with reading(_engine()) as conn:
            page = access_log.entries(conn, after=query["after"], limit=query["limit"], **_filters(query))
        more = len(page) == query["limit"]
        return {"entries": [asdict(entry) for entry in page], "next": page[-1].seq if more else None}


@access_log_blp.route("/export")
class AccessLogExport(MethodView):
    @requires(AUDITOR, ADMIN)
    @access_log_blp.arguments(ExportQuery, location="query")
    @access_log_blp.doc(
        responses={"200": {"description": "CSV (UTF-8 with BOM), every matching entry", "content": {CSV_TYPE: {}}}}
    )
    def get(self, query: Mapping[str, Any]) -> Response:
        """Every matching entry as CSV, streamed in order (for an audit's working papers)."""
        engine, filters = _engine(), _filters(query)

        def rows() -> Iterator[bytes]:
            yield to_csv(COLUMNS, [])
            after = 0
            while True:
                with reading(engine) as conn:
                    page = access_log.entries(conn, after=after, limit=EXPORT_BATCH, **filters)
                if not page:
                    return
                body = to_csv(COLUMNS, [[getattr(entry, c) for c in COLUMNS] for entry in page])
                yield body.split(b"\r\n", 1)[1]  # the header once, at the top
                after = page[-1].seq

        headers = {"Content-Disposition": 'attachment; filename="access-log.csv"'}
        return Response(stream_with_context(rows()), mimetype=CSV_TYPE, headers=headers)
