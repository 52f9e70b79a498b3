"""What sealing persons' fields costs (issue 14, point 7): append and replay with sealing on against the same
work with sealing off, in the same run (docs/personal-data.md; target: replay >= 0.85 of the replay in clear).

The workload: N guidance acts, each about another natural person (a distinct, valid resident ID number), so
every act makes a data key when it is sealed and every replay must fetch one key per act: the most keys per
event a store can hold, the worst case for both sides. Each act is the catalogue's example command with the
person as its counterpart.

g. **append** (acts/s): intake's command path in process, ``handlers.issue_guidance`` in one transaction per
   act as the web's ``@idempotent`` runs it (checks, 文号, the person's key found or made in that transaction,
   the fields sealed, the event store with its hash chain and outbox, the read model), on a fresh SQLite
   intake database with ``GUIDANCE_SEAL_PERSONAL_DATA`` true, against the same commands with it false.
h. **replay** (records/s):
   - *disclosure*: the acts intake recorded, as its relay would publish them (the outbox rows' bytes), on an
     embedded log, applied by disclosure's own consumer runner into a fresh database: the sealed acts opened
     in memory with keys from intake's internal key API, served over HTTP by a real intake (gunicorn, the
     sealing database; every key handed out written to its access log), through disclosure's key cache, a new
     one per run (a restarted worker: one key fetched per person). Against the clear acts through the same
     runner with the same settings. Timed from the first poll until every record was handled. Its profile is
     in the section's info: the key API calls per run (the distinct request ids of intake's access log
     entries) and the CPU seconds intake's web process spent answering them.
   - *intake's read model*: ``rebuild_read_models`` (what ``guidance-intake rebuild-read-models`` runs) on the
     sealing database against the clear one.

Each side runs ``ROUNDS`` times, alternating, and the fastest of each is compared, as ``replay_floor`` does: on
a machine shared with other work the fastest run is the one its load disturbed least. Checks: every act
recorded, sealed on one side and clear on the other, one key per person; every record applied, none parked,
as many public rows from the sealed acts as from the clear; one key fetched per person and run.
"""

from __future__ import annotations

import base64
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.harness import (
    Figure,
    Section,
    cpu_seconds_of,
    free_port,
    ratio_at_least,
    say,
    server,
    service_database,
    timed,
)

ROUNDS = 3
REBUILD_ROUNDS = 3  # rounds of the rebuild per round of the rest
TARGET = ratio_at_least(0.85, ">= 0.85x replay in clear")
# Fixed and fictitious, as tests/support/intake_keys.py's: the keys a bench install seals under.
KEKS = "bench-1=" + base64.b64encode(bytes(range(200, 232))).decode()
PSEUDONYM_KEY = base64.b64encode(bytes(range(100, 132))).decode()
SCRUB_KEY = "s" * 40
SIDES = ("clear", "sealed")


