"""POST /v1/guidance and the commands on a guidance act, through HTTP: valid input, every refusal, 文号 numbering.

The ``api`` fixture (conftest.py) is an in-process intake app with tokens per role; its bodies are copies of the
published event examples, changed only where a test says so.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from guidance_shared.events.examples import ENTERPRISE, PERSON
from guidance_shared.vocabulary import CONTENT_TYPES, METHODS

MARKET = "3898b87c-d9e4-5a37-8351-e465fdfcaae6"  # 某县市场监督管理局 (the examples' department)
ENVIRONMENT = "8fc7b039-732d-5de9-a917-32ef0e4ec0ae"  # 某市生态环境局某县分局: holds no licensing
EMERGENCY = "077493a6-c269-5ad9-9cc1-26c4417acc51"  # 某县应急管理局
UNKNOWN_DEPARTMENT = "5d1f3a52-0000-4000-8000-00000000beef"

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# The document abbreviation of each content type (departments.yaml defaults) in 某市监<kind>〔2025〕第NNN号.
KIND_ABBR = {
    "development_advice": "建议",
    "supervisory_admonition": "约谈",
    "enforcement_reminder": "提示",
    "minor_issue_warning": "警示",
    "violation_correction": "纠错",
    "major_case_revisit": "回访",
}


def uscc_check_char(body: str) -> str:
    """GB 32100-2015, written out again here so the test does not trust the code under test."""
    total = sum(USCC_CHARSET.index(ch) * pow(3, i, 31) for i, ch in enumerate(body))
    return USCC_CHARSET[(31 - total % 31) % 31]


def resident_id(body: str) -> str:
    """GB 11643-1999: 17 digits and their check character."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


VALID_USCC = ENTERPRISE["uscc"]
assert uscc_check_char(VALID_USCC[:17]) == VALID_USCC[17]
WRONG_CHECK_USCC = VALID_USCC[:17] + next(ch for ch in "0123456789" if ch != VALID_USCC[17])


ABSENT = object()  # a field left out of the body


def with_counterpart(**changes: Any) -> dict[str, Any]:
    return {**ENTERPRISE, **changes}


def doc_no(kind: str, serial: int, year: int = 2025) -> str:
    return f"某市监{KIND_ABBR[kind]}〔{year}〕第{serial:03d}号"


# -- the six content types, all ten methods ---------------------------------------------------------
def related_case_for(api: Any, content_type: str) -> dict[str, Any]:
    if content_type == "violation_correction":
        return {"related_case_id": api.open_case()["case_id"]}
    if content_type == "major_case_revisit":
        return {"related_case_id": api.closed_major_case()["case_id"]}
    return {}


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_each_content_type_is_issued_with_its_details_and_a_document_number(api, content_type: str) -> None:
    body = api.guidance_body(content_type, **related_case_for(api, content_type))
    response = api.post("/v1/guidance", body, ("officer",))

    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert response.headers["Location"].endswith(f"/v1/guidance/{created['guidance_id']}")
    assert response.headers["ETag"] == '"1"'
    assert created["status"] == "issued" and created["version"] == 1
    details = created["details"]
    assert details["content_type"] == content_type
    assert details["methods"] == body["methods"]
    assert details["doc_no"] == doc_no(content_type, 1)
    for name in ("advice", "interview", "reminder", "correction_deadline", "related_case_id"):
        assert details[name] == body.get(name), name


def test_the_six_content_types_use_all_ten_methods(api) -> None:
    used: set[str] = set()
    for content_type in CONTENT_TYPES:
        used |= set(api.issue(content_type, **related_case_for(api, content_type))["details"]["methods"])
    assert used == set(METHODS)


def test_a_person_counterpart_and_an_application_are_accepted(api) -> None:
    created = api.issue(
        "development_advice",
        counterpart=PERSON,
        initiated="on_application",
        applied_at="2025-03-01T09:00:00+08:00",
        form="oral",
    )
    assert created["details"]["counterpart"]["id_no"] == PERSON["id_no"]
    assert created["details"]["initiated"] == "on_application"


# -- refusals ---------------------------------------------------------------------------------------
def refused(name: str, code: str, field: str, *, token: dict | None = None, **changes: Any) -> Any:
    """A row: the body changed by ``changes``, sent with ``token`` (department, departments), refused with 422."""
    return pytest.param(changes, token or {}, code, field, id=name)


