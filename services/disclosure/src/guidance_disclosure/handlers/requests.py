"""Command handlers of requests for disclosure (依申请公开): one function per command, in the caller's transaction.

The aggregate computes every due date from the working-day calendar; a handler adds the ids and
times, validates the event against the shared catalogue and appends it. An applicant who is a natural person is
sealed before the event is recorded, when sealing is on (``adapters/applicants.py``); nothing here logs them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy import Connection, Engine

from guidance_disclosure.adapters import read_model
from guidance_disclosure.adapters.applicants import Applicants
from guidance_disclosure.domain import request as r
from guidance_disclosure.domain.commands import (
    AnswerRequest,
    EndConsultation,
    ExtendAnswerPeriod,
    RecordSupplement,
    RegisterRequest,
    RequestSupplement,
    StartConsultation,
)
from guidance_disclosure.domain.request import DisclosureRequest
from guidance_shared.chronology import require_not_after
from guidance_shared.dates import CHINA_TZ, china_today, now_utc
from guidance_shared.events.registry import EventRegistry
from guidance_shared.handling import each_in_own_transaction, valid_event_data
from guidance_shared.repository import Repository
from guidance_shared.workdays import WorkingCalendar

STREAM = "DisclosureRequest"


class At(TypedDict, total=False):
    """Where a command meets its request: the version the client saw (If-Match)."""

    expected_version: int | None


@dataclass
class Requests:
    """What the request handlers depend on, built once by ``bootstrap.wire``; ``now`` is the clock."""

    repository: Repository[DisclosureRequest]
    registry: EventRegistry
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    now: Callable[[], datetime] = field(default=now_utc)
    #: seals the applicant before the event is recorded (docs/personal-data.md §6); by default: never
    applicants: Applicants = field(default_factory=lambda: Applicants(None, None, sealing=False))

    def today(self) -> date:
        """Deadlines are China's calendar days, whatever the server's zone."""
        return china_today(self.now())

    def stamp(self) -> str:
        return self.now().astimezone(CHINA_TZ).isoformat()

    def load(self, conn: Connection, request_id: str, *, expected_version: int | None = None) -> DisclosureRequest:
        """The request at its latest version, its deadlines counted on this calendar."""
        return self.repository.load(conn, request_id, expected_version=expected_version, calendar=self.calendar)


def register(requests: Requests, conn: Connection, cmd: RegisterRequest) -> DisclosureRequest:
    require_not_after(cmd.received_on, requests.today(), "received_on")
    request_id = str(uuid.uuid4())
    request = DisclosureRequest(request_id, requests.calendar)
    due = request.receive(cmd.department_id, cmd.received_on)
    data = {
        "department_id": cmd.department_id,
        # Sealed before the aggregate records it: nothing after this point sees the applicant in clear. The key
        # API unreachable is a 503 and, the transaction rolled back, nothing is recorded.
        "applicant": requests.applicants.seal(cmd.applicant),
        "description": cmd.description,
        "channel": cmd.channel,
        "received_on": cmd.received_on,
        "request_id": request_id,
        "received_at": requests.stamp(),
        **due,
    }
    request.record(r.RECEIVED, _valid(requests.registry, r.RECEIVED, data))
    requests.repository.save(conn, request)
    return request


def _step(
    requests: Requests,
    conn: Connection,
    request_id: str,
    fields: Mapping[str, object],
    event_type: str,
    stamp: str,
    decide: Callable[[DisclosureRequest], Mapping[str, Any]],
    **at: Unpack[At],
) -> DisclosureRequest:
    """One step of a request: load it at the version the client saw, let the aggregate decide (and compute
    its dates), record the event with the command's fields, the computed dates and the moment, and save."""
    request = requests.load(conn, request_id, expected_version=at.get("expected_version"))
    data = {**_ids(request), **fields, **decide(request), stamp: requests.stamp()}
    request.record(event_type, _valid(requests.registry, event_type, data))
    requests.repository.save(conn, request)
    return request


def request_supplement(
    requests: Requests, conn: Connection, request_id: str, cmd: RequestSupplement, **at: Unpack[At]
) -> DisclosureRequest:
    require_not_after(cmd.notice_on, requests.today(), "notice_on")
    fields = {
        "items": cmd.items,
        "notice_on": cmd.notice_on,
        "supplement_by": cmd.supplement_by,
        "notified_by": cmd.notified_by.as_data(),
    }
    return _step(
        requests,
        conn,
        request_id,
        fields,
        r.SUPPLEMENT_REQUESTED,
        "requested_at",
        lambda request: request.request_supplement(cmd.notice_on),
        **at,
    )


def record_supplement(
    requests: Requests, conn: Connection, request_id: str, cmd: RecordSupplement, **at: Unpack[At]
) -> DisclosureRequest:
    require_not_after(cmd.supplemented_on, requests.today(), "supplemented_on")
    return _step(
        requests,
        conn,
        request_id,
        {"supplemented_on": cmd.supplemented_on},
        r.SUPPLEMENTED,
        "recorded_at",
        lambda request: request.supplemented(cmd.supplemented_on),
        **at,
    )


