"""The consumer runner's promises, run against both transports: exactly-once effect, parking, replay."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from psycopg.errors import DeadlockDetected
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from guidance_shared.consumer import (
    ConsumedEvent,
    ConsumerRunner,
    applied_table,
    offsets_table,
    parked_events_table,
    parked_table,
    skipped_table,
)
from guidance_shared.db import make_engine
from guidance_shared.envelope import Envelope
from guidance_shared.events import default_registry
from guidance_shared.flow import current_flow
from guidance_shared.metrics import KernelMetrics
from guidance_shared.transport.base import ConsumedRecord, Consumer, Record, TopicPartition, Transport
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.events import ISSUED, RESPONDED, guidance_story, issued_data, record, responded_data
from tests.support.projections import Tally
from tests.support.schema import kernel_tables


class StuckUntilRejoined(Consumer):
    """A consumer whose client believes it is a member and gets nothing, until it is made to join again."""

    def __init__(self, inner: Consumer) -> None:
        self.inner, self.rejoins = inner, 0

    def subscribe(self, topics: Sequence[str], position_lookup: Any) -> None:
        self.inner.subscribe(topics, position_lookup)

    def poll(self, max_records: int, timeout_s: float) -> list[ConsumedRecord]:
        return self.inner.poll(max_records, timeout_s) if self.rejoins else []

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.inner.seek(tp, offset)

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        self.inner.commit(offsets)

    def lag(self) -> dict[TopicPartition, int]:
        return self.inner.lag() if self.rejoins else {}

    def rejoin(self) -> None:
        self.rejoins += 1
        self.inner.rejoin()

    def close(self) -> None:
        self.inner.close()


class ConsumerRunnerContract:
    """Subclasses provide ``transport`` (with the four event topics and DLQs created)."""

    @pytest.fixture
    def engine(self, tmp_path) -> Iterator[Engine]:
        engine = make_engine(f"sqlite:///{tmp_path}/projection-{uuid.uuid4().hex[:6]}.sqlite")
        yield engine
        engine.dispose()

    @pytest.fixture
    def group(self) -> str:
        return f"disclosure{uuid.uuid4().hex[:6]}"

    def runner(
        self,
        transport: Transport,
        engine: Engine,
        group: str,
        projection: Tally | None = None,
        metrics: KernelMetrics | None = None,
    ) -> ConsumerRunner:
        transport.create_topics([f"{group}.dlq"], 1)
        projection = projection or Tally()
        kernel_tables(engine, projection.metadata)  # what the service's migration history makes
        return ConsumerRunner(
            engine=engine,
            consumer=transport.consumer(group),
            projection=projection,
            registry=default_registry(),
            group=group,
            topics=["intake.events"],
            dlq_producer=transport.producer(),
            max_retries=2,
            metrics=metrics,
        )

    def test_applies_every_event_once_in_per_aggregate_order(self, transport, engine, group) -> None:
        story = guidance_story(5, responses=3)
        transport.producer().publish(story)
        runner = self.runner(transport, engine, group)
        assert runner.drain() == 20
        rows = runner.projection.rows(engine)
        assert len(rows) == 5 and all(r[1] == 4 and r[2] == 4 for r in rows.values())
        runner.close()

    def test_a_drain_whose_client_is_stuck_outside_its_group_joins_again(self, transport, engine, group) -> None:
        """What a Kafka client did after a broker restart (``KafkaRecordConsumer.rejoin``): no partitions, no
        error, for good. The drain joins again once it has waited longer than a member's session."""
        transport.producer().publish(guidance_story(3, responses=1))
        runner = self.runner(transport, engine, group)
        stuck = StuckUntilRejoined(runner.consumer)
        runner.consumer = stuck
        runner.rejoin_stalled_after_s = 0.5
        assert runner.drain(timeout_s=60) == 6
        assert stuck.rejoins == 1
        assert all(r[1] == 2 for r in runner.projection.rows(engine).values())
        runner.close()

    def test_a_rejoined_consumer_reads_on_from_the_stored_positions(self, transport, engine, group) -> None:
        producer = transport.producer()
        producer.publish(guidance_story(2, responses=1))
        runner = self.runner(transport, engine, group)
        assert runner.drain() == 4
        runner.consumer.rejoin()
        producer.publish(guidance_story(3, responses=1))
        assert runner.drain() == 6  # the new records only: nothing read twice, nothing left out
        assert len(runner.projection.rows(engine)) == 5
        runner.close()

    def test_republished_duplicates_are_skipped(self, transport, engine, group) -> None:
        story = guidance_story(3, responses=1)
        producer = transport.producer()
        producer.publish(story)
        producer.publish(story[:4])  # a relay that crashed before marking its batch republishes it
        runner = self.runner(transport, engine, group)
        runner.drain()
        assert all(r[1] == 2 for r in runner.projection.rows(engine).values())
        runner.close()

    def test_a_restarted_runner_resumes_from_the_stored_offsets(self, transport, engine, group) -> None:
        producer = transport.producer()
        first, second = guidance_story(4, responses=1), guidance_story(2, responses=1)
        producer.publish(first)
        runner = self.runner(transport, engine, group)
        runner.drain()
        runner.close()
        producer.publish(second)
        restarted = self.runner(transport, engine, group)
        assert restarted.drain() == len(second)  # nothing of the first batch is read again
        assert len(restarted.projection.rows(engine)) == 6
        restarted.close()

    def test_unknown_event_types_are_recorded_and_skipped(self, transport, engine, group) -> None:
        g = str(uuid.uuid4())
        transport.producer().publish(
            [
                record(ISSUED, g, issued_data(g), 1),
                record("guidance.SomethingNew.v7", g, {"x": 1}, 2),
                record(RESPONDED, g, responded_data(g), 2),
            ]
        )
        runner = self.runner(transport, engine, group)
        runner.drain()
        assert runner.projection.rows(engine)[g][1] == 2
        from guidance_shared.consumer import skipped_table

        with engine.connect() as conn:
            [skipped] = conn.execute(select(skipped_table)).all()
        assert skipped.event_type == "guidance.SomethingNew.v7" and skipped.reason == "unknown event type"
        runner.close()

    def test_a_poison_event_is_dead_lettered_and_parks_only_its_aggregate(self, transport, engine, group) -> None:
        sick, healthy = str(uuid.uuid4()), str(uuid.uuid4())
        transport.producer().publish(
            [
                record(ISSUED, sick, issued_data(sick), 1),
                record(ISSUED, healthy, issued_data(healthy), 1),
                record(RESPONDED, sick, responded_data(sick, "毒丸"), 2),
                record(RESPONDED, sick, responded_data(sick, "之后的回应"), 3),
                record(RESPONDED, healthy, responded_data(healthy, "正常"), 2),
            ]
        )
        registry = CollectorRegistry()
        runner = self.runner(transport, engine, group, metrics=KernelMetrics(registry))
        runner.drain()
        rows = runner.projection.rows(engine)
        assert rows[healthy][1] == 2 and rows[sick][1] == 1  # the sick one stopped before the poison
        assert [p["aggregate_id"] for p in runner.parked_aggregates()] == [sick]
        assert registry.get_sample_value("guidance_parked_aggregates", {"group": group}) == 1

        dlq = transport.consumer(f"inspect-{uuid.uuid4().hex[:6]}")
        dlq.subscribe([f"{group}.dlq"], lambda _tp: None)
        from tests.kernel.test_transport_contract import poll_until

        [dead] = poll_until(dlq, 1)
        headers = dict(dead.headers)
        assert headers["dlq_group"] == group.encode() and b"cannot be applied" in headers["dlq_reason"]
        assert dead.key == sick.encode()
        dlq.close()

        # Later events of the parked aggregate wait; after the fix they are applied in order.
        transport.producer().publish([record(RESPONDED, sick, responded_data(sick, "再后来"), 4)])
        runner.drain()
        assert runner.projection.rows(engine)[sick][1] == 1
        runner.projection.poison = "已修复"  # the operator fixed the cause
        assert runner.redrive(sick) == 3
        assert runner.projection.rows(engine)[sick][1:3] == (4, 4)
        assert runner.parked_aggregates() == []
        runner.close()

    def test_a_failed_batch_is_read_again(self, transport, engine, group) -> None:
        story = guidance_story(2, responses=1)
        transport.producer().publish(story)
        runner = self.runner(transport, engine, group)
        original = runner._store_offsets

        def crash(*_a: Any, **_k: Any) -> None:
            raise OSError("disk full")

        runner._store_offsets = crash  # type: ignore[method-assign]
        with pytest.raises(OSError):
            while True:
                runner.run_once(1.0)
        runner._store_offsets = original  # type: ignore[method-assign]
        runner.drain()
        assert all(r[1] == 2 for r in runner.projection.rows(engine).values())
        runner.close()

    def test_rebuild_from_offset_zero_equals_the_live_projection(self, transport, engine, group) -> None:
        transport.producer().publish(guidance_story(6, responses=2))
        runner = self.runner(transport, engine, group)
        runner.drain()
        live = runner.projection.rows(engine)
        runner.reset()
        assert runner.projection.rows(engine) == {}
        runner.close()
        rebuilt = self.runner(transport, engine, group)
        rebuilt.drain()
        assert rebuilt.projection.rows(engine) == live
        rebuilt.close()

    def test_lag_is_exported_as_a_metric(self, transport, engine, group) -> None:
        transport.producer().publish(guidance_story(3, responses=0))
        registry = CollectorRegistry()
        runner = self.runner(transport, engine, group, metrics=KernelMetrics(registry))
        runner.drain()
        samples = [s for m in registry.collect() if m.name == "guidance_consumer_lag" for s in m.samples]
        assert samples and all(s.value == 0 for s in samples)
        runner.close()

    # -- the plain path (one transaction, no savepoints) must end where the careful path ends --------
    def test_a_mixed_batch_ends_exactly_as_on_the_careful_path(self, transport, engine, group, tmp_path) -> None:
        """A poison event, an unknown type, a malformed record and a duplicate in the middle of one batch:
        the plain path gives up, and the outcome (projection, bookkeeping, dead letters) is the careful path's."""
        sick, healthy, other = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        duplicate = record(ISSUED, other, issued_data(other), 1)
        transport.producer().publish(
            [
                record(ISSUED, sick, issued_data(sick), 1),
                record(ISSUED, healthy, issued_data(healthy), 1),
                duplicate,
                record(RESPONDED, sick, responded_data(sick, "毒丸"), 2),
                Record("intake.events", b"x", b"not a cloudevent", (("ce_id", b"broken"),)),
                record("guidance.SomethingNew.v7", healthy, {"x": 1}, 2),
                duplicate,
                record(RESPONDED, sick, responded_data(sick, "之后的回应"), 3),
                record(RESPONDED, healthy, responded_data(healthy, "正常"), 2),
            ]
        )
        outcomes = []
        for plain_path in (True, False):
            run_group = f"{group}{'p' if plain_path else 'c'}"
            run_engine = make_engine(f"sqlite:///{tmp_path}/{run_group}.sqlite")
            runner = self.runner(transport, run_engine, run_group)
            runner.plain_path = plain_path
            plain_calls, careful_calls = _count_calls(runner, "_run_plain"), _count_calls(runner, "_handle")
            assert runner.drain() == 9
            assert (plain_calls() > 0) == plain_path
            assert careful_calls() > 0  # the plain pass gave up (or was off) and the careful path did the work
            outcomes.append(_state(run_engine, runner, transport))
            runner.close()
            run_engine.dispose()
        plain, careful = outcomes
        assert plain == careful
        assert plain["parked"] == [sick] and len(plain["dead_letters"]) == 2  # the poison and the malformed record
        assert plain["rows"][healthy][1:3] == (2, 2) and plain["rows"][sick][1] == 1

    @pytest.mark.parametrize("apply_many", [False, True], ids=["apply", "apply_many"])
    def test_a_clean_batch_ends_exactly_as_on_the_careful_path(self, transport, group, tmp_path, apply_many) -> None:
        """Valid events and duplicates only: the plain path commits every batch, and what it leaves
        (projection, applied ids, offsets, nothing parked or skipped) is what the careful path leaves."""
        story = guidance_story(4, responses=2)
        transport.producer().publish([*story, *story[:3]])
        outcomes = []
        for plain_path in (True, False):
            run_group = f"{group}{'p' if plain_path else 'c'}"
            run_engine = make_engine(f"sqlite:///{tmp_path}/{run_group}.sqlite")
            runner = self.runner(transport, run_engine, run_group, projection=BatchTally() if apply_many else Tally())
            runner.plain_path = plain_path
            plain_calls, careful_calls = _count_calls(runner, "_run_plain"), _count_calls(runner, "_handle")
            assert runner.drain() == len(story) + 3
            assert (plain_calls() > 0, careful_calls() > 0) == (plain_path, not plain_path)
            outcomes.append(_state(run_engine, runner, transport, dead_letters=0))
            runner.close()
            run_engine.dispose()
        plain, careful = outcomes
        assert plain == careful
        assert len(plain["applied"]) == len(story) and not plain["parked"] and not plain["skipped"]

    def test_each_event_is_applied_in_its_own_flow_on_either_path(self, transport, group, tmp_path) -> None:
        """What a reaction stores carries the consumed event's correlation id, the event as its cause and a
        new span in the event's trace; the plain and careful paths set the same flow."""
        trace_ids = [uuid.uuid4().hex for _ in range(3)]
        records = []
        for index, trace_id in enumerate(trace_ids):
            g = str(uuid.uuid4())
            envelope = Envelope(
                type=ISSUED,
                source="/guidance/intake",
                subject=g,
                data=issued_data(g),
                sequence=1,
                correlationid=f"flow-{index}" if index else None,  # the first has none: its own id correlates
                traceparent=f"00-{trace_id}-{index + 1:016x}-01",
            )
            records.append((envelope, envelope.to_record("intake.events")))
        transport.producer().publish([r for _e, r in records])
        seen = []
        for plain_path in (True, False):
            run_group = f"{group}{'p' if plain_path else 'c'}"
            run_engine = make_engine(f"sqlite:///{tmp_path}/{run_group}.sqlite")
            projection = FlowRecording()
            runner = self.runner(transport, run_engine, run_group, projection=projection)
            runner.plain_path = plain_path
            plain_calls, careful_calls = _count_calls(runner, "_run_plain"), _count_calls(runner, "_handle")
            assert runner.drain() == 3
            # the path asked for applied them: a plain path without a flow must not pass by falling back
            assert (plain_calls() > 0, careful_calls() > 0) == (plain_path, not plain_path)
            seen.append(sorted((e, c, k, t) for e, c, k, t, _span in projection.flows))
            by_id = {envelope.id: envelope for envelope, _record in records}
            assert sorted(flow[0] for flow in projection.flows) == sorted(by_id)  # each once (no order across keys)
            for event_id, correlation, cause, trace_id, span_id in projection.flows:
                envelope = by_id[event_id]
                assert cause == envelope.id and correlation == (envelope.correlationid or envelope.id)
                parent = envelope.traceparent or ""
                assert trace_id == parent.split("-")[1] and span_id != parent.split("-")[2]
            assert not current_flow()  # nothing leaks out of the batch
            runner.close()
            run_engine.dispose()
        assert seen[0] == seen[1]

    def test_duplicates_within_one_batch_are_skipped_on_the_plain_path(self, transport, engine, group) -> None:
        story = guidance_story(3, responses=1)
        transport.producer().publish([*story, *story[:3], story[4]])  # republished records, same batch
        registry = CollectorRegistry()
        runner = self.runner(transport, engine, group, metrics=KernelMetrics(registry))
        careful_calls = _count_calls(runner, "_handle")
        assert runner.drain() == 10
        assert careful_calls() == 0  # every batch committed on the plain path
        assert all(r[1] == 2 for r in runner.projection.rows(engine).values())
        with engine.connect() as conn:
            applied = conn.execute(select(applied_table.c.event_id).where(applied_table.c.group_id == group)).all()
        assert len(applied) == 6
        assert registry.get_sample_value("guidance_consumer_applied_total", {"group": group}) == 6
        skipped = registry.get_sample_value("guidance_consumer_skipped_total", {"group": group, "reason": "duplicate"})
        assert skipped == 4
        runner.close()

    def test_an_apply_many_projection_gets_the_batch_and_falls_back_to_apply(self, transport, engine, group) -> None:
        story = guidance_story(4, responses=1)
        transport.producer().publish(story)
        projection = BatchTally()
        runner = self.runner(transport, engine, group, projection=projection)
        runner.drain()
        assert projection.batches and sum(projection.batches) == 8
        assert all(r[1] == 2 for r in projection.rows(engine).values())

        # a poison event: apply_many fails, the careful path applies one by one and parks as usual
        g = str(uuid.uuid4())
        transport.producer().publish(
            [record(ISSUED, g, issued_data(g), 1), record(RESPONDED, g, responded_data(g, "毒丸"), 2)]
        )
        runner.drain()
        assert projection.rows(engine)[g][1] == 1
        assert [p["aggregate_id"] for p in runner.parked_aggregates()] == [g]
        runner.close()

    def test_the_plain_path_hands_projections_what_load_typed_gives(self, transport, engine, group) -> None:
        """Compiled loaders on the plain path: same data, same envelope (its JSON data too) as before."""
        g, h = str(uuid.uuid4()), str(uuid.uuid4())
        braced = issued_data(h, related_case_id="{" + str(uuid.uuid4()) + "}")  # only marshmallow accepts braces
        transport.producer().publish(
            [
                record(ISSUED, g, issued_data(g), 1),
                record(RESPONDED, g, responded_data(g), 2),
                record(ISSUED, h, braced, 1),
            ]
        )
        projection = Recording()
        runner = self.runner(transport, engine, group, projection=projection)
        careful_calls = _count_calls(runner, "_handle")
        assert runner.drain() == 3
        assert careful_calls() == 0
        registry = default_registry()
        by_aggregate = [(e.envelope.subject, e.name) for e in projection.events]  # partitions interleave freely
        assert [n for s, n in by_aggregate if s == g] == ["GuidanceIssued", "GuidanceResponded"]
        assert [n for s, n in by_aggregate if s == h] == ["GuidanceIssued"]
        for event in projection.events:
            event_type, expected = registry.load_typed(event.envelope.type, event.envelope.data)
            assert event.data == expected and event.type == event_type.ce_type
            assert list(event.data) == list(expected)
        (braced_event,) = [e for e in projection.events if e.envelope.subject == h]
        assert braced_event.envelope.data["related_case_id"] == braced["related_case_id"]
        assert projection.gc_enabled_in_apply_many and not any(projection.gc_enabled_in_apply_many)  # paused
        assert gc.isenabled()
        runner.close()

    def test_the_collector_is_left_as_it_was_found(self, transport, engine, group) -> None:
        g = str(uuid.uuid4())
        transport.producer().publish([record(ISSUED, g, issued_data(g), 1)])
        projection = Recording(fail=True)  # apply_many raises: the careful path redoes the batch
        runner = self.runner(transport, engine, group, projection=projection)
        gc.disable()
        try:
            assert runner.drain() == 1
            assert not gc.isenabled()
        finally:
            gc.enable()
        assert projection.gc_enabled_in_apply is not None
        g2 = str(uuid.uuid4())
        transport.producer().publish([record(ISSUED, g2, issued_data(g2), 1)])
        assert runner.drain() == 1
        assert gc.isenabled()
        assert projection.gc_enabled_in_apply is True  # the careful path runs with the collector on
        runner.close()


