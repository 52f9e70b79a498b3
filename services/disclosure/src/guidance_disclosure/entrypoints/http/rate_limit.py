"""A per-client token bucket for the public endpoints, which need no credentials and so invite scraping.

In process and in memory on purpose: Flask-Limiter is not installed in the suite, and a bucket per
client IP is enough to keep one client from starving the others on one web process. Several web
processes (gunicorn workers, replicas) each keep their own buckets, so the effective limit is per
process: a deployment with several rate-limits at its ingress (docs/operations.md, "Behind a proxy").
The client is ``request.remote_addr``: the real client's address when GUIDANCE_TRUSTED_PROXIES names
the proxy hops in front (werkzeug's ProxyFix, applied by ``create_base_app``), the peer's otherwise,
so a client cannot pick its own bucket with a forged X-Forwarded-For.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from flask import Flask, Response, request

from guidance_shared.web.problems import http_error, problem_response

PUBLIC_PREFIX = "/public/"
MAX_CLIENTS = 10_000


class TokenBucketLimiter:
    """``per_minute`` requests per client, refilled continuously; a burst up to ``per_minute`` is allowed."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, client: str) -> float:
        """Take a token: 0.0 when allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                self._forget_idle(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        """Bound memory: past MAX_CLIENTS, drop clients whose bucket has refilled (they lose nothing)."""
        if len(self._buckets) <= MAX_CLIENTS:
            return
        full_after = self.capacity / self.rate
        for client, (_tokens, last) in list(self._buckets.items()):
            if now - last >= full_after:
                del self._buckets[client]


def install_rate_limit(app: Flask, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
    """Limit every ``/public/`` request; ``per_minute`` 0 turns limiting off."""
    if per_minute <= 0:
        return
    limiter = TokenBucketLimiter(per_minute, clock)
    app.extensions["guidance"]["public_rate_limiter"] = limiter

    def check() -> Response | None:
        if not request.path.startswith(PUBLIC_PREFIX):
            return None
        wait = limiter.acquire(request.remote_addr or "unknown")
        if wait <= 0.0:
            return None
        return problem_response(http_error(429), {"Retry-After": str(max(1, math.ceil(wait)))})

    app.before_request(check)
