"""What every benchmark of ``bench/run --all`` shares: figures beside their baselines, timing,
percentiles, the servers it needs, one service database, and the JSON.

A benchmark module returns a ``Section``: its figures (each measured beside a baseline in the same
run, with the ratio and, where issue 13 sets one, the target and whether it is met), the checks
that prove it measured what it says (rows written, requests answered 200), and information that
is neither. ``Report`` gathers the sections, renders them and writes one JSON.

Nothing here asserts a speed: a missed target is printed and recorded, never an error.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NO_RESPONSE = 0  # the "status" of a request whose connection closed without an answer
RESULTS_DIR = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent


# --- figures ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What issue 13 asks of a figure: ``on`` is "ratio" or "value"; ``at_least`` or else at most."""

    on: str
    threshold: float
    at_least: bool
    text: str

    def met(self, value: float, ratio: float | None) -> bool | None:
        judged = ratio if self.on == "ratio" else value
        if judged is None or math.isnan(judged):
            return None
        return judged >= self.threshold if self.at_least else judged <= self.threshold


def ratio_at_least(threshold: float, text: str) -> Target:
    return Target("ratio", threshold, True, text)


def value_at_most(threshold: float, text: str) -> Target:
    return Target("value", threshold, False, text)


@dataclass
class Figure:
    """One measured figure beside the baseline measured in the same run; ratio = value / baseline."""

    name: str
    value: float
    unit: str
    baseline_name: str
    baseline: float
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @property
    def met(self) -> bool | None:
        return self.target.met(self.value, self.ratio) if self.target else None

    def to_json(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "name": self.name,
            "value": round(self.value, 3),
            "unit": self.unit,
            "baseline_name": self.baseline_name,
            "baseline": round(self.baseline, 3),
            "ratio": round(ratio, 4) if ratio is not None else None,
            "target": self.target.text if self.target else None,
            "met": self.met,
            "note": self.note,
        }


@dataclass
class Section:
    """One benchmark's outcome. ``problems`` are failed correctness checks (the run then fails)."""

    name: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # What the product did wrong under the load (errors, dropped connections): recorded and printed,
    # not a failed run, because the measurement itself held.
    warnings: list[str] = field(default_factory=list)
    skipped: str | None = None  # why it did not run (a part of issue 13 today's code cannot run)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def expect(self, name: str, actual: Any, expected: Any) -> None:
        """Record a correctness check; a mismatch is a problem (the run's exit status says so)."""
        self.checks[name] = actual
        if actual != expected:
            self.problems.append(f"{self.name}: {name} = {actual!r}, expected {expected!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "figures": [figure.to_json() for figure in self.figures],
            "checks": self.checks,
            "info": self.info,
            "problems": self.problems,
            "warnings": self.warnings,
            "skipped": self.skipped,
        }


@dataclass
class Report:
    quick: bool
    sizes: dict[str, Any]
    sections: list[Section] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    load_before: tuple[float, float, float] = field(default_factory=os.getloadavg)

    @property
    def problems(self) -> list[str]:
        return [problem for section in self.sections for problem in section.problems]

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": "all",
            "quick": self.quick,
            "started": self.started,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "sizes": self.sizes,
            "machine": machine(),
            "load_average_before": [round(x, 2) for x in self.load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "sections": {section.name: section.to_json() for section in self.sections},
            "problems": self.problems,
            "correct": not self.problems,
        }

    def render(self) -> str:
        out = [
            f"bench/run --all{' --quick' if self.quick else ''}: {machine()['cpu_count']} CPUs, "
            f"load before {', '.join(f'{x:.2f}' for x in self.load_before)}; every figure beside a baseline "
            "from the same run",
        ]
        for section in self.sections:
            out += ["", f"== {section.title}"]
            if section.skipped:
                out.append(f"   not run: {section.skipped}")
                continue
            for figure in section.figures:
                ratio = figure.ratio
                verdict = ""
                if figure.target:
                    verdict = {True: "met", False: "NOT met", None: "not judged"}[figure.met]
                    verdict = f"  target {figure.target.text}: {verdict}"
                out.append(
                    f"   {figure.name:46} {_num(figure.value):>12} {figure.unit:8} | {figure.baseline_name:34} "
                    f"{_num(figure.baseline):>12} | ratio {'-' if ratio is None else f'{ratio:.3f}'}{verdict}"
                )
            for problem in section.problems:
                out.append(f"   PROBLEM {problem}")
            for warning in section.warnings:
                out.append(f"   WARNING {warning}")
        out += ["", "correctness: " + ("ok" if not self.problems else "FAILED")]
        return "\n".join(out)

    def write(self, path: Path | None) -> Path:
        out = path or RESULTS_DIR / f"all-{'quick-' if self.quick else ''}{datetime.now(UTC):%Y-%m-%dT%H%M}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return out


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def machine() -> dict[str, Any]:
    import sqlite3

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
    }


# --- timing -------------------------------------------------------------------------------------------


@dataclass
class Timed:
    seconds: float = 0.0
    cpu_seconds: float = 0.0


