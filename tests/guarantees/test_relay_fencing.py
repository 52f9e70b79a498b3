"""A relay stopped (SIGSTOP) past its lease while another takes over, then resumed (SIGCONT).

The paused relay is a real worker's relay in its own process (tests/support/paused_relay.py), on SQLite
and on PostgreSQL, publishing to the embedded log and to a real Kafka broker. It stops itself at the
worst moment: its batch read and its lease checked, the records not yet handed to the log. What may
happen then is that batch arriving again, late (consumers drop it by event id); what must not is the
cursor going back, an aggregate's events reaching consumers out of order, or the resumed relay
publishing anything after that batch.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from guidance_shared.db import make_engine
from guidance_shared.envelope import Envelope
from guidance_shared.eventstore import NEW_STREAM, EventStore, NewEvent, relay_cursor_table
from guidance_shared.relay import Lease, OutboxRelay, lease_table, pending_count
from guidance_shared.transport.base import Transport
from guidance_shared.transport.embedded import EmbeddedTransport
from guidance_shared.transport.kafka_transport import KafkaTransport
from tests.kernel.test_transport_contract import poll_until
from tests.support.events import ISSUED, RESPONDED, issued_data, responded_data
from tests.support.schema import kernel_tables
from tests.support.services import wait_for

ROOT = Path(__file__).resolve().parents[2]
AGGREGATES = 6
BATCH = 4
PAUSE_AT = 3  # two batches published, the third read and checked, then the pause
LEASE_TTL_S = 2.0


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/intake.sqlite"
    else:
        yield request.getfixturevalue("postgres_db_url")


@pytest.fixture(params=["embedded", "kafka"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Transport, str]]:
    """The log both relays publish to, and how the paused relay's process reaches it."""
    if request.param == "embedded":
        path = str(tmp_path / "log.sqlite")
        transport: Transport = EmbeddedTransport(path)
        spec = f"embedded:{path}"
    else:
        bootstrap, prefix = request.getfixturevalue("kafka_bootstrap"), f"fence{uuid.uuid4().hex[:8]}"
        transport, spec = KafkaTransport(bootstrap, prefix=prefix), f"kafka:{bootstrap}:{prefix}"
    transport.create_topics(["intake.events"], 3)
    yield transport, spec
    transport.close()


def _append_round(store: EventStore, version: int) -> None:
    """One event for each aggregate, so every batch holds events of several aggregates."""
    for n in range(AGGREGATES):
        guidance = f"g-{n}"
        if version == 1:
            store.append(guidance, "Guidance", NEW_STREAM, [NewEvent(ISSUED, issued_data(guidance))])
        else:
            store.append(guidance, "Guidance", version - 1, [NewEvent(RESPONDED, responded_data(guidance))])


def _cursor(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(relay_cursor_table.c.last_position)).scalar_one())


def _lease(engine: Engine) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(lease_table)).one()


def _journal(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def _stopped(process: subprocess.Popen[bytes]) -> bool:
    """True once the process has stopped itself (SIGSTOP); fails the test if it exited instead."""
    pid, status = os.waitpid(process.pid, os.WNOHANG | os.WUNTRACED)
    if pid == 0:
        return False
    assert os.WIFSTOPPED(status), f"the relay exited instead of pausing (status {status})"
    return True


def _paused_relay(database: str, spec: str, journal: Path, **pause: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PAUSED_RELAY_BATCH": str(BATCH), "PAUSED_RELAY_TTL_S": str(LEASE_TTL_S), **pause}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.paused_relay", database, spec, str(journal)], cwd=ROOT, env=env
    )


def _first_seen_in_order(envelopes: list[Envelope]) -> dict[str, list[int]]:
    """Each aggregate's sequence numbers as a consumer applies them: a partition in order, a repeated id
    dropped."""
    first_seen: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for envelope in envelopes:
        if envelope.id in seen:
            continue
        seen.add(envelope.id)
        first_seen[envelope.subject].append(int(envelope.sequence or 0))
    return dict(first_seen)


