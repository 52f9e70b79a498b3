"""The public list at volume (issue 13, point 1): N published acts in disclosure's database, then
``/public/guidance`` under load against a trivial endpoint of the same server.

**Generator** (``generate``): N valid ``GuidanceIssued`` records, as intake's relay would send them,
built on the fly and handed to disclosure's own consumer runner (decoded and checked against the
event's schema there, its offsets and applied ids stored), one transaction per batch of
``BATCH`` events. The runner applies each batch through ``BulkGuidanceProjection``, the bulk path of
disclosure's projection for a run of ``GuidanceIssued``: the redacted public rows by the projection's
own ``apply_many``; each act's disclosure item opened by the service's own reaction
(``publications.guidance_issued``: the publication, the rules' outcome, the item's first event
checked against its schema), with the item's save deferred to the end of the batch, where the
items' events, their outbox rows and their ``disclosure_items`` rows are written with one
``executemany`` each (``BatchAppendStore``, ``read_model.insert_opened_items``) instead of four
statements per act. ``tests/bench/test_public_list_generator.py`` holds the result equal, row for
row, to what the live consumer path (``generate(..., live=True)``) writes. The acts rotate over
``DEPARTMENTS`` departments and content types, one every seven minutes back from November 2026, a
third of them persons (names masked). On PostgreSQL the tables are then analysed (``analyse``), as
autovacuum would have analysed a live database. Figures: acts/s and wall time (of the load, not the analysis).

**Load**: the service's ``web`` (gunicorn, its default settings) on that database. At 1 and 16
clients: the first page, a page filtered by department, and a deep page (page 4,000, or the last
page when there are fewer), each p50/p99 against ``/healthz`` of the same server under the same
clients (the trivial baseline); the web process's RSS after the first-page and after the deep-page
phases. Targets (issue 13): p50 <= 20 ms and p99 <= 100 ms at 16 clients; memory flat with depth.
Checks: every act published. A request not answered 200 (an error, or a connection the server
closed) is a warning with its count, its time in the percentiles; the run does not fail for it.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import (
    Figure,
    Load,
    Section,
    free_port,
    http_load,
    rss_mb,
    say,
    server,
    service_database,
    service_environment,
    timed,
    value_at_most,
)

EVENT_TYPE = "guidance.GuidanceIssued.v1"
TOPIC = "intake.events"
DEPARTMENTS = 20
NAMESPACE = uuid.UUID("5d7e8a52-3f0b-4c61-9e2a-7b1f0c9d4e33")
DEEP_PAGE = 4000
PAGE_SIZE = 20  # the public list's default page size
#: the list's acts carry one of this many standard wordings, in turn. Disclosure remembers the tags of the last
#: 1,024 texts it has tagged, so with distinct texts each act would be tagged afresh (the generator's speed,
#: 350 instead of 530 acts/s here); the pages read the same rows either way.
WORDINGS = 1000
P50_TARGET = value_at_most(20, "p50 <= 20 ms at 16 clients")
P99_TARGET = value_at_most(100, "p99 <= 100 ms at 16 clients")


def department(index: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"department-{index % DEPARTMENTS}"))


def acts(n: int, wordings: int | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(guidance id, data) of N valid acts over DEPARTMENTS departments, newest first by index. Each act's
    content is its own, or with ``wordings`` one of that many standard wordings, taken in turn."""
    from guidance_shared.events import examples

    base = examples.example(EVENT_TYPE)
    counterparts = (examples.ENTERPRISE, examples.INDIVIDUAL_BUSINESS, examples.PERSON)
    start = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    for i in range(n):
        guidance_id = str(uuid.uuid5(NAMESPACE, f"guidance-{i}"))
        issued = start - timedelta(minutes=7 * i)
        data = dict(base)
        data["guidance_id"] = guidance_id
        data["doc_no"] = f"某市监指〔{issued.year}〕第{i + 1:07d}号"
        data["department_id"] = department(i)
        data["counterpart"] = counterparts[i % len(counterparts)]
        # disclosure remembers the tags of the texts it has seen, so the wordings decide what tagging costs
        data["content"] = f"{base['content']}（第{(i % wordings if wordings else i) + 1}次检查）"
        data["issued_at"] = issued.isoformat()
        data["correction_deadline"] = (issued + timedelta(days=7)).date().isoformat()
        yield guidance_id, data


