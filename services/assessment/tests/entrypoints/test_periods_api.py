"""Periods over HTTP: open a year, record deliverables and external scores, see the live standing and its
explanation, publish (frozen), and a late event after publication becomes a new version with its differences.

The figures are those of handlers/test_scripted_year.py (worked out by hand there): B 96, A 67.02, C 38.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from tests.support.assessment_year import (
    DELIVERABLES,
    ECOLOGY,
    EXTERNAL,
    HOUSING,
    MARKET,
    event_id,
    feed,
    late_overdue_of_housing,
)
from tests.support.auth import AuthKeys
from tests.support.projections import assert_read_models_refold
from tests.support.schema import migrated_runtime

from guidance_assessment.bootstrap import SPEC, create_app
from guidance_assessment.entrypoints.worker import revise_published
from guidance_shared.db import make_engine
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

PUBLISHED_ON = datetime(2026, 1, 20, 2, 0, tzinfo=UTC)  # 10:00 in China, before the 31 January report


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings.from_env("assessment", env={"GUIDANCE_VAR_DIR": str(tmp_path)})
    runtime = migrated_runtime(SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    runtime.provision()
    runtime.deps = replace(runtime.deps, now=lambda: PUBLISHED_ON)
    yield runtime
    assert_read_models_refold(runtime, allow_empty=True)  # periods, scorecards, revisions, refolded
    runtime.close()


@pytest.fixture
def client(runtime: Runtime, auth_keys: AuthKeys) -> FlaskClient:
    return create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()


def as_role(keys: AuthKeys, role: str, department: str = MARKET) -> dict[str, str]:
    return keys.headers(f"{role}-1", department, [role])


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def open_and_fill(client: FlaskClient, keys: AuthKeys) -> None:
    supervisor = as_role(keys, "supervisor")
    ok(client.post("/v1/assessment/periods", json={"year": 2025}, headers=supervisor), 201)
    for department, done in DELIVERABLES.items():
        for code, on in done:
            body = {"deliverable": code, "done_on": on, "evidence": f"{code} 文件"}
            ok(
                client.post(
                    f"/v1/assessment/periods/2025/departments/{department}/deliverables",
                    json=body,
                    headers=as_role(keys, "officer", department),
                ),
                201,
            )
    for department, score in EXTERNAL.items():
        ok(
            client.put(
                f"/v1/assessment/periods/2025/departments/{department}/external-evaluation",
                json={"score": score, "method": "测评卡"},
                headers=supervisor,
            )
        )


def standing(client: FlaskClient, keys: AuthKeys, role: str = "auditor", department: str = MARKET) -> dict[str, Any]:
    body: dict[str, Any] = ok(
        client.get("/v1/assessment/periods/2025/scorecards", headers=as_role(keys, role, department))
    )
    return body


def test_the_live_standing_of_the_scripted_year_matches_the_hand_worked_scores(
    runtime: Runtime, client: FlaskClient, auth_keys: AuthKeys
) -> None:
    feed(runtime)
    open_and_fill(client, auth_keys)

    body = standing(client, auth_keys)
    assert body["status"] == "open" and body["as_of"] == "2025-12-31" and body["rubric_version"] == "2025.1"
    assert [(r["department_id"], r["rank"], r["score"]) for r in body["scorecards"]] == [
        (HOUSING, 1, 96.0),
        (MARKET, 2, 67.02),
        (ECOLOGY, 3, 38.0),
    ]
    market = body["scorecards"][1]
    assert market["groups"] == {"general": 20.5, "specific": 29.52, "external": 17.0}
    assert market["indicators"]["rollout_deliverables"] == {
        "value": 0.75,
        "score": 7.5,
        "numerator": 3,
        "denominator": 4,
    }


def test_the_explanation_lists_figure_events_normalised_value_and_weight(
    runtime: Runtime, client: FlaskClient, auth_keys: AuthKeys
) -> None:
    feed(runtime)
    open_and_fill(client, auth_keys)

    body = ok(
        client.get(f"/v1/assessment/periods/2025/departments/{MARKET}/explain", headers=as_role(auth_keys, "officer"))
    )
    assert (body["score"], body["rank"]) == (67.02, 2)
    lines = {line["code"]: line for line in body["indicators"]}
    revisits = lines["days_to_revisit"]
    assert (revisits["value"], revisits["normalised"], revisits["weight"], revisits["score"]) == (
        38.5,
        0.8583,
        4.0,
        3.43,
    )
    assert [s["note"] for s in revisits["sources"]] == ["27 days", "50 days"]
    assert event_id("ra2:completed") in revisits["sources"][1]["event_ids"]
    external = lines["external_evaluation"]
    assert (external["value"], external["normalised"], external["score"]) == (85.0, 0.85, 17.0)
    assert len(external["sources"][0]["event_ids"]) == 1  # the ExternalEvaluationRecorded event
    rollout = {s["subject_id"]: s for s in lines["rollout_deliverables"]["sources"]}
    assert (
        rollout["rules_adopted"]["counted"] is False
        and "due 2025-07-31, done 2025-08-05" in rollout["rules_adopted"]["note"]
    )
    assert body["activity"]["by_content_type"] == {
        "development_advice": 1,
        "minor_issue_warning": 2,
        "violation_correction": 1,
    }
    assert body["activity"]["withdrawn"] == 1


def test_a_department_sees_only_its_own_scorecard_auditors_and_supervisors_see_all(
    runtime: Runtime, client: FlaskClient, auth_keys: AuthKeys
) -> None:
    feed(runtime)
    open_and_fill(client, auth_keys)

    own = standing(client, auth_keys, "officer", ECOLOGY)["scorecards"]
    assert [(r["department_id"], r["rank"]) for r in own] == [(ECOLOGY, 3)]  # its rank among all
    assert len(standing(client, auth_keys, "supervisor")["scorecards"]) == 3
    other = client.get(
        f"/v1/assessment/periods/2025/departments/{MARKET}/explain", headers=as_role(auth_keys, "officer", ECOLOGY)
    )
    assert other.status_code == 404
    assert client.get("/v1/assessment/periods/2025/scorecards").status_code == 401
    officer_opens = client.post("/v1/assessment/periods", json={"year": 2026}, headers=as_role(auth_keys, "officer"))
    assert officer_opens.status_code == 403
    foreign = client.post(
        f"/v1/assessment/periods/2025/departments/{HOUSING}/deliverables",
        json={"deliverable": "plan_filed", "done_on": "2025-06-01", "evidence": "x"},
        headers=as_role(auth_keys, "officer", ECOLOGY),
    )
    assert foreign.status_code == 404  # another department's deliverables do not exist for the caller


def test_publication_freezes_and_a_late_event_yields_a_new_version_with_its_difference(
    runtime: Runtime, client: FlaskClient, auth_keys: AuthKeys
) -> None:
    feed(runtime)
    open_and_fill(client, auth_keys)
    supervisor = as_role(auth_keys, "supervisor")
    assert ok(client.post("/v1/assessment/periods/2025/publication", headers=supervisor), 201) == {"count": 3}
    again = client.post("/v1/assessment/periods/2025/publication", headers=supervisor)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert revise_published(runtime) == 0  # nothing moved since

    late = late_overdue_of_housing()
    feed(runtime, [late])
    assert revise_published(runtime) == 1  # only B's figures moved; its rank did not
    assert revise_published(runtime) == 0

    versions = ok(client.get(f"/v1/assessment/periods/2025/departments/{HOUSING}/versions", headers=supervisor))[
        "versions"
    ]
    assert [(v["version"], v["score"], v["rank"]) for v in versions] == [(1, 96.0, 1), (2, 91.5, 1)]
    assert versions[1]["differences"] == [
        {
            "field": "indicators.disclosure_on_time",
            "before": {"value": 1.0, "score": 9.0, "numerator": 1, "denominator": 1},
            "after": {"value": 0.5, "score": 4.5, "numerator": 1, "denominator": 2},
        },
        {"field": "score", "before": 96.0, "after": 91.5},
    ]
    assert versions[1]["new_source_event_ids"] == [late.event_id]
    assert versions[0]["differences"] == []
    market = ok(client.get(f"/v1/assessment/periods/2025/departments/{MARKET}/versions", headers=supervisor))
    assert [v["version"] for v in market["versions"]] == [1]

    # The revision is an event on assessment.events too: ScorecardRevised, after three ScorecardPublished.
    assert runtime.store is not None
    types = [e.type for e in runtime.store.read_all()]
    assert types.count("guidance.ScorecardPublished.v1") == 3
    assert types.count("guidance.ScorecardRevised.v1") == 1
    period = ok(client.get("/v1/assessment/periods/2025", headers=supervisor))
    assert period["status"] == "published" and period["rubric"]["version"] == "2025.1"


def test_bad_commands_are_problems_naming_the_field(runtime: Runtime, client: FlaskClient, auth_keys: AuthKeys) -> None:
    supervisor = as_role(auth_keys, "supervisor")
    assert client.get("/v1/assessment/periods/2025", headers=supervisor).status_code == 404
    ok(client.post("/v1/assessment/periods", json={"year": 2025}, headers=supervisor), 201)
    twice = client.post("/v1/assessment/periods", json={"year": 2025}, headers=supervisor)
    assert twice.status_code == 409
    assert twice.get_json()["errors"][0]["field"] == "year"

    cases = [
        ("post", "/v1/assessment/periods", {"year": 1999}, "year"),
        (
            "post",
            "/v1/assessment/periods",
            {"year": 2026, "starts_on": "2026-03-01", "ends_on": "2026-02-01"},
            "ends_on",
        ),
        (
            "put",
            f"/v1/assessment/periods/2025/departments/{MARKET}/external-evaluation",
            {"score": 101, "method": "x"},
            "score",
        ),
        (
            "post",
            f"/v1/assessment/periods/2025/departments/{MARKET}/deliverables",
            {"deliverable": "party_held", "done_on": "2025-06-01", "evidence": "x"},
            "deliverable",
        ),
        (  # a deliverable is reported once done
            "post",
            f"/v1/assessment/periods/2025/departments/{MARKET}/deliverables",
            {"deliverable": "plan_filed", "done_on": "2099-06-01", "evidence": "x"},
            "done_on",
        ),
        (
            "post",
            f"/v1/assessment/periods/2025/departments/{MARKET}/deliverables",
            {"deliverable": "plan_filed", "done_on": "2025-06-01", "evidence": "x", "approved": True},
            "approved",
        ),
        ("post", "/v1/assessment/periods", {"year": 2026, "departments": []}, "departments"),
    ]
    for method, url, body, field in cases:
        response = getattr(client, method)(url, json=body, headers=supervisor)
        assert response.status_code == 422, (url, response.get_json())
        problem = response.get_json()
        assert [e["field"] for e in problem["errors"]] == [field]
        assert all(e["message_en"] and e["message_zh"] for e in problem["errors"])


def test_the_rollout_programme_shows_phases_with_dates_and_each_departments_deliverables(
    runtime: Runtime, client: FlaskClient, auth_keys: AuthKeys
) -> None:
    feed(runtime)
    open_and_fill(client, auth_keys)

    body = ok(client.get("/v1/assessment/periods/2025/programme", headers=as_role(auth_keys, "auditor")))
    assert [(p["phase"], p["starts_on"], p["ends_on"]) for p in body["phases"]] == [
        ("plan", "2025-06-01", "2025-06-30"),
        ("rules", "2025-07-01", "2025-07-31"),
        ("embedding", "2025-08-01", "2025-10-31"),
        ("review", "2025-11-01", "2025-11-30"),
        ("assessment", "2025-12-01", "2025-12-31"),
    ]
    by_department = {
        d["department_id"]: {x["deliverable"]: x["status"] for x in d["deliverables"]} for d in body["departments"]
    }
    assert by_department[MARKET] == {
        "plan_filed": "on_time",
        "working_group_set_up": "on_time",
        "rules_adopted": "late",
        "training_held": "on_time",
    }
    assert set(by_department[ECOLOGY].values()) == {"late", "missing"}
    own = ok(client.get("/v1/assessment/periods/2025/programme", headers=as_role(auth_keys, "officer", HOUSING)))
    assert [d["department_id"] for d in own["departments"]] == [HOUSING]

    # A deliverable recorded again (a corrected date) replaces the first, and the process indicator follows.
    ok(
        client.post(
            f"/v1/assessment/periods/2025/departments/{MARKET}/deliverables",
            json={"deliverable": "rules_adopted", "done_on": "2025-07-30", "evidence": "某市监〔2025〕41号"},
            headers=as_role(auth_keys, "officer"),
        ),
        201,
    )
    explained = ok(
        client.get(f"/v1/assessment/periods/2025/departments/{MARKET}/explain", headers=as_role(auth_keys, "officer"))
    )
    rollout = next(line for line in explained["indicators"] if line["code"] == "rollout_deliverables")
    assert (rollout["numerator"], rollout["denominator"], rollout["score"]) == (4, 4, 10.0)
    assert explained["score"] == 69.52


@pytest.mark.postgres
def test_on_postgresql_the_standing_publication_and_revision_are_the_same(
    tmp_path: Path, postgres_db_url: str, auth_keys: AuthKeys
) -> None:
    settings = Settings.from_env("assessment", env={"GUIDANCE_VAR_DIR": str(tmp_path)})
    runtime = migrated_runtime(
        SPEC, settings, transport=EmbeddedTransport(settings.embedded_log), engine=make_engine(postgres_db_url)
    )
    try:
        runtime.provision()
        runtime.deps = replace(runtime.deps, now=lambda: PUBLISHED_ON)
        client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
        feed(runtime)
        open_and_fill(client, auth_keys)
        ranked = [(r["department_id"], r["rank"], r["score"]) for r in standing(client, auth_keys)["scorecards"]]
        assert ranked == [(HOUSING, 1, 96.0), (MARKET, 2, 67.02), (ECOLOGY, 3, 38.0)]
        ok(client.post("/v1/assessment/periods/2025/publication", headers=as_role(auth_keys, "supervisor")), 201)
        feed(runtime, [late_overdue_of_housing()])
        assert revise_published(runtime) == 1
        versions = ok(
            client.get(
                f"/v1/assessment/periods/2025/departments/{HOUSING}/versions", headers=as_role(auth_keys, "supervisor")
            )
        )["versions"]
        assert [(v["version"], v["score"]) for v in versions] == [(1, 96.0), (2, 91.5)]
    finally:
        runtime.close()
