"""The flow (correlation, causation, trace context): taken from a request, continued from a record, in every log
line, and exported over OTLP/HTTP only when a collector is configured."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask, jsonify

from guidance_shared.envelope import Envelope
from guidance_shared.flow import (
    Flow,
    TraceParent,
    current_flow,
    flow_scope,
    log_fields,
    parse_traceparent,
    sane_id,
)
from guidance_shared.logging import get_logger
from guidance_shared.settings import Settings, SettingsError
from guidance_shared.tracing import configure_tracing, consumed, flush_tracing, shutdown_tracing, tracing_enabled
from guidance_shared.web import create_base_app
from tests.support.logs import captured_logs

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
CALLER = f"00-{TRACE}-{SPAN}-01"


# -- the context itself -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        f"00-{TRACE}-{SPAN}",  # no flags
        f"00-{'0' * 32}-{SPAN}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero parent id
        f"ff-{TRACE}-{SPAN}-01",  # the forbidden version
        f"00-{TRACE}-{SPAN}-01-extra",  # version 00 has exactly four fields
        f"00-{TRACE[:-1]}g-{SPAN}-01",  # not hex
        f"00-{TRACE}-{SPAN}-01\r\nX-Evil: 1",
    ],
)
def test_an_invalid_traceparent_is_ignored(value: str | None) -> None:
    assert parse_traceparent(value) is None


def test_a_valid_traceparent_is_read_and_a_later_version_by_its_known_fields() -> None:
    assert parse_traceparent(CALLER) == TraceParent(TRACE, SPAN, "01")
    assert parse_traceparent(CALLER.upper()) is None  # W3C: lower-case hex only, as OpenTelemetry judges it
    assert parse_traceparent(f"01-{TRACE}-{SPAN}-00-more") == TraceParent(TRACE, SPAN, "00")
    child = TraceParent(TRACE, SPAN).child()
    assert child.trace_id == TRACE and child.span_id != SPAN and len(child.span_id) == 16
    assert parse_traceparent(str(child)) == child


def test_ids_from_a_caller_must_be_short_and_plain() -> None:
    assert sane_id("case-flow_9.1:a") == "case-flow_9.1:a"
    # random ids are kept as sent, even when a run of their digits looks like a number
    for random_id in ("f480fccc-2b71-4c63-9f7a-017607888120", "62003370-4321-4618-b553-a8a8e5906ff3", "0" * 31 + "a"):
        assert sane_id(random_id) == random_id
    assert sane_id("13800138-0001-1010-1199-003077777000") is None  # UUID-shaped, but digits alone
    for bad in ("", "-starts-with-dash", "a b", "x" * 129, "naïve", 'q"uote', "line\nbreak"):
        assert sane_id(bad) is None
    # stored with every event in clear, where erasing a person cannot reach: never an identifying number
    for personal in ("110101199003077777", "13800138000", "case-13800138000", "id:11010119900307777X"):
        assert sane_id(personal) is None


def test_a_flow_is_current_inside_its_block_only() -> None:
    assert not current_flow()
    outer = Flow("c-1", "r-1", CALLER)
    with flow_scope(outer):
        with flow_scope(Flow("c-2")):
            assert current_flow().correlation_id == "c-2"
        assert current_flow() is outer
    assert current_flow() == Flow()
    root = Flow.root()
    assert root.trace is not None and root.correlation_id == root.trace.trace_id
    assert log_fields(outer) == {"correlation_id": "c-1", "causation_id": "r-1", "trace_id": TRACE, "span_id": SPAN}


def _envelope(**changes: Any) -> Envelope:
    values: dict[str, Any] = {
        "type": "guidance.CaseClosed.v1",
        "source": "urn:guidance:intake",
        "subject": "case-1",
        "data": {},
        "id": "event-1",
        "correlationid": "closure-7",
        "traceparent": CALLER,
    }
    return Envelope(**{**values, **changes})


def test_a_consumed_record_continues_its_flow_without_an_exporter() -> None:
    assert not tracing_enabled()
    with consumed(_envelope(), "intake.events") as flow:
        assert current_flow() is flow
        assert (flow.correlation_id, flow.causation_id) == ("closure-7", "event-1")
        trace = flow.trace
        assert trace is not None and trace.trace_id == TRACE and trace.span_id != SPAN
    assert not current_flow()
    # A record written before tracing (or by someone else) starts a trace and correlates by its own id.
    with consumed(_envelope(correlationid=None, traceparent="bogus"), "intake.events") as flow:
        assert flow.correlation_id == "event-1" and flow.trace is not None and flow.trace.trace_id != TRACE


# -- requests and log lines -----------------------------------------------------------------------------------
@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    with captured_logs(capsys, "test-svc", "INFO") as logs:
        yield logs.lines


def _app() -> Flask:
    app, _api = create_base_app("flow-test", version="0", testing=True)

    @app.get("/v1/flow")
    def show() -> Any:
        get_logger("flow-test").info("flow.seen")
        flow = current_flow()
        return jsonify(correlation_id=flow.correlation_id, causation_id=flow.causation_id, traceparent=flow.traceparent)

    return app


def test_the_callers_correlation_id_and_trace_become_the_requests_flow_and_its_log_lines(json_logs: Any) -> None:
    response = (
        _app()
        .test_client()
        .get("/v1/flow", headers={"X-Request-Id": "req-1", "X-Correlation-Id": "case-flow-9", "traceparent": CALLER})
    )
    flow = response.get_json()
    assert response.headers["X-Correlation-Id"] == "case-flow-9"
    assert (flow["correlation_id"], flow["causation_id"]) == ("case-flow-9", "req-1")
    trace = parse_traceparent(flow["traceparent"])
    assert trace is not None and trace.trace_id == TRACE and trace.span_id != SPAN
    lines = [line for line in json_logs() if line["event"] in ("flow.seen", "http_request")]
    assert len(lines) == 2
    for line in lines:
        assert (line["correlation_id"], line["causation_id"], line["request_id"]) == ("case-flow-9", "req-1", "req-1")
        assert (line["trace_id"], line["span_id"]) == (TRACE, trace.span_id)


def test_a_traceparent_alone_correlates_by_its_trace_and_nothing_starts_a_new_one() -> None:
    client = _app().test_client()
    by_trace = client.get("/v1/flow", headers={"traceparent": CALLER})
    assert by_trace.get_json()["correlation_id"] == TRACE == by_trace.headers["X-Correlation-Id"]
    fresh = client.get("/v1/flow", headers={"X-Request-Id": "req-2"}).get_json()
    trace = parse_traceparent(fresh["traceparent"])
    assert fresh["correlation_id"] == "req-2" and trace is not None and trace.trace_id != TRACE


def test_bad_caller_values_are_ignored_not_an_error() -> None:
    response = (
        _app()
        .test_client()
        .get(
            "/v1/flow",
            headers={"X-Request-Id": "req-3", "X-Correlation-Id": "no spaces allowed", "traceparent": "00-zz-zz-01"},
        )
    )
    assert response.status_code == 200
    flow = response.get_json()
    assert flow["correlation_id"] == "req-3" == response.headers["X-Correlation-Id"]
    assert parse_traceparent(flow["traceparent"]) is not None


# -- export ---------------------------------------------------------------------------------------------------
class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        """Quiet: the test reads what arrived."""


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    received: list[tuple[str, str, bytes]] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    shutdown_tracing()
    server.shutdown()
    server.server_close()


def test_spans_go_to_the_configured_otlp_collector_in_the_callers_trace(
    collector: tuple[str, list[tuple[str, str, bytes]]],
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    endpoint, received = collector
    assert configure_tracing("flow-test", endpoint) and tracing_enabled()
    response = _app().test_client().get("/v1/flow", headers={"traceparent": CALLER})
    request_span = parse_traceparent(response.get_json()["traceparent"])
    assert request_span is not None and request_span.trace_id == TRACE
    record = _envelope(traceparent=str(request_span))
    with consumed(record, "intake.events") as flow:
        record_span = flow.trace
    assert record_span is not None and record_span.trace_id == TRACE
    assert flush_tracing()

    spans = []
    for path, content_type, body in received:
        assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)
    by_id = {span.span_id.hex(): span for span in spans}
    assert {span.trace_id.hex() for span in spans} == {TRACE}
    server_span, consumer_span = by_id[request_span.span_id], by_id[record_span.span_id]
    assert server_span.parent_span_id.hex() == SPAN  # the caller's span
    assert consumer_span.parent_span_id.hex() == request_span.span_id  # the record's ce_traceparent
    assert consumer_span.name == "process intake.events"


def test_without_a_collector_nothing_is_exported_and_the_setting_is_checked() -> None:
    assert Settings.from_env("intake", {}).otlp_endpoint is None
    assert configure_tracing("flow-test", Settings.from_env("intake", {}).otlp_endpoint) is False
    assert not tracing_enabled()
    endpoint = Settings.from_env("intake", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}).otlp_endpoint
    assert endpoint == "http://collector:4318"
    with pytest.raises(SettingsError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        Settings.from_env("intake", {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"})


def _exported_spans(received: list[tuple[str, str, bytes]]) -> list[Any]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    spans = []
    for _path, _type, body in received:
        for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)
    return spans


def test_exported_spans_carry_no_personal_data_nor_the_callers_address(
    collector: tuple[str, list[tuple[str, str, bytes]]],
) -> None:
    """Spans leave the process like log lines do: no query string, no caller's address or user agent, and the
    exception of a record that failed is recorded by its type, its text scrubbed of identifying numbers."""
    endpoint, received = collector
    id_no, phone = "110101199003077777", "13800138000"
    assert configure_tracing("flow-test", endpoint)
    app = _app()
    response = app.test_client().get(
        f"/v1/flow?id_number={id_no}&phone={phone}", headers={"User-Agent": "county-portal/1.0"}
    )
    assert response.status_code == 200
    with pytest.raises(ValueError), consumed(_envelope(), "intake.events"):
        raise ValueError(f"counterpart id_no={id_no} phone={phone} rejected")
    assert app.test_client().get("/healthz").status_code == 200
    assert flush_tracing()

    raw = b"".join(body for _path, _type, body in received)
    assert id_no.encode() not in raw and phone.encode() not in raw and b"county-portal" not in raw
    spans = {span.name: span for span in _exported_spans(received)}
    assert set(spans) == {"GET /v1/flow", "process intake.events"}  # no span for the probe
    keys = {attribute.key for span in spans.values() for attribute in span.attributes}
    assert not keys & {"net.peer.ip", "client.address", "http.user_agent", "user_agent.original", "url.query"}
    target = {a.key: a.value.string_value for a in spans["GET /v1/flow"].attributes}.get("http.target")
    assert target in (None, "/v1/flow")
    failed = spans["process intake.events"]
    assert failed.status.code == 2 and failed.status.message == "ValueError"  # STATUS_CODE_ERROR, by type only


def test_without_a_collector_no_opentelemetry_module_is_loaded(tmp_path) -> None:
    """The promise the configuration docs make: a process that exports nothing pays nothing for the SDK, also
    after it has served a request and applied a consumed record."""
    script = """
import sys
from guidance_shared.tracing import configure_tracing, consumed
from guidance_shared.envelope import Envelope
from guidance_shared.web import create_base_app
assert configure_tracing("flow-test", None) is False
app, _api = create_base_app("flow-test", version="0", testing=True)
assert app.test_client().get("/healthz").status_code == 200
with consumed(Envelope(type="guidance.CaseClosed.v1", source="urn:x", subject="s", data={}, id="e"), "t"):
    pass
loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry"))
print(loaded)
assert not loaded, loaded
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
