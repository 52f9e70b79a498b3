"""Revisit, given events → when a command → then events; overdue is flagged exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from guidance_revisit.domain.revisit import Revisit
from guidance_shared.catalogue import REVISIT_CANCELLED as CANCELLED
from guidance_shared.catalogue import REVISIT_COMPLETED as COMPLETED
from guidance_shared.catalogue import REVISIT_OVERDUE as OVERDUE
from guidance_shared.catalogue import REVISIT_RESCHEDULED as RESCHEDULED
from guidance_shared.catalogue import REVISIT_SCHEDULED as SCHEDULED
from guidance_shared.errors import GuidanceError
from guidance_shared.events.examples import REVISIT_ID, example
from guidance_shared.eventstore import StoredEvent


def given(*events: tuple[str, dict[str, Any]]) -> Revisit:
    history = [
        StoredEvent(i, f"e{i}", REVISIT_ID, "Revisit", i, t, d, {}, datetime.now(UTC), "", "")
        for i, (t, d) in enumerate(events, start=1)
    ]
    return Revisit.from_history(REVISIT_ID, history)


def scheduled(due: str = "2025-04-09") -> tuple[str, dict[str, Any]]:
    return SCHEDULED, example(SCHEDULED) | {"due_on": due}


def overdue() -> tuple[str, dict[str, Any]]:
    return OVERDUE, example(OVERDUE)


def test_overdue_is_flagged_once_after_the_due_date() -> None:
    revisit = given(scheduled("2025-04-09"))
    assert not revisit.mark_overdue(example(OVERDUE), today=date(2025, 4, 9))  # due today: not yet overdue
    assert revisit.mark_overdue(example(OVERDUE), today=date(2025, 4, 10))
    assert not revisit.mark_overdue(example(OVERDUE), today=date(2025, 4, 11))
    assert [e.type for e in revisit.pending] == [OVERDUE]


def test_an_overdue_revisit_can_still_be_completed_and_is_not_flagged_again() -> None:
    revisit = given(scheduled(), overdue())
    assert not revisit.mark_overdue(example(OVERDUE), today=date(2026, 1, 1))
    revisit.complete(example(COMPLETED))
    assert revisit.status == "completed"


def test_rescheduling_gives_a_fresh_due_date_that_may_become_overdue_once_more() -> None:
    moved = example(RESCHEDULED) | {"previous_due_on": "2025-04-09", "due_on": "2025-05-09"}
    revisit = given(scheduled(), overdue(), (RESCHEDULED, moved))
    assert not revisit.mark_overdue(example(OVERDUE), today=date(2025, 5, 9))
    assert revisit.mark_overdue(example(OVERDUE), today=date(2025, 5, 10))


@pytest.mark.parametrize("command", ["complete", "reschedule", "cancel"])
def test_a_completed_or_cancelled_revisit_is_closed(command: str) -> None:
    for ended in ((COMPLETED, example(COMPLETED)), (CANCELLED, example(CANCELLED))):
        revisit = given(scheduled(), ended)
        with pytest.raises(GuidanceError) as caught:
            getattr(revisit, command)({})
        assert caught.value.status == 409
        assert not revisit.mark_overdue(example(OVERDUE), today=date(2030, 1, 1))


def test_schedule_once() -> None:
    with pytest.raises(GuidanceError):
        given(scheduled()).schedule(scheduled()[1])
