"""ReminderPlan, given events → when a supervisor decides → then events; decisions follow the states."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from guidance_revisit.domain.reminder_plan import ReminderPlan
from guidance_shared.catalogue import REMINDER_PLAN_ACCEPTED as ACCEPTED
from guidance_shared.catalogue import REMINDER_PLAN_ADJUSTED as ADJUSTED
from guidance_shared.catalogue import REMINDER_PLAN_DISMISSED as DISMISSED
from guidance_shared.catalogue import REMINDER_PLANNED as PLANNED
from guidance_shared.errors import GuidanceError
from guidance_shared.events.examples import PLAN_ID, example
from guidance_shared.eventstore import StoredEvent


def given(*events: tuple[str, dict[str, Any]]) -> ReminderPlan:
    history = [
        StoredEvent(i, f"e{i}", PLAN_ID, "ReminderPlan", i, t, d, {}, datetime.now(UTC), "", "")
        for i, (t, d) in enumerate(events, start=1)
    ]
    return ReminderPlan.from_history(PLAN_ID, history)


def planned() -> tuple[str, dict[str, Any]]:
    return PLANNED, example(PLANNED)


def test_a_new_plan_awaits_a_decision() -> None:
    plan = ReminderPlan(PLAN_ID)
    plan.plan(example(PLANNED))
    assert plan.status == "planned" and plan.notify_on == date(2025, 9, 10)
    assert [e.type for e in plan.pending] == [PLANNED]
    with pytest.raises(GuidanceError) as caught:
        given(planned()).plan(example(PLANNED))
    assert caught.value.status == 409


def test_accept_once() -> None:
    plan = given(planned())
    plan.accept(example(ACCEPTED))
    assert (plan.status, plan.adjusted, plan.version) == ("accepted", False, 1)
    assert [e.type for e in plan.pending] == [ACCEPTED]
    with pytest.raises(GuidanceError) as caught:
        given(planned(), (ACCEPTED, example(ACCEPTED))).accept(example(ACCEPTED))
    assert caught.value.status == 409


@pytest.mark.parametrize("before", [[], [(ACCEPTED, example(ACCEPTED))]])
def test_adjusting_accepts_with_the_new_dates(before: list[tuple[str, dict[str, Any]]]) -> None:
    plan = given(planned(), *before)
    plan.adjust(example(ADJUSTED))
    assert (plan.status, plan.adjusted) == ("accepted", True)
    assert (plan.period_from, plan.period_to, plan.notify_on) == (
        date(2025, 9, 15),
        date(2025, 10, 8),
        date(2025, 9, 5),
    )


def test_an_adjustment_must_change_something() -> None:
    same = example(ADJUSTED) | {"peak_period": {"from": "2025-09-20", "to": "2025-10-08"}, "notify_on": "2025-09-10"}
    with pytest.raises(GuidanceError) as caught:
        given(planned()).adjust(same)
    assert caught.value.status == 422 and [f.field for f in caught.value.fields] == ["notify_on"]


@pytest.mark.parametrize("before", [[], [(ACCEPTED, example(ACCEPTED))], [(ADJUSTED, example(ADJUSTED))]])
def test_a_plan_may_be_dismissed_until_it_is_dismissed(before: list[tuple[str, dict[str, Any]]]) -> None:
    plan = given(planned(), *before)
    plan.dismiss(example(DISMISSED))
    assert plan.status == "dismissed"


@pytest.mark.parametrize("command", ["accept", "adjust", "dismiss"])
def test_a_dismissed_plan_is_final(command: str) -> None:
    plan = given(planned(), (DISMISSED, example(DISMISSED)))
    data = {ACCEPTED: example(ACCEPTED), ADJUSTED: example(ADJUSTED), DISMISSED: example(DISMISSED)}
    with pytest.raises(GuidanceError) as caught:
        getattr(plan, command)(data[{"accept": ACCEPTED, "adjust": ADJUSTED, "dismiss": DISMISSED}[command]])
    assert caught.value.status == 409
