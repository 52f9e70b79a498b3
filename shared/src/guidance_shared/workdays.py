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
fail (an API 500, a parked event) for weeks until it does. So the deadline functions count Monday to
Friday for such a year — an estimate, a day or two off around the year's holidays and make-up days —
and log ``workdays.estimated`` so operators know to install a newer chinesecalendar or the override.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar
import structlog

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
        try:
            return self.is_working_day(day)
        except CalendarNotCovered:
            _warn_estimated(day.year)
            return day.weekday() < 5


_ESTIMATED_YEARS: set[int] = set()


def _warn_estimated(year: int) -> None:
    if year not in _ESTIMATED_YEARS:  # once per year and process: deadlines are computed in loops
        _ESTIMATED_YEARS.add(year)
        log.warning(
            "workdays.estimated",
            year=year,
            hint=f"deadlines in {year} count Monday to Friday until its holidays are known: install a newer "
            "chinesecalendar or describe the year in the file named by GUIDANCE_CALENDAR_OVERRIDES",
        )
