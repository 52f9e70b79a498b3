"""The chaos campaign (issue 16, point 6): the four services on a three-node Kafka cluster and PostgreSQL,
two web and two worker processes each, under a mixed load while processes and brokers are killed; then
an independent reader of the topics checks that nothing the clients saw accepted was lost or doubled.

``tools/chaos --seed 7 --duration 1800 --max-kills 200 --json chaos.json`` (docs/chaos.md). What happens:

1. A throwaway PostgreSQL (or ``--postgres URL``), a ``LocalKafkaCluster`` of three KRaft nodes (topics
   replicated three times, ``min.insync.replicas=2``), each service migrated, the topics provisioned with
   replication factor 3, and per service two ``web`` processes (two ports) and two ``worker`` processes
   (one consumer group: the two share its partitions, and one relay holds the outbox lease).
2. ``--clients`` threads send commands to all four services as an integrator would: each command has its own
   ``Idempotency-Key`` and ``X-Correlation-Id``; a connection error, a timeout or a 5xx is retried with the
   same key, on either web process, until a definite answer. A command is *accepted* when it got a 2xx.
3. Meanwhile, seeded by ``--seed``: a random web or worker process is SIGKILLed (its whole process group) and
   started again after a short delay, up to ``--max-kills``; one broker at a time is stopped (SIGTERM or
   SIGKILL) and started again; an extra worker joins a service's group and leaves it again (a forced
   rebalance, beside those every worker kill causes).
4. After ``--duration`` the load stops, every process and broker is running again, and the pipeline drains
   (every outbox relayed, every consumer group at the end of its topics). The workers stop.
5. Checks. A plain kafka-python consumer reads the four event topics from the beginning (JSON and the
   CloudEvents headers, no project code): each accepted command's events are in its service's topic (by the
   ``correlationid`` every event of a request carries) exactly once: no second event of the same type for the
   command, no aggregate version under two event ids; within each partition, each aggregate's versions rise
   in offset order. A record the relay sent twice (same event id, same bytes: the at-least-once relay after a
   kill, which consumers drop by id) is counted as ``redelivered``, not as a duplicate. Then each service's
   ``rebuild`` replays its projection from offset zero and the tables it swaps in must equal the live ones
   row for row, and each service's ``verify`` must pass.

The summary is printed and, with ``--json``, written; the exit code is 1 when any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

SERVICES = ("intake", "revisit", "disclosure", "assessment")
EVENT_TOPICS = {service: f"{service}.events" for service in SERVICES}
YEAR = 2025  # the assessment period the load records deliverables in
DELIVERABLES = ("plan_filed", "working_group_set_up", "rules_adopted", "training_held")
# A command whose answer is one of these is tried again with the same key, as a client would.
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRY_BUDGET_S = 120.0
# A broker node starts in seconds on an idle machine; on two cores shared with a test run, minutes.
START_TIMEOUT_S = 300.0


# --- processes --------------------------------------------------------------------------------------


class ChaosProcess:
    """A service process in its own process group, so a SIGKILL takes its gunicorn workers with it."""

    def __init__(self, service: str, command: str, env: Mapping[str, str], log_dir: Path, index: int) -> None:
        from tests.support.services import ROOT

        self.service, self.command, self.index = service, command, index
        self.name = f"{service}-{command}-{index}"
        self.env = {**os.environ, **env}
        self.log_path = log_dir / f"{self.name}.log"
        self.root = ROOT
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['GUIDANCE_HTTP_PORT']}"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"guidance_{self.service}", self.command],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                start_new_session=True,
            )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._reap_group()

    def terminate(self) -> None:
        """SIGTERM to the group: the clean stop ``stop`` waits for."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self) -> None:
        self.terminate()
        if self.proc is not None:
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reap_group()

    def _reap_group(self) -> None:
        """A gunicorn worker outliving its master would keep the port: the group goes with the leader."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def wait_healthy(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{self.name} not healthy after {timeout_s:.0f} s: {self.tail()}")

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# --- the load ---------------------------------------------------------------------------------------


@dataclass
class Accepted:
    """A command the client saw accepted (2xx): where, its correlation id, and the record it names."""

    service: str
    correlation_id: str
    command: str
    record_id: str | None


@dataclass
class Tally:
    accepted: list[Accepted] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)  # a definite 4xx, by service
    abandoned: int = 0  # no definite answer within the retry budget
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    """One integrator: a thread sending commands, each retried with its key until a definite answer."""

    def __init__(self, webs: Mapping[str, list[ChaosProcess]], headers: Mapping[str, str], rng: random.Random,
                 tally: Tally, stop: threading.Event) -> None:  # fmt: skip
        self.webs, self.headers, self.rng, self.tally, self.stop = webs, dict(headers), rng, tally, stop
        self.session = requests.Session()

    def run(self) -> None:
        scenarios = [self.guidance, self.guidance, self.case, self.request, self.deliverable, self.revisit]
        while not self.stop.is_set():
            self.rng.choice(scenarios)()

    def send(self, service: str, command: str, path: str, body: Any, *, if_match: str | None = None) -> Any:
        """The answer's JSON if accepted, else None. Retried with the same key and correlation id."""
        key, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        headers = {**self.headers, "Idempotency-Key": key, "X-Correlation-Id": correlation}
        if if_match:
            headers["If-Match"] = if_match
        deadline = time.monotonic() + RETRY_BUDGET_S
        attempt = 0
        while time.monotonic() < deadline:
            web = self.rng.choice(self.webs[service])
            try:
                response = self.session.post(f"{web.url}{path}", json=body, headers=headers, timeout=15)
            except requests.RequestException:
                response = None
            if response is not None and response.status_code not in RETRIED_STATUSES:
                if 200 <= response.status_code < 300:
                    answer = response.json() if response.content else {}
                    record_id = next((str(v) for k, v in answer.items() if k.endswith("_id")), None)
                    with self.tally.lock:
                        self.tally.accepted.append(Accepted(service, correlation, command, record_id))
                    return answer
                with self.tally.lock:
                    self.tally.refused[f"{service} {command} {response.status_code}"] += 1
                return None
            attempt += 1
            with self.tally.lock:
                self.tally.retries += 1
            time.sleep(min(2.0, 0.1 * 2**attempt) * (0.5 + self.rng.random()))
        with self.tally.lock:
            self.tally.abandoned += 1
        return None

    def guidance(self) -> None:
        from tests.support.services import guidance_command

        issued = self.send("intake", "issue guidance", "/v1/guidance", guidance_command())
        if issued and self.rng.random() < 0.7:
            body = {"response": "accepted"}
            self.send("intake", "respond", f"/v1/guidance/{issued['guidance_id']}/response", body, if_match='"1"')

    def case(self) -> None:
        from tests.support.services import case_command, decision_command

        from guidance_shared.events.examples import example

        opened = self.send("intake", "open case", "/v1/cases", case_command())
        if not opened:
            return
        case = f"/v1/cases/{opened['case_id']}"
        review = {"legal_review": example("guidance.CaseLegalReviewed.v1")["legal_review"]}
        if not self.send("intake", "legal review", f"{case}/legal-review", review):
            return
        if not self.send("intake", "decide", f"{case}/decision", decision_command()):
            return
        self.send("intake", "close case", f"{case}/closure", {"outcome": "executed"})

    def request(self) -> None:
        from guidance_shared.events.examples import DEPARTMENT_ID, PERSON

        body = {
            "department_id": DEPARTMENT_ID,
            "applicant": PERSON,
            "description": "申请公开2025年度食品安全领域行政指导工作台账。",
            "channel": "online",
            "received_on": "2026-02-12",
        }
        self.send("disclosure", "register request", "/v1/requests", body)

    def deliverable(self) -> None:
        from guidance_shared.events.examples import DEPARTMENT_ID

        body = {"deliverable": self.rng.choice(DELIVERABLES), "done_on": "2025-06-20", "evidence": "文件"}
        path = f"/v1/assessment/periods/{YEAR}/departments/{DEPARTMENT_ID}/deliverables"
        self.send("assessment", "record deliverable", path, body)

    def revisit(self) -> None:
        """Complete one open correction check that revisit scheduled for an act intake issued."""
        from guidance_shared.events.examples import DEPARTMENT_ID

        web = self.rng.choice(self.webs["revisit"])
        try:
            listed = self.session.get(
                f"{web.url}/v1/revisits",
                params={"department_id": DEPARTMENT_ID, "status": "open"},
                headers=self.headers,
                timeout=15,
            )
        except requests.RequestException:
            return
        if listed.status_code != 200:
            return
        checks = [r for r in listed.json()["revisits"] if r["kind"] == "correction_check"]
        if not checks:
            return
        chosen = self.rng.choice(checks)
        body = {
            "completed_on": "2025-03-12",
            "officers": [{"name": "王明", "badge_no": "A1002", "officer_id": None}],
            "method": "visit",
            "findings": {"corrected": True, "conduct_ok": True, "rights_explained": True, "needs_guidance": False},
            "notes": "现场核查，已改正。",
        }
        self.send("revisit", "complete revisit", f"/v1/revisits/{chosen['revisit_id']}/completion", body)


