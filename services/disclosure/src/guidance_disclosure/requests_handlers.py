"""Command handlers of requests for disclosure (依申请公开): one function per command, in the caller's transaction.

The aggregate computes every due date from the working-day calendar; a handler adds the ids and
times, validates the event against the shared catalogue and appends it. The applicant's personal
data stays in the events and the read model of disclosure's own store: nothing here logs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Connection, Engine

from guidance_disclosure.adapters import requests_read_model as read_model
from guidance_disclosure.domain import request as r
from guidance_disclosure.domain.request import DisclosureRequest
from guidance_shared.commands import each_in_own_transaction, save
from guidance_shared.errors import ConcurrencyError, GuidanceError, NotFound
from guidance_shared.events.registry import EventRegistry, InvalidEventData
from guidance_shared.eventstore import EventStore
from guidance_shared.web.messages import field_problems
from guidance_shared.workdays import WorkingCalendar

log = structlog.get_logger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")
STREAM = "DisclosureRequest"


@dataclass
class Requests:
    store: EventStore
    registry: EventRegistry
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def today(self) -> date:
        """Deadlines are China's calendar days, whatever the server's zone."""
        return self.now().astimezone(CHINA).date()

    def stamp(self) -> str:
        return self.now().astimezone(CHINA).isoformat()


Command = Mapping[str, Any]


def register(
    requests: Requests, conn: Connection, command: Command, *, correlation_id: str | None = None
) -> DisclosureRequest:
    request_id = str(uuid.uuid4())
    request = DisclosureRequest(request_id, requests.calendar)
    received_on = _date(command["received_on"])
    due = request.receive(str(command["department_id"]), received_on)
    data = {**command, "request_id": request_id, "received_at": requests.stamp(), **due}
    request.record(r.RECEIVED, _valid(requests.registry, r.RECEIVED, data))
    _save(requests, conn, request, correlation_id=correlation_id)
    return request


def _step(
    requests: Requests,
    conn: Connection,
    request_id: str,
    command: Command,
    kw: Mapping[str, Any],
    event_type: str,
    stamp: str,
    decide: Callable[[DisclosureRequest], Mapping[str, Any]],
) -> DisclosureRequest:
    """One step of a request: load it at the version the client saw, let the aggregate decide (and compute
    its dates), record the event with the command, the computed dates and the moment, and save."""
    request = load(requests, request_id, conn=conn, expected_version=kw.get("expected_version"))
    data = {**_ids(request), **command, **decide(request), stamp: requests.stamp()}
    request.record(event_type, _valid(requests.registry, event_type, data))
    _save(requests, conn, request, correlation_id=kw.get("correlation_id"))
    return request


def request_supplement(
    requests: Requests, conn: Connection, request_id: str, command: Command, **kw: Any
) -> DisclosureRequest:
    notice_on = _date(command["notice_on"])
    return _step(
        requests,
        conn,
        request_id,
        command,
        kw,
        r.SUPPLEMENT_REQUESTED,
        "requested_at",
        lambda request: request.request_supplement(notice_on),
    )


def record_supplement(
    requests: Requests, conn: Connection, request_id: str, command: Command, **kw: Any
) -> DisclosureRequest:
    supplemented_on = _date(command["supplemented_on"])
    return _step(
        requests,
        conn,
        request_id,
        command,
        kw,
        r.SUPPLEMENTED,
        "recorded_at",
        lambda request: request.supplemented(supplemented_on),
    )


def start_consultation(
    requests: Requests, conn: Connection, request_id: str, command: Command, **kw: Any
) -> DisclosureRequest:
    started_on = _date(command["started_on"])
    return _step(
        requests,
        conn,
        request_id,
        command,
        kw,
        r.CONSULTATION_STARTED,
        "started_at",
        lambda request: request.start_consultation(started_on),
    )


def end_consultation(
    requests: Requests, conn: Connection, request_id: str, command: Command, **kw: Any
) -> DisclosureRequest:
    ended_on = _date(command["ended_on"])
    return _step(
        requests,
        conn,
        request_id,
        command,
        kw,
        r.CONSULTATION_ENDED,
        "ended_at",
        lambda request: request.end_consultation(ended_on),
    )


def extend(requests: Requests, conn: Connection, request_id: str, command: Command, **kw: Any) -> DisclosureRequest:
    days = int(command["extension_working_days"])
    return _step(
        requests,
        conn,
        request_id,
        command,
        kw,
        r.EXTENDED,
        "extended_at",
        lambda request: request.extend(days, requests.today()),
    )


def answer(requests: Requests, conn: Connection, request_id: str, command: Command, **kw: Any) -> DisclosureRequest:
    def decide(request: DisclosureRequest) -> Mapping[str, Any]:
        request.answer_with()  # refuses an answered request; an answer computes no dates
        return {}

    return _step(requests, conn, request_id, command, kw, r.ANSWERED, "answered_at", decide)


def flag_overdue(requests: Requests, engine: Engine, today: date) -> int:
    """Emit DisclosureRequestOverdue once per request past its due date; safe with several workers.

    Each request is flagged in its own transaction at the version it was loaded at; a worker that
    loses the race gets a conflict and moves on, and the aggregate never flags a request twice.
    """
    with engine.connect() as conn:
        candidates = read_model.past_due(conn, today)

    def flag(conn: Connection, request_id: str) -> bool:
        request = load(requests, request_id, conn=conn)
        data = {**_ids(request), "answer_due_on": request.answer_due_on().isoformat(), "detected_at": requests.stamp()}
        if not request.mark_overdue(_valid(requests.registry, r.OVERDUE, data), today):
            return False
        _save(requests, conn, request)
        return True

    return each_in_own_transaction(engine, candidates, flag)


def load(
    requests: Requests, request_id: str, *, conn: Connection | None = None, expected_version: int | None = None
) -> DisclosureRequest:
    history = requests.store.load(request_id, conn=conn)
    if not history or history[0].stream_type != STREAM:
        raise NotFound("request", "政府信息公开申请", request_id)
    request = DisclosureRequest.from_history(request_id, history, calendar=requests.calendar)
    if expected_version is not None and expected_version != request.version:
        raise ConcurrencyError(request_id, expected_version, request.version)
    return request


def _ids(request: DisclosureRequest) -> dict[str, Any]:
    return {"request_id": request.request_id, "department_id": request.department_id}


def _save(
    requests: Requests, conn: Connection, request: DisclosureRequest, *, correlation_id: str | None = None
) -> None:
    save(
        requests.store,
        conn,
        request,
        request.request_id,
        STREAM,
        project=read_model.apply,
        correlation_id=correlation_id,
    )


def _valid(registry: EventRegistry, ce_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return registry.validate(ce_type, _plain(data))
    except InvalidEventData as exc:
        raise GuidanceError(
            code="validation-failed",
            title_en="Validation failed",
            title_zh="校验未通过",
            status=422,
            detail_en="The request breaks the rules of a request for disclosure; see errors.",
            detail_zh="请求不符合政府信息公开申请的规则，详见 errors。",
            fields=field_problems(exc.messages),
        ) from exc


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    """Dates and ids as the JSON the event carries."""
    return {
        k: v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, uuid.UUID) else v for k, v in data.items()
    }


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