PERSON_WRONG_CHECK = PERSON["id_no"][:17] + ("0" if PERSON["id_no"][17] != "0" else "1")
REFUSALS = [
    refused("legal basis empty", "validation-failed", "legal_basis", legal_basis=[]),
    refused("legal basis missing", "validation-failed", "legal_basis", legal_basis=ABSENT),
    refused(
        "legal basis without an article",
        "validation-failed",
        "legal_basis.0.article",
        legal_basis=[{"instrument": "《中华人民共和国行政处罚法》"}],
    ),
    refused(
        "department not competent for the domain",
        "not-competent",
        "domain",
        token={"department": ENVIRONMENT},
        department_id=ENVIRONMENT,
        domain="licensing",
    ),
    refused(
        "unknown department",
        "unknown-department",
        "department_id",
        token={"departments": [UNKNOWN_DEPARTMENT]},
        department_id=UNKNOWN_DEPARTMENT,
    ),
    refused("written requested, oral form", "validation-failed", "form", written_requested=True, form="oral"),
    refused(
        "credit code fails its check digit",
        "uscc-check-failed",
        "counterpart.uscc",
        counterpart=with_counterpart(uscc=WRONG_CHECK_USCC),
    ),
    refused(
        "credit code too short",
        "validation-failed",
        "counterpart.uscc",
        counterpart=with_counterpart(uscc=VALID_USCC[:17]),
    ),
    refused(
        "credit code with a letter outside its alphabet",
        "validation-failed",
        "counterpart.uscc",
        counterpart=with_counterpart(uscc=VALID_USCC[:9] + "I" + VALID_USCC[10:]),
    ),
    refused(
        "enterprise without a credit code",
        "validation-failed",
        "counterpart.uscc",
        counterpart=with_counterpart(uscc=None),
    ),
    refused(
        "resident ID with a wrong check digit",
        "resident-id-invalid",
        "counterpart.id_no",
        counterpart={**PERSON, "id_no": PERSON_WRONG_CHECK},
    ),
    refused(
        "resident ID with an impossible birth date",
        "resident-id-invalid",
        "counterpart.id_no",
        counterpart={**PERSON, "id_no": resident_id("41010219850230451")},
    ),
    refused(
        "resident ID of the wrong length",
        "validation-failed",
        "counterpart.id_no",
        counterpart={**PERSON, "id_no": PERSON["id_no"][:15]},
    ),
    refused("unknown content type", "validation-failed", "content_type", content_type="penalty"),
    refused("unknown method", "validation-failed", "methods.0", methods=["coercion"]),
    refused("no method", "validation-failed", "methods", methods=[]),
    refused("repeated method", "validation-failed", "methods", methods=["warning", "warning"]),
    refused("deadline before the issue", "validation-failed", "correction_deadline", correction_deadline="2025-03-01"),
    refused("naive issue time", "validation-failed", "issued_at", issued_at="2025-03-05T10:30:00"),
    refused(
        "on application without the time applied",
        "validation-failed",
        "applied_at",
        initiated="on_application",
        applied_at=None,
    ),
    refused(
        "related case unknown",
        "related-case-unknown",
        "related_case_id",
        content_type="violation_correction",
        related_case_id=str(uuid.uuid4()),
    ),
]


@pytest.mark.parametrize(("changes", "token", "code", "field"), REFUSALS)
def test_an_invalid_guidance_act_is_refused_with_a_bilingual_problem(api, changes, token, code, field) -> None:
    body = {name: value for name, value in {**api.guidance_body(), **changes}.items() if value is not ABSENT}
    headers = api.headers(
        "officer", department=token.get("department", MARKET), departments=token.get("departments", ())
    )

    response = api.client.post("/v1/guidance", json=body, headers=headers)

    api.problem(response, 422, code, field)


@pytest.mark.parametrize(
    ("content_type", "missing"),
    [
        ("development_advice", "advice"),
        ("supervisory_admonition", "interview"),
        ("enforcement_reminder", "reminder"),
        ("minor_issue_warning", "correction_deadline"),
        ("violation_correction", "correction_deadline"),
        ("violation_correction", "related_case_id"),
        ("major_case_revisit", "related_case_id"),
    ],
)
def test_a_content_type_without_its_details_is_refused(api, content_type: str, missing: str) -> None:
    body = api.guidance_body(content_type, **related_case_for(api, content_type))
    body[missing] = None
    api.problem(api.post("/v1/guidance", body, ("officer",)), 422, "validation-failed", missing)


