"""The thin vertical slice, in one process: intake POST → outbox → relay → log → disclosure → public GET."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from guidance_disclosure.bootstrap import SPEC as DISCLOSURE
from guidance_disclosure.bootstrap import create_app as create_disclosure
from guidance_intake.adapters.personal_fields import LOCAL_KEYS_DIR, LOCAL_PSEUDONYM_FILE
from guidance_intake.bootstrap import SPEC as INTAKE
from guidance_intake.bootstrap import create_app as create_intake
from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.auth import AuthKeys
from tests.support.intake_keys import opening_env, serving
from tests.support.schema import migrated_runtime
from tests.support.services import guidance_command


@pytest.fixture
def officer(auth_keys: AuthKeys) -> dict[str, str]:
    return auth_keys.headers("officer-1", DEPARTMENT_ID, ["officer"])


@pytest.fixture
def transport(tmp_path: Path) -> Iterator[EmbeddedTransport]:
    log = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    yield log
    log.close()


@pytest.fixture
def intake(tmp_path: Path, transport: EmbeddedTransport) -> Iterator[Runtime]:
    runtime = migrated_runtime(
        INTAKE, Settings.from_env("intake", {"GUIDANCE_VAR_DIR": str(tmp_path)}), transport=transport
    )
    runtime.provision()
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def intake_app(intake: Runtime, auth_keys: AuthKeys) -> Iterator[tuple[Flask, str]]:
    """intake's one app (it registers its metrics in the runtime's registry), its key API served over HTTP."""
    app = create_intake(intake, testing=True, auth=auth_keys.settings())
    with serving(app) as server:
        yield app, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def intake_client(intake_app: tuple[Flask, str]):
    return intake_app[0].test_client()


@pytest.fixture
def suite(
    tmp_path: Path, transport: EmbeddedTransport, intake: Runtime, intake_app: tuple[Flask, str], auth_keys: AuthKeys
):
    """intake as shipped (it seals persons' fields with the keys an embedded install makes) and a disclosure that
    opens them through intake's key API, as run-suite gives it; both on one embedded log."""
    env = {"GUIDANCE_VAR_DIR": str(tmp_path), **opening_env(intake_app[1], auth_keys)}
    # the pseudonym key intake made for itself, which disclosure shares (as run-suite gives it)
    del env["GUIDANCE_PSEUDONYM_KEY"]
    env["GUIDANCE_PSEUDONYM_KEY_FILE"] = str(tmp_path / LOCAL_KEYS_DIR / LOCAL_PSEUDONYM_FILE)
    disclosure = migrated_runtime(DISCLOSURE, Settings.from_env("disclosure", env), transport=transport)
    yield intake, disclosure
    disclosure.engine.dispose()


def test_a_guidance_act_travels_from_intake_to_the_public_page(suite, intake_client, officer) -> None:
    intake, disclosure = suite
    client = intake_client
    created = client.post("/v1/guidance", json=guidance_command(), headers={**officer, "Idempotency-Key": "k-1"})
    assert created.status_code == 201, created.get_json()
    guidance_id = created.get_json()["guidance_id"]
    assert created.headers["Location"].endswith(guidance_id)

    assert intake.relay().drain() == 1
    assert disclosure.runner().drain() == 1

    public = create_disclosure(disclosure, testing=True).test_client()
    page = public.get(f"/public/v1/guidance/{guidance_id}")
    assert page.status_code == 200
    body = page.get_json()
    assert body["matter"] == guidance_command()["matter"]
    assert body["counterpart_name"] == guidance_command()["counterpart"]["name"]  # an enterprise: shown


def test_a_natural_persons_data_never_reaches_the_public_item(suite, intake_client, officer) -> None:
    from guidance_shared.events.examples import PERSON

    intake, disclosure = suite
    client = intake_client
    created = client.post("/v1/guidance", json=guidance_command(counterpart=PERSON), headers=officer)
    assert created.status_code == 201, created.get_json()
    intake.relay().drain()
    disclosure.runner().drain()
    body = (
        create_disclosure(disclosure, testing=True)
        .test_client()
        .get(f"/public/v1/guidance/{created.get_json()['guidance_id']}")
        .get_data(as_text=True)
    )
    for secret in (PERSON["id_no"], PERSON["contact"], PERSON["address"], PERSON["name"]):
        assert secret not in body
    assert "张*" in body


def test_invalid_guidance_is_a_bilingual_problem_naming_the_field(suite, intake_client, officer) -> None:
    _intake, _ = suite
    client = intake_client
    response = client.post(
        "/v1/guidance", json=guidance_command(legal_basis=[], content_type="penalty"), headers=officer
    )
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"legal_basis", "content_type"} <= fields
    assert all(e["message_zh"] for e in response.get_json()["errors"])