# --- the campaign -----------------------------------------------------------------------------------


@dataclass
class Options:
    seed: int = 1
    duration_s: float = 120.0
    max_kills: int = 20
    clients: int = 4
    kill_every_s: float = 6.0
    broker_every_s: float = 45.0
    rebalance_every_s: float = 30.0
    postgres: str | None = None
    work: Path | None = None
    drain_timeout_s: float = 600.0


@dataclass
class Chaos:
    """What the campaign did to the system."""

    web_kills: int = 0
    worker_kills: int = 0
    broker_restarts: int = 0
    broker_kills: int = 0  # of the restarts, those that began with SIGKILL rather than a clean stop
    rebalances_forced: int = 0
    log: list[str] = field(default_factory=list)


def run(options: Options) -> dict[str, Any]:
    """The whole campaign; the summary (``summary["ok"]``: every check passed)."""
    from bench.harness import postgres

    work = options.work or Path(tempfile.mkdtemp(prefix="guidance-chaos-"))
    if work.exists() and any(work.iterdir()):
        # An earlier run's brokers would start on their old logs, and its events would be read as this run's.
        raise SystemExit(f"--work {work} is not empty: name a new directory (an earlier run's is kept for a look)")
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with postgres(options.postgres) as server:
        if server is None:
            raise SystemExit("the chaos campaign needs PostgreSQL: install it or pass --postgres URL")
        summary = _campaign(options, work, server)
    summary["wall_s"] = round(time.monotonic() - started, 1)
    if options.work is None and summary["ok"]:
        shutil.rmtree(work, ignore_errors=True)
    else:
        summary["work"] = str(work)
    return summary