@pytest.mark.parametrize(
    ("part", "changes", "field"),
    [
        ("interview", {"summoned": {"name": "赵建国", "role": "friend"}}, "interview.summoned.role"),
        ("interview", {"rectification_items": []}, "interview.rectification_items"),
        ("interview", {"held_at": None}, "interview.held_at"),
        ("reminder", {"period": {"from": "2025-10-08", "to": "2025-09-20"}}, "reminder.period.to"),
        ("reminder", {"violation_category": ""}, "reminder.violation_category"),
    ],
)
def test_incomplete_interview_or_reminder_details_are_refused(api, part: str, changes: dict, field: str) -> None:
    content_type = {"interview": "supervisory_admonition", "reminder": "enforcement_reminder"}[part]
    body = api.guidance_body(content_type)
    body[part] = {**body[part], **changes}
    api.problem(api.post("/v1/guidance", body, ("officer",)), 422, "validation-failed", field)


def test_a_failing_credit_code_names_the_field_that_overrides_it_and_is_accepted_with_a_reason(api) -> None:
    counterpart = with_counterpart(uscc=WRONG_CHECK_USCC)
    refused = api.problem(
        api.post("/v1/guidance", api.guidance_body(counterpart=counterpart), ("officer",)), 422, "uscc-check-failed"
    )
    assert refused["expected_check_char"] == VALID_USCC[17]
    assert refused["override_field"] == "identifier_override_reason"

    created = api.issue(counterpart=counterpart, identifier_override_reason="早期颁发的真实代码，经登记机关核实。")

    assert created["details"]["counterpart"]["uscc"] == WRONG_CHECK_USCC
    assert created["details"]["identifier_override_reason"].startswith("早期颁发")


def test_an_invalid_resident_id_is_never_repeated_in_the_problem(api) -> None:
    bad = resident_id("41010219850230451")
    response = api.post("/v1/guidance", api.guidance_body(counterpart={**PERSON, "id_no": bad}), ("officer",))
    api.problem(response, 422, "resident-id-invalid")
    assert bad not in response.get_data(as_text=True)


def test_a_violation_correction_needs_a_case_of_the_same_department(api) -> None:
    other_case = api.open_case(department=EMERGENCY)["case_id"]
    body = api.guidance_body("violation_correction", related_case_id=other_case)
    api.problem(api.post("/v1/guidance", body, ("officer",)), 422, "related-case-unknown", "related_case_id")


