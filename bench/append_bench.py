"""Event store append (issue 13, point 3): the project's ``EventStore`` against the ``eventsourcing``
library on the same database, and against the driver alone writing the same rows (the floor).

For each database (SQLite files in one directory; PostgreSQL when a server is at hand) and each
workload (1 and 10 events per aggregate), in one run:

- **project**: ``EventStore.append`` of one new stream per aggregate, one transaction each (as one
  command), with its hash chain and outbox rows: events/s;
- **eventsourcing**: its ``Application.save`` of one new aggregate with as many events, one
  transaction each, with the library's defaults for that database (SQLite: its own ``synchronous``
  setting; the project runs ``synchronous=NORMAL`` in WAL): events/s;
- **raw driver**: sqlite3 / psycopg writing the project's very rows (read back from its run, so
  hashes, JSON and envelopes cost nothing here) into an empty store of the same schema: the counter
  update, the events and the outbox rows, one transaction per aggregate: events/s.

Target: project / eventsourcing >= 1.0 on every database and workload. project / raw is reported.
Checks: each store holds every event; the project's hash chains verify.
"""

from __future__ import annotations

import sqlite3
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

from eventsourcing.domain import Aggregate, event

from bench.harness import Figure, Section, fresh_postgres_database, ratio_at_least, say, timed
from bench.kernel_bench import EVENT_TYPE, ID_NAMESPACE, SOURCE, payloads

WORKLOADS = (1, 10)


class Guidance(Aggregate):
    """The library's side of the workload: an aggregate whose events carry the same payloads."""

    @event("Issued")
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @event("Amended")
    def amend(self, data: dict[str, Any]) -> None:
        self.data = data


TARGET = ratio_at_least(1.0, ">= 1.0x eventsourcing")


def run(*, aggregates: int, work: Path, postgres_server: str | None) -> Section:
    section = Section("append", "a. event store append (events/s; one transaction per aggregate)")
    section.info["aggregates"] = aggregates
    section.info["eventsourcing_version"] = metadata.version("eventsourcing")
    databases: list[tuple[str, Any]] = [("sqlite", None)]
    if postgres_server:
        databases.append(("postgresql", postgres_server))
    else:
        section.info["postgresql"] = "no server: pass --postgres URL or install the PostgreSQL binaries"
    for database, server in databases:
        for per in WORKLOADS:
            n = max(1, aggregates // per) if per > 1 else aggregates
            label = f"{database}, {per} event{'s' if per > 1 else ''}/aggregate"
            say(f"append: {label}, {n:,} aggregates ...")
            url_of = _urls(database, server, work, f"{per}")
            project_rate, rows = _project(url_of("project"), n, per, section, label)
            library_rate = _eventsourcing(database, url_of("library"), n, per, section, label)
            raw_rate = _raw(database, url_of("raw"), rows, section, label)
            section.add(
                Figure(f"project append, {label}", project_rate, "events/s", "eventsourcing", library_rate, TARGET)
            )
            section.add(
                Figure(f"project append, {label}", project_rate, "events/s", f"raw {_driver(database)}", raw_rate)
            )
    return section


def _driver(database: str) -> str:
    return "sqlite3" if database == "sqlite" else "psycopg"


def _urls(database: str, server: str | None, work: Path, tag: str) -> Any:
    def url_of(side: str) -> str:
        if database == "sqlite":
            return f"sqlite:///{work / f'append-{side}-{tag}.sqlite'}"
        assert server is not None
        return fresh_postgres_database(server, f"bench_append_{side}_{tag}")

    return url_of


def _streams(n: int, per: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """N aggregates, each with ``per`` payloads of the bench's GuidanceIssued shape."""
    base = list(payloads(min(n, 1000)))
    out = []
    for i in range(n):
        _aggregate, data = base[i % len(base)]
        stream = str(uuid.uuid5(ID_NAMESPACE, f"append-{per}-{i}"))
        out.append((stream, [{**data, "guidance_id": stream, "matter": f"{data['matter']} {k}"} for k in range(per)]))
    return out


def _project(
    url: str, n: int, per: int, section: Section, label: str
) -> tuple[float, dict[str, list[tuple[Any, ...]]]]:
    from sqlalchemy import func, select

    from guidance_shared.db import make_engine
    from guidance_shared.events import default_registry
    from guidance_shared.eventstore import NEW_STREAM, EventStore, Metadata, NewEvent, events_table, outbox_table
    from guidance_shared.handling import contract_check
    from guidance_shared.migrations import KERNEL_METADATA, create_from_metadata

    engine = make_engine(url)
    registry = default_registry()
    # As a service's runtime builds it: every event checked against its contract before it is stored.
    store = EventStore(
        engine, source=SOURCE, topic="intake.events", dataschema=registry.dataschema, check=contract_check(registry)
    )
    create_from_metadata(engine, KERNEL_METADATA)  # the tables a service's history makes for its event store
    streams = [(stream, [NewEvent(EVENT_TYPE, data) for data in datas]) for stream, datas in _streams(n, per)]
    metadata = Metadata(correlation_id=str(uuid.uuid5(ID_NAMESPACE, "append")))
    with timed() as clock:
        for stream, events in streams:
            store.append(stream, "Guidance", NEW_STREAM, events, metadata=metadata)
    with engine.connect() as conn:
        stored = int(conn.execute(select(func.count()).select_from(events_table)).scalar_one())
        rows = {
            "es_events": [tuple(r) for r in conn.execute(select(events_table).order_by(events_table.c.position))],
            "es_outbox": [tuple(r) for r in conn.execute(select(outbox_table).order_by(outbox_table.c.position))],
        }
    report = store.verify()
    engine.dispose()
    section.expect(f"project events, {label}", stored, n * per)
    section.expect(f"project hash chains verify, {label}", report.ok, True)
    return n * per / clock.seconds, rows


def _eventsourcing(database: str, url: str, n: int, per: int, section: Section, label: str) -> float:
    from eventsourcing.application import Application
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if database == "sqlite":
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(parsed.database)}
    else:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(parsed.database),
            "POSTGRES_HOST": str(parsed.host),
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": str(parsed.username),
            "POSTGRES_PASSWORD": parsed.password or "",
        }
    app: Application[Any] = Application(env=env)
    aggregates = []
    for _stream, datas in _streams(n, per):
        aggregate = Guidance(datas[0])
        for data in datas[1:]:
            aggregate.amend(data)
        aggregates.append(aggregate)
    with timed() as clock:
        for aggregate in aggregates:
            app.save(aggregate)
    stored = sum(1 for _ in app.recorder.select_notifications(start=None, limit=n * per + 1))
    app.close()
    section.expect(f"eventsourcing events, {label}", stored, n * per)
    return n * per / clock.seconds


