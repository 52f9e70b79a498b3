"""The OpenAPI says what the server refuses in a request body: a member the schema does not define, at any depth.

Every service refuses such a member with a 422 naming its path (``guidance_shared.web.strict``), so every object
schema a JSON request body reaches says ``additionalProperties: false`` (``openapi.close_request_bodies``), while
what the answers and the other parts of the document refer to stays as the marshmallow schemas describe it:
the event contracts' objects stay open there, since consumers and clients tolerate a field added later. Then
the claim is held to the server: each documented request example, with an unknown member added in each of its
objects in turn, is a 422 naming that member's path.
"""

from __future__ import annotations

import copy
import importlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from guidance_shared.web.openapi import catalogue_samples, close_request_bodies, example_of
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime

SERVICES = ("intake", "revisit", "disclosure", "assessment")
METHODS = ("get", "put", "post", "patch", "delete")
JSON = "application/json"
SCHEMAS = "#/components/schemas/"
ROLES = ["officer", "reviewer", "supervisor", "auditor", "admin", "archivist", "pd-seal", "pd-open"]
#: Free-form maps a request body may carry (a marshmallow ``Dict``: keys of the caller's choosing), by service,
#: as "<schema>.<property>": the only object schemas of a request body allowed to stay open. None today; a map
#: added to a request belongs here, with the reason its keys cannot be listed.
FREE_FORM: dict[str, set[str]] = {service: set() for service in SERVICES}
#: A member no schema defines.
UNKNOWN = "zz_not_in_the_api"