@pytest.mark.parametrize("case_kind", ["open major case", "closed minor case"])
def test_a_major_case_revisit_needs_a_closed_major_case(api, case_kind: str) -> None:
    if case_kind == "open major case":
        case_id = api.open_case(major=True)["case_id"]
    else:
        case_id = api.open_case(major=False)["case_id"]
        api.command(f"/v1/cases/{case_id}/decision", api.decision_body())
        api.command(f"/v1/cases/{case_id}/closure", {"outcome": "executed"})
    body = api.guidance_body("major_case_revisit", related_case_id=case_id)
    api.problem(api.post("/v1/guidance", body, ("officer",)), 422, "case-not-closed", "related_case_id")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "malformed-json"),
        ('"a string"', "application/json", 422, "validation-failed"),
        ("department_id=x", "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_problem(api, body: str, content_type: str, status, code) -> None:
    headers = {**api.headers("officer"), "Content-Type": content_type}
    api.problem(api.client.post("/v1/guidance", data=body, headers=headers), status, code)


# -- document numbers (文号) ------------------------------------------------------------------------
def test_document_numbers_count_up_without_gaps_and_refusals_take_none(api) -> None:
    refusals = [
        {"legal_basis": []},
        {"counterpart": with_counterpart(uscc=WRONG_CHECK_USCC)},
        {"written_requested": True, "form": "phone"},
        {"content_type": "violation_correction", "related_case_id": str(uuid.uuid4())},
    ]
    numbers = []
    for index in range(5):
        numbers.append(api.issue()["details"]["doc_no"])
        if index < len(refusals):
            response = api.post("/v1/guidance", api.guidance_body(**refusals[index]), ("officer",))
            assert response.status_code == 422

    assert numbers == [doc_no("minor_issue_warning", serial) for serial in range(1, 6)]
    assert len(set(numbers)) == 5


def test_each_department_kind_and_year_has_its_own_sequence(api) -> None:
    api.issue()
    api.issue()
    assert api.issue("development_advice")["details"]["doc_no"] == doc_no("development_advice", 1)
    next_year = api.issue(issued_at="2026-01-05T09:00:00+08:00", correction_deadline="2026-01-12")
    assert next_year["details"]["doc_no"] == doc_no("minor_issue_warning", 1, 2026)
    # 31 December 23:00 in UTC is already 1 January in China: the Chinese year numbers it.
    new_year_eve = api.issue(issued_at="2025-12-31T23:00:00+00:00", correction_deadline="2026-01-12")
    assert new_year_eve["details"]["doc_no"] == doc_no("minor_issue_warning", 2, 2026)
    emergency = api.issue(department=EMERGENCY)["details"]["doc_no"]
    assert re.fullmatch(r"某应急警示〔2025〕001号", emergency), emergency
    assert api.issue()["details"]["doc_no"] == doc_no("minor_issue_warning", 3)


def test_a_withdrawn_act_keeps_its_number_and_the_number_is_never_reused(api) -> None:
    first = api.issue()
    guidance_id = first["guidance_id"]
    withdrawn = api.command(f"/v1/guidance/{guidance_id}/withdrawal", {"reason": "事实认定有误"}, ("supervisor",))

    assert withdrawn["status"] == "withdrawn"
    assert withdrawn["details"]["doc_no"] == doc_no("minor_issue_warning", 1)
    assert api.get(f"/v1/guidance/{guidance_id}").get_json()["details"]["doc_no"] == doc_no("minor_issue_warning", 1)
    assert api.issue()["details"]["doc_no"] == doc_no("minor_issue_warning", 2)


# -- reading ----------------------------------------------------------------------------------------
def test_a_guidance_act_is_read_with_its_version_as_etag(api) -> None:
    guidance_id = api.issue()["guidance_id"]
    api.command(f"/v1/guidance/{guidance_id}/response", {"response": "accepted"}, ("officer",))

    response = api.get(f"/v1/guidance/{guidance_id}", ("auditor",))

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    body = response.get_json()
    assert body["version"] == 2 and body["status"] == "responded"
    assert body["response"]["response"] == "accepted"


@pytest.mark.parametrize(
    "path",
    [f"/v1/guidance/{uuid.uuid4()}", "/v1/guidance/not-a-uuid"],
    ids=["unknown id", "not a uuid"],
)
def test_an_unknown_guidance_act_is_404(api, path: str) -> None:
    api.problem(api.get(path), 404, "not-found")


def test_a_case_id_is_not_a_guidance_act(api) -> None:
    case_id = api.open_case()["case_id"]
    api.problem(api.get(f"/v1/guidance/{case_id}"), 404, "not-found")


# -- commands on an act -----------------------------------------------------------------------------
COMMAND_BODIES = {
    "response": {"response": "accepted"},
    "correction-verification": {"corrected": True, "verified_on": "2025-03-12", "verified_by": {"name": "刘晓燕"}},
    "suspension": {"reason": "异议复核"},
    "withdrawal": {"reason": "撤回"},
}


def test_a_response_is_recorded_once(api) -> None:
    guidance_id = api.issue()["guidance_id"]
    path = f"/v1/guidance/{guidance_id}/response"

    responded = api.command(path, {"response": "declined", "statement": "不同意指导意见"}, ("officer",))

    assert responded["status"] == "responded" and responded["version"] == 2
    assert responded["response"]["response"] == "declined"
    api.problem(api.post(path, {"response": "accepted"}, ("officer",)), 409, "response-not-allowed", "status")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"response": "maybe"}, "response"),
        ({}, "response"),
        ({"response": "accepted", "responded_at": "yesterday"}, "responded_at"),
        ({"response": "accepted", "statement": "x" * 2001}, "statement"),
    ],
)
def test_an_invalid_response_is_refused(api, body: dict, field: str) -> None:
    guidance_id = api.issue()["guidance_id"]
    api.problem(api.post(f"/v1/guidance/{guidance_id}/response", body, ("officer",)), 422, "validation-failed", field)


