"""A service's running parts, built from settings: the one place adapters are chosen and wired.

Each service describes itself with a ``ServiceSpec`` (what it publishes, what
it consumes and into which projection); ``Runtime`` builds the engine, the
transport, the event store, the relay and the consumer runners from it.
Nothing connects at import time; ``Runtime`` connects when it is built.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import structlog
from prometheus_client import CollectorRegistry
from sqlalchemy import Connection, Engine, MetaData, select, text

from guidance_shared.checkpoints import CheckpointWriter, keeps_access_log
from guidance_shared.consumer import ConsumerRunner, offsets_table
from guidance_shared.db import make_engine
from guidance_shared.events import default_registry
from guidance_shared.events.registry import EventRegistry
from guidance_shared.eventstore import EventStore, StoredEvent
from guidance_shared.handling import contract_check
from guidance_shared.housekeeping import Housekeeping
from guidance_shared.kernel import make_transport, provision
from guidance_shared.ledger import LedgerKey
from guidance_shared.metrics import KernelMetrics, StoredStateCollector
from guidance_shared.migrations import KERNEL_METADATA, Migrations, SchemaError
from guidance_shared.projection import Projection
from guidance_shared.relay import OutboxRelay, install_outbox_bell, notify_channel, pending_count
from guidance_shared.settings import Settings
from guidance_shared.transport.base import Producer, Transport
from guidance_shared.transport.doorbell import (
    Doorbell,
    Listener,
    NotifyListener,
    datagram_listener,
    socket_path_beside,
)

log = structlog.get_logger(__name__)
D = TypeVar("D")


@dataclass(frozen=True)
class ReadModel:
    """Tables a service writes with its own events, in the transaction that appends them
    (``Repository(..., project=apply)``): so they can be refolded from its event store alone."""

    metadata: MetaData
    apply: Callable[[Connection, list[StoredEvent]], None]
    stream_types: tuple[str, ...] = ()  # the streams whose events it folds; empty: all of them


@dataclass(frozen=True)
class ServiceSpec(Generic[D]):
    """What a service is, as far as the kernel cares; ``D`` is what its handlers depend on."""

    name: str  # intake, revisit, disclosure, assessment
    publishes: str | None  # its logical topic, or None if it writes no events yet
    consumes: Sequence[str] = ()
    # The service's dependencies, built once per runtime from its parts and settings (its bootstrap's ``wire``).
    wire: Callable[[Runtime[D]], D] | None = None
    projection: Callable[[Runtime[D]], Projection] | None = None  # built with the runtime it will run in
    extra_metadata: Sequence[Any] = field(default_factory=tuple)  # more tables the service owns
    # The directory of the service's migration history (``guidance_shared.migrations``), which every table
    # above is in. None only for the kernel's tests' specs, whose tables tests/support/schema.py makes.
    migrations: Path | None = None
    read_models: Sequence[ReadModel] = ()  # those of them refolded from its own events (``rebuild-read-models``)
    # Periodic jobs the worker runs beside the relay and the consumer, each until the stop event is set.
    tasks: Sequence[Callable[[Runtime[D], threading.Event], None]] = field(default_factory=tuple)
    # After a restore, given the events recovered from its own topic (``guidance_shared.restore``), in the
    # transaction that re-appends them: continues what they used up that no read model refolds (serials);
    # what it returns is reported, and a non-empty "problems" list undoes the recovery and fails it (exit 2).
    recovered: Callable[[Runtime[D], Connection, list[StoredEvent]], Mapping[str, Any]] | None = None
    # Counts again, on the holiday calendar this process loaded, the open deadlines that were estimates
    # (``calendar-recompute``; the worker does it at start too) and reports what it recorded. None: the
    # service keeps no working-day deadline.
    recount_deadlines: Callable[[Runtime[D]], Mapping[str, Any]] | None = None

    @property
    def source(self) -> str:
        return f"/guidance/{self.name}"


class Runtime(Generic[D]):
    def __init__(
        self,
        spec: ServiceSpec[D],
        settings: Settings,
        *,
        transport: Transport | None = None,
        engine: Engine | None = None,
        registry: EventRegistry | None = None,
        check_schema: bool = True,
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url, threads=settings.web_threads)
        # Only ``migrate`` changes the schema; every other process refuses a database that is not at the
        # head of the code it runs (``check_schema=False``: the rebuild's sandbox, made from the metadata).
        if spec.migrations is not None and check_schema:
            try:
                Migrations(spec.name, spec.migrations).require_head(self.engine)
            except SchemaError:
                if engine is None:
                    self.engine.dispose()
                raise
        self.transport = transport or make_transport(settings)
        self.registry = registry or default_registry(settings.schema_base_uri)
        self.metrics_registry = CollectorRegistry()
        self.metrics = KernelMetrics(self.metrics_registry)
        self.store: EventStore | None = None
        # Rung when a transaction that wrote outbox rows commits, in any process of the service
        # (``relay.install_outbox_bell``); the worker's relay waits on it (``run_worker``).
        self.outbox_bell: Doorbell | None = None
        if spec.publishes:
            self.store = EventStore(
                self.engine,
                source=spec.source,
                topic=spec.publishes,
                dataschema=self.registry.dataschema,
                check=contract_check(self.registry),
                ledger_key=LedgerKey.from_setting(settings.ledger_key),
            )
            self.outbox_bell = Doorbell()
            install_outbox_bell(self.engine, self.outbox_bell, channel=notify_channel(spec.name))
        # Built before the projection, which may need them; None for a spec without ``wire`` (kernel tests).
        self.deps: D = spec.wire(self) if spec.wire else cast(D, None)
        self.projection: Projection | None = spec.projection(self) if spec.projection else None
        self._runner: ConsumerRunner | None = None
        self.metrics_registry.register(
            StoredStateCollector(
                spec.name,
                pending=(lambda: pending_count(self.engine)) if self.store else None,
                lag=self._lag_if_broker_answers if spec.consumes else None,
            )
        )

    def tables(self) -> list[MetaData]:
        """Every table this runtime reads or writes: the kernel's, the service's own and its projection's.
        The service's migration history must end exactly here (tests/test_migrations.py)."""
        return [*KERNEL_METADATA, *self.spec.extra_metadata, *([self.projection.metadata] if self.projection else [])]

    # -- parts -------------------------------------------------------------------
    def relay(self) -> OutboxRelay:
        return OutboxRelay(
            self.engine,
            self.transport.producer(),
            batch_size=self.settings.relay_batch,
            metrics=self.metrics,
            doorbell=self.outbox_bell,
        )

    def _outbox_listener(self) -> Listener | None:
        """What carries other processes' rings to this one's relay: NOTIFY on PostgreSQL, a datagram
        socket beside the database file on SQLite (None where there can be none)."""
        if self.engine.dialect.name == "postgresql":

            def connect() -> object:
                proxied = self.engine.raw_connection()
                proxied.detach()  # its own connection for the worker's life, outside the pool
                return proxied.dbapi_connection

            return NotifyListener(connect, notify_channel(self.spec.name))
        return datagram_listener(socket_path_beside(self.engine.url.database))

    def housekeeping(self) -> Housekeeping:
        """Purges published outbox rows past their retention and expired idempotency records."""
        return Housekeeping(
            self.engine,
            outbox=self.store is not None,
            outbox_retention=timedelta(days=self.settings.outbox_retention_days),
            idempotency_ttl=timedelta(hours=self.settings.idempotency_ttl_hours),
            batch_size=self.settings.housekeeping_batch,
        )

    def checkpoints(self) -> CheckpointWriter:
        """Signs the ledger's head now and then, to ``audit.checkpoints`` and the export file."""
        if self.store is None:
            raise RuntimeError(f"{self.spec.name} keeps no event store")
        return CheckpointWriter(
            self.engine,
            self.store.linker,
            self.spec.name,
            producer=self.transport.producer(),
            path=self.settings.checkpoint_path,
            every_events=self.settings.checkpoint_events,
            interval_s=self.settings.checkpoint_interval_s,
            with_access_log=keeps_access_log(self.tables()),
        )

    def runner(self, *, consumer_group: str | None = None, dlq_producer: Producer | None = None) -> ConsumerRunner:
        """The service's consumer runner (one per runtime). ``consumer_group`` names its group on the
        broker when that must differ from the service's (a rebuild reading beside the live worker);
        what it applied is still recorded under the service's name. ``dlq_producer``: where dead
        letters go, if not to the transport (a rebuild does not publish them again)."""
        if self.projection is None:
            raise RuntimeError(f"{self.spec.name} consumes nothing")
        if self._runner is None:
            group = consumer_group or self.spec.name
            self._runner = ConsumerRunner(
                engine=self.engine,
                consumer=self.transport.consumer(group, client_id=f"{group}-worker"),
                projection=self.projection,
                registry=self.registry,
                group=self.spec.name,
                topics=self.spec.consumes,
                dlq_producer=dlq_producer or self.transport.producer(),
                max_retries=self.settings.consumer_max_retries,
                batch_size=self.settings.consumer_batch,
                metrics=self.metrics,
            )
        return self._runner

    def provision(self) -> None:
        provision(self.transport, self.settings)

    # -- readiness -----------------------------------------------------------------
    def worker_checks(self) -> dict[str, Callable[[], None]]:
        """The worker's readiness: it needs the database, the broker and (if it consumes) a bounded lag.
        ``web`` checks only its database (``create_base_app``): it accepts commands into the outbox while
        the broker is down, which is what the outbox is for (docs/operations.md, "Probes")."""
        checks: dict[str, Callable[[], None]] = {"database": self.check_database, "broker": self.check_broker}
        if self.spec.consumes:
            checks["consumer_lag"] = self.check_lag
        return checks

    def check_database(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def check_broker(self) -> None:
        if self.settings.transport != "kafka":
            self.transport.end_offsets(self.spec.consumes[0] if self.spec.consumes else "intake.events")
            return
        host, _, port = self.settings.kafka_bootstrap_servers.split(",")[0].rpartition(":")
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=2).close()
        except OSError as exc:
            raise ConnectionError(f"Kafka broker {host}:{port} unreachable ({exc.strerror or exc})") from exc
        self.transport.check()  # an open port is not enough: TLS and SASL must accept us too (bounded)

    def lag(self) -> dict[tuple[str, int], int]:
        """Unapplied records per partition, from the offsets the projection stored (works from any process)."""
        with self.engine.connect() as conn:
            stored = {
                (r.topic, r.partition): r.next_offset
                for r in conn.execute(select(offsets_table).where(offsets_table.c.group_id == self.spec.name))
            }
        out: dict[tuple[str, int], int] = {}
        for topic in self.spec.consumes:
            for partition, end in self.transport.end_offsets(topic).items():
                out[(topic, partition)] = max(end - stored.get((topic, partition), 0), 0)
        return out

    def _lag_if_broker_answers(self) -> dict[tuple[str, int], int]:
        """For /metrics: a scrape while the broker is away fails at once instead of hanging in end_offsets."""
        self.check_broker()
        return self.lag()

    def check_lag(self) -> None:
        self.check_broker()  # fail fast: reading end offsets from a broker that is away can block for long
        total = sum(self.lag().values())
        if total > self.settings.ready_max_lag:
            raise RuntimeError(f"consumer lag {total} exceeds GUIDANCE_READY_MAX_LAG={self.settings.ready_max_lag}")

    # -- the worker process ------------------------------------------------------------
    def run_worker(self, stop: threading.Event | None = None) -> None:
        """Relay, consumer and housekeeping loops until SIGTERM/SIGINT; each loop survives broker outages. Its
        probes and metrics are served beside it by ``guidance_shared.web.worker_http`` (the ``worker`` command)."""
        stop = stop or stop_on_signals()
        threads: list[threading.Thread] = []
        if self.store is not None:
            relay = self.relay()
            # With a listener for other processes' commits the idle relay only looks, in case a ring was
            # lost, every GUIDANCE_RELAY_IDLE_S; without one (no socket possible) it looks as often as it
            # always did.
            idle_s = 0.2
            listener = self._outbox_listener()
            if listener is not None and self.outbox_bell is not None:
                self.outbox_bell.attach(listener)
                idle_s = self.settings.relay_idle_s
            threads.append(
                threading.Thread(
                    target=relay.run_forever, args=(stop,), kwargs={"idle_s": idle_s}, name="relay", daemon=True
                )
            )
            if self.settings.checkpoint_interval_s > 0:
                if self.store.linker.key.development:
                    log.warning("ledger.development_key", hint="set GUIDANCE_LEDGER_KEY: the development key is public")
                threads.append(
                    threading.Thread(
                        target=self.checkpoints().run_forever, args=(stop,), name="checkpoints", daemon=True
                    )
                )
        if self.projection is not None:
            runner = self.runner()
            threads.append(threading.Thread(target=runner.run_forever, args=(stop,), name="consumer", daemon=True))
        if self.settings.housekeeping_interval_s > 0:
            housekeeping = self.housekeeping()
            interval = self.settings.housekeeping_interval_s
            threads.append(
                threading.Thread(
                    target=housekeeping.run_forever, args=(stop, interval), name="housekeeping", daemon=True
                )
            )
        for task in self.spec.tasks:
            threads.append(threading.Thread(target=task, args=(self, stop), name=task.__name__, daemon=True))
        log.info("worker.started", service=self.spec.name, loops=[t.name for t in threads])
        for thread in threads:
            thread.start()
        stop.wait()
        if self.outbox_bell is not None:
            self.outbox_bell.ring()  # the relay may be waiting for it
        for thread in threads:
            thread.join(timeout=15)
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        log.info("worker.stopped", service=self.spec.name)

    def close(self) -> None:
        """Leave the consumer group cleanly: a member that is never closed keeps heartbeating, and the
        group's next rebalance waits for it up to max.poll.interval (minutes) before anyone else consumes."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        self.transport.close()
        if self.outbox_bell is not None:
            self.outbox_bell.close()  # and its listener: the socket file beside the database goes with it
            self.outbox_bell = None
        self.engine.dispose()


def stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop
