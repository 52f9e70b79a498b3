"""Working days across the holidays that break "Monday to Friday", with make-up working days (调休)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from guidance_shared.calendar_file import load_calendar
from guidance_shared.settings import Settings
from guidance_shared.workdays import CalendarNotCovered, Deadline, WorkingCalendar, statutory_holidays

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


def test_a_deadline_in_a_year_nobody_describes_yet_is_estimated_from_its_statutory_holidays() -> None:
    """A request received in December must not fail until the State Council publishes next year's holidays."""
    assert not CAL.covers(date(2099, 5, 4)) and CAL.covers(date(2025, 5, 6))
    # Thu 30 Apr 2099 + 3: Fri 1 May (劳动节), Sat 2 May (劳动节, given back on Mon 4 May) off → Tue 5, Wed 6, Thu 7.
    assert CAL.add_working_days(date(2099, 4, 30), 3) == date(2099, 5, 7)
    assert CAL.working_days_between(date(2099, 5, 1), date(2099, 5, 11)) == 5
    assert CAL.next_working_day(date(2099, 5, 2)) == date(2099, 5, 5)
    assert CAL.estimated(date(2099, 5, 4)) and not CAL.estimated(date(2025, 5, 6))


def test_a_deadline_says_whether_it_was_estimated() -> None:
    """Thu 10 Dec 2099 + 20 working days: New Year's Day 2100 (a Friday) is off, not counted as Monday to
    Friday would; a deadline inside a described year is not an estimate."""
    assert CAL.deadline(date(2099, 12, 10), 20) == Deadline(date(2100, 1, 8), estimated=True)
    assert CAL.deadline(date(2025, 11, 3), 20) == Deadline(date(2025, 12, 1), estimated=False)


HOLIDAYS_2027 = statutory_holidays(2027)  # a year chinesecalendar 1.11 does not describe


def test_fixed_date_holidays_of_an_estimated_year() -> None:
    """元旦 Fri 1 Jan; 劳动节 Sat 1 and Sun 2 May, given back Mon 3 and Tue 4 May (补假); 国庆节 Fri 1 to
    Sun 3 Oct, the weekend given back Mon 4 and Tue 5 Oct."""
    assert HOLIDAYS_2027[date(2027, 1, 1)] == "元旦"
    may = {day: name for day, name in HOLIDAYS_2027.items() if day.month == 5}
    assert may == {
        date(2027, 5, 1): "劳动节",
        date(2027, 5, 2): "劳动节",
        date(2027, 5, 3): "劳动节（补假）",
        date(2027, 5, 4): "劳动节（补假）",
    }
    october = [day.day for day in HOLIDAYS_2027 if day.month == 10]
    assert october == [1, 2, 3, 4, 5]


def test_spring_festival_of_an_estimated_year_is_new_years_eve_and_three_days_from_the_lunar_calendar() -> None:
    """Lunar New Year 2027 is Sat 6 Feb: 除夕 Fri 5 Feb to 初三 Mon 8 Feb, Sat and Sun given back Tue 9 and Wed 10."""
    february = {day: name for day, name in HOLIDAYS_2027.items() if day.month == 2}
    assert list(february) == [date(2027, 2, d) for d in range(5, 11)]
    assert february[date(2027, 2, 9)] == february[date(2027, 2, 10)] == "春节（补假）"


def test_qingming_of_an_estimated_year_is_the_day_of_the_solar_term() -> None:
    assert HOLIDAYS_2027[date(2027, 4, 5)] == "清明节"  # a Monday
    assert statutory_holidays(2099)[date(2099, 4, 4)] == "清明节"  # a Saturday, given back Mon 6 Apr
    assert statutory_holidays(2099)[date(2099, 4, 6)] == "清明节（补假）"


def test_dragon_boat_and_mid_autumn_of_an_estimated_year_come_from_the_lunar_calendar() -> None:
    assert HOLIDAYS_2027[date(2027, 6, 9)] == "端午节"  # 5th of the fifth lunar month, a Wednesday
    assert HOLIDAYS_2027[date(2027, 9, 15)] == "中秋节"  # 15th of the eighth, a Wednesday
    assert len(HOLIDAYS_2027) == 19  # 13 statutory days, 6 of them given back from a weekend


def test_the_estimate_matches_a_published_year_where_it_had_no_make_up_days() -> None:
    """2025's arrangement as the State Council published it, against the computation: every statutory
    holiday the computation names is off in the published year too (the published year adds days
    only through 调休, which the estimate leaves out)."""
    computed = statutory_holidays(2025)
    assert [day for day in computed if CAL.is_working_day(day)] == []
    assert {date(2025, 1, 28), date(2025, 1, 29), date(2025, 1, 30), date(2025, 1, 31)} <= set(computed)