@pytest.fixture(scope="module", params=SERVICES)
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """A service's app, a token with every role, its served OpenAPI document and the document before completion."""
    name: str = request.param
    tmp: Path = tmp_path_factory.mktemp(f"bodies-{name}")
    keys = AuthKeys.create(tmp / "auth")
    bootstrap = importlib.import_module(f"guidance_{name}.bootstrap")
    settings = Settings.from_env(name, {"GUIDANCE_VAR_DIR": str(tmp)})
    runtime = migrated_runtime(bootstrap.SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    runtime.provision()
    app = bootstrap.create_app(runtime, testing=True, auth=keys.settings())
    client = app.test_client()
    served = client.get("/openapi.json").get_json()
    [api] = [entry["ext_obj"] for entry in app.extensions["flask-smorest"]["apis"].values()]
    yield name, (client, keys.headers("bodies", DEPARTMENT_ID, ROLES), served, api.spec.to_dict())
    runtime.close()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS and isinstance(operation, dict):
                yield path, method, operation


def json_bodies(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Each operation's JSON request body: its path, method and media object."""
    for path, method, operation in operations(document):
        media = operation.get("requestBody", {}).get("content", {}).get(JSON)
        if media is not None:
            yield path, method, media


def resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    name = None
    while "$ref" in schema:
        name = schema["$ref"].removeprefix(SCHEMAS)
        schema = schemas[name]
    return name, schema


def object_schemas(schema: dict[str, Any], schemas: dict[str, Any], where: str) -> Iterator[tuple[str, dict]]:
    """Every object schema ``schema`` reaches through references, properties, items and alternatives, with where
    (a named schema by its name, a member of one as ``OpenCaseRequest.counterpart``); each named schema once."""
    pending = [(schema, where)]
    seen: set[str] = set()
    while pending:
        node, place = pending.pop()
        name, node = resolve(node, schemas)
        if name is not None:
            if name in seen:
                continue
            seen.add(name)
            place = name
        if node.get("type") == "object" or "object" in (node.get("type") or []) or "properties" in node:
            yield place, node
        for key, member in node.get("properties", {}).items():
            pending.append((member, f"{place}.{key}"))
        for key in ("items", "additionalProperties", "not"):
            if isinstance(node.get(key), dict):
                pending.append((node[key], f"{place}.{key}"))
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            pending.extend((option, f"{place}.{key}") for option in node.get(key, []))


def test_every_object_a_request_body_reaches_is_closed(service) -> None:
    name, (_, _, document, _) = service
    schemas = document["components"]["schemas"]
    open_objects, maps, walked = [], set(), 0
    for path, method, media in json_bodies(document):
        for place, node in object_schemas(media["schema"], schemas, f"{method.upper()} {path}"):
            walked += 1
            if place in FREE_FORM[name]:
                maps.add(place)
            elif node.get("additionalProperties") is not False:
                open_objects.append(place)
    assert walked, name
    assert open_objects == [], f"{name}: request objects that do not say additionalProperties: false"
    assert maps == FREE_FORM[name], f"{name}: FREE_FORM lists maps no request body has"


def test_answers_and_everything_but_the_request_bodies_keep_their_schemas(service) -> None:
    """What an answer, a parameter or a problem refers to is the schema apispec made from marshmallow, unchanged:
    the event contracts' objects stay open there."""
    name, (_, _, served, raw) = service
    bodies = {id(media["schema"]) for _, _, media in json_bodies(served)}
    named = used(served, skip=bodies)
    assert named, name
    changed = [n for n in sorted(named) if served["components"]["schemas"][n] != raw["components"]["schemas"].get(n)]
    assert changed == [], f"{name}: schemas outside the request bodies were changed"
    # The open originals that only the bodies used are gone, not left for a generator to make models of.
    unused = set(served["components"]["schemas"]) - used(served)
    assert unused <= set(raw["components"]["schemas"]) - used(raw), name


def used(document: dict[str, Any], skip: set[int] | None = None) -> set[str]:
    """The schemas ``document`` refers to, directly or through others, not looking into the nodes in ``skip``."""
    schemas = document["components"]["schemas"]
    pending = [value for key, value in document.items() if key != "components"]
    pending += [value for key, value in document["components"].items() if key != "schemas"]
    named: set[str] = set()
    while pending:
        node = pending.pop()
        if id(node) in (skip or set()):
            continue
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMAS) and ref.removeprefix(SCHEMAS) not in named:
                named.add(ref.removeprefix(SCHEMAS))
                pending.append(schemas[ref.removeprefix(SCHEMAS)])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return named


@pytest.mark.parametrize("shared", [True, False], ids=["shared with an answer", "request only"])
def test_a_nested_schema_is_closed_for_the_request_and_stays_open_for_the_answer(shared: bool) -> None:
    period = {"type": "object", "properties": {"from": {"type": "string"}, "to": {"type": "string"}}}
    document: dict[str, Any] = {
        "components": {
            "schemas": {
                "Period": period,
                "PeriodInput": {"type": "string"},  # a name the closed copy must not take
                "Plan": {
                    "type": "object",
                    "properties": {
                        "period": {"$ref": f"{SCHEMAS}Period"},
                        "periods": {"type": "array", "items": {"$ref": f"{SCHEMAS}Period"}},
                        "later": {"anyOf": [{"$ref": f"{SCHEMAS}Period"}, {"type": "null"}]},
                        "labels": {"type": "object", "additionalProperties": {"$ref": f"{SCHEMAS}Period"}},
                        "plan": {"$ref": f"{SCHEMAS}Plan"},
                    },
                },
                "View": {"type": "object", "properties": {"period": {"$ref": f"{SCHEMAS}Period"}}},
            }
        },
        "paths": {
            "/plans": {
                "post": {
                    "requestBody": {"content": {JSON: {"schema": {"$ref": f"{SCHEMAS}Plan"}}}},
                    "responses": {"201": {"content": {JSON: {"schema": {"$ref": f"{SCHEMAS}View"}}}} if shared else {}},
                }
            }
        },
    }
    close_request_bodies(document, {"Plan"})
    schemas = document["components"]["schemas"]
    plan = schemas["Plan"]  # the body's own schema, closed under its name (a cycle through it ends there)
    assert plan["additionalProperties"] is False and plan["properties"]["plan"] == {"$ref": f"{SCHEMAS}Plan"}
    closed = {"$ref": f"{SCHEMAS}PeriodInput2"}
    assert plan["properties"]["period"] == closed and plan["properties"]["periods"]["items"] == closed
    assert plan["properties"]["later"]["anyOf"][0] == closed
    # a map keeps its free keys; its values are closed
    assert "additionalProperties" in plan["properties"]["labels"]
    assert plan["properties"]["labels"]["additionalProperties"] == closed
    assert schemas["PeriodInput2"] == {**period, "additionalProperties": False}
    assert schemas["PeriodInput"] == {"type": "string"}
    if shared:
        assert schemas["Period"] == period and "additionalProperties" not in period
        assert schemas["View"]["properties"]["period"] == {"$ref": f"{SCHEMAS}Period"}
    else:
        assert "Period" not in schemas  # nothing else referred to the open one


def test_a_body_that_is_not_strict_and_a_strict_schema_an_answer_uses_are_left_or_copied() -> None:
    item = {"type": "object", "properties": {"name": {"type": "string"}}}
    document: dict[str, Any] = {
        "components": {"schemas": {"Loose": copy.deepcopy(item), "Strict": copy.deepcopy(item)}},
        "paths": {
            "/loose": {"post": {"requestBody": {"content": {JSON: {"schema": {"$ref": f"{SCHEMAS}Loose"}}}}}},
            "/strict": {
                "post": {
                    "requestBody": {"content": {JSON: {"schema": {"$ref": f"{SCHEMAS}Strict"}}}},
                    "responses": {"200": {"content": {JSON: {"schema": {"$ref": f"{SCHEMAS}Strict"}}}}},
                }
            },
        },
    }
    close_request_bodies(document, {"Strict"})
    schemas = document["components"]["schemas"]
    assert schemas["Loose"] == item and schemas["Strict"] == item
    body = document["paths"]["/strict"]["post"]["requestBody"]["content"][JSON]["schema"]
    assert body == {"$ref": f"{SCHEMAS}StrictInput"} and schemas["StrictInput"]["additionalProperties"] is False


def filled(example: Any, schema: dict[str, Any], schemas: dict[str, Any], samples: dict[str, list[Any]]) -> Any:
    """``example`` with each object its schema can hold present: an absent or null one is made up from its schema
    (``openapi.example_of``), so that every closed object of the body gets a member added. Such a body may break
    a rule across fields; the unknown member is refused before any rule is looked at (``StrictBody``)."""
    _, schema = resolve(schema, schemas)
    options = [resolve(o, schemas)[1] for o in schema.get("anyOf", []) + schema.get("oneOf", [])]
    objects = [o for o in options if "properties" in o or o.get("type") == "array"]
    if objects:
        schema = objects[0]
    if example is None and ("properties" in schema or schema.get("type") == "array"):
        example = example_of(schema, schemas, samples)
    if isinstance(example, dict) and "properties" in schema:
        return {
            key: filled(example.get(key), member, schemas, samples)
            for key, member in schema["properties"].items()
            if key in example or _holds_objects(member, schemas)
        }
    if isinstance(example, list) and isinstance(schema.get("items"), dict):
        return [filled(item, schema["items"], schemas, samples) for item in example]
    return example


def _holds_objects(schema: dict[str, Any], schemas: dict[str, Any]) -> bool:
    _, schema = resolve(schema, schemas)
    options = [resolve(o, schemas)[1] for o in schema.get("anyOf", []) + schema.get("oneOf", [])] + [schema]
    return any(
        "properties" in o or (isinstance(o.get("items"), dict) and _holds_objects(o["items"], schemas)) for o in options
    )


def unknown_members(example: Any, schema: dict[str, Any], schemas: dict[str, Any], path: str = "") -> Iterator[str]:
    """The path of each object of ``example`` that ``schema`` documents as closed (a place to add a member at)."""
    _, schema = resolve(schema, schemas)
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        _, resolved = resolve(option, schemas)
        if isinstance(example, dict) and "properties" in resolved:
            schema = resolved
    if isinstance(example, dict) and schema.get("additionalProperties") is False:
        yield path
        for key, value in example.items():
            if key in schema.get("properties", {}):
                yield from unknown_members(value, schema["properties"][key], schemas, f"{path}{key}.")
    elif isinstance(example, list) and isinstance(schema.get("items"), dict):
        for index, value in enumerate(example):
            yield from unknown_members(value, schema["items"], schemas, f"{path}{index}.")


def with_member(example: Any, path: str) -> Any:
    body = copy.deepcopy(example)
    node = body
    for step in [s for s in path.split(".") if s]:
        node = node[int(step)] if isinstance(node, list) else node[step]
    node[UNKNOWN] = "x"
    return body


def test_each_documented_example_with_an_unknown_member_anywhere_is_a_422_naming_it(service) -> None:
    """The document's claim held to the server: every object of every request example, one at a time."""
    name, (client, headers, document, _) = service
    schemas = document["components"]["schemas"]
    values = {"department_id": DEPARTMENT_ID, "year": "2025"}
    samples = catalogue_samples()
    sent, wrong = 0, []
    for path, method, media in json_bodies(document):
        url = path
        for parameter in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
            url = url.replace(f"{{{parameter}}}", values.get(parameter, str(uuid.uuid4())))
        example = filled(media["example"], media["schema"], schemas, samples)
        places = list(unknown_members(example, media["schema"], schemas))
        assert "" in places, (name, method, path)  # the body itself, at least
        for place in places:
            body = with_member(example, place)
            answer = client.open(url, method=method.upper(), json=body, headers=headers)
            problem = answer.get_json(silent=True) or {}
            fields = [error.get("field") for error in problem.get("errors", [])]
            sent += 1
            if answer.status_code != 422 or f"{place}{UNKNOWN}" not in fields:
                wrong.append((method.upper(), path, f"{place}{UNKNOWN}", answer.status_code, fields))
    assert sent, name
    assert wrong == [], f"{name}: an unknown member the server did not refuse by name"
