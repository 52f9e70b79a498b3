"""Replay against the floor pipeline (issue 13, point 5), and replay with 1, 2 and 4 consumer
processes on PostgreSQL against raw consume with as many.

Setup (kernel_bench's, untimed): N ``GuidanceIssued`` events appended through ``EventStore.append``,
their outbox records produced unchanged (key, value, CloudEvents headers) to a fresh topic of
``PARTITIONS`` partitions on a real broker (``--bootstrap`` / ``KAFKA_BOOTSTRAP_SERVERS`` / a local
one, as ``bench/run`` finds it).

b. **replay**: a ``ConsumerRunner`` with disclosure's ``PublicGuidanceProjection`` on a fresh SQLite
   file, as ``bench/run`` replays (decode, validate, redact, upsert, offsets and applied ids);
   **floor pipeline**: a raw ``KafkaConsumer`` (the transport's fetch sizes) in a fresh group,
   ``msgspec.json.decode`` of each value, and per poll one ``executemany`` of one row per record into
   a table with the projection table's columns, types and indexes (a copy of ``public_guidance`` on
   a fresh SQLite file; column values taken from the decoded event by name, the rest from a
   projected sample row), in one transaction. Target: replay >= 0.7 of the floor. Raw consume alone
   (decoding nothing) is reported beside it.
f. on PostgreSQL: ``kernel_bench``'s N-process phases (spawned, started together, one group, heartbeat
   100 ms) for N = 1, 2, 4: raw consume ×N, and replay ×N with every runner on ONE fresh PostgreSQL
   database. Reported: replay ×N / raw ×N (like for like); not judged.

Checks: every record read by each side; one projection row per aggregate after each replay.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from bench.harness import Figure, Section, fresh_postgres_database, ratio_at_least, say, timed

PARTITIONS = 4
PROCESSES = (1, 2, 4)
# Runs of each side of b, alternating; the fastest of each is compared. On a machine shared with other
# work one run of each swung the ratio from 0.5 to 1.3 between minutes; the fastest run of each is the
# one the other load disturbed least.
ROUNDS = 3
TARGET = ratio_at_least(0.7, ">= 0.7x the floor pipeline")


def run(
    *, events: int, work: Path, bootstrap: str | None, postgres_server: str | None, rounds: int = ROUNDS
) -> list[Section]:
    from kafka.admin import KafkaAdminClient

    from bench import kernel_bench as kb
    from guidance_shared.db import make_engine
    from guidance_shared.events import default_registry
    from guidance_shared.eventstore import EventStore
    from guidance_shared.migrations import KERNEL_METADATA, create_from_metadata
    from guidance_shared.topics import EVENT_LOG_CONFIGS, create_topics
    from guidance_shared.transport.kafka_transport import KafkaTransport

    floor = Section("replay_floor", "b. replay against the floor pipeline (records/s)")
    multi = Section("replay_processes", "f. replay on PostgreSQL with N consumer processes, 4 partitions (records/s)")
    floor.info["events"] = multi.info["events"] = events
    with kb.broker(bootstrap, work) as (servers, version, source):
        floor.info["broker"] = f"{version} ({source})"
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        transport = KafkaTransport(servers, prefix=prefix)
        topic = transport.physical(kb.RELAY_TOPIC)
        admin = KafkaAdminClient(bootstrap_servers=servers, client_id="bench-floor")
        try:
            create_topics(admin, [topic], PARTITIONS, 1, dict(EVENT_LOG_CONFIGS))
            registry = default_registry()
            kb.check_payloads(registry)
            say(f"replay: appending and producing {events:,} events (setup) ...")
            store_engine = make_engine(f"sqlite:///{work / 'floor-store.sqlite'}")
            store = EventStore(store_engine, source=kb.SOURCE, topic=kb.RELAY_TOPIC, dataschema=registry.dataschema)
            create_from_metadata(store_engine, KERNEL_METADATA)
            kb.append_events(store, events, 100)
            kb.raw_produce(servers, topic, kb.outbox_records(store_engine))
            store_engine.dispose()
            ends = transport.end_offsets(kb.RELAY_TOPIC)
            floor.expect("records on the topic", sum(ends.values()), events)

            say("replay: raw consume ...")
            raw = kb.raw_consume(servers, topic, events, 1000)
            floor_runs: list[tuple[float, float]] = []
            replay_runs: list[tuple[float, float]] = []
            for round_ in range(rounds):
                # Alternating, so a burst of the machine's other load falls on either side alike.
                for side in ("floor", "replay") if round_ % 2 == 0 else ("replay", "floor"):
                    say(f"replay: round {round_ + 1} of {rounds}, {side} ...")
                    if side == "floor":
                        floor_runs.append(
                            _floor_pipeline(servers, topic, events, work / f"floor-{round_}.sqlite", floor)
                        )
                    else:
                        replay_runs.append(_replay(kb, transport, work / f"replay-{round_}.sqlite", events, floor))
            best_floor, best_replay = min(floor_runs), min(replay_runs)
            floor.add(
                Figure(
                    "replay",
                    events / best_replay[0],
                    "records/s",
                    "floor pipeline",
                    events / best_floor[0],
                    TARGET,
                    note=f"the fastest of {rounds} alternating runs of each",
                )
            )
            floor.add(
                Figure(
                    "replay, records per CPU-second",
                    events / max(min(cpu for _wall, cpu in replay_runs), 1e-9),
                    "records/CPU-s",
                    "floor pipeline",
                    events / max(min(cpu for _wall, cpu in floor_runs), 1e-9),
                    note="CPU of the process (every thread), least of the runs: what load on the machine moves least",
                )
            )
            floor.add(
                Figure("replay", events / best_replay[0], "records/s", "raw consume (decoding nothing)", raw.rate)
            )
            floor.info["rounds"] = rounds
            floor.info["floor_runs_records_per_s"] = [round(events / wall) for wall, _cpu in floor_runs]
            floor.info["replay_runs_records_per_s"] = [round(events / wall) for wall, _cpu in replay_runs]

            if postgres_server:
                _processes(kb, servers, prefix, topic, ends, events, postgres_server, multi)
            else:
                multi.skipped = "no PostgreSQL server"
        finally:
            transport.close()  # its end-offsets client would keep asking a stopped broker for metadata
            admin.delete_topics([topic])
            admin.close()
    return [floor, multi]


def _replay(kb: Any, transport: Any, database: Path, n: int, section: Section) -> tuple[float, float]:
    """The runner's replay of the topic into a fresh database: (wall seconds, CPU seconds)."""
    from sqlalchemy import func, select

    from guidance_shared.db import make_engine
    from guidance_shared.migrations import KERNEL_METADATA, create_from_metadata

    runner_cls, projection_cls, _relay, adapt = kb.kernel_parts("stock")
    engine = make_engine(f"sqlite:///{database}")
    projection = projection_cls()
    runner = kb.replay_runner(
        runner_cls,
        engine,
        transport,
        f"bench-replay-{uuid.uuid4().hex[:8]}",
        "bench-replay",
        projection,
        adapt,
        1000,
        True,
    )
    create_from_metadata(runner.engine, [*KERNEL_METADATA, runner.projection.metadata])
    try:
        phase = kb.replay(runner, n, None)
    finally:
        runner.close()
        runner.dlq_producer.close()
    with engine.connect() as conn:
        rows = int(conn.execute(select(func.count()).select_from(projection.items)).scalar_one())
    engine.dispose()
    section.expect("replay projection rows", rows, n)
    return float(phase.seconds), float(phase.cpu_seconds)


