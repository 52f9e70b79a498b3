"""Working days (工作日) in mainland China: weekends, statutory holidays and make-up working days (调休).

Disclosure deadlines (7 and 20 working days), revisit due dates and request answers count
working days, which "Monday to Friday" gets wrong around Spring Festival and National Day. The
calendar comes from the maintained ``chinesecalendar`` package; the State Council publishes each
year's arrangement in November or December, and a package release follows. For a year the
package does not cover yet, operators supply the arrangement in a YAML file named by
``GUIDANCE_CALENDAR_OVERRIDES`` (read by ``calendar_file``)::

    holidays: [2027-01-01, 2027-02-05, ...]   # days off on what would be a working day
    workdays: [2027-02-14, ...]              # make-up working days on what would be a weekend
    years: [2027]                           # years this file fully describes

Asked directly (``is_working_day``), a date in a year neither covers raises ``CalendarNotCovered``
rather than guessing. Deadlines are different: the State Council publishes next year's arrangement
late in the year, and a request received in December, a revisit or a publication deadline must not
fail (an API 500, a parked event) for weeks until it does. So for such a year the deadline functions
count an *estimate*: Monday to Friday less the statutory holidays of the 全国年节及纪念日放假办法 (as
revised with effect from 2025) computed for that year (``statutory_holidays``) — 元旦 1 January;
春节 the lunar New Year's Eve and the first three days of the first lunar month; 清明 the day of the
solar term (chinesecalendar's solar-term formula); 劳动节 1–2 May; 端午 the 5th of the fifth lunar
month; 中秋 the 15th of the eighth; 国庆 1–3 October — each that falls on a weekend given back on the
next working day (补假, art. 6 of the 办法). No make-up working days (调休) are guessed: the State
Council decides those each year, so an estimate is still a day or two off around them. The lunar
dates come from ``lunardate`` (1900–2099; beyond it only the solar holidays are known).
``WorkingCalendar.estimated`` says whether a day's count was an estimate, ``deadline`` returns a due
date with that flag, and ``workdays.estimated`` is logged once per year and process so operators
know to install a newer chinesecalendar or the override. ``version`` names what the calendar was
built from (the package's version and the override file's digest), so a due date counted again
when the arrangement arrives records which calendar it was counted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib.metadata import version as _distribution_version

import chinese_calendar
import structlog
from lunardate import LunarDate

log = structlog.get_logger(__name__)


class CalendarNotCovered(LookupError):
    """No holiday arrangement is known for the year; a deadline there cannot be computed honestly."""

    def __init__(self, day: date) -> None:
        super().__init__(
            f"No holiday arrangement for {day.year}: install a newer chinesecalendar or describe {day.year} "
            "in the file named by GUIDANCE_CALENDAR_OVERRIDES."
        )
        self.day = day


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    override_years: frozenset[int] = field(default_factory=frozenset)
    overrides_digest: str = ""  # the override file's SHA-256 (calendar_file), empty without one
    # Each day's answer once: counting a deadline asks for every day of its span, and chinesecalendar checks its
    # argument and looks the day up each time (a twelfth of applying an act in disclosure's consumer).
    _counted: dict[date, bool] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    @property
    def version(self) -> str:
        """What the arrangement comes from: ``chinesecalendar 1.11.0`` and the override file's digest, if any."""
        package = f"chinesecalendar {_package_version()}"
        if not self.overrides_digest:
            return package
        years = ",".join(str(y) for y in sorted(self.override_years)) or "-"
        return f"{package}; overrides {years} sha256:{self.overrides_digest[:16]}"

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if day.year in self.override_years:
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            raise CalendarNotCovered(day) from None

    def covers(self, day: date) -> bool:
        """Whether ``day``'s year has a known arrangement (the package's or the override file's)."""
        try:
            self.is_working_day(day)
        except CalendarNotCovered:
            return False
        return True

    def estimated(self, day: date) -> bool:
        """Whether counting ``day`` takes the estimate (no arrangement known for its year)."""
        return not self.covers(day)

    def deadline(self, start: date, count: int) -> Deadline:
        """``add_working_days`` with whether any day it counted was an estimate."""
        due = self.add_working_days(start, count)
        return Deadline(due, any(self.estimated(date(year, 1, 1)) for year in range(start.year, due.year + 1)))

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself is not counted): a deadline."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self._counts(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        days = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            days += self._counts(day)
        return days

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first one after it."""
        while not self._counts(day):
            day += timedelta(days=1)
        return day

    def _counts(self, day: date) -> bool:
        """A working day for a deadline: the arrangement where known, Monday to Friday (estimated) where not."""
        known = self._counted.get(day)
        if known is None:
            known = self._counted[day] = self._count(day)
        return known

    def _count(self, day: date) -> bool:
        try:
            return self.is_working_day(day)
        except CalendarNotCovered:
            _warn_estimated(day.year)
            return day.weekday() < 5 and day not in statutory_holidays(day.year)


@dataclass(frozen=True)
class Deadline:
    """A due date, and whether it was counted on an estimated calendar (a year without an arrangement)."""

    due_on: date
    estimated: bool


@cache
def _package_version() -> str:
    return _distribution_version("chinesecalendar")


#: The lunar holidays: (lunar month, day, name); 春节 also takes the day before the first (除夕).
_LUNAR = ((1, 1, "春节"), (1, 2, "春节"), (1, 3, "春节"), (5, 5, "端午节"), (8, 15, "中秋节"))
_SOLAR = ((1, 1, "元旦"), (5, 1, "劳动节"), (5, 2, "劳动节"), (10, 1, "国庆节"), (10, 2, "国庆节"), (10, 3, "国庆节"))


@cache
def statutory_holidays(year: int) -> dict[date, str]:
    """The days off of ``year`` by the 全国年节及纪念日放假办法, without 调休: each holiday, and for one
    that falls on a Saturday or Sunday the next weekday that is not itself a holiday (补假)."""
    days = {date(year, month, day): name for month, day, name in _SOLAR}
    days.update(_qingming(year))
    if 1900 <= year <= 2099:  # lunardate's range; the lunar year that starts in ``year`` has its New Year there
        new_year = _solar(year, 1, 1)
        days[new_year - timedelta(days=1)] = "春节"  # 除夕, the last day of the twelfth month (29th or 30th)
        days.update({_solar(year, month, day): name for month, day, name in _LUNAR})
    given_back: dict[date, str] = {}
    for day, name in sorted(days.items()):
        if day.weekday() >= 5:
            substitute = day
            while substitute.weekday() >= 5 or substitute in days or substitute in given_back:
                substitute += timedelta(days=1)
            given_back[substitute] = f"{name}（补假）"
    return {day: name for day, name in sorted({**days, **given_back}.items()) if day.year == year}


def _solar(year: int, month: int, day: int) -> date:
    solar: date = LunarDate(year, month, day).to_solar_date()
    return solar


def _qingming(year: int) -> dict[date, str]:
    """清明 is the day of the solar term, between 4 and 6 April."""
    if not 1900 <= year <= 2100:  # the solar-term formula's range
        return {}
    terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))
    return {day: "清明节" for day, name in terms if name == "清明"}


_ESTIMATED_YEARS: set[int] = set()


def _warn_estimated(year: int) -> None:
    if year not in _ESTIMATED_YEARS:  # once per year and process: deadlines are computed in loops
        _ESTIMATED_YEARS.add(year)
        log.warning(
            "workdays.estimated",
            year=year,
            hint=f"deadlines in {year} are estimated (its statutory holidays, no make-up working days) until its "
            "arrangement is known: install a newer chinesecalendar or describe the year in the file named by "
            "GUIDANCE_CALENDAR_OVERRIDES",
        )
