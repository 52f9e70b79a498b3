"""The consumer runner's two paths on the same records, without a broker: what the fast path buys.

The bench's N ``GuidanceIssued`` records (``kernel_bench.payloads``, as the relay would send them)
are handed from memory to the ``ConsumerRunner`` and projection that ``bench/run`` replays into
(disclosure's public guidance items), on a fresh SQLite file: once with ``plain_path = False``
(the careful path alone: ``Envelope.from_record``, marshmallow, a savepoint and an applied-id
insert per event) and once as it runs in a service (``guidance_shared.fast``: the plain path with
the compiled loaders). Each run must leave one row per record. Reported: events/s and CPU-µs an
event per path, and their ratio.

    .venv/bin/python -m bench.consumer_paths [--events 20000] [--json out.json]

No broker, so the figures are the consumer side's own cost; ``bench/run`` measures it against
Kafka.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.kernel_bench import EVENT_TYPE, ID_NAMESPACE, RELAY_TOPIC, kernel_parts, payloads

_TP_PARTITION = 0


def records(n: int) -> list[Any]:
    """N records exactly as ``Envelope.to_record`` writes them, one aggregate each."""
    from guidance_shared.envelope import Envelope
    from guidance_shared.transport.base import ConsumedRecord

    out = []
    for offset, (aggregate, data) in enumerate(payloads(n)):
        record = Envelope(
            type=EVENT_TYPE,
            source="/guidance/intake",
            subject=aggregate,
            data=data,
            sequence=1,
            correlationid=str(uuid.uuid5(ID_NAMESPACE, f"request-{offset}")),
        ).to_record(RELAY_TOPIC)
        out.append(ConsumedRecord(RELAY_TOPIC, _TP_PARTITION, offset, record.key, record.value, record.headers))
    return out


class MemoryConsumer:
    """A ``Consumer`` over a list of records on one partition."""

    def __init__(self, held: Sequence[Any]) -> None:
        self.held, self.position = held, 0

    def subscribe(self, topics: Sequence[str], position_lookup: Any) -> None:
        from guidance_shared.transport.base import TopicPartition

        self.position = position_lookup(TopicPartition(RELAY_TOPIC, _TP_PARTITION))

    def poll(self, max_records: int, timeout_s: float) -> list[Any]:
        batch = list(self.held[self.position : self.position + max_records])
        self.position += len(batch)
        return batch

    def seek(self, tp: Any, offset: int) -> None:
        self.position = offset

    def commit(self, offsets: Mapping[Any, int]) -> None:
        pass

    def lag(self) -> dict[Any, int]:
        from guidance_shared.transport.base import TopicPartition

        return {TopicPartition(RELAY_TOPIC, _TP_PARTITION): len(self.held) - self.position}

    def close(self) -> None:
        pass


class NoDeadLetters:
    def publish(self, batch: Sequence[Any]) -> None:
        raise AssertionError("the bench's records are all valid: nothing may be dead-lettered")


def replay(held: Sequence[Any], *, plain_path: bool, directory: Path) -> dict[str, float]:
    from sqlalchemy import func, select

    from guidance_shared.db import make_engine
    from guidance_shared.events import default_registry
    from guidance_shared.migrations import KERNEL_METADATA, create_from_metadata

    runner_cls, projection_cls, _relay_cls, _adapt_registry = kernel_parts("stock")  # what bench/run replays
    engine = make_engine(f"sqlite:///{directory}/{'plain' if plain_path else 'careful'}.sqlite")
    projection = projection_cls()
    create_from_metadata(engine, [*KERNEL_METADATA, projection.metadata])  # what a service's history makes
    runner = runner_cls(
        engine=engine,
        consumer=MemoryConsumer(held),
        projection=projection,
        registry=default_registry(),
        group="bench",
        topics=[RELAY_TOPIC],
        dlq_producer=NoDeadLetters(),
    )
    runner.plain_path = plain_path
    runner.start()
    total = 0
    start, cpu = time.perf_counter(), time.process_time()
    while total < len(held):
        total += runner.run_once(0)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    runner.close()
    with engine.connect() as conn:
        rows = sum(
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in projection.metadata.sorted_tables
            if t.name == "public_guidance"
        )
    engine.dispose()
    if rows != len(held):
        raise RuntimeError(f"{'plain' if plain_path else 'careful'} path left {rows} rows for {len(held)} records")
    return {"rate_per_s": round(len(held) / seconds, 1), "cpu_us_per_event": round(cpu_seconds / len(held) * 1e6, 1)}


def run(events: int) -> dict[str, Any]:
    held = records(events)
    with tempfile.TemporaryDirectory() as directory:
        careful = replay(held, plain_path=False, directory=Path(directory))
        plain = replay(held, plain_path=True, directory=Path(directory))
    return {
        "benchmark": "consumer_paths",
        "events": events,
        "careful": careful,
        "plain": plain,
        "cpu_ratio_careful_to_plain": round(careful["cpu_us_per_event"] / plain["cpu_us_per_event"], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.consumer_paths", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="records to replay on each path (20000)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    result = run(args.events)
    for path in ("careful", "plain"):
        figures = result[path]
        print(f"{path:8} {figures['rate_per_s']:>10,.0f} events/s  {figures['cpu_us_per_event']:>7.1f} CPU-µs an event")
    print(f"the careful path costs {result['cpu_ratio_careful_to_plain']}x the plain path's CPU per event")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
