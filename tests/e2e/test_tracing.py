"""One command followed through the suite: intake's HTTP call, the events it records, what revisit and disclosure
do about them, and every log line on the way, all in one trace under one correlation id (issue 17, point 3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from guidance_disclosure.bootstrap import SPEC as DISCLOSURE
from guidance_intake.bootstrap import SPEC as INTAKE
from guidance_intake.bootstrap import create_app as create_intake
from guidance_revisit.bootstrap import SPEC as REVISIT
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import DEPARTMENT_ID, example
from guidance_shared.flow import parse_traceparent
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.auth import AuthKeys
from tests.support.logs import captured_logs
from tests.support.schema import migrated_runtime
from tests.support.services import case_command, decision_command, guidance_command

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER = f"00-{CALLER_TRACE}-b7ad6b7169203331-01"
TOPICS = ("intake.events", "revisit.events", "disclosure.events")


@pytest.fixture
def suite(tmp_path: Path) -> Iterator[tuple[Runtime, Runtime, Runtime, EmbeddedTransport]]:
    env = {"GUIDANCE_VAR_DIR": str(tmp_path)}
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    runtimes = [
        migrated_runtime(spec, Settings.from_env(spec.name, env), transport=transport)
        for spec in (INTAKE, REVISIT, DISCLOSURE)
    ]
    runtimes[0].provision()
    intake, revisit, disclosure = runtimes
    yield intake, revisit, disclosure, transport
    for runtime in runtimes:
        runtime.engine.dispose()
    transport.close()


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    with captured_logs(capsys, "e2e", "DEBUG") as logs:
        yield logs.lines
    structlog.contextvars.clear_contextvars()


def _propagate(intake: Runtime, revisit: Runtime, disclosure: Runtime) -> None:
    """Intake's outbox to the log, both consumers, and what they recorded to the log in turn."""
    intake.relay().drain()
    revisit.runner().drain()
    disclosure.runner().drain()
    revisit.relay().drain()
    disclosure.relay().drain()


def _records(transport: EmbeddedTransport) -> list[Envelope]:
    """Every record on the three topics, as a downstream consumer reads them."""
    consumer = transport.consumer("trace-reader")
    consumer.subscribe(list(TOPICS), lambda _tp: 0)
    envelopes: list[Envelope] = []
    while batch := consumer.poll(1000, 0.2):
        envelopes.extend(Envelope.from_record(record) for record in batch)
    consumer.close()
    return envelopes


def test_one_guidance_act_is_one_trace_and_one_correlation_on_every_event_and_log_line(
    suite: tuple[Runtime, Runtime, Runtime, EmbeddedTransport], auth_keys: AuthKeys, log_lines: Any
) -> None:
    intake, revisit, disclosure, transport = suite
    api = create_intake(intake, testing=True, auth=auth_keys.settings()).test_client()
    headers = {
        **auth_keys.headers("e2e", DEPARTMENT_ID, ["officer"]),
        "X-Request-Id": "req-act-1",
        "X-Correlation-Id": "county-portal-4711",
        "traceparent": CALLER,
    }
    created = api.post("/v1/guidance", json=guidance_command(), headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.headers["X-Correlation-Id"] == "county-portal-4711"
    _propagate(intake, revisit, disclosure)

    events = _records(transport)
    # The act, revisit's correction check and disclosure's item: the command reached both services.
    assert {"guidance.GuidanceIssued.v1", "guidance.RevisitScheduled.v1"} <= {e.type for e in events}
    assert {e.source.rsplit("/", 1)[-1] for e in events} >= {"intake", "revisit", "disclosure"}
    (issued,) = [e for e in events if e.type == "guidance.GuidanceIssued.v1"]
    for event in events:
        trace = parse_traceparent(event.traceparent)
        assert trace is not None and trace.trace_id == CALLER_TRACE, (event.type, event.traceparent)
        assert event.correlationid == "county-portal-4711", event.type
        # Caused by the request in intake, by intake's event downstream.
        assert event.causationid == ("req-act-1" if event is issued else issued.id), event.type
    assert len({e.traceparent for e in events if e is not issued}) >= 2  # a span per service, not one copied

    lines = log_lines()
    flowing = [line for line in lines if "trace_id" in line or "correlation_id" in line]
    assert {"http_request", "revisit.scheduled", "disclosure.item_opened"} <= {line["event"] for line in flowing}
    for line in flowing:
        assert (line["trace_id"], line["correlation_id"]) == (CALLER_TRACE, "county-portal-4711"), line
    # What names the command's request or events is in its flow too.
    ids = {"req-act-1", *(e.id for e in events)}
    assert all(line in flowing for line in lines if {line.get("request_id"), line.get("event_id")} & ids)


def test_a_revisit_scheduled_from_a_case_closure_has_the_closures_correlation_id(
    suite: tuple[Runtime, Runtime, Runtime, EmbeddedTransport], auth_keys: AuthKeys
) -> None:
    intake, revisit, disclosure, transport = suite
    api = create_intake(intake, testing=True, auth=auth_keys.settings()).test_client()
    officer = auth_keys.headers("e2e", DEPARTMENT_ID, ["officer", "reviewer", "supervisor"])
    case_id = api.post("/v1/cases", json=case_command(), headers=officer).get_json()["case_id"]
    review = {"legal_review": example("guidance.CaseLegalReviewed.v1")["legal_review"]}
    assert api.post(f"/v1/cases/{case_id}/legal-review", json=review, headers=officer).status_code == 200
    assert api.post(f"/v1/cases/{case_id}/decision", json=decision_command(), headers=officer).status_code == 200
    closure = api.post(
        f"/v1/cases/{case_id}/closure",
        json={"outcome": "executed"},
        headers={**officer, "X-Correlation-Id": "closure-42"},
    )
    assert closure.status_code == 200, closure.get_json()
    _propagate(intake, revisit, disclosure)

    events = _records(transport)
    (closed,) = [e for e in events if e.type == "guidance.CaseClosed.v1"]
    scheduled = [e for e in events if e.type == "guidance.RevisitScheduled.v1" and e.causationid == closed.id]
    assert scheduled and all(e.data["kind"] == "case_revisit" for e in scheduled)
    closure_trace = parse_traceparent(closed.traceparent)
    assert closure_trace is not None
    for event in scheduled:
        trace = parse_traceparent(event.traceparent)
        assert event.correlationid == "closure-42" and trace is not None and trace.trace_id == closure_trace.trace_id
    # The earlier commands were flows of their own: nothing else carries the closure's correlation id.
    assert {e.id for e in events if e.correlationid == "closure-42"} == {closed.id, *(e.id for e in scheduled)}
