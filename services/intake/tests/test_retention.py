"""The retention schedule of persons' data (docs/personal-data.md, "Erasure"): the worker's pass erases the
persons whose every act and case is past its retention, with reason retention_ended and the schedule as
approver, on a date it is given (no clock, no sleeping); SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from tests.support.projections import assert_read_models_refold
from tests.support.schema import migrated_runtime
from tests.support.services import case_command, guidance_command

from guidance_intake.bootstrap import SPEC
from guidance_intake.domain.erasure import RetentionSchedule
from guidance_intake.entrypoints.worker import retention_pass, retention_schedule
from guidance_shared.catalogue import PERSONAL_DATA_ERASED
from guidance_shared.dates import CHINA_TZ
from guidance_shared.db import make_engine
from guidance_shared.events.examples import INDIVIDUAL_BUSINESS, PERSON
from guidance_shared.personal_data.errors import ERASED_TEXT
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

OTHER = {
    **PERSON,
    "name": "李娜",
    "id_no": "11010519491231002X",
    "address": "某县城关镇人民路1号",
    "contact": "13700137000",
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    env = {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_SEAL_PERSONAL_DATA": "true"}
    engine = (
        {"engine": make_engine(request.getfixturevalue("postgres_db_url"))} if request.param == "postgresql" else {}
    )
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    runtime = migrated_runtime(SPEC, Settings.from_env("intake", env), transport=transport, **engine)
    runtime.provision()
    yield runtime
    assert_read_models_refold(runtime, allow_empty=True)
    runtime.engine.dispose()
    transport.close()


def _post(client: FlaskClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    created: dict[str, Any] = answer.get_json()
    return created


def _erasures(runtime: Runtime) -> list[dict[str, Any]]:
    assert runtime.store is not None
    return [dict(e.data) for e in runtime.store.read_all() if e.type == PERSONAL_DATA_ERASED]


def test_a_person_is_erased_once_every_record_of_theirs_is_past_its_retention(
    runtime: Runtime, client: FlaskClient, officer: dict[str, str]
) -> None:
    # given a person with one warning of 2025 (kept ten years), and another with a warning and an open case
    act = _post(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)
    _post(client, "/v1/guidance", guidance_command(counterpart=OTHER), officer)
    _post(client, "/v1/cases", case_command(counterpart=OTHER), officer)
    # when the schedule runs on the last day of the retention, nothing is erased
    assert retention_pass(runtime, date(2035, 12, 31)) == 0
    assert _erasures(runtime) == []
    # when it runs on the first day after it (1 January of 2025 + 1 + 10)
    assert retention_pass(runtime, date(2036, 1, 1)) == 1
    # then the first person alone is erased, by the schedule, for the end of retention
    [erased] = _erasures(runtime)
    assert erased["subject_id"] == runtime.deps.personal.subject_id(PERSON)
    assert (erased["legal_reason"], erased["approved_by"], erased["subject_kind"]) == (
        "retention_ended",
        "system:retention",
        "person",
    )
    shown = client.get(f"/v1/guidance/{act['guidance_id']}", headers=officer).get_json()["details"]
    assert shown["counterpart"]["name"] == ERASED_TEXT
    # and an open case keeps the other person's data however late it is; a second pass does nothing more
    assert retention_pass(runtime, date(2100, 1, 1)) == 0
    assert len(_erasures(runtime)) == 1
    assert runtime.store is not None and runtime.store.verify().ok


def test_the_schedule_is_configurable_per_record_kind_and_the_worker_task_applies_it(
    runtime: Runtime, client: FlaskClient, officer: dict[str, str]
) -> None:
    # given an individual business known by its credit code, warned in 2025, and a schedule keeping warnings 30 years
    _post(client, "/v1/guidance", guidance_command(counterpart=INDIVIDUAL_BUSINESS), officer)
    runtime.deps = dataclasses.replace(runtime.deps, retention=RetentionSchedule({"minor_issue_warning": "D30"}))
    assert retention_pass(runtime, date(2036, 1, 1)) == 0
    # when the worker's task runs once (its stop already set) on a clock reading 2056
    runtime.deps = dataclasses.replace(runtime.deps, now=lambda: datetime(2056, 1, 1, 9, tzinfo=CHINA_TZ))
    stop = threading.Event()
    stop.set()
    retention_schedule(runtime, stop)
    # then the business is erased, named as such
    [erased] = _erasures(runtime)
    assert erased["subject_kind"] == "individual_business" and erased["legal_reason"] == "retention_ended"


def test_a_permanent_record_keeps_its_person(runtime: Runtime, client: FlaskClient, officer: dict[str, str]) -> None:
    _post(client, "/v1/guidance", guidance_command(counterpart=PERSON), officer)
    runtime.deps = dataclasses.replace(runtime.deps, retention=RetentionSchedule({"minor_issue_warning": "Y"}))
    assert retention_pass(runtime, date(2999, 1, 1)) == 0
