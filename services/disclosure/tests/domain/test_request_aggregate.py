"""DisclosureRequest, given events → when a command → then dates and events, with the real holiday calendar.

The dates below were counted by hand on the State Council's arrangements: Spring Festival 2026
(Feb 15–23 off, Sat Feb 14 and Sat Feb 28 worked) and National Day 2025 (Oct 1–8 off, Sun Sep 28
and Sat Oct 11 worked). A Monday-to-Friday count would get every one of them wrong.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from guidance_disclosure.domain.request import (
    ANSWERED,
    CONSULTATION_ENDED,
    CONSULTATION_STARTED,
    EXTENDED,
    OVERDUE,
    RECEIVED,
    SUPPLEMENT_REQUESTED,
    SUPPLEMENTED,
    DisclosureRequest,
)
from guidance_shared.errors import GuidanceError
from guidance_shared.events.examples import REQUEST_ID, example
from guidance_shared.eventstore import StoredEvent
from guidance_shared.workdays import WorkingCalendar

CALENDAR = WorkingCalendar()


def given(*events: tuple[str, dict[str, Any]]) -> DisclosureRequest:
    history = [
        StoredEvent(i, f"e{i}", REQUEST_ID, "DisclosureRequest", i, t, d, {}, datetime.now(UTC), "", "")
        for i, (t, d) in enumerate(events, start=1)
    ]
    return DisclosureRequest.from_history(REQUEST_ID, history, calendar=CALENDAR)


def received(on: str) -> tuple[str, dict[str, Any]]:
    return RECEIVED, example(RECEIVED) | {"received_on": on, "answer_due_on": on}


def event(ce_type: str, **changes: Any) -> tuple[str, dict[str, Any]]:
    return ce_type, example(ce_type) | changes


def refused_on(call: Any) -> tuple[int, str]:
    with pytest.raises(GuidanceError) as caught:
        call()
    return caught.value.status, caught.value.fields[0].field


# -- receipt --------------------------------------------------------------------------------------
def test_a_new_request_is_due_20_working_days_after_receipt() -> None:
    assert DisclosureRequest("r", CALENDAR).receive("d", date(2025, 4, 1)) == {
        "answer_due_on": "2025-04-29",
        "deadline_estimated": False,
    }


def test_spring_festival_2026_the_make_up_saturdays_count_and_the_holiday_does_not() -> None:
    request = given(received("2026-02-12"))  # Thursday before the holiday
    assert request.supplement_notice_due_on() == date(2026, 2, 28)  # Feb 13, 14, 24, 25, 26, 27, 28
    assert request.answer_due_on() == date(2026, 3, 18)
    assert DisclosureRequest("r", CALENDAR).receive("d", date(2026, 2, 12)) == {
        "answer_due_on": "2026-03-18",
        "deadline_estimated": False,
    }


def test_national_day_2025_the_make_up_sunday_and_saturday_count() -> None:
    request = given(received("2025-09-26"))  # Friday before the holiday
    assert request.supplement_notice_due_on() == date(2025, 10, 13)  # Sep 28, 29, 30, Oct 9, 10, 11, 13
    assert request.answer_due_on() == date(2025, 10, 30)


# -- 补正 -----------------------------------------------------------------------------------------
def test_the_supplement_notice_is_due_within_seven_working_days() -> None:
    request = given(received("2026-02-12"))
    assert request.request_supplement(date(2026, 2, 27)) == {"notice_due_on": "2026-02-28"}


def test_a_supplement_notice_before_receipt_is_refused() -> None:
    request = given(received("2026-02-12"))
    assert refused_on(lambda: request.request_supplement(date(2026, 2, 11))) == (409, "notice_on")


def test_a_second_supplement_notice_is_refused() -> None:
    request = given(
        received("2025-09-26"),
        event(SUPPLEMENT_REQUESTED, notice_on="2025-09-29"),
        event(SUPPLEMENTED, supplemented_on="2025-10-09"),
    )
    assert refused_on(lambda: request.request_supplement(date(2025, 10, 10))) == (409, "notice_on")


def test_after_the_supplement_the_clock_restarts_from_the_supplement_date() -> None:
    request = given(received("2025-09-26"), event(SUPPLEMENT_REQUESTED, notice_on="2025-09-29"))
    assert request.status == "awaiting_supplement"
    assert not request.is_overdue(date(2026, 1, 1))  # no clock runs while the applicant supplements
    assert request.supplemented(date(2025, 10, 9)) == {"answer_due_on": "2025-11-05", "deadline_estimated": False}
    after = given(
        received("2025-09-26"),
        event(SUPPLEMENT_REQUESTED, notice_on="2025-09-29"),
        event(SUPPLEMENTED, supplemented_on="2025-10-09"),
    )
    assert after.clock_start == date(2025, 10, 9)
    assert after.answer_due_on() == date(2025, 11, 5)


# -- consultation ---------------------------------------------------------------------------------
def test_consultation_time_is_not_counted() -> None:
    request = given(received("2026-02-12"))
    assert request.start_consultation(date(2026, 2, 13)) == {"reply_due_on": "2026-03-12"}  # 15 working days
    consulting = given(received("2026-02-12"), event(CONSULTATION_STARTED, started_on="2026-02-13"))
    assert not consulting.is_overdue(date(2026, 12, 31))  # the clock is paused
    # Feb 14 (make-up Saturday), Feb 24 and Feb 25 were paused: the due date moves by three working days.
    assert consulting.end_consultation(date(2026, 2, 25)) == {
        "paused_working_days": 3,
        "answer_due_on": "2026-03-23",
        "deadline_estimated": False,
    }
    resumed = given(
        received("2026-02-12"),
        event(CONSULTATION_STARTED, started_on="2026-02-13"),
        event(CONSULTATION_ENDED, ended_on="2026-02-25", paused_working_days=3),
    )
    assert resumed.answer_due_on() == date(2026, 3, 23)


def test_an_answer_waits_for_the_consultation_to_end() -> None:
    consulting = given(received("2026-02-12"), event(CONSULTATION_STARTED, started_on="2026-02-13"))
    assert refused_on(lambda: consulting.answer_with(date(2026, 2, 20))) == (409, "status")


# -- extension ------------------------------------------------------------------------------------
def test_an_extension_adds_at_most_20_working_days_once() -> None:
    request = given(received("2025-09-26"))
    on = date(2025, 10, 20)
    assert request.extend(20, on, on) == {
        "answer_due_on": "2025-11-27",
        "deadline_estimated": False,
        "approved_on": "2025-10-20",
    }
    assert refused_on(lambda: request.extend(21, on, on)) == (409, "extension_working_days")
    extended = given(received("2025-09-26"), event(EXTENDED, extension_working_days=10))
    assert extended.answer_due_on() == date(2025, 11, 13)
    assert refused_on(lambda: extended.extend(5, on, on)) == (409, "extension_working_days")


def test_an_extension_approved_after_the_period_ran_out_is_refused_naming_the_approval_date() -> None:
    """Given a request received Fri 2025-09-26, due Thu 2025-10-30: an extension approved on Fri
    2025-10-31 is refused, whenever it is recorded, and the problem says so in both languages."""
    request = given(received("2025-09-26"))
    with pytest.raises(GuidanceError) as caught:
        request.extend(10, date(2025, 10, 31), date(2025, 10, 31))
    problem = caught.value
    assert (problem.status, problem.fields[0].field) == (409, "approved_on")
    assert "2025-10-30" in problem.fields[0].message_en and "答复期限" in problem.fields[0].message_zh


def test_an_extension_approved_in_time_and_recorded_late_is_accepted_with_its_approval_date() -> None:
    """Approved on the last day (Thu 2025-10-30), recorded Mon 2025-11-03 after the overdue flag was
    raised: accepted, due 10 working days after 10-30 (Nov 13), and the request is no longer overdue."""
    flagged = given(received("2025-09-26"), event(OVERDUE))
    assert flagged.overdue_flagged
    decided = flagged.extend(10, date(2025, 10, 30), date(2025, 11, 3))
    assert decided == {"answer_due_on": "2025-11-13", "deadline_estimated": False, "approved_on": "2025-10-30"}
    extended = given(
        received("2025-09-26"),
        event(OVERDUE),
        event(EXTENDED, extension_working_days=10, answer_due_on="2025-11-13", approved_on="2025-10-30"),
    )
    assert extended.answer_due_on() == date(2025, 11, 13) and not extended.overdue_flagged
    assert not extended.is_overdue(date(2025, 11, 13)) and extended.is_overdue(date(2025, 11, 14))


def test_an_extension_approved_in_the_future_or_before_receipt_is_refused() -> None:
    request = given(received("2025-09-26"))
    assert refused_on(lambda: request.extend(10, date(2025, 10, 21), date(2025, 10, 20))) == (409, "approved_on")
    assert refused_on(lambda: request.extend(10, date(2025, 9, 25), date(2025, 10, 20))) == (409, "approved_on")


def test_extension_and_consultation_add_up() -> None:
    request = given(
        received("2026-02-12"),
        event(CONSULTATION_STARTED, started_on="2026-02-13"),
        event(CONSULTATION_ENDED, ended_on="2026-02-25", paused_working_days=3),
        event(EXTENDED, extension_working_days=20),
    )
    assert request.answer_due_on() == CALENDAR.add_working_days(date(2026, 2, 12), 43)


# -- answer and overdue ---------------------------------------------------------------------------
def test_overdue_is_flagged_once_the_day_after_the_due_date() -> None:
    request = given(received("2025-09-26"))
    data = example(OVERDUE)
    assert not request.mark_overdue(data, today=date(2025, 10, 30))  # due today
    assert request.mark_overdue(data, today=date(2025, 10, 31))
    assert not request.mark_overdue(data, today=date(2025, 11, 1))
    assert [e.type for e in request.pending] == [OVERDUE]
    flagged = given(received("2025-09-26"), event(OVERDUE))
    assert not flagged.mark_overdue(data, today=date(2026, 1, 1))
    assert flagged.answer_with(date(2025, 11, 4))["late"]  # a late answer is still an answer


def test_an_answer_after_the_due_date_is_recorded_late_with_the_working_days_late() -> None:
    """Due Thu 2025-10-30: answered on the day, on time; answered Tue 11-04, late by 3 working days
    (Fri 10-31, Mon 11-03, Tue 11-04; the weekend not counted)."""
    request = given(received("2025-09-26"))
    assert request.answer_with(date(2025, 10, 30)) == {
        "answer_due_on": "2025-10-30",
        "late": False,
        "working_days_late": 0,
    }
    assert request.answer_with(date(2025, 11, 4)) == {
        "answer_due_on": "2025-10-30",
        "late": True,
        "working_days_late": 3,
    }
    answered = given(
        received("2025-09-26"),
        event(ANSWERED, answered_on="2025-11-04", answer_due_on="2025-10-30", late=True, working_days_late=3),
    )
    assert (answered.answered_late, answered.working_days_late) == (True, 3)


def test_an_answer_recorded_before_lateness_was_stored_is_judged_from_its_dates() -> None:
    old = {k: v for k, v in example(ANSWERED).items() if k not in ("answer_due_on", "late", "working_days_late")}
    answered = given(received("2025-09-26"), (ANSWERED, old | {"answered_on": "2025-11-04"}))
    assert (answered.answered_late, answered.working_days_late) == (True, 3)
    on_time = given(received("2025-09-26"), (ANSWERED, old | {"answered_on": "2025-10-09"}))
    assert (on_time.answered_late, on_time.working_days_late) == (False, 0)


def test_an_answered_request_is_closed() -> None:
    request = given(received("2025-09-26"), event(ANSWERED))
    assert request.status == "answered"
    assert not request.is_overdue(date(2026, 1, 1))
    for command in (
        lambda: request.answer_with(date(2025, 9, 29)),
        lambda: request.request_supplement(date(2025, 9, 29)),
        lambda: request.start_consultation(date(2025, 9, 29)),
        lambda: request.extend(5, date(2025, 9, 29), date(2025, 9, 29)),
    ):
        assert refused_on(command)[0] == 409


def test_a_request_is_registered_once() -> None:
    assert refused_on(lambda: given(received("2025-09-26")).receive("d", date(2025, 9, 26))) == (409, "request_id")