def run(*, acts: int, work: Path, rounds: int = ROUNDS) -> list[Section]:
    from tests.support.auth import AuthKeys

    from guidance_shared.events.examples import DEPARTMENT_ID

    append = Section("sealing_append", "g. intake's command path, sealing on vs off (acts/s)")
    replay = Section("sealing_replay", "h. replay of sealed vs clear acts (records/s)")
    for section in (append, replay):
        section.info["acts"] = acts
        section.info["persons"] = acts
        section.info["rounds"] = rounds
    keys = AuthKeys.create(work / "sealing-auth")
    commands = _commands(acts)

    # g. append: each run on a fresh intake database; the first of each side is kept for the replays.
    runs: dict[str, list[float]] = {side: [] for side in SIDES}
    kept: dict[str, Path] = {}
    for round_ in range(rounds):
        for side in SIDES if round_ % 2 == 0 else SIDES[::-1]:
            say(f"sealing: append, round {round_ + 1} of {rounds}, {side} ...")
            var = work / f"sealing-intake-{side}-{round_}"
            seconds = _append(_intake_env(var, keys, sealed=side == "sealed"), commands, side, append)
            runs[side].append(seconds)
            kept.setdefault(side, var)
    append.add(
        Figure(
            "append, sealing on",
            acts / min(runs["sealed"]),
            "acts/s",
            "sealing off",
            acts / min(runs["clear"]),
            note=f"the fastest of {rounds} alternating runs of each; one new person (one new key) per act",
        )
    )
    append.info["runs_acts_per_s"] = {side: [round(acts / s) for s in runs[side]] for side in SIDES}

    # h. intake's read model refolded from each store (before the key API serves the sealing database).
    folds: dict[str, list[tuple[float, float]]] = {side: [] for side in SIDES}
    events: dict[str, int] = {}
    # A rebuild of a small store takes about a second, which a burst of the machine's other load swamps: more
    # rounds of it than of the rest, and its CPU seconds beside (it runs in this process alone).
    for round_ in range(rounds * REBUILD_ROUNDS):
        for side in SIDES if round_ % 2 == 0 else SIDES[::-1]:
            say(f"sealing: intake's read model, round {round_ + 1} of {rounds * REBUILD_ROUNDS}, {side} ...")
            wall, cpu, events[side] = _rebuild(
                _intake_env(kept[side], keys, sealed=side == "sealed"), acts, side, replay
            )
            folds[side].append((wall, cpu))
    _wall_and_cpu(
        replay,
        "intake read model rebuild, sealed",
        "events",
        events,
        folds,
        wall_note=f"rebuild_read_models; the fastest of {rounds * REBUILD_ROUNDS} alternating runs of each",
        cpu_note="this process's CPU, least of the runs",
        target=TARGET,
    )

    # h. disclosure's replay, the sealed side opening with keys from a real intake over HTTP.
    records = {side: _outbox_records(_intake_env(kept[side], keys, sealed=side == "sealed")) for side in SIDES}
    port = free_port()
    env = {**_intake_env(kept["sealed"], keys, sealed=True), "GUIDANCE_HTTP_PORT": str(port)}
    replays: dict[str, list[tuple[float, float]]] = {side: [] for side in SIDES}
    key_api_cpu: list[float] = []
    with server(
        [sys.executable, "-m", "guidance_intake", "web"], env, port, "/healthz", work / "sealing-intake-web.log"
    ) as intake_pid:
        key_api = {
            "GUIDANCE_KEY_API_URL": f"http://127.0.0.1:{port}",
            "GUIDANCE_KEY_API_TOKEN": keys.token("disclosure", DEPARTMENT_ID, ["pd-open"]),
        }
        for round_ in range(rounds):
            for side in SIDES if round_ % 2 == 0 else SIDES[::-1]:
                say(f"sealing: disclosure replay, round {round_ + 1} of {rounds}, {side} ...")
                var = work / f"sealing-disclosure-{side}-{round_}"
                cpu_before = cpu_seconds_of([intake_pid])
                replays[side].append(_disclosure_replay(var, key_api, records[side], side, replay))
                if side == "sealed":
                    key_api_cpu.append(cpu_seconds_of([intake_pid]) - cpu_before)
    public_rows = replay.checks.get("disclosure public rows", {})
    replay.expect("disclosure public rows, sealed as clear", public_rows.get("sealed"), public_rows.get("clear"))
    fetched, calls = _key_fetches(_intake_env(kept["sealed"], keys, sealed=True))
    replay.expect("keys fetched from intake's key API, all runs", fetched, acts * rounds)
    # The profile of the sealed side: how often it asked intake, and what answering cost intake's process.
    replay.info["key_api_calls_per_run"] = calls / rounds
    replay.info["key_api_cpu_seconds_per_sealed_run"] = [round(cpu, 2) for cpu in key_api_cpu]
    n = {side: len(records[side]) for side in SIDES}
    _wall_and_cpu(
        replay,
        "disclosure replay, sealed",
        "records",
        n,
        replays,
        wall_note=f"keys from intake's key API over HTTP, each person's once; the fastest of {rounds} alternating runs",
        cpu_note="this process's CPU only: intake's key API runs in its own process, its CPU is not counted",
        target=TARGET,
    )
    replay.info["disclosure_records"] = n
    replay.info["disclosure_runs_records_per_s"] = {
        side: [round(n[side] / wall) for wall, _cpu in replays[side]] for side in SIDES
    }
    replay.info["intake_rebuild_runs_events_per_s"] = {
        side: [round(events[side] / wall) for wall, _cpu in folds[side]] for side in SIDES
    }
    return [append, replay]


