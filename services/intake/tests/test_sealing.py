"""intake seals a natural person's fields in the command path and opens them for what it shows
(docs/personal-data.md §6): the store and the read model hold ciphertext and the pseudonym, the subject's key is
made in the command's transaction, the answers, the document and the ledger show what the caller sent, and an
erased subject shows ［已删除］ everywhere while the rest of the record stands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.support.services import case_command, guidance_command

from guidance_intake.adapters.personal_fields import LOCAL_KEYS_DIR, local_keys
from guidance_intake.adapters.read_model import case_records, guidance_records
from guidance_intake.adapters.subject_keys import SqlSubjectKeys, subject_keys
from guidance_intake.bootstrap import sealing_keys
from guidance_intake.settings import IntakeSettings
from guidance_shared.events.examples import DEPARTMENT_ID, ENTERPRISE, INDIVIDUAL_BUSINESS, PERSON
from guidance_shared.personal_data.errors import ERASED_TEXT
from guidance_shared.personal_data.field import is_sealed
from guidance_shared.runtime import Runtime
from guidance_shared.settings import SettingsError

PERSONAL = ("name", "id_no", "address", "contact")


def _stored(runtime: Runtime, stream_id: str) -> dict[str, Any]:
    assert runtime.store is not None
    return dict(runtime.store.load(stream_id)[0].data)


def _keys(runtime: Runtime) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(subject_keys)).scalar_one())


def test_a_persons_act_is_stored_sealed_under_their_key_and_answered_in_clear(
    runtime: Runtime, client: Any, officer: dict[str, str]
) -> None:
    # given an officer issuing an act about a natural person
    body = guidance_command(counterpart=PERSON)
    # when intake records it
    answer = client.post("/v1/guidance", json=body, headers=officer)
    assert answer.status_code == 201, answer.get_json()
    act = answer.get_json()
    # then the event holds each personal field sealed, and the person's pseudonym in clear
    counterpart = _stored(runtime, act["guidance_id"])["counterpart"]
    assert all(is_sealed(counterpart[field]) for field in PERSONAL)
    assert counterpart["kind"] == "person" and counterpart["id_type"] == "resident_id"
    assert counterpart["subject_id"] == runtime.deps.personal.subject_id(PERSON)
    # and one key was made for the person, under which every field was sealed
    assert _keys(runtime) == 1
    assert {counterpart[field]["kid"] for field in PERSONAL} == {
        SqlSubjectKeys(runtime.engine, local_keys(runtime.settings.var_dir)[0]).records()[0].key_id
    }
    # and the read model files the act under the pseudonym, with the name as the event holds it
    with runtime.engine.connect() as conn:
        row = conn.execute(select(guidance_records)).mappings().one()
    assert row["counterpart_key"] == counterpart["subject_id"]
    assert PERSON["name"] not in row["counterpart_name"] and json.loads(row["counterpart_name"])["ct"]
    # and the caller is answered with what it sent, on creation and on reading
    assert {k: act["details"]["counterpart"][k] for k in PERSON} == PERSON
    read = client.get(f"/v1/guidance/{act['guidance_id']}", headers=officer).get_json()
    assert {k: read["details"]["counterpart"][k] for k in PERSON} == PERSON


def test_a_second_record_of_the_person_reuses_their_key_and_their_history_finds_both(
    runtime: Runtime, client: Any, officer: dict[str, str]
) -> None:
    # given an act and a case about the same person
    act = client.post("/v1/guidance", json=guidance_command(counterpart=PERSON), headers=officer).get_json()
    case = client.post("/v1/cases", json=case_command(counterpart=PERSON), headers=officer).get_json()
    # then they share one key and one pseudonym
    assert _keys(runtime) == 1
    sealed_case = _stored(runtime, case["case_id"])["counterpart"]
    assert sealed_case["subject_id"] == _stored(runtime, act["guidance_id"])["counterpart"]["subject_id"]
    assert sealed_case["id_no"]["aad"] == {"event": "CaseOpened", "field": "counterpart.id_no"}
    # and the counterpart's history, asked by the ID number as typed, finds both
    history = client.post(
        "/v1/counterparts/history", json={"id_type": "resident_id", "id_no": PERSON["id_no"]}, headers=officer
    )
    assert history.status_code == 200, history.get_json()
    assert {e["id"] for e in history.get_json()["entries"]} == {act["guidance_id"], case["case_id"]}
    with runtime.engine.connect() as conn:
        assert conn.execute(select(case_records.c.counterpart_key)).scalar_one() == sealed_case["subject_id"]


def test_an_organisation_is_recorded_as_it_was_sent_and_makes_no_key(
    runtime: Runtime, client: Any, officer: dict[str, str]
) -> None:
    act = client.post("/v1/guidance", json=guidance_command(counterpart=ENTERPRISE), headers=officer).get_json()
    counterpart = _stored(runtime, act["guidance_id"])["counterpart"]
    assert counterpart == {k: v for k, v in ENTERPRISE.items()}
    assert "subject_id" not in counterpart and _keys(runtime) == 0


def test_a_refused_command_leaves_no_key_behind(runtime: Runtime, client: Any, officer: dict[str, str]) -> None:
    # given an act about a person that breaks a rule only the aggregate checks (a written request, given orally)
    body = guidance_command(counterpart=PERSON, written_requested=True, form="oral")
    # when intake refuses it
    refused = client.post("/v1/guidance", json=body, headers=officer)
    assert refused.status_code == 422, refused.get_json()
    # then the key sealed in its transaction went with it
    assert _keys(runtime) == 0


def test_a_caller_cannot_send_a_sealed_value_or_a_pseudonym(client: Any, officer: dict[str, str]) -> None:
    sealed = {"v": 1, "alg": "A256GCM", "kid": "k", "aad": {"event": "GuidanceIssued", "field": "counterpart.name"}}
    for counterpart in (
        {**PERSON, "name": {**sealed, "nonce": "A" * 16, "ct": "A" * 22}},
        {**PERSON, "subject_id": "a" * 64},
    ):
        refused = client.post("/v1/guidance", json=guidance_command(counterpart=counterpart), headers=officer)
        assert refused.status_code == 422


def test_an_erased_person_reads_as_erased_in_answers_documents_and_the_ledger(
    runtime: Runtime, client: Any, officer: dict[str, str]
) -> None:
    # given an act about a person and an admonition of an individual business's operator
    act = client.post("/v1/guidance", json=guidance_command(counterpart=PERSON), headers=officer).get_json()
    business = client.post(
        "/v1/guidance", json=guidance_command(counterpart=INDIVIDUAL_BUSINESS), headers=officer
    ).get_json()
    # when the person's keys are erased
    keks = local_keys(runtime.settings.var_dir)[0]
    assert SqlSubjectKeys(runtime.engine, keks).erase(runtime.deps.personal.subject_id(PERSON)) == 1
    # then their act shows ［已删除］ for every personal field, and the rest of it as it was
    shown = client.get(f"/v1/guidance/{act['guidance_id']}", headers=officer).get_json()["details"]
    assert {field: shown["counterpart"][field] for field in PERSONAL} == dict.fromkeys(PERSONAL, ERASED_TEXT)
    assert shown["doc_no"] == act["details"]["doc_no"] and shown["counterpart"]["id_type"] == "resident_id"
    document = client.get(f"/v1/guidance/{act['guidance_id']}/document", headers=officer).get_data(as_text=True)
    assert ERASED_TEXT in document and PERSON["name"] not in document
    ledger = client.get(
        f"/v1/ledger?department_id={DEPARTMENT_ID}&from=2025-01-01&to=2025-12-31&format=csv", headers=officer
    ).get_data(as_text=True)
    assert ERASED_TEXT in ledger and PERSON["name"] not in ledger
    # and the individual business, another subject, still reads in clear
    assert INDIVIDUAL_BUSINESS["legal_representative"] in ledger or INDIVIDUAL_BUSINESS["name"] in ledger
    other = client.get(f"/v1/guidance/{business['guidance_id']}", headers=officer).get_json()["details"]
    assert {k: other["counterpart"][k] for k in INDIVIDUAL_BUSINESS} == INDIVIDUAL_BUSINESS


def test_an_embedded_install_makes_its_keys_once_readable_by_its_user_only(runtime: Runtime) -> None:
    directory = runtime.settings.var_dir / LOCAL_KEYS_DIR
    files = sorted(p for p in directory.iterdir() if not p.name.startswith("."))
    assert [p.name for p in files] == ["keks", "pseudonym-key"]
    assert all(p.stat().st_mode & 0o077 == 0 for p in files)
    before = [p.read_bytes() for p in files]
    local_keys(runtime.settings.var_dir)
    assert [p.read_bytes() for p in files] == before


def test_sealing_outside_an_embedded_install_needs_configured_keys(tmp_path: Path) -> None:
    # given an intake on Kafka that seals, by the default or asked to, with no keys configured
    kafka = {"GUIDANCE_TRANSPORT": "kafka"}
    for env in (kafka, {**kafka, "GUIDANCE_SEAL_PERSONAL_DATA": "true"}):
        # then it refuses to start, naming what is missing and the switch, and makes no keys of its own
        with pytest.raises(SettingsError, match="GUIDANCE_SEAL_PERSONAL_DATA needs GUIDANCE_PERSONAL_DATA_KEKS"):
            sealing_keys(IntakeSettings.from_env(env), tmp_path)
        assert not (tmp_path / LOCAL_KEYS_DIR).exists()
    # and an intake switched off explicitly starts without keys, as before
    off = IntakeSettings.from_env({**kafka, "GUIDANCE_SEAL_PERSONAL_DATA": "false"})
    assert sealing_keys(off, tmp_path) == (None, None)


def test_an_embedded_install_seals_by_default_with_keys_it_makes(tmp_path: Path) -> None:
    settings = IntakeSettings.from_env({})
    keks, pseudonyms = sealing_keys(settings, tmp_path)
    assert settings.seal is True and keks is not None and pseudonyms is not None
    assert sorted(p.name for p in (tmp_path / LOCAL_KEYS_DIR).iterdir() if not p.name.startswith(".")) == [
        "keks",
        "pseudonym-key",
    ]


def test_the_switch_reads_true_or_false_only() -> None:
    assert IntakeSettings.from_env({}).seal is True
    assert IntakeSettings.from_env({"GUIDANCE_SEAL_PERSONAL_DATA": ""}).seal is True
    for off in ("false", "0", "no", " FALSE "):
        assert IntakeSettings.from_env({"GUIDANCE_SEAL_PERSONAL_DATA": off}).seal is False
    assert IntakeSettings.from_env({"GUIDANCE_SEAL_PERSONAL_DATA": "true"}).seal is True
    with pytest.raises(SettingsError, match="GUIDANCE_SEAL_PERSONAL_DATA"):
        IntakeSettings.from_env({"GUIDANCE_SEAL_PERSONAL_DATA": "sometimes"})
