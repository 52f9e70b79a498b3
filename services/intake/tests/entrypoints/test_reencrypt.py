"""Re-encrypting intake's store (issue 14, point 6; docs/personal-data.md, "Re-encrypting a store"), on SQLite and
PostgreSQL: events recorded before sealing was switched on are sealed in place under their persons' keys, nothing is
published again, the stream chains and the keyed ledger verify afterwards, a checkpoint signed before the run is
reported as superseded by the signed run, a run stopped anywhere resumes to the same end, and a re-encrypted person
can be erased."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update
from tests.support.auth import AuthKeys
from tests.support.events import assert_events_match_contracts
from tests.support.projections import assert_read_models_refold
from tests.support.schema import migrated_runtime
from tests.support.services import case_command, guidance_command

from guidance_intake.adapters.reencryption import Reencryption
from guidance_intake.adapters.subject_keys import subject_keys
from guidance_intake.bootstrap import SPEC, create_app
from guidance_intake.entrypoints.cli import main
from guidance_shared import rechain
from guidance_shared.catalogue import GUIDANCE_ISSUED
from guidance_shared.db import make_engine, reading
from guidance_shared.events.examples import DEPARTMENT_ID, ENTERPRISE, INDIVIDUAL_BUSINESS, PERSON
from guidance_shared.eventstore import events_table, outbox_table, relay_cursor_table
from guidance_shared.personal_data.errors import ERASED_TEXT
from guidance_shared.personal_data.field import is_sealed
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
ERASURES = "/v1/personal-data/erasures"
#: every clear value of a person the tests record (the enterprise's are public registration data)
CLEAR = [
    PERSON["name"],
    PERSON["id_no"],
    PERSON["address"],
    PERSON["contact"],
    INDIVIDUAL_BUSINESS["legal_representative"],
    INDIVIDUAL_BUSINESS["address"],
    INDIVIDUAL_BUSINESS["contact"],
]


class Intake:
    """One intake database, opened as the release before sealing (``sealing=False``) or after, and the CLI on it."""

    def __init__(self, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, auth_keys: AuthKeys) -> None:
        self.env = env
        self.monkeypatch = monkeypatch
        self.auth_keys = auth_keys
        self.runtime: Runtime | None = None

    def open(self, *, sealing: bool) -> Runtime:
        self.close()
        env = {**self.env, "GUIDANCE_SEAL_PERSONAL_DATA": "true" if sealing else "false"}
        for name, value in env.items():
            self.monkeypatch.setenv(name, value)
        settings = Settings.from_env("intake", env)
        engine = {"engine": make_engine(env["GUIDANCE_DATABASE_URL"])} if "GUIDANCE_DATABASE_URL" in env else {}
        self.runtime = migrated_runtime(SPEC, settings, **engine)
        self.runtime.provision()
        return self.runtime

    def client(self) -> FlaskClient:
        assert self.runtime is not None
        return create_app(self.runtime, testing=True, auth=self.auth_keys.settings()).test_client()

    def close(self) -> None:
        if self.runtime is not None:
            self.runtime.engine.dispose()
            self.runtime.close()
            self.runtime = None

    def cli(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
        capsys.readouterr()
        code = main(SPEC, create_app, list(argv))
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else None


@pytest.fixture(params=DATABASES)
def intake(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, auth_keys: AuthKeys
) -> Iterator[Intake]:
    env = {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl")}
    if request.param == "postgresql":
        env["GUIDANCE_DATABASE_URL"] = request.getfixturevalue("postgres_db_url")
    service = Intake(env, monkeypatch, auth_keys)
    yield service
    if service.runtime is not None:
        assert_read_models_refold(service.runtime, allow_empty=True)
        assert_events_match_contracts(service.runtime)
    service.close()


def _headers(auth_keys: AuthKeys, role: str) -> dict[str, str]:
    return auth_keys.headers(f"{role}-1", DEPARTMENT_ID, [role])


def _created(client: FlaskClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    created: dict[str, Any] = answer.get_json()
    return created


def _records_before_sealing(intake: Intake) -> dict[str, str]:
    """Acts and a case recorded by the release before sealing, some of them already sent by the relay."""
    runtime = intake.open(sealing=False)
    client, officer = intake.client(), _headers(intake.auth_keys, "officer")
    ids = {
        "person": _created(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)["guidance_id"],
        "case": _created(client, "/v1/cases", case_command(counterpart=PERSON), officer)["case_id"],
        "business": _created(client, "/v1/guidance", guidance_command(counterpart=INDIVIDUAL_BUSINESS), officer)[
            "guidance_id"
        ],
    }
    assert runtime.relay().drain() > 0  # these were sent, clear, before sealing
    ids["enterprise"] = _created(client, "/v1/guidance", guidance_command(counterpart=ENTERPRISE), officer)[
        "guidance_id"
    ]
    ids["unsent"] = _created(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)["guidance_id"]
    return ids


def _dump(runtime: Runtime) -> str:
    """Every value of the event store, the outbox and the read models, as one text to search."""
    out = []
    with runtime.engine.connect() as conn:
        for table in ("es_events", "es_outbox", "guidance_records", "case_records"):
            out += [
                json.dumps([str(v) for v in row], ensure_ascii=False)
                for row in conn.execute(text(f"SELECT * FROM {table}"))
            ]
    return "\n".join(out)


def _state(runtime: Runtime) -> tuple[Any, ...]:
    with runtime.engine.connect() as conn:
        return (
            list(conn.execute(select(events_table).order_by(events_table.c.position))),
            list(conn.execute(select(outbox_table).order_by(outbox_table.c.position))),
            list(conn.execute(select(subject_keys.c.key_id))),
        )


def test_a_store_recorded_before_sealing_is_sealed_in_place_verified_and_published_no_more(
    intake: Intake, capsys: pytest.CaptureFixture[str]
) -> None:
    # given acts and a case recorded in clear before sealing, some sent, one still in the outbox, and a checkpoint
    ids = _records_before_sealing(intake)
    runtime = intake.open(sealing=True)
    assert runtime.checkpoints().write_once() is not None
    with runtime.engine.connect() as conn:
        cursor = conn.execute(select(relay_cursor_table.c.last_position)).scalar_one()
        outbox_before = conn.execute(select(func.count()).select_from(outbox_table)).scalar_one()
    # and a new act about the same person, sealed under the key made for them now
    client, officer = intake.client(), _headers(intake.auth_keys, "officer")
    sealed_act = _created(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)["guidance_id"]
    assert runtime.store is not None
    new_kid = runtime.store.load(sealed_act)[0].data["counterpart"]["id_no"]["kid"]
    dump = _dump(runtime)
    assert all(value in dump for value in CLEAR)

    # when the operator looks first, then re-encrypts
    code, dry = intake.cli(capsys, "reencrypt", "--dry-run")
    assert code == 0 and dry["dry_run"] is True
    assert (dry["events_sealed"], dry["subjects"], dry["keys_created"]) == (4, 2, 1)  # the business has no key yet
    code, report = intake.cli(capsys, "reencrypt", "--batch", "2")
    assert code == 0, report

    # then the four events about persons are sealed, the person's under the key their new act uses
    assert (report["events_sealed"], report["subjects"], report["keys_created"]) == (4, 2, 1)
    assert report["read_models"]["rebuilt"] == "intake"
    for name in ("person", "case", "unsent"):
        counterpart = runtime.store.load(ids[name])[0].data["counterpart"]
        assert all(is_sealed(counterpart[f]) and counterpart[f]["kid"] == new_kid for f in ("name", "id_no", "address"))
        assert counterpart["subject_id"] == runtime.deps.personal.subject_id(PERSON)
    business = runtime.store.load(ids["business"])[0].data["counterpart"]
    assert is_sealed(business["legal_representative"]) and business["name"] == INDIVIDUAL_BUSINESS["name"]
    assert runtime.store.load(ids["enterprise"])[0].data["counterpart"] == ENTERPRISE
    # and no clear value is left in the store, the outbox or the read models
    dump = _dump(runtime)
    assert [value for value in CLEAR if value in dump] == []
    # and nothing is published again: the sent rows are gone, the unsent one goes sealed, the cursor stays
    with runtime.engine.connect() as conn:
        assert conn.execute(select(relay_cursor_table.c.last_position)).scalar_one() == cursor
        rows = {r.position: r for r in conn.execute(select(outbox_table))}
    assert report["outbox_deleted"] == 3 and report["outbox_resealed"] == 1
    assert len(rows) == outbox_before + 1 - 3  # the new sealed act's row, and nothing added
    assert all(p > cursor for p in rows)
    assert runtime.relay().drain() == len(rows)  # the enterprise's act, the unsent one (sealed now), the new one
    # and intake still answers with what the officer sent
    shown = client.get(f"/v1/guidance/{ids['person']}", headers=officer).get_json()["details"]["counterpart"]
    assert {k: shown[k] for k in PERSON} == PERSON

    # and verify passes; against the checkpoint signed before the run, the run is named, not passed over
    code, verified = intake.cli(capsys, "verify")
    assert code == 0 and verified["ok"], verified
    [run] = verified["rechains"]
    assert run["run_id"] == report["run_id"] and run["problem"] is None and run["events_rewritten"] == 4
    code, against = intake.cli(capsys, "verify", "--against", "latest")
    assert code == 0 and against["against"]["mismatches"] == [], against
    [superseded] = against["against"]["superseded"]
    assert superseded["run_id"] == report["run_id"] and superseded["reason"] == "reencrypt-personal-data"

    # and running it again finds nothing to do
    code, again = intake.cli(capsys, "reencrypt")
    assert code == 0 and again["events_sealed"] == 0 and again["run_id"] is None


def test_a_forged_run_record_explains_nothing(intake: Intake, capsys: pytest.CaptureFixture[str]) -> None:
    _records_before_sealing(intake)
    runtime = intake.open(sealing=True)
    assert runtime.checkpoints().write_once() is not None
    assert intake.cli(capsys, "reencrypt")[0] == 0
    # when someone without the key widens what the run says it re-chained
    with runtime.engine.begin() as conn:
        conn.execute(update(rechain.rechains).values(events_rewritten=99))
    # then verify names the record, and the checkpoint is an unexplained rewrite again
    code, verified = intake.cli(capsys, "verify", "--against", "latest")
    assert code == 1 and "signature" in verified["rechains"][0]["problem"]
    assert [m["kind"] for m in verified["against"]["mismatches"]] == ["rewritten"]


class Killed(Exception):
    """Stands for the process dying: the batches committed before it stay, the one in flight is rolled back."""


@pytest.mark.parametrize("kill_when", ["rewriting", "relinking"])
def test_a_run_killed_midway_resumes_to_the_same_sound_end(
    intake: Intake, capsys: pytest.CaptureFixture[str], kill_when: str
) -> None:
    ids = _records_before_sealing(intake)
    runtime = intake.open(sealing=True)
    assert runtime.store is not None

    def kill(report: Any) -> None:
        if (kill_when == "rewriting" and report.events_sealed >= 2) or (kill_when == "relinking" and report.relinked):
            raise Killed

    personal = runtime.deps.personal
    assert personal.keks is not None
    job = Reencryption(runtime.engine, personal, personal.keks, runtime.store.linker, batch=1, after_batch=kill)
    with pytest.raises(Killed):
        job.run()
    # the store is half done: its ledger does not verify, and the command knows a run is open
    code, verified = intake.cli(capsys, "verify")
    assert code == 1 and verified["ledger"]["breaks"]
    assert job.unfinished() is not None
    # when the command runs again, it resumes that run
    code, report = intake.cli(capsys, "reencrypt", "--batch", "1")
    assert code == 0 and report["resumed"] is True, report
    with runtime.engine.connect() as conn:
        [run] = rechain.runs(conn)
    assert run.finished and run.events_rewritten == 4 and run.run_id == report["run_id"]
    # and the end is as sound as an uninterrupted run's
    assert intake.cli(capsys, "verify")[0] == 0
    assert [value for value in CLEAR if value in _dump(runtime)] == []
    for name in ("person", "case", "business", "unsent"):
        assert "subject_id" in runtime.store.load(ids[name])[0].data["counterpart"]


def test_a_re_encrypted_person_can_be_erased(intake: Intake, capsys: pytest.CaptureFixture[str]) -> None:
    # given a person recorded only before sealing: intake holds no key of theirs, so cannot erase them
    ids = _records_before_sealing(intake)
    intake.open(sealing=True)
    client = intake.client()
    admin, officer = _headers(intake.auth_keys, "admin"), _headers(intake.auth_keys, "officer")
    body = {"id_no": PERSON["id_no"], "legal_reason": "request", "approver": "supervisor-2"}
    assert client.post(ERASURES, json=body, headers=admin).status_code == 404
    # when the store is re-encrypted
    assert intake.cli(capsys, "reencrypt")[0] == 0
    # then the person can be erased, and every record of theirs reads as erased
    answer = client.post(ERASURES, json=body, headers=admin)
    assert answer.status_code == 201, answer.get_json()
    for path in (f"/v1/guidance/{ids['person']}", f"/v1/cases/{ids['case']}"):
        shown = client.get(path, headers=officer).get_json()["details"]["counterpart"]
        assert shown["name"] == ERASED_TEXT and shown["id_no"] == ERASED_TEXT
    assert intake.cli(capsys, "verify")[0] == 0


def test_a_person_erased_after_a_clear_record_stays_erased(intake: Intake, capsys: pytest.CaptureFixture[str]) -> None:
    # given a person recorded in clear, then again sealed, then erased (which could not reach the clear record)
    ids = _records_before_sealing(intake)
    runtime = intake.open(sealing=True)
    client = intake.client()
    admin, officer = _headers(intake.auth_keys, "admin"), _headers(intake.auth_keys, "officer")
    _created(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)
    body = {"id_no": PERSON["id_no"], "legal_reason": "request", "approver": "supervisor-2"}
    assert client.post(ERASURES, json=body, headers=admin).status_code == 201
    # when the store is re-encrypted
    code, report = intake.cli(capsys, "reencrypt")
    assert code == 0 and report["keys_destroyed"] == 1, report
    # then the clear records are sealed under a key that no longer exists: they read as erased, no key is live
    shown = client.get(f"/v1/guidance/{ids['person']}", headers=officer).get_json()["details"]["counterpart"]
    assert shown["name"] == ERASED_TEXT and shown["address"] == ERASED_TEXT
    subject = runtime.deps.personal.subject_id(PERSON)
    with runtime.engine.connect() as conn:
        live = conn.execute(
            select(func.count()).select_from(subject_keys).where(subject_keys.c.live_subject == subject)
        ).scalar_one()
    assert live == 0
    assert [value for value in CLEAR[:4] if value in _dump(runtime)] == []


def test_a_dry_run_changes_nothing_and_a_store_that_does_not_verify_is_refused(
    intake: Intake, capsys: pytest.CaptureFixture[str]
) -> None:
    _records_before_sealing(intake)
    runtime = intake.open(sealing=True)
    before = _state(runtime)
    code, dry = intake.cli(capsys, "reencrypt", "--dry-run")
    assert code == 0 and dry["events_sealed"] == 4
    assert _state(runtime) == before
    # given an event altered behind the store's back (its data and its plain hash rewritten, its link not)
    with runtime.engine.begin() as conn:
        row = conn.execute(
            select(events_table).where(events_table.c.event_type == GUIDANCE_ISSUED).order_by(events_table.c.position)
        ).first()
        assert row is not None
        data = json.loads(row.data)
        data["content"] = "改过的内容"  # a field the read model does not keep, so only the ledger can tell
        rechain.rewrite_stream(conn, row.stream_id, {row.version: data})
    # then re-encrypting refuses, rather than re-chain over what broke the ledger
    assert intake.cli(capsys, "reencrypt")[0] == 1
    with runtime.engine.connect() as conn:
        assert rechain.runs(conn) == []


def test_sealing_switched_off_is_a_configuration_error(intake: Intake, capsys: pytest.CaptureFixture[str]) -> None:
    intake.open(sealing=False)
    assert intake.cli(capsys, "reencrypt")[0] == 2


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _resident(n: int) -> dict[str, Any]:
    """The ``n``-th of some made-up adults, each with a valid resident ID number (GB 11643 check digit)."""
    body = f"410102{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    return {
        **PERSON,
        "name": f"杨{'一二三四五六七八九十'[n % 10]}{'甲乙丙丁戊己庚辛壬癸'[n // 10 % 10]}",
        "id_no": body + check,
        "address": f"某县城关镇解放路{100 + n}号",
        "contact": f"139{n:08d}",
    }


def _sealed_so_far(runtime: Runtime) -> int:
    with reading(runtime.engine) as conn:  # never queued behind the command's write lock
        return int(
            conn.execute(
                select(func.count()).select_from(events_table).where(events_table.c.data.like('%"subject_id"%'))
            ).scalar_one()
        )


def test_a_run_killed_by_sigkill_resumes_to_the_same_sound_end(
    intake: Intake, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command as an operator runs it, killed with SIGKILL (no exception, no clean-up) at several points of
    its work, then run to its end: what survives is exactly what an uninterrupted run leaves."""
    # given 40 persons' acts recorded in clear, all of them already sent
    runtime = intake.open(sealing=False)
    client, officer = intake.client(), _headers(intake.auth_keys, "officer")
    persons = [_resident(n) for n in range(40)]
    acts = [_created(client, "/v1/guidance", guidance_command(counterpart=p), officer)["guidance_id"] for p in persons]
    assert runtime.relay().drain() == len(acts)
    runtime = intake.open(sealing=True)
    client = intake.client()
    env = {**os.environ, **intake.env, "GUIDANCE_SEAL_PERSONAL_DATA": "true", "GUIDANCE_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "guidance_intake", "reencrypt", "--batch", "1", "--no-rebuild"]

    # when the command is killed with SIGKILL four times: after it has sealed a few events, a few more, more,
    # and while it re-links the ledger
    def sealed(at_least: int) -> Callable[[], bool]:
        return lambda: _sealed_so_far(runtime) >= at_least

    def relinking() -> bool:
        with reading(runtime.engine) as conn:
            run = conn.execute(select(rechain.rechains.c.relinked_to, rechain.rechains.c.finished_at)).first()
        return run is not None and run.relinked_to > 0 and run.finished_at is None

    kills = 0
    for due in (sealed(3), sealed(12), sealed(25), relinking):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while process.poll() is None and not due() and time.monotonic() < deadline:
            time.sleep(0.002)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
    assert kills == 4, "the command finished before it could be killed: make the batches smaller or the store bigger"
    # then what the killed runs committed holds no clear value: each batch refolded its streams' read model rows
    personal = ("name", "id_no", "address", "contact")
    dump = _dump(runtime)
    assert [n for n, p in enumerate(persons) if any(p[f] in dump for f in personal)] == []

    # and then runs to its end
    code, report = intake.cli(capsys, "reencrypt", "--batch", "1")
    assert code == 0 and report["resumed"] is True, report

    # then every act is sealed once, under its person's one key, and opens to what the officer sent
    assert _sealed_so_far(runtime) == len(acts)
    with runtime.engine.connect() as conn:
        [run] = rechain.runs(conn)
        assert conn.execute(select(func.count()).select_from(subject_keys)).scalar_one() == len(persons)
    assert run.finished and run.events_rewritten == len(acts)
    dump = _dump(runtime)
    assert [n for n, p in enumerate(persons) if any(p[f] in dump for f in personal)] == []
    for guidance_id, person in zip(acts, persons, strict=True):
        shown = client.get(f"/v1/guidance/{guidance_id}", headers=officer).get_json()["details"]["counterpart"]
        assert {k: shown[k] for k in person} == person
    # and nothing is published again, the chains and the ledger verify
    assert runtime.relay().drain() == 0
    assert intake.cli(capsys, "verify")[0] == 0
