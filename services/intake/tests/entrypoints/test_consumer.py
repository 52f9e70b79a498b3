"""What a RevisitCompleted amounts to in intake: a correction check of a guidance act, or nothing."""

from __future__ import annotations

from guidance_intake.domain.commands import VerifyCorrection
from guidance_intake.entrypoints.consumer import correction_check
from guidance_shared.events.examples import example

GUIDANCE_ID = "7b0b5a5e-8a43-5c66-9d4e-1f2a3b4c5d6e"


def test_a_revisit_of_a_case_checks_no_guidance_act() -> None:
    assert correction_check(example("guidance.RevisitCompleted.v1")) is None


def test_a_revisit_without_a_finding_on_correction_checks_nothing() -> None:
    revisit = {**example("guidance.RevisitCompleted.v1"), "guidance_id": GUIDANCE_ID, "findings": {}}
    assert correction_check(revisit) is None


def test_a_correction_check_of_a_guidance_act_becomes_the_verification_of_its_first_officer() -> None:
    revisit = {**example("guidance.RevisitCompleted.v1"), "guidance_id": GUIDANCE_ID}
    first = revisit["officers"][0]
    assert correction_check(revisit) == VerifyCorrection(
        guidance_id=GUIDANCE_ID,
        corrected=True,
        verified_on="2025-05-12",
        verified_by={"name": first["name"], "badge_no": first["badge_no"], "officer_id": first["officer_id"]},
        evidence=revisit["notes"],
        revisit_id=revisit["revisit_id"],
    )
