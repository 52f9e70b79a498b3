"""The refusals and headers every operation shares, written into the OpenAPI once instead of per view.

A schema-driven client (or a generator) learns from the document which statuses an operation can answer
and which headers come with them. Most of those follow from what the operation *is*, not from what it
does, and the shared web kit is what produces them:

- a path with a parameter names a record, which may not exist or belong to another department: **404**;
- a body is read strictly (``json_input``) and bounded: **400** (malformed, too deep, repeated key),
  **413** (too large), **415** (not JSON), **422** (a field is wrong);
- query parameters are validated: **422**;
- ``Idempotency-Key``: **400** (not a valid key), **409** (the first request with it is still running),
  **422** (the key was used for another request);
- ``If-Match`` (conditional changes): the answer carries the new ``ETag``;
- the public pages (``/public``) are rate-limited (**429** with ``Retry-After``), cacheable (``ETag``,
  ``Cache-Control``) and answer ``If-None-Match`` with **304**.

A view's own documentation wins: nothing here replaces a status or header a view already documents.

What needs the whole document (examples, ``Location``, links between operations, request bodies closed at every
depth) is added when it is served, by ``complete_document`` below.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Collection, Iterator
from http import HTTPStatus
from typing import Any

from apispec import BasePlugin
from flask import Response

from guidance_shared.errors import ConcurrencyError
from guidance_shared.events.examples import EXAMPLES
from guidance_shared.web.problems import HTTP_TEXTS, PROBLEM_TYPE_BASE

#: A JSON object of an OpenAPI document: the document is JSON by nature, so its nodes stay untyped.
Node = dict[str, Any]

METHODS = ("get", "put", "post", "patch", "delete")
ETAG = {
    "description": "The record's version, for If-Match (a public page's: for If-None-Match)",
    "schema": {"type": "string"},
}
CACHE_CONTROL = {"description": "How long a cache may serve the page", "schema": {"type": "string"}}


class SharedResponses(BasePlugin):
    """apispec plugin: completes each operation with the statuses and headers the shared kit adds."""

    def operation_helper(self, path: str | None = None, operations: Node | None = None, **_: Any) -> None:
        for method, operation in (operations or {}).items():
            if method in METHODS:
                complete(path or "", method, operation)


def complete(path: str, method: str, operation: Node) -> None:
    responses: Node = operation.setdefault("responses", {})
    parameters = operation.get("parameters", [])
    headers = {p.get("name") for p in parameters if isinstance(p, dict) and p.get("in") == "header"}
    public = path.startswith("/public")

    def add(status: int, name: str) -> None:
        responses.setdefault(str(status), name)

    if "{" in path:
        add(404, "NOT_FOUND")
    if "requestBody" in operation:
        for status, name in ((400, "BAD_REQUEST"), (413, "REQUEST_ENTITY_TOO_LARGE"), (415, "UNSUPPORTED_MEDIA_TYPE")):
            add(status, name)
        add(422, "UNPROCESSABLE_ENTITY")
    if any(isinstance(p, dict) and p.get("in") == "query" for p in parameters):
        add(422, "UNPROCESSABLE_ENTITY")
    if "Idempotency-Key" in headers:
        for status, name in ((400, "BAD_REQUEST"), (409, "CONFLICT"), (422, "UNPROCESSABLE_ENTITY")):
            add(status, name)
    if public:
        add(429, "TOO_MANY_REQUESTS")
        if method == "get":
            add(304, "NOT_MODIFIED")
    for code, response in responses.items():
        if not isinstance(response, dict) or not str(code).startswith("2"):
            continue
        extra: Node = {}
        if "If-Match" in headers or (public and method == "get"):
            extra["ETag"] = ETAG
        if public and method == "get":
            extra["Cache-Control"] = CACHE_CONTROL
        if extra:
            response["headers"] = {**extra, **response.get("headers", {})}


# -- what needs the whole document: examples, Location, links ------------------------------------------
#
# A generator or a tester reads an operation's examples as the shortest way to a valid call, and its links as
# the way from a new record to what can be done with it. Both follow from what is already written once: the
# schemas (every field's type, bounds and codes), the event catalogue's canonical examples (the one story of
# the county that every test tells: its department, its company, its officers), and the paths (a record made
# by ``POST /x`` lives at ``/x/{x_id}``). So they are computed from those when the document is served, and a
# field that neither the catalogue nor its type can fill names its own value with ``metadata={"example": …}``.

JSON_MEDIA = ("application/json", "application/problem+json")
#: A record's path parameter that the create's answer carries under the same name.
_RECORD_PARAMETER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")
#: Values by JSON Schema format when no example of the field's name fits.
_BY_FORMAT: Node = {
    "uuid": "3898b87c-d9e4-5a37-8351-e465fdfcaae6",
    "date": "2025-03-06",
    "date-time": "2025-03-06T09:15:00+08:00",
    "email": "office@example.gov.cn",
    "uri": "https://example.gov.cn/",
    "url": "https://example.gov.cn/",
    "binary": "",
}
#: Where ``catalogue_samples`` keeps the catalogue's objects whole (no field has this name).
_RECORDS = " records"
#: A description that starts by listing a field's codes.
_CODES = re.compile(r"^([a-z][a-z_]*)(?: \([^)]*\))?(?:\s*[,|/]\s*[a-z][a-z_]*(?: \([^)]*\))?)+")
LOCATION = {"description": "Where the record made can be read (GET)", "schema": {"type": "string"}}

#: What the placeholders of the problems' texts (``problems.HTTP_TEXTS``) read in an example.
_PLACES = {
    "path": "/v1/guidance",
    "method": "DELETE",
    "allowed": "GET, POST",
    "limit": "2097152",
    "where": " (line 1, column 2)",
    "where_zh": "（第 1 行第 2 列）",
}


def located(where: Callable[..., str]) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Give a view's 201 the ``Location`` of the record it made: ``where(body, **path_arguments)``.

    For views whose answer names the record (its body, its path) rather than the view building the address
    itself; stacked between ``@idempotent`` and ``@blp.response``, so a replayed answer carries it too."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            response = view(*args, **kwargs)
            if response.status_code == 201 and "Location" not in response.headers:
                response.headers["Location"] = where(response.get_json(silent=True) or {}, **kwargs)
            return response

        return wrapper

    return decorate


def problem_example(status: int) -> Node:
    """A problem+json body of ``status`` as the server writes it, in English and Chinese; a 422 names a field."""
    text = HTTP_TEXTS.get(status) or HTTP_TEXTS[500]
    body: Node = {
        "type": f"{PROBLEM_TYPE_BASE}{text.code}",
        "title": text.title_en,
        "title_zh": text.title_zh,
        "status": status,
        "detail": text.detail_en.format(**_PLACES),
        "detail_zh": text.detail_zh.format(**_PLACES),
        "instance": _PLACES["path"],
        "request_id": "0f6f4a3c-2b1e-4d5a-9c8b-7a6f5e4d3c2b",
    }
    if status == 422:
        body["errors"] = [
            {
                "field": "legal_basis.0.article",
                "message_en": "Missing data for required field.",
                "message_zh": "缺少必填字段。",
            }
        ]
    if status in (409, 412):
        # A change against a version that is no longer the record's: 409 without If-Match, 412 with a stale one
        # (``problems.handle_guidance_error``), with the versions and the record named.
        conflict = ConcurrencyError(_BY_FORMAT["uuid"], 2, 3)
        body.update(detail=conflict.detail_en, detail_zh=conflict.detail_zh, **conflict.extra)
        if status == 409:
            body.update(type=f"{PROBLEM_TYPE_BASE}{conflict.code}", title=conflict.title_en, title_zh=conflict.title_zh)
    return body


def complete_document(document: Node, strict: Collection[str] = ()) -> Node:
    """``document`` with its ``strict`` request bodies closed at every depth (``close_request_bodies``), an example
    on every JSON request body, 2xx answer and problem, a ``Location`` header on every 201, and links from each
    record's create and read to what can be done with it next."""
    # Closed first: an example must not carry a member the closed schema refuses.
    close_request_bodies(document, strict)
    components = document.get("components", {})
    schemas = components.get("schemas", {})
    samples = catalogue_samples()

    def media_example(content: Node, status: int | None) -> None:  # None: a request body
        for media, body in content.items():
            if media not in JSON_MEDIA or not isinstance(body, dict) or "example" in body or "examples" in body:
                continue
            if media == "application/problem+json" and status is not None:
                body["example"] = problem_example(status)
            elif "schema" in body:
                body["example"] = example_of(body["schema"], schemas, samples)

    for response_name, response in components.get("responses", {}).items():
        media_example(response.get("content", {}), _status_of(response_name))
    for _, _, operation in _operations(document):
        media_example(operation.get("requestBody", {}).get("content", {}), None)
        for code, response in operation.get("responses", {}).items():
            if not isinstance(response, dict) or "$ref" in response or not str(code).isdigit():
                continue
            media_example(response.get("content", {}), int(code))
            if code == "201":
                response["headers"] = {"Location": LOCATION, **response.get("headers", {})}
    _link(document)
    return document


