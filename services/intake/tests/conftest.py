"""intake's app in this process, on SQLite and the embedded log, with callers of each role.

Two sets of fixtures share this file: ``runtime``/``client``/``officer``/``issue`` (plain client and the example
act), and ``api``/``module_api`` (an ``IntakeApi``: the test client with a token per role, a valid body for every
command built from the published event examples, and a check that refusals are bilingual RFC 9457 problems), which
the API, authorisation and fuzz tests use.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.support.auth import AuthKeys
from tests.support.events import assert_events_match_contracts
from tests.support.projections import assert_read_models_refold
from tests.support.schema import migrated_runtime
from tests.support.services import guidance_command
from werkzeug.test import TestResponse

from guidance_intake.bootstrap import SPEC, create_app
from guidance_shared.events.examples import DEPARTMENT_ID, ENTERPRISE, OFFICER_LIU, example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

# Departments of the packaged config/departments.yaml.
MARKET = DEPARTMENT_ID  # 某县市场监督管理局: every domain, market-regulation categories
EMERGENCY = "077493a6-c269-5ad9-9cc1-26c4417acc51"  # 某县应急管理局: another county department
WORKING_ROLES = ("officer", "reviewer", "supervisor")  # everything but admin: enough for every endpoint
DEPARTMENT_FIELDS = ("department_name", "department_uscc")  # intake fills them from its registry

# What each content type adds to the example (a minor_issue_warning); together the six use all ten methods.
CONTENT_DETAILS: dict[str, dict[str, Any]] = {
    "development_advice": {
        "methods": ["policy_counselling", "demonstration"],
        "advice": "建议建立食品安全自查制度，设立食品安全管理员岗位。",
        "correction_deadline": None,
    },
    "supervisory_admonition": {
        "methods": ["visit_interview", "persuasion_reminder"],
        "interview": {
            "held_at": "2025-03-04T15:00:00+08:00",
            "place": "某县市场监督管理局三楼会议室",
            "summoned": {"name": "赵建国", "role": "legal_representative"},
            "rectification_items": ["建立进货查验记录制度", "清理过期食品"],
        },
        "correction_deadline": None,
    },
    "enforcement_reminder": {
        "methods": ["information_release", "credit_disclosure"],
        "reminder": {"violation_category": "食品安全", "period": {"from": "2025-09-20", "to": "2025-10-08"}},
        "correction_deadline": None,
    },
    "minor_issue_warning": {"methods": ["warning", "persuasion_reminder"]},
    "violation_correction": {"methods": ["administrative_recommendation", "reward_incentive"]},
    # A revisit comes after the case it revisits was closed (the example case closes on 2025-04-15).
    "major_case_revisit": {
        "methods": ["case_revisit"],
        "correction_deadline": None,
        "issued_at": "2025-05-20T10:00:00+08:00",
    },
}


def sealing(var_dir: Path) -> dict[str, str]:
    """An embedded intake that seals persons' fields with the keys it makes under ``var_dir``: every API,
    document and ledger test then shows, through the sealing and the opening, what the caller sent."""
    return {"GUIDANCE_VAR_DIR": str(var_dir), "GUIDANCE_SEAL_PERSONAL_DATA": "true"}


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    runtime = migrated_runtime(SPEC, Settings.from_env("intake", sealing(tmp_path)), transport=transport)
    runtime.provision()
    yield runtime
    assert_read_models_refold(runtime, allow_empty=True)  # every test's guidance and cases, refolded
    assert_events_match_contracts(runtime)  # and every event they recorded, held to its whole contract
    runtime.engine.dispose()
    transport.close()


@pytest.fixture
def client(runtime: Runtime, auth_keys: AuthKeys) -> FlaskClient:
    return create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()


@pytest.fixture
def officer(auth_keys: AuthKeys) -> dict[str, str]:
    return auth_keys.headers("officer-1", DEPARTMENT_ID, ["officer"])


@pytest.fixture
def issue(client: FlaskClient, officer: dict[str, str]) -> Any:
    """POST /v1/guidance with the example act, changed by keyword; returns the created view."""

    def issue(headers: dict[str, str] | None = None, **changes: Any) -> dict[str, Any]:
        response = client.post("/v1/guidance", json=guidance_command(**changes), headers=headers or officer)
        assert response.status_code == 201, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    return issue


# -- IntakeApi: tokens, bodies and problem checks -----------------------------------------------------
def _strip(body: dict[str, Any], *server_fields: str) -> dict[str, Any]:
    for name in server_fields:
        body.pop(name, None)
    return body


@dataclass
class IntakeApi:
    """The test client with tokens, bodies and problem checks; every helper that creates asserts success."""

    client: FlaskClient
    keys: AuthKeys
    content_details: ClassVar[dict[str, dict[str, Any]]] = CONTENT_DETAILS

    # -- tokens and raw calls ----------------------------------------------------------------------
    def headers(
        self, *roles: str, department: str = MARKET, departments: Iterable[str] = (), **extra: str
    ) -> dict[str, str]:
        overrides: dict[str, Any] = {"departments": list(departments)} if departments else {}
        token = self.keys.token(f"user-{'-'.join(roles) or 'none'}", department, list(roles), **overrides)
        return {"Authorization": f"Bearer {token}", **extra}

    def post(
        self, path: str, body: Any, roles: Iterable[str] = WORKING_ROLES, *, department: str = MARKET, **extra: str
    ) -> TestResponse:
        return self.client.post(path, json=body, headers=self.headers(*roles, department=department, **extra))

    def get(self, path: str, roles: Iterable[str] = WORKING_ROLES, *, department: str = MARKET) -> TestResponse:
        return self.client.get(path, headers=self.headers(*roles, department=department))

    # -- bodies ---------------------------------------------------------------------------------
    @staticmethod
    def guidance_body(content_type: str = "minor_issue_warning", **changes: Any) -> dict[str, Any]:
        body = _strip(example("guidance.GuidanceIssued.v1"), "guidance_id", "doc_no", *DEPARTMENT_FIELDS)
        body.update(content_type=content_type, **copy.deepcopy(CONTENT_DETAILS[content_type]))
        body.update(changes)
        return body

    @staticmethod
    def case_body(**changes: Any) -> dict[str, Any]:
        """A non-major 食品安全 case of 市场监管 about the example enterprise, without a case number."""
        body = _strip(example("guidance.CaseOpened.v1"), "case_id", "case_no", *DEPARTMENT_FIELDS)
        body.update(major=False, counterpart=copy.deepcopy(ENTERPRISE))
        body.update(changes)
        return body

    @staticmethod
    def decision_body(**changes: Any) -> dict[str, Any]:
        """The example penalty decision, without what intake adds itself."""
        body = _strip(
            example("guidance.CaseDecided.v1"),
            *("case_id", "department_id", "decision_no", "major", "legal_review", "exemption_list_entry"),
        )
        body.update(changes)
        return body

    @staticmethod
    def no_penalty_body(decision: str = "no_penalty_first", **changes: Any) -> dict[str, Any]:
        basis = [example("guidance.GuidanceIssued.v1")["legal_basis"][0]]
        return IntakeApi.decision_body(decision=decision, penalty=None, legal_basis=basis, **changes)

    @staticmethod
    def review_body(conclusion: str = "approved") -> dict[str, Any]:
        review = example("guidance.CaseLegalReviewed.v1")["legal_review"]
        return {"legal_review": {**review, "conclusion": conclusion}}

    @staticmethod
    def verification_body(corrected: bool = True) -> dict[str, Any]:
        return {"corrected": corrected, "verified_on": "2025-03-12", "evidence": "现场核查", "verified_by": OFFICER_LIU}

    # -- creating records (asserting success) ----------------------------------------------------
    def issue(self, content_type: str = "minor_issue_warning", *, department: str = MARKET, **changes: Any) -> Any:
        body = self.guidance_body(content_type, department_id=department, **changes)
        response = self.post("/v1/guidance", body, ("officer",), department=department)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def open_case(self, *, department: str = MARKET, **changes: Any) -> Any:
        if department != MARKET and "violation" not in changes:
            changes["violation"] = {
                "code": "AQ-001",
                "category": "安全生产",
                "description": "未按规定开展安全生产教育培训。",
                "occurred_on": "2025-03-01",
            }
        body = self.case_body(department_id=department, **changes)
        response = self.post("/v1/cases", body, ("officer",), department=department)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def command(self, path: str, body: Any, roles: Iterable[str] = WORKING_ROLES, **kwargs: Any) -> Any:
        response = self.post(path, body, roles, **kwargs)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def record(self, kind: str | None, department: str = MARKET) -> dict[str, str]:
        """Path ids of a fresh record: a guidance act, an open case, or a decided case (none for ``None``)."""
        if kind == "guidance":
            return {"guidance_id": self.issue(department=department)["guidance_id"]}
        if kind in ("open_case", "decided_case"):
            case_id = self.open_case(department=department)["case_id"]
            if kind == "decided_case":
                self.command(f"/v1/cases/{case_id}/decision", self.decision_body(), department=department)
            return {"case_id": case_id}
        assert kind is None, kind
        return {}

    def closed_major_case(self, *, department: str = MARKET) -> Any:
        case_id = self.open_case(department=department, major=True)["case_id"]
        self.command(f"/v1/cases/{case_id}/legal-review", self.review_body(), department=department)
        self.command(f"/v1/cases/{case_id}/decision", self.decision_body(), department=department)
        closing = {"outcome": "executed", "closed_at": example("guidance.CaseClosed.v1")["closed_at"]}
        return self.command(f"/v1/cases/{case_id}/closure", closing, department=department)

    # -- refusals -----------------------------------------------------------------------------------
    @staticmethod
    def problem(response: TestResponse, status: int, code: str | None = None, field: str | None = None) -> Any:
        """Assert an RFC 9457 problem in both languages (per field, or in the detail); returns its body."""
        body = response.get_json()
        assert response.status_code == status, body
        assert response.mimetype == "application/problem+json"
        assert body["status"] == status
        assert body["type"].startswith("https://guidance-suite.example/problems/")
        if code is not None:
            assert body["type"].rsplit("/", 1)[1] == code, body
        assert body["title"] and body["title_zh"]
        for error in body.get("errors", []):
            assert error["field"] and error["message_en"] and error["message_zh"], error
        if not body.get("errors"):
            assert body["detail"] and body["detail_zh"], body
        if field is not None:
            assert field in {e["field"] for e in body.get("errors", [])}, body
        return body


def build_app(var_dir: Path, keys: AuthKeys) -> tuple[Flask, Runtime, EmbeddedTransport]:
    transport = EmbeddedTransport(str(var_dir / "log.sqlite"))
    runtime = migrated_runtime(SPEC, Settings.from_env("intake", sealing(var_dir)), transport=transport)
    return create_app(runtime, testing=True, auth=keys.settings("intake")), runtime, transport


@pytest.fixture
def api(runtime: Runtime, auth_keys: AuthKeys) -> IntakeApi:
    """An app of its own per test (on the ``runtime`` fixture)."""
    return IntakeApi(create_app(runtime, testing=True, auth=auth_keys.settings("intake")).test_client(), auth_keys)


@pytest.fixture(scope="module")
def module_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IntakeApi]:
    """One app for a whole module, for tables of many small calls (each test makes the records it needs)."""
    var_dir = tmp_path_factory.mktemp("intake")
    keys = AuthKeys.create(var_dir / "auth")
    app, runtime, transport = build_app(var_dir, keys)
    yield IntakeApi(app.test_client(), keys)
    assert_events_match_contracts(runtime)
    runtime.engine.dispose()
    transport.close()