@contextlib.contextmanager
def timed() -> Iterator[Timed]:
    """Wall and this process's CPU seconds of the block."""
    result = Timed()
    start, cpu = time.perf_counter(), time.process_time()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - start
        result.cpu_seconds = time.process_time() - cpu


def percentile(samples: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (p in 0..100) of ``samples``; NaN for none."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- HTTP load ----------------------------------------------------------------------------------------


@dataclass
class Load:
    """Latencies (seconds) of the requests of one load phase, and the statuses seen."""

    latencies: list[float]
    seconds: float
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000  # ms


def http_load(
    port: int,
    request: Callable[[int, int], tuple[str, str, bytes | None, Mapping[str, str]]],
    *,
    clients: int,
    requests_per_client: int,
    warmup: int = 2,
) -> Load:
    """``clients`` threads, each on its own keep-alive connection (a new one after a dropped one), each sending
    ``requests_per_client`` requests built by ``request(client, i)`` -> (method, path, body, headers).

    The clients are threads of this process: on 2 shared cores they compete with the server for CPU,
    which is why every figure is read against a baseline measured by the same clients."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            for i in range(warmup):
                method, path, body, headers = request(index, -1 - i)
                conn.request(method, path, body=body, headers=dict(headers))
                conn.getresponse().read()
            barrier.wait()
            mine = latencies[index]
            for i in range(requests_per_client):
                method, path, body, headers = request(index, i)
                start = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=dict(headers))
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    # The server dropped the connection (a worker killed by its timeout): an answer
                    # that never came, counted under status 0 with the time it took, then reconnect.
                    status = NO_RESPONSE
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                mine.append(time.perf_counter() - start)
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    return Load([x for mine in latencies for x in mine], seconds, statuses)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(port: int, path: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing answered on 127.0.0.1:{port}{path} within {timeout_s}s") from None
            time.sleep(0.2)


@contextlib.contextmanager
def server(command: Sequence[str], env: Mapping[str, str], port: int, ready_path: str, log: Path) -> Iterator[int]:
    """Start ``command`` (a web server on ``port``), wait until ``ready_path`` answers, yield its pid,
    stop it (SIGTERM to it, then SIGKILL to it if it lingers)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command), env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
        )
    try:
        try:
            wait_http(port, ready_path)
        except RuntimeError:
            raise RuntimeError(f"{command[0]} did not start: {log.read_text(errors='replace')[-2000:]}") from None
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children (gunicorn's workers), in MiB, from /proc."""
    total = 0
    for one in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def cpu_seconds_of(pids: Sequence[int]) -> float:
    """User + system CPU seconds ``pids`` and their children have used so far (/proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in {p for root in pids for p in [root, *_children(root)]}:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                for child in (task / "children").read_text().split():
                    found += [int(child), *_children(int(child))]
    return found


def own_max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- servers and databases --------------------------------------------------------------------------


@contextlib.contextmanager
def postgres(url: str | None) -> Iterator[str | None]:
    """A PostgreSQL superuser URL: ``url`` if given, else ``GUIDANCE_TEST_POSTGRES_URL``, else a throwaway
    cluster started as the tests start one (``tests/support/postgres.py``), else None (no binaries)."""
    configured = url or os.environ.get("GUIDANCE_TEST_POSTGRES_URL")
    if configured:
        yield configured
        return
    if not (shutil.which("initdb") or shutil.which("pg_config") or list(Path("/usr/lib/postgresql").glob("*/bin"))):
        yield None
        return
    from tests.support.postgres import ThrowawayCluster, _find_bindir

    cluster = ThrowawayCluster(_find_bindir())
    say("starting a throwaway PostgreSQL cluster ...")
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def fresh_postgres_database(server_url: str, name: str) -> str:
    """A new empty database on ``server_url``; its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def service_environment(service: str, database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment a benchmarked service process runs with: its database, the embedded transport
    in ``var_dir`` (no broker unless ``extra`` says so), quiet logs, no public rate limit."""
    return {
        "GUIDANCE_DATABASE_URL": database_url,
        "GUIDANCE_VAR_DIR": str(var_dir),
        "GUIDANCE_TRANSPORT": "embedded",
        "GUIDANCE_LOG_LEVEL": "WARNING",
        "GUIDANCE_PUBLIC_RATE_LIMIT": "0",
        **extra,
    }


def service_database(service: str, env: Mapping[str, str]) -> Any:
    """Create ``service``'s database (the one in ``env``) as an operator does, ``guidance-<service> migrate``,
    and return the service's ``Runtime`` on it (the caller closes it). The ONE place the benchmarks make a
    service database."""
    import importlib

    from guidance_shared.db import make_engine
    from guidance_shared.migrations import Migrations
    from guidance_shared.runtime import Runtime
    from guidance_shared.settings import Settings

    bootstrap = importlib.import_module(f"guidance_{service}.bootstrap")
    settings = Settings.from_env(service, {**os.environ, **env})
    engine = make_engine(settings.database_url)
    try:
        Migrations(service, bootstrap.SPEC.migrations).upgrade(engine)
    finally:
        engine.dispose()
    return Runtime(bootstrap.SPEC, settings)
