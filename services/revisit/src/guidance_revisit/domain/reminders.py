"""Violation-prone periods from case history, and when to remind before them (执法事项提示).

An enforcement reminder is given *before* a period in which a kind of violation keeps recurring
(docs/domain.md §3), so the question is which calendar months are reliably busy for one department and
violation category, not which single month happened to be busy once. Pure functions, no I/O.

Method (every parameter in ``ReminderSettings``):

1. Look-back: the last ``lookback_years`` (default 3) full calendar years before ``today``.
   Year-months before the department's history began (``observed_from``, its first recorded
   case) are *unobserved*, not zero — an empty year before the data starts is not a quiet year.
2. Count the cases opened in each observed year-month.
3. For each calendar month m, μ_m = the mean of its counts over the years it was observed; over all
   observed year-months, μ = the mean and σ = the population standard deviation.
4. Month m is a peak month when all three hold:
   μ_m ≥ μ + k·σ (``k``, default 1.5) — clearly above the usual level;
   μ_m ≥ ``min_cases`` (default 3 cases a month) — a handful of cases is no pattern;
   m's count exceeded μ in at least ``min_years`` years (default 2) — it recurs, it is not one
   year's crackdown. This also means too little history (one year) never yields a peak.
5. Adjacent peak months form one period (December and January are adjacent).
6. A period is planned for its next occurrence that starts after ``today``, once that start is
   within ``horizon_days`` (default 90), so a plan rests on the latest full years and supervisors
   see a quarter ahead rather than a year. ``notify_on`` = start − ``lead_days`` (default 14);
   when that date has already passed but the period has not begun, ``notify_on`` is today (late
   but still before the period). A period already under way is not planned: a reminder during the
   peak is no longer a reminder before it; its next occurrence is planned when it comes within the
   horizon.
"""

from __future__ import annotations

import calendar
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

MONTHS_ZH = tuple(f"{m}月" for m in range(1, 13))
MONTHS_EN = tuple(calendar.month_name[m] for m in range(1, 13))


@dataclass(frozen=True)
class ReminderSettings:
    lookback_years: int = 3
    k: float = 1.5
    min_cases: float = 3.0
    min_years: int = 2
    lead_days: int = 14
    horizon_days: int = 90

    def __post_init__(self) -> None:
        if self.lookback_years < 1 or not 1 <= self.min_years <= self.lookback_years:
            raise ValueError("need 1 <= min_years <= lookback_years")
        if self.k < 0 or self.min_cases < 0 or self.lead_days < 0 or self.horizon_days < 0:
            raise ValueError("k, min_cases, lead_days and horizon_days must not be negative")

    @property
    def method(self) -> str:
        """The method and its parameters in one line, recorded in every plan's basis."""
        return (
            f"按年逐月计数（近{self.lookback_years}个完整年度）；某月年均案件数≥μ+kσ（k={self.k:g}）、"
            f"≥{self.min_cases:g}件且至少{self.min_years}年高于μ即为高发月，相邻月份合并；提前{self.lead_days}日提示。"
            f" Monthly counts over {self.lookback_years} full years; a month is a peak when its mean ≥ μ+{self.k:g}σ, "
            f"≥ {self.min_cases:g} cases and above μ in ≥ {self.min_years} years; adjacent months merge; "
            f"notify {self.lead_days} days before."
        )