def _raw(database: str, url: str, rows: dict[str, list[tuple[Any, ...]]], section: Section, label: str) -> float:
    """The project's rows again, by the driver alone, one transaction per aggregate."""
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    from guidance_shared.db import make_engine
    from guidance_shared.eventstore import events_table
    from guidance_shared.migrations import KERNEL_METADATA, create_from_metadata

    engine = make_engine(url)
    create_from_metadata(engine, KERNEL_METADATA)  # the same tables and indexes
    engine.dispose()
    by_stream: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows["es_events"]:
        by_stream.setdefault(row[2], []).append(row)
    outbox = {row[0]: row for row in rows["es_outbox"]}
    batches = [(events, [outbox[e[0]] for e in events]) for events in by_stream.values()]
    total = len(rows["es_events"])
    ev_cols, ob_cols = len(rows["es_events"][0]), len(rows["es_outbox"][0])
    if database == "sqlite":
        lite = sqlite3.connect(str(make_url(url).database), isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            lite.execute(f"PRAGMA {pragma}")
        insert_events = f"INSERT INTO es_events VALUES ({','.join('?' * ev_cols)})"
        insert_outbox = f"INSERT INTO es_outbox VALUES ({','.join('?' * ob_cols)})"
        with timed() as clock:
            for events, outbox_rows in batches:
                lite.execute("BEGIN IMMEDIATE")
                lite.execute(
                    "UPDATE es_counter SET last_position = last_position + ? WHERE id = 1 RETURNING last_position",
                    (len(events),),
                ).fetchone()
                lite.executemany(insert_events, events)
                lite.executemany(insert_outbox, outbox_rows)
                lite.execute("COMMIT")
        lite.close()
    else:
        import psycopg

        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo) as conn:
            insert_events = f"INSERT INTO es_events VALUES ({','.join(['%s'] * ev_cols)})"
            insert_outbox = f"INSERT INTO es_outbox VALUES ({','.join(['%s'] * ob_cols)})"
            with timed() as clock:
                for events, outbox_rows in batches:
                    with conn.transaction(), conn.cursor() as cursor:
                        cursor.execute(
                            "UPDATE es_counter SET last_position = last_position + %s WHERE id = 1 "
                            "RETURNING last_position",
                            (len(events),),
                        )
                        cursor.fetchone()
                        cursor.executemany(insert_events, events)
                        cursor.executemany(insert_outbox, outbox_rows)
    engine = make_engine(url)
    with engine.connect() as check:
        stored = int(check.execute(select(func.count()).select_from(events_table)).scalar_one())
    engine.dispose()
    section.expect(f"raw {_driver(database)} events, {label}", stored, total)
    return total / clock.seconds
