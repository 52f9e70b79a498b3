"""Problem bodies match the Problem schema each service documents, and 401s carry their challenge.

A schema-driven client validates error bodies against the OpenAPI document; every kind of refusal a
client can cause is collected from a real app and checked against that schema (extension members
such as ``reason`` included), and the documented 401 names the ``WWW-Authenticate`` header it sends."""

from __future__ import annotations

import importlib
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from guidance_shared.version import suite_version
from tests.support.auth import AuthKeys
from tests.support.services import guidance_command

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, AuthKeys]]:
    tmp: Path = tmp_path_factory.mktemp("problems")
    keys = AuthKeys.create(tmp / "auth")
    bootstrap = importlib.import_module("guidance_intake.bootstrap")
    settings = Settings.from_env("intake", {"GUIDANCE_VAR_DIR": str(tmp)})
    runtime = Runtime(bootstrap.SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    yield bootstrap.create_app(runtime, testing=True, auth=keys.settings()).test_client(), keys
    runtime.close()


def test_every_refusal_matches_the_documented_problem_schema(intake) -> None:
    client, keys = intake
    spec = client.get("/openapi.json").get_json()
    problem = Draft202012Validator({"$ref": "#/components/schemas/Problem", "components": spec["components"]})
    officer = keys.headers("p", DEPARTMENT_ID, ["officer"])
    auditor = keys.headers("p", DEPARTMENT_ID, ["auditor"])
    refusals = {
        "401 no token": client.post("/v1/guidance", json={}),
        "401 malformed token": client.post("/v1/guidance", json={}, headers={"Authorization": "Bearer x"}),
        "403 role": client.post("/v1/guidance", json={}, headers=auditor),
        "404 record": client.get(f"/v1/guidance/{uuid.uuid4()}", headers=officer),
        "404 path": client.get("/nowhere", headers=officer),
        "405 method": client.delete("/v1/guidance", headers=officer),
        "400 too deep": client.post(
            "/v1/guidance", data=b"[" * 50 + b"]" * 50, headers={**officer, "Content-Type": "application/json"}
        ),
        "415 media type": client.post("/v1/guidance", data=b"x=1", headers={**officer, "Content-Type": "text/plain"}),
        "422 fields": client.post("/v1/guidance", json={"matter": 1}, headers=officer),
    }
    for name, response in refusals.items():
        assert response.status_code == int(name[:3]), (name, response.status_code)
        assert response.mimetype == "application/problem+json", name
        body = response.get_json()
        assert [e.message for e in problem.iter_errors(body)] == [], (name, body)
        assert body["status"] == response.status_code and body["type"].startswith("https://"), name
    assert refusals["401 no token"].get_json()["reason"] == "missing-token"
    assert refusals["403 role"].get_json()["required_roles"]
    assert refusals["405 method"].headers["Allow"]


def test_401_is_documented_and_sent_with_its_bearer_challenge(intake) -> None:
    client, _ = intake
    spec = client.get("/openapi.json").get_json()
    assert "WWW-Authenticate" in spec["components"]["responses"]["UNAUTHORIZED"]["headers"]
    operation = spec["paths"]["/v1/guidance"]["post"]
    assert operation["responses"]["401"] == {"$ref": "#/components/responses/UNAUTHORIZED"}
    no_token = client.post("/v1/guidance", json={})
    assert no_token.headers["WWW-Authenticate"] == 'Bearer realm="guidance"'  # RFC 6750 §3.1: no error code
    bad = client.post("/v1/guidance", json={}, headers={"Authorization": "Bearer x"})
    challenge = bad.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="guidance", error="invalid_token", error_description="')


def test_a_deployment_may_require_if_match_and_the_spec_says_so(tmp_path: Path) -> None:
    """``GUIDANCE_REQUIRE_IF_MATCH``: a change without If-Match is a 428; with a stale one, 412; with the
    current one, done. Every operation that takes If-Match documents it with its 409, 412 and 428."""
    keys = AuthKeys.create(tmp_path / "auth")
    bootstrap = importlib.import_module("guidance_intake.bootstrap")
    settings = Settings.from_env("intake", {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_REQUIRE_IF_MATCH": "true"})
    runtime = Runtime(bootstrap.SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    try:
        client = bootstrap.create_app(runtime, testing=True, auth=keys.settings()).test_client()
        officer = keys.headers("p", DEPARTMENT_ID, ["officer"])
        issued = client.post("/v1/guidance", json=guidance_command(), headers=officer)
        assert issued.status_code == 201, issued.get_json()
        path = f"/v1/guidance/{issued.get_json()['guidance_id']}/response"
        body = {"response": "accepted"}

        missing = client.post(path, json=body, headers=officer)
        assert (missing.status_code, missing.get_json()["type"].rsplit("/", 1)[1]) == (428, "precondition-required")
        stale = client.post(path, json=body, headers={**officer, "If-Match": '"5"'})
        assert (stale.status_code, stale.get_json()["current_version"]) == (412, 1)
        done = client.post(path, json=body, headers={**officer, "If-Match": issued.headers["ETag"]})
        assert done.status_code == 200 and done.headers["ETag"] == '"2"'

        spec = client.get("/openapi.json").get_json()
        operation = spec["paths"]["/v1/guidance/{guidance_id}/response"]["post"]
        assert any(p["name"] == "If-Match" and p["in"] == "header" for p in operation["parameters"])
        assert {"409", "412", "428"} <= set(operation["responses"])
    finally:
        runtime.close()


def test_every_contract_says_the_one_version_of_the_suite(tmp_path: Path) -> None:
    """Each service's OpenAPI and the AsyncAPI carry the packages' version, and the packages agree."""
    declared = {
        path.parent.name: tomllib.loads(path.read_text(encoding="utf-8"))["project"]["version"]
        for path in (ROOT / "services").glob("*/pyproject.toml")
    } | {
        "shared": tomllib.loads((ROOT / "shared" / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    }
    [suite] = set(declared.values())
    assert suite_version() == suite
    for service in ("intake", "revisit", "disclosure", "assessment"):
        bootstrap = importlib.import_module(f"guidance_{service}.bootstrap")
        settings = Settings.from_env(service, {"GUIDANCE_VAR_DIR": str(tmp_path / service)})
        runtime = Runtime(bootstrap.SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
        try:
            client = bootstrap.create_app(runtime, testing=True).test_client()
            assert client.get("/openapi.json").get_json()["info"]["version"] == suite, service
            assert client.get("/asyncapi.json").get_json()["info"]["version"] == suite, service
        finally:
            runtime.close()
