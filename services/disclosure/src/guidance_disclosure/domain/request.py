"""The request for disclosure (依申请公开) and its working-day deadlines (政府信息公开条例 arts. 30–33).

The answer is due 20 working days after the clock starts: on receipt, or, after the one-time
notice to complete the request (补正), on the day the applicant supplements it. An approved
extension adds at most 20 working days, once. Time spent consulting a third party is not counted:
the working days after the consultation started up to and including the day it ended move the
due date. All of it is computed from three numbers (clock start, extension, days paused) with the
real holiday calendar, so the due date never drifts from the rules that make it.

In a year whose holiday arrangement is not published yet the calendar estimates (``workdays``): every
event that records a due date says ``deadline_estimated``, and when the arrangement arrives (a newer
chinesecalendar or the override file) ``recount`` counts an open request's due date again and
``recompute`` records DisclosureRequestDeadlineRecomputed with the old and the new date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from guidance_shared import catalogue
from guidance_shared.aggregate import Aggregate
from guidance_shared.dates import as_date
from guidance_shared.dispatch import EventHandlers
from guidance_shared.errors import FieldProblem, GuidanceError
from guidance_shared.workdays import Deadline, WorkingCalendar

RECEIVED = catalogue.DISCLOSURE_REQUEST_RECEIVED
SUPPLEMENT_REQUESTED = catalogue.DISCLOSURE_REQUEST_SUPPLEMENT_REQUESTED
SUPPLEMENTED = catalogue.DISCLOSURE_REQUEST_SUPPLEMENTED
CONSULTATION_STARTED = catalogue.DISCLOSURE_REQUEST_CONSULTATION_STARTED
CONSULTATION_ENDED = catalogue.DISCLOSURE_REQUEST_CONSULTATION_ENDED
EXTENDED = catalogue.DISCLOSURE_REQUEST_EXTENDED
ANSWERED = catalogue.DISCLOSURE_REQUEST_ANSWERED
OVERDUE = catalogue.DISCLOSURE_REQUEST_OVERDUE
RECOMPUTED = catalogue.DISCLOSURE_REQUEST_DEADLINE_RECOMPUTED

#: Working days an approved extension adds at most, once (条例第三十三条); the event contract's bound too.
MAX_EXTENSION_WORKING_DAYS = 20
#: Working days after receipt for the one-time notice to complete the request (补正, 条例第三十条).
SUPPLEMENT_NOTICE_WORKING_DAYS = 7
#: Working days to answer (条例第三十三条).
ANSWER_WORKING_DAYS = 20
#: Working days a consulted third party has to reply (条例第三十二条).
CONSULTATION_WORKING_DAYS = 15

#: Status while the answer clock runs; the others stop it or end the request.
OPEN = "open"
AWAITING_SUPPLEMENT = "awaiting_supplement"
IN_CONSULTATION = "in_consultation"
ANSWERED_STATUS = "answered"


def refused(request_id: str, field_name: str, en: str, zh: str) -> GuidanceError:
    """409: the request's state or its deadlines do not allow the command; the field says which rule."""
    return GuidanceError(
        code="request-rule",
        title_en="Not allowed for this request",
        title_zh="该申请当前不允许此操作",
        status=409,
        detail_en=f"Request {request_id}: {en}",
        detail_zh=f"申请 {request_id}：{zh}",
        fields=[FieldProblem(field_name, en, zh)],
    )


