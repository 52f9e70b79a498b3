"""Commands under concurrency (issue 13, point 2): intake's ``POST /v1/guidance`` against a trivial
Flask POST (``bench/trivial_app.py``) under the same gunicorn settings, at 1, 8 and 32 clients.

Each side gets the same clients (threads of the bench, one keep-alive connection each) and the same
number of requests per client; the intake side sends the published example act (a valid command,
an officer's bearer token signed by keys the service is told to trust). Figures: requests/s and
p50/p99 per side, on SQLite (the services' default settings: one gunicorn worker, 8 threads) and on
PostgreSQL with ``GUIDANCE_WEB_WORKERS=2`` (the trivial baseline with the same settings beside it).
Targets (SQLite, issue 13): rate >= 0.25 of the trivial POST's at 8 clients; p99 <= 50 ms at 8 clients
and <= 150 ms at 32. Checks: every trivial request answered 201. An intake request not answered 201 is a warning with
its count (its time in the percentiles), not a failed run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.harness import (
    Figure,
    Load,
    Section,
    free_port,
    fresh_postgres_database,
    http_load,
    ratio_at_least,
    say,
    server,
    service_database,
    service_environment,
    value_at_most,
)

CLIENTS = (1, 8, 32)
RATE_TARGET = ratio_at_least(0.25, ">= 0.25x the trivial POST at 8 clients")
P99_TARGETS = {8: value_at_most(50, "p99 <= 50 ms at 8 clients"), 32: value_at_most(150, "p99 <= 150 ms at 32 clients")}


def run(*, requests_per_client: int, work: Path, postgres_server: str | None) -> list[Section]:
    from tests.support.auth import AuthKeys

    keys = AuthKeys.create(work / "auth")
    sections = [_one("sqlite", f"sqlite:///{work / 'intake-commands.sqlite'}", 1, keys, requests_per_client, work)]
    if postgres_server:
        url = fresh_postgres_database(postgres_server, "bench_commands")
        sections.append(_one("postgresql", url, 2, keys, requests_per_client, work))
    return sections


def _one(label: str, database_url: str, workers: int, keys: Any, per_client: int, work: Path) -> Section:
    from tests.support.services import guidance_command

    from guidance_shared.events.examples import DEPARTMENT_ID

    section = Section(
        f"commands_{label}", f"d. intake POST /v1/guidance ({label}, gunicorn workers={workers}, threads=8)"
    )
    var = work / f"intake-{label}"
    env = {
        **service_environment("intake", database_url, var),
        **keys.env(GUIDANCE_VAR_DIR=str(var)),
        "GUIDANCE_WEB_WORKERS": str(workers),
    }
    service_database("intake", env).close()
    body = json.dumps(guidance_command(), ensure_ascii=False).encode("utf-8")
    intake_headers = {**keys.headers("officer-1", DEPARTMENT_ID, ["officer"]), "Content-Type": "application/json"}
    trivial_headers = {"Content-Type": "application/json"}
    intake_port, trivial_port = free_port(), free_port()
    statuses: dict[str, dict[int, int]] = {"intake": {}, "trivial": {}}
    with (
        server(
            [sys.executable, "-m", "guidance_intake", "web"],
            {**env, "GUIDANCE_HTTP_PORT": str(intake_port)},
            intake_port,
            "/healthz",
            work / f"intake-web-{label}.log",
        ),
        server(
            [sys.executable, "-m", "bench.trivial_app"],
            {**env, "GUIDANCE_HTTP_PORT": str(trivial_port)},
            trivial_port,
            "/healthz",
            work / f"trivial-web-{label}.log",
        ),
    ):
        for clients in CLIENTS:
            say(f"commands ({label}): {clients} client(s) ...")
            trivial = _post(trivial_port, "/trivial", body, trivial_headers, clients, per_client, statuses["trivial"])
            intake = _post(intake_port, "/v1/guidance", body, intake_headers, clients, per_client, statuses["intake"])
            rate_target = RATE_TARGET if label == "sqlite" and clients == 8 else None
            section.add(
                Figure(
                    f"{clients} client(s), rate", intake.rate, "req/s", "trivial Flask POST", trivial.rate, rate_target
                )
            )
            for q in (50, 99):
                target = P99_TARGETS.get(clients) if label == "sqlite" and q == 99 else None
                section.add(
                    Figure(f"{clients} client(s), p{q}", intake.p(q), "ms", "trivial Flask POST", trivial.p(q), target)
                )
    section.expect("trivial statuses", sorted(statuses["trivial"]), [201])
    section.info["intake_statuses"] = {str(k): v for k, v in sorted(statuses["intake"].items())}
    failed = {k: v for k, v in statuses["intake"].items() if k != 201}
    if failed:
        section.warnings.append(
            f"{sum(failed.values())} intake requests not answered 201 (status: count, 0 = connection closed "
            f"without an answer): {failed}; their times are in the percentiles; see intake-web-{label}.log"
        )
    section.info["requests_per_client"] = per_client
    return section


def _post(
    port: int, path: str, body: bytes, headers: dict[str, str], clients: int, per_client: int, seen: dict[int, int]
) -> Load:
    load = http_load(
        port, lambda _c, _i: ("POST", path, body, headers), clients=clients, requests_per_client=per_client
    )
    for status, count in load.statuses.items():
        seen[status] = seen.get(status, 0) + count
    return load
