"""Rotating the scrub key is a rebuild: replayed from intake's events, ``case_person_names`` holds the marks
under the new key, and the public rows are the same (docs/operations.md, "disclosure's scrub key")."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from tests.support.events import record
from tests.support.schema import migrated_runtime

from guidance_disclosure.adapters.projection import case_person_names, public_cases
from guidance_disclosure.bootstrap import SPEC
from guidance_shared.events.examples import PERSON, example
from guidance_shared.privacy import mark
from guidance_shared.rebuild import ShadowRebuild
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings

OPENED = "guidance.CaseOpened.v1"
DECIDED = "guidance.CaseDecided.v1"
OLD, NEW = "the scrub key before the rotation, 32+", "the scrub key after the rotation, 32+ ch"


def mac(key: str, value: str) -> str:
    marked = mark(key.encode(), value)
    assert marked is not None
    return marked.mac


def rows(runtime: Runtime, table: Any) -> list[tuple[Any, ...]]:
    with runtime.engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(select(table)))


def test_a_rebuild_under_a_new_key_remakes_the_marks_and_keeps_the_public_rows(tmp_path: Path) -> None:
    env = {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_SCRUB_KEY": OLD}
    runtime = migrated_runtime(SPEC, Settings.from_env("disclosure", env))
    runtime.provision()
    case_id = str(uuid.uuid4())
    opened = example(OPENED) | {"case_id": case_id, "counterpart": PERSON}
    decided = example(DECIDED) | {"case_id": case_id, "summary": f"当事人{PERSON['name']}住{PERSON['address']}。"}
    runtime.transport.producer().publish([record(OPENED, case_id, opened, 1), record(DECIDED, case_id, decided, 2)])
    assert runtime.runner().drain() >= 2
    public = rows(runtime, public_cases)
    assert PERSON["address"] not in str(public) and PERSON["name"] not in str(public)
    ((_, names, secrets, _),) = rows(runtime, case_person_names)
    assert mac(OLD, PERSON["name"]) in names
    runtime.close()

    rotated = Runtime(SPEC, Settings.from_env("disclosure", env | {"GUIDANCE_SCRUB_KEY": NEW}))
    try:
        ShadowRebuild(rotated).run(timeout_s=120)
        ((_, names, secrets, _),) = rows(rotated, case_person_names)
        assert mac(NEW, PERSON["name"]) in names
        assert mac(NEW, PERSON["address"]) in secrets
        assert mac(OLD, PERSON["name"]) not in names
        assert rows(rotated, public_cases) == public
    finally:
        rotated.close()