def _status_of(name: str) -> int:
    """The status of a shared response (``NOT_FOUND`` → 404); the default one stands for any failure, a 500."""
    try:
        return int(HTTPStatus[name])
    except KeyError:
        return 500


def _operations(document: Node) -> list[tuple[str, str, Node]]:
    return [
        (path, method, operation)
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in METHODS and isinstance(operation, dict)
    ]


def _link(document: Node) -> None:
    """Links create → read → change: from ``POST /x`` (201) and from every 2xx on ``/x/{p}…`` to every operation
    on ``/x/{p}…`` whose only path parameter is ``p`` (from the create's body, else from the request's path),
    with the answer's ``ETag`` as ``If-Match`` where the target takes one."""
    operations = _operations(document)
    targets: dict[str, list[tuple[str, Node]]] = {}
    for path, _, operation in operations:
        segments = path.split("/")
        parameters = [s for s in segments if _RECORD_PARAMETER.match(s)]
        if len(parameters) == 1 and "operationId" in operation:
            record = "/".join(segments[: segments.index(parameters[0]) + 1])
            targets.setdefault(record, []).append((path, operation))
    for record, reachable in targets.items():
        if not any(_takes_header(target, "If-Match") for _, target in reachable):
            continue
        # The record's read and create answer its version, which the conditional changes send back.
        collection = record.rsplit("/", 1)[0]
        for path, method, operation in operations:
            if (method == "get" and path == record) or (method == "post" and path == collection):
                for code, response in operation.get("responses", {}).items():
                    if code in ("200", "201") and isinstance(response, dict) and "$ref" not in response:
                        response["headers"] = {"ETag": ETAG, **response.get("headers", {})}
    for path, method, operation in operations:
        for record, reachable in targets.items():
            collection, parameter = record.rsplit("/", 1)
            name = parameter[1:-1]
            if method == "post" and path == collection:
                source, answers = f"$response.body#/{name}", ("201",)
            elif path == record or path.startswith(record + "/"):
                answers = tuple(code for code in operation.get("responses", {}) if code.startswith("2"))
                source = f"$request.path.{name}"
            else:
                continue
            for code in answers:
                response = operation.get("responses", {}).get(code)
                if not isinstance(response, dict) or "$ref" in response:
                    continue
                links = response.setdefault("links", {})
                for _, target in reachable:
                    if target is operation:
                        continue
                    values: dict[str, str] = {name: source}
                    if _takes_header(target, "If-Match") and "ETag" in response.get("headers", {}):
                        values["header.If-Match"] = "$response.header.ETag"
                    links.setdefault(
                        target["operationId"][0].upper() + target["operationId"][1:],
                        {"operationId": target["operationId"], "parameters": values},
                    )
                if not links:
                    del response["links"]


