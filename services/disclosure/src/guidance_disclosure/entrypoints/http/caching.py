"""What lets a reverse proxy or a CDN serve the public surface's repeat visitors.

Every successful public read (the JSON lists and items, the HTML pages, the Atom feed) carries an
``ETag`` made from its body and ``Cache-Control: public, max-age=60``; a client or proxy that sends
``If-None-Match`` with the ETag it holds gets ``304 Not Modified`` without the body. A minute is how
stale a citizen may see a list: an act withdrawn now leaves every cache within it. Nothing public
depends on who asks (no credentials, no cookies), so one cached copy serves everyone.
"""

from __future__ import annotations

from flask import Response, request

PUBLIC_MAX_AGE_S = 60


def cacheable(response: Response) -> Response:
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.is_streamed:
        return response
    response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE_S}"
    response.add_etag()
    response.make_conditional(request)  # turns it into a 304 in place when If-None-Match holds its ETag
    return response
