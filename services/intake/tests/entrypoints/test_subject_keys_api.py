"""intake's internal key API over HTTP (docs/decisions/0007): who may have a person's data key, what they are
answered (the key, 404 for one never made, 410 for an erased one), and that every call is in the access log,
on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime
from tests.support.services import guidance_command

from guidance_intake.bootstrap import SPEC, create_app
from guidance_shared import access_log
from guidance_shared.db import make_engine
from guidance_shared.events.examples import DEPARTMENT_ID, PERSON
from guidance_shared.personal_data.field import FieldContext, b64url_decode, open_sealed, parse
from guidance_shared.personal_data.keys import DataKey
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

KEYS = "/internal/v1/subject-keys"
SUBJECT = "ab" * 32


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], ids=["sqlite", "postgresql"])
def intake(request: pytest.FixtureRequest, tmp_path: Path, auth_keys: AuthKeys) -> Iterator[tuple[Any, Runtime]]:
    """intake sealing persons' fields with keys of its own, on the database the test is parametrised with."""
    engine = (
        {"engine": make_engine(request.getfixturevalue("postgres_db_url"))} if request.param == "postgresql" else {}
    )
    settings = Settings.from_env("intake", {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_SEAL_PERSONAL_DATA": "true"})
    runtime = migrated_runtime(SPEC, settings, transport=EmbeddedTransport(settings.embedded_log), **engine)
    runtime.provision()
    yield create_app(runtime, testing=True, auth=auth_keys.settings("intake")).test_client(), runtime
    runtime.close()


def service(keys: AuthKeys, *roles: str, sub: str = "disclosure") -> dict[str, str]:
    return keys.headers(sub, DEPARTMENT_ID, list(roles))


def logged(runtime: Runtime) -> list[tuple[Any, ...]]:
    with runtime.engine.connect() as conn:
        assert access_log.verify(conn) == []
        return [(e.actor, e.roles, e.purpose, e.subject_ref, e.record_id) for e in access_log.entries(conn)]


def test_a_sealing_service_gets_the_subjects_one_live_key_and_each_call_is_logged(intake, auth_keys) -> None:
    client, runtime = intake
    sealer = service(auth_keys, "pd-seal", sub="intake-batch")
    # when a service with pd-seal asks twice for a subject's key
    first = client.post(KEYS, json={"subject_id": SUBJECT, "purpose": "record"}, headers=sealer)
    again = client.post(KEYS, json={"subject_id": SUBJECT, "purpose": "request"}, headers=sealer)
    # then it gets the same live key, made on the first call, with how long it may keep it
    assert first.status_code == again.status_code == 200, first.get_json()
    assert first.get_json() == again.get_json()
    body = first.get_json()
    assert body["subject_id"] == SUBJECT and body["expires_in"] == 300 and len(b64url_decode(body["key"])) == 32
    assert first.headers["Cache-Control"] == "no-store"
    # and both calls are in the access log: who, the subject's pseudonym, why, the key
    assert logged(runtime) == [
        ("intake-batch", "pd-seal", "sealSubjectKey:record", SUBJECT, body["kid"]),
        ("intake-batch", "pd-seal", "sealSubjectKey:request", SUBJECT, body["kid"]),
    ]


def test_an_opening_service_gets_the_key_that_opens_a_sealed_field_of_intakes_events(intake, auth_keys) -> None:
    client, runtime = intake
    officer = auth_keys.headers("officer-1", DEPARTMENT_ID, ["officer"])
    act = client.post("/v1/guidance", json=guidance_command(counterpart=PERSON), headers=officer).get_json()
    assert runtime.store is not None
    sealed = runtime.store.load(act["guidance_id"])[0].data["counterpart"]
    # when disclosure asks for the key its sealed ID number names
    kid = sealed["id_no"]["kid"]
    answer = client.get(f"{KEYS}/{kid}", query_string={"purpose": "scrub"}, headers=service(auth_keys, "pd-open"))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    # then the key opens it, and names the subject the event names
    key = DataKey(body["kid"], body["subject_id"], b64url_decode(body["key"]))
    context = FieldContext("GuidanceIssued", "counterpart.id_no")
    assert open_sealed(key, parse(sealed["id_no"]), context) == PERSON["id_no"]
    assert body["subject_id"] == sealed["subject_id"]
    assert logged(runtime)[-1] == ("disclosure", "pd-open", "openSubjectKey:scrub", sealed["subject_id"], kid)


def test_an_erased_key_is_gone_and_one_never_made_is_not_found_and_both_attempts_are_logged(intake, auth_keys) -> None:
    client, runtime = intake
    made = client.post(KEYS, json={"subject_id": SUBJECT, "purpose": "record"}, headers=service(auth_keys, "pd-seal"))
    kid = made.get_json()["kid"]
    store = runtime.deps.personal.key_store()
    assert store is not None and store.erase(SUBJECT) == 1
    opener = service(auth_keys, "pd-open")

    gone = client.get(f"{KEYS}/{kid}", query_string={"purpose": "scrub"}, headers=opener)
    assert gone.status_code == 410 and gone.get_json()["type"].endswith("/personal-data-erased"), gone.get_json()
    assert gone.mimetype == "application/problem+json" and "key" not in gone.get_json()
    for unknown in ("A" * 22, "not|an|id"):
        missing = client.get(f"{KEYS}/{unknown}", query_string={"purpose": "scrub"}, headers=opener)
        assert missing.status_code == 404 and missing.get_json()["type"].endswith("/not-found"), missing.get_json()
    assert logged(runtime)[1:] == [
        ("disclosure", "pd-open", "openSubjectKey:scrub:erased", SUBJECT, kid),
        ("disclosure", "pd-open", "openSubjectKey:scrub:unknown", None, "A" * 22),
        ("disclosure", "pd-open", "openSubjectKey:scrub:unknown", None, "not|an|id"),
    ]
    # and the subject, recorded again, gets a new key while the erased one stays erased
    renewed = client.post(
        KEYS, json={"subject_id": SUBJECT, "purpose": "record"}, headers=service(auth_keys, "pd-seal")
    ).get_json()
    assert renewed["kid"] != kid
    assert client.get(f"{KEYS}/{kid}", query_string={"purpose": "scrub"}, headers=opener).status_code == 410


def test_a_batch_hands_out_many_keys_at_once_each_logged_as_its_get_would_be(intake, auth_keys) -> None:
    client, runtime = intake
    sealer, opener = service(auth_keys, "pd-seal"), service(auth_keys, "pd-open")
    subjects = ["ab" * 32, "cd" * 32, "ef" * 32]
    kids = [
        client.post(KEYS, json={"subject_id": s, "purpose": "record"}, headers=sealer).get_json()["kid"]
        for s in subjects
    ]
    store = runtime.deps.personal.key_store()
    assert store is not None and store.erase(subjects[2]) == 1
    before = len(logged(runtime))

    # when disclosure asks for the keys of a batch of events at once (one asked twice, one never made)
    asked = [kids[0], kids[1], kids[2], "A" * 22, kids[0]]
    answer = client.post(f"{KEYS}/batch", json={"kids": asked, "purpose": "scrub"}, headers=opener)

    # then it gets each live key as GET gives it, and is told which are erased and which were never made
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert [(k["kid"], k["subject_id"]) for k in body["keys"]] == list(zip(kids[:2], subjects[:2], strict=True))
    assert (body["erased"], body["unknown"]) == ([kids[2]], ["A" * 22])
    assert logged(runtime)[before:] == [
        ("disclosure", "pd-open", "openSubjectKey:scrub", subjects[0], kids[0]),
        ("disclosure", "pd-open", "openSubjectKey:scrub", subjects[1], kids[1]),
        ("disclosure", "pd-open", "openSubjectKey:scrub:erased", subjects[2], kids[2]),
        ("disclosure", "pd-open", "openSubjectKey:scrub:unknown", None, "A" * 22),
    ]
    for key in body["keys"]:
        assert client.get(f"{KEYS}/{key['kid']}", query_string={"purpose": "scrub"}, headers=opener).get_json() == key


@pytest.mark.parametrize(
    ("roles", "body", "status"),
    [
        (["pd-seal"], {"kids": ["A" * 22], "purpose": "scrub"}, 403),
        (["admin"], {"kids": ["A" * 22], "purpose": "scrub"}, 403),
        (["pd-open"], {"kids": [], "purpose": "scrub"}, 422),
        (["pd-open"], {"kids": ["A" * 22] * 501, "purpose": "scrub"}, 422),
        (["pd-open"], {"kids": ["not|an|id"], "purpose": "scrub"}, 422),
        (["pd-open"], {"kids": ["A" * 22]}, 422),
    ],
    ids=["pd-seal", "admin", "no kids", "too many", "not a key id", "no purpose"],
)
def test_a_batch_needs_pd_open_a_purpose_and_one_to_500_key_ids(intake, auth_keys, roles, body, status) -> None:
    client, runtime = intake
    refused = client.post(f"{KEYS}/batch", json=body, headers=service(auth_keys, *roles))
    assert refused.status_code == status, refused.get_json()
    assert "keys" not in refused.get_json() and logged(runtime) == []


# -- who may call: the roles matrix ---------------------------------------------------------------------
PERSONS_ROLES = ["officer", "reviewer", "supervisor", "auditor", "admin", "archivist"]


@pytest.mark.parametrize(
    ("roles", "seal", "open_"),
    [
        (["pd-seal"], 200, 403),
        (["pd-open"], 403, 200),
        (["pd-seal", "pd-open"], 200, 200),
        *[([role], 403, 403) for role in PERSONS_ROLES],
        (PERSONS_ROLES, 403, 403),
        ([], 403, 403),
    ],
    ids=lambda v: ",".join(v) if isinstance(v, list) else str(v),
)
def test_only_the_service_roles_may_have_keys(intake, auth_keys, roles: list[str], seal: int, open_: int) -> None:
    client, runtime = intake
    made = client.post(KEYS, json={"subject_id": SUBJECT, "purpose": "record"}, headers=service(auth_keys, "pd-seal"))
    kid = made.get_json()["kid"]
    before = len(logged(runtime))
    headers = service(auth_keys, *roles)
    sealing = client.post(KEYS, json={"subject_id": SUBJECT, "purpose": "record"}, headers=headers)
    opening = client.get(f"{KEYS}/{kid}", query_string={"purpose": "scrub"}, headers=headers)
    assert (sealing.status_code, opening.status_code) == (seal, open_)
    for refused in (r for r in (sealing, opening) if r.status_code == 403):
        assert refused.get_json()["type"].endswith("/forbidden-role") and "key" not in refused.get_json()
    # only the calls that were let in are logged
    assert len(logged(runtime)) - before == [seal, open_].count(200)


def test_without_a_token_nothing_is_answered(intake) -> None:
    client, runtime = intake
    assert client.post(KEYS, json={"subject_id": SUBJECT, "purpose": "record"}).status_code == 401
    assert client.get(f"{KEYS}/{'A' * 22}", query_string={"purpose": "scrub"}).status_code == 401
    assert logged(runtime) == []


# -- the purpose and the body are validated, and documented -------------------------------------------
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject_id": SUBJECT}, "purpose"),
        ({"subject_id": SUBJECT, "purpose": "curiosity"}, "purpose"),
        ({"purpose": "record"}, "subject_id"),
        ({"subject_id": "11010519491231002X", "purpose": "record"}, "subject_id"),
        ({"subject_id": SUBJECT, "purpose": "record", "kid": "x"}, "kid"),
    ],
    ids=["no purpose", "unknown purpose", "no subject", "a clear ID number", "unknown member"],
)
def test_a_seal_request_without_a_valid_purpose_or_subject_is_refused_naming_the_field(
    intake, auth_keys, body: dict[str, Any], field: str
) -> None:
    client, runtime = intake
    refused = client.post(KEYS, json=body, headers=service(auth_keys, "pd-seal"))
    assert refused.status_code == 422, refused.get_json()
    assert field in {e["field"] for e in refused.get_json()["errors"]}
    assert logged(runtime) == []