def test_a_retried_post_with_the_same_key_issues_one_act(suite, intake_client, officer) -> None:
    intake, _ = suite
    client = intake_client
    first = client.post("/v1/guidance", json=guidance_command(), headers={**officer, "Idempotency-Key": "same"})
    again = client.post("/v1/guidance", json=guidance_command(), headers={**officer, "Idempotency-Key": "same"})
    assert first.get_json() == again.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert intake.relay().drain() == 1


def test_a_response_is_recorded_once_and_a_stale_version_is_a_conflict(suite, intake_client, officer) -> None:
    _intake, _ = suite
    client = intake_client
    guidance_id = client.post("/v1/guidance", json=guidance_command(), headers=officer).get_json()["guidance_id"]
    stale = client.post(
        f"/v1/guidance/{guidance_id}/response", json={"response": "declined"}, headers={**officer, "If-Match": '"0"'}
    )
    assert stale.status_code == 412 and stale.get_json()["current_version"] == 1
    ok = client.post(
        f"/v1/guidance/{guidance_id}/response",
        json={"response": "declined", "statement": "不同意"},
        headers={**officer, "If-Match": '"1"'},
    )
    assert ok.status_code == 200 and ok.get_json()["status"] == "responded" and ok.headers["ETag"] == '"2"'
    again = client.post(f"/v1/guidance/{guidance_id}/response", json={"response": "accepted"}, headers=officer)
    assert again.status_code == 409
    bad = client.post(f"/v1/guidance/{guidance_id}/response", json={"response": "maybe"}, headers=officer)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "response"


def test_every_service_publishes_the_event_contracts(suite, intake_client, officer) -> None:
    _intake, _ = suite
    client = intake_client
    schema = client.get("/schemas/events/guidance.GuidanceIssued.v1.json")
    assert schema.status_code == 200 and schema.mimetype == "application/schema+json"
    # the URI written into ce_dataschema, by default this process's own address (intake's port)
    assert schema.get_json()["$id"] == "http://127.0.0.1:8001/schemas/events/guidance.GuidanceIssued.v1"
    assert client.get("/schemas/events/guidance.GuidanceIssued.v1").get_json() == schema.get_json()
    assert client.get("/schemas/events/guidance.Nope.v1.json").status_code == 404
    asyncapi = client.get("/asyncapi.json").get_json()
    assert asyncapi["asyncapi"].startswith("3.")


def test_web_metrics_show_the_outbox_backlog_and_the_projection_lag(suite, intake_client, officer) -> None:
    intake, disclosure = suite
    client = intake_client
    client.post("/v1/guidance", json=guidance_command(), headers=officer)
    assert "guidance_outbox_unpublished 1.0" in client.get("/metrics").get_data(as_text=True)
    intake.relay().drain()
    public = create_disclosure(disclosure, testing=True).test_client()
    lag_lines = [
        line
        for line in public.get("/metrics").get_data(as_text=True).splitlines()
        if line.startswith("guidance_projection_lag{")
    ]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in lag_lines) == 1.0
    disclosure.runner().drain()
    lag_lines = [
        line
        for line in public.get("/metrics").get_data(as_text=True).splitlines()
        if line.startswith("guidance_projection_lag{")
    ]
    assert lag_lines and sum(float(line.rsplit(" ", 1)[1]) for line in lag_lines) == 0.0
