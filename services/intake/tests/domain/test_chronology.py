"""Dates of acts, decisions and steps: given a clock, when a date is sent, then it is taken, refused or marked 补录.

The clock is a fixed moment (the handlers' ``now`` port); China time is UTC+8.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from guidance_intake.domain.chronology import DatePolicy, backdating, require_not_before, require_not_future
from guidance_shared.dates import CHINA_TZ
from guidance_shared.errors import GuidanceError

# 2026-12-03 10:00 in Beijing.
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=CHINA_TZ)
POLICY = DatePolicy(future_tolerance=timedelta(minutes=60), backdated_after_days=3)


def refusal(call: object, *args: object) -> GuidanceError:
    with pytest.raises(GuidanceError) as refused:
        call(*args)  # type: ignore[operator]
    return refused.value


# -- nothing in the future ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "when",
    [NOW, NOW + timedelta(minutes=60), NOW - timedelta(days=400), "2026-12-03T03:00:00Z", date(2026, 12, 3)],
)
def test_given_the_clock_when_a_date_is_now_past_or_within_the_tolerance_then_it_is_taken(when: object) -> None:
    require_not_future(when, "issued_at", NOW, POLICY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "when",
    [
        NOW + timedelta(minutes=61),
        "2029-12-03T10:00:00+08:00",  # the typo that took a 文号 of 2029
        "2026-12-03T03:00:01Z",  # 11:00:01 in Beijing: a second past the tolerance
        date(2026, 12, 4),
        "2026-12-04",
    ],
)
def test_given_the_clock_when_a_date_lies_ahead_then_it_is_refused_naming_the_field(when: object) -> None:
    error = refusal(require_not_future, when, "issued_at", NOW, POLICY)
    assert (error.status, error.code) == (422, "date-in-future")
    assert [f.field for f in error.fields] == ["issued_at"]
    assert "future" in error.detail_en and "北京时间" in error.detail_zh


def test_a_day_counts_in_china_time_near_midnight() -> None:
    """At 23:30 in Beijing (15:30 UTC) the tolerance reaches into tomorrow: tomorrow's date is taken then."""
    late = datetime(2026, 12, 3, 23, 30, tzinfo=CHINA_TZ)
    require_not_future(date(2026, 12, 4), "verified_on", late, POLICY)
    error = refusal(require_not_future, date(2026, 12, 4), "verified_on", late - timedelta(hours=1), POLICY)
    assert error.fields[0].field == "verified_on"


def test_a_tolerance_of_zero_refuses_a_second_ahead() -> None:
    strict = DatePolicy(future_tolerance=timedelta(0))
    require_not_future(NOW, "decided_at", NOW, strict)
    assert refusal(require_not_future, NOW + timedelta(seconds=1), "decided_at", NOW, strict).code == "date-in-future"


# -- each step after the one it follows ---------------------------------------------------------------
def test_given_a_case_opened_when_a_decision_is_dated_before_it_then_it_is_refused() -> None:
    opened = "2026-11-02T09:00:00+08:00"
    error = refusal(require_not_before, "2026-11-01T16:00:00+08:00", opened, "decided_at", "opened_at", "立案时间")
    assert (error.status, error.code, error.fields[0].field) == (422, "date-out-of-order", "decided_at")
    assert opened in error.detail_en and "立案时间" in error.detail_zh


def test_given_a_case_opened_when_a_decision_is_dated_the_same_moment_or_later_then_it_is_taken() -> None:
    opened = "2026-11-02T09:00:00+08:00"
    require_not_before("2026-11-02T09:00:00+08:00", opened, "decided_at", "opened_at", "立案时间")
    require_not_before("2026-11-02T01:00:00Z", opened, "decided_at", "opened_at", "立案时间")  # 09:00 Beijing


def test_a_day_is_compared_with_a_moments_china_day() -> None:
    issued = "2026-11-02T01:00:00+08:00"  # 1 November in UTC, 2 November in Beijing
    require_not_before(date(2026, 11, 2), issued, "verified_on", "issued_at", "指导作出时间")
    error = refusal(require_not_before, "2026-11-01", issued, "verified_on", "issued_at", "指导作出时间")
    assert error.fields[0].field == "verified_on"


@pytest.mark.parametrize("earlier", [None, ""])
def test_without_an_earlier_step_nothing_is_out_of_order(earlier: object) -> None:
    require_not_before("2026-11-01T00:00:00+08:00", earlier, "closed_at", "decided_at", "决定时间")  # type: ignore[arg-type]


# -- 补录 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("days_back", [0, 1, 3])
def test_given_an_entry_within_the_threshold_then_it_is_not_backdated(days_back: int) -> None:
    assert backdating(NOW - timedelta(days=days_back), NOW, POLICY) == {}


@pytest.mark.parametrize("when", [NOW - timedelta(days=4), "2026-11-29T23:59:00+08:00", "2024-06-30T09:00:00+08:00"])
def test_given_an_entry_dated_further_back_then_it_is_marked_backdated_with_its_recording_time(when: object) -> None:
    assert backdating(when, NOW, POLICY) == {"backdated": True, "recorded_at": NOW.isoformat()}  # type: ignore[arg-type]


def test_the_threshold_counts_china_days() -> None:
    """2026-11-29 23:59 Beijing is four China days before 2026-12-03, though under four times 24 hours."""
    assert backdating("2026-11-29T15:59:00Z", NOW, POLICY) == {"backdated": True, "recorded_at": NOW.isoformat()}
    assert backdating("2026-11-29T16:00:00Z", NOW, POLICY) == {}  # 2026-11-30 00:00 Beijing


def test_a_threshold_of_zero_marks_every_entry_of_an_earlier_day() -> None:
    same_day = DatePolicy(backdated_after_days=0)
    assert backdating(NOW - timedelta(hours=9), NOW, same_day) == {}
    assert backdating(NOW - timedelta(hours=11), NOW, same_day)["backdated"] is True