def _campaign(options: Options, work: Path, server: str) -> dict[str, Any]:
    from tests.support.auth import AuthKeys
    from tests.support.intake_keys import opening_env, sealing_env
    from tests.support.services import free_port

    from bench.harness import fresh_postgres_database
    from guidance_shared.events.examples import DEPARTMENT_ID
    from guidance_shared.kafka_local import LocalKafkaCluster

    rng = random.Random(options.seed)
    run_id = uuid.uuid4().hex[:8]  # databases of their own, beside other runs on a shared server
    logs = work / "log"
    logs.mkdir(exist_ok=True)
    cluster = LocalKafkaCluster(work / "kafka", brokers=3)
    _say("starting a 3-node Kafka cluster ...")
    cluster.start(timeout=START_TIMEOUT_S)
    processes: list[ChaosProcess] = []
    try:
        keys = AuthKeys.create(work / "auth")
        base = {
            **keys.env(),
            "GUIDANCE_VAR_DIR": str(work / "var"),
            "GUIDANCE_TRANSPORT": "kafka",
            "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap_servers,
            "GUIDANCE_TOPIC_REPLICATION_FACTOR": "3",
            "GUIDANCE_LOG_LEVEL": "WARNING",
            "GUIDANCE_PUBLIC_RATE_LIMIT": "0",
            "GUIDANCE_WEB_WORKERS": "1",
            "GUIDANCE_WEB_THREADS": "4",
        }
        envs = {
            s: {**base, "GUIDANCE_DATABASE_URL": fresh_postgres_database(server, f"chaos_{run_id}_{s}")}
            for s in SERVICES
        }
        # As shipped: intake seals persons' fields (on Kafka with the keys it is given) and disclosure opens them
        # through intake's key API. That API is an intake web of its own, never killed: nothing here balances
        # load across intake's webs, so a killed key API would park disclosure's events about persons until a
        # redrive, where a deployment's Service would route to the web still alive.
        ttl = timedelta(seconds=options.duration_s + options.drain_timeout_s + 3600)
        key_api_port = free_port()
        envs["intake"].update(sealing_env())
        envs["disclosure"].update(opening_env(f"http://127.0.0.1:{key_api_port}", keys, ttl))
        for service, env in envs.items():
            migrated = _cli(service, "migrate", env)
            if migrated.returncode != 0:
                raise RuntimeError(f"{service} migrate failed: {migrated.stderr[-2000:]}")
        provisioned = _cli("intake", "provision", envs["intake"])
        if provisioned.returncode != 0:
            raise RuntimeError(f"provision failed: {provisioned.stderr}")
        webs: dict[str, list[ChaosProcess]] = {}
        workers: dict[str, list[ChaosProcess]] = {}
        for service, env in envs.items():
            webs[service] = [
                ChaosProcess(service, "web", {**env, "GUIDANCE_HTTP_PORT": str(free_port())}, logs, i) for i in (1, 2)
            ]
            workers[service] = [ChaosProcess(service, "worker", env, logs, i) for i in (1, 2)]
        key_api = ChaosProcess("intake", "web", {**envs["intake"], "GUIDANCE_HTTP_PORT": str(key_api_port)}, logs, 0)
        processes = [key_api, *(p for group in (*webs.values(), *workers.values()) for p in group)]
        _say(f"starting {len(processes)} service processes ...")
        for process in processes:
            process.start()
        for process in processes:
            if process.command == "web":
                process.wait_healthy()

        headers = keys.headers("chaos", DEPARTMENT_ID, ["officer", "reviewer", "supervisor"], ttl=ttl)
        tally = Tally()
        stop = threading.Event()
        opener = Client(webs, headers, random.Random(rng.random()), tally, stop)
        if opener.send("assessment", "open period", "/v1/assessment/periods", {"year": YEAR}) is None:
            raise RuntimeError(f"the assessment period did not open: {tally.refused}")

        clients = [Client(webs, headers, random.Random(rng.random()), tally, stop) for _ in range(options.clients)]
        threads = [threading.Thread(target=c.run, name=f"client-{i}", daemon=True) for i, c in enumerate(clients)]
        _say(f"load: {options.clients} clients for {options.duration_s:.0f} s, seed {options.seed}")
        for thread in threads:
            thread.start()
        chaos = _inflict(options, rng, cluster, webs, workers, envs, logs)
        stop.set()
        for thread in threads:
            thread.join(RETRY_BUDGET_S + 30)
        _say(f"load stopped: {len(tally.accepted)} commands accepted; draining ...")
        for process in processes:
            if not process.running():
                process.start()
        drained = _drain(envs, cluster.bootstrap_servers, options.drain_timeout_s)
        _stop_all([p for p in processes if p.command == "worker"])
        parked = {service: _parked(env["GUIDANCE_DATABASE_URL"]) for service, env in envs.items()}
        _say("reading every topic from the beginning ...")
        reading = read_topics(cluster.bootstrap_servers)
        topic_checks = check_events(tally.accepted, reading)
        _say(
            f"topics: {topic_checks['events_read']} events read, lost {topic_checks['lost']}, duplicated "
            f"{topic_checks['duplicated']}, out of order {topic_checks['out_of_order']}, parked {parked}"
        )
        _say("rebuilding each projection from offset zero ...")
        # the four services' databases and consumer groups are apart: their rebuilds and verifies overlap
        with ThreadPoolExecutor(len(envs)) as pool:
            rebuilds = {service: pool.submit(_rebuild_equals_live, service, env) for service, env in envs.items()}
            projections = {service: future.result() for service, future in rebuilds.items()}
            verifies = {service: pool.submit(_cli, service, "verify", env) for service, env in envs.items()}
            verifications = {service: future.result() for service, future in verifies.items()}
            verified = {service: done.returncode == 0 for service, done in verifications.items()}
        summary = _summary(options, tally, chaos, drained, reading, topic_checks, projections, verified)
        summary["verify_failures"] = {  # what a failing verify said, for the one who reads the summary
            service: (done.stdout + done.stderr)[-4000:]
            for service, done in verifications.items()
            if done.returncode != 0
        }
        summary["parked"] = parked
        summary["checks"]["nothing_parked"] = not any(parked.values())
        summary["ok"] = all(summary["checks"].values())
        return summary
    finally:
        _stop_all(processes)
        cluster.stop()