def _floor_pipeline(servers: str, topic: str, n: int, database: Path, section: Section) -> tuple[float, float]:
    """Raw consume + msgspec decode + one executemany per poll, one transaction each: (wall, CPU) seconds."""
    import msgspec
    from kafka import KafkaConsumer
    from sqlalchemy import MetaData

    from bench import kernel_bench as kb
    from guidance_disclosure.adapters.projection import public_guidance
    from guidance_shared.db import make_engine

    engine = make_engine(f"sqlite:///{database}")
    table = public_guidance.to_metadata(MetaData())
    table.metadata.create_all(engine)
    engine.dispose()
    columns = [column.name for column in table.columns]
    sample = _sample_row(columns)
    conn = sqlite3.connect(str(database), isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    insert = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    decode = msgspec.json.Decoder().decode
    consumer = KafkaConsumer(
        bootstrap_servers=servers,
        group_id=f"bench-floor-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **kb.CONSUMER_FETCH,
    )
    try:
        consumer.topics()
        consumer.subscribe([topic])
        count = 0
        with timed() as clock:
            deadline = time.perf_counter() + 600
            while count < n and time.perf_counter() < deadline:
                batches = consumer.poll(timeout_ms=500, max_records=1000)
                rows = []
                for messages in batches.values():
                    for message in messages:
                        data = decode(message.value)
                        rows.append(tuple(_cell(data.get(name, sample[name])) for name in columns))
                if rows:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany(insert, rows)
                    conn.execute("COMMIT")
                    count += len(rows)
    finally:
        consumer.close(autocommit=False)
    stored = conn.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]
    conn.close()
    section.expect("floor pipeline rows", stored, n)
    return clock.seconds, clock.cpu_seconds


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "Y" if value else "N"
    return value