class GeneratingConsumer:
    """A ``Consumer`` on one partition whose records are built when polled (N need not fit in memory)."""

    def __init__(self, n: int, wordings: int | None = None) -> None:
        self.n, self.position = n, 0
        self._acts = acts(n, wordings)

    def subscribe(self, topics: Sequence[str], position_lookup: Any) -> None:
        from guidance_shared.transport.base import TopicPartition

        if position_lookup(TopicPartition(TOPIC, 0)) != 0:
            raise RuntimeError("the generator writes into an empty database only")

    def poll(self, max_records: int, timeout_s: float) -> list[Any]:
        from guidance_shared.envelope import Envelope
        from guidance_shared.transport.base import ConsumedRecord

        batch = []
        for guidance_id, data in _take(self._acts, max_records):
            # The id and time follow from the act, so two generated databases can be compared row for row.
            record = Envelope(
                id=str(uuid.uuid5(NAMESPACE, f"event-{guidance_id}")),
                time=datetime.fromisoformat(data["issued_at"]),
                type=EVENT_TYPE,
                source="/guidance/intake",
                subject=guidance_id,
                data=data,
                sequence=1,
            ).to_record(TOPIC)
            batch.append(ConsumedRecord(TOPIC, 0, self.position, record.key, record.value, record.headers))
            self.position += 1
        return batch

    def seek(self, tp: Any, offset: int) -> None:
        if offset != self.position:
            raise RuntimeError("the generator cannot rewind")

    def commit(self, offsets: Mapping[Any, int]) -> None:
        pass

    def lag(self) -> dict[Any, int]:
        from guidance_shared.transport.base import TopicPartition

        return {TopicPartition(TOPIC, 0): self.n - self.position}

    def close(self) -> None:
        pass


def _take(iterator: Iterator[Any], n: int) -> list[Any]:
    out = []
    for item in iterator:
        out.append(item)
        if len(out) >= n:
            break
    return out


class NoDeadLetters:
    def publish(self, batch: Sequence[Any]) -> None:
        raise RuntimeError("a generated act was dead-lettered: the generator's events must all be valid")


BATCH = 5000  # events per transaction of the bulk generator


class BatchAppendStore:
    """The event store's ``append`` for new streams, deferred: the rows ``EventStore._append`` writes,
    built the same way (positions after the store's counter, each stream's hash chain from genesis, the
    ledger's chain continued across them, the same outbox rows), kept until ``flush`` writes them all with one
    ``executemany`` per table.

    Only for a batch of new streams in one transaction with no other writer: it checks that each stream
    is new (``expected_version`` 0) and leaves the uniqueness of stream and event ids to the tables.
    ``tests/bench/test_public_list_generator.py`` holds its rows equal to the live store's, and the
    generated store passes ``EventStore.verify``."""

    def __init__(self, live: Any) -> None:
        self.live = live
        self.events: list[Any] = []
        self._event_rows: list[dict[str, Any]] = []
        self._outbox_rows: list[dict[str, Any]] = []
        self._last_position: int | None = None
        self._link = ""  # the ledger's link at ``_last_position``: the next stream's rows continue it

    def append(
        self,
        stream_id: str,
        stream_type: str,
        expected_version: int,
        events: Sequence[Any],
        *,
        metadata: Any = None,
        conn: Any = None,
    ) -> list[Any]:
        from sqlalchemy import select

        from guidance_shared.eventstore import GENESIS_HASH, Metadata, counter_table

        if expected_version != 0:
            raise RuntimeError("the bulk store appends new streams only")
        if self._last_position is None:
            self._last_position = conn.execute(
                select(counter_table.c.last_position).where(counter_table.c.id == 1)
            ).scalar_one()
            self._link = self.live.link_at(conn, self._last_position)
        meta = (metadata or Metadata()).as_dict()
        # The store's own row builder: the same hashes, rows and contract check as an append.
        stored, event_rows, outbox_rows = self.live.rows(
            stream_id, stream_type, 0, self._last_position, GENESIS_HASH, events, meta, ledger_after=self._link
        )
        self._last_position += len(events)
        if event_rows:
            self._link = event_rows[-1]["ledger"]
        self._event_rows.extend(event_rows)
        self._outbox_rows.extend(outbox_rows)
        self.events.extend(stored)
        return stored

    def flush(self, conn: Any) -> None:
        from sqlalchemy import insert, update

        from guidance_disclosure.adapters import read_model
        from guidance_shared.eventstore import counter_table, events_table, outbox_table

        if self._last_position is not None:
            conn.execute(update(counter_table).where(counter_table.c.id == 1).values(last_position=self._last_position))
        if self._event_rows:
            conn.execute(insert(events_table), self._event_rows)
            conn.execute(insert(outbox_table), self._outbox_rows)
            read_model.insert_opened_items(conn, self.events)
        self.events, self._event_rows, self._outbox_rows, self._last_position = [], [], [], None