def _takes_header(operation: Node, name: str) -> bool:
    return any(
        isinstance(p, dict) and p.get("in") == "header" and p.get("name") == name
        for p in operation.get("parameters", [])
    )


# -- request bodies closed at every depth ------------------------------------------------------------------
#
# A request body whose schema is a ``StrictBody`` (``strict.py``) is refused with a member its schema does not
# define, at any depth, so the document says ``additionalProperties: false`` on every object the body reaches:
# a schema-driven client or a fuzzer then knows an extra member is an error, not an option. The objects such a
# body nests are mostly the event contracts' (a counterpart, an officer, a legal basis), which answers (and the
# events' own documents) leave open because a consumer tolerates a field added later. So a body reaches a
# closed copy of each, ``<Name>Input``, and what else refers to the open one keeps it; a body schema that
# nothing else refers to is closed under its own name, the one generated clients already use. A map (an object
# schema without ``properties``, a marshmallow ``Dict``) keeps its free keys: what its values are is closed.

SCHEMAS = "#/components/schemas/"
#: The suffix of a nested schema's closed copy.
INPUT = "Input"
#: The keywords whose values are schemas (or lists or maps of schemas) a closed object's members are held to.
_SUBSCHEMAS = ("items", "prefixItems", "anyOf", "oneOf", "allOf", "not", "additionalProperties", "contains")
_SCHEMA_MAPS = ("properties", "patternProperties")


