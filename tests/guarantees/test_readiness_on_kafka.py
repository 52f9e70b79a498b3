"""Readiness matches the guarantees (docs/operations.md, "Probes"), on a real broker that is stopped and started.

web is ready while its database answers, so it stays in its Service and accepts commands into the outbox
while the broker is down; the worker, which needs the broker, says it is not ready and names the broker.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.support.intake_keys import sealing_env
from tests.support.services import (
    ServiceProcess,
    free_port,
    guidance_command,
    migrate_databases,
    officer_headers,
    run_cli,
    wait_for,
)

pytestmark = pytest.mark.kafka


def _status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=10).status_code
    except requests.RequestException:
        return None


def test_web_stays_ready_and_accepts_commands_while_the_worker_reports_the_broker_down(
    tmp_path: Path, restartable_kafka
) -> None:
    worker_port = free_port()
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": restartable_kafka.bootstrap_servers,
        "GUIDANCE_HTTP_PORT": str(free_port()),
        "GUIDANCE_WORKER_HTTP_PORT": str(worker_port),
        "GUIDANCE_AUTH_DEV_KEYS": "true",
        **sealing_env(),  # on Kafka intake makes no keys of its own, and it seals by default
    }
    migrate_databases(env, "intake")
    assert run_cli("intake", "provision", env).returncode == 0
    web = ServiceProcess("intake", "web", env, tmp_path).start().wait_healthy()
    worker = ServiceProcess("intake", "worker", env, tmp_path).start()
    worker_url = f"http://127.0.0.1:{worker_port}"
    try:
        wait_for(lambda: _status(f"{worker_url}/readyz") == 200, timeout_s=60)
        assert requests.get(f"{worker_url}/healthz", timeout=10).status_code == 200
        assert "guidance_outbox_pending" in requests.get(f"{worker_url}/metrics", timeout=10).text
        assert (
            'guidance_worker_ready{check="broker",service="intake"} 1.0'
            in requests.get(f"{worker_url}/metrics", timeout=10).text
        )
        assert requests.get(f"{web.url}/readyz", timeout=10).status_code == 200
        officer = officer_headers(env)

        restartable_kafka.stop()
        ready = requests.get(f"{web.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok"}
        created = requests.post(f"{web.url}/v1/guidance", json=guidance_command(), headers=officer, timeout=10)
        assert created.status_code == 201, created.text
        not_ready = requests.get(f"{worker_url}/readyz", timeout=10)
        assert not_ready.status_code == 503, not_ready.text
        body = not_ready.json()
        assert body["type"].endswith("not-ready") and "broker" in body["detail"]
        assert "unreachable" in body["checks"]["broker"] and body["checks"]["database"] == "ok"
        assert "unreachable" in body["checks"].get("consumer_lag", "unreachable")  # fails fast, never hangs
        scraped = requests.get(f"{worker_url}/metrics", timeout=10).text
        assert "guidance_outbox_unpublished 1.0" in scraped
        # what GuidanceWorkerNotReady watches (deploy/prometheus/alerts.yaml)
        assert 'guidance_worker_ready{check="broker",service="intake"} 0.0' in scraped
        assert 'guidance_worker_ready{check="database",service="intake"} 1.0' in scraped
        assert requests.get(f"{worker_url}/healthz", timeout=10).status_code == 200  # alive: no restart

        restartable_kafka.start()
        wait_for(lambda: _status(f"{worker_url}/readyz") == 200, timeout_s=60)
        assert requests.get(f"{web.url}/readyz", timeout=10).status_code == 200
        drained = "guidance_outbox_unpublished 0.0"  # the command accepted meanwhile reached the broker
        wait_for(lambda: drained in requests.get(f"{worker_url}/metrics", timeout=10).text, timeout_s=120)
    finally:
        worker.stop()
        web.stop()
