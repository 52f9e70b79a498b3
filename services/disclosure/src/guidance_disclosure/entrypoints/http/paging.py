"""Paging of the officers' lists (review queue, requests): ``limit`` rows from a keyset ``cursor``.

A list answers its rows and ``next``, the opaque cursor of the following page (null on the last), and
a ``Link: rel="next"`` header with the same filters; a client walks a list of any length by following
it, each page costing what the first costs. The cursor has the public lists' form (``public.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import validates_schema

from guidance_disclosure.adapters.queries import OfficerPage, SortKey
from guidance_disclosure.entrypoints.http.public import decode_cursor, encode_cursor
from guidance_shared.web.paging import PagingQuery, link_to_next


class OfficerPaging(PagingQuery):
    @validates_schema
    def _known_cursor(self, data: Mapping[str, Any], **_kwargs: Any) -> None:
        if data.get("cursor"):
            decode_cursor(data["cursor"])


def after(query: Mapping[str, Any]) -> SortKey | None:
    """The keyset the page starts after, from a validated query."""
    return decode_cursor(query["cursor"]) if query.get("cursor") else None


def officer_page(key: str, page: OfficerPage) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The response: the rows under ``key``, ``next``, and the ``Link`` header when a next page exists."""
    following = encode_cursor(page.next_after) if page.next_after else None
    return {key: page.rows, "next": following}, 200, link_to_next(following)