class Recording(Tally):
    """``Tally`` that keeps the events it was given and whether the cyclic collector was on."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.events: list[ConsumedEvent] = []
        self.gc_enabled_in_apply_many: list[bool] = []
        self.gc_enabled_in_apply: bool | None = None

    def apply(self, conn: Any, event: ConsumedEvent) -> None:
        self.gc_enabled_in_apply = gc.isenabled()
        super().apply(conn, event)

    def apply_many(self, conn: Any, events: Sequence[ConsumedEvent]) -> None:
        self.gc_enabled_in_apply_many.append(gc.isenabled())
        if self.fail:
            raise RuntimeError("apply_many gives up")
        for event in events:
            super().apply(conn, event)
        self.events.extend(events)


class FlowRecording(Tally):
    """``Tally`` that notes the flow each event was applied in: (event id, correlation, cause, trace, span)."""

    def __init__(self) -> None:
        super().__init__()
        self.flows: list[tuple[str, str | None, str | None, str | None, str | None]] = []

    def apply(self, conn: Any, event: ConsumedEvent) -> None:
        # Notes what it finds, never raises: an error here would send the batch down the careful path.
        flow, trace = current_flow(), current_flow().trace
        self.flows.append(
            (
                event.envelope.id,
                flow.correlation_id,
                flow.causation_id,
                trace.trace_id if trace else None,
                trace.span_id if trace else None,
            )
        )
        super().apply(conn, event)


class BatchTally(Tally):
    """``Tally`` with ``apply_many`` (event by event, counting batch sizes)."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def apply_many(self, conn: Any, events: Sequence[ConsumedEvent]) -> None:
        for event in events:
            self.apply(conn, event)
        self.batches.append(len(events))