def _stop(paused: subprocess.Popen[bytes]) -> None:
    paused.send_signal(signal.SIGCONT)  # harmless if it runs; a stopped process would not end
    paused.send_signal(signal.SIGTERM)
    paused.wait(30)


def test_a_relay_resumed_after_its_lease_was_taken_over_publishes_nothing_more(
    database: str, log: tuple[Transport, str], tmp_path: Path
) -> None:
    transport, spec = log
    engine = kernel_tables(make_engine(database))
    store = EventStore(engine, source="/guidance/intake", topic="intake.events")
    for version in range(1, 6):
        _append_round(store, version)  # 30 events: positions 1-30
    journal = tmp_path / "paused-relay.jsonl"
    paused = _paused_relay(database, spec, journal, PAUSED_RELAY_PAUSE_AT=str(PAUSE_AT))
    taker: OutboxRelay | None = None
    stop = threading.Event()
    thread: threading.Thread | None = None
    try:
        # Given the relay stopped with its third batch read and its lease checked
        wait_for(lambda: _stopped(paused), timeout_s=60)
        in_flight = next(entry["pausing"] for entry in _journal(journal) if "pausing" in entry)
        assert _cursor(engine) == BATCH * (PAUSE_AT - 1)
        first = _lease(engine)
        assert first.epoch == 1
        # ... stopped past its lease, which another worker's relay then takes over
        wait_for(lambda: datetime.fromisoformat(_lease(engine).expires_at) < datetime.now(UTC), timeout_s=30)
        taker = OutboxRelay(engine, transport.producer(), batch_size=BATCH, lease_ttl=timedelta(seconds=60))
        thread = threading.Thread(target=taker.run_forever, args=(stop,), kwargs={"idle_s": 0.1}, daemon=True)
        thread.start()
        wait_for(lambda: pending_count(engine) == 0, timeout_s=60)
        taken = _lease(engine)
        assert taken.owner == taker.lease.owner and taken.epoch == 2
        assert _cursor(engine) == 30

        # When the stopped relay resumes
        paused.send_signal(signal.SIGCONT)
        wait_for(lambda: any(e.get("event") == "relay.fenced" for e in _journal(journal)), timeout_s=60)
        # Then the batch it had read goes out late, the cursor stays the new holder's, and it is fenced
        sent = [entry["sent"] for entry in _journal(journal) if "sent" in entry]
        assert sent[-1] == in_flight
        assert _cursor(engine) == 30
        # ... and what is appended afterwards is published by the new holder alone
        _append_round(store, 6)
        _append_round(store, 7)
        wait_for(lambda: pending_count(engine) == 0, timeout_s=60)
        assert _cursor(engine) == 42
    finally:
        # The resumed relay first: once the taker stops, it releases the lease, which anyone may then take.
        _stop(paused)
        stop.set()
        if thread is not None:
            thread.join(30)
    entries = _journal(journal)
    assert entries[-1] == {"stopped": True}
    batches = [entry["sending"] for entry in entries if "sending" in entry]
    assert len(batches) == PAUSE_AT and batches[-1] == in_flight  # nothing after the batch it had in hand
    last = _lease(engine)
    assert taker is not None and last.owner == taker.lease.owner and last.epoch == 2  # never taken back

    # On the log: every event, the late batch twice, and each aggregate's events first seen in order
    consumer = transport.consumer(f"check{uuid.uuid4().hex[:6]}")
    consumer.subscribe(["intake.events"], lambda _tp: 0)
    records = poll_until(consumer, 42 + BATCH, timeout_s=60)
    consumer.close()
    envelopes = [Envelope.from_record(r) for r in records]
    assert len(envelopes) == 42 + BATCH
    duplicates = [e.id for e in envelopes if [x.id for x in envelopes].count(e.id) > 1]
    assert sorted(set(duplicates)) == sorted(in_flight)
    assert _first_seen_in_order(envelopes) == {f"g-{n}": list(range(1, 8)) for n in range(AGGREGATES)}
    engine.dispose()


