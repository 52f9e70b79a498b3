"""Reads of a natural person's record are in the access log, exactly those, before the data leaves."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime
from tests.support.services import guidance_command

from guidance_intake.bootstrap import SPEC, create_app
from guidance_shared import access_log
from guidance_shared.events.examples import DEPARTMENT_ID, PERSON
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
    assert entries(runtime) == []  # issuing is not a read

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