def _count_calls(runner: ConsumerRunner, name: str) -> Callable[[], int]:
    original = getattr(runner, name)
    calls = 0

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    setattr(runner, name, counting)
    return lambda: calls


def _state(engine: Engine, runner: ConsumerRunner, transport: Transport, dead_letters: int = 2) -> dict[str, Any]:
    """Everything a batch leaves behind, minus the group name, row ids and timestamps."""
    from tests.kernel.test_transport_contract import poll_until

    group = runner.group
    with engine.connect() as conn:

        def rows(table: Any, *columns: str) -> list[tuple[Any, ...]]:
            query = select(*(table.c[c] for c in columns)).where(table.c.group_id == group)
            return sorted((tuple(r) for r in conn.execute(query)), key=repr)

        state: dict[str, Any] = {
            "applied": rows(applied_table, "event_id"),
            "offsets": rows(offsets_table, "topic", "partition", "next_offset"),
            "parked_rows": rows(parked_table, "aggregate_id", "event_id", "reason"),
            "parked_events": rows(parked_events_table, "aggregate_id", "topic", "partition", "offset", "value"),
            "skipped": rows(skipped_table, "event_id", "event_type", "topic", "partition", "offset", "reason"),
        }
    state["rows"] = runner.projection.rows(engine)
    state["parked"] = [p["aggregate_id"] for p in runner.parked_aggregates()]
    dlq = transport.consumer(f"inspect-{uuid.uuid4().hex[:6]}")
    dlq.subscribe([f"{group}.dlq"], lambda _tp: None)
    letters = poll_until(dlq, dead_letters, 10.0)
    state["dead_letters"] = sorted(
        (r.key, r.value, tuple((k, v) for k, v in r.headers if k != "dlq_group")) for r in letters
    )
    dlq.close()
    return state