def _sample_row(columns: list[str]) -> dict[str, Any]:
    """The projection's own row for one bench event: values for the columns the event does not name."""
    from sqlalchemy import select

    from bench import kernel_bench as kb
    from guidance_disclosure.adapters.projection import PublicGuidanceProjection
    from guidance_shared.db import make_engine
    from guidance_shared.envelope import Envelope
    from guidance_shared.events import default_registry
    from guidance_shared.projection import ConsumedEvent

    projection = PublicGuidanceProjection()
    engine = make_engine("sqlite://")
    projection.metadata.create_all(engine)
    aggregate, data = next(kb.payloads(1))
    wire = json.loads(json.dumps(data, ensure_ascii=False))
    event_type, loaded = default_registry().load_typed(kb.EVENT_TYPE, wire)
    envelope = Envelope(type=kb.EVENT_TYPE, source=kb.SOURCE, subject=aggregate, data=wire)
    with engine.begin() as conn:
        projection.apply(conn, ConsumedEvent(envelope, loaded, "t", 0, 0, event_type.ce_type))
        row = conn.execute(select(projection.items)).one()._mapping
    engine.dispose()
    return {name: row[name] for name in columns}


def _processes(
    kb: Any,
    servers: str,
    prefix: str,
    topic: str,
    ends: dict[int, int],
    n: int,
    postgres_server: str,
    section: Section,
) -> None:
    from sqlalchemy import func, select

    from guidance_disclosure.adapters.projection import public_guidance
    from guidance_shared.db import make_engine

    for processes in PROCESSES:
        say(f"replay: raw consume ×{processes} ...")
        raw, _per, checks = kb.raw_consume_processes(servers, topic, ends, 1000, processes)
        section.expect(f"raw consume ×{processes} records", checks["records_counted"], n)
        say(f"replay: {processes} runner(s) on one PostgreSQL database ...")
        url = fresh_postgres_database(postgres_server, f"bench_replay_x{processes}")
        args = argparse.Namespace(processes=processes, kernel="stock", consumer_batch=1000, no_metrics=False)
        replay, per_process, _group = kb.replay_processes(args, servers, prefix, url, n)
        engine = make_engine(url)
        with engine.connect() as conn:
            rows = int(conn.execute(select(func.count()).select_from(public_guidance)).scalar_one())
        engine.dispose()
        section.expect(f"replay ×{processes} projection rows", rows, n)
        section.info[f"replay_x{processes}_cpu_seconds"] = [round(p["cpu_seconds"], 2) for p in per_process]
        section.add(
            Figure(f"replay ×{processes} (PostgreSQL)", replay.rate, "records/s", f"raw consume ×{processes}", raw.rate)
        )