class BulkGuidanceProjection:
    """disclosure's projection for a run of ``GuidanceIssued``, as ``apply_many`` (the runner's batch
    interface): the public rows by ``PublicGuidanceProjection.apply_many``; each act's item decided by the
    reaction's own ``publications.guidance_outcome`` and built by ``items.new_item`` (what ``open_item``
    saves), skipping acts whose item exists (one query for the batch instead of one per act); the items
    saved through the service's repository onto a ``BatchAppendStore``, whose flush writes their events,
    outbox rows and read-model rows. Two things cost less than on the live path and give the same result:
    the working-day calendar's answers are kept per (day, count) (a pure function, asked ~5,000 distinct
    questions by a million acts), and each item's event is checked against its schema by the registry's
    compiled loader, falling back to the full ``valid_event_data`` when that does not vouch for it.
    Any other event type, or a failure, is an error: the generator makes GuidanceIssued only, and the
    runner's fallback (one event at a time through ``apply``) would only hide it."""

    def __init__(self, runtime: Any) -> None:
        import dataclasses

        from guidance_disclosure.adapters.projection import PUBLIC_MODEL, PublicGuidanceProjection

        self.metadata = PUBLIC_MODEL
        live = runtime.deps.items
        self.items = dataclasses.replace(live, calendar=_remembering(live.calendar))
        self.public = PublicGuidanceProjection()
        self.failure: BaseException | None = None

    def apply(self, conn: Any, event: Any) -> None:
        raise RuntimeError(f"the bulk path refused a batch: {self.failure!r}")

    def apply_many(self, conn: Any, events: Sequence[Any]) -> None:
        import dataclasses

        from sqlalchemy import select

        from guidance_disclosure.adapters.read_model import disclosure_items
        from guidance_disclosure.handlers import publications
        from guidance_disclosure.handlers.items import item_id_for, new_item
        from guidance_shared import catalogue
        from guidance_shared.tracing import consumed

        try:
            if any(event.type != catalogue.GUIDANCE_ISSUED for event in events):
                raise RuntimeError("the bulk path takes GuidanceIssued only")
            store = BatchAppendStore(self.items.repository.store)
            repository = dataclasses.replace(self.items.repository, store=store, project=_nothing)
            items = dataclasses.replace(self.items, repository=repository)
            self.public.apply_many(conn, events)
            decided = [(event, *publications.guidance_outcome(items, conn, event.data)) for event in events]
            ids = [item_id_for(publication.kind, publication.key) for _, publication, _ in decided]
            existing = set()
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                found = conn.execute(select(disclosure_items.c.item_id).where(disclosure_items.c.item_id.in_(chunk)))
                existing.update(found.scalars())
            for (event, publication, outcome), item_id in zip(decided, ids, strict=True):
                if item_id in existing:
                    continue
                existing.add(item_id)
                item = new_item(items, publication, outcome, source_event_id=event.envelope.id, check=_checked)
                if item is not None:
                    with consumed(event.envelope, event.topic):  # the live runner's flow: its cause and trace
                        repository.save(conn, item)
            store.flush(conn)
        except BaseException as exc:
            self.failure = exc
            raise


