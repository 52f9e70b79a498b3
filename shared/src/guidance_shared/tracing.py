"""OpenTelemetry for the suite: a span per HTTP request and per consumed record, one trace across services.

The trace context crosses services in the records themselves: the event store writes the current
flow's ``traceparent`` (``guidance_shared.flow``) into every event's ``ce_traceparent`` header, the
relay sends the outbox row as it is, and the consumer runner continues the trace from that header
(:func:`consumed`), so a revisit scheduled from a case closure is a span in the closure's trace.

Exporting is optional. With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, :func:`configure_tracing` installs
the SDK with a batching OTLP/HTTP exporter, Flask's instrumentation makes the request spans and the
consumer runner makes a span per record. Without it nothing of the SDK is loaded: the trace context
is still continued (a new span id per hop, made by ``flow``), so records and log lines carry trace
ids either way, at the cost of a few random bits.

The provider is this module's, not OpenTelemetry's global one: a test can configure and drop it, and
a library that uses the global API in the same process is not exported by accident.

Spans leave the process, so they obey the rule the logs obey: no personal data. Every exporter is wrapped in
:class:`ScrubbingExporter`, which drops what the instrumentation records about the caller (address, user
agent, query string) and scrubs identifying numbers from exception texts, as the log processor does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from guidance_shared.flow import Flow, TraceParent, flow_scope
from guidance_shared.logging import log_context
from guidance_shared.privacy import scrub_text

if TYPE_CHECKING:
    from flask import Flask
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
    from opentelemetry.trace import Tracer

    from guidance_shared.envelope import Envelope

#: paths whose requests make no span (and log at debug): probes and scrapes every few seconds would drown both
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
#: the same, as the Flask instrumentation's excluded URLs: patterns searched in the full URL, so anchored
UNTRACED_URLS = ",".join(rf"^https?://[^/]+{re.escape(path)}(\?|$)" for path in sorted(QUIET_PATHS))

#: attributes the instrumentation records that say who called or carry a query string: never exported
_DROPPED_ATTRIBUTES = frozenset(
    {
        "net.peer.ip",
        "client.address",
        "http.client_ip",
        "http.user_agent",
        "user_agent.original",
        "url.query",
        "exception.stacktrace",
    }
)
#: attributes holding a URL or a target: exported without the query string
_URL_ATTRIBUTES = frozenset({"http.target", "http.url", "url.full"})
#: attributes holding free text that may quote the data that failed: exported scrubbed
_TEXT_ATTRIBUTES = frozenset({"exception.message"})


@dataclass
class _Tracing:
    provider: TracerProvider | None = None
    tracer: Tracer | None = None


_state = _Tracing()


def configure_tracing(service: str, endpoint: str | None, *, exporter: SpanExporter | None = None) -> bool:
    """Export this process's spans to the OTLP/HTTP collector at ``endpoint`` (its base URL; traces go
    to ``<endpoint>/v1/traces``), or, without one, export nothing and create no spans. ``exporter``
    replaces the OTLP one (tests). Replaces an earlier configuration, flushing it. True if enabled."""
    shutdown_tracing()
    if not endpoint and exporter is None:
        return False
    # Imported here: a process that exports nothing never loads the SDK.
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=traces_url(endpoint or ""))
    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.namespace": "guidance"}))
    # Duck-typed rather than a subclass of the SDK's SpanExporter, so importing this module loads no SDK.
    provider.add_span_processor(BatchSpanProcessor(cast("SpanExporter", ScrubbingExporter(exporter))))
    _state.provider = provider
    _state.tracer = provider.get_tracer("guidance_shared")
    return True


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL under a collector's base URL, as the OpenTelemetry SDKs derive it."""
    return endpoint.rstrip("/") + "/v1/traces"


def tracing_enabled() -> bool:
    return _state.provider is not None


def shutdown_tracing() -> None:
    """Send what is buffered and stop exporting (a worker's or a test's end)."""
    provider, _state.provider, _state.tracer = _state.provider, None, None
    if provider is not None:
        provider.shutdown()


