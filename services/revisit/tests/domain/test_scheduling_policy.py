"""Scheduling rules: given a closed case or a guidance act, then these revisits are due."""

from __future__ import annotations

from datetime import date

import pytest

from guidance_revisit.domain.policy import (
    Policies,
    Policy,
    Rule,
    plan_case_closed,
    plan_correction_check,
    spot_draw,
)
from guidance_shared.workdays import WorkingCalendar

CAL = WorkingCalendar()
CLOSED = date(2025, 3, 10)


def case(**changes: object) -> dict[str, object]:
    return {
        "case_id": "64689d52-2a4d-5c09-8718-81246f1bf58e",
        "major": False,
        "procedure": "simple",
        "decision": "no_penalty_first",
    } | changes


def test_a_closed_major_case_is_revisited_within_30_days_and_at_3_months() -> None:
    planned = plan_case_closed(case(major=True), CLOSED, Policy(), CAL)
    assert [(p.kind, p.due_on) for p in planned] == [
        ("case_revisit", date(2025, 4, 9)),
        ("case_revisit", date(2025, 6, 8)),
    ]


def test_an_ordinary_procedure_penalty_case_is_revisited_once() -> None:
    planned = plan_case_closed(case(procedure="ordinary", decision="penalty"), CLOSED, Policy(), CAL)
    assert [(p.kind, p.due_on) for p in planned] == [("case_revisit", date(2025, 4, 9))]


def test_a_due_date_in_working_days_crosses_national_day_with_its_make_up_days() -> None:
    policy = Policy(major_case=Rule((7,), unit="working_days"))
    # Closed Tue 30 Sep 2025: Oct 1–8 off; Sat Oct 11 is a make-up working day → due Thu Oct 16.
    planned = plan_case_closed(case(major=True), date(2025, 9, 30), policy, CAL)
    assert [p.due_on for p in planned] == [date(2025, 10, 16)]


def test_the_spot_draw_is_reproducible_from_the_recorded_seed() -> None:
    assert spot_draw("seed-2025", "case-1") == spot_draw("seed-2025", "case-1")
    assert spot_draw("seed-2025", "case-1") != spot_draw("seed-2026", "case-1")
    policy = Policy(spot_rate=0.3, spot_seed="seed-2025")
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(400)]
    first = [bool(plan_case_closed(case(case_id=i), CLOSED, policy, CAL)) for i in ids]
    again = [bool(plan_case_closed(case(case_id=i), CLOSED, policy, CAL)) for i in ids]
    assert first == again
    assert 0.2 < sum(first) / len(first) < 0.4  # the rate holds in aggregate
    drawn = next(
        plan_case_closed(case(case_id=i), CLOSED, policy, CAL)[0] for i, hit in zip(ids, first, strict=True) if hit
    )
    assert drawn.kind == "spot" and drawn.draw["seed"] == "seed-2025" and drawn.draw["value"] < 0.3


def test_rate_zero_draws_nothing_and_rate_one_draws_everything() -> None:
    assert plan_case_closed(case(), CLOSED, Policy(spot_rate=0.0), CAL) == []
    assert len(plan_case_closed(case(), CLOSED, Policy(spot_rate=1.0), CAL)) == 1


def test_a_correction_check_is_due_on_the_deadline() -> None:
    planned = plan_correction_check({"guidance_id": "g", "correction_deadline": "2025-03-12"}, Policy())
    assert planned is not None and (planned.kind, planned.due_on) == ("correction_check", date(2025, 3, 12))
    assert plan_correction_check({"guidance_id": "g", "correction_deadline": None}, Policy()) is None


def test_policies_per_department_from_configuration() -> None:
    policies = Policies.from_mapping(
        {
            "default": {"major_case": {"offsets": [15, 60]}, "spot_rate": 0.05},
            "departments": {"d-1": {"major_case": {"offsets": [30], "unit": "working_days"}}},
        }
    )
    assert policies.for_department("other").major_case == Rule((15, 60))
    assert policies.for_department("d-1").major_case == Rule((30,), "working_days")
    assert policies.for_department("d-1").spot_rate == 0.05  # inherited from the default


@pytest.mark.parametrize(
    "bad",
    [{"default": {"spot_rate": 2}}, {"default": {"major_case": {"unit": "weeks"}}}, {"default": {"colour": "red"}}],
)
def test_bad_policy_configuration_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Policies.from_mapping(bad)
