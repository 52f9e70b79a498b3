"""Case, given events → when a command → then events: legal review, exemption lists, cited guidance."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from guidance_intake.domain.case import (
    CASE_CLOSED,
    CASE_DECIDED,
    CASE_DECISION_REVOKED,
    CASE_LEGAL_REVIEWED,
    CASE_OPENED,
    Case,
    CitedGuidance,
    ExemptionVerdict,
)
from guidance_shared.errors import GuidanceError
from guidance_shared.events.examples import CASE_ID, DEPARTMENT_ID, example
from guidance_shared.eventstore import StoredEvent

WARNING = "11111111-1111-4111-8111-111111111111"
DECLINED = "22222222-2222-4222-8222-222222222222"
ADVICE = "33333333-3333-4333-8333-333333333333"
GUIDANCE = {
    WARNING: CitedGuidance(WARNING, DEPARTMENT_ID, "minor_issue_warning", declined=False, withdrawn=False),
    DECLINED: CitedGuidance(DECLINED, DEPARTMENT_ID, "development_advice", declined=True, withdrawn=False),
    ADVICE: CitedGuidance(ADVICE, DEPARTMENT_ID, "development_advice", declined=False, withdrawn=False),
}
APPLIES = ExemptionVerdict("SC-001", applies=True, penalty_requires_override=True, education_guidance_required=True)
DOES_NOT_APPLY = ExemptionVerdict(
    "SC-001",
    applies=False,
    penalty_requires_override=False,
    education_guidance_required=False,
    reasons_en=("not the first violation",),
)


def given(*events: tuple[str, dict[str, Any]]) -> Case:
    history = [
        StoredEvent(i, f"e{i}", CASE_ID, "Case", i, t, d, {}, datetime.now(UTC), "", "")
        for i, (t, d) in enumerate(events, start=1)
    ]
    return Case.from_history(CASE_ID, history)


def opened(major: bool = False) -> tuple[str, dict[str, Any]]:
    data = example(CASE_OPENED)
    data["major"] = major
    return CASE_OPENED, data


def reviewed(conclusion: str = "approved") -> tuple[str, dict[str, Any]]:
    data = example(CASE_LEGAL_REVIEWED)
    data["legal_review"]["conclusion"] = conclusion
    return CASE_LEGAL_REVIEWED, data


def decision(kind: str = "penalty", **changes: Any) -> dict[str, Any]:
    data = example(CASE_DECIDED)
    data["decision"] = kind
    if kind != "penalty":
        data["penalty"] = None
    data.update(changes)
    return data


def refused(code: str, case: Case, data: dict[str, Any], exemption: ExemptionVerdict | None = None) -> GuidanceError:
    with pytest.raises(GuidanceError) as caught:
        case.decide(data, cited=GUIDANCE, exemption=exemption)
    assert caught.value.code == code
    return caught.value


def test_an_ordinary_decision_needs_no_review() -> None:
    case = given(opened(major=False))
    case.decide(decision(), cited=GUIDANCE, exemption=None)
    assert [e.type for e in case.pending] == [CASE_DECIDED] and case.status == "decided"


def test_a_major_decision_without_a_legal_review_is_refused() -> None:
    error = refused("legal-review-required", given(opened(major=True)), decision())
    assert error.fields[0].field == "legal_review" and "第五十八条" in error.detail_zh


def test_a_major_decision_after_a_rejecting_review_is_refused() -> None:
    refused("legal-review-required", given(opened(major=True), reviewed("rejected")), decision())


def test_a_major_decision_after_an_approving_review() -> None:
    case = given(opened(major=True), reviewed("approved"))
    case.decide(decision(), cited=GUIDANCE, exemption=None)
    assert case.status == "decided"


def test_a_revoked_decision_needs_a_fresh_review_before_the_next_one() -> None:
    revoked = example(CASE_DECISION_REVOKED)
    case = given(opened(major=True), reviewed(), (CASE_DECIDED, decision()), (CASE_DECISION_REVOKED, revoked))
    refused("legal-review-required", case, decision())


def test_a_declined_guidance_can_never_be_cited() -> None:
    error = refused("declined-guidance-cited", given(opened()), decision(cited_guidance_ids=[ADVICE, DECLINED]))
    assert error.fields[0].field == "cited_guidance_ids.1"


def test_given_guidance_issued_after_the_decision_when_it_is_cited_then_the_decision_is_refused() -> None:
    later = "55555555-5555-4555-8555-555555555555"
    cited = {
        **GUIDANCE,
        later: CitedGuidance(
            later, DEPARTMENT_ID, "development_advice", False, False, issued_at="2025-03-21T09:00:00+08:00"
        ),
    }
    case = given(opened())
    data = decision(cited_guidance_ids=[ADVICE, later])  # decided 2025-03-20 15:00
    with pytest.raises(GuidanceError) as caught:
        case.decide(data, cited=cited, exemption=None)
    assert (caught.value.code, caught.value.fields[0].field) == ("date-out-of-order", "cited_guidance_ids.1")
    assert "2025-03-21T09:00:00+08:00" in caught.value.detail_zh


def test_given_guidance_issued_before_the_decision_when_it_is_cited_then_the_decision_stands() -> None:
    earlier = CitedGuidance(ADVICE, DEPARTMENT_ID, "development_advice", False, False, "2025-03-05T10:30:00+08:00")
    case = given(opened())
    case.decide(decision(cited_guidance_ids=[ADVICE]), cited={ADVICE: earlier}, exemption=None)
    assert case.status == "decided"


def test_an_unknown_cited_guidance_is_refused() -> None:
    unknown = "44444444-4444-4444-8444-444444444444"
    refused("cited-guidance-unknown", given(opened()), decision(cited_guidance_ids=[unknown]))


def test_exemption_applies_penalty_without_override_is_refused() -> None:
    error = refused("exemption-applies", given(opened()), decision(), APPLIES)
    assert error.fields[0].field == "override_reason"


def test_exemption_applies_penalty_with_override_reason() -> None:
    case = given(opened())
    case.decide(decision(override_reason="当事人拒不改正，且有证据表明系故意"), cited=GUIDANCE, exemption=APPLIES)
    assert case.status == "decided"


@pytest.mark.parametrize("kind", ["no_penalty_minor", "no_penalty_first"])
def test_exemption_applies_no_penalty_needs_a_linked_warning(kind: str) -> None:
    refused("education-guidance-required", given(opened()), decision(kind), APPLIES)
    refused("education-guidance-required", given(opened()), decision(kind, education_guidance_id=ADVICE), APPLIES)
    case = given(opened())
    case.decide(decision(kind, education_guidance_id=WARNING), cited=GUIDANCE, exemption=APPLIES)
    assert case.status == "decided"


def test_exemption_does_not_apply_penalty_needs_no_override() -> None:
    case = given(opened())
    case.decide(decision(), cited=GUIDANCE, exemption=DOES_NOT_APPLY)
    assert case.status == "decided"


def test_revoke_only_a_standing_decision_and_close() -> None:
    revoked = example(CASE_DECISION_REVOKED)
    closed = example(CASE_CLOSED)
    case = given(opened())
    with pytest.raises(GuidanceError):
        case.revoke_decision(revoked)
    case = given(opened(), (CASE_DECIDED, decision()))
    case.revoke_decision(revoked)
    assert case.status == "decision_revoked"
    case.close(closed | {"outcome": "revoked"})
    assert [e.type for e in case.pending] == [CASE_DECISION_REVOKED, CASE_CLOSED]


def test_a_case_without_decision_closes_only_as_terminated_or_transferred() -> None:
    closed = example(CASE_CLOSED)
    with pytest.raises(GuidanceError) as caught:
        given(opened()).close(closed | {"outcome": "executed"})
    assert caught.value.code == "decision-required"
    case = given(opened())
    case.close(closed | {"outcome": "transferred"})
    assert case.status == "closed"
