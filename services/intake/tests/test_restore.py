"""intake recovered after a restore from its own topic, on SQLite and the embedded log (the drill on PostgreSQL and
Kafka is tests/guarantees/test_restore_drill.py): a copy of the database file stands in for a dump."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime
from tests.support.services import guidance_command

from guidance_intake.adapters.personal_fields import local_keys
from guidance_intake.adapters.subject_keys import SqlSubjectKeys
from guidance_intake.bootstrap import SPEC as INTAKE
from guidance_intake.bootstrap import create_app
from guidance_shared.events.examples import DEPARTMENT_ID, PERSON
from guidance_shared.personal_data.errors import ERASED_TEXT
from guidance_shared.restore import RestoreConflict, check, recover
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings


class Intake:
    def __init__(self, tmp_path: Path, auth: AuthKeys) -> None:
        self.env = {**auth.env(), "GUIDANCE_VAR_DIR": str(tmp_path)}
        self.database = tmp_path / "intake.sqlite"
        self.auth = auth
        self.runtime: Runtime[Any] | None = None

    def start(self) -> Runtime[Any]:
        self.runtime = migrated_runtime(INTAKE, Settings.from_env("intake", self.env))
        self.client = create_app(self.runtime, testing=True, auth=self.auth.settings()).test_client()
        return self.runtime

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None

    def issue(self) -> tuple[str, str]:
        headers = self.auth.headers("officer-1", DEPARTMENT_ID, ["officer"])
        created = self.client.post("/v1/guidance", json=guidance_command(), headers=headers)
        assert created.status_code == 201, created.get_json()
        return created.get_json()["guidance_id"], created.get_json()["details"]["doc_no"]

    def back_up(self, to: Path) -> None:
        self.stop()
        shutil.copy(self.database, to)
        self.start()

    def restore(self, backup: Path) -> Runtime[Any]:
        self.stop()
        for leftover in self.database.parent.glob("intake.sqlite-*"):
            leftover.unlink()  # the write-ahead log belongs to the database being replaced
        shutil.copy(backup, self.database)
        return self.start()


@pytest.fixture
def intake(tmp_path: Path, auth_keys: AuthKeys) -> Any:
    service = Intake(tmp_path, auth_keys)
    service.start().provision()
    yield service
    service.stop()


def test_recovery_appends_what_the_topic_has_once_and_numbering_continues(intake: Intake, tmp_path: Path) -> None:
    first = intake.issue()
    assert intake.runtime is not None
    intake.runtime.relay().drain()
    intake.back_up(tmp_path / "backup.sqlite")
    published = [intake.issue(), intake.issue()]
    intake.runtime.relay().drain()

    runtime = intake.restore(tmp_path / "backup.sqlite")
    behind = check(runtime)
    assert (behind["ok"], behind["missing"], behind["store_events"]) == (False, 2, 1)
    recovered = recover(runtime)
    assert recovered["ok"] is True and recovered["recovered"] == 2
    assert recovered["read_models"]["guidance_records"] == 3
    assert check(runtime)["ok"] is True
    again = recover(runtime)  # safe to run again: nothing more to append
    assert (again["missing"], again["recovered"]) == (0, 0)
    assert runtime.store is not None and runtime.store.verify().ok
    assert runtime.relay().drain() == 0  # the recovery publishes nothing again

    _, fresh = intake.issue()
    assert fresh not in {first[1], *(doc_no for _, doc_no in published)}
    for guidance_id, doc_no in [first, *published]:
        read = intake.client.get(
            f"/v1/guidance/{guidance_id}", headers=intake.auth.headers("officer-1", DEPARTMENT_ID, ["officer"])
        )
        assert read.status_code == 200 and read.get_json()["details"]["doc_no"] == doc_no


def test_a_restored_store_that_took_a_published_version_again_is_not_recovered(intake: Intake, tmp_path: Path) -> None:
    guidance_id, _ = intake.issue()
    assert intake.runtime is not None
    intake.runtime.relay().drain()
    intake.back_up(tmp_path / "backup.sqlite")
    headers = intake.auth.headers("officer-1", DEPARTMENT_ID, ["officer"])
    response = {"response": "declined", "statement": "不同意"}
    assert intake.client.post(f"/v1/guidance/{guidance_id}/response", json=response, headers=headers).status_code == 200
    intake.runtime.relay().drain()

    runtime = intake.restore(tmp_path / "backup.sqlite")
    accepted = {"response": "accepted"}
    assert intake.client.post(f"/v1/guidance/{guidance_id}/response", json=accepted, headers=headers).status_code == 200
    assert check(runtime)["conflicts"] == [f"{guidance_id}@2"]
    with pytest.raises(RestoreConflict, match=f"{guidance_id}@2"):
        recover(runtime)
    assert runtime.store is not None and len(runtime.store.load(guidance_id)) == 2  # nothing appended


def test_a_restore_from_before_an_erasure_erases_the_person_again(tmp_path: Path, auth_keys: AuthKeys) -> None:
    # given an intake that seals persons' fields, and an act about a person published and backed up
    service = Intake(tmp_path, auth_keys)
    service.env["GUIDANCE_SEAL_PERSONAL_DATA"] = "true"
    runtime = service.start()
    runtime.provision()
    try:
        officer = auth_keys.headers("officer-1", DEPARTMENT_ID, ["officer"])
        act = service.client.post("/v1/guidance", json=guidance_command(counterpart=PERSON), headers=officer)
        assert act.status_code == 201, act.get_json()
        runtime.relay().drain()
        service.back_up(tmp_path / "backup.sqlite")
        # and the person erased after the backup, the erasure published
        admin = auth_keys.headers("admin-1", DEPARTMENT_ID, ["admin"])
        body = {"id_no": PERSON["id_no"], "legal_reason": "request", "approver": "supervisor-2"}
        assert service.client.post("/v1/personal-data/erasures", json=body, headers=admin).status_code == 201
        assert service.runtime is not None and service.runtime.relay().drain() == 1
        # when the database is restored from the backup, which still holds the person's key
        runtime = service.restore(tmp_path / "backup.sqlite")
        keys = SqlSubjectKeys(runtime.engine, local_keys(tmp_path)[0])
        assert not any(record.erased for record in keys.records())
        recovered = recover(runtime)
        # then the recovery appends the erasure and deletes the key again, before anything reads it
        assert recovered["recovered"] == 1 and recovered["service"]["keys_erased_again"] == 1
        assert all(record.erased for record in keys.records())
        guidance_id = act.get_json()["guidance_id"]
        shown = service.client.get(f"/v1/guidance/{guidance_id}", headers=officer).get_json()["details"]
        assert shown["counterpart"]["name"] == ERASED_TEXT
        assert runtime.store is not None and runtime.store.verify().ok
        assert recover(runtime)["recovered"] == 0  # again: nothing more
    finally:
        service.stop()