def test_a_relay_paused_between_renewing_and_reading_sends_nothing_once_taken_over(
    database: str, log: tuple[Transport, str], tmp_path: Path
) -> None:
    transport, spec = log
    engine = kernel_tables(make_engine(database))
    store = EventStore(engine, source="/guidance/intake", topic="intake.events")
    for version in range(1, 6):
        _append_round(store, version)
    journal = tmp_path / "paused-relay.jsonl"
    # Given a relay stopped just after renewing its lease (its second renewal), before it reads a batch
    paused = _paused_relay(database, spec, journal, PAUSED_RELAY_PAUSE_AFTER_RENEWAL="2")
    stop = threading.Event()
    thread: threading.Thread | None = None
    try:
        wait_for(lambda: _stopped(paused), timeout_s=60)
        before = _cursor(engine)
        # ... past its lease, which another relay takes over, while rows wait to be published
        wait_for(lambda: datetime.fromisoformat(_lease(engine).expires_at) < datetime.now(UTC), timeout_s=30)
        taker = OutboxRelay(engine, transport.producer(), batch_size=BATCH, lease_ttl=timedelta(seconds=60))
        assert taker.lease.acquire() and taker.lease.epoch == 2
        _append_round(store, 6)
        assert pending_count(engine) == 36 - before > 0
        # When it resumes, it finds itself fenced before it reads: nothing is sent, the cursor stays
        paused.send_signal(signal.SIGCONT)
        wait_for(lambda: any(e.get("event") == "relay.fenced" for e in _journal(journal)), timeout_s=60)
        entries = _journal(journal)
        resumed = entries[entries.index({"pausing": "renewed"}) + 1 :]
        assert not [e for e in resumed if "sending" in e or "sent" in e]
        assert _cursor(engine) == before
        # Then the new holder publishes the rest
        thread = threading.Thread(target=taker.run_forever, args=(stop,), kwargs={"idle_s": 0.1}, daemon=True)
        thread.start()
        wait_for(lambda: pending_count(engine) == 0, timeout_s=60)
    finally:
        _stop(paused)
        stop.set()
        if thread is not None:
            thread.join(30)
    entries = _journal(journal)
    assert not [e for e in entries[entries.index({"pausing": "renewed"}) :] if "sending" in e]
    consumer = transport.consumer(f"check{uuid.uuid4().hex[:6]}")
    consumer.subscribe(["intake.events"], lambda _tp: 0)
    envelopes = [Envelope.from_record(r) for r in poll_until(consumer, 36, timeout_s=60)]
    consumer.close()
    assert len(envelopes) == 36 and len({e.id for e in envelopes}) == 36  # each event once: no late batch here
    assert _first_seen_in_order(envelopes) == {f"g-{n}": list(range(1, 7)) for n in range(AGGREGATES)}
    engine.dispose()


def test_of_relays_racing_for_an_expired_lease_exactly_one_takes_it(database: str) -> None:
    engine = kernel_tables(make_engine(database))
    first = Lease(engine, "outbox-relay")
    assert first.acquire()
    with engine.begin() as conn:  # the holder was paused past its lease
        conn.execute(lease_table.update().values(expires_at="2000-01-01T00:00:00+00:00"))
    contenders = [Lease(engine, "outbox-relay") for _ in range(6)]
    start = threading.Barrier(len(contenders))
    won: list[bool] = [False] * len(contenders)

    def race(n: int) -> None:
        start.wait()
        won[n] = contenders[n].acquire()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(len(contenders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert won.count(True) == 1
    winner = contenders[won.index(True)]
    assert winner.epoch == 2 and _lease(engine).owner == winner.owner
    engine.dispose()
