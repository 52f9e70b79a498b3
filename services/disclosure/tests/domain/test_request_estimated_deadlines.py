"""A request's answer due date in a year without a published arrangement: estimated, flagged, counted again.

chinesecalendar 1.11 describes 2026 but not 2027. For each kind of statutory holiday of 2027, a request
received on the Monday before it is due 20 working days later on the estimate (Monday to Friday less the
holidays the 办法 gives, 补假 included, no 调休) — a day or more after a plain Monday-to-Friday count — and
says ``deadline_estimated``. The holidays of 2027 by the 办法: 元旦 Fri 1 Jan; 春节 Fri 5 Feb (除夕) to
Mon 8 Feb, Sat and Sun given back Tue 9 and Wed 10; 清明 Mon 5 Apr; 劳动节 Sat 1 and Sun 2 May, given back
Mon 3 and Tue 4; 端午 Wed 9 Jun; 中秋 Wed 15 Sep; 国庆 Fri 1 Oct to Sun 3 Oct, given back Mon 4 and Tue 5.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from guidance_disclosure.domain.request import RECEIVED, RECOMPUTED, DisclosureRequest
from guidance_shared.events.examples import REQUEST_ID, example
from guidance_shared.eventstore import StoredEvent
from guidance_shared.workdays import WorkingCalendar

PACKAGED = WorkingCalendar()
MONDAY_TO_FRIDAY = WorkingCalendar(override_years=frozenset({2027}))  # a 2027 described with no holiday at all
#: The arrangement as it might arrive: 春节 five weekdays off (one more than the estimate), the rest as estimated.
ARRANGED = WorkingCalendar(
    holidays=frozenset(
        {
            date(2027, 1, 1),
            *(date(2027, 2, d) for d in (5, 8, 9, 10, 11)),
            date(2027, 4, 5),
            *(date(2027, 5, d) for d in (3, 4)),
            date(2027, 6, 9),
            date(2027, 9, 15),
            *(date(2027, 10, d) for d in (1, 4, 5)),
        }
    ),
    override_years=frozenset({2027}),
    overrides_digest="5e1f0c2a9b7d4e36" * 4,
)


@pytest.mark.parametrize(
    ("holiday", "received_on", "estimated_due", "monday_to_friday_due"),
    [
        ("元旦 New Year's Day", date(2026, 12, 28), date(2027, 1, 26), date(2027, 1, 25)),
        ("春节 Spring Festival", date(2027, 2, 1), date(2027, 3, 5), date(2027, 3, 1)),
        ("清明节 Qingming", date(2027, 3, 29), date(2027, 4, 27), date(2027, 4, 26)),
        ("劳动节 Labour Day", date(2027, 4, 26), date(2027, 5, 26), date(2027, 5, 24)),
        ("端午节 Dragon Boat", date(2027, 6, 7), date(2027, 7, 6), date(2027, 7, 5)),
        ("中秋节 Mid-Autumn", date(2027, 8, 23), date(2027, 9, 21), date(2027, 9, 20)),
        ("国庆节 National Day", date(2027, 9, 27), date(2027, 10, 28), date(2027, 10, 25)),
    ],
)
def test_an_answer_due_date_across_each_holiday_of_an_estimated_year_skips_it_and_says_it_is_an_estimate(
    holiday: str, received_on: date, estimated_due: date, monday_to_friday_due: date
) -> None:
    # Given 2027 has no published arrangement, when a request is received before the holiday
    recorded = DisclosureRequest("r", PACKAGED).receive("d", received_on)
    # Then it is due 20 working days later on the estimate, later than Monday to Friday, and flagged
    assert recorded == {"answer_due_on": estimated_due.isoformat(), "deadline_estimated": True}, holiday
    assert MONDAY_TO_FRIDAY.add_working_days(received_on, 20) == monday_to_friday_due < estimated_due


def test_a_due_date_within_a_described_year_is_not_an_estimate() -> None:
    assert DisclosureRequest("r", PACKAGED).receive("d", date(2026, 11, 2))["deadline_estimated"] is False


def given(*events: tuple[str, dict[str, Any]], calendar: WorkingCalendar) -> DisclosureRequest:
    history = [
        StoredEvent(i, f"e{i}", REQUEST_ID, "DisclosureRequest", i, t, d, {}, datetime.now(UTC), "", "")
        for i, (t, d) in enumerate(events, start=1)
    ]
    return DisclosureRequest.from_history(REQUEST_ID, history, calendar=calendar)


def received(on: str, due: str) -> tuple[str, dict[str, Any]]:
    return RECEIVED, example(RECEIVED) | {"received_on": on, "answer_due_on": due, "deadline_estimated": True}


def test_when_the_arrangement_arrives_an_open_request_is_counted_again() -> None:
    # Given a request received on Mon 1 Feb 2027, due Fri 5 Mar on the estimate
    request = given(received("2027-02-01", "2027-03-05"), calendar=ARRANGED)
    # When the calendar that knows 2027 counts it (11 February off as well)
    deadline = request.recount()
    # Then it is due a working day later, no longer an estimate
    assert deadline is not None and (deadline.due_on, deadline.estimated) == (date(2027, 3, 8), False)
    request.recompute(example(RECOMPUTED) | {"previous_answer_due_on": "2027-03-05", "answer_due_on": "2027-03-08"})
    assert [e.type for e in request.pending] == [RECOMPUTED]
    assert (request.recorded_due_on, request.deadline_estimated) == (date(2027, 3, 8), False)
    assert request.recount() is None  # and never again


def test_the_same_estimate_on_the_same_calendar_is_not_counted_again() -> None:
    assert given(received("2027-02-01", "2027-03-05"), calendar=PACKAGED).recount() is None


def test_an_estimate_the_arrangement_confirms_loses_its_flag() -> None:
    deadline = given(received("2026-12-28", "2027-01-26"), calendar=ARRANGED).recount()
    assert deadline is not None and (deadline.due_on, deadline.estimated) == (date(2027, 1, 26), False)


def test_a_request_whose_due_date_was_not_an_estimate_is_left_alone() -> None:
    described = RECEIVED, example(RECEIVED) | {"received_on": "2026-11-02", "answer_due_on": "2026-11-30"}
    assert given(described, calendar=ARRANGED).recount() is None
    earlier = RECEIVED, example(RECEIVED) | {"deadline_estimated": None}  # before the flag existed: not an estimate
    assert given(earlier, calendar=ARRANGED).recount() is None
