"""CPU of one public list page, in process, against ``/healthz`` of the same app: where a page's time goes,
without HTTP clients or a server competing for the two cores.

    .venv/bin/python -m bench.page_cpu [--acts 20000] [--pages 1000] [--profile] [--database FILE]

Generates ``--acts`` published acts into a fresh SQLite database (``public_list.generate``; or reads
``--database``, a disclosure database the list benchmark kept with ``--list-store``), then gets the first page,
the page filtered by department and a deep page (by the cursor that following "next" reaches, as the list
benchmark asks for it) through Flask's test client, ``--pages`` times each, then ``/healthz`` as often; prints
the process CPU per request of each and the ratio to ``/healthz``. ``--profile`` then prints cProfile's top
functions for 300 more first pages (inflated by the profiler). A diagnosis aid for issue 13's public list
figures (docs/performance.md), not one of ``bench/run --all``'s figures.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.page_cpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--acts", type=int, default=20_000)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--depth", type=int, default=200, help="how many times to follow next for the deep page")
    parser.add_argument("--database", type=Path, help="a disclosure SQLite database to read instead of generating")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    from bench import public_list
    from bench.harness import service_database, service_environment
    from guidance_disclosure.bootstrap import create_app
    from guidance_shared.logging import configure_logging

    work = Path(tempfile.mkdtemp(prefix="page-cpu-"))
    database = args.database.resolve() if args.database else work / "disclosure.sqlite"
    env = service_environment("disclosure", f"sqlite:///{database}", work / "var")
    os.environ.update(env)
    configure_logging("disclosure", "WARNING")
    if args.database is None:
        public_list.generate(env, args.acts, wordings=public_list.WORDINGS)
    runtime = service_database("disclosure", env)
    client = create_app(runtime).test_client()

    def get(path: str) -> str:
        answer = client.get(path)
        if answer.status_code != 200:
            raise SystemExit(f"GET {path} answered {answer.status_code}")
        return answer.get_data(as_text=True)

    deep, walked = "/public/guidance", 0
    for walked in range(args.depth):  # noqa: B007 - how far it got is reported
        found = re.search(r'href="(/public/guidance\?[^"]*cursor=[^"]*)"', get(deep))
        if found is None:
            break
        deep = found.group(1).replace("&amp;", "&")
    else:
        walked = args.depth
    paths = {
        "first page": "/public/guidance",
        "filtered page": f"/public/guidance?department_id={public_list.department(0)}",
        "deep page": deep,
    }

    def per_request(path: str, n: int) -> float:
        started = time.process_time()
        for _ in range(n):
            get(path)
        return (time.process_time() - started) * 1000 / n

    for path in (*paths.values(), "/healthz"):
        per_request(path, 50)  # warm: templates compiled, statements cached, the pool filled
    health_ms = per_request("/healthz", args.pages)
    figures: dict[str, object] = {
        "pages": args.pages,
        "deep page walked": walked,
        "healthz_cpu_ms": round(health_ms, 3),
    }
    for label, path in paths.items():
        page_ms = per_request(path, args.pages)
        figures[f"{label} cpu_ms"] = round(page_ms, 3)
        figures[f"{label} ratio"] = round(page_ms / health_ms, 2)
    print(json.dumps(figures, ensure_ascii=False))
    if args.profile:
        _profile(lambda: get("/public/guidance"))
    runtime.close()
    return 0


def _profile(page: Callable[[], object]) -> None:
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(300):
        page()
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(60)


if __name__ == "__main__":
    raise SystemExit(main())
