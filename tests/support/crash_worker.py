"""A consumer worker for the crash test: ``python -m tests.support.crash_worker <db> <bootstrap> <prefix> <group>``.

With ``CRASH_MARKER=<path>`` it stops right after its first projection commit
and before the Kafka offset commit: it writes the marker and waits to be
SIGKILLed. Without it, it drains the topic and exits.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from guidance_shared.consumer import ConsumerRunner
from guidance_shared.db import make_engine
from guidance_shared.events import default_registry
from guidance_shared.transport.kafka_transport import KafkaTransport
from tests.support.projections import Tally
from tests.support.schema import kernel_tables


def main(db: str, bootstrap: str, prefix: str, group: str) -> None:
    transport = KafkaTransport(bootstrap, prefix=prefix)
    projection = Tally()
    runner = ConsumerRunner(
        engine=kernel_tables(make_engine(f"sqlite:///{db}"), projection.metadata),
        consumer=transport.consumer(group),
        projection=projection,
        registry=default_registry(),
        group=group,
        topics=["intake.events"],
        dlq_producer=transport.producer(),
        batch_size=10,
    )
    marker = os.environ.get("CRASH_MARKER")
    if marker:

        def stall(_offsets: object) -> None:
            Path(marker).write_text("projection committed; Kafka offsets not committed")
            time.sleep(3600)  # the test SIGKILLs us here

        runner.consumer.commit = stall  # type: ignore[method-assign]
        while True:
            runner.run_once(1.0)
    runner.drain(timeout_s=120, idle_polls=3)
    runner.close()


if __name__ == "__main__":
    main(*sys.argv[1:5])
