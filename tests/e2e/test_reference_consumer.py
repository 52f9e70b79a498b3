"""The reference consumer in Java (examples/consumers/java) against the real broker, after a scenario
through all four services: it parses every record with the CloudEvents SDK, validates the data against
the JSON Schemas a service publishes over HTTP, drops duplicates by event id, checks each aggregate's
sequence, and its read model (acts per department) equals intake's own ledger. Then a duplicate, an
invalid record and a gap are put on the topic by hand, and it reports each of them."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from werkzeug.serving import make_server

from guidance_assessment.bootstrap import SPEC as ASSESSMENT
from guidance_assessment.bootstrap import create_app as create_assessment
from guidance_disclosure.bootstrap import SPEC as DISCLOSURE
from guidance_intake.bootstrap import SPEC as INTAKE
from guidance_intake.bootstrap import create_app as create_intake
from guidance_revisit.bootstrap import SPEC as REVISIT
from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from tests.support.auth import AuthKeys
from tests.support.intake_keys import free_port, opening_env, sealing_env
from tests.support.schema import migrated_runtime
from tests.support.services import close_a_penalty_case, guidance_command

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "examples" / "consumers" / "java"
TOPICS = ("intake.events", "revisit.events", "disclosure.events", "assessment.events")


@pytest.fixture(scope="module")
def consumer_jar() -> Path:
    """Built from its pom.xml by Maven, its dependencies from Maven Central (as a county's build would)."""
    mvn = shutil.which("mvn")
    assert mvn, "Maven is needed to build the reference consumer: ./run-tests installs it"
    built = subprocess.run(
        [mvn, "-q", "-B", "-f", str(PROJECT / "pom.xml"), "package"], capture_output=True, text=True, timeout=900
    )
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    return PROJECT / "target" / "guidance-consumer.jar"


@pytest.fixture
def key_api_port() -> int:
    """Where the test serves intake's app: its event schemas, and the key API disclosure opens sealed fields with."""
    return free_port()


@pytest.fixture
def suite(tmp_path: Path, kafka_bootstrap: str, auth_keys: AuthKeys, key_api_port: int) -> Iterator[dict[str, Runtime]]:
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "GUIDANCE_TOPIC_PREFIX": f"rc{uuid.uuid4().hex[:6]}",
    }
    # as shipped: intake seals persons' fields (given its keys on Kafka), disclosure opens them through its key API
    own = {"intake": sealing_env(), "disclosure": opening_env(f"http://127.0.0.1:{key_api_port}", auth_keys)}
    runtimes = {
        spec.name: migrated_runtime(spec, Settings.from_env(spec.name, {**env, **own.get(spec.name, {})}))
        for spec in (INTAKE, REVISIT, DISCLOSURE, ASSESSMENT)
    }
    runtimes["intake"].provision()
    yield runtimes
    for runtime in reversed(runtimes.values()):
        runtime.close()


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def run_consumer(jar: Path, runtime: Runtime, schemas: str, out: Path) -> dict[str, Any]:
    java = shutil.which("java")
    assert java, "Java 17 is needed to run the reference consumer"
    args = [java, "-jar", str(jar), "--bootstrap", runtime.settings.kafka_bootstrap_servers, "--schemas", schemas]
    args += ["--topic-prefix", runtime.settings.topic_prefix, "--timeout-s", "120", "--out", str(out)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


def records_on(runtime: Runtime, topic: str) -> list[Any]:
    consumer = KafkaConsumer(
        runtime.transport.physical(topic),  # type: ignore[attr-defined]
        bootstrap_servers=runtime.settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=3000,
    )
    try:
        return list(consumer)
    finally:
        consumer.close()


def test_the_java_consumer_reads_every_topic_and_agrees_with_the_suite(
    suite: dict[str, Runtime], consumer_jar: Path, auth_keys: AuthKeys, tmp_path: Path, key_api_port: int
) -> None:
    intake, revisit, disclosure, assessment = (
        suite[name] for name in ("intake", "revisit", "disclosure", "assessment")
    )
    headers = auth_keys.headers("e2e", DEPARTMENT_ID, ["officer", "reviewer", "supervisor", "auditor"])
    intake_app = create_intake(intake, testing=True, auth=auth_keys.settings())
    intake_api = intake_app.test_client()
    assessment_api = create_assessment(assessment, testing=True, auth=auth_keys.settings()).test_client()
    assessment.deps = replace(assessment.deps, now=lambda: datetime(2026, 1, 10, 2, 0, tzinfo=UTC))

    # The schemas as a consumer fetches them, and the key API disclosure opens persons' fields with: over HTTP,
    # from a running service.
    server = make_server("127.0.0.1", key_api_port, intake_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    schemas = f"http://127.0.0.1:{server.server_port}/schemas/events/"
    try:
        # Three guidance acts and a penalty case closed: events on intake.events; revisit plans and
        # schedules from them, disclosure publishes them, assessment opens a period and publishes a scorecard.
        for matter in ("提醒一", "提醒二", "提醒三"):
            _ok(intake_api.post("/v1/guidance", json=guidance_command(matter=matter), headers=headers), 201)
        close_a_penalty_case(intake_api, headers)
        intake.relay().drain()
        for service in (revisit, disclosure):
            service.runner().drain(timeout_s=60)
            service.relay().drain()
        _ok(assessment_api.post("/v1/assessment/periods", json={"year": 2025}, headers=headers), 201)
        _ok(assessment_api.post("/v1/assessment/periods/2025/publication", headers=headers), 201)
        assessment.relay().drain()

        on_topics = {topic: records_on(intake, topic) for topic in TOPICS}
        assert all(on_topics.values()), {topic: len(records) for topic, records in on_topics.items()}
        types = Counter(dict(r.headers)["ce_type"].decode() for records in on_topics.values() for r in records)

        report = run_consumer(consumer_jar, intake, schemas, tmp_path / "report.json")

        ledger = intake_api.get(
            "/v1/ledger",
            query_string={"department_id": DEPARTMENT_ID, "from": "2024-01-01", "to": "2026-12-31", "format": "csv"},
            headers=headers,
        )
        assert ledger.status_code == 200, ledger.get_data(as_text=True)
        rows = list(csv.reader(io.StringIO(ledger.get_data(as_text=True).lstrip("\ufeff"))))[1:]
        assert report["acts_per_department"] == {DEPARTMENT_ID: len(rows)} == {DEPARTMENT_ID: 3}
        assert report["events_per_type"] == dict(types)
        assert report["records"] == report["distinct_events"] == sum(types.values())
        assert (report["duplicates"], report["invalid"], report["out_of_sequence"]) == (0, [], [])

        # What it must notice: the same event delivered again, data its schema refuses, a gap in an aggregate.
        [issued, *_] = [
            r for r in on_topics["intake.events"] if dict(r.headers)["ce_type"] == b"guidance.GuidanceIssued.v1"
        ]
        again = dict(issued.headers)
        broken = {**again, "ce_id": str(uuid.uuid4()).encode(), "ce_sequence": b"2"}
        gap = {**again, "ce_id": str(uuid.uuid4()).encode(), "ce_sequence": b"5"}
        data = json.loads(issued.value)
        invalid_data = json.dumps({**data, "department_id": 12345}).encode()
        producer = KafkaProducer(bootstrap_servers=intake.settings.kafka_bootstrap_servers)
        for record_headers, value in ((again, issued.value), (broken, invalid_data), (gap, issued.value)):
            producer.send(issued.topic, key=issued.key, value=value, headers=list(record_headers.items()))
        producer.flush()
        producer.close()

        second = run_consumer(consumer_jar, intake, schemas, tmp_path / "second.json")
    finally:
        server.shutdown()

    assert second["duplicates"] == 1
    assert [line.split(" ")[0] for line in second["invalid"]] == [broken["ce_id"].decode()]
    assert second["out_of_sequence"] == [f"{issued.key.decode()}: expected 2, got 5 (guidance.GuidanceIssued.v1)"]
    assert second["acts_per_department"] == {DEPARTMENT_ID: 4}  # the gap's event is a new id: counted, and reported
