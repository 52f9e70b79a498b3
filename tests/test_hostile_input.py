"""Hostile input against every write endpoint of every service: never a 5xx, and the right problem.

Each service's operations are read from its own /openapi.json; every POST, PUT, PATCH and DELETE gets
each body below, with a token holding every role (so the request reaches the body's parsing), at
paths whose ids are random (parsing comes before any lookup). Then the length limits: for every
plain string field of a request schema with a ``maxLength``, a body with that field at its limit
draws no complaint about it, and one character more is a 422 naming it.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from guidance_shared.web.json_input import MAX_DEPTH, MAX_NUMBER_CHARS
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime

SERVICES = ("intake", "revisit", "disclosure", "assessment")
WRITES = ("post", "put", "patch", "delete")
ROLES = ["officer", "reviewer", "supervisor", "auditor", "admin", "pd-seal", "pd-open"]  # every write endpoint
JSON = "application/json"

#: name -> (raw body, content type, the statuses it may get, the problem code or the field it must name)
HOSTILE: dict[str, tuple[bytes, str, set[int], str | None]] = {
    "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, JSON, {400}, "json-too-deep"),
    "nested one past the limit": (
        b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1),
        JSON,
        {400},
        "json-too-deep",
    ),
    "an integer of 5,000 digits": (b'{"n": 1' + b"0" * 5000 + b"}", JSON, {400}, "json-number-too-long"),
    "a float one past the length limit": (
        b'{"n": 0.' + b"1" * MAX_NUMBER_CHARS + b"}",
        JSON,
        {400},
        "json-number-too-long",
    ),
    "NaN": (b'{"n": NaN}', JSON, {400}, "malformed-json"),
    "a lone surrogate": (b'{"matter": "\\ud800 text"}', JSON, {422}, "matter"),
    "a lone surrogate in a key": (b'{"\\udfff": 1}', JSON, {422}, "\\udfff"),
    "NUL in text": (b'{"note": "a\\u0000b"}', JSON, {422}, "note"),
    "a raw NUL byte": (b'{"note": "a\x00b"}', JSON, {400}, "malformed-json"),
    "duplicate keys": (b'{"a": 1, "a": 2}', JSON, {400}, "malformed-json"),
    "not UTF-8 (GBK)": ('{"matter": "提醒"}'.encode("gbk"), JSON, {400}, "malformed-json"),
    "UTF-8 and Latin-1 mixed": (b'{"matter": "\xe6\x8f\x90 caf\xe9"}', JSON, {400}, "malformed-json"),
    "a byte order mark before an empty object": (b"\xef\xbb\xbf{}", JSON, {400, 404, 409, 412, 415, 422, 428}, None),
    "truncated": (b'{"matter": "', JSON, {400}, "malformed-json"),
    "not JSON at all": (b"\x00\x01\x02", JSON, {400}, "malformed-json"),
    "a JSON string instead of an object": (b'"just text"', JSON, {400, 404, 409, 412, 415, 422, 428}, None),
    "a form where JSON is expected": (b"a=1", "application/x-www-form-urlencoded", {400, 404, 415, 422}, None),
}
SERVER_SIDE = {"department_id", "department_name", "department_uscc"}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Flask, dict[str, str]]]]:
    tmp: Path = tmp_path_factory.mktemp("hostile")
    keys = AuthKeys.create(tmp / "auth")
    built: dict[str, tuple[Flask, dict[str, str]]] = {}
    runtimes = []
    for service in SERVICES:
        bootstrap = importlib.import_module(f"guidance_{service}.bootstrap")
        settings = Settings.from_env(service, {"GUIDANCE_VAR_DIR": str(tmp / service)})
        runtime = migrated_runtime(bootstrap.SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
        runtimes.append(runtime)
        app = bootstrap.create_app(runtime, testing=True, auth=keys.settings())
        built[service] = (app, keys.headers("hostile", DEPARTMENT_ID, ROLES))
    yield built
    for runtime in runtimes:
        runtime.close()


def write_operations(app: Flask) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.test_client().get("/openapi.json").get_json()
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in WRITES:
                concrete = re.sub(r"\{(\w*year\w*)\}", "2025", path)
                concrete = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), concrete)
                found.append((method, concrete, operation))
    assert found, "no write operations found"
    return found


def problem_names(body: dict[str, Any], expected: str) -> bool:
    fields = [error.get("field") for error in body.get("errors", [])]
    return body.get("type", "").endswith("/" + expected) or expected in fields


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("case", HOSTILE)
def test_every_write_endpoint_answers_hostile_bodies_with_a_problem(apps, service: str, case: str) -> None:
    app, headers = apps[service]
    body, content_type, allowed, names = HOSTILE[case]
    client = app.test_client()
    wrong = []
    for method, path, operation in write_operations(app):
        takes_json = JSON in operation.get("requestBody", {}).get("content", {})
        # With an Idempotency-Key, so the body is also read where the key's fingerprint is taken.
        sent = {**headers, "Content-Type": content_type, "Idempotency-Key": str(uuid.uuid4())}
        response = client.open(path, method=method.upper(), data=body, headers=sent)
        problem = response.get_json(silent=True) or {}
        if not takes_json:  # a body the operation does not take is never parsed as its input
            ok = response.status_code < 500
        else:
            ok = response.status_code in allowed and response.mimetype == "application/problem+json"
            if ok and names is not None:
                ok = problem_names(problem, names)
        if not ok:
            wrong.append((method, path, response.status_code, problem.get("type"), problem.get("errors")))
    assert wrong == [], wrong


@pytest.mark.parametrize("service", SERVICES)
def test_oversized_and_strange_headers_never_cause_a_server_error(apps, service: str) -> None:
    app, headers = apps[service]
    client = app.test_client()
    strange = {
        "X-Correlation-Id": "x" * 65_536,
        "Idempotency-Key": "k" * 10_000,
        "If-Match": '"' + "9" * 5000 + '"',
        "Accept-Language": "zh-CN;q=" + "9" * 1000,
    }
    for method, path, _ in write_operations(app):
        for name, value in strange.items():
            response = client.open(path, method=method.upper(), json={}, headers={**headers, name: value})
            assert response.status_code < 500, (method, path, name, response.status_code)
    huge_token = {"Authorization": "Bearer " + "a" * 100_000}
    for method, path, _ in write_operations(app):
        assert client.open(path, method=method.upper(), json={}, headers=huge_token).status_code == 401


def string_limits(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, int]:
    """Top-level plain string fields of the JSON request body with a maxLength (no pattern, format or enum)."""
    content = operation.get("requestBody", {}).get("content", {}).get(JSON)
    if not content:
        return {}
    schema = content["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    limits = {}
    for name, prop in schema.get("properties", {}).items():
        types = prop.get("type")
        plain = types == "string" or (isinstance(types, list) and "string" in types)
        if plain and "maxLength" in prop and not {"pattern", "format", "enum"} & set(prop) and name not in SERVER_SIDE:
            limits[name] = int(prop["maxLength"])
    return limits


@pytest.mark.parametrize("service", SERVICES)
def test_every_string_field_at_its_length_limit_and_one_past_it(apps, service: str) -> None:
    app, headers = apps[service]
    client = app.test_client()
    spec = client.get("/openapi.json").get_json()
    checked, wrong = 0, []
    for method, path, operation in write_operations(app):
        for name, limit in string_limits(spec, operation).items():
            for length, must_name in ((limit, False), (limit + 1, True)):
                response = client.open(path, method=method.upper(), json={name: "字" * length}, headers=headers)
                fields = [e.get("field") for e in (response.get_json(silent=True) or {}).get("errors", [])]
                named = name in fields
                if response.status_code >= 500 or named != must_name or (must_name and response.status_code != 422):
                    wrong.append((method, path, name, length, response.status_code, fields))
            checked += 1
    assert wrong == [], wrong
    assert checked > 0, f"{service}: no string field with a length limit in any request schema"


def test_import_cells_that_are_not_text_are_refused_naming_the_cell(apps) -> None:
    """The same rule for a spreadsheet's cells: a NUL cell is refused with a 422 naming its row and column."""
    app, headers = apps["intake"]
    client = app.test_client()
    csv_headers = {**headers, "Content-Type": "text/csv"}
    nul = client.post("/v1/guidance/import", data='事项,内容\n"a\x00b",x\n'.encode(), headers=csv_headers)
    assert nul.status_code == 422, nul.get_json()
    problem = nul.get_json()
    assert problem["errors"][0]["field"] == "file" and "Row 2, column 事项" in problem["detail"]
    for strange in (b"\xff\xfe\x00\x00garbage", b"PK\x03\x04not a zip", "事项\n".encode("utf-16"), b"\x00" * 64):
        response = client.post("/v1/guidance/import", data=strange, headers=csv_headers)
        assert 400 <= response.status_code < 500, (strange, response.status_code)
