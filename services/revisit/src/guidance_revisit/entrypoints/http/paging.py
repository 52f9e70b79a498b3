"""Paging of revisit's worklists: ``limit`` rows from a keyset ``cursor``, and ``next``.

A worklist answers its rows and ``next``, the opaque cursor of the following page (null on the last),
and a ``Link: rel="next"`` header with the same filters; each page costs what the first costs. The
cursor is the last row's (due date, id) as URL-safe base64 JSON, so its form may change.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from marshmallow import ValidationError, validates_schema

from guidance_shared.web.paging import PagingQuery, link_to_next

#: Where a page starts: after this sort key, a date then text (a worklist: due date, revisit id; the
#: forecast: notice date, category, plan id).
Keyset = tuple[Any, ...]


class Paging(PagingQuery):
    #: How many parts the list's sort key has (its cursor carries them all).
    KEY_PARTS = 2

    @validates_schema
    def _known_cursor(self, data: Mapping[str, Any], **_kwargs: Any) -> None:
        if data.get("cursor"):
            decode_cursor(data["cursor"], self.KEY_PARTS)


def encode_cursor(key: Keyset) -> str:
    parts = [key[0].isoformat(), *key[1:]]
    return base64.urlsafe_b64encode(json.dumps(parts, ensure_ascii=False).encode()).decode().rstrip("=")


def decode_cursor(token: str, parts: int = 2) -> Keyset:
    """The key a cursor of a list whose key has ``parts`` parts carries; a 422 for anything else."""
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if isinstance(key, list) and len(key) == parts and all(isinstance(part, str) and part for part in key):
            return (date.fromisoformat(key[0]), *key[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ValidationError("Not a cursor this list gave out; start again from the first page.", field_name="cursor")


def after(query: Mapping[str, Any], parts: int = 2) -> Keyset | None:
    return decode_cursor(query["cursor"], parts) if query.get("cursor") else None


def next_of(rows: list[Any], limit: int, key: Any) -> tuple[list[Any], str | None, dict[str, str]]:
    """The page (``rows`` holds one more than ``limit`` when another page follows), ``next`` and the Link header."""
    if len(rows) <= limit:
        return rows, None, {}
    page = rows[:limit]
    following = encode_cursor(key(page[-1]))
    return page, following, link_to_next(following)
