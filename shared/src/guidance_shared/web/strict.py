"""Request bodies name only fields the API defines: one rule for every service, at every depth.

A field a county system misspells (``issue_at`` for ``issued_at``) or a field from a newer client silently
dropped would leave the record without what the caller meant to send, unnoticed. So a body with a field the
request schema does not define is a 422 naming the field's full path (``counterpart.nmae``,
``officers.0.badge``), in both languages. marshmallow's ``unknown = RAISE`` stops at the top level (the
event payloads the request schemas reuse are tolerant for consumers' sake), hence the whole walk here.
Query strings are not concerned: proxies and caches add parameters of their own.

The OpenAPI says the same (``additionalProperties: false`` at every depth of such a body): ``StrictBodies``
names the documented schemas that are request bodies of this kind, and ``openapi.close_request_bodies`` closes
them and what they nest when the document is served.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from marshmallow import Schema, ValidationError, pre_load

from guidance_shared.events.registry import unknown_fields


class StrictBody(Schema):
    """Base (or mixin, first among the bases) of a request body's schema: unknown fields are refused."""

    @pre_load
    def _refuse_unknown_fields(self, data: Any, **_: Any) -> Any:
        errors = unknown_fields(self, data)
        if errors:
            raise ValidationError(errors)
        return data


class StrictBodies(BasePlugin):
    """apispec plugin: the names of the document's schemas that are ``StrictBody`` schemas, as they are added."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> None:
        schema = kwargs.get("schema")
        if schema is None:
            return
        resolved = resolve_schema_cls(schema)
        classes = resolved if isinstance(resolved, list) else [resolved]
        if any(issubclass(cls, StrictBody) for cls in classes):
            self.names.add(name)
