"""Guidance, given events → when a command → then events (or the rule that refused it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from guidance_intake.domain.guidance import (
    CORRECTION_VERIFIED,
    GUIDANCE_ISSUED,
    GUIDANCE_RESPONDED,
    GUIDANCE_SUSPENDED,
    GUIDANCE_WITHDRAWN,
    Guidance,
)
from guidance_shared.errors import GuidanceError
from guidance_shared.events.examples import GUIDANCE_ID, example
from guidance_shared.eventstore import StoredEvent


def given(*events: tuple[str, dict[str, Any]]) -> Guidance:
    history = [
        StoredEvent(i, f"e{i}", GUIDANCE_ID, "Guidance", i, t, d, {}, datetime.now(UTC), "", "")
        for i, (t, d) in enumerate(events, start=1)
    ]
    return Guidance.from_history(GUIDANCE_ID, history)


def issued(**changes: Any) -> tuple[str, dict[str, Any]]:
    data = example(GUIDANCE_ISSUED)
    data.update(changes)
    return GUIDANCE_ISSUED, data


def responded(response: str = "accepted") -> tuple[str, dict[str, Any]]:
    data = example(GUIDANCE_RESPONDED)
    data["response"] = response
    return GUIDANCE_RESPONDED, data


def verified(corrected: bool) -> tuple[str, dict[str, Any]]:
    data = example(CORRECTION_VERIFIED)
    data["corrected"] = corrected
    return CORRECTION_VERIFIED, data


def then(guidance: Guidance, *types: str) -> None:
    assert [e.type for e in guidance.pending] == list(types)


def refused(code: str, command: Any, *args: Any) -> GuidanceError:
    with pytest.raises(GuidanceError) as caught:
        command(*args)
    assert caught.value.code == code
    assert caught.value.detail_zh and caught.value.detail_en
    return caught.value


def test_issuing_a_new_act_records_guidance_issued() -> None:
    guidance = given()
    guidance.issue(issued()[1])
    then(guidance, GUIDANCE_ISSUED)
    assert guidance.status == "issued"


def test_an_act_is_issued_once() -> None:
    guidance = given(issued())
    refused("guidance-already-issued", guidance.issue, issued()[1])


def test_an_act_without_legal_basis_is_refused_naming_the_field() -> None:
    error = refused("legal-basis-required", given().issue, issued(legal_basis=[])[1])
    assert error.fields[0].field == "legal_basis" and error.status == 422


def test_written_guidance_when_the_counterpart_asked_for_writing() -> None:
    error = refused("written-form-required", given().issue, issued(written_requested=True, form="oral")[1])
    assert error.fields[0].field == "form"
    given().issue(issued(written_requested=True, form="written")[1])


@pytest.mark.parametrize("response", ["accepted", "declined", "no_response"])
def test_a_response_is_recorded_once(response: str) -> None:
    guidance = given(issued())
    guidance.respond(responded(response)[1])
    then(guidance, GUIDANCE_RESPONDED)
    assert guidance.declined == (response == "declined")
    refused("response-not-allowed", guidance.respond, responded()[1])


def test_a_correction_is_verified_for_a_warning_until_it_is_corrected() -> None:
    guidance = given(issued(), responded(), verified(False))
    guidance.verify_correction(verified(True)[1])
    then(guidance, CORRECTION_VERIFIED)
    assert guidance.status == "correction_verified"
    refused("correction-not-open", guidance.verify_correction, verified(True)[1])


def test_advice_has_no_correction_to_verify() -> None:
    guidance = given(issued(content_type="development_advice", correction_deadline=None, advice="建立健全内部制度"))
    refused("no-correction-deadline", guidance.verify_correction, verified(True)[1])


def test_suspend_and_withdraw() -> None:
    reason = {
        "guidance_id": GUIDANCE_ID,
        "department_id": "d",
        "reason": "相对人提出异议",
        "at": "2025-03-06T09:00:00+08:00",
    }
    guidance = given(issued(), responded())
    guidance.suspend(reason)
    then(guidance, GUIDANCE_SUSPENDED)
    refused("suspend-not-allowed", guidance.suspend, reason)
    guidance.withdraw(reason)
    assert guidance.status == "withdrawn" and guidance.details["doc_no"]  # the number stays with the act
    refused("withdraw-not-allowed", guidance.withdraw, reason)
    then(guidance, GUIDANCE_SUSPENDED, GUIDANCE_WITHDRAWN)


def test_a_withdrawn_act_takes_no_response() -> None:
    reason = {"guidance_id": GUIDANCE_ID, "department_id": "d", "reason": "错误作出", "at": "2025-03-06T09:00:00+08:00"}
    guidance = given(issued(), (GUIDANCE_WITHDRAWN, reason))
    refused("response-not-allowed", guidance.respond, responded()[1])
    refused("correction-not-open", guidance.verify_correction, verified(True)[1])