def flush_tracing(timeout_ms: int = 5000) -> bool:
    """Export every finished span now; True if they all went (or nothing is exported)."""
    return _state.provider.force_flush(timeout_ms) if _state.provider is not None else True


def instrument_app(app: Flask) -> None:
    """A server span per request, its parent the caller's ``traceparent``; nothing when not exporting.
    Call it before the app's own request hooks, so they run inside the span."""
    if _state.provider is None:
        return
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    FlaskInstrumentor.instrument_app(app, tracer_provider=_state.provider, excluded_urls=UNTRACED_URLS)


def request_traceparent(caller: TraceParent | None) -> str:
    """This request's trace context: the instrumentation's span when exporting, else a new span id in the
    caller's trace (a new trace without a valid caller's ``traceparent``)."""
    if _state.provider is not None:
        active = _active_traceparent()
        if active is not None:
            return active
    return str(caller.child() if caller is not None else TraceParent.new())


def consumed(envelope: Envelope, topic: str) -> AbstractContextManager[Flow]:
    """The flow of applying one consumed record: its correlation id (its own id if it has none), the
    record as the cause, and a span in the record's trace (a new trace if its ``ce_traceparent`` is
    missing or invalid). Events stored inside the block carry these; log lines inside it show them.
    Without an exporter it is a context variable set and reset, the span id made only if asked for."""
    correlation = envelope.correlationid or envelope.id
    if _state.tracer is None:
        return flow_scope(Flow(correlation, envelope.id, continues=envelope.traceparent or ""))
    return _consumed_span(_state.tracer, envelope, topic, correlation)


@contextmanager
def applying(envelope: Envelope, topic: str, partition: int, offset: int) -> Iterator[Flow]:
    """Applying one consumed record, as every path that applies records does it (the careful one, the plain
    one, a projection's ``apply_many``): log lines name the record, what is stored is in its flow."""
    with (
        log_context(event_id=envelope.id, topic=topic, partition=partition, offset=offset),
        consumed(envelope, topic) as flow,
    ):
        yield flow


@contextmanager
def _consumed_span(tracer: Tracer, envelope: Envelope, topic: str, correlation: str) -> Iterator[Flow]:
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier = {"traceparent": envelope.traceparent} if envelope.traceparent else {}
    parent_context = TraceContextTextMapPropagator().extract(carrier)
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.message.id": envelope.id,
        "cloudevents.event_type": envelope.type,
    }
    # The exception is recorded by its type only: its message may quote the record's data.
    with tracer.start_as_current_span(
        f"process {topic}",
        context=parent_context,
        kind=SpanKind.CONSUMER,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        own_traceparent = _active_traceparent() or str(TraceParent.new())
        try:
            with flow_scope(Flow(correlation, envelope.id, own_traceparent)) as flow:
                yield flow
        except BaseException as exc:
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def _active_traceparent() -> str | None:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


class ScrubbingExporter:
    """Wraps the exporter: each span leaves without the caller's address and user agent, without query
    strings, and with identifying numbers scrubbed from exception texts and the status description.

    Done at export because the Flask instrumentation sets its attributes after every hook it offers, so
    neither a request hook nor a span processor's ``on_start`` can take them out for good."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([scrubbed_span(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def scrubbed_span(span: ReadableSpan) -> ReadableSpan:
    """``span`` as it may leave the process (see :class:`ScrubbingExporter`)."""
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.trace import Status

    status = span.status
    if status.description:
        status = Status(status.status_code, scrub_text(status.description))
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_scrubbed_attributes(span.attributes or {}),
        events=[
            Event(event.name, _scrubbed_attributes(event.attributes or {}), event.timestamp) for event in span.events
        ],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _scrubbed_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if key in _DROPPED_ATTRIBUTES:
            continue
        if key in _URL_ATTRIBUTES and isinstance(value, str):
            value = value.split("?", 1)[0]
        elif key in _TEXT_ATTRIBUTES and isinstance(value, str):
            value = scrub_text(value)
        out[key] = value
    return out