class TestEmbeddedConsumerRunner(ConsumerRunnerContract):
    @pytest.fixture
    def transport(self, tmp_path) -> Iterator[Transport]:
        transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
        transport.create_topics(["intake.events"], 3)
        yield transport
        transport.close()


@pytest.mark.kafka
class TestKafkaConsumerRunner(ConsumerRunnerContract):
    @pytest.fixture
    def transport(self, kafka_bootstrap: str) -> Iterator[Transport]:
        from guidance_shared.transport.kafka_transport import KafkaTransport

        transport = KafkaTransport(kafka_bootstrap, prefix=f"r{uuid.uuid4().hex[:6]}")
        transport.create_topics(["intake.events"], 3)
        yield transport
        transport.close()

    def test_after_close_the_group_has_committed_the_stored_offsets(
        self, transport, engine, group, kafka_bootstrap: str
    ) -> None:
        """Commits are asynchronous (a courtesy for tooling); a clean close leaves them where the database says."""
        from kafka import KafkaAdminClient

        transport.producer().publish(guidance_story(6, responses=1))
        runner = self.runner(transport, engine, group)
        assert runner.drain() == 12
        runner.close()
        with engine.connect() as conn:
            stored = {r.partition: r.next_offset for r in conn.execute(select(offsets_table)) if r.group_id == group}
        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        try:
            committed = admin.list_group_offsets({group: None}).get(group, {})
        finally:
            admin.close()
        assert {tp.partition: meta.offset for tp, meta in committed.items()} == stored


