"""The slice through real OS processes: intake (web + worker) and disclosure (web + worker).

Run over the embedded log and over the real Kafka broker; the same test body.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
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


def _start_suite(env: dict[str, str], tmp_path: Path, started: list[ServiceProcess]) -> list[ServiceProcess]:
    """intake and disclosure, web and worker each; every process is in ``started`` (what the fixture stops) the
    moment it runs, so one that fails to come up does not leave the others running after the test."""
    migrate_databases(env, "intake", "disclosure")
    provisioned = run_cli("intake", "provision", {**env, "GUIDANCE_HTTP_PORT": "1"})
    assert provisioned.returncode == 0, provisioned.stderr
    processes = []
    for service in ("intake", "disclosure"):
        port = str(free_port())
        for command in ("web", "worker"):
            process = ServiceProcess(service, command, {**env, "GUIDANCE_HTTP_PORT": port}, tmp_path)
            started.append(process)
            processes.append(process.start())
    for p in processes:
        if p.command == "web":
            p.wait_healthy()
    return processes


def _journey(processes: list[ServiceProcess]) -> None:
    intake = next(p for p in processes if p.service == "intake" and p.command == "web")
    disclosure = next(p for p in processes if p.service == "disclosure" and p.command == "web")
    headers = {**officer_headers(intake.env), "Idempotency-Key": str(uuid.uuid4())}
    created = requests.post(f"{intake.url}/v1/guidance", json=guidance_command(), headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    guidance_id = created.json()["guidance_id"]

    def published() -> requests.Response | None:
        response = requests.get(f"{disclosure.url}/public/v1/guidance/{guidance_id}", timeout=5)
        return response if response.status_code == 200 else None

    page = wait_for(published, timeout_s=120)  # a loaded CI machine joins the group slowly
    assert page.json()["doc_no"] == created.json()["details"]["doc_no"]
    ready = requests.get(f"{disclosure.url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text


@pytest.fixture
def stop_all() -> Iterator[list[ServiceProcess]]:
    processes: list[ServiceProcess] = []
    yield processes
    for p in processes:
        p.stop()


def test_slice_over_the_embedded_log(tmp_path: Path, stop_all: list[ServiceProcess]) -> None:
    env = {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_TRANSPORT": "embedded", "GUIDANCE_AUTH_DEV_KEYS": "true"}
    _start_suite(env, tmp_path, stop_all)
    _journey(stop_all)


@pytest.mark.kafka
def test_slice_over_the_real_broker(tmp_path: Path, kafka_bootstrap: str, stop_all: list[ServiceProcess]) -> None:
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "GUIDANCE_TOPIC_PREFIX": f"slice{uuid.uuid4().hex[:6]}",
        "GUIDANCE_AUTH_DEV_KEYS": "true",
        # on Kafka intake makes no keys of its own and seals by default; disclosure shares the pseudonym key
        **sealing_env(),
    }
    _start_suite(env, tmp_path, stop_all)
    _journey(stop_all)
