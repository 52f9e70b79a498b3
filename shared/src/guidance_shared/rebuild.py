"""Rebuilding a service's projection beside the live one, then swapping it in (docs/architecture.md §4.7).

The live projection keeps serving reads, and its worker keeps applying events, while a second
runner replays the service's topics from offset zero into a *sandbox*: a database of its own (a
sibling SQLite file, or a PostgreSQL schema) holding every table the service has. The sandbox is
a whole copy of the service's storage, not only the projection's tables, because a projection may
act as it applies (revisit schedules revisits, disclosure opens disclosure items, intake records
verified corrections); in the sandbox those actions append to a throwaway event store and outbox
that nothing relays, exactly as they did the first time, so the replay neither publishes anything
nor depends on the live history's later state.

When the sandbox runner has caught up, one transaction on the live database replaces the
projection's tables with the sandbox's (recreated from the current table definitions, so a rebuild
also brings a changed projection schema into use), replaces what the service's consumer group had
recorded (offsets, applied event ids, parked aggregates) with the sandbox's, and bumps the group's
*generation*. A live runner checks the generation at the start of every batch: one that sees it
change rolls its batch back and reads again from the offsets now stored, so events that arrived
after the sandbox caught up are applied to the new tables, once. Readers see the old tables until
that transaction commits and the new ones after it, never a mixture.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import structlog
from sqlalchemy import Connection, Engine, Table, delete, func, select, text

from guidance_shared.consumer import (
    applied_table,
    bump_generation,
    offsets_table,
    parked_events_table,
    parked_table,
    seed_skip_decisions,
    skip_decisions,
    skipped_table,
)
from guidance_shared.db import make_engine
from guidance_shared.kernel import make_transport
from guidance_shared.migrations import create_from_metadata
from guidance_shared.runtime import Runtime
from guidance_shared.transport.base import Producer, Record

log = structlog.get_logger(__name__)

#: the consumer group's own records, replaced by the sandbox's at the swap (generations are bumped, not copied)
GROUP_TABLES = (offsets_table, applied_table, parked_table, parked_events_table, skipped_table)
#: columns numbered by the database itself: left out of the copy, the live table numbers the rows again
_NUMBERED = {"id"}


class ReadModelsReport(TypedDict):
    """What a rebuild did: the service, the events it replayed, the rows in each table afterwards."""

    rebuilt: str
    events: int
    tables: dict[str, int]


class ShadowRebuildReport(ReadModelsReport):
    """``RebuildResult`` as the operator's command prints it."""

    generation: int
    parked: list[str]


@dataclass(frozen=True)
class RebuildResult:
    service: str
    replayed: int  # records the sandbox runner handled
    tables: tuple[str, ...]  # projection tables swapped in
    rows: dict[str, int]  # rows in each, after the swap
    generation: int  # the consumer group's generation after the swap
    parked: tuple[str, ...] = ()  # aggregates parked behind a poison event, live after the swap

    def as_dict(self) -> ShadowRebuildReport:
        return {
            "rebuilt": self.service,
            "events": self.replayed,
            "tables": dict(self.rows),
            "generation": self.generation,
            "parked": list(self.parked),
        }


