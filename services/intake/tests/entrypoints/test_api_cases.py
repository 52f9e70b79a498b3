"""Enforcement cases through HTTP: open, legal review, decision under 行政处罚法, revocation and closure.

The exemption list is the packaged sample (config/exemptions-sample.csv); the entries used here:

- SJ-SW-001, DJ-036-01 (市场主体登记): 首违不罚 if first in 730 days, minor, corrected within 7 days, no harm;
- SJ-QW-001, SP-125-02 (食品安全): 不予处罚 if minor, corrected within 15 days, no harm (no look-back).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from guidance_shared.events.examples import ENTERPRISE, INDIVIDUAL_BUSINESS

EMERGENCY = "077493a6-c269-5ad9-9cc1-26c4417acc51"  # 某县应急管理局

FIRST_VIOLATION_FREE = {  # SJ-SW-001: 首违不罚
    "code": "DJ-036-01",
    "category": "市场主体登记",
    "description": "未将营业执照置于经营场所醒目位置。",
    "occurred_on": "2025-03-01",
}
MINOR_FREE = {  # SJ-QW-001: 不予处罚, whatever came before
    "code": "SP-125-02",
    "category": "食品安全",
    "description": "预包装食品标签存在瑕疵，不影响食品安全。",
    "occurred_on": "2025-03-01",
}
SPARED = {"minor": True, "harmful_consequence": False, "corrected_on": "2025-03-05"}  # every condition holds
WARNING_PENALTY = {"kind": "formal_warning", "amount_yuan": None, "confiscated_yuan": None, "description": "警告"}


def case_path(case_id: str, command: str = "") -> str:
    return f"/v1/cases/{case_id}/{command}".rstrip("/")


def penalty(api: Any, **changes: Any) -> dict[str, Any]:
    return api.decision_body(penalty=WARNING_PENALTY, circumstances=SPARED, **changes)


# -- opening ------------------------------------------------------------------------------------------
def test_a_case_without_a_number_gets_the_next_filing_number(api) -> None:
    first = api.open_case()
    second = api.open_case()

    assert first["status"] == "open" and first["version"] == 1
    assert first["details"]["case_no"] == "某市监立〔2025〕第001号"
    assert second["details"]["case_no"] == "某市监立〔2025〕第002号"


def test_a_case_keeps_the_number_its_system_brought(api) -> None:
    response = api.post("/v1/cases", api.case_body(case_no="某市监立〔2025〕12号"), ("officer",))
    assert response.status_code == 201
    assert response.headers["Location"].endswith(response.get_json()["case_id"])
    assert response.headers["ETag"] == '"1"'
    assert response.get_json()["details"]["case_no"] == "某市监立〔2025〕12号"
    assert api.open_case()["details"]["case_no"] == "某市监立〔2025〕第001号"


def test_a_failing_credit_code_opens_a_case_only_with_a_reason(api) -> None:
    wrong = ENTERPRISE["uscc"][:17] + ("0" if ENTERPRISE["uscc"][17] != "0" else "1")
    counterpart = {**ENTERPRISE, "uscc": wrong}
    api.problem(api.post("/v1/cases", api.case_body(counterpart=counterpart), ("officer",)), 422, "uscc-check-failed")
    created = api.open_case(counterpart=counterpart, identifier_override_reason="早期代码，经核实。")
    assert created["details"]["counterpart"]["uscc"] == wrong
    assert created["details"]["identifier_override_reason"] == "早期代码，经核实。"  # CaseOpened keeps why


OPEN_REFUSALS = [
    (
        "category outside the department's powers",
        {"violation": {**FIRST_VIOLATION_FREE, "category": "大气污染防治"}},
        "not-competent",
        "violation.category",
    ),
    ("unknown domain", {"domain": "taxation"}, "validation-failed", "domain"),
    ("unknown procedure", {"procedure": "summary"}, "validation-failed", "procedure"),
    ("no violation", {"violation": None}, "validation-failed", "violation"),
    (
        "violation without a description",
        {"violation": {"code": "X", "category": "食品安全"}},
        "validation-failed",
        "violation.description",
    ),
    ("major not a boolean", {"major": "perhaps"}, "validation-failed", "major"),
    ("empty case number", {"case_no": ""}, "validation-failed", "case_no"),
    ("naive opening time", {"opened_at": "2025-03-03T09:00:00"}, "validation-failed", "opened_at"),
]


@pytest.mark.parametrize(("changes", "code", "field"), [pytest.param(*r[1:], id=r[0]) for r in OPEN_REFUSALS])
def test_an_invalid_case_is_refused(api, changes: dict, code: str, field: str) -> None:
    api.problem(api.post("/v1/cases", api.case_body(**changes), ("officer",)), 422, code, field)


def test_a_case_of_an_unknown_department_is_refused(api) -> None:
    unknown = str(uuid.uuid4())
    headers = api.headers("officer", departments=[unknown])
    response = api.client.post("/v1/cases", json=api.case_body(department_id=unknown), headers=headers)
    api.problem(response, 422, "unknown-department", "department_id")


def test_a_case_is_read_with_its_etag_and_an_unknown_one_is_404(api) -> None:
    case_id = api.open_case()["case_id"]
    response = api.get(case_path(case_id), ("auditor",))
    assert response.status_code == 200 and response.headers["ETag"] == '"1"'
    assert response.get_json()["case_id"] == case_id
    api.problem(api.get(case_path(str(uuid.uuid4()))), 404, "not-found")
    guidance_id = api.issue()["guidance_id"]
    api.problem(api.get(case_path(guidance_id)), 404, "not-found")


# -- legal review (法制审核) ---------------------------------------------------------------------------
def test_a_reviewer_records_the_legal_review(api) -> None:
    case_id = api.open_case(major=True)["case_id"]
    reviewed = api.command(case_path(case_id, "legal-review"), api.review_body("approved_with_changes"), ("reviewer",))
    assert reviewed["legal_review"]["conclusion"] == "approved_with_changes"
    assert reviewed["version"] == 2 and reviewed["status"] == "open"


@pytest.mark.parametrize(
    ("review", "field"),
    [
        ({"reviewer": "法制审核室", "reviewed_on": "2025-03-18", "conclusion": "maybe"}, "legal_review.conclusion"),
        ({"reviewer": "法制审核室", "conclusion": "approved"}, "legal_review.reviewed_on"),
        ({"reviewed_on": "2025-03-18", "conclusion": "approved"}, "legal_review.reviewer"),
    ],
)
def test_an_invalid_legal_review_is_refused(api, review: dict, field: str) -> None:
    case_id = api.open_case(major=True)["case_id"]
    response = api.post(case_path(case_id, "legal-review"), {"legal_review": review}, ("reviewer",))
    api.problem(response, 422, "validation-failed", field)


def test_a_review_comes_before_the_decision(api) -> None:
    case_id = api.open_case()["case_id"]
    api.command(case_path(case_id, "decision"), api.decision_body(), ("supervisor",))
    response = api.post(case_path(case_id, "legal-review"), api.review_body(), ("reviewer",))
    api.problem(response, 409, "review-not-allowed")


# -- decision: legal review of major cases (第五十八条) ---------------------------------------------------
@pytest.mark.parametrize("review", [None, "rejected"], ids=["no review", "rejecting review"])
def test_a_major_decision_needs_an_approving_legal_review(api, review: str | None) -> None:
    case_id = api.open_case(major=True)["case_id"]
    if review is not None:
        api.command(case_path(case_id, "legal-review"), api.review_body(review), ("reviewer",))

    response = api.post(case_path(case_id, "decision"), api.decision_body(), ("supervisor",))

    api.problem(response, 422, "legal-review-required", "legal_review")


def test_a_major_decision_after_an_approving_review_takes_the_first_decision_number(api) -> None:
    case_id = api.open_case(major=True)["case_id"]
    refused = api.post(case_path(case_id, "decision"), api.decision_body(), ("supervisor",))
    assert refused.status_code == 422  # a refused decision takes no number
    api.command(case_path(case_id, "legal-review"), api.review_body(), ("reviewer",))

    decided = api.command(case_path(case_id, "decision"), api.decision_body(), ("supervisor",))

    assert decided["status"] == "decided"
    decision = decided["decision"]
    assert decision["decision_no"] == "某市监罚决〔2025〕第001号"
    assert decision["major"] is True and decision["legal_review"]["conclusion"] == "approved"
    assert decision["exemption_list_entry"] is None


DECISION_REFUSALS = [
    ("penalty without its content", {"penalty": None}, "penalty"),
    ("no-penalty decision with a penalty", {"decision": "no_penalty_minor"}, "penalty"),
    ("fine without an amount", {"penalty": {"kind": "fine"}}, "penalty.amount_yuan"),
    ("amount as a number", {"penalty": {"kind": "fine", "amount_yuan": 5000}}, "penalty.amount_yuan"),
    ("coercive measure without the measure", {"decision": "coercive_measure", "penalty": None}, "coercive_measure"),
    ("no legal basis", {"legal_basis": []}, "legal_basis"),
    ("unknown decision", {"decision": "pardon"}, "decision"),
]


@pytest.mark.parametrize(("changes", "field"), [pytest.param(*r[1:], id=r[0]) for r in DECISION_REFUSALS])
def test_an_invalid_decision_is_refused(api, changes: dict, field: str) -> None:
    case_id = api.open_case()["case_id"]
    response = api.post(case_path(case_id, "decision"), api.decision_body(**changes), ("supervisor",))
    api.problem(response, 422, "validation-failed", field)


# -- decision: the exemption list (免罚清单, 第三十三条) ---------------------------------------------------
def test_a_penalty_where_the_list_spares_it_needs_an_override_reason(api) -> None:
    case_id = api.open_case(violation=FIRST_VIOLATION_FREE)["case_id"]

    refused = api.post(case_path(case_id, "decision"), penalty(api), ("supervisor",))
    problem = api.problem(refused, 422, "exemption-applies", "override_reason")
    assert "SJ-SW-001" in problem["detail"]

    decided = api.command(
        case_path(case_id, "decision"), penalty(api, override_reason="当事人拒不改正，仍予警告。"), ("supervisor",)
    )
    assert decided["decision"]["exemption_list_entry"] == "SJ-SW-001"
    assert decided["decision"]["decision_no"] == "某市监罚决〔2025〕第001号"


@pytest.mark.parametrize(
    "circumstances",
    [
        {"minor": False, "harmful_consequence": False, "corrected_on": "2025-03-05"},
        {"minor": True, "harmful_consequence": True, "corrected_on": "2025-03-05"},
        {"minor": True, "harmful_consequence": False, "corrected_on": "2025-03-20"},  # after the 7-day period
        {"minor": True, "harmful_consequence": False, "corrected_on": None},
        None,
    ],
    ids=["not minor", "harmful", "corrected late", "not corrected", "no circumstances"],
)
def test_when_a_condition_fails_the_list_does_not_apply_and_a_penalty_needs_no_override(api, circumstances) -> None:
    case_id = api.open_case(violation=FIRST_VIOLATION_FREE)["case_id"]
    body = api.decision_body(penalty=WARNING_PENALTY, circumstances=circumstances)
    decided = api.command(case_path(case_id, "decision"), body, ("supervisor",))
    assert decided["decision"]["exemption_list_entry"] is None


def test_no_penalty_under_the_list_needs_a_linked_minor_issue_warning(api) -> None:
    case_id = api.open_case(violation=FIRST_VIOLATION_FREE)["case_id"]
    body = api.no_penalty_body(circumstances=SPARED)

    refused = api.post(case_path(case_id, "decision"), body, ("supervisor",))
    api.problem(refused, 422, "education-guidance-required", "education_guidance_id")

    advice = api.issue("development_advice")["guidance_id"]
    not_education = api.post(case_path(case_id, "decision"), {**body, "education_guidance_id": advice})
    api.problem(not_education, 422, "education-guidance-required")

    warning = api.issue(related_case_id=case_id)["guidance_id"]
    decided = api.command(case_path(case_id, "decision"), {**body, "education_guidance_id": warning}, ("supervisor",))
    assert decided["decision"]["decision"] == "no_penalty_first"
    assert decided["decision"]["education_guidance_id"] == warning
    assert decided["decision"]["exemption_list_entry"] == "SJ-SW-001"


def test_a_no_penalty_decision_is_numbered_as_its_own_kind_not_as_a_penalty(api) -> None:
    # Given a first violation the exemption list spares, with its education warning linked
    spared = api.open_case(violation=FIRST_VIOLATION_FREE)["case_id"]
    warning = api.issue(related_case_id=spared)["guidance_id"]
    body = api.no_penalty_body(circumstances=SPARED, education_guidance_id=warning)
    # When it is decided 不予处罚, and then another case is decided with a penalty
    no_penalty = api.command(case_path(spared, "decision"), body, ("supervisor",))["decision"]
    other = api.open_case()["case_id"]
    fined = api.command(case_path(other, "decision"), api.decision_body(), ("supervisor",))["decision"]
    # Then the 不予行政处罚决定书 has its own kind and sequence, and the penalty sequence starts at 001
    assert no_penalty["decision_no"] == "某市监不罚〔2025〕第001号"
    assert fined["decision_no"] == "某市监罚决〔2025〕第001号"


def test_a_coercive_measure_is_numbered_as_its_own_kind_not_as_a_penalty(api) -> None:
    # Given a case decided with a coercive measure (查封), and another with a penalty
    sealed = api.open_case()["case_id"]
    measure = {"kind": "sealing", "description": "查封涉案仓库"}
    body = api.decision_body(decision="coercive_measure", penalty=None, coercive_measure=measure)
    coercive = api.command(case_path(sealed, "decision"), body, ("supervisor",))["decision"]
    other = api.open_case()["case_id"]
    fined = api.command(case_path(other, "decision"), api.decision_body(), ("supervisor",))["decision"]
    # Then the 行政强制措施决定书 has its own kind and sequence, and the penalty sequence starts at 001
    assert coercive["decision_no"] == "某市监强制〔2025〕第001号"
    assert fined["decision_no"] == "某市监罚决〔2025〕第001号"


def test_a_withdrawn_or_foreign_warning_is_no_education(api) -> None:
    case_id = api.open_case(violation=FIRST_VIOLATION_FREE)["case_id"]
    withdrawn = api.issue()["guidance_id"]
    api.command(f"/v1/guidance/{withdrawn}/withdrawal", {"reason": "撤回"}, ("supervisor",))
    foreign = api.issue(department=EMERGENCY)["guidance_id"]
    for linked in (withdrawn, foreign, str(uuid.uuid4())):
        body = api.no_penalty_body(circumstances=SPARED, education_guidance_id=linked)
        api.problem(api.post(case_path(case_id, "decision"), body), 422, "education-guidance-required")


def test_a_prior_similar_violation_within_the_look_back_makes_the_first_violation_entry_not_apply(api) -> None:
    api.open_case(violation={**FIRST_VIOLATION_FREE, "occurred_on": "2023-06-01"})  # 639 days before: counts
    case_id = api.open_case(violation=FIRST_VIOLATION_FREE)["case_id"]

    decided = api.command(case_path(case_id, "decision"), penalty(api), ("supervisor",))

    assert decided["decision"]["exemption_list_entry"] is None
    assert decided["decision"]["override_reason"] is None


@pytest.mark.parametrize(
    "prior",
    [
        {"violation": {**FIRST_VIOLATION_FREE, "occurred_on": "2023-02-28"}},  # 732 days before: outside
        {"violation": {**FIRST_VIOLATION_FREE, "code": "DJ-046-01"}},  # another violation
        {"violation": FIRST_VIOLATION_FREE, "counterpart": INDIVIDUAL_BUSINESS},  # another counterpart
    ],
    ids=["outside the look-back", "another violation", "another counterpart"],
)
def test_a_prior_case_that_is_not_similar_leaves_the_entry_applying(api, prior: dict) -> None:
    api.open_case(**prior)
    case_id = api.open_case(violation=FIRST_VIOLATION_FREE)["case_id"]
    api.problem(api.post(case_path(case_id, "decision"), penalty(api)), 422, "exemption-applies")


def test_a_revoked_prior_decision_is_no_prior_violation(api) -> None:
    prior = api.open_case(violation={**FIRST_VIOLATION_FREE, "occurred_on": "2024-06-01"})["case_id"]
    api.command(case_path(prior, "decision"), api.decision_body(penalty=WARNING_PENALTY), ("supervisor",))
    api.command(case_path(prior, "revocation"), {"reason": "复议撤销"}, ("supervisor",))
    case_id = api.open_case(violation=FIRST_VIOLATION_FREE)["case_id"]
    api.problem(api.post(case_path(case_id, "decision"), penalty(api)), 422, "exemption-applies")


def test_an_entry_without_a_first_violation_condition_applies_despite_a_prior_case(api) -> None:
    api.open_case(violation={**MINOR_FREE, "occurred_on": "2024-06-01"})
    case_id = api.open_case(violation=MINOR_FREE)["case_id"]
    problem = api.problem(api.post(case_path(case_id, "decision"), penalty(api)), 422, "exemption-applies")
    assert "SJ-QW-001" in problem["detail"]
    no_penalty = api.no_penalty_body("no_penalty_minor", circumstances=SPARED)
    api.problem(api.post(case_path(case_id, "decision"), no_penalty), 422, "education-guidance-required")


# -- decision: voluntariness (自愿原则) ------------------------------------------------------------------
def test_a_declined_guidance_act_is_never_a_ground_for_a_decision(api) -> None:
    case_id = api.open_case()["case_id"]
    declined = api.issue()["guidance_id"]
    api.command(f"/v1/guidance/{declined}/response", {"response": "declined"}, ("officer",))
    accepted = api.issue()["guidance_id"]
    api.command(f"/v1/guidance/{accepted}/response", {"response": "accepted"}, ("officer",))

    refused = api.post(case_path(case_id, "decision"), api.decision_body(cited_guidance_ids=[accepted, declined]))
    api.problem(refused, 422, "declined-guidance-cited", "cited_guidance_ids.1")
    unknown = api.post(case_path(case_id, "decision"), api.decision_body(cited_guidance_ids=[str(uuid.uuid4())]))
    api.problem(unknown, 422, "cited-guidance-unknown", "cited_guidance_ids.0")

    decided = api.command(case_path(case_id, "decision"), api.decision_body(cited_guidance_ids=[accepted]))
    assert decided["decision"]["cited_guidance_ids"] == [accepted]


# -- revocation and closure --------------------------------------------------------------------------------
def test_a_revoked_major_decision_needs_a_new_review_before_the_next_decision(api) -> None:
    case_id = api.open_case(major=True)["case_id"]
    api.command(case_path(case_id, "legal-review"), api.review_body(), ("reviewer",))
    api.command(case_path(case_id, "decision"), api.decision_body(), ("supervisor",))

    revocation = {"reason": "复议机关撤销", "at": "2025-03-25T10:00:00+08:00"}  # after the example decision
    revoked = api.command(case_path(case_id, "revocation"), revocation, ("supervisor",))

    assert revoked["status"] == "decision_revoked" and revoked["legal_review"] == {}
    assert revoked["revocations"][0]["reason"] == "复议机关撤销"
    again = api.decision_body(decided_at="2025-04-01T10:00:00+08:00")
    api.problem(api.post(case_path(case_id, "decision"), again), 422, "legal-review-required")
    api.command(case_path(case_id, "legal-review"), api.review_body(), ("reviewer",))
    redecided = api.command(case_path(case_id, "decision"), again, ("supervisor",))
    assert redecided["decision"]["decision_no"] == "某市监罚决〔2025〕第002号"


def test_only_a_standing_decision_is_revoked(api) -> None:
    case_id = api.open_case()["case_id"]
    api.problem(api.post(case_path(case_id, "revocation"), {"reason": "撤销"}), 409, "nothing-to-revoke")
    api.problem(api.post(case_path(case_id, "revocation"), {}), 422, "validation-failed", "reason")


@pytest.mark.parametrize(
    ("outcome", "status", "code"),
    [
        ("executed", 422, "decision-required"),
        ("not_penalised", 422, "decision-required"),
        ("revoked", 422, "decision-required"),
        ("terminated", 200, None),
        ("transferred", 200, None),
        ("finished", 422, "validation-failed"),
    ],
)
def test_a_case_without_a_decision_closes_only_as_terminated_or_transferred(api, outcome, status, code) -> None:
    case_id = api.open_case()["case_id"]
    response = api.post(case_path(case_id, "closure"), {"outcome": outcome}, ("officer",))
    if status == 200:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == "closed"
    else:
        api.problem(response, status, code, "outcome")


def test_a_decided_case_closes_once_and_then_takes_no_more_commands(api) -> None:
    case_id = api.open_case()["case_id"]
    api.command(case_path(case_id, "decision"), api.decision_body(), ("supervisor",))
    closed = api.command(case_path(case_id, "closure"), {"outcome": "executed"}, ("officer",))
    assert closed["status"] == "closed" and closed["closing"]["outcome"] == "executed"
    assert closed["closing"]["major"] is False

    api.problem(api.post(case_path(case_id, "closure"), {"outcome": "executed"}), 409, "close-not-allowed")
    api.problem(api.post(case_path(case_id, "decision"), api.decision_body()), 409, "decision-not-allowed")
    api.problem(api.post(case_path(case_id, "revocation"), {"reason": "撤销"}), 409, "nothing-to-revoke")
    api.problem(api.post(case_path(case_id, "legal-review"), api.review_body()), 409, "review-not-allowed")


@pytest.mark.parametrize(
    ("command", "body"),
    [
        ("legal-review", {"legal_review": {"reviewer": "室", "reviewed_on": "2025-03-18", "conclusion": "approved"}}),
        ("decision", None),
        ("closure", {"outcome": "terminated"}),
    ],
)
def test_case_commands_honour_if_match(api, command: str, body: dict | None) -> None:
    case_id = api.open_case()["case_id"]
    body = body or api.decision_body()
    stale = api.post(case_path(case_id, command), body, **{"If-Match": '"3"'})
    assert api.problem(stale, 412, "precondition-failed")["current_version"] == 1
    api.problem(api.post(case_path(case_id, command), body, **{"If-Match": "v1"}), 400, "bad-if-match")
    done = api.post(case_path(case_id, command), body, **{"If-Match": '"1"'})
    assert done.status_code == 200 and done.headers["ETag"] == '"2"'


@pytest.mark.parametrize("command", ["legal-review", "decision", "revocation", "closure"])
def test_a_command_on_an_unknown_case_is_404(api, command: str) -> None:
    bodies = {
        "legal-review": api.review_body(),
        "decision": api.decision_body(),
        "revocation": {"reason": "撤销"},
        "closure": {"outcome": "terminated"},
    }
    api.problem(api.post(case_path(str(uuid.uuid4()), command), bodies[command]), 404, "not-found")


def test_a_retried_case_opening_with_the_same_key_opens_one_case(api) -> None:
    body = api.case_body()
    first = api.post("/v1/cases", body, ("officer",), **{"Idempotency-Key": "case-1"})
    again = api.post("/v1/cases", body, ("officer",), **{"Idempotency-Key": "case-1"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert re.fullmatch(r"某市监立〔2025〕第002号", api.open_case()["details"]["case_no"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"opened_at": "0001-01-01T00:00:00+00:00"}, "opened_at"),
        ({"opened_at": "9999-12-31T23:59:59-12:00"}, "opened_at"),
        ({"violation": {**FIRST_VIOLATION_FREE, "occurred_on": "0001-01-02"}}, "violation.occurred_on"),
        ({"violation": {**FIRST_VIOLATION_FREE, "occurred_on": "9999-12-30"}}, "violation.occurred_on"),
    ],
)
def test_a_case_dated_outside_1900_to_2999_is_a_422(api, changes: dict, field: str) -> None:
    api.problem(api.post("/v1/cases", api.case_body(**changes), ("officer",)), 422, "validation-failed", field)


@pytest.mark.parametrize(
    ("command", "body", "field"),
    [
        ("decision", {"decided_at": "0001-01-01T00:00:00+00:00"}, "decided_at"),
        ("decision", {"decided_at": "9999-12-31T23:59:59-12:00"}, "decided_at"),
        (
            "decision",
            {"circumstances": {"minor": True, "harmful_consequence": False, "corrected_on": "9999-12-31"}},
            "circumstances.corrected_on",
        ),
        ("closure", {"outcome": "terminated", "closed_at": "9999-12-31T23:59:59-12:00"}, "closed_at"),
    ],
)
def test_a_case_command_dated_outside_1900_to_2999_is_a_422(api, command: str, body: dict, field: str) -> None:
    case_id = api.open_case(violation=FIRST_VIOLATION_FREE)["case_id"]
    full = {**api.decision_body(), **body} if command == "decision" else body
    api.problem(api.post(case_path(case_id, command), full), 422, "validation-failed", field)


def test_a_lighter_penalty_entry_needs_no_override_and_is_not_recorded_as_sparing(api) -> None:
    # SJ-CQ-001 (从轻) applies to a first SP-034-10 violation without harm: a penalty is what it expects.
    violation = {
        "code": "SP-034-10",
        "category": "食品安全",
        "description": "经营超过保质期的食品，初次违法。",
        "occurred_on": "2025-03-01",
    }
    case_id = api.open_case(violation=violation)["case_id"]
    body = api.decision_body(
        penalty=WARNING_PENALTY, circumstances={"minor": False, "harmful_consequence": False, "corrected_on": None}
    )
    decided = api.command(case_path(case_id, "decision"), body, ("supervisor",))
    assert decided["status"] == "decided" and decided["decision"]["exemption_list_entry"] is None
