"""A projection rebuilt beside the live one and swapped in (docs/architecture.md §4.7), on SQLite and PostgreSQL.

The live runner keeps its place throughout; whatever it applied that the rebuilt projection had
not seen is applied again to the new tables, once, and whatever arrived after the swap simply
follows. Nothing the sandbox did reaches the live database but the projection and its bookkeeping.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    text,
)

from guidance_shared.consumer import applied_table, generations_table, offsets_table
from guidance_shared.db import make_engine
from guidance_shared.eventstore import NewEvent, StoredEvent
from guidance_shared.rebuild import ShadowRebuild, rebuild_read_models
from guidance_shared.runtime import ReadModel, Runtime, ServiceSpec
from guidance_shared.settings import Settings
from tests.support.events import ISSUED, RESPONDED, guidance_story, issued_data, record, responded_data
from tests.support.projections import Tally
from tests.support.schema import migrated_runtime

SPEC = ServiceSpec(name="tally", publishes=None, consumes=("intake.events",), projection=lambda _runtime: Tally())


def _count(engine: Engine, table: Any, group: str = "tally") -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(table.c.group_id == group)).scalar_one())


class ShadowRebuildContract:
    @pytest.fixture
    def runtime(self, tmp_path: Path, database_url: str) -> Iterator[Runtime]:
        env = {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_DATABASE_URL": database_url}
        settings = Settings.from_env("tally", env)
        runtime = migrated_runtime(SPEC, settings)
        runtime.provision()
        yield runtime
        runtime.close()

    @staticmethod
    def _publish(runtime: Runtime, records: list[Any]) -> None:
        runtime.transport.producer().publish(records)

    @staticmethod
    def _rows(runtime: Runtime) -> dict[str, tuple[Any, ...]]:
        projection = runtime.projection
        assert isinstance(projection, Tally)
        return projection.rows(runtime.engine)

    def test_the_rebuilt_projection_replaces_the_live_one_and_the_live_runner_goes_on(self, runtime: Runtime) -> None:
        first = guidance_story(4, responses=2)  # 12 events
        self._publish(runtime, first)
        live = runtime.runner()
        assert live.drain() == 12
        before = self._rows(runtime)

        late = guidance_story(2, responses=1)  # arrive after the sandbox caught up, before the swap
        after = guidance_story(1, responses=1)  # arrive after the swap
        rebuild = ShadowRebuild(runtime)
        swap = rebuild._swap

        def publish_then_swap(*args: Any) -> Any:
            self._publish(runtime, late)
            assert live.drain() == 4  # the live runner applies them to the old tables first
            assert len(self._rows(runtime)) == 6
            return swap(*args)

        rebuild._swap = publish_then_swap  # type: ignore[method-assign]
        result = rebuild.run(timeout_s=60)
        assert result.replayed == 12 and result.tables == ("tally",) and result.rows == {"tally": 4}
        assert self._rows(runtime) == before  # what the sandbox built: the late events are not in it yet

        self._publish(runtime, after)
        assert live.drain() == 4 + 2  # rewound to the rebuilt offsets: the late ones again, then the new
        rows = self._rows(runtime)
        assert len(rows) == 7
        assert all(r[1] == r[2] for r in rows.values())  # applied count == last sequence: nothing twice
        assert _count(runtime.engine, applied_table) == 12 + 4 + 2
        live.close()

    def test_the_rebuilt_projection_equals_a_full_replay_and_the_sandbox_is_gone(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        self._publish(runtime, guidance_story(5, responses=2))
        live = runtime.runner()
        live.drain()
        live_rows = self._rows(runtime)
        result = ShadowRebuild(runtime).run(timeout_s=60)
        assert result.generation == 1 and result.replayed == 15
        assert self._rows(runtime) == live_rows
        assert live.drain() == 0  # nothing new; the rewind found every id applied
        with runtime.engine.connect() as conn:
            assert conn.execute(select(generations_table.c.generation)).scalars().all() == [1]
            offsets = sorted(conn.execute(select(offsets_table.c.partition, offsets_table.c.next_offset)).all())
        assert sum(offset for _, offset in offsets) == 15
        assert not list(tmp_path.glob("*.rebuild-*"))
        live.close()

    def test_a_started_runner_has_a_generation_row_for_its_batches_to_hold(self, runtime: Runtime) -> None:
        """On PostgreSQL a batch holds its group's generation row FOR SHARE, so a swap (which updates it)
        waits for batches in flight; without a row there would be nothing to hold."""
        other_worker = migrated_runtime(SPEC, runtime.settings)
        first, second = runtime.runner(), other_worker.runner()
        first.start()
        second.start()  # a second worker of the group finds the row and leaves it
        with runtime.engine.connect() as conn:
            rows = conn.execute(select(generations_table.c.group_id, generations_table.c.generation)).all()
        assert rows == [("tally", 0)]
        other_worker.close()
        first.close()

    def test_a_poison_event_parks_its_aggregate_again_but_is_not_dead_lettered_twice(self, runtime: Runtime) -> None:
        sick, healthy = str(uuid.uuid4()), str(uuid.uuid4())
        runtime.transport.create_topics(["tally.dlq"], 1)
        self._publish(
            runtime,
            [
                record(ISSUED, sick, issued_data(sick), 1),
                record(ISSUED, healthy, issued_data(healthy), 1),
                record(RESPONDED, sick, responded_data(sick, "毒丸"), 2),
            ],
        )
        live = runtime.runner()
        live.drain()
        assert [row["aggregate_id"] for row in live.parked_aggregates()] == [sick]
        result = ShadowRebuild(runtime).run(timeout_s=60)
        assert result.parked == (sick,) and result.as_dict()["parked"] == [sick]
        assert [row["aggregate_id"] for row in live.parked_aggregates()] == [sick]  # handed to the live group
        assert runtime.transport.end_offsets("tally.dlq") == {0: 1}  # the live worker's one dead letter only
        live.close()

    def test_an_operators_skip_outlives_a_rebuild_and_a_reset(self, runtime: Runtime) -> None:
        """redrive --skip-poison is recorded: a replay from zero passes the poison as the live runner did."""
        sick, healthy = str(uuid.uuid4()), str(uuid.uuid4())
        runtime.transport.create_topics(["tally.dlq"], 1)
        self._publish(
            runtime,
            [
                record(ISSUED, sick, issued_data(sick), 1),
                record(ISSUED, healthy, issued_data(healthy), 1),
                record(RESPONDED, sick, responded_data(sick, "毒丸"), 2),
            ],
        )
        live = runtime.runner()
        live.drain()
        assert [row["aggregate_id"] for row in live.parked_aggregates()] == [sick]
        assert live.redrive(sick, skip_poison=True) == 0  # the poison dropped, nothing behind it
        assert live.parked_aggregates() == []
        released = self._rows(runtime)
        assert released[sick][1] == 1 and released[healthy][1] == 1

        result = ShadowRebuild(runtime).run(timeout_s=60)
        assert result.parked == ()
        assert self._rows(runtime) == released and live.parked_aggregates() == []
        assert live.drain() == 0

        live.reset()
        live.drain()
        assert self._rows(runtime) == released and live.parked_aggregates() == []
        live.close()

    def test_a_changed_table_definition_comes_into_use(self, runtime: Runtime) -> None:
        """The live table is recreated from the current definition, not copied into the old one."""
        self._publish(runtime, guidance_story(2, responses=0))
        live = runtime.runner()
        live.drain()
        live.close()
        projection = runtime.projection
        assert isinstance(projection, Tally)
        with runtime.engine.begin() as conn:
            projection.table.drop(conn)
            conn.exec_driver_sql('CREATE TABLE tally (aggregate_id VARCHAR(64) PRIMARY KEY, "old" INTEGER)')
        ShadowRebuild(runtime).run(timeout_s=60)
        assert len(self._rows(runtime)) == 2


class TestSqliteShadowRebuild(ShadowRebuildContract):
    @pytest.fixture
    def database_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/tally.sqlite"

    def test_in_memory_databases_cannot_be_rebuilt_beside(self, tmp_path: Path) -> None:
        settings = Settings.from_env("tally", {"GUIDANCE_VAR_DIR": str(tmp_path)})
        runtime = migrated_runtime(SPEC, settings, engine=make_engine("sqlite:///:memory:"))
        with pytest.raises(ValueError, match="SQLite file"):
            ShadowRebuild(runtime).run()
        runtime.close()


@pytest.mark.postgres
class TestPostgresShadowRebuild(ShadowRebuildContract):
    @pytest.fixture
    def database_url(self, postgres_db_url: str) -> str:
        return postgres_db_url

    def test_the_sandbox_schema_is_dropped(self, runtime: Runtime) -> None:
        self._publish(runtime, guidance_story(1, responses=0))
        ShadowRebuild(runtime, token=uuid.uuid4().hex[:8]).run(timeout_s=60)
        with runtime.engine.connect() as conn:
            schemas = conn.execute(
                text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :like"),
                {"like": "rebuild_tally_%"},
            ).all()
        assert schemas == []


# -- a service's own read models, refolded from its event store ----------------------------------------

NOTES = MetaData()
NOTE_ROWS = Table(
    "notes", NOTES, Column("note_id", String(36), primary_key=True), Column("text", Text), Column("version", Integer)
)


def _fold_notes(conn: Connection, events: list[StoredEvent]) -> None:
    for event in events:
        row = {"note_id": event.stream_id, "text": json.dumps(event.data, ensure_ascii=False), "version": event.version}
        conn.execute(delete(NOTE_ROWS).where(NOTE_ROWS.c.note_id == event.stream_id))
        conn.execute(insert(NOTE_ROWS).values(**row))


NOTES_SPEC = ServiceSpec(
    name="notes",
    publishes="intake.events",
    extra_metadata=(NOTES,),
    read_models=(ReadModel(NOTES, _fold_notes, ("Note",)),),
)


def test_own_read_models_are_refolded_from_the_event_store_in_one_transaction(tmp_path: Path) -> None:
    runtime = migrated_runtime(NOTES_SPEC, Settings.from_env("notes", {"GUIDANCE_VAR_DIR": str(tmp_path)}))
    assert runtime.store is not None
    with runtime.engine.begin() as conn:
        for n in range(3):
            for version in range(2):
                # Valid data: a runtime's store checks each event against its contract before appending it.
                data = issued_data(str(uuid.uuid5(uuid.NAMESPACE_URL, f"note-{n}")), matter=f"事项 {n}-{version}")
                event = NewEvent("guidance.GuidanceIssued.v1", data)
                stored = runtime.store.append(f"note-{n}", "Note", version, [event], conn=conn)
                _fold_notes(conn, stored)
        data = issued_data(str(uuid.uuid5(uuid.NAMESPACE_URL, "other")))
        other = runtime.store.append("other", "Other", 0, [NewEvent("guidance.GuidanceIssued.v1", data)], conn=conn)
        assert other  # a stream type no read model folds
    with runtime.engine.connect() as conn:
        written = sorted(conn.execute(select(NOTE_ROWS)).all())
        conn.execute(NOTE_ROWS.delete())
        conn.commit()
    report = rebuild_read_models(runtime)
    with runtime.engine.connect() as conn:
        assert sorted(conn.execute(select(NOTE_ROWS)).all()) == written
    assert report == {"rebuilt": "notes", "events": 7, "tables": {"notes": 3}}
    runtime.close()


def test_a_service_without_own_read_models_says_so(tmp_path: Path) -> None:
    runtime = migrated_runtime(SPEC, Settings.from_env("tally", {"GUIDANCE_VAR_DIR": str(tmp_path)}))
    with pytest.raises(ValueError, match="no read models"):
        rebuild_read_models(runtime)
    runtime.close()
