"""Working days across the holidays that break "Monday to Friday", with make-up working days (调休)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from guidance_shared.calendar_file import load_calendar
from guidance_shared.settings import Settings
from guidance_shared.workdays import CalendarNotCovered, WorkingCalendar

CAL = WorkingCalendar()


def test_national_day_2025_with_its_make_up_saturday() -> None:
    # 2025: Oct 1–8 off; Sunday Sep 28 and Saturday Oct 11 are working days.
    assert CAL.is_working_day(date(2025, 9, 28))  # a Sunday, but 调休
    assert not CAL.is_working_day(date(2025, 10, 3))
    assert CAL.is_working_day(date(2025, 10, 11))  # a Saturday, but 调休
    # 7 working days after Tue Sep 30: Oct 9, 10, 11(Sat, make-up), 13, 14, 15, 16.
    assert CAL.add_working_days(date(2025, 9, 30), 7) == date(2025, 10, 16)


def test_spring_festival_2026() -> None:
    # 2026: Feb 15–23 off; Saturdays Feb 14 and Feb 28 are working days.
    assert CAL.is_working_day(date(2026, 2, 14))
    assert not CAL.is_working_day(date(2026, 2, 20))
    # 20 working days after Fri Feb 13: Feb 14(Sat), 24, 25, 26, 27, 28(Sat), Mar 2–6, 9–13, 16–19.
    assert CAL.add_working_days(date(2026, 2, 13), 20) == date(2026, 3, 19)
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 3, 19)) == 20


def test_an_ordinary_week() -> None:
    assert CAL.add_working_days(date(2025, 6, 6), 1) == date(2025, 6, 9)  # Friday → Monday
    assert CAL.next_working_day(date(2025, 6, 7)) == date(2025, 6, 9)
    assert CAL.add_working_days(date(2025, 6, 6), 0) == date(2025, 6, 6)


def test_a_year_nobody_describes_is_refused_not_guessed() -> None:
    with pytest.raises(CalendarNotCovered, match="GUIDANCE_CALENDAR_OVERRIDES"):
        CAL.is_working_day(date(2099, 5, 4))


def test_overrides_describe_a_year_the_package_does_not_cover(tmp_path: Path) -> None:
    overrides = tmp_path / "calendar.yaml"
    overrides.write_text("years: [2099]\nholidays: [2099-05-01, 2099-05-04]\nworkdays: [2099-05-09]\n")
    cal = load_calendar(
        Settings.from_env("revisit", {"GUIDANCE_CALENDAR_OVERRIDES": str(overrides)}).calendar_overrides
    )
    assert not cal.is_working_day(date(2099, 5, 4))  # a Monday off
    assert cal.is_working_day(date(2099, 5, 9))  # a Saturday make-up day
    assert cal.is_working_day(date(2099, 5, 5))


def test_a_bad_override_file_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "calendar.yaml"
    bad.write_text("holidays: [not-a-date]\n")
    with pytest.raises(ValueError, match="holidays"):
        load_calendar(bad)


def test_a_deadline_in_a_year_nobody_describes_yet_is_estimated_monday_to_friday() -> None:
    """A request received in December must not fail until the State Council publishes next year's holidays."""
    assert not CAL.covers(date(2099, 5, 4)) and CAL.covers(date(2025, 5, 6))
    # Thu 30 Apr 2099 + 3 → Fri 1 May, Mon 4, Tue 5 (weekends skipped, holidays unknown).
    assert CAL.add_working_days(date(2099, 4, 30), 3) == date(2099, 5, 5)
    assert CAL.working_days_between(date(2099, 5, 1), date(2099, 5, 11)) == 6
    assert CAL.next_working_day(date(2099, 5, 2)) == date(2099, 5, 4)