@pytest.mark.parametrize("command", COMMAND_BODIES.items(), ids=list(COMMAND_BODIES))
class TestVersionPreconditions:
    def test_a_stale_if_match_is_a_failed_precondition_naming_the_current_version(self, api, command) -> None:
        name, body = command
        guidance_id = api.issue()["guidance_id"]
        response = api.post(f"/v1/guidance/{guidance_id}/{name}", body, **{"If-Match": '"7"'})
        problem = api.problem(response, 412, "precondition-failed")
        assert problem["current_version"] == 1 and problem["expected_version"] == 7

    @pytest.mark.parametrize("if_match", ['"1"', "1", 'W/"1"'])
    def test_the_current_version_passes(self, api, command, if_match: str) -> None:
        name, body = command
        guidance_id = api.issue()["guidance_id"]
        response = api.post(f"/v1/guidance/{guidance_id}/{name}", body, **{"If-Match": if_match})
        assert response.status_code == 200, response.get_json()
        assert response.headers["ETag"] == '"2"'

    @pytest.mark.parametrize("if_match", ['"one"', "*", '""'])
    def test_a_malformed_if_match_is_a_bad_request(self, api, command, if_match: str) -> None:
        name, body = command
        guidance_id = api.issue()["guidance_id"]
        response = api.post(f"/v1/guidance/{guidance_id}/{name}", body, **{"If-Match": if_match})
        api.problem(response, 400, "bad-if-match")


def test_a_correction_is_verified_until_corrected(api) -> None:
    guidance_id = api.issue()["guidance_id"]
    path = f"/v1/guidance/{guidance_id}/correction-verification"

    not_yet = api.command(path, api.verification_body(corrected=False), ("officer",))
    assert not_yet["status"] == "issued" and len(not_yet["corrections"]) == 1
    done = api.command(path, api.verification_body(corrected=True), ("officer",))
    assert done["status"] == "correction_verified" and [c["corrected"] for c in done["corrections"]] == [False, True]

    api.problem(api.post(path, api.verification_body(), ("officer",)), 409, "correction-not-open")


@pytest.mark.parametrize("content_type", ["development_advice", "supervisory_admonition", "enforcement_reminder"])
def test_an_act_without_a_correction_deadline_has_nothing_to_verify(api, content_type: str) -> None:
    guidance_id = api.issue(content_type)["guidance_id"]
    response = api.post(f"/v1/guidance/{guidance_id}/correction-verification", api.verification_body())
    api.problem(response, 422, "no-correction-deadline")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"corrected": True, "verified_on": "2025-03-12"}, "verified_by"),
        ({"corrected": "perhaps", "verified_on": "2025-03-12", "verified_by": {"name": "刘"}}, "corrected"),
        ({"corrected": True, "verified_on": "12/03/2025", "verified_by": {"name": "刘"}}, "verified_on"),
        ({"corrected": True, "verified_on": "2025-03-12", "verified_by": {"name": ""}}, "verified_by.name"),
    ],
)
def test_an_invalid_verification_is_refused(api, body: dict, field: str) -> None:
    guidance_id = api.issue()["guidance_id"]
    response = api.post(f"/v1/guidance/{guidance_id}/correction-verification", body)
    api.problem(response, 422, "validation-failed", field)


def test_a_suspended_act_can_be_withdrawn_but_not_suspended_again_or_answered(api) -> None:
    guidance_id = api.issue()["guidance_id"]
    suspended = api.command(f"/v1/guidance/{guidance_id}/suspension", {"reason": "相对人提出异议"}, ("supervisor",))
    assert suspended["status"] == "suspended" and suspended["ended"]["reason"] == "相对人提出异议"

    again = api.post(f"/v1/guidance/{guidance_id}/suspension", {"reason": "再次中止"}, ("supervisor",))
    api.problem(again, 409, "suspend-not-allowed")
    answer = api.post(f"/v1/guidance/{guidance_id}/response", {"response": "accepted"}, ("officer",))
    api.problem(answer, 409, "response-not-allowed")

    withdrawn = api.command(f"/v1/guidance/{guidance_id}/withdrawal", {"reason": "撤回"}, ("supervisor",))
    assert withdrawn["status"] == "withdrawn"
    api.problem(
        api.post(f"/v1/guidance/{guidance_id}/withdrawal", {"reason": "再次撤回"}, ("supervisor",)),
        409,
        "withdraw-not-allowed",
    )
    api.problem(
        api.post(f"/v1/guidance/{guidance_id}/suspension", {"reason": "中止"}, ("supervisor",)),
        409,
        "suspend-not-allowed",
    )


@pytest.mark.parametrize("name", ["suspension", "withdrawal"])
@pytest.mark.parametrize(
    ("body", "field"), [({}, "reason"), ({"reason": ""}, "reason"), ({"reason": "x", "at": "now"}, "at")]
)
def test_ending_an_act_needs_a_reason(api, name: str, body: dict, field: str) -> None:
    guidance_id = api.issue()["guidance_id"]
    api.problem(api.post(f"/v1/guidance/{guidance_id}/{name}", body), 422, "validation-failed", field)


