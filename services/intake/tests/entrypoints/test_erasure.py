"""Erasing a natural person (个人信息保护法第四十七条; docs/personal-data.md, "Erasure") over HTTP and the command
line, on SQLite and PostgreSQL: the person's keys are deleted, one PersonalDataErased names them without any
personal data, intake's answers, documents and ledger read ［已删除］ while the rest of each record stands, and
the store still verifies and its read models still refold."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from tests.support.auth import AuthKeys
from tests.support.events import assert_events_match_contracts
from tests.support.projections import assert_read_models_refold
from tests.support.schema import migrated_runtime
from tests.support.services import ROOT, case_command, guidance_command

from guidance_intake.adapters.personal_fields import local_keys
from guidance_intake.adapters.subject_keys import SqlSubjectKeys
from guidance_intake.bootstrap import SPEC
from guidance_intake.domain.erasure import erasure_id
from guidance_shared.catalogue import PERSONAL_DATA_ERASED
from guidance_shared.db import make_engine
from guidance_shared.events.examples import DEPARTMENT_ID, INDIVIDUAL_BUSINESS, PERSON
from guidance_shared.personal_data.errors import ERASED_TEXT
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

ERASURES = "/v1/personal-data/erasures"
PERSONAL = ("name", "id_no", "address", "contact")
OTHER = {
    **PERSON,
    "name": "李娜",
    "id_no": "11010519491231002X",
    "address": "某县城关镇人民路1号",
    "contact": "13700137000",
}
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _env(tmp_path: Path, database: str, request: pytest.FixtureRequest) -> dict[str, str]:
    env = {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_SEAL_PERSONAL_DATA": "true"}
    if database == "postgresql":
        env["GUIDANCE_DATABASE_URL"] = request.getfixturevalue("postgres_db_url")
    return env


@pytest.fixture(params=DATABASES)
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    return _env(tmp_path, request.param, request)


@pytest.fixture
def runtime(env: dict[str, str], tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings.from_env("intake", env)
    engine = {"engine": make_engine(env["GUIDANCE_DATABASE_URL"])} if "GUIDANCE_DATABASE_URL" in env else {}
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    runtime = migrated_runtime(SPEC, settings, transport=transport, **engine)
    runtime.provision()
    yield runtime
    # after every erasure: the read models refold from the store, and every event holds to its contract
    assert_read_models_refold(runtime, allow_empty=True)
    assert_events_match_contracts(runtime)
    runtime.engine.dispose()
    transport.close()


@pytest.fixture
def admin(auth_keys: AuthKeys) -> dict[str, str]:
    return auth_keys.headers("admin-1", DEPARTMENT_ID, ["admin"])


def _created(client: FlaskClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    created: dict[str, Any] = answer.get_json()
    return created


def _erasure(id_no: str = PERSON["id_no"], **changes: Any) -> dict[str, Any]:
    return {"id_no": id_no, "legal_reason": "request", "approver": "supervisor-2", **changes}


def _keys(runtime: Runtime) -> SqlSubjectKeys:
    return SqlSubjectKeys(runtime.engine, local_keys(runtime.settings.var_dir)[0])


def test_erasing_a_person_deletes_their_key_once_and_their_records_read_as_erased(
    runtime: Runtime, client: FlaskClient, officer: dict[str, str], admin: dict[str, str], auth_keys: AuthKeys
) -> None:
    # given an act and a case about a person, and an act about another person
    act = _created(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)
    case = _created(client, "/v1/cases", case_command(counterpart=PERSON), officer)
    other = _created(client, "/v1/guidance", guidance_command(counterpart=OTHER), officer)
    subject_id = runtime.deps.personal.subject_id(PERSON)
    kid = next(r.key_id for r in _keys(runtime).records() if r.subject_id == subject_id)
    # when an admin erases the person, the ID number typed in groups
    answer = client.post(
        ERASURES, json=_erasure("410102 19850312 4517"), headers={**admin, "Idempotency-Key": "erase-1"}
    )
    # then the erasure names the person by pseudonym and the key it deleted
    assert answer.status_code == 201, answer.get_json()
    erasure = answer.get_json()
    assert erasure == {
        "erasure_id": erasure_id(subject_id),
        "subject_id": subject_id,
        "subject_kind": "person",
        "key_ids": [kid],
        "legal_reason": "request",
        "requested_by": "admin-1",
        "approved_by": "supervisor-2",
        "erased_at": erasure["erased_at"],
        "repeated": False,
    }
    # and it reads back where it says, for an admin or an auditor, by the pseudonym alone
    auditor = auth_keys.headers("auditor-1", DEPARTMENT_ID, ["auditor"])
    assert answer.headers["Location"] == f"{ERASURES}/{subject_id}"
    for reader in (admin, auditor):
        read = client.get(answer.headers["Location"], headers=reader)
        assert read.status_code == 200 and read.get_json() == {k: v for k, v in erasure.items() if k != "repeated"}
    assert client.get(answer.headers["Location"], headers=officer).status_code == 403
    assert client.get(f"{ERASURES}/{'0' * 64}", headers=admin).status_code == 404
    # and the key is gone, the other person's is not
    records = {r.subject_id: r for r in _keys(runtime).records()}
    assert records[subject_id].erased and records[subject_id].wrapped is None
    assert not records[runtime.deps.personal.subject_id(OTHER)].erased
    # and one PersonalDataErased is in the subject's own stream, with none of the person's data
    assert runtime.store is not None
    stream = runtime.store.load(erasure_id(subject_id))
    assert [(e.type, e.stream_type) for e in stream] == [(PERSONAL_DATA_ERASED, "PersonalDataSubject")]
    as_text = json.dumps(stream[0].data, ensure_ascii=False)
    assert not any(str(PERSON[field]) in as_text for field in PERSONAL)
    # and the person's act and case read ［已删除］ in every personal field, the rest as recorded
    shown = client.get(f"/v1/guidance/{act['guidance_id']}", headers=officer).get_json()["details"]
    assert {f: shown["counterpart"][f] for f in PERSONAL} == dict.fromkeys(PERSONAL, ERASED_TEXT)
    assert shown["doc_no"] == act["details"]["doc_no"] and shown["matter"] == act["details"]["matter"]
    shown_case = client.get(f"/v1/cases/{case['case_id']}", headers=officer).get_json()["details"]
    assert {f: shown_case["counterpart"][f] for f in PERSONAL} == dict.fromkeys(PERSONAL, ERASED_TEXT)
    document = client.get(f"/v1/guidance/{act['guidance_id']}/document", headers=officer).get_data(as_text=True)
    assert ERASED_TEXT in document and PERSON["name"] not in document and PERSON["address"] not in document
    ledger = client.get(
        f"/v1/ledger?department_id={DEPARTMENT_ID}&from=2025-01-01&to=2025-12-31&format=csv", headers=officer
    ).get_data(as_text=True)
    assert ERASED_TEXT in ledger and PERSON["name"] not in ledger and OTHER["name"] in ledger
    # and the other person still reads in clear
    kept = client.get(f"/v1/guidance/{other['guidance_id']}", headers=officer).get_json()["details"]
    assert {f: kept["counterpart"][f] for f in PERSONAL} == {f: OTHER[f] for f in PERSONAL}
    # and the hash chain still verifies: it covers the ciphertext, which did not change
    assert runtime.store.verify().ok
    # when the same person is erased again, by another request
    again = client.post(ERASURES, json=_erasure(approver="supervisor-3"), headers=admin)
    # then nothing more is recorded and the first erasure answers
    assert again.status_code == 200, again.get_json()
    assert again.get_json() == {**erasure, "repeated": True}
    assert len(runtime.store.load(erasure_id(subject_id))) == 1
    # when the person is recorded again after the erasure (new processing, sealed under a new key)
    later = _created(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)
    new_kid = next(r.key_id for r in _keys(runtime).records() if r.subject_id == subject_id and not r.erased)
    # then erasing them again deletes that key, in a second event of the same stream, and the first act stays erased
    third = client.post(ERASURES, json=_erasure(), headers=admin)
    assert third.status_code == 201 and third.get_json()["key_ids"] == [new_kid]
    assert len(runtime.store.load(erasure_id(subject_id))) == 2
    later_shown = client.get(f"/v1/guidance/{later['guidance_id']}", headers=officer).get_json()["details"]
    assert later_shown["counterpart"]["name"] == ERASED_TEXT
    # and the same Idempotency-Key replays the first answer
    replay = client.post(
        ERASURES, json=_erasure("410102 19850312 4517"), headers={**admin, "Idempotency-Key": "erase-1"}
    )
    assert replay.status_code == 201 and replay.get_json() == erasure


def test_an_archive_package_produced_after_the_erasure_prints_the_person_as_erased(
    runtime: Runtime, client: FlaskClient, officer: dict[str, str], admin: dict[str, str], auth_keys: AuthKeys
) -> None:
    # given an act about a person, erased
    act = _created(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)
    assert client.post(ERASURES, json=_erasure(), headers=admin).status_code == 201
    # when the department's year is archived
    archivist = auth_keys.headers("archivist-1", DEPARTMENT_ID, ["archivist"])
    produced = _created(client, "/v1/archives", {"department_id": DEPARTMENT_ID, "year": 2025}, archivist)
    package = zipfile.ZipFile(io.BytesIO(client.get(produced["download"], headers=archivist).get_data()))
    # then the act's document prints ［已删除］ where the person's data was, and its events stay sealed
    [folder] = {name.split("/")[0] for name in package.namelist() if "/" in name}
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(package.read(f"{folder}/document.pdf"))).pages)
    assert "已删除" in text and PERSON["name"] not in text and PERSON["address"] not in text
    assert act["details"]["doc_no"] in text
    events = package.read(f"{folder}/events.json").decode("utf-8")
    assert PERSON["name"] not in events and PERSON["id_no"] not in events


def test_an_individual_business_known_by_its_credit_code_is_erased_by_it(
    runtime: Runtime, client: FlaskClient, officer: dict[str, str], admin: dict[str, str]
) -> None:
    act = _created(client, "/v1/guidance", guidance_command(counterpart=INDIVIDUAL_BUSINESS), officer)
    body = {"uscc": INDIVIDUAL_BUSINESS["uscc"], "legal_reason": "purpose_achieved", "approver": "supervisor-2"}
    answer = client.post(ERASURES, json=body, headers=admin)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["subject_kind"] == "individual_business"
    shown = client.get(f"/v1/guidance/{act['guidance_id']}", headers=officer).get_json()["details"]["counterpart"]
    assert shown["legal_representative"] == ERASED_TEXT and shown["address"] == ERASED_TEXT
    assert shown["name"] == INDIVIDUAL_BUSINESS["name"] and shown["uscc"] == INDIVIDUAL_BUSINESS["uscc"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (_erasure(approver="admin-1"), 422, "approver"),  # four-eyes: the requester cannot approve
        (_erasure(approver=" ADMIN-1 "), 422, "approver"),
        (_erasure(uscc=INDIVIDUAL_BUSINESS["uscc"]), 422, "id_no"),  # both identifiers
        (_erasure(legal_reason="tidy_up"), 422, "legal_reason"),
        (_erasure(reason="request"), 422, "reason"),  # a field the request does not have
        ({"legal_reason": "request", "approver": "supervisor-2"}, 422, "id_no"),
        (_erasure("440101199001010011"), 404, None),  # a person intake holds no key for
    ],
)
def test_an_erasure_that_cannot_be_done_is_refused_in_both_languages_and_erases_nothing(
    runtime: Runtime,
    client: FlaskClient,
    officer: dict[str, str],
    admin: dict[str, str],
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    _created(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)
    refused = client.post(ERASURES, json=body, headers=admin)
    assert refused.status_code == status, refused.get_json()
    problem = refused.get_json()
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert problem["title"] and problem["title_zh"] and problem["detail"] and problem["detail_zh"]
    if field is not None:
        assert field in {error["field"] for error in problem["errors"]}, problem
        assert all(error["message_en"] and error["message_zh"] for error in problem["errors"])
    assert PERSON["id_no"] not in json.dumps(problem, ensure_ascii=False)
    assert not any(r.erased for r in _keys(runtime).records())


def test_only_an_admin_may_erase(client: FlaskClient, auth_keys: AuthKeys, officer: dict[str, str]) -> None:
    _created(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)
    for roles in (["officer"], ["supervisor"], ["auditor"], ["archivist"]):
        headers = auth_keys.headers("someone", DEPARTMENT_ID, roles)
        assert client.post(ERASURES, json=_erasure(), headers=headers).status_code == 403
    assert client.post(ERASURES, json=_erasure()).status_code == 401


def _erase_cli(env: dict[str, str], identifier: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``guidance-intake erase`` with the identifier on standard input, as an operator pipes it in."""
    return subprocess.run(
        [sys.executable, "-m", "guidance_intake", "erase", *args],
        input=identifier + "\n",
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_the_command_line_erases_with_the_id_number_from_standard_input(
    env: dict[str, str], runtime: Runtime, client: FlaskClient, officer: dict[str, str]
) -> None:
    # given an act about a person
    act = _created(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)
    args = ("--id-no", "--reason", "retention_ended", "--approver", "supervisor-2", "--requested-by", "operator-1")
    # when an operator erases the person, the ID number piped in
    done = _erase_cli(env, PERSON["id_no"], *args)
    # then the erasure is printed, naming no one
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["subject_id"] == runtime.deps.personal.subject_id(PERSON) and printed["repeated"] is False
    assert (printed["legal_reason"], printed["requested_by"], printed["approved_by"]) == (
        "retention_ended",
        "operator-1",
        "supervisor-2",
    )
    assert PERSON["id_no"] not in done.stdout + done.stderr
    # and the act reads as erased
    shown = client.get(f"/v1/guidance/{act['guidance_id']}", headers=officer).get_json()["details"]
    assert shown["counterpart"]["name"] == ERASED_TEXT
    # and erasing again answers with the first erasure; the requester approving is refused
    again = _erase_cli(env, PERSON["id_no"], *args)
    assert again.returncode == 0 and json.loads(again.stdout) == {**printed, "repeated": True}
    same = _erase_cli(
        env, PERSON["id_no"], "--id-no", "--reason", "request", "--approver", "op", "--requested-by", "op"
    )
    assert same.returncode == 1 and "approver" in same.stderr
    # and the service's own checks pass after it: the hash chain, and a rebuild of its read models
    for command in ("verify", "rebuild-read-models"):
        checked = subprocess.run(
            [sys.executable, "-m", "guidance_intake", command],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert checked.returncode == 0, (command, checked.stdout, checked.stderr)


def test_the_command_line_reads_no_identifier_from_its_arguments(env: dict[str, str], runtime: Runtime) -> None:
    refused = _erase_cli(env, "", "--id-no", PERSON["id_no"], "--reason", "request", "--approver", "supervisor-2")
    assert refused.returncode == 2
    empty = _erase_cli(env, "", "--id-no", "--reason", "request", "--approver", "supervisor-2")
    assert empty.returncode == 2 and "no identifier" in empty.stderr


def _stored_answers(runtime: Runtime) -> list[str]:
    """The first answers intake keeps for commands' retries, as stored, JSON escapes undone."""
    with runtime.engine.connect() as conn:
        bodies = conn.exec_driver_sql("SELECT body FROM idempotency_keys WHERE body IS NOT NULL").scalars().all()
    return [json.dumps(json.loads(bytes(body)), ensure_ascii=False) for body in bodies]


def test_a_retried_commands_stored_answer_keeps_the_person_sealed_and_reads_erased_after_erasure(
    runtime: Runtime, client: FlaskClient, officer: dict[str, str], admin: dict[str, str]
) -> None:
    # given an act and a case about a person, each sent with an Idempotency-Key
    act_command, case_command_ = guidance_command(counterpart=PERSON), case_command(counterpart=PERSON)
    sent = {
        "/v1/guidance": (act_command, {**officer, "Idempotency-Key": "act-1"}),
        "/v1/cases": (case_command_, {**officer, "Idempotency-Key": "case-1"}),
    }
    first = {path: client.post(path, json=body, headers=headers) for path, (body, headers) in sent.items()}
    assert all(answer.status_code == 201 for answer in first.values())
    assert all(answer.get_json()["details"]["counterpart"]["id_no"] == PERSON["id_no"] for answer in first.values())
    # then the copies kept for their retries hold none of the person's data in clear
    stored = _stored_answers(runtime)
    assert len(stored) == 2
    assert not [(field, text) for text in stored for field in PERSONAL if PERSON[field] in text]
    # and a retry is answered with the first answer, byte for byte, the person's fields opened again
    for path, (body, headers) in sent.items():
        again = client.post(path, json=body, headers=headers)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.status_code == 201 and again.get_data() == first[path].get_data()
    # when the person is erased, a retry answers as the first did, with ［已删除］ in place of their data
    assert client.post(ERASURES, json=_erasure(), headers=admin).status_code == 201
    for path, (body, headers) in sent.items():
        after = client.post(path, json=body, headers=headers)
        assert after.status_code == 201 and after.headers["Idempotent-Replayed"] == "true"
        expected = first[path].get_json()
        expected["details"]["counterpart"] |= {field: ERASED_TEXT for field in PERSONAL}
        if "interview" in expected["details"] and (expected["details"]["interview"] or {}).get("summoned"):
            expected["details"]["interview"]["summoned"]["name"] = ERASED_TEXT
        assert after.get_json() == expected


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)  # about SQLite's files; PostgreSQL's: VACUUM (§10)
def test_no_file_of_the_sqlite_database_keeps_an_erased_wrapped_key(
    runtime: Runtime, client: FlaskClient, officer: dict[str, str], admin: dict[str, str]
) -> None:
    # given a person's key, written to the database file and its write-ahead log
    _created(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)
    subject_id = runtime.deps.personal.subject_id(PERSON)
    [record] = [r for r in _keys(runtime).records() if r.subject_id == subject_id]
    assert record.wrapped is not None
    database = Path(str(runtime.engine.url.database))
    files = [database, Path(f"{database}-wal")]
    assert any(record.wrapped.blob in f.read_bytes() for f in files if f.exists())
    # when the person is erased
    answer = client.post(ERASURES, json=_erasure(), headers={**admin, "Idempotency-Key": "erase-wal"})
    assert answer.status_code == 201, answer.get_json()
    # then the wrapped key's bytes are in neither file: zeroed in the page, and the log's older frames truncated
    assert [f.name for f in files if f.exists() and record.wrapped.blob in f.read_bytes()] == []
