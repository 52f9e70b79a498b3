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
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin

METHODS = ("get", "put", "post", "patch", "delete")
ETAG = {
    "description": "The record's version, for If-Match (a public page's: for If-None-Match)",
    "schema": {"type": "string"},
}
CACHE_CONTROL = {"description": "How long a cache may serve the page", "schema": {"type": "string"}}


class SharedResponses(BasePlugin):
    """apispec plugin: completes each operation with the statuses and headers the shared kit adds."""

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any) -> None:
        for method, operation in (operations or {}).items():
            if method in METHODS:
                complete(path or "", method, operation)


def complete(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
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
        extra: dict[str, Any] = {}
        if "If-Match" in headers or (public and method == "get"):
            extra["ETag"] = ETAG
        if public and method == "get":
            extra["Cache-Control"] = CACHE_CONTROL
        if extra:
            response["headers"] = {**extra, **response.get("headers", {})}