def _checked(registry: Any, ce_type: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """``valid_event_data``'s result (the schema's load, then its dump) with the load done by the registry's
    compiled loader, which gives ``load``'s result at a fraction of its cost where it vouches for the data;
    else ``valid_event_data`` itself. The dump fills in the optional fields the handlers leave out."""
    from guidance_shared.envelope import dump_json
    from guidance_shared.handling import valid_event_data

    loaded = registry.load_value(ce_type, dump_json(data).encode())
    if loaded is None or set(data) - set(loaded[1]):
        return valid_event_data(registry, ce_type, data)
    dumped: Mapping[str, Any] = registry._schema(ce_type).dump(loaded[1])
    return dumped


def _remembering(calendar: Any) -> Any:
    """``calendar`` with ``add_working_days`` kept per (day, count): the same answers, computed once."""
    import dataclasses
    import functools

    class RememberingCalendar(type(calendar)):  # type: ignore[misc]
        @functools.lru_cache(maxsize=100_000)  # noqa: B019 - one calendar for the generator's lifetime
        def add_working_days(self, start: Any, count: int) -> Any:
            return super().add_working_days(start, count)

    return RememberingCalendar(**{f.name: getattr(calendar, f.name) for f in dataclasses.fields(calendar) if f.init})


def _nothing(conn: Any, events: Any) -> None:
    """The repository's read model during a bulk batch: ``BatchAppendStore.flush`` writes it."""


def generate(
    env: Mapping[str, str], n: int, *, live: bool = False, batch_size: int = BATCH, wordings: int | None = None
) -> tuple[float, int]:
    """Fill disclosure's (empty) database in ``env`` with N published acts: (seconds, acts published).
    ``live``: through the service's own consumer projection, one act at a time (what the bulk path is
    held equal to; 250-400 acts/s on this machine), instead of the bulk path."""
    from sqlalchemy import func, select

    from guidance_disclosure.adapters import queries
    from guidance_shared.consumer import ConsumerRunner

    runtime = service_database("disclosure", env)
    try:
        assert runtime.projection is not None
        runner = ConsumerRunner(
            engine=runtime.engine,
            consumer=GeneratingConsumer(n, wordings),
            projection=runtime.projection if live else BulkGuidanceProjection(runtime),
            registry=runtime.registry,
            group="disclosure",
            topics=[TOPIC],
            dlq_producer=NoDeadLetters(),
            batch_size=1000 if live else batch_size,
        )
        runner.start()  # on the database service_database() migrated
        done = 0
        started = time.perf_counter()
        with timed() as clock:
            while done < n:
                applied = runner.run_once(0)
                if not applied:
                    raise RuntimeError(f"the runner stopped after {done} of {n} acts")
                if done // 100_000 != (done + applied) // 100_000:
                    rate = (done + applied) / (time.perf_counter() - started)
                    say(f"  generated {done + applied:,} acts ({rate:,.0f}/s)")
                done += applied
        runner.close()
        analyse(runtime.engine)
        with runtime.engine.connect() as conn:
            # What the public list shows, counted in full (the list itself may count only so far).
            published = conn.execute(
                select(func.count()).select_from(queries.public_guidance).where(*queries._shown())
            ).scalar_one()
        return clock.seconds, int(published)
    finally:
        runtime.close()


def analyse(engine: Any) -> None:
    """On PostgreSQL, gather the planner's statistics of the freshly loaded tables, as autovacuum does for
    a live database whose tables grew over months (it samples a table once a tenth of it has changed, a
    minute or so after). Without them the planner takes the bulk-loaded tables for small ones and reads
    the first page by sorting every disclosed act (1.1 s instead of 0.3 ms at 20,000 acts:
    docs/performance.md, "The public list on PostgreSQL"); the benchmark would measure the minute after
    a bulk load, not the service. SQLite keeps no statistics unless asked, and the service never asks."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")


def prepared(
    store: Path, label: str, acts_n: int, new_database: Callable[[], str], pg_server: str | None = None
) -> tuple[dict[str, str], dict[str, Any]]:
    """The environment of a disclosure database holding ``acts_n`` generated acts, and what its generation
    measured: the one a run before made with the same ``store`` (its ``list-<label>-<N>.json``, written once the
    generation had finished and counted), else a new one made now by ``new_database()``. A million acts take
    the generator half an hour or more; the pages are what each run measures, so consecutive runs share them.
    On PostgreSQL (``pg_server``: the superuser URL the database is on) a kept database is reused only on the
    same server."""
    from sqlalchemy.engine import make_url

    marker = store / f"list-{label}-{acts_n}.json"
    if marker.exists():
        kept = json.loads(marker.read_text())
        if pg_server is None or _server_of(kept["database_url"]) == _server_of(pg_server):
            say(f"public list ({label}): the {acts_n:,} acts generated before ({marker})")
            return kept["env"], {**kept["generated"], "reused": str(marker)}
    url = new_database()
    if make_url(url).get_backend_name() == "sqlite":  # a generation stopped half-way left it behind
        for leftover in (Path(f"{make_url(url).database}{end}") for end in ("", "-wal", "-shm")):
            leftover.unlink(missing_ok=True)
    env = service_environment("disclosure", url, store / f"var-{label}-{acts_n}")
    generated = _generated(env, label, acts_n)
    marker.write_text(json.dumps({"database_url": url, "env": env, "generated": generated}, indent=2))
    return env, generated


def _server_of(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return f"{parsed.host}:{parsed.port}"


def _generated(env: Mapping[str, str], label: str, acts_n: int) -> dict[str, Any]:
    say(f"public list ({label}): generating {acts_n:,} published acts ...")
    seconds, published = generate(env, acts_n, wordings=WORDINGS)
    return {
        "published": published,
        "generate_seconds": round(seconds, 2),
        "generate_rows_per_s": round(acts_n / seconds, 1),
        "wordings": WORDINGS,
    }


def run(
    *,
    acts_n: int,
    database_url: str | Callable[[], str],
    database_label: str,
    work: Path,
    requests_one: int,
    requests_sixteen: int,
    store: Path | None = None,
    pg_server: str | None = None,
) -> Section:
    """``database_url``: a new empty database's URL, or what makes one (called only when one is needed).
    ``store``: keep the generated database there for later runs, or use the one kept (``prepared``)."""
    section = Section(
        f"public_list_{database_label}", f"c. the public list at {acts_n:,} published acts ({database_label})"
    )
    new_database = database_url if callable(database_url) else lambda: str(database_url)
    if store is not None:
        env, generated = prepared(store, database_label, acts_n, new_database, pg_server)
    else:
        env = service_environment("disclosure", new_database(), work / f"disclosure-{database_label}")
        generated = _generated(env, database_label, acts_n)
    section.expect("published acts", generated["published"], acts_n)
    published = int(generated["published"])
    section.info.update((k, v) for k, v in generated.items() if k != "published")

    pages = max(1, -(-published // PAGE_SIZE))
    deep = min(DEEP_PAGE, pages)
    port = free_port()
    command = [sys.executable, "-m", "guidance_disclosure", "web"]
    env_web = {**env, "GUIDANCE_HTTP_PORT": str(port)}
    statuses: dict[int, int] = {}
    with server(command, env_web, port, "/healthz", work / f"web-{database_label}.log") as pid:
        paths = {
            "first page": "/public/guidance",
            "filtered page": f"/public/guidance?department_id={department(0)}",
            f"deep page ({deep})": _deep_page(port, deep),
        }
        section.info["paths"] = paths
        section.info["web_settings"] = "gunicorn, GUIDANCE_WEB_WORKERS=1, GUIDANCE_WEB_THREADS=8 (the defaults)"
        for clients, per_client in ((1, requests_one), (16, requests_sixteen)):
            say(f"public list ({database_label}): {clients} client(s) ...")
            baseline = _get(port, "/healthz", clients, per_client, statuses)
            for label, path in paths.items():
                load = _get(port, path, clients, per_client, statuses)
                for q in (50, 99):
                    target = None
                    if clients == 16:
                        target = P50_TARGET if q == 50 else P99_TARGET
                    section.add(
                        Figure(
                            f"{label}, {clients} client(s), p{q}",
                            load.p(q),
                            "ms",
                            "/healthz (same server, same clients)",
                            baseline.p(q),
                            target,
                        )
                    )
                if clients == 1:
                    section.info[f"rss_mb_after_{label.split(' (')[0].replace(' ', '_')}"] = round(rss_mb(pid), 1)
        first, deep_rss = section.info["rss_mb_after_first_page"], section.info["rss_mb_after_deep_page"]
        section.add(
            Figure(
                "web RSS after the deep page",
                deep_rss,
                "MiB",
                "web RSS after the first page",
                first,
                value_at_most(first * 1.1, "flat with depth (<= 1.1x the first page's)") if first else None,
            )
        )
    failed = {k: v for k, v in statuses.items() if k != 200}
    section.info["statuses"] = {str(k): v for k, v in sorted(statuses.items())}
    if failed:
        section.warnings.append(
            f"{sum(failed.values())} of {sum(statuses.values())} requests not answered 200 "
            f"(status: count, 0 = connection closed without an answer): {failed}; "
            f"their times are in the percentiles; see web-{database_label}.log"
        )
    return section


def _deep_page(port: int, page: int) -> str:
    """The path of the list's page ``page``: by its number where the service takes page numbers that
    deep, else by the keyset cursor that following "next" from the first page reaches (found here,
    untimed, through the JSON API, which carries the same cursors as the HTML list)."""
    import http.client
    from urllib.parse import quote

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", f"/public/guidance?page={page}")
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            return f"/public/guidance?page={page}"
        rows_before, cursor, walked = (page - 1) * PAGE_SIZE, None, 0
        while walked < rows_before:
            size = 100 if rows_before - walked >= 100 else PAGE_SIZE
            query = f"size={size}" + (f"&cursor={quote(cursor)}" if cursor else "")
            conn.request("GET", f"/public/v1/guidance?{query}")
            response = conn.getresponse()
            body = json.loads(response.read())
            if response.status != 200 or not body["pagination"].get("next"):
                raise RuntimeError(f"walking the list to page {page} stopped after {walked} rows")
            cursor, walked = body["pagination"]["next"], walked + size
        return f"/public/guidance?cursor={quote(cursor)}" if cursor else "/public/guidance"
    finally:
        conn.close()


def _get(port: int, path: str, clients: int, per_client: int, statuses: dict[int, int]) -> Load:
    load = http_load(port, lambda _c, _i: ("GET", path, None, {}), clients=clients, requests_per_client=per_client)
    for status, count in load.statuses.items():
        statuses[status] = statuses.get(status, 0) + count
    return load


def main(argv: list[str] | None = None) -> int:
    """Generate a list store ahead of ``bench/run --all --list-store DIR`` (each database on its own, so the two
    can be generated side by side on two cores): ``python -m bench.public_list --store DIR --acts N --on sqlite``,
    or ``--on postgresql --postgres URL``. The sizes and ``--postgres`` must be those the run is then given."""
    import argparse

    from bench.harness import fresh_postgres_database
    from guidance_shared.logging import configure_logging

    parser = argparse.ArgumentParser(prog="python -m bench.public_list", description=main.__doc__)
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--acts", required=True, type=int)
    parser.add_argument("--on", required=True, choices=("sqlite", "postgresql"))
    parser.add_argument("--postgres", help="the PostgreSQL superuser URL (with --on postgresql)")
    args = parser.parse_args(argv)
    if args.on == "postgresql" and not args.postgres:
        parser.error("--on postgresql needs --postgres URL")
    configure_logging("bench", "ERROR")
    store = args.store.resolve()
    store.mkdir(parents=True, exist_ok=True)
    if args.on == "sqlite":
        _, generated = prepared(
            store, "sqlite", args.acts, lambda: f"sqlite:///{store / f'disclosure-list-{args.acts}.sqlite'}"
        )
    else:
        name = f"bench_public_list_{args.acts}"
        _, generated = prepared(
            store, "postgresql", args.acts, lambda: fresh_postgres_database(args.postgres, name), args.postgres
        )
    print(json.dumps(generated))
    return 0 if generated["published"] == args.acts else 1


if __name__ == "__main__":
    sys.exit(main())