@pytest.mark.parametrize("query", [{}, {"purpose": "curiosity"}], ids=["no purpose", "unknown purpose"])
def test_an_open_request_without_a_valid_purpose_is_refused_naming_it(intake, auth_keys, query) -> None:
    client, runtime = intake
    refused = client.get(f"{KEYS}/{'A' * 22}", query_string=query, headers=service(auth_keys, "pd-open"))
    assert refused.status_code == 422, refused.get_json()
    assert "purpose" in {e["field"] for e in refused.get_json()["errors"]}
    assert logged(runtime) == []


def test_the_openapi_document_shows_the_purposes_the_server_accepts(intake) -> None:
    client, _ = intake
    document = client.get("/openapi.json").get_json()
    seal = document["paths"][KEYS]["post"]
    body = seal["requestBody"]["content"]["application/json"]["schema"]
    schemas = document["components"]["schemas"]
    request = schemas[body["$ref"].rsplit("/", 1)[1]]
    assert request["properties"]["purpose"]["enum"] == ["scrub", "request", "record"]
    assert request["additionalProperties"] is False and set(request["required"]) == {"subject_id", "purpose"}
    [purpose] = [p for p in document["paths"][KEYS + "/{kid}"]["get"]["parameters"] if p["name"] == "purpose"]
    assert (
        purpose["in"] == "query" and purpose["required"] and purpose["schema"]["enum"] == ["scrub", "request", "record"]
    )
    assert {"404", "410"} <= set(document["paths"][KEYS + "/{kid}"]["get"]["responses"])


def test_a_call_that_cannot_be_logged_hands_out_no_key(intake, auth_keys) -> None:
    client, runtime = intake
    with runtime.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE pd_access_log")
    refused = client.post(
        KEYS, json={"subject_id": SUBJECT, "purpose": "record"}, headers=service(auth_keys, "pd-seal")
    )
    assert refused.status_code == 503 and refused.get_json()["type"].endswith("/access-not-recorded")
    assert "key" not in refused.get_json()
