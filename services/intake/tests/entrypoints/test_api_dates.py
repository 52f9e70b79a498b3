"""Over HTTP: dates in the future and out of order are refused naming the field, before any number is taken;
a back-dated entry (补录) is taken and marked; an implausible ID number passes with a reason; unknown fields
are refused at any depth."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from guidance_intake.adapters.serials import doc_serials
from guidance_shared.dates import now_utc
from guidance_shared.events.examples import PERSON
from guidance_shared.runtime import Runtime


def case_path(case_id: str, command: str) -> str:
    return f"/v1/cases/{case_id}/{command}"


def ahead(days: int = 400) -> str:
    """A moment well past any tolerance: more than a year, as a typo of the year gives."""
    return (now_utc() + timedelta(days=days)).isoformat()


def serial_years(runtime: Runtime) -> set[int]:
    with runtime.engine.connect() as conn:
        return {row.year for row in conn.execute(select(doc_serials.c.year))}


# -- nothing in the future, and no number burnt on it ---------------------------------------------------------
def test_a_future_act_is_refused_before_it_takes_a_document_number(api: Any, runtime: Runtime) -> None:
    future = ahead()
    body = api.problem(
        api.post("/v1/guidance", api.guidance_body("development_advice", issued_at=future)),
        422,
        "date-in-future",
        "issued_at",
    )

    assert "future" in body["detail"] and "北京时间" in body["detail_zh"]
    assert int(future[:4]) not in serial_years(runtime)  # no 文号 of that year was taken


def test_a_future_case_is_refused_before_it_takes_a_case_number(api: Any, runtime: Runtime) -> None:
    future = ahead()
    api.problem(api.post("/v1/cases", api.case_body(opened_at=future)), 422, "date-in-future", "opened_at")
    assert int(future[:4]) not in serial_years(runtime)


def test_a_future_decision_is_refused_before_it_takes_a_decision_number(api: Any, runtime: Runtime) -> None:
    case_id = api.open_case()["case_id"]
    future = ahead()
    decision = api.decision_body(decided_at=future)
    api.problem(api.post(case_path(case_id, "decision"), decision), 422, "date-in-future", "decided_at")
    assert int(future[:4]) not in serial_years(runtime)


@pytest.mark.parametrize(
    ("command", "body", "field"),
    [
        ("response", {"response": "accepted", "responded_at": ahead(3)}, "responded_at"),
        ("suspension", {"reason": "中止", "at": ahead(3)}, "at"),
        ("withdrawal", {"reason": "撤回", "at": ahead(3)}, "at"),
    ],
)
def test_a_future_step_of_an_act_is_refused(api: Any, command: str, body: dict[str, Any], field: str) -> None:
    guidance_id = api.issue()["guidance_id"]
    api.problem(api.post(f"/v1/guidance/{guidance_id}/{command}", body), 422, "date-in-future", field)


def test_a_future_correction_check_is_refused(api: Any) -> None:
    guidance_id = api.issue()["guidance_id"]
    body = {**api.verification_body(), "verified_on": ahead(3)[:10]}
    response = api.post(f"/v1/guidance/{guidance_id}/correction-verification", body)
    api.problem(response, 422, "date-in-future", "verified_on")


def test_a_future_closure_is_refused(api: Any) -> None:
    case_id = api.record("decided_case")["case_id"]
    closing = {"outcome": "executed", "closed_at": ahead(3)}
    api.problem(api.post(case_path(case_id, "closure"), closing), 422, "date-in-future", "closed_at")


def test_a_future_revocation_is_refused(api: Any) -> None:
    case_id = api.record("decided_case")["case_id"]
    revoking = {"reason": "经复议撤销原决定。", "at": ahead(3)}
    api.problem(api.post(case_path(case_id, "revocation"), revoking), 422, "date-in-future", "at")
    assert api.get(f"/v1/cases/{case_id}").get_json()["revocations"] == []


# -- each step after the one it follows -------------------------------------------------------------------------
def test_a_decision_before_the_case_was_opened_is_refused(api: Any) -> None:
    case_id = api.open_case()["case_id"]  # opened 2025-03-03 09:00
    decision = api.decision_body(decided_at="2025-03-02T16:00:00+08:00")
    body = api.problem(api.post(case_path(case_id, "decision"), decision), 422, "date-out-of-order", "decided_at")
    assert "2025-03-03T09:00:00+08:00" in body["detail"] and "立案时间" in body["detail_zh"]


def test_a_closure_before_the_decision_is_refused(api: Any) -> None:
    case_id = api.record("decided_case")["case_id"]  # decided 2025-03-20 15:00
    closing = {"outcome": "executed", "closed_at": "2025-03-19T10:00:00+08:00"}
    api.problem(api.post(case_path(case_id, "closure"), closing), 422, "date-out-of-order", "closed_at")


def test_an_act_dated_before_its_related_case_was_opened_is_refused(api: Any, runtime: Runtime) -> None:
    case_id = api.open_case()["case_id"]  # opened 2025-03-03 09:00
    body = api.guidance_body("violation_correction", related_case_id=case_id, issued_at="2025-03-01T10:00:00+08:00")
    api.problem(api.post("/v1/guidance", body), 422, "date-out-of-order", "issued_at")
    assert 2025 in serial_years(runtime)  # the case's number only
    assert api.issue("violation_correction", related_case_id=case_id)["details"]["doc_no"].endswith("第001号")


def test_a_decision_citing_guidance_issued_after_it_is_refused(api: Any, runtime: Runtime) -> None:
    later = api.issue("development_advice", issued_at="2025-03-21T09:00:00+08:00")["guidance_id"]
    case_id = api.open_case()["case_id"]
    decision = api.decision_body(cited_guidance_ids=[later])  # decided 2025-03-20 15:00
    response = api.post(case_path(case_id, "decision"), decision)
    api.problem(response, 422, "date-out-of-order", "cited_guidance_ids.0")
    with runtime.engine.connect() as conn:  # no 决定书文号 was taken
        kinds = {row.kind for row in conn.execute(select(doc_serials.c.kind))}
    assert "case_decision" not in kinds


def test_a_response_before_the_act_is_refused(api: Any) -> None:
    guidance_id = api.issue()["guidance_id"]  # issued 2025-03-05 10:30
    body = {"response": "accepted", "responded_at": "2025-03-05T10:29:00+08:00"}
    api.problem(api.post(f"/v1/guidance/{guidance_id}/response", body), 422, "date-out-of-order", "responded_at")


def test_a_case_opened_before_the_violation_occurred_is_refused(api: Any) -> None:
    body = api.case_body(opened_at="2025-02-27T09:00:00+08:00")  # the example violation occurred on 2025-03-01
    api.problem(api.post("/v1/cases", body), 422, "date-out-of-order", "opened_at")


# -- 补录 -----------------------------------------------------------------------------------------------------
def test_a_back_dated_act_is_taken_and_marked_with_when_it_was_recorded(api: Any) -> None:
    created = api.issue()  # dated 2025-03-05, recorded now

    details = created["details"]
    assert details["backdated"] is True and details["recorded_at"] > details["issued_at"]
    assert details["doc_no"].startswith("某市监警示〔2025〕")  # the year of the act, not of its entry
    shown = api.get(f"/v1/guidance/{created['guidance_id']}").get_json()
    assert shown["details"]["backdated"] is True


def test_a_case_its_decision_and_closure_entered_late_are_each_marked(api: Any) -> None:
    closed = api.closed_major_case()
    assert closed["details"]["backdated"] is True
    assert closed["decision"]["backdated"] is True
    assert closed["closing"]["backdated"] is True


def test_an_act_recorded_as_it_happens_is_not_marked(api: Any) -> None:
    details = api.issue("development_advice", issued_at=None)["details"]
    assert "backdated" not in details and "recorded_at" not in details


def test_a_caller_cannot_mark_an_entry_itself(api: Any) -> None:
    body = api.guidance_body(backdated=False, recorded_at="2025-03-05T10:30:00+08:00")
    problem = api.problem(api.post("/v1/guidance", body), 422, "validation-failed")
    assert {e["field"] for e in problem["errors"]} == {"backdated", "recorded_at"}


def test_a_revocation_before_the_decision_is_refused(api: Any) -> None:
    case_id = api.record("decided_case")["case_id"]  # decided 2025-03-20 15:00
    revoking = {"reason": "经复议撤销原决定。", "at": "2025-03-19T10:00:00+08:00"}
    body = api.problem(api.post(case_path(case_id, "revocation"), revoking), 422, "date-out-of-order", "at")
    assert "2025-03-20T15:00:00+08:00" in body["detail"] and "决定时间" in body["detail_zh"]
    assert api.get(f"/v1/cases/{case_id}").get_json()["revocations"] == []


# -- identifiers --------------------------------------------------------------------------------------------------
BORN_1880 = "440524188001010014"  # GB 11643's own example: valid, but born before 1900


def test_an_id_number_born_before_1900_is_refused_without_a_reason(api: Any) -> None:
    person = {**PERSON, "id_no": BORN_1880}
    body = api.problem(
        api.post("/v1/guidance", api.guidance_body(counterpart=person)),
        422,
        "resident-id-implausible",
        "counterpart.id_no",
    )
    assert body["override_field"] == "identifier_override_reason"
    assert BORN_1880 not in str(body)


def test_an_id_number_born_before_1900_is_taken_with_a_reason(api: Any) -> None:
    person = {**PERSON, "id_no": BORN_1880}
    reason = "户籍档案核实，出生日期无误"
    act = api.issue(counterpart=person, identifier_override_reason=reason)
    assert act["details"]["identifier_override_reason"] == reason
    case = api.open_case(counterpart=person, identifier_override_reason=reason)
    assert case["status"] == "open"
    assert case["details"]["identifier_override_reason"] == reason
    kept = api.get(f"/v1/cases/{case['case_id']}").get_json()
    assert kept["details"]["identifier_override_reason"] == reason


# -- unknown fields ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"issue_at": "2025-03-05T10:30:00+08:00"}, "issue_at"),
        ({"doc_no": "某市监警示〔2025〕第009号"}, "doc_no"),
        ({"counterpart": {**PERSON, "nmae": "张三"}}, "counterpart.nmae"),
        (
            {"legal_basis": [{"instrument": "《行政处罚法》", "article": "第三十三条", "clause": "一"}]},
            "legal_basis.0.clause",
        ),
    ],
    ids=["top level", "a field intake assigns", "nested", "in a list"],
)
def test_an_unknown_field_of_an_act_is_refused_naming_its_path(api: Any, change: dict[str, Any], field: str) -> None:
    body = api.problem(api.post("/v1/guidance", api.guidance_body(**change)), 422, "validation-failed", field)
    (error,) = [e for e in body["errors"] if e["field"] == field]
    assert error["message_en"] == "Unknown field." and error["message_zh"]


def test_an_unknown_field_of_a_case_is_refused_naming_its_path(api: Any) -> None:
    case = api.case_body()
    case["violation"] = {**case["violation"], "where": "门店"}
    api.problem(api.post("/v1/cases", case), 422, "validation-failed", "violation.where")


def test_unknown_fields_of_a_decision_and_a_closure_are_refused(api: Any) -> None:
    case_id = api.open_case()["case_id"]
    decision = api.decision_body()
    decision["penalty"] = {**decision["penalty"], "currency": "CNY"}
    body = api.problem(api.post(case_path(case_id, "decision"), decision), 422, "validation-failed")
    assert "penalty.currency" in {e["field"] for e in body["errors"]}
    closing = {"outcome": "terminated", "remark": "x"}
    api.problem(api.post(case_path(case_id, "closure"), closing), 422, "validation-failed", "remark")
