"""What every list paged by keyset shares: ``limit`` and ``cursor`` in the query, and the ``Link`` to the next page.

A list answers its rows and ``next``, the opaque cursor of the following page (null on the last), and a
``Link: <…>; rel="next"`` header repeating the request's filters with that cursor, so a client walks a list
of any length by following it. What a cursor holds is the list's own affair (each list's sort key).
"""

from __future__ import annotations

from flask import request, url_for
from marshmallow import Schema, fields, validate

MAX_LIMIT = 500
DEFAULT_LIMIT = 100


class PagingQuery(Schema):
    """``limit`` and ``cursor``; a list's query schema extends it and checks that the cursor is one of its own."""

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": "rows per page"},
    )
    cursor = fields.String(
        validate=validate.Length(max=300),
        metadata={"description": "where the page starts: the `next` of the previous page (opaque)"},
    )


def link_to_next(following: str | None) -> dict[str, str]:
    """The ``Link`` header to the page that starts at ``following`` (none on the last page)."""
    if not following:
        return {}
    values = {k: v for k, v in request.args.items() if k != "cursor"}
    url = url_for(str(request.endpoint), **{**(request.view_args or {}), **values, "cursor": following})
    return {"Link": f'<{url}>; rel="next"'}
