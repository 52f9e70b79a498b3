"""The AssessmentPeriod and Scorecard aggregates, and the folding of facts: given events, when, then."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest

from guidance_assessment.adapters.files import load_rubric
from guidance_assessment.domain.facts import fold, subject_of
from guidance_assessment.domain.indicators import Window, compute
from guidance_assessment.domain.period import AssessmentPeriod, Scorecard, period_id_of
from guidance_assessment.domain.sources import counted_sources
from guidance_shared.catalogue import ASSESSMENT_PERIOD_OPENED as OPENED
from guidance_shared.catalogue import EXTERNAL_EVALUATION_RECORDED as EXTERNAL
from guidance_shared.catalogue import SCORECARD_PUBLISHED as PUBLISHED
from guidance_shared.catalogue import SCORECARD_REVISED as REVISED
from guidance_shared.errors import GuidanceError
from guidance_shared.events import default_registry
from guidance_shared.events.examples import example
from guidance_shared.messages import StoredEvent

RUBRIC = load_rubric()


def history(*events: tuple[str, dict[str, Any]]) -> list[StoredEvent]:
    return [
        StoredEvent(n, f"e{n}", "s", "AssessmentPeriod", n, t, d, {}, None, "", "")  # type: ignore[arg-type]
        for n, (t, d) in enumerate(events, start=1)
    ]


def test_a_year_is_opened_once() -> None:
    opened = example(OPENED)
    period = AssessmentPeriod.from_history(period_id_of(2025), history((OPENED, opened)))
    with pytest.raises(GuidanceError) as raised:
        period.open(opened)
    assert (raised.value.status, raised.value.code) == (409, "period-exists")
    assert period_id_of(2025) == period_id_of(2025) != period_id_of(2026)


def test_only_departments_taking_part_get_scores_and_only_the_rubrics_deliverables_count() -> None:
    opened = example(OPENED)  # department_ids: the example department only
    period = AssessmentPeriod.from_history(opened["period_id"], history((OPENED, opened)))
    stranger = example(EXTERNAL) | {"department_id": "077493a6-c269-5ad9-9cc1-26c4417acc51"}
    with pytest.raises(GuidanceError) as raised:
        period.record_external(stranger)
    assert raised.value.code == "not-assessed"
    with pytest.raises(GuidanceError) as refused:
        period.record_deliverable(example("guidance.RolloutDeliverableRecorded.v1") | {"deliverable": "x"}, RUBRIC)
    assert refused.value.status == 422
    period.record_external(example(EXTERNAL))
    assert [e.type for e in period.pending] == [EXTERNAL]


def test_a_published_scorecard_changes_only_by_a_new_version() -> None:
    card = Scorecard("s")
    with pytest.raises(GuidanceError):
        card.revise(example(REVISED))
    card.publish(example(PUBLISHED))
    with pytest.raises(GuidanceError) as raised:
        card.publish(example(PUBLISHED))
    assert raised.value.code == "already-published"
    card.revise(example(REVISED))
    assert [e.type for e in card.pending] == [PUBLISHED, REVISED]
    assert card.published["version"] == 2


def test_a_scorecard_remembers_what_its_latest_version_counted_so_a_revision_lists_only_new_events() -> None:
    counted = ids(10_000)
    late = str(uuid.uuid5(uuid.NAMESPACE_URL, "late"))
    card = Scorecard.from_history(
        "s", history((PUBLISHED, example(PUBLISHED) | {"counted_sources": counted_sources(counted)}))
    )
    assert card.newly_counted([late, *counted]) == [late]
    assert card.newly_counted(counted[:3]) == []  # an event no longer counted is not new either
    card.revise(example(REVISED) | {"counted_sources": counted_sources([late])})
    assert card.newly_counted([late, *counted[:2]]) == sorted(counted[:2])


def test_ten_thousand_counted_events_travel_in_eight_bytes_each() -> None:
    sources = counted_sources(ids(10_000))
    assert sources["count"] == 10_000
    assert len(json.dumps(sources)) < 110_000  # the ids in full: 390 000
    assert default_registry().validate(PUBLISHED, example(PUBLISHED) | {"counted_sources": sources})


def test_a_version_published_before_versions_carried_their_sources_still_loads() -> None:
    old = {key: value for key, value in example(PUBLISHED).items() if key != "counted_sources"}
    assert default_registry().validate(PUBLISHED, old)["counted_sources"] is None
    card = Scorecard.from_history("s", history((PUBLISHED, old)))
    assert card.newly_counted(["b", "a"]) == ["a", "b"]  # it does not say what it counted


def ids(count: int) -> list[str]:
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"event:{n}")) for n in range(count)]


def fact_of(*events: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    fact = None
    for name, event_id, data in events:
        found = subject_of(f"guidance.{name}.v1", data)
        assert found is not None
        fact = fold(found[0], fact, f"guidance.{name}.v1", event_id, data)
    assert fact is not None
    return fact


def test_the_first_verification_that_found_it_corrected_closes_a_correction() -> None:
    issued = example("guidance.GuidanceIssued.v1")
    verified = example("guidance.CorrectionVerified.v1")
    fact = fact_of(
        ("GuidanceIssued", "i", issued),
        ("CorrectionVerified", "v1", verified | {"corrected": False, "verified_on": "2025-03-12"}),
        ("CorrectionVerified", "v2", verified | {"verified_on": "2025-03-20"}),
        ("CorrectionVerified", "v3", verified | {"verified_on": "2025-03-25"}),
    )
    assert (fact["corrected"], fact["verified_on"], fact["events"]["verified"]) == (True, "2025-03-20", "v2")


@pytest.mark.parametrize(
    ("issued_at", "counts_in_2025"),
    [
        ("2025-12-31T23:30:00+08:00", True),  # still 2025 in China
        ("2025-12-31T17:00:00+00:00", False),  # 2026-01-01 01:00 in China
        ("2024-12-31T16:30:00+00:00", True),  # 2025-01-01 00:30 in China
    ],
)
def test_an_act_counts_in_the_year_of_its_china_date(issued_at: str, counts_in_2025: bool) -> None:
    issued = example("guidance.GuidanceIssued.v1") | {"issued_at": issued_at, "correction_deadline": None}
    issued["content_type"], issued["advice"] = "development_advice", "建议"
    fact = fact_of(("GuidanceIssued", "i", issued))
    figures = compute([fact], Window(date(2025, 1, 1), date(2025, 12, 31), date(2025, 12, 31)), RUBRIC)
    assert figures["written_share"].denominator == (1 if counts_in_2025 else 0)


def test_a_withdrawal_late_by_a_day_is_not_on_time() -> None:
    withdrawn = example("guidance.DisclosureWithdrawn.v1") | {
        "deadline": "2025-05-13",
        "at": "2025-05-14T00:10:00+08:00",
    }
    fact = fact_of(("DisclosureWithdrawn", "w", withdrawn))
    figure = compute([fact], Window(date(2025, 1, 1), date(2025, 12, 31), date(2025, 12, 31)), RUBRIC)[
        "withdrawal_on_time"
    ]
    assert (figure.numerator, figure.denominator) == (0, 1)


def test_an_item_still_in_review_past_its_deadline_counts_as_late_before_it_is_flagged() -> None:
    review = example("guidance.DisclosureReviewRequested.v1")  # deadline 2025-04-02
    waiting = fact_of(("DisclosureReviewRequested", "r", review))
    today = compute([waiting], Window(date(2025, 1, 1), date(2025, 12, 31), date(2025, 4, 2)), RUBRIC)
    assert today["disclosure_on_time"].denominator == 0  # on its deadline day it is not late yet
    later = compute([waiting], Window(date(2025, 1, 1), date(2025, 12, 31), date(2025, 4, 3)), RUBRIC)
    assert (later["disclosure_on_time"].numerator, later["disclosure_on_time"].denominator) == (0, 1)
    published = example("guidance.ItemDisclosed.v1") | {
        "item_id": review["item_id"],
        "deadline": "2025-04-02",
        "disclosed_at": "2025-04-01T09:00:00+08:00",
    }
    reviewed = fact_of(("DisclosureReviewRequested", "r", review), ("ItemDisclosed", "d", published))
    on_time = compute([reviewed], Window(date(2025, 1, 1), date(2025, 12, 31), date(2025, 12, 31)), RUBRIC)
    assert (on_time["disclosure_on_time"].numerator, on_time["disclosure_on_time"].denominator) == (1, 1)
    assert on_time["disclosure_on_time"].sources[0].event_ids == ("r", "d")