@pytest.mark.kafka
def test_a_runner_built_while_the_broker_is_away_consumes_once_it_is_back(restartable_kafka, tmp_path) -> None:
    """A worker builds its runner at start. A broker that is away at that moment costs a retry of the consumer
    loop, which survives outages, not a crash of the whole process (nothing would relay its outbox then)."""
    from guidance_shared.transport.base import TransportError
    from guidance_shared.transport.kafka_transport import KafkaTransport

    restartable_kafka.stop()
    transport = KafkaTransport(restartable_kafka.bootstrap_servers, prefix=f"r{uuid.uuid4().hex[:6]}")
    engine = make_engine(f"sqlite:///{tmp_path}/projection.sqlite")
    group = f"disclosure{uuid.uuid4().hex[:6]}"
    projection = Tally()
    kernel_tables(engine, projection.metadata)
    runner = ConsumerRunner(
        engine=engine,
        consumer=transport.consumer(group),  # builds without a broker
        projection=projection,
        registry=default_registry(),
        group=group,
        topics=["intake.events"],
        dlq_producer=transport.producer(),
    )
    try:
        with pytest.raises(TransportError):
            runner.run_once(0.1)  # what run_forever logs and retries after a pause
        restartable_kafka.start()
        transport.create_topics(["intake.events", f"{group}.dlq"], 3)
        transport.producer().publish(guidance_story(3, responses=1))
        assert runner.drain(timeout_s=60) == 6
    finally:
        runner.close()
        transport.close()
        engine.dispose()


