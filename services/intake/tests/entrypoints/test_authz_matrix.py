"""Who may do what: every endpoint of intake's API × the five roles × a record of the caller's department or not.

The caller always belongs to 某县市场监督管理局 (MARKET); "other" records belong to 某县应急管理局 (EMERGENCY).
A cell reads "<own>/<other>":

    A  allowed: the row's success status
    R  403 forbidden-role, with a WWW-Authenticate insufficient_scope challenge
    D  403 forbidden-department: a create in another department (there is no record to hide)
    N  404 not-found: another department's record, read or written, answers exactly as a missing one
    F  200, but only the caller's departments' records are listed

Admins act for every department; no other role implies another (separation of duties).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from guidance_intake.entrypoints.http.cases import cases_blp
from guidance_intake.entrypoints.http.counterparts import counterparts_blp
from guidance_intake.entrypoints.http.guidance import guidance_blp
from guidance_shared.auth import SigningKey
from guidance_shared.events.examples import ENTERPRISE

MARKET = "3898b87c-d9e4-5a37-8351-e465fdfcaae6"  # 某县市场监督管理局: the caller's department
EMERGENCY = "077493a6-c269-5ad9-9cc1-26c4417acc51"  # 某县应急管理局: another department
ROLES = ("officer", "reviewer", "supervisor", "auditor", "admin")

Body = Callable[[Any, str], Any]  # (api fixture, department of the record) -> request body


@dataclass(frozen=True)
class Row:
    cells: str  # one "<own>/<other>" cell per role, in the order of ROLES
    method: str
    rule: str  # as in the app's url_map
    target: str | None  # the record the call is about: guidance, open_case, decided_case, counterpart
    success: int
    body: Body | None = None

    def expected(self, role: str, whose: str) -> str:
        own, other = self.cells.split()[ROLES.index(role)].split("/")
        return own if whose == "own" else other

    @property
    def label(self) -> str:
        return f"{self.method} {self.rule}"


def new_guidance(api: Any, department: str) -> dict[str, Any]:
    return api.guidance_body(department_id=department)


def new_case(api: Any, department: str) -> dict[str, Any]:
    if department == MARKET:
        return api.case_body(department_id=department)
    violation = {
        "code": "AQ-001",
        "category": "安全生产",
        "description": "未开展安全培训。",
        "occurred_on": "2025-03-01",
    }
    return api.case_body(department_id=department, violation=violation)


def response(_api: Any, _department: str) -> dict[str, Any]:
    return {"response": "accepted"}


def verification(api: Any, _department: str) -> dict[str, Any]:
    return api.verification_body()


def reason(_api: Any, _department: str) -> dict[str, Any]:
    return {"reason": "依法复核后决定"}


def review(api: Any, _department: str) -> dict[str, Any]:
    return api.review_body()


def decision(api: Any, _department: str) -> dict[str, Any]:
    return api.decision_body()


def closure(_api: Any, _department: str) -> dict[str, Any]:
    return {"outcome": "executed"}


def history_query(_api: Any, _department: str) -> dict[str, Any]:
    return {"uscc": ENTERPRISE["uscc"]}


G = "/v1/guidance/<uuid:guidance_id>"
C = "/v1/cases/<uuid:case_id>"

MATRIX = [
    #    officer reviewer supervisor auditor admin
    Row("A/D  R/R  R/R  R/R  A/A", "POST", "/v1/guidance", None, 201, new_guidance),
    Row("A/N  A/N  A/N  A/N  A/A", "GET", G, "guidance", 200),
    Row("A/N  R/R  R/R  R/R  A/A", "POST", f"{G}/response", "guidance", 200, response),
    Row("A/N  R/R  R/R  R/R  A/A", "POST", f"{G}/correction-verification", "guidance", 200, verification),
    Row("R/R  R/R  A/N  R/R  A/A", "POST", f"{G}/suspension", "guidance", 200, reason),
    Row("R/R  R/R  A/N  R/R  A/A", "POST", f"{G}/withdrawal", "guidance", 200, reason),
    Row("A/D  R/R  R/R  R/R  A/A", "POST", "/v1/cases", None, 201, new_case),
    Row("A/N  A/N  A/N  A/N  A/A", "GET", C, "open_case", 200),
    Row("R/R  A/N  R/R  R/R  A/A", "POST", f"{C}/legal-review", "open_case", 200, review),
    Row("R/R  R/R  A/N  R/R  A/A", "POST", f"{C}/decision", "open_case", 200, decision),
    Row("R/R  R/R  A/N  R/R  A/A", "POST", f"{C}/revocation", "decided_case", 200, reason),
    Row("A/N  R/R  A/N  R/R  A/A", "POST", f"{C}/closure", "decided_case", 200, closure),
    Row("A/F  A/F  A/F  A/F  A/A", "POST", "/v1/counterparts/history", "counterpart", 200, history_query),
]

CELLS = [
    pytest.param(row, role, whose, id=f"{row.label} {role} {whose}")
    for row in MATRIX
    for role in ROLES
    for whose in ("own", "other")
]


def fill(rule: str, ids: dict[str, str]) -> str:
    for name in ("guidance_id", "case_id", "archive_id"):
        rule = rule.replace(f"<uuid:{name}>", ids.get(name, str(uuid.uuid4())))
    rule = rule.replace("<string(length=64):subject_id>", ids.get("subject_id", "0" * 64))  # an erasure's pseudonym
    return rule.replace("<kid>", "A" * 22)


def call(api: Any, row: Row, path: str, body: Any, headers: dict[str, str]) -> Any:
    return api.client.open(path, method=row.method, json=body, headers=headers)


@pytest.mark.parametrize(("row", "role", "whose"), CELLS)
def test_the_role_and_the_records_department_decide_the_answer(module_api, row: Row, role: str, whose: str) -> None:
    department = MARKET if whose == "own" else EMERGENCY
    ids = module_api.record("guidance" if row.target == "counterpart" else row.target, department)
    body = row.body(module_api, department) if row.body else None

    response = call(module_api, row, fill(row.rule, ids), body, module_api.headers(role, department=MARKET))

    expected = row.expected(role, whose)
    if expected == "A":
        assert response.status_code == row.success, response.get_json()
        if row.target == "counterpart":
            assert ids["guidance_id"] in {entry["id"] for entry in response.get_json()["entries"]}
    elif expected == "R":
        problem = module_api.problem(response, 403, "forbidden-role")
        assert role not in problem["required_roles"]
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    elif expected == "D":
        module_api.problem(response, 403, "forbidden-department")
    elif expected == "N":
        module_api.problem(response, 404, "not-found")
    else:
        assert expected == "F"
        assert response.status_code == 200, response.get_json()
        entries = response.get_json()["entries"]
        assert ids["guidance_id"] not in {entry["id"] for entry in entries}
        assert {entry["department_id"] for entry in entries} <= {MARKET}


def test_the_matrix_has_a_row_for_every_endpoint_of_the_api(module_api) -> None:
    blueprints = {guidance_blp.name, cases_blp.name, counterparts_blp.name}
    served = {
        (method, rule.rule)
        for rule in module_api.client.application.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in blueprints
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    tabled = {(row.method, row.rule) for row in MATRIX}
    assert not served - tabled, f"endpoints without a row in MATRIX: {sorted(served - tabled)}"
    assert not tabled - served, f"rows for endpoints the app does not serve: {sorted(tabled - served)}"
    assert all(len(row.cells.split()) == len(ROLES) for row in MATRIX)


# -- authentication ----------------------------------------------------------------------------------
PUBLIC = {
    "/healthz": "/healthz",
    "/readyz": "/readyz",
    "/metrics": "/metrics",
    "/openapi.json": "/openapi.json",
    "/asyncapi.json": "/asyncapi.json",
    "/schemas/events/<ce_type>.json": "/schemas/events/guidance.GuidanceIssued.v1.json",
    "/schemas/events/<ce_type>": "/schemas/events/guidance.GuidanceIssued.v1",  # the ce_dataschema address
}


#: the API for people (/v1) and the internal key API for services (/internal/v1, test_subject_keys_api.py)
PROTECTED = ("/v1/", "/internal/v1/")


def protected_calls(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every endpoint under /v1 and /internal/v1, ids filled with fresh UUIDs."""
    return sorted(
        (method, fill(rule.rule, {}))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PROTECTED)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def test_every_endpoint_outside_v1_is_public_and_answers_without_a_token(module_api) -> None:
    app = module_api.client.application
    rules = {rule.rule for rule in app.url_map.iter_rules() if not rule.rule.startswith(PROTECTED)}
    assert rules == set(PUBLIC), "a new unversioned endpoint: is it meant to be public?"
    for path in PUBLIC.values():
        response = module_api.client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])