class ShadowRebuild:
    def __init__(self, runtime: Runtime, *, token: str | None = None) -> None:
        if runtime.projection is None:
            raise ValueError(f"{runtime.spec.name} has no projection to rebuild")
        self.runtime = runtime
        self.token = token or uuid.uuid4().hex[:8]
        self.group = runtime.spec.name

    def run(self, timeout_s: float = 3600.0) -> RebuildResult:
        with self._sandbox() as (sandbox_engine, attach):
            create_from_metadata(sandbox_engine, self.runtime.tables())
            # An operator's decisions to skip a poison event hold in the replay too (and reach the swap as
            # applied ids), or the rebuild would park again what a redrive released.
            with self.runtime.engine.connect() as live, sandbox_engine.begin() as conn:
                seed_skip_decisions(conn, self.group, skip_decisions(live, self.group))
            shadow = Runtime(
                self.runtime.spec,
                self.runtime.settings,
                engine=sandbox_engine,
                transport=make_transport(self.runtime.settings),
                registry=self.runtime.registry,
                check_schema=False,  # made from the metadata just now, not from the history
            )
            try:
                runner = shadow.runner(
                    consumer_group=f"{self.group}.rebuild-{self.token}", dlq_producer=_KeptInTheSandbox()
                )
                log.info("rebuild.replaying", service=self.group, sandbox=str(sandbox_engine.url))
                replayed = runner.drain(timeout_s=timeout_s)
                parked = sorted(row["aggregate_id"] for row in runner.parked_aggregates())
                assert shadow.projection is not None
                tables = tuple(shadow.projection.metadata.sorted_tables)
            finally:
                shadow.close()
            generation, rows = self._swap(attach, tables)
        log.info(
            "rebuild.swapped", service=self.group, events=replayed, generation=generation, rows=rows, parked=parked
        )
        return RebuildResult(self.group, replayed, tuple(t.name for t in tables), rows, generation, tuple(parked))

    # -- the sandbox ---------------------------------------------------------------
    @contextlib.contextmanager
    def _sandbox(self) -> Iterator[tuple[Engine, str]]:
        """(an engine on the sandbox, how the live database's SQL names it); removed on exit."""
        live = self.runtime.engine
        if live.dialect.name == "sqlite":
            database = live.url.database
            if not database or database == ":memory:":
                raise ValueError("a rebuild beside the live projection needs a SQLite file, not :memory:")
            path = Path(database)
            sandbox = path.with_name(f"{path.stem}.rebuild-{self.token}{path.suffix}")
            engine = make_engine(f"sqlite:///{sandbox}")
            try:
                yield engine, str(sandbox)
            finally:
                engine.dispose()
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{sandbox}{suffix}").unlink(missing_ok=True)
            return
        schema = f"rebuild_{self.group}_{self.token}"
        with live.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(live.url.render_as_string(hide_password=False)).execution_options(
            schema_translate_map={None: schema}
        )
        try:
            yield engine, schema
        finally:
            engine.dispose()
            with live.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))

    # -- the swap ------------------------------------------------------------------
    def _swap(self, sandbox: str, tables: tuple[Table, ...]) -> tuple[int, dict[str, int]]:
        live = self.runtime.engine
        with live.connect() as conn:
            sqlite = live.dialect.name == "sqlite"
            if sqlite:  # SQLite attaches outside a transaction; the driver is in autocommit here
                driver: Any = conn.connection.driver_connection
                driver.execute("ATTACH DATABASE ? AS rebuild", (sandbox,))
                source = "rebuild"
            else:
                source = sandbox
            try:
                with conn.begin():
                    # First, so that on PostgreSQL the swap waits for live batches in flight (they hold
                    # the generation row shared) and batches after it see the new generation.
                    generation = bump_generation(conn, self.group)
                    rows = {table.name: self._replace_table(conn, table, source) for table in tables}
                    for table in GROUP_TABLES:
                        self._replace_group_rows(conn, table, source)
            finally:
                if sqlite:
                    with contextlib.suppress(sqlite3.Error):
                        driver.execute("DETACH DATABASE rebuild")
        return generation, rows

    def _replace_table(self, conn: Connection, table: Table, source: str) -> int:
        table.drop(conn, checkfirst=True)
        table.create(conn)
        columns = ", ".join(_quoted(c.name) for c in table.columns)
        result = conn.execute(
            text(
                f"INSERT INTO {_quoted(table.name)} ({columns}) "
                f"SELECT {columns} FROM {_quoted(source)}.{_quoted(table.name)}"
            )
        )
        return int(result.rowcount)

    def _replace_group_rows(self, conn: Connection, table: Table, source: str) -> None:
        conn.execute(delete(table).where(table.c.group_id == self.group))
        names = [c.name for c in table.columns if c.name not in _NUMBERED]
        columns = ", ".join(_quoted(n) for n in names)
        order = " ORDER BY id" if "id" in table.c else ""  # parked events keep their order
        conn.execute(
            text(
                f"INSERT INTO {_quoted(table.name)} ({columns}) "
                f"SELECT {columns} FROM {_quoted(source)}.{_quoted(table.name)} WHERE group_id = :group{order}"
            ),
            {"group": self.group},
        )


class _KeptInTheSandbox(Producer):
    """The rebuild's dead letters: not published. A poison event the replay meets again was dead-lettered
    when the live worker met it; one it meets for the first time (a projection that changed) parks its
    aggregate, which the swap hands to the live group, and the rebuild's result and ``parked`` list it."""

    def publish(self, records: Sequence[Record]) -> None:
        for record in records:
            log.warning(
                "rebuild.dead_letter_kept", topic=record.topic, key=(record.key or b"").decode("utf-8", "replace")
            )

    def close(self) -> None:
        return None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rebuild_read_models(runtime: Runtime, *, page: int = 1000) -> ReadModelsReport:
    """Refold the service's own read models (``ServiceSpec.read_models``) from its event store.

    One transaction: the tables are dropped, recreated from their current definitions and refolded
    from every stored event in global order, each event given to the read models that fold its
    stream's type, exactly as ``save`` gave it when it was appended. Readers see the old rows until
    it commits; the service's commands wait for it (they append in the same database).
    """
    spec, store = runtime.spec, runtime.store
    if store is None or not spec.read_models:
        raise ValueError(f"{spec.name} has no read models of its own events")
    events_read = 0
    with runtime.engine.begin() as conn:
        for model in spec.read_models:
            model.metadata.drop_all(conn)
            model.metadata.create_all(conn)
        position = 0
        while batch := store.read_all(position, page, conn=conn):
            for event in batch:
                for model in spec.read_models:
                    if not model.stream_types or event.stream_type in model.stream_types:
                        model.apply(conn, [event])
            events_read += len(batch)
            position = batch[-1].position
        folded = {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for model in spec.read_models
            for table in model.metadata.sorted_tables
        }
    log.info("rebuild.read_models", service=spec.name, events=events_read, rows=folded)
    return {"rebuilt": spec.name, "events": events_read, "tables": folded}