def close_request_bodies(document: Node, strict: Collection[str]) -> Node:
    """``document`` with every JSON request body whose schema is one of the ``strict`` components closed at every
    depth (``additionalProperties: false`` on each object schema with ``properties``); answers, parameters and
    the other bodies refer to the same schemas as before."""
    schemas: Node = document.get("components", {}).get("schemas", {})
    bodies = [
        media
        for _, _, operation in _operations(document)
        for media in operation.get("requestBody", {}).get("content", {}).values()
        if isinstance(media, dict) and _schema_name(media.get("schema")) in strict
    ]
    if not bodies:
        return document
    roots = {id(media["schema"]) for media in bodies}
    elsewhere = _reachable(_schema_refs(document, skip=roots, inside_schemas=False), schemas)
    closed: dict[str, str] = {}  # a schema's name -> its closed version's name

    def closed_name(name: str) -> str:
        if name not in closed:
            in_place = name in strict and name not in elsewhere
            target = name if in_place else _free_name(f"{name}{INPUT}", schemas)
            closed[name] = target
            definition = schemas.get(name, {})
            schemas[target] = definition if in_place else copy.deepcopy(definition)
            close(schemas[target])
        return closed[name]

    def close(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                close(item)
            return
        if not isinstance(node, dict):
            return
        if (name := _schema_name(node)) is not None:
            node["$ref"] = SCHEMAS + closed_name(name)
        if isinstance(node.get("properties"), dict):
            node["additionalProperties"] = False
        for key in _SUBSCHEMAS:
            close(node.get(key))
        for key in _SCHEMA_MAPS:
            for member in (node.get(key) or {}).values():
                close(member)

    for media in bodies:
        close(media["schema"])
    for name, target in closed.items():
        if target != name and name not in elsewhere:  # an open original only the bodies referred to
            del schemas[name]
    return document


def _schema_name(schema: Any) -> str | None:
    """The component a ``{"$ref": "#/components/schemas/…"}`` names, else None."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    return ref[len(SCHEMAS) :] if isinstance(ref, str) and ref.startswith(SCHEMAS) else None


def _schema_refs(node: Any, skip: Collection[int] = (), inside_schemas: bool = True) -> Iterator[str]:
    """The components ``node`` refers to, not looking into the nodes in ``skip`` (by identity) nor, unless
    ``inside_schemas``, into ``components.schemas``."""
    pending = [node]
    while pending:
        current = pending.pop()
        if id(current) in skip:
            continue
        if isinstance(current, dict):
            if (name := _schema_name(current)) is not None:
                yield name
            for key, value in current.items():
                if inside_schemas or not (current is node and key == "components"):
                    pending.append(value)
                else:
                    pending.extend(v for k, v in value.items() if k != "schemas")
        elif isinstance(current, list):
            pending.extend(current)


def _reachable(names: Iterator[str], schemas: Node) -> set[str]:
    """``names`` and every component they refer to, directly or through others."""
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(_schema_refs(schemas.get(name, {})))
    return seen


def _free_name(name: str, schemas: Node) -> str:
    """``name``, or ``name2``, ``name3``… if a schema of that name exists."""
    candidate, number = name, 1
    while candidate in schemas:
        number += 1
        candidate = f"{name}{number}"
    return candidate


# -- examples from the schemas and the event catalogue ------------------------------------------------------
def catalogue_samples() -> dict[str, list[Any]]:
    """Every value the event catalogue's examples give a field, by the field's name and by its owner's and its
    name (``counterpart.kind``; an officer in ``officers``: ``officer.name``), in the catalogue's order."""
    samples: dict[str, list[Any]] = {_RECORDS: []}
    pending: list[tuple[Any, str]] = [(data, "") for data in EXAMPLES.values()]
    while pending:
        node, owner = pending.pop(0)
        if isinstance(node, dict):
            samples[_RECORDS].append(node)
            for key, value in node.items():
                for name in (key, f"{owner}.{key}") if owner else (key,):
                    seen = samples.setdefault(name, [])
                    if value is not None and value not in seen:
                        seen.append(value)
                pending.append((value, key))
        elif isinstance(node, list):
            pending.extend((item, _singular(owner) or "") for item in node)
    return samples


def example_of(
    schema: Any, schemas: Node, samples: dict[str, list[Any]], name: str | None = None, depth: int = 0
) -> Any:
    """A value ``schema`` accepts: its own ``example``, else the catalogue's value for a field of this ``name``
    that fits, else one built from its type, bounds and codes."""
    schema = _resolve(schema, schemas)
    if not isinstance(schema, dict):
        return None
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    if schema.get("examples"):
        return copy.deepcopy(schema["examples"][0])
    # The catalogue's value of a field of this name, else of its owner's (counterpart_kind: a counterpart's kind),
    # else of its last word (withdrawn_at: a time).
    owner, _, last = (name or "").rpartition("_")
    for key in dict.fromkeys((name, f"{owner}.{last}" if owner else None, last)):
        for value in samples.get(key or "", ()):
            if fits(value, schema, schemas):
                return copy.deepcopy(value)
    if "allOf" in schema:
        return example_of(_merged(schema, schemas), schemas, samples, name, depth)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), None)
    if schema.get("default") is not None:
        return copy.deepcopy(schema["default"])
    for key in ("anyOf", "oneOf"):
        options = [o for o in schema.get(key, []) if _resolve(o, schemas).get("type") != "null"]
        if options:
            return example_of(options[0], schemas, samples, name, depth)
    kind = _type(schema)
    if kind == "object":
        if depth > 6:
            return {}
        properties = schema.get("properties", {})
        known = _closest_record(properties, schema, schemas, samples)
        return {
            key: copy.deepcopy(known[key])
            if key in known and not _own_example(value, schemas)
            else example_of(value, schemas, samples, key, depth + 1)
            for key, value in properties.items()
        }
    if kind == "array":
        item = example_of(schema.get("items", {}), schemas, samples, _singular(name), depth + 1)
        return [item] * max(1, schema.get("minItems", 1)) if depth <= 6 else []
    if kind == "string":
        if schema.get("format") in _BY_FORMAT:
            return _BY_FORMAT[schema["format"]]
        listed = _CODES.match(schema.get("description", ""))
        if listed:  # a status documented as its codes ("open | closed", "issued, responded, …"): the first
            return listed.group(1)
        text = "示例"
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        text = (text * (low // len(text) + 1))[: max(low, len(text))]
        return text[:high] if high is not None else text
    if kind in ("integer", "number"):
        low = schema.get("minimum", 1)
        value = max(low, 1) if schema.get("maximum", 1) >= 1 else low
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    return None


def _closest_record(properties: Node, schema: Node, schemas: Node, samples: dict[str, list[Any]]) -> Node:
    """The fields of the catalogue's record (an event's data or an object in it) that share most of an object
    schema's properties and fit them, so a request derived from an event reads as that event's example."""
    best: Node = {}
    for record in samples.get(_RECORDS, ()):
        shared = {key: value for key, value in record.items() if key in properties}
        if len(shared) < max(2, len(best) + 1, (len(properties) + 1) // 2):
            continue
        required = [key for key in schema.get("required", []) if key in properties]
        if all(key in shared for key in required) and fits(shared, {**schema, "required": []}, schemas):
            best = shared
    return best


def _own_example(schema: Any, schemas: Node) -> bool:
    """Whether a field names its own example, which wins over the catalogue's."""
    schema = _resolve(schema, schemas)
    return isinstance(schema, dict) and ("example" in schema or bool(schema.get("examples")))


def fits(value: Any, schema: Any, schemas: Node) -> bool:
    """Whether ``value`` meets ``schema`` as far as an example needs: types, codes, bounds, patterns, formats."""
    schema = _resolve(schema, schemas)
    if not isinstance(schema, dict):
        return True
    if "allOf" in schema:
        return all(fits(value, part, schemas) for part in schema["allOf"]) and fits(
            value, {k: v for k, v in schema.items() if k != "allOf"}, schemas
        )
    for key in ("anyOf", "oneOf"):
        if key in schema and not any(fits(value, option, schemas) for option in schema[key]):
            return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    kinds = schema.get("type")
    if kinds is not None and not any(_is(value, kind) for kind in (kinds if isinstance(kinds, list) else [kinds])):
        return False
    if isinstance(value, str):
        return _fits_text(value, schema)
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return schema.get("minimum", value) <= value <= schema.get("maximum", value)
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            return False
        return all(fits(item, schema.get("items", {}), schemas) for item in value)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        if any(key not in value for key in schema.get("required", [])):
            return False
        if schema.get("additionalProperties") is False and any(key not in properties for key in value):
            return False
        return all(fits(item, properties[key], schemas) for key, item in value.items() if key in properties)
    return True


def _fits_text(value: str, schema: Node) -> bool:
    if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
        return False
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return False
    form = {"uuid": _UUID, "date": _DATE, "date-time": _DATE_TIME}.get(schema.get("format", ""))
    return form is None or bool(form.match(value))


def _is(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "array": list, "object": dict}.get(kind, object))


def _type(schema: Node) -> str | None:
    kinds = schema.get("type")
    if isinstance(kinds, list):
        return next((k for k in kinds if k != "null"), None)
    if kinds is None and "properties" in schema:
        return "object"
    return kinds


def _resolve(schema: Any, schemas: Node) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _merged(schema: Node, schemas: Node) -> Node:
    merged: Node = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        part = _resolve(part, schemas)
        if "allOf" in part:
            part = _merged(part, schemas)
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**value, **merged.get("properties", {})}
            else:
                merged.setdefault(key, value)
    return merged


def _singular(name: str | None) -> str | None:
    return name[:-1] if name and name.endswith("s") else name
