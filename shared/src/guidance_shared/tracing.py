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
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from guidance_shared.flow import Flow, TraceParent, flow_scope, new_span_id, new_trace_id

if TYPE_CHECKING:
    from flask import Flask
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer

    from guidance_shared.envelope import Envelope

#: paths whose requests make no span: probes and scrapes every few seconds would drown the traces
UNTRACED_PATHS = "healthz,readyz,metrics"


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
    provider.add_span_processor(BatchSpanProcessor(exporter))
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

    FlaskInstrumentor.instrument_app(app, tracer_provider=_state.provider, excluded_urls=UNTRACED_PATHS)


def request_traceparent(caller: TraceParent | None) -> str:
    """This request's trace context: the instrumentation's span when exporting, else a new span id in the
    caller's trace (a new trace without a valid caller's ``traceparent``)."""
    if _state.provider is not None:
        active = _active_traceparent()
        if active is not None:
            return active
    return str(caller.child() if caller is not None else TraceParent(new_trace_id(), new_span_id()))


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
    with tracer.start_as_current_span(
        f"process {topic}", context=parent_context, kind=SpanKind.CONSUMER, attributes=attributes
    ):
        own_traceparent = _active_traceparent() or str(TraceParent(new_trace_id(), new_span_id()))
        with flow_scope(Flow(correlation, envelope.id, own_traceparent)) as flow:
            yield flow


def _active_traceparent() -> str | None:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