def _cli(service: str, command: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """``guidance-<service> <command>``; patient, since on a machine shared with a test run a command's
    start-up alone can take a minute."""
    from tests.support.services import run_cli

    return run_cli(service, command, env, timeout=1200)


def _stop_all(processes: list[ChaosProcess]) -> None:
    """All at once: a clean stop can take seconds each, and sixteen of them one after another add up."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.stop()


def _inflict(
    options: Options,
    rng: random.Random,
    cluster: Any,
    webs: Mapping[str, list[ChaosProcess]],
    workers: Mapping[str, list[ChaosProcess]],
    envs: Mapping[str, Mapping[str, str]],
    logs: Path,
) -> Chaos:
    """The chaos loop, in the calling (main) thread until ``duration_s`` has passed: the broker nodes it
    restarts die with the thread that started them, so that must be a thread that outlives the campaign."""
    chaos = Chaos()
    began = time.monotonic()
    deadline = began + options.duration_s
    victims = [p for group in (*webs.values(), *workers.values()) for p in group]
    restarts: list[tuple[float, ChaosProcess]] = []
    extra: tuple[float, ChaosProcess] | None = None
    broker_down: int | None = None  # one node at a time is away
    broker_back = 0.0
    returning: threading.Thread | None = None
    failures: list[Exception] = []
    next_kill = began + rng.uniform(1, options.kill_every_s)
    next_broker = began + rng.uniform(0.3, 0.6) * options.broker_every_s
    next_rebalance = began + rng.uniform(0.2, 0.5) * options.rebalance_every_s

    def note(what: str) -> None:
        chaos.log.append(f"{time.monotonic() - began:7.1f}s {what}")
        _say(what)

    while time.monotonic() < deadline:
        now = time.monotonic()
        for due, process in [r for r in restarts if r[0] <= now]:
            restarts.remove((due, process))
            process.start()
        if now >= next_kill and chaos.web_kills + chaos.worker_kills < options.max_kills:
            # the first kill is a web process and the second a worker: even a short run has both
            kills = chaos.web_kills + chaos.worker_kills
            kind = ("web", "worker")[kills] if kills < 2 else None
            alive = [p for p in victims if p.running() and (kind is None or p.command == kind)]
            if alive:
                victim = rng.choice(alive)
                victim.kill()
                if victim.command == "web":
                    chaos.web_kills += 1
                else:
                    chaos.worker_kills += 1
                restarts.append((now + rng.uniform(0.5, 3.0), victim))
                note(f"SIGKILL {victim.name}")
            next_kill = now + rng.uniform(0.5, 1.5) * options.kill_every_s
        if returning is not None and not returning.is_alive():
            returning.join()
            if failures:
                raise failures[0]
            chaos.broker_restarts += 1
            note(f"broker {broker_down} answers again")
            broker_down, returning = None, None
            next_broker = now + rng.uniform(0.7, 1.3) * options.broker_every_s
        if broker_down is not None and returning is None and now >= broker_back:
            # spawned here, in the main thread its JVM is tied to; waited for beside, so the chaos goes on
            node = cluster.nodes[broker_down - 1]
            returning = threading.Thread(target=_await_node, args=(node, node.launch(False), failures))
            returning.start()
            note(f"broker {broker_down} starting again")
        if broker_down is None and now >= next_broker:
            broker_down = rng.randint(1, len(cluster.nodes))
            hard = rng.random() < 0.5
            if hard:
                cluster.kill_node(broker_down)
                chaos.broker_kills += 1
            else:
                cluster.stop_node(broker_down)
            note(f"broker {broker_down} {'SIGKILLed' if hard else 'stopped'}")
            broker_back = time.monotonic() + rng.uniform(3.0, 8.0)
        if extra is not None and now >= extra[0]:
            extra[1].stop()
            chaos.rebalances_forced += 1
            note(f"extra worker {extra[1].name} left its group")
            extra = None
        if extra is None and now >= next_rebalance and now < deadline - 10:
            service = rng.choice(SERVICES)
            joiner = ChaosProcess(service, "worker", envs[service], logs, 3)
            joiner.start()
            chaos.rebalances_forced += 1
            note(f"extra worker {joiner.name} joined its group")
            extra = (now + rng.uniform(5.0, 10.0), joiner)
            next_rebalance = now + rng.uniform(0.7, 1.3) * options.rebalance_every_s
        time.sleep(0.2)
    if broker_down is not None:  # the last restart completes before the load's end is declared
        if returning is None:
            cluster.start_node(broker_down, timeout=START_TIMEOUT_S)
        else:
            returning.join()
            if failures:
                raise failures[0]
        chaos.broker_restarts += 1
        note(f"broker {broker_down} answers again")
    if extra is not None:
        extra[1].stop()
        chaos.rebalances_forced += 1
        note(f"extra worker {extra[1].name} left its group")
    for _, process in restarts:
        process.start()
    return chaos


def _await_node(node: Any, log_offset: int, failures: list[Exception]) -> None:
    try:
        node.await_ready(log_offset, START_TIMEOUT_S)
    except Exception as error:  # handed to the chaos loop, which stops the campaign with it
        failures.append(error)


def _drain(envs: Mapping[str, Mapping[str, str]], bootstrap: str, timeout_s: float) -> bool:
    """Until every outbox is relayed and every consumer group has applied everything, twice in a row with
    the topics' ends unchanged between (a relay backing off between retries would otherwise look idle)."""
    import importlib

    from sqlalchemy import func, select

    from guidance_shared.consumer import offsets_table
    from guidance_shared.db import make_engine
    from guidance_shared.eventstore import outbox_table, relay_cursor_table

    specs = {s: importlib.import_module(f"guidance_{s}.bootstrap").SPEC for s in envs}
    engines = {s: make_engine(env["GUIDANCE_DATABASE_URL"]) for s, env in envs.items()}
    deadline = time.monotonic() + timeout_s
    calm, ends = 0, None
    try:
        while time.monotonic() < deadline:
            now_ends = _end_offsets(bootstrap)
            settled = True
            for service, engine in engines.items():
                spec = specs[service]
                with engine.connect() as conn:
                    top = conn.execute(select(func.max(outbox_table.c.position))).scalar() or 0
                    cursor = conn.execute(select(relay_cursor_table.c.last_position)).scalar() or 0
                    stored = {
                        f"{r.topic}[{r.partition}]": r.next_offset
                        for r in conn.execute(select(offsets_table).where(offsets_table.c.group_id == spec.name))
                    }
                behind = sum(
                    max(end - stored.get(name, 0), 0)
                    for name, end in now_ends.items()
                    if name.rsplit("[", 1)[0] in spec.consumes
                )
                settled = settled and top <= cursor and behind == 0
            calm = calm + 1 if settled and now_ends == ends else 0
            if calm >= 2:
                return True
            ends = now_ends
            time.sleep(2)
        return False
    finally:
        for engine in engines.values():
            engine.dispose()


def _end_offsets(bootstrap: str) -> dict[str, int]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in EVENT_TOPICS.values()
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        return {f"{tp.topic}[{tp.partition}]": offset for tp, offset in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


# --- the independent reader ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    topic: str
    partition: int
    offset: int
    event_id: str
    subject: str
    sequence: int
    type: str
    correlation_id: str | None
    value: bytes


def read_topics(bootstrap: str, timeout_s: float = 300.0) -> list[Seen]:
    """Every record of the four event topics, from offset zero to their current ends, with kafka-python
    alone: CloudEvents binary mode puts the attributes in ``ce_*`` headers and the data in the value."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in EVENT_TOPICS.values()
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        ends = consumer.end_offsets(partitions)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        seen: list[Seen] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end for tp, end in ends.items()) and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=1000, max_records=5000).items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    headers = {k: v.decode() for k, v in record.headers}
                    json.loads(record.value)  # the data is JSON; anything else is a broken record
                    seen.append(
                        Seen(
                            record.topic,
                            record.partition,
                            record.offset,
                            headers["ce_id"],
                            headers["ce_subject"],
                            int(headers["ce_sequence"]),
                            headers["ce_type"],
                            headers.get("ce_correlationid"),
                            record.value,
                        )
                    )
        short = {f"{tp.topic}[{tp.partition}]": end - consumer.position(tp) for tp, end in ends.items()}
        if any(short.values()):
            raise RuntimeError(f"the topics could not be read to their ends: {short}")
        return seen
    finally:
        consumer.close()


def check_events(accepted: list[Accepted], seen: list[Seen]) -> dict[str, Any]:
    """Lost, duplicated, redelivered and out-of-order events (see the module's docstring for the terms)."""
    first: dict[str, Seen] = {}
    redelivered = conflicting = 0
    for record in sorted(seen, key=lambda r: (r.topic, r.partition, r.offset)):
        earlier = first.get(record.event_id)
        if earlier is None:
            first[record.event_id] = record
        elif earlier.value == record.value and earlier.subject == record.subject:
            redelivered += 1
        else:
            conflicting += 1  # one event id for two different events
    events = list(first.values())

    by_version: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    for event in events:
        by_version[(event.topic, event.subject, event.sequence)].add(event.event_id)
    doubled_versions = sum(len(ids) - 1 for ids in by_version.values() if len(ids) > 1)

    # order: within a partition, each aggregate's versions rise with the offset
    out_of_order, partitions_of = 0, defaultdict(set)
    last: dict[tuple[str, str], int] = {}
    for event in sorted(events, key=lambda e: (e.topic, e.partition, e.offset)):
        partitions_of[(event.topic, event.subject)].add(event.partition)
        key = (event.topic, event.subject)
        if key in last and event.sequence <= last[key]:
            out_of_order += 1
        last[key] = event.sequence
    split = sum(1 for parts in partitions_of.values() if len(parts) > 1)
    gaps = 0
    versions: dict[tuple[str, str], list[int]] = defaultdict(list)
    for event in events:
        versions[(event.topic, event.subject)].append(event.sequence)
    for numbers in versions.values():
        gaps += max(numbers) - len(set(numbers))  # versions 1..n, none missing

    by_correlation: dict[tuple[str, str], list[Seen]] = defaultdict(list)
    for event in events:
        if event.correlation_id:
            by_correlation[(event.topic, event.correlation_id)].append(event)
    lost = duplicated = 0
    lost_examples: list[str] = []
    for command in accepted:
        own = by_correlation.get((EVENT_TOPICS[command.service], command.correlation_id), [])
        if not own:
            lost += 1
            # what the topic holds of the record the answer named: tells a lost event from one under another id
            named = sorted(
                f"{e.type}@{e.partition}:{e.offset} correlation {e.correlation_id}"
                for e in events
                if command.record_id and e.subject == command.record_id
            )
            lost_examples.append(
                f"{command.service} {command.command} {command.record_id} correlation {command.correlation_id}"
                f" (the record's events: {'; '.join(named) or 'none'})"
            )
            continue
        types = Counter(event.type for event in own)
        duplicated += sum(count - 1 for count in types.values())
    return {
        "events_read": len(seen),
        "distinct_events": len(events),
        "lost": lost,
        "lost_examples": lost_examples[:10],
        "duplicated": duplicated + doubled_versions + conflicting,
        "redelivered": redelivered,
        "out_of_order": out_of_order + split,
        "version_gaps": gaps,
    }


# --- projections and verify ---------------------------------------------------------------------------


def _rebuild_equals_live(service: str, env: Mapping[str, str]) -> dict[str, Any]:
    """``rebuild`` replays the projection from offset zero and swaps it in; the tables it swapped must hold
    exactly the rows they held before (the database numbers ``id`` columns again, so those are left out)."""
    before = _snapshot(env["GUIDANCE_DATABASE_URL"])
    rebuilt = _cli(service, "rebuild --timeout 900", env)
    if rebuilt.returncode != 0:
        return {"equal": False, "error": rebuilt.stderr[-2000:]}
    report = json.loads(rebuilt.stdout)
    after = _snapshot(env["GUIDANCE_DATABASE_URL"])
    differing = sorted(t for t in report["tables"] if before.get(t) != after.get(t))
    return {
        "equal": not differing,
        "tables": report["tables"],
        "differing": {t: _difference(before.get(t, []), after.get(t, [])) for t in differing},
        "replayed": report.get("events"),
    }


def _parked(database_url: str) -> int:
    """Aggregates the live consumer groups parked: none of the load's events is poison, so any is a fault."""
    from sqlalchemy import func, select

    from guidance_shared.consumer import parked_table
    from guidance_shared.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(parked_table)).scalar_one())
    finally:
        engine.dispose()


def _difference(live: list[str], rebuilt: list[str]) -> dict[str, Any]:
    """Counts, and the first rows only one side has (cut short: enough to see which column moved)."""
    only_live, only_rebuilt = Counter(live) - Counter(rebuilt), Counter(rebuilt) - Counter(live)
    return {
        "live": len(live),
        "rebuilt": len(rebuilt),
        "only_live": [row[:400] for row in sorted(only_live)[:3]],
        "only_rebuilt": [row[:400] for row in sorted(only_rebuilt)[:3]],
    }


def _snapshot(database_url: str) -> dict[str, list[str]]:
    from sqlalchemy import MetaData, select

    from guidance_shared.db import make_engine

    engine = make_engine(database_url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            return {
                # by column name: the swap's tables have the model's column order, the migrated ones their history's
                table.name: sorted(
                    repr(sorted((k, v) for k, v in row._mapping.items() if k != "id"))
                    for row in conn.execute(select(table))
                )
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


# --- the summary ----------------------------------------------------------------------------------------


def _summary(
    options: Options,
    tally: Tally,
    chaos: Chaos,
    drained: bool,
    reading: list[Seen],
    topic_checks: dict[str, Any],
    projections: dict[str, dict[str, Any]],
    verified: dict[str, bool],
) -> dict[str, Any]:
    per_service = Counter(command.service for command in tally.accepted)
    checks = {
        "drained": drained,
        "lost": topic_checks["lost"] == 0,
        "duplicated": topic_checks["duplicated"] == 0,
        "out_of_order": topic_checks["out_of_order"] == 0,
        "version_gaps": topic_checks["version_gaps"] == 0,
        "projections_equal_rebuild": all(p["equal"] for p in projections.values()),
        "verify": all(verified.values()),
    }
    return {
        "ok": all(checks.values()),
        "checks": checks,
        "seed": options.seed,
        "duration_s": options.duration_s,
        "clients": options.clients,
        "commands_accepted": len(tally.accepted),
        "accepted_per_service": {s: per_service.get(s, 0) for s in SERVICES},
        "refused": dict(tally.refused),
        "abandoned": tally.abandoned,
        "retries": tally.retries,
        "web_kills": chaos.web_kills,
        "worker_kills": chaos.worker_kills,
        "broker_restarts": chaos.broker_restarts,
        "broker_kills": chaos.broker_kills,
        "rebalances_forced": chaos.rebalances_forced,
        **topic_checks,
        "projections": projections,
        "verify": verified,
        "chaos_log": chaos.log,
    }


def render(summary: Mapping[str, Any]) -> str:
    failed = [name for name, passed in summary["checks"].items() if not passed]
    lines = [
        f"chaos campaign: seed {summary['seed']}, {summary['duration_s']:.0f} s of load, {summary['clients']} clients"
        f", {summary.get('wall_s', '?')} s wall",
        f"  commands accepted   {summary['commands_accepted']}  "
        + ", ".join(f"{s} {n}" for s, n in summary["accepted_per_service"].items()),
        f"  refused (4xx)       {sum(summary['refused'].values())}   abandoned {summary['abandoned']}"
        f"   retries {summary['retries']}",
        f"  kills               web {summary['web_kills']}, worker {summary['worker_kills']}",
        f"  broker restarts     {summary['broker_restarts']} ({summary['broker_kills']} after SIGKILL)",
        f"  rebalances forced   {summary['rebalances_forced']}",
        f"  events read         {summary['events_read']} ({summary['distinct_events']} distinct,"
        f" {summary['redelivered']} redelivered by the relay)",
        f"  lost                {summary['lost']}",
        f"  duplicated          {summary['duplicated']}",
        f"  out of order        {summary['out_of_order']}   version gaps {summary['version_gaps']}",
        "  parked aggregates   " + ", ".join(f"{s} {n}" for s, n in summary.get("parked", {}).items()),
        "  projections = rebuild "
        + ", ".join(f"{s} {'yes' if p['equal'] else 'NO'}" for s, p in summary["projections"].items()),
        "  verify              " + ", ".join(f"{s} {'ok' if ok else 'FAILED'}" for s, ok in summary["verify"].items()),
        f"  result              {'PASS' if summary['ok'] else 'FAIL: ' + ', '.join(failed)}",
    ]  # fmt: skip
    return "\n".join(lines)


def _say(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/chaos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="seeds every random choice (default 1)")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load and chaos (default 120)")
    parser.add_argument("--max-kills", type=int, default=20, help="most web/worker SIGKILLs (default 20)")
    parser.add_argument("--clients", type=int, default=4, help="client threads sending commands (default 4)")
    parser.add_argument("--kill-every", type=float, default=6.0, help="mean seconds between kills (default 6)")
    parser.add_argument("--broker-every", type=float, default=45.0, help="mean seconds between broker restarts")
    parser.add_argument("--rebalance-every", type=float, default=30.0, help="mean seconds between forced rebalances")
    parser.add_argument("--postgres", help="a PostgreSQL superuser URL (default: a throwaway cluster)")
    parser.add_argument(
        "--work", type=Path, help="keep processes' logs and data here, a new or empty directory (default: a temp dir)"
    )
    parser.add_argument("--json", type=Path, help="write the summary here as JSON")
    args = parser.parse_args(argv)
    options = Options(
        seed=args.seed,
        duration_s=args.duration,
        max_kills=args.max_kills,
        clients=args.clients,
        kill_every_s=args.kill_every,
        broker_every_s=args.broker_every,
        rebalance_every_s=args.rebalance_every,
        postgres=args.postgres,
        work=args.work,
    )
    summary = run(options)
    print(render(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
