"""Every operation of every service has an ``operationId`` a code generator can name a method after.

Generators (openapi-generator, openapi-python-client) turn each ``operationId`` into a function name, so
the ids must exist, be unique within a service's document, be identifiers, and not change while the route
keeps its meaning: they follow the view's name (``guidance_shared.web.json_input.operation_id``)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from guidance_shared.web.json_input import operation_id
from tests.support.schema import migrated_runtime

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
IDENTIFIER = re.compile(r"^[a-z][A-Za-z0-9]*$")


def test_the_default_id_is_the_method_and_the_view_in_lower_camel_case() -> None:
    assert operation_id("POST", "GuidanceCollection") == "postGuidanceCollection"
    assert operation_id("get", "public_item") == "getPublicItem"
    assert operation_id("get", "calendar-feed") == "getCalendarFeed"


@pytest.mark.parametrize("service", ["intake", "revisit", "disclosure", "assessment"])
def test_every_operation_has_a_unique_identifier_id(service: str, tmp_path: Path) -> None:
    bootstrap = importlib.import_module(f"guidance_{service}.bootstrap")
    settings = Settings.from_env(service, {"GUIDANCE_VAR_DIR": str(tmp_path)})
    runtime = migrated_runtime(bootstrap.SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    try:
        spec = bootstrap.create_app(runtime, testing=True).test_client().get("/openapi.json").get_json()
    finally:
        runtime.close()
    operations = [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert operations, service
    missing = [f"{method.upper()} {path}" for path, method, operation in operations if "operationId" not in operation]
    assert missing == [], missing
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert all(IDENTIFIER.match(i) for i in ids), [i for i in ids if not IDENTIFIER.match(i)]


def test_the_shared_refusals_and_headers_are_added_from_what_an_operation_is() -> None:
    from guidance_shared.web.openapi import complete

    command = {
        "parameters": [{"in": "header", "name": "If-Match"}, {"in": "header", "name": "Idempotency-Key"}],
        "requestBody": {"content": {"application/json": {}}},
        "responses": {"200": {"description": "done"}, "409": "MY_OWN_CONFLICT"},
    }
    complete("/v1/guidance/{guidance_id}/response", "post", command)
    assert set(command["responses"]) == {"200", "400", "404", "409", "413", "415", "422"}
    assert command["responses"]["409"] == "MY_OWN_CONFLICT"  # a view's own documentation wins
    assert set(command["responses"]["200"]["headers"]) == {"ETag"}

    page: dict[str, Any] = {"parameters": [{"in": "query", "name": "cursor"}], "responses": {"200": {}}}
    complete("/public/v1/guidance", "get", page)
    assert set(page["responses"]) == {"200", "304", "422", "429"}
    assert set(page["responses"]["200"]["headers"]) == {"ETag", "Cache-Control"}


def test_the_document_gets_examples_locations_and_links_from_its_schemas_and_paths() -> None:
    """``complete_document`` on a two-path document: the catalogue's record for an event-shaped request, a field's
    own example over it, a Location on the 201, and links from the create to the record's change with If-Match."""
    from guidance_shared.events.examples import GUIDANCE_ID
    from guidance_shared.web.openapi import complete_document

    reason = {"type": "string", "minLength": 1, "maxLength": 1000}
    document: dict[str, Any] = {
        "components": {
            "schemas": {
                "End": {
                    "type": "object",
                    "properties": {"reason": reason, "at": {"type": ["string", "null"], "format": "date-time"}},
                    "required": ["reason"],
                },
                "View": {
                    "type": "object",
                    "properties": {
                        "guidance_id": {"type": "string"},
                        "status": {"type": "string", "description": "issued, responded, withdrawn"},
                        "version": {"type": "integer", "example": 7},
                    },
                },
            },
            "responses": {"NOT_FOUND": {"content": {"application/problem+json": {"schema": {}}}}},
        },
        "paths": {
            "/v1/guidance": {
                "post": {
                    "operationId": "postGuidanceCollection",
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/End"}}}},
                    "responses": {
                        "201": {
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/View"}}},
                            "headers": {"ETag": {}},
                        }
                    },
                }
            },
            "/v1/guidance/{guidance_id}/withdrawal": {
                "post": {
                    "operationId": "postGuidanceWithdrawal",
                    "parameters": [{"in": "header", "name": "If-Match"}],
                    "responses": {"200": {"description": "OK"}},
                }
            },
        },
    }
    complete_document(document)
    create = document["paths"]["/v1/guidance"]["post"]
    request = create["requestBody"]["content"]["application/json"]["example"]
    assert request["reason"] and request["at"].endswith("+08:00")  # the catalogue's GuidanceSuspended
    answer = create["responses"]["201"]["content"]["application/json"]["example"]
    assert answer == {"guidance_id": GUIDANCE_ID, "status": "issued", "version": 7}
    assert "Location" in create["responses"]["201"]["headers"]
    assert create["responses"]["201"]["links"] == {
        "PostGuidanceWithdrawal": {
            "operationId": "postGuidanceWithdrawal",
            "parameters": {"guidance_id": "$response.body#/guidance_id", "header.If-Match": "$response.header.ETag"},
        }
    }
    problem = document["components"]["responses"]["NOT_FOUND"]["content"]["application/problem+json"]["example"]
    assert problem["status"] == 404 and problem["title_zh"] == "未找到"
