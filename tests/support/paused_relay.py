"""A worker's relay for the fencing test: ``python -m tests.support.paused_relay <db-url> <transport> <journal>``.

``<transport>`` is ``embedded:<log file>`` or ``kafka:<bootstrap>:<topic prefix>``. The relay runs as a
worker runs it (``run_forever``, with its lease; ``PAUSED_RELAY_TTL_S`` seconds of lease, batches of
``PAUSED_RELAY_BATCH``) until SIGTERM. Each batch it hands to the log is written to ``<journal>`` (one JSON
line: ``{"sending": [event ids]}`` before, ``{"sent": [...]}`` after), and so is each line the relay logs.
With ``PAUSED_RELAY_PAUSE_AT=n``, before its n-th batch, after the relay has read the batch and checked
its lease and just before the records go to the log, it stops itself with SIGSTOP (``{"pausing": [...]}``)
and waits for the test's SIGCONT: the worst moment for a pause, when nothing the relay checks can help.
With ``PAUSED_RELAY_PAUSE_AFTER_RENEWAL=n`` it stops instead just after its n-th successful renewal of the
lease (``{"pausing": "renewed"}``), before it reads: resumed, it would read and send on a lease it no
longer holds unless it checks.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import IO, Any

import structlog

from guidance_shared.db import make_engine
from guidance_shared.relay import OutboxRelay
from guidance_shared.transport.base import Producer, Record, Transport
from guidance_shared.transport.embedded import EmbeddedTransport
from guidance_shared.transport.kafka_transport import KafkaTransport


class JournalingProducer(Producer):
    """The real producer, with each batch noted in the journal, and the one pause."""

    def __init__(self, inner: Producer, journal: IO[str], pause_at: int | None) -> None:
        self.inner = inner
        self.journal = journal
        self.pause_at = pause_at
        self.batches = 0

    def publish(self, records: Sequence[Record]) -> None:
        ids = [dict(r.headers)["ce_id"].decode() for r in records]
        self.batches += 1
        if self.batches == self.pause_at:
            note(self.journal, {"pausing": ids})
            os.kill(os.getpid(), signal.SIGSTOP)
        note(self.journal, {"sending": ids})
        self.inner.publish(records)
        note(self.journal, {"sent": ids})

    def close(self) -> None:
        self.inner.close()


def note(journal: IO[str], entry: dict[str, Any]) -> None:
    journal.write(json.dumps(entry) + "\n")
    journal.flush()


def transport_of(spec: str) -> Transport:
    kind, _, rest = spec.partition(":")
    if kind == "embedded":
        return EmbeddedTransport(rest)
    bootstrap, _, prefix = rest.rpartition(":")
    return KafkaTransport(bootstrap, prefix=prefix)


def main(url: str, transport_spec: str, journal_path: str) -> None:
    journal = open(journal_path, "a", encoding="utf-8")  # noqa: SIM115  # open for the process's life
    structlog.configure(
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
        logger_factory=structlog.WriteLoggerFactory(file=journal),
    )
    engine = make_engine(url)
    transport = transport_of(transport_spec)
    pause_at = os.environ.get("PAUSED_RELAY_PAUSE_AT")
    producer = JournalingProducer(transport.producer(), journal, int(pause_at) if pause_at else None)
    relay = OutboxRelay(
        engine,
        producer,
        batch_size=int(os.environ["PAUSED_RELAY_BATCH"]),
        lease_ttl=timedelta(seconds=float(os.environ["PAUSED_RELAY_TTL_S"])),
    )
    after_renewal = os.environ.get("PAUSED_RELAY_PAUSE_AFTER_RENEWAL")
    if after_renewal:
        acquire, renewals = relay.lease.acquire, [0]

        def acquire_then_pause() -> bool:
            held = acquire()
            renewals[0] += held
            if held and renewals[0] == int(after_renewal):
                note(journal, {"pausing": "renewed"})
                os.kill(os.getpid(), signal.SIGSTOP)
            return held

        relay.lease.acquire = acquire_then_pause  # type: ignore[method-assign]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    relay.run_forever(stop, idle_s=0.1)
    producer.close()
    transport.close()
    engine.dispose()
    note(journal, {"stopped": True})


if __name__ == "__main__":
    main(*sys.argv[1:4])
