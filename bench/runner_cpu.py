"""CPU of the consumer runner's bookkeeping per batch, in process: what every batch of every consumer reads and
writes besides the projection's own rows (its generation held, which of its events were applied already, the
parked aggregates, the stored offsets), beside an empty transaction on the same engine.

    .venv/bin/python -m bench.runner_cpu [--batches 3000]

At 20 commands/s the four consumers of the suite apply small batches (a few events each), so this per-batch
cost is paid many times a second on each (docs/performance.md, "Propagation's tail, located"). Each side runs
three times, alternating; the fastest of each is printed, as CPU microseconds per batch. A diagnosis aid, not
one of ``bench/run --all``'s figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runner_cpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=3000)
    args = parser.parse_args(argv)

    from sqlalchemy import func, select, text

    from guidance_shared.consumer import TRACKING, ConsumerRunner, current_generation, offsets_table
    from guidance_shared.db import make_engine, save_offsets
    from guidance_shared.events import default_registry
    from guidance_shared.transport.base import TopicPartition
    from guidance_shared.transport.embedded import EmbeddedTransport

    with tempfile.TemporaryDirectory() as work:
        engine = make_engine(f"sqlite:///{Path(work) / 'runner.sqlite'}")
        TRACKING.create_all(engine)
        transport = EmbeddedTransport(str(Path(work) / "log.sqlite"))
        runner = ConsumerRunner(
            engine=engine,
            consumer=transport.consumer("bench"),
            projection=object(),  # never applied: only the bookkeeping runs
            registry=default_registry(),
            group="bench",
            topics=["bench.events"],
            dlq_producer=transport.producer(),
        )
        partitions = [TopicPartition("bench.events", p) for p in range(4)]

        def bookkeeping(i: int) -> None:
            with engine.begin() as conn:
                current_generation(conn, runner.group, hold=True)
                runner._applied_among(conn, [str(uuid.uuid4()), str(uuid.uuid4())])
                runner._parked(conn)
                save_offsets(conn, offsets_table, runner.group, {partitions[i % 4]: i})

        def empty(_i: int) -> None:
            with engine.begin() as conn:
                conn.execute(text("SELECT 1"))

        def per_batch(step: Callable[[int], None]) -> float:
            started = time.process_time()
            for i in range(args.batches):
                step(i)
            return (time.process_time() - started) / args.batches * 1e6

        per_batch(bookkeeping), per_batch(empty)  # warm: statements compiled, pages cached
        runs: dict[str, list[float]] = {"bookkeeping": [], "empty": []}
        for _ in range(3):
            runs["bookkeeping"].append(per_batch(bookkeeping))
            runs["empty"].append(per_batch(empty))
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(offsets_table)).scalar_one()
        transport.close()
        engine.dispose()
    if stored != len(partitions):
        print(f"expected {len(partitions)} stored offsets, found {stored}")
        return 1
    figures = {
        "batches": args.batches,
        "bookkeeping_us_per_batch": round(min(runs["bookkeeping"]), 1),
        "empty_transaction_us_per_batch": round(min(runs["empty"]), 1),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
