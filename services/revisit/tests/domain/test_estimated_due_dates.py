"""Due dates counted on an estimated calendar: flagged, counted again when the year's arrangement arrives.

chinesecalendar 1.11 describes 2026 but not 2027, so a working-day due date that reaches into 2027 is an
estimate (2027's statutory holidays, no 调休). ``ARRANGED`` stands for the arrangement arriving by the
override file: 元旦 and 春节 5 and 8–11 February off (one day more than the estimate gives).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from guidance_revisit.domain.policy import Policy, Rule, WorkingDaysBasis, plan_case_closed
from guidance_revisit.domain.revisit import Revisit
from guidance_shared.catalogue import REVISIT_DEADLINE_RECOMPUTED as RECOMPUTED
from guidance_shared.catalogue import REVISIT_RESCHEDULED as RESCHEDULED
from guidance_shared.catalogue import REVISIT_SCHEDULED as SCHEDULED
from guidance_shared.events.examples import REVISIT_ID, example
from guidance_shared.eventstore import StoredEvent
from guidance_shared.workdays import WorkingCalendar

PACKAGED = WorkingCalendar()
ARRANGED = WorkingCalendar(
    holidays=frozenset({date(2027, 1, 1), *(date(2027, 2, d) for d in (5, 8, 9, 10, 11))}),
    override_years=frozenset({2027}),
    overrides_digest="5e1f0c2a9b7d4e36" * 4,
)
WORKING_DAYS = Policy(major_case=Rule((30,), "working_days"))


def given(*events: tuple[str, dict[str, Any]]) -> Revisit:
    history = [
        StoredEvent(i, f"e{i}", REVISIT_ID, "Revisit", i, t, d, {}, datetime.now(UTC), "", "")
        for i, (t, d) in enumerate(events, start=1)
    ]
    return Revisit.from_history(REVISIT_ID, history)


def estimated_schedule() -> tuple[str, dict[str, Any]]:
    """A major case closed on Wed 30 Dec 2026, revisited 30 working days later: Wed 17 Feb 2027 on the estimate."""
    return SCHEDULED, example(SCHEDULED) | {
        "due_on": "2027-02-17",
        "deadline_estimated": True,
        "deadline_basis": {"start_on": "2026-12-30", "working_days": 30},
    }


def test_a_working_day_due_date_that_reaches_an_undescribed_year_is_planned_as_an_estimate() -> None:
    case = {"case_id": "64689d52-2a4d-5c09-8718-81246f1bf58e", "major": True}
    [planned] = plan_case_closed(case, date(2026, 12, 30), WORKING_DAYS, PACKAGED)
    assert planned.due_on == date(2027, 2, 17)  # 元旦 and 春节 (5, 8, 9, 10 Feb) skipped
    assert planned.due.estimated and planned.due.basis == WorkingDaysBasis(date(2026, 12, 30), 30)


def test_a_due_date_within_a_described_year_or_in_calendar_days_is_not_an_estimate() -> None:
    case = {"case_id": "64689d52-2a4d-5c09-8718-81246f1bf58e", "major": True}
    [within] = plan_case_closed(case, date(2026, 11, 2), Policy(major_case=Rule((10,), "working_days")), PACKAGED)
    assert within.due_on == date(2026, 11, 16) and not within.due.estimated
    [calendar_days] = plan_case_closed(case, date(2026, 12, 30), Policy(major_case=Rule((30,))), PACKAGED)
    assert calendar_days.due_on == date(2027, 1, 29) and not calendar_days.due.estimated
    assert calendar_days.due.basis is None  # nothing to count again


def test_when_the_arrangement_arrives_the_due_date_is_counted_again_and_recorded() -> None:
    revisit = given(estimated_schedule())
    assert revisit.deadline_estimated
    due = revisit.recount(ARRANGED)
    assert due is not None and due.on == date(2027, 2, 18) and not due.estimated  # 11 Feb is off too
    revisit.recompute(
        example(RECOMPUTED)
        | {"previous_due_on": "2027-02-17", "due_on": "2027-02-18", "calendar_version": ARRANGED.version}
    )
    assert [e.type for e in revisit.pending] == [RECOMPUTED]
    assert revisit.due_on == date(2027, 2, 18) and not revisit.deadline_estimated
    assert revisit.recount(ARRANGED) is None  # counted on the arrangement: never again


def test_a_calendar_that_still_counts_the_same_estimate_records_nothing() -> None:
    assert given(estimated_schedule()).recount(PACKAGED) is None


def test_the_same_date_no_longer_estimated_is_recorded_too() -> None:
    """The arrangement confirms the estimate: the date stays, the flag goes (and says so in the ledger)."""
    same = WorkingCalendar(holidays=ARRANGED.holidays - {date(2027, 2, 11)}, override_years=frozenset({2027}))
    due = given(estimated_schedule()).recount(same)
    assert due is not None and due.on == date(2027, 2, 17) and not due.estimated


def test_a_date_an_officer_chose_is_neither_an_estimate_nor_counted_again() -> None:
    moved = example(RESCHEDULED) | {"previous_due_on": "2027-02-17", "due_on": "2027-02-19"}
    revisit = given(estimated_schedule(), (RESCHEDULED, moved))
    assert not revisit.deadline_estimated and revisit.recount(ARRANGED) is None


def test_the_calendar_version_names_the_package_and_the_override_file() -> None:
    assert PACKAGED.version.startswith("chinesecalendar ") and "overrides" not in PACKAGED.version
    assert ARRANGED.version.endswith("; overrides 2027 sha256:5e1f0c2a9b7d4e36")
