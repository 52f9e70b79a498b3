"""The suite's delivery guarantees (docs/architecture.md §4), proven on a real Kafka broker.

a. a consumer killed after its projection commit and before its offset commit applies nothing twice
b. commands accepted while the broker is down arrive exactly once, in per-aggregate order, after it returns
f. a projection dropped and rebuilt from offset zero equals the live one (through the operator CLI)

c (concurrent appends), d (poison events) and e (tampering) are proven in tests/kernel:
test_eventstore_contract.py::*::test_concurrent_appends_with_the_same_expected_version_exactly_one_wins,
test_consumer_runner.py::TestKafkaConsumerRunner::test_a_poison_event_is_dead_lettered_and_parks_only_its_aggregate,
test_eventstore_contract.py::*::test_verify_detects_an_altered_event.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
import requests
from kafka import KafkaAdminClient, KafkaConsumer
from sqlalchemy import func, select

from guidance_shared.consumer import applied_table
from guidance_shared.db import make_engine
from guidance_shared.transport.kafka_transport import KafkaTransport
from tests.support.events import guidance_story
from tests.support.intake_keys import sealing_env
from tests.support.projections import Tally
from tests.support.services import (
    ROOT,
    ServiceProcess,
    free_port,
    guidance_command,
    migrate_databases,
    officer_headers,
    run_cli,
    wait_for,
)

pytestmark = pytest.mark.kafka


def _worker(db: Path, bootstrap: str, prefix: str, group: str, marker: Path | None = None) -> subprocess.Popen:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    if marker:
        env["CRASH_MARKER"] = str(marker)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.crash_worker", str(db), bootstrap, prefix, group], cwd=ROOT, env=env
    )


def test_a_killed_consumer_restarts_without_applying_anything_twice(tmp_path: Path, kafka_bootstrap: str) -> None:
    prefix, group = f"crash{uuid.uuid4().hex[:6]}", f"disclosure{uuid.uuid4().hex[:6]}"
    transport = KafkaTransport(kafka_bootstrap, prefix=prefix)
    transport.create_topics(["intake.events", f"{group}.dlq"], 3)
    first = guidance_story(10, responses=2)
    transport.producer().publish(first)
    db, marker = tmp_path / "projection.sqlite", tmp_path / "crashed"

    crashing = _worker(db, kafka_bootstrap, prefix, group, marker)
    wait_for(marker.exists, timeout_s=60)
    crashing.send_signal(signal.SIGKILL)
    crashing.wait(10)

    # The crash happened in the window: the projection has a batch, Kafka has no committed offset.
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    committed = admin.list_group_offsets({group: None}).get(group, {})
    assert not any(o.offset > 0 for o in committed.values())
    admin.close()
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert 0 < conn.execute(select(func.count()).select_from(applied_table)).scalar_one() < len(first)

    second = guidance_story(5, responses=1)
    transport.producer().publish(second)
    restarted = _worker(db, kafka_bootstrap, prefix, group)
    assert restarted.wait(180) == 0

    rows = Tally().rows(engine)
    assert len(rows) == 15
    assert sorted(r[1] for r in rows.values()) == [2] * 5 + [3] * 10  # each event applied exactly once
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(applied_table)).scalar_one() == 40

    # Identical to a projection that never crashed, built from offset zero.
    clean_db = tmp_path / "clean.sqlite"
    assert _worker(clean_db, kafka_bootstrap, prefix, "fresh").wait(180) == 0
    assert Tally().rows(make_engine(f"sqlite:///{clean_db}")) == rows
    engine.dispose()


def test_commands_accepted_while_the_broker_is_down_arrive_exactly_once_in_order(
    tmp_path: Path, restartable_kafka
) -> None:
    bootstrap = restartable_kafka.bootstrap_servers
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "GUIDANCE_HTTP_PORT": str(free_port()),
        "GUIDANCE_AUTH_DEV_KEYS": "true",
        **sealing_env(),  # on Kafka intake makes no keys of its own, and it seals by default
    }
    migrate_databases(env, "intake")
    assert run_cli("intake", "provision", env).returncode == 0
    web = ServiceProcess("intake", "web", env, tmp_path).start().wait_healthy()
    worker = ServiceProcess("intake", "worker", env, tmp_path).start()
    try:
        officer = officer_headers(env)
        restartable_kafka.stop()
        accepted: list[str] = []
        for _ in range(50):
            created = requests.post(f"{web.url}/v1/guidance", json=guidance_command(), headers=officer, timeout=10)
            assert created.status_code == 201, created.text
            guidance_id = created.json()["guidance_id"]
            responded = requests.post(
                f"{web.url}/v1/guidance/{guidance_id}/response",
                json={"response": "accepted"},
                headers={**officer, "If-Match": '"1"'},
                timeout=10,
            )
            assert responded.status_code == 200, responded.text
            accepted.append(guidance_id)
        time.sleep(2)  # the relay keeps failing meanwhile; nothing is lost
        restartable_kafka.start()

        consumer = KafkaConsumer(
            "intake.events",
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            consumer_timeout_ms=5000,
        )
        seen: list[tuple[str, str, int]] = []
        deadline = time.monotonic() + 120
        while len(seen) < 100 and time.monotonic() < deadline:
            for message in consumer:
                headers = dict(message.headers)
                seen.append((headers["ce_subject"].decode(), headers["ce_id"].decode(), int(headers["ce_sequence"])))
        consumer.close()
        assert len(seen) == 100, worker.tail()
        assert len({event_id for _, event_id, _ in seen}) == 100  # exactly once
        by_aggregate: dict[str, list[int]] = defaultdict(list)
        for subject, _, sequence in seen:
            by_aggregate[subject].append(sequence)
        assert set(by_aggregate) == set(accepted)
        assert all(sequences == [1, 2] for sequences in by_aggregate.values())  # per-aggregate order
    finally:
        worker.stop()
        web.stop()


def test_a_rebuilt_projection_equals_the_live_one(tmp_path: Path, kafka_bootstrap: str) -> None:
    """Rebuilt beside the live one while everything keeps running (docs/architecture.md §4.7): the public API
    answers throughout, commands keep flowing, and after the swap the projection holds every act
    once, as the live one did; the replay's own actions (disclosure items) never reach the broker."""
    prefix = f"rebuild{uuid.uuid4().hex[:6]}"
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "GUIDANCE_TOPIC_PREFIX": prefix,
        "GUIDANCE_HTTP_PORT": str(free_port()),
        "GUIDANCE_AUTH_DEV_KEYS": "true",
        **sealing_env(),  # on Kafka intake makes no keys of its own, and it seals by default
    }
    migrate_databases(env, "intake", "disclosure")
    assert run_cli("intake", "provision", env).returncode == 0
    intake = ServiceProcess("intake", "web", env, tmp_path).start().wait_healthy()
    relay = ServiceProcess("intake", "worker", env, tmp_path).start()
    disclosure = ServiceProcess("disclosure", "worker", env, tmp_path).start()
    public_env = {**env, "GUIDANCE_HTTP_PORT": str(free_port()), "GUIDANCE_PUBLIC_RATE_LIMIT": "0"}
    public = ServiceProcess("disclosure", "web", public_env, tmp_path)
    public.start().wait_healthy()
    engine = make_engine(f"sqlite:///{tmp_path}/disclosure.sqlite")

    def rows(expected: int) -> list[tuple]:
        with engine.connect() as conn:
            try:
                found = conn.exec_driver_sql("SELECT * FROM public_guidance ORDER BY guidance_id").all()
            except Exception:
                return []
        return found if len(found) == expected else []

    try:
        officer = officer_headers(env)

        def issue() -> None:
            created = requests.post(f"{intake.url}/v1/guidance", json=guidance_command(), headers=officer, timeout=10)
            assert created.status_code == 201, created.text

        for _ in range(20):
            issue()
        live = wait_for(lambda: rows(20), timeout_s=120)  # a loaded CI machine joins the group slowly
        rebuild = subprocess.Popen(
            [sys.executable, "-m", "guidance_disclosure", "rebuild"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        served = 0
        while rebuild.poll() is None or served < 10:  # the live side keeps working meanwhile
            if served < 10:
                issue()
            listed = requests.get(f"{public.url}/public/v1/guidance", timeout=10)
            assert listed.status_code == 200, listed.text
            served += 1
        out, err = rebuild.communicate(timeout=10)
        assert rebuild.returncode == 0, err
        report = json.loads(out)
        assert report["rebuilt"] == "disclosure" and report["generation"] == 1
        after = wait_for(lambda: rows(20 + 10), timeout_s=120)
        assert [row for row in after if row in live] == live  # the first twenty exactly as they were
        assert not list(tmp_path.glob("disclosure.rebuild-*"))

        def disclosed() -> list[str]:
            consumer = KafkaConsumer(
                f"{prefix}.disclosure.events",
                bootstrap_servers=kafka_bootstrap,
                auto_offset_reset="earliest",
                consumer_timeout_ms=3000,
            )
            kinds = [dict(m.headers)["ce_type"].decode() for m in consumer]
            consumer.close()
            return kinds if kinds.count("guidance.ItemDisclosed.v1") >= 30 else []

        assert wait_for(disclosed, timeout_s=60).count("guidance.ItemDisclosed.v1") == 30  # none twice
    finally:
        engine.dispose()
        for p in (public, disclosure, relay, intake):
            p.stop()