@dataclass(frozen=True)
class MonthlyStatistics:
    """Counts per observed (year, month) of one department and category over the look-back."""

    lookback_from: date
    lookback_to: date
    counts: Mapping[tuple[int, int], int]  # observed year-months only; unobserved ones are absent

    @property
    def years(self) -> list[int]:
        return sorted({y for y, _ in self.counts})

    @property
    def case_count(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float:
        return sum(self.counts.values()) / len(self.counts) if self.counts else 0.0

    @property
    def sd(self) -> float:
        if not self.counts:
            return 0.0
        mu = self.mean
        return math.sqrt(sum((c - mu) ** 2 for c in self.counts.values()) / len(self.counts))

    def of_month(self, month: int) -> list[int]:
        return [c for (_, m), c in sorted(self.counts.items()) if m == month]

    def month_mean(self, month: int) -> float:
        values = self.of_month(month)
        return sum(values) / len(values) if values else 0.0

    def years_above_mean(self, month: int) -> int:
        mu = self.mean
        return sum(1 for c in self.of_month(month) if c > mu)


@dataclass(frozen=True)
class PlannedReminder:
    department_id: str
    violation_category: str
    period_from: date
    period_to: date
    notify_on: date
    basis: dict[str, Any] = field(default_factory=dict)  # ReminderBasis, JSON-ready


def lookback(today: date, years: int) -> tuple[date, date]:
    """The last ``years`` full calendar years before ``today``."""
    return date(today.year - years, 1, 1), date(today.year - 1, 12, 31)


def monthly_statistics(
    opened_on: Iterable[date], today: date, settings: ReminderSettings, observed_from: date | None = None
) -> MonthlyStatistics:
    start, end = lookback(today, settings.lookback_years)
    first = max(start, observed_from.replace(day=1)) if observed_from else start
    counts: dict[tuple[int, int], int] = {}
    for year in range(start.year, end.year + 1):
        for month in range(1, 13):
            if date(year, month, 1) >= first:
                counts[(year, month)] = 0
    tally = Counter((d.year, d.month) for d in opened_on if start <= d <= end)
    for key, n in tally.items():
        if key in counts:
            counts[key] = n
    return MonthlyStatistics(first, end, counts)


def peak_months(stats: MonthlyStatistics, settings: ReminderSettings) -> list[int]:
    threshold = stats.mean + settings.k * stats.sd
    return [
        m
        for m in range(1, 13)
        if stats.of_month(m)
        and stats.month_mean(m) >= threshold
        and stats.month_mean(m) >= settings.min_cases
        and stats.years_above_mean(m) >= settings.min_years
    ]


def periods(months: Iterable[int]) -> list[tuple[int, ...]]:
    """Runs of adjacent months, December wrapping to January: [1, 6, 7, 12] → [(6, 7), (12, 1)]."""
    chosen = sorted(set(months))
    runs: list[list[int]] = []
    for m in chosen:
        if runs and runs[-1][-1] == m - 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    if len(runs) > 1 and runs[0][0] == 1 and runs[-1][-1] == 12:
        runs[-1].extend(runs.pop(0))
    return [tuple(r) for r in runs]


def occurrence(months: tuple[int, ...], year: int) -> tuple[date, date]:
    """The period's dates when it starts in ``year`` (a December–January period ends the next year)."""
    first, last = months[0], months[-1]
    end_year = year + 1 if last < first else year
    return date(year, first, 1), date(end_year, last, calendar.monthrange(end_year, last)[1])


def plan(
    department_id: str,
    violation_category: str,
    opened_on: Iterable[date],
    today: date,
    settings: ReminderSettings | None = None,
    observed_from: date | None = None,
) -> list[PlannedReminder]:
    """The reminders to plan now for one department and category (see the module docstring)."""
    settings = settings or ReminderSettings()
    stats = monthly_statistics(opened_on, today, settings, observed_from)
    if len(stats.counts) < 2:
        return []
    plans: list[PlannedReminder] = []
    for months in periods(peak_months(stats, settings)):
        start, end = next(o for o in (occurrence(months, y) for y in (today.year, today.year + 1)) if o[0] > today)
        if (start - today).days > settings.horizon_days:
            continue
        notify_on = max(start - timedelta(days=settings.lead_days), today)
        plans.append(
            PlannedReminder(department_id, violation_category, start, end, notify_on, basis(stats, months, settings))
        )
    return plans


def basis(stats: MonthlyStatistics, months: tuple[int, ...], settings: ReminderSettings) -> dict[str, Any]:
    """The statistics behind one period, in the shape of ``ReminderBasis``."""
    mu, sd = stats.mean, stats.sd
    threshold = mu + settings.k * sd
    means = [stats.month_mean(m) for m in months]
    recurring = min(stats.years_above_mean(m) for m in months)
    years = stats.years
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
    zh = "、".join(f"{MONTHS_ZH[m - 1]}平均{x:.1f}件" for m, x in zip(months, means, strict=True))
    en = ", ".join(f"{MONTHS_EN[m - 1]} {x:.1f}" for m, x in zip(months, means, strict=True))
    summary = (
        f"近{len(years)}年（{span}）{zh}，月均{mu:.1f}件，标准差{sd:.1f}（阈值≥{threshold:.1f}），"
        f"{len(years)}年中{recurring}年高于月均。"
        f" Over {span}, cases averaged {en} against {mu:.1f} per month overall "
        f"(SD {sd:.1f}; threshold ≥ {threshold:.1f}); above the mean in {recurring} of {len(years)} years."
    )
    return {
        "lookback_from": stats.lookback_from.isoformat(),
        "lookback_to": stats.lookback_to.isoformat(),
        "case_count": stats.case_count,
        "peak_case_count": sum(sum(stats.of_month(m)) for m in months),
        "summary": summary,
        "method": settings.method,
        "mean_per_month": round(mu, 2),
        "sd_per_month": round(sd, 2),
        "threshold": round(threshold, 2),
        "peak_mean": round(sum(means) / len(means), 2),
        "years_observed": len(years),
        "years_recurring": recurring,
    }