@dataclass
class DisclosureRequest(Aggregate):
    request_id: str
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    status: str = "new"
    department_id: str = ""
    received_on: date | None = None
    clock_start: date | None = None
    extension_days: int = 0
    paused_days: int = 0
    supplement_requested: bool = False
    consultation_started_on: date | None = None
    overdue_flagged: bool = False
    answered_late: bool = False
    working_days_late: int = 0
    answer: Mapping[str, Any] = field(default_factory=dict)
    recorded_due_on: date | None = None  # the answer due date the last event recorded
    deadline_estimated: bool = False  # whether that date was counted on an estimated calendar

    # -- deadlines ---------------------------------------------------------------------------------
    def answer_due_on(
        self, *, clock_start: date | None = None, extension: int | None = None, paused: int | None = None
    ) -> date:
        """20 working days after the clock start, plus the extension and the working days paused."""
        start = clock_start or self.clock_start
        assert start is not None, "a request has a clock start once received"
        days = ANSWER_WORKING_DAYS + (self.extension_days if extension is None else extension)
        days += self.paused_days if paused is None else paused
        return self.calendar.add_working_days(start, days)

    def answer_deadline(
        self, *, clock_start: date | None = None, extension: int | None = None, paused: int | None = None
    ) -> Deadline:
        """``answer_due_on`` and whether it was counted on an estimated calendar."""
        start = clock_start or self.clock_start
        assert start is not None, "a request has a clock start once received"
        due = self.answer_due_on(clock_start=clock_start, extension=extension, paused=paused)
        return Deadline(due, self._estimated(start, due))

    def _estimated(self, start: date, due: date) -> bool:
        return any(self.calendar.estimated(date(year, 1, 1)) for year in range(start.year, due.year + 1))

    def _due(self, deadline: Deadline) -> dict[str, str | int | bool]:
        return {"answer_due_on": deadline.due_on.isoformat(), "deadline_estimated": deadline.estimated}

    def supplement_notice_due_on(self) -> date:
        """The last day for the one-time 补正 notice: 7 working days after receipt."""
        assert self.received_on is not None
        return self.calendar.add_working_days(self.received_on, SUPPLEMENT_NOTICE_WORKING_DAYS)

    # -- commands: each takes the event data the handler built, and returns the computed dates ------
    def receive(self, department_id: str, received_on: date) -> dict[str, str | int | bool]:
        if self.status != "new":
            raise refused(self.request_id, "request_id", "It is already registered.", "该申请已登记。")
        return self._due(self.calendar.deadline(received_on, ANSWER_WORKING_DAYS))

    def request_supplement(self, notice_on: date) -> dict[str, str | int | bool]:
        """Only once, only before the answer clock runs far, only within 7 working days of receipt."""
        if self.supplement_requested:
            raise refused(
                self.request_id, "notice_on", "A supplement was already requested once.", "补正通知只能发出一次。"
            )
        self._require(OPEN)
        assert self.received_on is not None
        if notice_on < self.received_on:
            raise refused(self.request_id, "notice_on", "Must not be before receipt.", "不得早于收到申请之日。")
        return {"notice_due_on": self.supplement_notice_due_on().isoformat()}

    def supplemented(self, supplemented_on: date) -> dict[str, str | int | bool]:
        """The clock restarts from the supplement: 20 working days from that day."""
        self._require(AWAITING_SUPPLEMENT)
        assert self.received_on is not None
        if supplemented_on < self.received_on:
            raise refused(self.request_id, "supplemented_on", "Must not be before receipt.", "不得早于收到申请之日。")
        return self._due(self.answer_deadline(clock_start=supplemented_on))

    def start_consultation(self, started_on: date) -> dict[str, str | int]:
        self._require(OPEN)
        assert self.clock_start is not None
        if started_on < self.clock_start:
            raise refused(
                self.request_id, "started_on", "Must not be before the clock start.", "不得早于答复期限起算日。"
            )
        return {"reply_due_on": self.calendar.add_working_days(started_on, CONSULTATION_WORKING_DAYS).isoformat()}

    def end_consultation(self, ended_on: date) -> dict[str, str | int | bool]:
        """The working days after the start up to and including the end are not counted."""
        self._require(IN_CONSULTATION)
        assert self.consultation_started_on is not None
        if ended_on < self.consultation_started_on:
            raise refused(self.request_id, "ended_on", "Must not be before the start.", "不得早于征求意见之日。")
        paused = self.calendar.working_days_between(self.consultation_started_on, ended_on)
        return {"paused_working_days": paused, **self._due(self.answer_deadline(paused=self.paused_days + paused))}

    def extend(self, days: int, approved_on: date, today: date) -> dict[str, str | int | bool]:
        """Once, at most 20 working days, approved before the period runs out. What counts is the day it
        was approved, not the day it is recorded: an approval of the last day entered the next morning
        stands, one given after the deadline does not."""
        if self.extension_days:
            raise refused(
                self.request_id,
                "extension_working_days",
                "The period was already extended once.",
                "答复期限只能延长一次。",
            )
        if not 1 <= days <= MAX_EXTENSION_WORKING_DAYS:
            raise refused(
                self.request_id,
                "extension_working_days",
                f"Must be between 1 and {MAX_EXTENSION_WORKING_DAYS}.",
                f"延长期限为1至{MAX_EXTENSION_WORKING_DAYS}个工作日。",
            )
        if self.status not in (OPEN, IN_CONSULTATION):
            self._require(OPEN)
        assert self.received_on is not None
        if approved_on > today:
            raise refused(self.request_id, "approved_on", "Must not be in the future.", "批准日期不得晚于今天。")
        if approved_on < self.received_on:
            en, zh = "Must not be before receipt.", "批准日期不得早于收到申请之日。"
            raise refused(self.request_id, "approved_on", en, zh)
        due = self.answer_due_on()
        if approved_on > due:
            raise refused(
                self.request_id,
                "approved_on",
                f"Approved after the answer period ran out on {due.isoformat()}; it can no longer be extended.",
                f"批准日期晚于答复期限（{due.isoformat()}），期限届满后不能再延长。",
            )
        return {**self._due(self.answer_deadline(extension=days)), "approved_on": approved_on.isoformat()}

    def answer_with(self, answered_on: date) -> dict[str, str | int | bool]:
        """An answer ends the request; a running consultation has to be ended first, to count its days. An
        answer after the due date is recorded as late, with the working days after the due date up to and
        including the day of the answer (0 when the answer came on a rest day right after it)."""
        self._require(OPEN)
        due = self.answer_due_on()
        late = answered_on > due
        return {
            "answer_due_on": due.isoformat(),
            "late": late,
            "working_days_late": self.calendar.working_days_between(due, answered_on),
        }

    def recount(self) -> Deadline | None:
        """The answer due date counted again on this calendar; None unless the recorded one was an estimate of a
        request whose clock runs and the count now differs (another date, or no longer an estimate). A stopped
        clock (补正 awaited, a consultation) is counted afresh when it runs again."""
        if self.status != OPEN or not self.deadline_estimated:
            return None
        deadline = self.answer_deadline()
        if deadline.due_on == self.recorded_due_on and deadline.estimated == self.deadline_estimated:
            return None
        return deadline

    def recompute(self, data: Mapping[str, Any]) -> None:
        self._require(OPEN)
        self.record(RECOMPUTED, dict(data))

    def is_overdue(self, today: date) -> bool:
        """Past the due date with the clock running; a paused or stopped clock cannot run late."""
        return self.status == OPEN and not self.overdue_flagged and self.answer_due_on() < today

    def mark_overdue(self, data: Mapping[str, Any], today: date) -> bool:
        """Flag the request once; False when it is not overdue or already flagged."""
        if not self.is_overdue(today):
            return False
        self.record(OVERDUE, dict(data))
        return True

    # -- events ------------------------------------------------------------------------------------

    def _require(self, status: str) -> None:
        if self.status != status:
            raise refused(
                self.request_id,
                "status",
                f"It is {self.status}; this needs {status}.",
                f"当前状态为 {self.status}，此操作要求 {status}。",
            )

    def _recorded(self, data: Mapping[str, Any]) -> None:
        """The due date an event recorded, and whether it was an estimate (absent from earlier events: not)."""
        if data.get("answer_due_on") is not None:
            self.recorded_due_on = as_date(data["answer_due_on"])
            self.deadline_estimated = bool(data.get("deadline_estimated"))

    def _received(self, data: Mapping[str, Any]) -> None:
        self.status, self.department_id = OPEN, str(data["department_id"])
        self.received_on = self.clock_start = as_date(data["received_on"])
        self._recorded(data)

    def _supplement_requested(self, data: Mapping[str, Any]) -> None:
        self.status, self.supplement_requested = AWAITING_SUPPLEMENT, True

    def _supplemented(self, data: Mapping[str, Any]) -> None:
        self.status, self.clock_start = OPEN, as_date(data["supplemented_on"])
        self._recorded(data)

    def _consultation_started(self, data: Mapping[str, Any]) -> None:
        self.status, self.consultation_started_on = IN_CONSULTATION, as_date(data["started_on"])

    def _consultation_ended(self, data: Mapping[str, Any]) -> None:
        self.status, self.consultation_started_on = OPEN, None
        self.paused_days += int(data["paused_working_days"])
        self._recorded(data)

    def _extended(self, data: Mapping[str, Any]) -> None:
        self.extension_days = int(data["extension_working_days"])
        self._recorded(data)
        # approved before the deadline (extend refuses any other), so a flag raised while its record was
        # still to come was premature: the request was never late
        self.overdue_flagged = False

    def _answered(self, data: Mapping[str, Any]) -> None:
        self.status, self.answer = ANSWERED_STATUS, dict(data)
        # answers recorded before the event carried it say nothing; their lateness is computed anew
        if data.get("late") is None:
            due, answered_on = self.answer_due_on(), as_date(data["answered_on"])
            self.answered_late = answered_on > due
            self.working_days_late = self.calendar.working_days_between(due, answered_on)
        else:
            self.answered_late, self.working_days_late = bool(data["late"]), int(data.get("working_days_late") or 0)

    def _overdue(self, data: Mapping[str, Any]) -> None:
        self.overdue_flagged = True

    def _deadline_recomputed(self, data: Mapping[str, Any]) -> None:
        # The aggregate counts its due date from the calendar anyway; the recorded one is what the read
        # model and the consumers were told. An overdue flag raised on the estimate stands.
        self._recorded(data)

    appliers = EventHandlers(
        {
            RECEIVED: _received,
            SUPPLEMENT_REQUESTED: _supplement_requested,
            SUPPLEMENTED: _supplemented,
            CONSULTATION_STARTED: _consultation_started,
            CONSULTATION_ENDED: _consultation_ended,
            EXTENDED: _extended,
            ANSWERED: _answered,
            OVERDUE: _overdue,
            RECOMPUTED: _deadline_recomputed,
        }
    )