class Contended(Tally):
    """``Tally`` whose first ``times`` applies meet a deadlock, as another worker's transaction causes on PostgreSQL
    (the error as SQLAlchemy raises it from psycopg: a fake of the server's answer, the runner is real)."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.left = times

    def apply(self, conn: Any, event: ConsumedEvent) -> None:
        if self.left:
            self.left -= 1
            raise OperationalError("UPDATE counters", {}, DeadlockDetected("deadlock detected"))
        super().apply(conn, event)


def test_a_deadlock_rolls_the_whole_batch_back_to_be_read_again_and_parks_nothing(tmp_path) -> None:
    """Retrying inside the batch's transaction would keep the locks the deadlock came from, and after
    ``max_retries`` a good event would be parked: the batch is given up whole and read again instead."""
    group = f"assessment{uuid.uuid4().hex[:6]}"
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    transport.create_topics(["intake.events", f"{group}.dlq"], 3)
    transport.producer().publish(guidance_story(2, responses=1))
    engine = make_engine(f"sqlite:///{tmp_path}/projection.sqlite")
    projection = Contended(times=3)
    kernel_tables(engine, projection.metadata)
    runner = ConsumerRunner(
        engine=engine,
        consumer=transport.consumer(group),
        projection=projection,
        registry=default_registry(),
        group=group,
        topics=["intake.events"],
        dlq_producer=transport.producer(),
        max_retries=3,
    )
    runner.plain_path = False  # the careful path is where events are retried and parked
    try:
        for _ in range(3):
            with pytest.raises(OperationalError):
                while not runner.run_once(0.5):  # until a batch comes (an embedded poll may return nothing)
                    pass
        assert runner.drain() == 4
        with engine.connect() as conn:
            assert conn.execute(select(parked_table)).all() == []
            applied = conn.execute(select(applied_table.c.event_id)).scalars().all()
        assert len(applied) == len(set(applied)) == 4
    finally:
        runner.close()
        transport.close()
        engine.dispose()
