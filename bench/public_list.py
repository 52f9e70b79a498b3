"""The public list at volume (issue 13, point 1): N published acts in disclosure's database, then
``/public/guidance`` under load against a trivial endpoint of the same server.

**Generator** (``generate``): N valid ``GuidanceIssued`` records, as intake's relay would send them,
built on the fly and handed to disclosure's own consumer runner and projection (the
``DisclosureProjection`` of a disclosure ``Runtime``: redacted public rows, the disclosure item
opened and decided, its events and outbox rows, the runner's offsets and applied ids, one
transaction per batch). No INSERT here: every row is what the service writes for such an event.
The acts rotate over ``DEPARTMENTS`` departments and content types, one issue day each over the
last years, a third of them persons (names masked). Figures: rows/s and wall time, against the
bench's floor pipeline figure where ``floor.py`` ran (the JSON keeps both).

**Load**: the service's ``web`` (gunicorn, its default settings) on that database. At 1 and 16
clients: the first page, a page filtered by department, and a deep page (page 4,000, or the last
page when there are fewer), each p50/p99 against ``/healthz`` of the same server under the same
clients (the trivial baseline); the web process's RSS after the first-page and after the deep-page
phases. Targets (issue 13): p50 <= 20 ms and p99 <= 100 ms at 16 clients; memory flat with depth.
Checks: every act published. A request not answered 200 (an error, or a connection the server
closed) is a warning with its count, its time in the percentiles; the run does not fail for it.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
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
P50_TARGET = value_at_most(20, "p50 <= 20 ms at 16 clients")
P99_TARGET = value_at_most(100, "p99 <= 100 ms at 16 clients")


def department(index: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"department-{index % DEPARTMENTS}"))


def acts(n: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """(guidance id, data) of N valid acts over DEPARTMENTS departments, newest first by index."""
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
        data["issued_at"] = issued.isoformat()
        data["correction_deadline"] = (issued + timedelta(days=7)).date().isoformat()
        yield guidance_id, data


class GeneratingConsumer:
    """A ``Consumer`` on one partition whose records are built when polled (N need not fit in memory)."""

    def __init__(self, n: int) -> None:
        self.n, self.position = n, 0
        self._acts = acts(n)

    def subscribe(self, topics: Sequence[str], position_lookup: Any) -> None:
        from guidance_shared.transport.base import TopicPartition

        if position_lookup(TopicPartition(TOPIC, 0)) != 0:
            raise RuntimeError("the generator writes into an empty database only")

    def poll(self, max_records: int, timeout_s: float) -> list[Any]:
        from guidance_shared.envelope import Envelope
        from guidance_shared.transport.base import ConsumedRecord

        batch = []
        for guidance_id, data in _take(self._acts, max_records):
            record = Envelope(
                type=EVENT_TYPE, source="/guidance/intake", subject=guidance_id, data=data, sequence=1
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


def generate(env: Mapping[str, str], n: int, batch_size: int = 1000) -> tuple[float, int]:
    """Fill disclosure's (empty) database in ``env`` with N published acts: (seconds, acts published)."""
    from sqlalchemy import func, select

    from guidance_disclosure.adapters import queries
    from guidance_shared.consumer import ConsumerRunner

    runtime = service_database("disclosure", env)
    try:
        assert runtime.projection is not None
        runner = ConsumerRunner(
            engine=runtime.engine,
            consumer=GeneratingConsumer(n),
            projection=runtime.projection,
            registry=runtime.registry,
            group="disclosure",
            topics=[TOPIC],
            dlq_producer=NoDeadLetters(),
            batch_size=batch_size,
        )
        runner.start()  # on the database service_database() migrated
        done = 0
        started = time.perf_counter()
        with timed() as clock:
            while done < n:
                applied = runner.run_once(0)
                if not applied:
                    raise RuntimeError(f"the runner stopped after {done} of {n} acts")
                done += applied
                if done % 100_000 < batch_size:
                    say(f"  generated {done:,} acts ({done / (time.perf_counter() - started):,.0f}/s)")
        runner.close()
        with runtime.engine.connect() as conn:
            # What the public list shows, counted in full (the list itself may count only so far).
            published = conn.execute(
                select(func.count()).select_from(queries.public_guidance).where(*queries._shown())
            ).scalar_one()
        return clock.seconds, int(published)
    finally:
        runtime.close()


def run(
    *,
    acts_n: int,
    database_url: str,
    database_label: str,
    work: Path,
    requests_one: int,
    requests_sixteen: int,
) -> Section:
    section = Section(
        f"public_list_{database_label}", f"c. the public list at {acts_n:,} published acts ({database_label})"
    )
    var = work / f"disclosure-{database_label}"
    env = service_environment("disclosure", database_url, var)
    say(f"public list ({database_label}): generating {acts_n:,} published acts ...")
    seconds, published = generate(env, acts_n)
    section.expect("published acts", published, acts_n)
    section.info["generate_seconds"] = round(seconds, 2)
    section.info["generate_rows_per_s"] = round(acts_n / seconds, 1)

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
    import json
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
