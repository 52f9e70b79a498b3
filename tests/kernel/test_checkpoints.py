"""The worker signs the ledger's head to ``audit.checkpoints`` on a real broker and to the export file, and
``verify --against`` holds the store to them (issue 16, point 4)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from sqlalchemy import delete, update

from guidance_shared.checkpoints import Checkpoint, check, read_file
from guidance_shared.eventstore import NEW_STREAM, EventStore, NewEvent, counter_table, events_table
from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.service_cli import run
from guidance_shared.settings import Settings
from tests.support.events import ISSUED, issued_data
from tests.support.kafka import TopicFactory
from tests.support.schema import migrated_runtime

pytestmark = pytest.mark.kafka

SPEC: ServiceSpec[None] = ServiceSpec(name="intake", publishes="intake.events")
KEY = "a-ledger-key-of-this-test-only-0123456789"


def _env(tmp_path: Path, bootstrap: str, prefix: str) -> dict[str, str]:
    return {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_DATABASE_URL": f"sqlite:///{tmp_path}/intake.sqlite",
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "GUIDANCE_TOPIC_PREFIX": prefix,
        "GUIDANCE_LEDGER_KEY": KEY,
        "GUIDANCE_CHECKPOINT_INTERVAL_S": "0.2",
        "GUIDANCE_CHECKPOINT_EVENTS": "3",
        "GUIDANCE_HOUSEKEEPING_INTERVAL_S": "0",
    }


def _append(store: EventStore, stream: str, n: int) -> None:
    """``n`` events in one transaction, each a new act (a runtime's store checks every event's contract)."""
    with store.transaction() as conn:
        for i in range(n):
            gid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{stream}-{i}"))
            store.append(gid, "Guidance", NEW_STREAM, [NewEvent(ISSUED, issued_data(gid))], conn=conn)


def _topic_checkpoints(bootstrap: str, prefix: str, expected: int) -> list[Checkpoint]:
    consumer = KafkaConsumer(
        f"{prefix}.audit.checkpoints",
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=2000,
    )
    try:
        found: list[Checkpoint] = []
        deadline = time.monotonic() + 60
        while len(found) < expected and time.monotonic() < deadline:
            found += [Checkpoint.from_json(record.value.decode("utf-8")) for record in consumer]
        return found
    finally:
        consumer.close()


def test_the_worker_sends_signed_checkpoints_to_the_topic_and_the_file(
    tmp_path: Path, kafka_bootstrap: str, kafka_topics: TopicFactory
) -> None:
    prefix = kafka_topics.provision(partitions=1)
    settings = Settings.from_env("intake", _env(tmp_path, kafka_bootstrap, prefix))
    runtime: Runtime[None] = migrated_runtime(SPEC, settings)
    assert runtime.store is not None
    _append(runtime.store, "a", 5)
    stop = threading.Event()
    worker = threading.Thread(target=runtime.run_worker, args=(stop,))
    worker.start()
    path = settings.checkpoint_path
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (path.exists() and read_file(path)[-1].position == 5):
            time.sleep(0.1)
        _append(runtime.store, "b", 4)  # past GUIDANCE_CHECKPOINT_EVENTS: another checkpoint
        while time.monotonic() < deadline and read_file(path)[-1].position != 9:
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(30)
    written = read_file(path)
    assert [c.position for c in written] == [5, 9]
    assert _topic_checkpoints(kafka_bootstrap, prefix, 2) == written  # the same signed statements, on the broker
    with runtime.engine.connect() as conn:
        assert all(check(conn, runtime.store.linker, "intake", c) == [] for c in written)
    runtime.close()


def test_verify_against_the_latest_checkpoint_or_the_topic_names_a_cut_off_tail(
    tmp_path: Path,
    kafka_bootstrap: str,
    kafka_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prefix = kafka_topics.provision(partitions=1)
    for name, value in _env(tmp_path, kafka_bootstrap, prefix).items():
        monkeypatch.setenv(name, value)
    runtime: Runtime[None] = migrated_runtime(SPEC, Settings.from_env("intake"))
    assert runtime.store is not None
    _append(runtime.store, "a", 4)
    assert runtime.checkpoints().write_once() is not None
    [sent] = _topic_checkpoints(kafka_bootstrap, prefix, 1)
    exported = tmp_path / "from-the-topic.jsonl"
    exported.write_text(sent.to_json() + "\n", encoding="utf-8")

    for against in ("latest", "topic"):
        assert run(SPEC, lambda _runtime: None, ["verify", "--against", against]) == 0
        assert json.loads(capsys.readouterr().out)["against"] == {"checkpoints": 1, "mismatches": []}

    with runtime.engine.begin() as conn:  # the last two events and the counter's memory of them
        conn.execute(delete(events_table).where(events_table.c.position >= 3))
        conn.execute(update(counter_table).values(last_position=2))
    runtime.close()
    assert run(SPEC, lambda _runtime: None, ["verify"]) == 0  # the store alone cannot tell
    capsys.readouterr()
    for against in (str(exported), "topic"):
        assert run(SPEC, lambda _runtime: None, ["verify", "--against", against]) == 1
        result = json.loads(capsys.readouterr().out)
        assert result["ok"] is False
        assert [(m["position"], m["kind"]) for m in result["against"]["mismatches"]] == [(4, "truncated")]


def test_verify_names_a_tampered_event_and_refuses_a_missing_checkpoint_file(
    tmp_path: Path,
    kafka_bootstrap: str,
    kafka_topics: TopicFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in _env(tmp_path, kafka_bootstrap, kafka_topics.prefix).items():
        monkeypatch.setenv(name, value)
    runtime: Runtime[None] = migrated_runtime(SPEC, Settings.from_env("intake"))
    assert runtime.store is not None
    _append(runtime.store, "a", 3)
    with runtime.engine.begin() as conn:  # a link of the attacker's own making
        conn.execute(update(events_table).where(events_table.c.position == 2).values(ledger="f" * 64))
    runtime.close()
    assert run(SPEC, lambda _runtime: None, ["verify"]) == 1
    ledger = json.loads(capsys.readouterr().out)["ledger"]
    assert [(b["position"], b["kind"]) for b in ledger["breaks"]] == [(2, "link"), (3, "link")]
    assert run(SPEC, lambda _runtime: None, ["verify", "--against", str(tmp_path / "none.jsonl")]) == 2
    assert "cannot read" in json.loads(capsys.readouterr().out)["error"]