def test_every_v1_endpoint_needs_a_token(module_api) -> None:
    calls = protected_calls(module_api.client.application)
    assert len(calls) >= len(MATRIX)
    for method, path in calls:
        response = module_api.client.open(path, method=method, json={} if method != "GET" else None)
        problem = module_api.problem(response, 401, "unauthenticated")
        assert problem["reason"] == "missing-token", (method, path)
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="guidance"', (method, path)


@pytest.fixture(scope="module")
def stranger_key() -> SigningKey:
    return SigningKey.generate("ES256")  # not in the published key set


TOKEN_FAULTS: list[tuple[str, Callable[[Any, SigningKey], str], str]] = [
    ("expired", lambda keys, _: f"Bearer {keys.token('u', MARKET, ['admin'], ttl=timedelta(minutes=-5))}", "expired"),
    ("wrong audience", lambda keys, _: f"Bearer {keys.token('u', MARKET, ['admin'], aud='other')}", "wrong-audience"),
    ("wrong issuer", lambda keys, _: f"Bearer {keys.token('u', MARKET, ['admin'], iss='https://x')}", "wrong-issuer"),
    ("unknown key", lambda keys, key: f"Bearer {keys.token('u', MARKET, ['admin'], key=key)}", "unknown-key"),
    ("no department", lambda keys, _: f"Bearer {keys.token('u', None, ['admin'])}", "missing-claim"),
    ("not a JWT", lambda keys, _: "Bearer not.a.jwt", "malformed-token"),
    ("not bearer", lambda keys, _: "Basic dXNlcjpwYXNz", "malformed-header"),
]


@pytest.mark.parametrize(("make", "code"), [pytest.param(*f[1:], id=f[0]) for f in TOKEN_FAULTS])
def test_a_bad_token_is_refused_on_every_v1_endpoint(module_api, stranger_key, make, code: str) -> None:
    authorization = make(module_api.keys, stranger_key)
    for method, path in protected_calls(module_api.client.application):
        response = module_api.client.open(
            path, method=method, json={} if method != "GET" else None, headers={"Authorization": authorization}
        )
        problem = module_api.problem(response, 401, "unauthenticated")
        assert problem["reason"] == code, (method, path)
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="guidance", error="'), (method, path)
        assert authorization.split()[-1] not in response.get_data(as_text=True)


def test_a_token_without_any_known_role_may_do_nothing(module_api) -> None:
    headers = {"Authorization": f"Bearer {module_api.keys.token('u', MARKET, ['clerk'])}"}
    for method, path in protected_calls(module_api.client.application):
        response = module_api.client.open(path, method=method, json={} if method != "GET" else None, headers=headers)
        module_api.problem(response, 403, "forbidden-role")
