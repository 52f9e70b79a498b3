"""Per-request identity, flow, access log and HTTP metrics.

A county system retrying a call, a support ticket and a log search all meet
on the request id, so it is taken from ``X-Request-Id`` when the caller sent a
sane one, made up otherwise, echoed back, and bound into every log line.

Each request is also the start (or the next hop) of a flow (``guidance_shared.flow``): its
correlation id is the caller's ``X-Correlation-Id``, else the trace id of the caller's
``traceparent``, else the request id; its cause is the request; its trace context continues the
caller's. Every event the request stores and every log line it writes carry them, and the response
echoes ``X-Correlation-Id``. A caller's value that is not sane is ignored, never an error.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import structlog
from flask import Flask, Response, g, has_request_context, request
from prometheus_client import CollectorRegistry, Counter, Histogram

from guidance_shared.flow import Flow, enter_flow, leave_flow, parse_traceparent, sane_id
from guidance_shared.logging import bind_context, get_logger
from guidance_shared.tracing import QUIET_PATHS, request_traceparent

REQUEST_ID_HEADER = "X-Request-Id"
CORRELATION_ID_HEADER = "X-Correlation-Id"
TRACEPARENT_HEADER = "traceparent"
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

access_log = get_logger("guidance.access")


@dataclass(frozen=True)
class HttpMetrics:
    """The two series every service exports, in the app's own registry."""

    requests: Counter
    duration: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> HttpMetrics:
        return cls(
            requests=Counter(
                "http_requests_total",
                "HTTP requests handled, by method, route and status.",
                ["method", "endpoint", "status"],
                registry=registry,
            ),
            duration=Histogram(
                "http_request_duration_seconds",
                "Time to handle an HTTP request, by method and route.",
                ["method", "endpoint"],
                registry=registry,
            ),
        )


def current_request_id() -> str:
    """The id of the request being handled ('' outside a request)."""
    if not has_request_context():
        return ""
    if "request_id" not in g:
        g.request_id = sane_id(request.headers.get(REQUEST_ID_HEADER)) or str(uuid.uuid4())
    return str(g.request_id)


def install_request_hooks(app: Flask, metrics: HttpMetrics) -> None:
    """Wire request id, flow, access log and metrics into ``app``; registered first so they run first
    (after the tracing instrumentation's hook, whose span the flow continues)."""

    @app.before_request
    def _start_request() -> None:
        g.request_started = time.perf_counter()
        request_id = current_request_id()
        g.log_tokens = bind_context(request_id=request_id)
        g.flow_token = enter_flow(request_flow(request_id))

    @app.after_request
    def _finish_request(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = current_request_id()
        flow = g.get("request_flow")
        if flow is not None and flow.correlation_id:
            response.headers[CORRELATION_ID_HEADER] = flow.correlation_id
        _observe(metrics, response.status_code)
        return response

    @app.teardown_request
    def _forget_context(_exc: BaseException | None) -> None:
        tokens = g.pop("log_tokens", None)
        if tokens:
            structlog.contextvars.reset_contextvars(**tokens)
        flow_token = g.pop("flow_token", None)
        if flow_token is not None:
            leave_flow(flow_token)


def request_flow(request_id: str) -> Flow:
    """The flow of the request being handled (kept in ``g`` for the response's header)."""
    caller = parse_traceparent(request.headers.get(TRACEPARENT_HEADER))
    correlation_id = (
        sane_id(request.headers.get(CORRELATION_ID_HEADER)) or (caller.trace_id if caller else None) or request_id
    )
    flow = Flow(correlation_id=correlation_id, causation_id=request_id, traceparent=request_traceparent(caller))
    g.request_flow = flow
    return flow


def _observe(metrics: HttpMetrics, status: int) -> None:
    seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
    method = request.method if request.method in _KNOWN_METHODS else "OTHER"
    endpoint = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    metrics.requests.labels(method=method, endpoint=endpoint, status=str(status)).inc()
    metrics.duration.labels(method=method, endpoint=endpoint).observe(seconds)
    log = access_log.debug if request.path in QUIET_PATHS else access_log.info  # probes: every few seconds
    # Path only: query strings and bodies may carry personal data.
    log(
        "http_request",
        method=request.method,
        path=request.path,
        status=status,
        duration_ms=round(seconds * 1000, 2),
    )