# --- the workload ----------------------------------------------------------------------------------------


def _wall_and_cpu(
    section: Section,
    name: str,
    unit: str,
    counts: dict[str, int],
    runs: dict[str, list[tuple[float, float]]],
    *,
    wall_note: str,
    cpu_note: str,
    target: Any,
) -> None:
    """Two figures of the sealed side against the clear one: by the fastest run's wall time (the target), and per
    CPU-second of the least run (what a loaded machine's bursts do not move)."""
    section.add(
        Figure(
            name,
            counts["sealed"] / min(wall for wall, _cpu in runs["sealed"]),
            f"{unit}/s",
            "the same, clear",
            counts["clear"] / min(wall for wall, _cpu in runs["clear"]),
            target,
            note=wall_note,
        )
    )
    section.add(
        Figure(
            f"{name}, {unit} per CPU-second",
            counts["sealed"] / max(min(cpu for _wall, cpu in runs["sealed"]), 1e-9),
            f"{unit}/CPU-s",
            "the same, clear",
            counts["clear"] / max(min(cpu for _wall, cpu in runs["clear"]), 1e-9),
            note=cpu_note,
        )
    )


def person(i: int) -> dict[str, Any]:
    """The ``i``-th person: the catalogue's example person with a resident ID number of their own (valid:
    its check character computed), and their own phone and address."""
    from guidance_intake.domain.identifiers import resident_id_check_char
    from guidance_shared.events.examples import PERSON

    born = date(1950, 1, 1) + timedelta(days=i // 500)
    body = f"410102{born:%Y%m%d}{i % 500 * 2 + 1:03d}"[:17]
    return {
        **PERSON,
        "id_no": body + resident_id_check_char(body),
        "contact": f"138{i:08d}",
        "address": f"某县城关镇建设路{i}号",
    }


def _commands(n: int) -> list[Any]:
    """``IssueGuidance`` commands as the web builds them from a request, one person each."""
    from tests.support.services import guidance_command

    from guidance_intake.entrypoints.http.schemas import IssueGuidanceRequest, issue_guidance_command

    schema = IssueGuidanceRequest()
    return [issue_guidance_command(schema.dump(schema.load(guidance_command(counterpart=person(i))))) for i in range(n)]


def _intake_env(var: Path, keys: Any, *, sealed: bool) -> dict[str, str]:
    from bench.harness import service_environment

    return {
        **service_environment("intake", f"sqlite:///{var / 'intake.sqlite'}", var),
        **keys.env(GUIDANCE_VAR_DIR=str(var)),
        "GUIDANCE_SEAL_PERSONAL_DATA": "true" if sealed else "false",
        "GUIDANCE_PERSONAL_DATA_KEKS": KEKS,
        "GUIDANCE_PSEUDONYM_KEY": PSEUDONYM_KEY,
    }


# --- g. append -----------------------------------------------------------------------------------------------


def _append(env: dict[str, str], commands: list[Any], side: str, section: Section) -> float:
    """Every command in a transaction of its own, as the web runs one; the wall seconds of all of them."""
    from sqlalchemy import func, select

    from guidance_intake import handlers
    from guidance_shared.personal_data.field import is_sealed

    Path(env["GUIDANCE_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    runtime = service_database("intake", env)
    try:
        deps, engine = runtime.deps, runtime.engine
        with timed() as clock:
            for command in commands:
                with engine.connect() as conn, conn.begin():
                    handlers.issue_guidance(deps, conn, command)
        assert runtime.store is not None
        events = runtime.store.read_all(0, len(commands) + 1)
        sealed = sum(is_sealed((e.data.get("counterpart") or {}).get("id_no")) for e in events)
        with engine.connect() as conn:
            made = int(conn.execute(select(func.count()).select_from(_keys_table())).scalar_one())
    finally:
        runtime.close()
    section.expect(f"acts recorded, {side}", len(events), len(commands))
    section.expect(f"acts with a sealed ID number, {side}", sealed, len(commands) if side == "sealed" else 0)
    section.expect(f"data keys made, {side}", made, len(commands) if side == "sealed" else 0)
    return clock.seconds


def _keys_table() -> Any:
    from guidance_intake.adapters.subject_keys import subject_keys

    return subject_keys


# --- h. replay ------------------------------------------------------------------------------------------------


def _rebuild(env: dict[str, str], acts: int, side: str, section: Section) -> tuple[float, float, int]:
    """intake's read model refolded from its store: (wall seconds, CPU seconds, events folded)."""
    from guidance_shared.rebuild import rebuild_read_models

    runtime = service_database("intake", env)
    try:
        with timed() as clock:
            report = rebuild_read_models(runtime)
    finally:
        runtime.close()
    section.expect(f"intake read model rows, {side}", report["tables"].get("guidance_records"), acts)
    return clock.seconds, clock.cpu_seconds, int(report["events"])


def _outbox_records(env: dict[str, str]) -> list[Any]:
    """What intake's relay would publish: the outbox rows' topic, key, value and headers, as its bytes."""
    import json

    from sqlalchemy import select

    from guidance_shared.db import make_engine
    from guidance_shared.eventstore import outbox_table
    from guidance_shared.transport.base import Record

    engine = make_engine(env["GUIDANCE_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            rows = list(conn.execute(select(outbox_table).order_by(outbox_table.c.position)))
    finally:
        engine.dispose()
    return [
        Record(
            topic=row.topic,
            key=row.key.encode("utf-8"),
            value=row.value.encode("utf-8"),
            headers=tuple((k, v.encode("utf-8")) for k, v in json.loads(row.headers).items()),
        )
        for row in rows
    ]


def _disclosure_replay(
    var: Path, key_api: dict[str, str], records: list[Any], side: str, section: Section
) -> tuple[float, float]:
    """A fresh disclosure (database, embedded log, key cache) applying ``records``: (wall, CPU) seconds from
    the first poll until every record was handled."""
    import time

    from sqlalchemy import func, select

    from bench.harness import service_environment
    from guidance_disclosure.adapters.projection import public_guidance

    var.mkdir(parents=True)
    env = {
        **service_environment("disclosure", f"sqlite:///{var / 'disclosure.sqlite'}", var),
        "GUIDANCE_SCRUB_KEY": SCRUB_KEY,
        "GUIDANCE_PSEUDONYM_KEY": PSEUDONYM_KEY,
        **key_api,
    }
    runtime = service_database("disclosure", env)
    try:
        runtime.provision()
        runtime.transport.producer().publish(records)
        runner = runtime.runner()
        handled = 0
        deadline = time.monotonic() + 600
        with timed() as clock:
            while handled < len(records) and time.monotonic() < deadline:
                handled += runner.run_once(0.5)
        parked = runner.parked_aggregates()
        with runtime.engine.connect() as conn:
            rows = int(conn.execute(select(func.count()).select_from(public_guidance)).scalar_one())
    finally:
        runtime.close()
    section.expect(f"disclosure records handled, {side}", handled, len(records))
    section.expect(f"disclosure aggregates parked, {side}", len(parked), 0)
    section.checks.setdefault("disclosure public rows", {})[side] = rows
    return clock.seconds, clock.cpu_seconds


def _key_fetches(env: dict[str, str]) -> tuple[int, int]:
    """How many keys intake's key API handed out for opening (its access log's entries), and in how many calls
    (the entries' distinct request ids: a call that hands out several keys writes them under one)."""
    from sqlalchemy import func, select

    from guidance_shared.access_log import access_log
    from guidance_shared.db import make_engine

    engine = make_engine(env["GUIDANCE_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            opened = access_log.c.purpose == "openSubjectKey:scrub"
            keys = int(conn.execute(select(func.count()).where(opened)).scalar_one())
            calls = int(conn.execute(select(func.count(access_log.c.request_id.distinct())).where(opened)).scalar_one())
            return keys, calls
    finally:
        engine.dispose()