def start_consultation(
    requests: Requests, conn: Connection, request_id: str, cmd: StartConsultation, **at: Unpack[At]
) -> DisclosureRequest:
    require_not_after(cmd.started_on, requests.today(), "started_on")
    return _step(
        requests,
        conn,
        request_id,
        {"reason": cmd.reason, "started_on": cmd.started_on},
        r.CONSULTATION_STARTED,
        "started_at",
        lambda request: request.start_consultation(cmd.started_on),
        **at,
    )


def end_consultation(
    requests: Requests, conn: Connection, request_id: str, cmd: EndConsultation, **at: Unpack[At]
) -> DisclosureRequest:
    require_not_after(cmd.ended_on, requests.today(), "ended_on")
    return _step(
        requests,
        conn,
        request_id,
        {"ended_on": cmd.ended_on},
        r.CONSULTATION_ENDED,
        "ended_at",
        lambda request: request.end_consultation(cmd.ended_on),
        **at,
    )


def extend(
    requests: Requests, conn: Connection, request_id: str, cmd: ExtendAnswerPeriod, **at: Unpack[At]
) -> DisclosureRequest:
    today = requests.today()
    fields = {
        "extension_working_days": cmd.extension_working_days,
        "approved_by": cmd.approved_by.as_data(),
        "reason": cmd.reason,
    }
    return _step(
        requests,
        conn,
        request_id,
        fields,
        r.EXTENDED,
        "extended_at",
        lambda request: request.extend(cmd.extension_working_days, cmd.approved_on or today, today),
        **at,
    )


def answer(
    requests: Requests, conn: Connection, request_id: str, cmd: AnswerRequest, **at: Unpack[At]
) -> DisclosureRequest:
    require_not_after(cmd.answered_on, requests.today(), "answered_on")

    def decide(request: DisclosureRequest) -> Mapping[str, Any]:
        return request.answer_with(cmd.answered_on)  # refuses an answered request; says whether it was late

    fields = {
        "answer": cmd.answer,
        "exemption": cmd.exemption,
        "legal_basis": [b.as_data() for b in cmd.legal_basis],
        "reply_doc_no": cmd.reply_doc_no,
        "answered_on": cmd.answered_on,
    }
    return _step(requests, conn, request_id, fields, r.ANSWERED, "answered_at", decide, **at)


def flag_overdue(requests: Requests, engine: Engine, today: date) -> int:
    """Emit DisclosureRequestOverdue once per request past its due date; safe with several workers.

    Each request is flagged in its own transaction at the version it was loaded at; a worker that
    loses the race gets a conflict and moves on, and the aggregate never flags a request twice.
    """
    with engine.connect() as conn:
        candidates = read_model.requests_past_due(conn, today)

    def flag(conn: Connection, request_id: str) -> bool:
        request = requests.load(conn, request_id)
        data = {**_ids(request), "answer_due_on": request.answer_due_on().isoformat(), "detected_at": requests.stamp()}
        if not request.mark_overdue(_valid(requests.registry, r.OVERDUE, data), today):
            return False
        requests.repository.save(conn, request)
        return True

    return each_in_own_transaction(engine, candidates, flag)


def recompute_deadlines(requests: Requests, engine: Engine) -> int:
    """Count again, on the calendar now loaded, every open request whose answer due date was an estimate.

    Run when the calendar may have changed (the worker at start): a newer chinesecalendar or the override
    file brings the year's arrangement. A request whose due date moves, or stops being an estimate, records
    DisclosureRequestDeadlineRecomputed with both dates and the calendar's version; a repeated run records
    nothing. Each request in its own transaction, at the version it was loaded at.
    """
    with engine.connect() as conn:
        candidates = read_model.requests_estimated(conn)

    def recompute(conn: Connection, request_id: str) -> bool:
        request = requests.load(conn, request_id)
        deadline = request.recount()
        if deadline is None:
            return False
        assert request.recorded_due_on is not None  # an estimate was recorded with its date
        data = {
            **_ids(request),
            "previous_answer_due_on": request.recorded_due_on.isoformat(),
            "answer_due_on": deadline.due_on.isoformat(),
            "previously_estimated": request.deadline_estimated,
            "deadline_estimated": deadline.estimated,
            "calendar_version": requests.calendar.version,
            "recomputed_at": requests.stamp(),
        }
        request.recompute(_valid(requests.registry, r.RECOMPUTED, data))
        requests.repository.save(conn, request)
        return True

    return each_in_own_transaction(engine, candidates, recompute)


def _ids(request: DisclosureRequest) -> Mapping[str, str]:
    return {"request_id": request.request_id, "department_id": request.department_id}


def _valid(registry: EventRegistry, ce_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The event's data, normalised by its schema; a 422 in the words of a request for disclosure."""
    return valid_event_data(registry, ce_type, data, record_en="a request for disclosure", record_zh="政府信息公开申请")