@pytest.mark.parametrize("name", COMMAND_BODIES)
def test_a_command_on_an_unknown_act_is_404(api, name: str) -> None:
    api.problem(api.post(f"/v1/guidance/{uuid.uuid4()}/{name}", COMMAND_BODIES[name]), 404, "not-found")


# -- idempotency ------------------------------------------------------------------------------------
def test_a_retried_issue_with_the_same_key_replays_and_takes_one_number(api) -> None:
    body = api.guidance_body()
    first = api.post("/v1/guidance", body, ("officer",), **{"Idempotency-Key": "issue-1"})
    again = api.post("/v1/guidance", body, ("officer",), **{"Idempotency-Key": "issue-1"})

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"] and again.headers["ETag"] == '"1"'
    assert api.issue()["details"]["doc_no"] == doc_no("minor_issue_warning", 2)


def test_the_same_key_on_a_different_request_is_refused(api) -> None:
    api.post("/v1/guidance", api.guidance_body(), ("officer",), **{"Idempotency-Key": "issue-2"})
    changed = api.post(
        "/v1/guidance", api.guidance_body(matter="另一事项"), ("officer",), **{"Idempotency-Key": "issue-2"}
    )
    api.problem(changed, 422, "idempotency-key-reused")


def test_an_invalid_idempotency_key_is_a_bad_request(api) -> None:
    response = api.post("/v1/guidance", api.guidance_body(), ("officer",), **{"Idempotency-Key": "has space"})
    api.problem(response, 400, "invalid-idempotency-key")


def test_a_refused_request_is_not_stored_under_its_key(api) -> None:
    refused = api.post("/v1/guidance", api.guidance_body(legal_basis=[]), ("officer",), **{"Idempotency-Key": "k-3"})
    assert refused.status_code == 422
    fixed = api.post("/v1/guidance", api.guidance_body(), ("officer",), **{"Idempotency-Key": "k-4"})
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


# -- dates the calendar arithmetic cannot take (found by reasoning about the fuzz: they were 500s) -----------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"issued_at": "0001-01-01T00:00:00+00:00", "correction_deadline": None}, "issued_at"),
        ({"issued_at": "0999-12-31T00:00:00+08:00", "correction_deadline": None}, "issued_at"),
        ({"issued_at": "9999-12-31T23:59:59-12:00", "correction_deadline": None}, "issued_at"),
        ({"correction_deadline": "9999-12-31"}, "correction_deadline"),
        ({"initiated": "on_application", "applied_at": "1899-12-31T08:00:00+08:00"}, "applied_at"),
    ],
    ids=["year 1", "year 999", "year 9999 west of UTC", "deadline in 9999", "applied in 1899"],
)
def test_a_date_outside_1900_to_2999_is_a_422_naming_the_field(api, changes: dict, field: str) -> None:
    problem = api.problem(api.post("/v1/guidance", api.guidance_body(**changes)), 422, "validation-failed", field)
    assert any("1900-01-01" in e["message_zh"] for e in problem["errors"])


@pytest.mark.parametrize(
    ("command", "body", "field"),
    [
        ("response", {"response": "accepted", "responded_at": "9999-12-31T23:59:59-12:00"}, "responded_at"),
        ("suspension", {"reason": "中止", "at": "0001-01-01T00:00:00+00:00"}, "at"),
        (
            "correction-verification",
            {"corrected": True, "verified_on": "0001-01-01", "verified_by": {"name": "刘晓燕"}},
            "verified_on",
        ),
    ],
)
def test_a_command_with_an_impossible_time_is_a_422(api, command: str, body: dict, field: str) -> None:
    guidance_id = api.issue()["guidance_id"]
    api.problem(api.post(f"/v1/guidance/{guidance_id}/{command}", body), 422, "validation-failed", field)


def test_acts_and_cases_carry_the_departments_name_and_credit_code_from_the_registry(api) -> None:
    guidance = api.issue()["details"]
    case = api.open_case()["details"]
    for details in (guidance, case):
        assert details["department_name"] == "某县市场监督管理局"
        assert details["department_uscc"] == "11411000MB0000010D"
    # A caller cannot name the department differently: the fields are not part of the command, so sending one
    # is refused, naming it.
    response = api.post("/v1/guidance", api.guidance_body(department_name="某县人民政府"), ("officer",))
    api.problem(response, 422, "validation-failed", "department_name")
