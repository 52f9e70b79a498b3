"""``bench/run --all``: every benchmark of issue 13 that runs on today's code, and the cost of sealing persons'
fields (issue 14, point 7: ``bench/sealing.py``), in one run, each figure beside a baseline measured in the same
run, the ratio, and the issue's target where it sets one.

    .venv/bin/python -m bench.all [--quick] [--only NAME ...] [--postgres URL] [--bootstrap host:port]
        [--json out.json] [--aggregates N] [--acts N] [--list-postgres-acts N] [--events N]
        [--sealing-acts N] [--list-store DIR] [--keep DIR]
    .venv/bin/python -m bench.all --table bench/results/all-<time>.json    # its figures as a Markdown table

``--quick`` runs every benchmark at a tiny size (seconds each; what tests/bench/ smoke-tests). Without
it the sizes are the issue's, except where an option says otherwise. Output: the table on stdout,
one JSON under bench/results/ (``all-<UTC time>.json``, or ``--json``). Exit status 1 when a
correctness check failed (never for a missed target).

PostgreSQL: ``--postgres URL`` (a superuser URL; databases are created on it), else
``GUIDANCE_TEST_POSTGRES_URL``, else a throwaway cluster started as the tests start one; without
PostgreSQL binaries the PostgreSQL parts are reported as not run.

``--list-store DIR``: the public list's generated databases are kept in DIR (on PostgreSQL: on the ``--postgres``
server) and a later run with the same DIR and sizes reads them instead of generating them again
(``public_list.prepared``), so that consecutive runs at a million acts cost the pages, not an hour of generation.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.harness import Report, Section, fresh_postgres_database, postgres, say

BENCHMARKS = ("append", "public_list", "commands", "replay", "propagation", "sealing")
SQLITE_ONLY = {"sealing"}  # benchmarks that never use PostgreSQL
NOT_YET: dict[str, str] = {}  # benchmarks of the issue that cannot run on today's code: name -> why


def sizes(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    return {
        "append_aggregates": args.aggregates or (200 if quick else 20_000),
        "public_acts": args.acts or (300 if quick else 1_000_000),
        "public_acts_postgresql": args.list_postgres_acts or (300 if quick else args.acts or 1_000_000),
        "public_requests_1_client": 5 if quick else 30,
        "public_requests_per_client_16": 2 if quick else 10,  # 160 samples: p99 is not just the slowest
        "command_requests_per_client": 5 if quick else 100,
        "replay_events": args.events or (200 if quick else 100_000),
        "bootstrap": args.bootstrap,
        "propagation_commands": 10 if quick else 400,
        "idle_seconds": 3 if quick else 30,
        "sealing_acts": args.sealing_acts or (30 if quick else 2_000),
        "list_store": args.list_store,
    }


def markdown(result: dict[str, Any]) -> str:
    """The figures of a run's JSON as the table in docs/performance.md."""
    out = [
        "| benchmark | figure | value | baseline (same run) | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, section in result["sections"].items():
        if section["skipped"]:
            out.append(f"| {name} | not run: {section['skipped']} | | | | | |")
            continue
        for figure in section["figures"]:
            value, base = figure["value"], figure["baseline"]
            ratio = "" if figure["ratio"] is None else f"{figure['ratio']:.3f}"
            met = {True: "yes", False: "**no**", None: ""}[figure["met"]]
            out.append(
                f"| {name} | {figure['name']} | {_cell(value)} {figure['unit']} | {figure['baseline_name']}: "
                f"{_cell(base)} | {ratio} | {figure['target'] or ''} | {met} |"
            )
    return "\n".join(out)


def _cell(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--table"]:  # bench/run --all --table results.json: the docs' table of a run
        import json

        print(markdown(json.loads(Path(argv[1]).read_text(encoding="utf-8"))))
        return 0
    parser = argparse.ArgumentParser(prog="bench/run --all", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: seconds per benchmark")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these benchmarks")
    parser.add_argument("--postgres", help="a PostgreSQL superuser URL to create the databases on")
    parser.add_argument("--json", help="where to write the results (default: bench/results/all-<time>.json)")
    parser.add_argument("--aggregates", type=int, help="append: aggregates per workload (20000; quick 200)")
    parser.add_argument("--acts", type=int, help="public list: published acts on SQLite (1000000; quick 300)")
    parser.add_argument("--list-postgres-acts", type=int, help="public list: acts on PostgreSQL (as --acts)")
    parser.add_argument("--events", type=int, help="replay: events on the topic (100000; quick 200)")
    parser.add_argument(
        "--sealing-acts", type=int, help="sealing: acts, one person each, per run and side (2000; quick 30)"
    )
    parser.add_argument(
        "--bootstrap", help="replay: host:port of a broker (default: KAFKA_BOOTSTRAP_SERVERS, else local)"
    )
    parser.add_argument(
        "--list-store",
        metavar="DIR",
        help="public list: keep the generated databases in DIR and reuse them in later runs (PostgreSQL: with the "
        "same --postgres server)",
    )
    parser.add_argument(
        "--keep", metavar="DIR", help="work in DIR (must not exist) and keep it: databases and the servers' logs"
    )
    args = parser.parse_args(argv)

    from guidance_shared.logging import configure_logging

    configure_logging("bench", "ERROR")
    chosen = args.only or BENCHMARKS
    report = Report(quick=args.quick, sizes=sizes(args))
    # A throwaway PostgreSQL cluster only for benchmarks that use one.
    database: contextlib.AbstractContextManager[str | None] = (
        postgres(args.postgres) if set(chosen) - SQLITE_ONLY else contextlib.nullcontext(None)
    )
    with _work_dir(args.keep) as work, database as server:
        for name in chosen:
            report.sections += _guarded(name, RUNNERS[name], report.sizes, work, server)
        for name, why in NOT_YET.items():
            report.sections.append(Section(name, why.split(":")[0], skipped=why.split(": ", 1)[1]))
    print(report.render(), flush=True)
    out = report.write(Path(args.json) if args.json else None)
    say(f"results written to {out}")
    return 1 if report.problems else 0


@contextlib.contextmanager
def _work_dir(keep: str | None) -> Iterator[Path]:
    """Where the run's databases and server logs go: a temporary directory, or ``--keep``'s, kept."""
    if keep:
        path = Path(keep).resolve()
        path.mkdir(parents=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        yield Path(tmp)


def _guarded(name: str, run: Callable[[dict[str, Any], Path, str | None], list[Section]], *args: Any) -> list[Section]:
    """A benchmark that raises is a failed section (a problem), not a lost run."""
    try:
        return run(*args)
    except Exception as error:  # reported in the JSON and the exit status
        import traceback

        traceback.print_exc()
        section = Section(name, name)
        section.problems.append(f"{name}: {error.__class__.__name__}: {error}")
        return [section]


def _append(sizes: dict[str, Any], work: Path, server: str | None) -> list[Section]:
    from bench import append_bench

    return [append_bench.run(aggregates=sizes["append_aggregates"], work=work, postgres_server=server)]


def _public_list(sizes: dict[str, Any], work: Path, server: str | None) -> list[Section]:
    from bench import public_list

    store = Path(sizes["list_store"]).resolve() if sizes["list_store"] else None
    if store is not None:
        store.mkdir(parents=True, exist_ok=True)
    acts, acts_postgresql = sizes["public_acts"], sizes["public_acts_postgresql"]
    sections = [
        public_list.run(
            acts_n=acts,
            database_url=f"sqlite:///{(store or work) / f'disclosure-list-{acts}.sqlite'}",
            database_label="sqlite",
            work=work,
            requests_one=sizes["public_requests_1_client"],
            requests_sixteen=sizes["public_requests_per_client_16"],
            store=store,
        )
    ]
    if server:
        sections.append(
            public_list.run(
                acts_n=acts_postgresql,
                database_url=lambda: fresh_postgres_database(server, f"bench_public_list_{acts_postgresql}"),
                database_label="postgresql",
                work=work,
                requests_one=sizes["public_requests_1_client"],
                requests_sixteen=sizes["public_requests_per_client_16"],
                store=store,
                pg_server=server,
            )
        )
    return sections


def _commands(sizes: dict[str, Any], work: Path, server: str | None) -> list[Section]:
    from bench import commands

    return commands.run(requests_per_client=sizes["command_requests_per_client"], work=work, postgres_server=server)


def _replay(sizes: dict[str, Any], work: Path, server: str | None) -> list[Section]:
    from bench import replay_floor

    return replay_floor.run(
        events=sizes["replay_events"], work=work, bootstrap=sizes["bootstrap"], postgres_server=server
    )


def _propagation(sizes: dict[str, Any], work: Path, server: str | None) -> list[Section]:
    from bench import propagation

    return propagation.run(
        commands=sizes["propagation_commands"], idle_s=sizes["idle_seconds"], work=work, bootstrap=sizes["bootstrap"]
    )


def _sealing(sizes: dict[str, Any], work: Path, server: str | None) -> list[Section]:
    from bench import sealing

    return sealing.run(acts=sizes["sealing_acts"], work=work)


RUNNERS: dict[str, Callable[[dict[str, Any], Path, str | None], list[Section]]] = {
    "append": _append,
    "public_list": _public_list,
    "commands": _commands,
    "replay": _replay,
    "propagation": _propagation,
    "sealing": _sealing,
}


if __name__ == "__main__":
    sys.exit(main())
