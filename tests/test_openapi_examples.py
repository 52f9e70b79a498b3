"""Every operation's examples exist and are what its own schemas accept, and every 201 says where its record is.

A generator shows the examples as documentation and a tester (schemathesis' explicit phase) sends the request
examples, so an example the schema refuses misleads both. The examples are computed from the schemas and the
event catalogue (``guidance_shared.web.openapi.complete_document``); this walks each service's served document
and validates every example against the schema beside it. Then every create is made with its own documented
example, and the ``Location`` it answers reads the record back.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from guidance_shared.events.examples import DEPARTMENT_ID, PERSON
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime
from tests.support.services import guidance_command

SERVICES = ("intake", "revisit", "disclosure", "assessment")
METHODS = ("get", "put", "post", "patch", "delete")
JSON = ("application/json", "application/problem+json")
ROLES = ["officer", "reviewer", "supervisor", "auditor", "admin"]


@pytest.fixture(scope="module", params=SERVICES)
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """A service's app (test client, auth keys) and its served OpenAPI document."""
    name: str = request.param
    tmp: Path = tmp_path_factory.mktemp(f"examples-{name}")
    keys = AuthKeys.create(tmp / "auth")
    bootstrap = importlib.import_module(f"guidance_{name}.bootstrap")
    # intake seals persons' fields, so that its erasure of the example person has a key to delete
    sealing = {"GUIDANCE_SEAL_PERSONAL_DATA": "true"} if name == "intake" else {}
    settings = Settings.from_env(name, {"GUIDANCE_VAR_DIR": str(tmp), **sealing})
    runtime = migrated_runtime(bootstrap.SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    runtime.provision()
    client = bootstrap.create_app(runtime, testing=True, auth=keys.settings()).test_client()
    yield name, (client, keys, client.get("/openapi.json").get_json())
    runtime.close()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def json_media(content: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for media, body in content.items():
        if media in JSON:
            yield media, body


def check(where: str, media: dict[str, Any], components: dict[str, Any], problems: list[str]) -> None:
    if "example" not in media:
        problems.append(f"{where}: no example")
        return
    validator = Draft202012Validator({**media["schema"], "components": components}, format_checker=FormatChecker())
    problems.extend(f"{where}: {error.json_path}: {error.message}" for error in validator.iter_errors(media["example"]))


def test_every_operation_has_examples_its_schemas_accept(service) -> None:
    name, (_, _, document) = service
    components = document["components"]
    problems: list[str] = []
    requests = answers = 0
    for path, method, operation in operations(document):
        label = f"{name} {method.upper()} {path}"
        for media, body in json_media(operation.get("requestBody", {}).get("content", {})):
            check(f"{label} request {media}", body, components, problems)
            requests += 1
        for code, response in operation["responses"].items():
            if "$ref" in response:
                assert response["$ref"].startswith("#/components/responses/"), label
                continue
            for media, body in json_media(response.get("content", {})):
                check(f"{label} {code} {media}", body, components, problems)
                answers += code.startswith("2")
    for response_name, response in components.get("responses", {}).items():
        for media, body in json_media(response.get("content", {})):
            check(f"{name} components.responses.{response_name} {media}", body, components, problems)
    assert problems == [], "\n".join(problems)
    assert answers > 0
    assert requests > 0 or name == "revisit" or name == "assessment"  # each service takes JSON somewhere
    # The refusals a client meets most often read in both languages, and a 422 names the field it refuses.
    refused = components["responses"]["UNPROCESSABLE_ENTITY"]["content"]["application/problem+json"]["example"]
    assert refused["status"] == 422 and refused["title"] and refused["title_zh"] and refused["detail_zh"]
    assert refused["errors"][0]["field"] and refused["errors"][0]["message_zh"]


def test_request_examples_are_the_catalogue_s_story(service) -> None:
    """Examples come from the event catalogue where a request is an event's data: one county, one story."""
    name, (_, _, document) = service
    bodies = [
        body["example"]
        for _, method, operation in operations(document)
        if method in ("post", "put")
        for _, body in json_media(operation.get("requestBody", {}).get("content", {}))
    ]
    assert bodies, name
    assert all(isinstance(body, dict) and body for body in bodies), name
    departments = [body["department_id"] for body in bodies if "department_id" in body]
    assert set(departments) <= {DEPARTMENT_ID}


def test_every_201_documents_and_answers_a_location_that_reads_the_record_back(service) -> None:
    name, (client, keys, document) = service
    headers = keys.headers("examples", DEPARTMENT_ID, ROLES)
    path_values = {"department_id": DEPARTMENT_ID}
    creates = [
        (path, operation)
        for path, method, operation in operations(document)
        if method == "post" and "201" in operation["responses"]
    ]
    for path, operation in creates:
        assert "Location" in operation["responses"]["201"].get("headers", {}), f"{name} POST {path}"
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example")
        url = path.format(**path_values)
        if path == "/v1/personal-data/erasures":  # an erasure needs a person intake holds sealed data of
            about = client.post("/v1/guidance", json=guidance_command(counterpart=PERSON), headers=headers)
            assert about.status_code == 201, about.get_json()
        answer = client.post(url, json=body, headers=headers) if body is not None else client.post(url, headers=headers)
        assert answer.status_code == 201, (name, path, answer.get_json())
        location = answer.headers.get("Location")
        assert location and location.startswith("/"), (name, path, location)
        read = client.get(location, headers=headers)
        assert read.status_code == 200, (name, path, location, read.get_json())
        made = answer.get_json()
        if isinstance(made, dict) and "year" in made:  # what later paths of the same record name
            path_values["year"] = made["year"]
    if name in ("intake", "disclosure", "assessment"):
        assert creates, name
