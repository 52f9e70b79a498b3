"""Reads of a natural person's record are in the access log, exactly those, before the data leaves."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime
from tests.support.services import case_command, decision_command, guidance_command

from guidance_intake.bootstrap import SPEC, create_app
from guidance_shared import access_log
from guidance_shared.db import make_engine
from guidance_shared.events.examples import DEPARTMENT_ID, ENTERPRISE, INDIVIDUAL_BUSINESS, PERSON
from guidance_shared.personal_data.pseudonym import Pseudonyms
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

PSEUDONYM_KEY = bytes(range(32))


@pytest.fixture
def api(tmp_path: Path, auth_keys: AuthKeys) -> Iterator[tuple[Any, AuthKeys, Runtime]]:
    env = {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_PSEUDONYM_KEY": base64.b64encode(PSEUDONYM_KEY).decode()}
    settings = Settings.from_env("intake", env)
    runtime = migrated_runtime(SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    yield create_app(runtime, testing=True, auth=auth_keys.settings()).test_client(), auth_keys, runtime
    runtime.close()


def entries(runtime: Runtime) -> list[access_log.Entry]:
    with runtime.engine.connect() as conn:
        return access_log.entries(conn, limit=100)


def test_each_read_of_a_persons_record_is_logged_and_an_enterprises_is_not(api) -> None:
    client, keys, runtime = api
    officer = keys.headers("officer-1", DEPARTMENT_ID, ["officer"])
    auditor = keys.headers("auditor-7", DEPARTMENT_ID, ["auditor"])
    person = client.post("/v1/guidance", json=guidance_command(counterpart=PERSON), headers=officer).get_json()
    enterprise = client.post("/v1/guidance", json=guidance_command(), headers=officer).get_json()
    # the answer to issuing a person's act echoes their data: the only read so far
    assert [e.purpose for e in entries(runtime)] == ["postGuidanceCollection"]

    assert client.get(f"/v1/guidance/{enterprise['guidance_id']}", headers=auditor).status_code == 200
    assert client.get(f"/v1/guidance/{person['guidance_id']}", headers=auditor).status_code == 200
    assert client.get(f"/v1/guidance/{person['guidance_id']}/document", headers=officer).status_code == 200
    day = person["details"]["issued_at"][:10]
    ledger = client.get(
        "/v1/ledger", query_string={"department_id": DEPARTMENT_ID, "from": day, "to": day}, headers=auditor
    )
    assert ledger.status_code == 200

    subject = Pseudonyms(PSEUDONYM_KEY).subject_id(PERSON["id_no"])
    logged = [(e.actor, e.purpose, e.subject_ref, e.record_id, e.count) for e in entries(runtime)]
    assert logged == [
        ("officer-1", "postGuidanceCollection", subject, person["guidance_id"], 1),
        ("auditor-7", "getGuidanceItem", subject, person["guidance_id"], 1),
        ("officer-1", "getGuidanceDocumentView", subject, person["guidance_id"], 1),
        ("auditor-7", "getLedger", None, None, 2),
    ]
    assert PERSON["id_no"] not in str(logged)
    with runtime.engine.connect() as conn:
        assert access_log.verify(conn) == []


def test_a_read_that_cannot_be_recorded_is_refused(api) -> None:
    client, keys, runtime = api
    officer = keys.headers("officer-1", DEPARTMENT_ID, ["officer"])
    person = client.post("/v1/guidance", json=guidance_command(counterpart=PERSON), headers=officer).get_json()
    with runtime.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE pd_access_log")  # the log cannot be written
    refused = client.get(f"/v1/guidance/{person['guidance_id']}", headers=officer)
    assert refused.status_code == 503 and refused.get_json()["type"].endswith("/access-not-recorded")
    assert PERSON["id_no"] not in refused.get_data(as_text=True)


@pytest.fixture(params=["sealing", "clear", pytest.param("sealing-postgresql", marks=pytest.mark.postgres)])
def either(request: pytest.FixtureRequest, tmp_path: Path, auth_keys: AuthKeys) -> Iterator[tuple[Any, Runtime]]:
    """intake with persons' fields sealed, and with them in clear (and sealed on PostgreSQL, where a command's
    entry is written under the log's advisory lock in the command's transaction): the log is the same."""
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_PSEUDONYM_KEY": base64.b64encode(PSEUDONYM_KEY).decode(),
        "GUIDANCE_SEAL_PERSONAL_DATA": "false" if request.param == "clear" else "true",
        "GUIDANCE_PERSONAL_DATA_KEKS": "test-1=" + base64.b64encode(bytes(range(200, 232))).decode(),
    }
    engine = (
        {"engine": make_engine(request.getfixturevalue("postgres_db_url"))} if "postgresql" in request.param else {}
    )
    settings = Settings.from_env("intake", env)
    runtime = migrated_runtime(SPEC, settings, transport=EmbeddedTransport(settings.embedded_log), **engine)
    yield create_app(runtime, testing=True, auth=auth_keys.settings()).test_client(), runtime
    runtime.close()


def test_command_answers_and_histories_naming_a_person_are_logged_exactly_once_each(either, auth_keys) -> None:
    client, runtime = either
    officer = auth_keys.headers("officer-1", DEPARTMENT_ID, ["officer", "supervisor"])
    auditor = auth_keys.headers("auditor-7", DEPARTMENT_ID, ["auditor"])

    def post(path: str, body: dict[str, Any], headers: dict[str, str] = officer) -> Any:
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code in (200, 201), answer.get_json()
        return answer

    # commands about a person, an individual business and an enterprise; each answer echoes its record
    person = post("/v1/guidance", guidance_command(counterpart=PERSON)).get_json()
    business = post("/v1/guidance", guidance_command(counterpart=INDIVIDUAL_BUSINESS)).get_json()
    enterprise = post("/v1/guidance", guidance_command()).get_json()
    post(f"/v1/guidance/{person['guidance_id']}/response", {"response": "accepted", "statement": "已知悉"})
    post(f"/v1/guidance/{enterprise['guidance_id']}/response", {"response": "accepted", "statement": "已知悉"})
    case = post("/v1/cases", case_command(counterpart=PERSON, major=False)).get_json()
    post(f"/v1/cases/{case['case_id']}/decision", decision_command())
    # a retried command is answered from its first answer: the same data again, so a read again
    retry = {**officer, "Idempotency-Key": "retry-1"}
    first = post("/v1/guidance", guidance_command(counterpart=PERSON, matter="同一请求"), retry)
    again = post("/v1/guidance", guidance_command(counterpart=PERSON, matter="同一请求"), retry)
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    retried = first.get_json()["guidance_id"]
    # histories: by the person's ID number, by the individual business's and the enterprise's credit codes,
    # and by an ID number that has no record
    history = "/v1/counterparts/history"
    by_person = post(history, {"id_type": "resident_id", "id_no": PERSON["id_no"]}, auditor).get_json()["entries"]
    by_business = post(history, {"uscc": INDIVIDUAL_BUSINESS["uscc"]}, auditor).get_json()["entries"]
    assert post(history, {"uscc": ENTERPRISE["uscc"]}, auditor).get_json()["entries"]
    assert post(history, {"id_type": "resident_id", "id_no": "11010519491231002X"}, auditor).get_json() == {
        "entries": []
    }

    pseudonyms = Pseudonyms(PSEUDONYM_KEY)
    subject = pseudonyms.subject_id(PERSON["id_no"])
    operator = pseudonyms.of("business", INDIVIDUAL_BUSINESS["uscc"])
    logged = [(e.actor, e.purpose, e.subject_ref, e.record_id, e.count) for e in entries(runtime)]
    assert logged == [
        ("officer-1", "postGuidanceCollection", subject, person["guidance_id"], 1),
        ("officer-1", "postGuidanceCollection", operator, business["guidance_id"], 1),
        ("officer-1", "postGuidanceResponse", subject, person["guidance_id"], 1),
        ("officer-1", "postCaseCollection", subject, case["case_id"], 1),
        ("officer-1", "postCaseDecision", subject, case["case_id"], 1),
        ("officer-1", "postGuidanceCollection", subject, retried, 1),
        ("officer-1", "postGuidanceCollection", subject, retried, 1),
        ("auditor-7", "postCounterpartHistoryView", subject, None, len(by_person)),
        ("auditor-7", "postCounterpartHistoryView", operator, None, len(by_business)),
    ]
    assert len(by_person) == 3 and len(by_business) == 1
    with runtime.engine.connect() as conn:
        assert access_log.verify(conn) == []


def test_a_command_whose_answer_cannot_be_recorded_is_refused_and_takes_no_effect(api) -> None:
    client, keys, runtime = api
    officer = keys.headers("officer-1", DEPARTMENT_ID, ["officer"])
    with runtime.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE pd_access_log")  # the log cannot be written
    assert runtime.store is not None
    before = len(runtime.store.read_all())

    refused = client.post("/v1/guidance", json=guidance_command(counterpart=PERSON), headers=officer)

    assert refused.status_code == 503 and refused.get_json()["type"].endswith("/access-not-recorded")
    assert PERSON["id_no"] not in refused.get_data(as_text=True)
    assert len(runtime.store.read_all()) == before  # the act was not issued: its answer could not be recorded
    # an enterprise's act echoes no one: it needs no entry and is issued
    assert client.post("/v1/guidance", json=guidance_command(), headers=officer).status_code == 201
