"""Peak periods from a synthetic case history, and when to remind before them (执法事项提示)."""

from __future__ import annotations

import random
from datetime import date

import pytest

from guidance_revisit.domain.reminders import (
    ReminderSettings,
    monthly_statistics,
    occurrence,
    peak_months,
    periods,
    plan,
)
from guidance_shared.events import default_registry
from guidance_shared.events.examples import DEPARTMENT_ID, PLAN_ID

FOOD = "食品安全"
REGISTRATION = "市场主体登记"
TODAY = date(2025, 5, 20)  # July 1 is 42 days ahead: within the 90-day horizon


def history(monthly: dict[int, int], years: range = range(2022, 2025), seed: int = 7) -> list[date]:
    """Cases spread over each month's days; ``monthly`` gives a month's count (default 2), ±1 by year."""
    rng = random.Random(seed)
    dates: list[date] = []
    for year in years:
        for month in range(1, 13):
            base = monthly.get(month, 2)
            count = base + (year - 2023) if base >= 10 else rng.choice((base - 1, base, base + 1))
            dates += [date(year, month, rng.randint(1, 28)) for _ in range(max(count, 0))]
    return dates


def flat(years: range = range(2022, 2025)) -> list[date]:
    """About three a month: 2, 3 and 4 in turn, so every calendar month averages exactly 3."""
    return [date(y, m, 1 + i) for y in years for m in range(1, 13) for i in range(2 + (y + m) % 3)]


def test_a_category_peaking_every_july_is_reminded_before_july_and_a_flat_one_is_not() -> None:
    food = plan(DEPARTMENT_ID, FOOD, history({7: 15}), TODAY)
    assert [(p.period_from, p.period_to, p.notify_on) for p in food] == [
        (date(2025, 7, 1), date(2025, 7, 31), date(2025, 6, 17))  # July 1 − 14 days
    ]
    assert plan(DEPARTMENT_ID, REGISTRATION, flat(), TODAY) == []

    basis = food[0].basis
    assert (basis["lookback_from"], basis["lookback_to"]) == ("2022-01-01", "2024-12-31")
    assert basis["peak_case_count"] == 14 + 15 + 16
    assert basis["years_observed"] == basis["years_recurring"] == 3
    assert basis["mean_per_month"] < basis["threshold"] <= basis["peak_mean"] == 15.0
    assert "7月平均15.0件" in basis["summary"] and "July 15.0" in basis["summary"]
    assert "k=1.5" in basis["method"]


def test_the_plan_is_a_valid_reminder_planned_event() -> None:
    reminder = plan(DEPARTMENT_ID, FOOD, history({7: 15}), TODAY)[0]
    data = {
        "plan_id": PLAN_ID,
        "department_id": DEPARTMENT_ID,
        "violation_category": FOOD,
        "domain": None,
        "peak_period": {"from": reminder.period_from.isoformat(), "to": reminder.period_to.isoformat()},
        "notify_on": reminder.notify_on.isoformat(),
        "basis": reminder.basis,
        "planned_at": "2025-05-20T09:00:00+08:00",
    }
    assert default_registry().validate("guidance.ReminderPlanned.v1", data) == data


def test_the_statistics_follow_the_documented_method() -> None:
    settings = ReminderSettings()
    stats = monthly_statistics(flat(), TODAY, settings)
    assert len(stats.counts) == 36 and stats.case_count == 108
    assert stats.mean == 3.0 and stats.sd == pytest.approx((2 / 3) ** 0.5)
    assert all(stats.month_mean(m) == 3.0 for m in range(1, 13))
    assert peak_months(stats, settings) == []


def test_parameters_are_honoured() -> None:
    dates = history({7: 15})
    assert plan(DEPARTMENT_ID, FOOD, dates, TODAY, ReminderSettings(lead_days=30))[0].notify_on == date(2025, 6, 1)
    assert plan(DEPARTMENT_ID, FOOD, dates, TODAY, ReminderSettings(min_cases=20)) == []
    assert plan(DEPARTMENT_ID, FOOD, dates, TODAY, ReminderSettings(k=10)) == []


def test_too_little_history_plans_nothing() -> None:
    one_year = history({7: 15}, years=range(2024, 2025))
    # History began in 2024: the earlier years are unobserved, and one July is no recurrence.
    assert plan(DEPARTMENT_ID, FOOD, one_year, TODAY, observed_from=date(2024, 1, 3)) == []
    # Counted as quiet years instead, July still rose above the mean in only one year of three.
    assert plan(DEPARTMENT_ID, FOOD, one_year, TODAY) == []
    assert plan(DEPARTMENT_ID, FOOD, [], TODAY) == []
    assert plan(DEPARTMENT_ID, FOOD, history({7: 15}), TODAY, observed_from=date(2025, 1, 1)) == []


def test_two_observed_years_are_enough_to_recur() -> None:
    two_years = history({7: 15}, years=range(2023, 2025))
    planned = plan(DEPARTMENT_ID, FOOD, two_years, TODAY, observed_from=date(2023, 1, 1))
    assert [p.period_from for p in planned] == [date(2025, 7, 1)]
    assert planned[0].basis["lookback_from"] == "2023-01-01" and planned[0].basis["years_observed"] == 2


def test_adjacent_peak_months_merge_into_one_period() -> None:
    planned = plan(DEPARTMENT_ID, FOOD, history({7: 15, 8: 14}), TODAY)
    assert [(p.period_from, p.period_to, p.notify_on) for p in planned] == [
        (date(2025, 7, 1), date(2025, 8, 31), date(2025, 6, 17))
    ]
    assert "7月平均" in planned[0].basis["summary"] and "8月平均" in planned[0].basis["summary"]


def test_december_and_january_are_adjacent() -> None:
    assert periods([1, 6, 7, 12]) == [(6, 7), (12, 1)]
    assert occurrence((12, 1), 2025) == (date(2025, 12, 1), date(2026, 1, 31))
    planned = plan(DEPARTMENT_ID, FOOD, history({12: 15, 1: 14}), date(2025, 10, 15))
    assert [(p.period_from, p.period_to) for p in planned] == [(date(2025, 12, 1), date(2026, 1, 31))]


def test_a_late_run_notifies_today_and_a_peak_under_way_is_not_planned() -> None:
    dates = history({7: 15})
    late = plan(DEPARTMENT_ID, FOOD, dates, date(2025, 6, 25))
    assert [(p.period_from, p.notify_on) for p in late] == [(date(2025, 7, 1), date(2025, 6, 25))]
    # On July 10 the peak has begun: no reminder "before" it is possible, and next July is beyond the horizon.
    assert plan(DEPARTMENT_ID, FOOD, dates, date(2025, 7, 10)) == []


def test_peaks_further_than_the_horizon_wait() -> None:
    dates = history({7: 15})
    assert plan(DEPARTMENT_ID, FOOD, dates, date(2025, 3, 1)) == []  # 122 days ahead
    assert len(plan(DEPARTMENT_ID, FOOD, dates, date(2025, 3, 1), ReminderSettings(horizon_days=150))) == 1


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        ReminderSettings(lookback_years=2, min_years=3)
    with pytest.raises(ValueError):
        ReminderSettings(lead_days=-1)
