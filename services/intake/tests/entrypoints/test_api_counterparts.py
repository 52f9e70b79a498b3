"""POST /v1/counterparts/history: a counterpart's guidance acts and cases, only in the caller's departments."""

from __future__ import annotations

import pytest

from guidance_shared.events.examples import ENTERPRISE, INDIVIDUAL_BUSINESS, PERSON

HISTORY = "/v1/counterparts/history"
MARKET = "3898b87c-d9e4-5a37-8351-e465fdfcaae6"  # 某县市场监督管理局
EMERGENCY = "077493a6-c269-5ad9-9cc1-26c4417acc51"  # 某县应急管理局


def history(api, query: dict, *roles: str, **token) -> list[dict]:
    response = api.client.post(HISTORY, json=query, headers=api.headers(*(roles or ("auditor",)), **token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["entries"]


def test_the_history_by_credit_code_lists_guidance_and_cases_newest_first(api) -> None:
    warning = api.issue()  # issued 2025-03-05
    case = api.open_case()  # violation of 2025-03-01
    later_case = api.open_case(
        violation={"code": "X-1", "category": "广告", "description": "x", "occurred_on": "2025-04-02"},
        opened_at="2025-04-03T09:00:00+08:00",
    )
    api.issue(counterpart=INDIVIDUAL_BUSINESS)  # someone else

    entries = history(api, {"uscc": ENTERPRISE["uscc"]})

    assert [e["id"] for e in entries] == [later_case["case_id"], warning["guidance_id"], case["case_id"]]
    assert entries[1] == {
        "record": "guidance",
        "id": warning["guidance_id"],
        "department_id": MARKET,
        "number": warning["details"]["doc_no"],
        "kind": "minor_issue_warning",
        "date": "2025-03-05",
        "status": "issued",
    }
    assert entries[2]["record"] == "case" and entries[2]["kind"] == "食品安全" and entries[2]["status"] == "open"


def test_the_history_follows_the_records_status(api) -> None:
    guidance_id = api.issue()["guidance_id"]
    api.command(f"/v1/guidance/{guidance_id}/response", {"response": "accepted"}, ("officer",))
    assert [e["status"] for e in history(api, {"uscc": ENTERPRISE["uscc"]})] == ["responded"]


def test_a_credit_code_is_matched_whatever_its_case(api) -> None:
    api.issue()
    assert len(history(api, {"uscc": ENTERPRISE["uscc"].lower()})) == 1


def test_the_history_by_identity_document(api) -> None:
    guidance_id = api.issue("development_advice", counterpart=PERSON)["guidance_id"]
    api.issue()  # the enterprise: not this person

    entries = history(api, {"id_type": "resident_id", "id_no": PERSON["id_no"]})

    assert [e["id"] for e in entries] == [guidance_id]
    # A sealed person is filed under their subject id, which leaves the document type out on purpose
    # (docs/personal-data.md §4): one number is one person however its type was recorded, and typed as people do.
    assert [e["id"] for e in history(api, {"id_type": "passport", "id_no": PERSON["id_no"]})] == [guidance_id]
    spaced = f"{PERSON['id_no'][:6]} {PERSON['id_no'][6:14]} {PERSON['id_no'][14:]}"
    assert [e["id"] for e in history(api, {"id_type": "resident_id", "id_no": spaced})] == [guidance_id]
    assert history(api, {"id_type": "resident_id", "id_no": "11010519491231002X"}) == []


def test_an_unknown_counterpart_has_no_history(api) -> None:
    assert history(api, {"uscc": INDIVIDUAL_BUSINESS["uscc"]}) == []


@pytest.mark.parametrize(
    "query",
    [{}, {"id_type": "resident_id"}, {"id_no": PERSON["id_no"]}, {"uscc": None, "id_type": None, "id_no": None}],
    ids=["nothing", "type without number", "number without type", "all null"],
)
def test_an_identifier_is_required(api, query: dict) -> None:
    response = api.post(HISTORY, query, ("auditor",))
    api.problem(response, 422, "counterpart-identifier-required")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"uscc": ENTERPRISE["uscc"][:17]}, "uscc"),
        ({"uscc": 914100}, "uscc"),
        ({"id_type": "resident_id", "id_no": "1" * 41}, "id_no"),
        ({"name": "某县宏达食品有限公司"}, "name"),
    ],
    ids=["short credit code", "number", "long id number", "unknown field"],
)
def test_an_invalid_query_is_refused(api, query: dict, field: str) -> None:
    api.problem(api.post(HISTORY, query, ("auditor",)), 422, "validation-failed", field)


def test_only_the_callers_departments_records_are_listed(api) -> None:
    own = api.issue()["guidance_id"]
    other = api.issue(department=EMERGENCY)["guidance_id"]
    other_case = api.open_case(department=EMERGENCY)["case_id"]
    query = {"uscc": ENTERPRISE["uscc"]}

    assert {e["id"] for e in history(api, query, "officer")} == {own}
    assert {e["id"] for e in history(api, query, "officer", department=EMERGENCY)} == {other, other_case}
    both = history(api, query, "auditor", departments=[EMERGENCY])
    assert {e["id"] for e in both} == {own, other, other_case}
    assert {e["id"] for e in history(api, query, "admin")} == {own, other, other_case}
