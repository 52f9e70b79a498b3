"""Probes, metrics and the request id: what operators and callers rely on to find a request."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine

from guidance_shared.web import PROBLEM_MEDIA_TYPE
from tests.shared.web.conftest import build_app


def test_healthz_says_alive(client: Any) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_runs_the_database_check_and_named_checks(sqlite_engine: Engine) -> None:
    app, _ = build_app(sqlite_engine, checks={"broker": lambda: None})
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_is_503_naming_each_failing_check(sqlite_engine: Engine) -> None:
    def broker() -> None:
        raise ConnectionError("no broker at kafka:9092\nsecond line")

    def lag() -> None:
        raise TimeoutError

    app, _ = build_app(sqlite_engine, checks={"broker": broker, "consumer_lag": lag})
    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.mimetype == PROBLEM_MEDIA_TYPE
    body = response.get_json(force=True)
    assert body["checks"] == {
        "database": "ok",
        "broker": "ConnectionError: no broker at kafka:9092",
        "consumer_lag": "TimeoutError",
    }
    assert "broker" in body["detail"] and "consumer_lag" in body["detail_zh"]


def test_metrics_counts_requests_by_route_and_status(client: Any) -> None:
    client.get("/healthz")
    client.get("/v1/nowhere")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{endpoint="/healthz",method="GET",status="200"} 1.0' in text
    assert 'http_requests_total{endpoint="<unmatched>",method="GET",status="404"} 1.0' in text
    assert 'http_request_duration_seconds_count{endpoint="/healthz",method="GET"} 1.0' in text
    assert 'guidance_build_info{service="test-svc",version="1.2.3"} 1.0' in text


def test_apps_in_one_process_keep_their_own_registries() -> None:
    first, first_registry = build_app()
    _second, second_registry = build_app()
    first.test_client().get("/healthz")
    labels = {"method": "GET", "endpoint": "/healthz", "status": "200"}
    assert first_registry.get_sample_value("http_requests_total", labels) == 1
    assert second_registry.get_sample_value("http_requests_total", labels) is None


def test_a_sane_request_id_is_echoed(client: Any) -> None:
    response = client.get("/v1/nowhere", headers={"X-Request-Id": "county-42:abc.1"})
    assert response.headers["X-Request-Id"] == "county-42:abc.1"
    assert response.get_json(force=True)["request_id"] == "county-42:abc.1"


def test_a_missing_or_odd_request_id_is_replaced(client: Any) -> None:
    for headers in ({}, {"X-Request-Id": "bad id <script>"}, {"X-Request-Id": "x" * 500}):
        echoed = client.get("/healthz", headers=headers).headers["X-Request-Id"]
        assert uuid.UUID(echoed)


def test_the_worker_ready_gauge_is_one_per_passing_check_and_zero_per_failing_one() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from guidance_shared.metrics import ReadinessCollector

    def broker() -> None:
        raise ConnectionError("Kafka broker kafka:9092 unreachable")

    registry = CollectorRegistry()
    registry.register(ReadinessCollector("revisit", {"database": lambda: None, "broker": broker}))
    text = generate_latest(registry).decode()
    assert 'guidance_worker_ready{check="database",service="revisit"} 1.0' in text
    assert 'guidance_worker_ready{check="broker",service="revisit"} 0.0' in text
