"""Schema-driven fuzzing (schemathesis) of every operation in revisit's /openapi.json, in process: never a 5xx.

Bounded and derandomised (the same cases on every run): positive and negative requests with a token of the
examples' department holding every working role, and positive requests without a token (all must be 401).
Path ids are drawn at random and from revisits the module scheduled, so commands reach the handlers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from schemathesis import GenerationMode
from sqlalchemy import select
from tests.support.auth import AuthKeys
from tests.support.fuzz import RUNS, fuzz_every_operation
from tests.support.schema import migrated_runtime

from guidance_revisit.adapters.read_model import revisits
from guidance_revisit.bootstrap import SPEC, create_app
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import DEPARTMENT_ID, example
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, AuthKeys, dict[str, list[str]]]]:
    tmp: Path = tmp_path_factory.mktemp("revisit-fuzz")
    keys = AuthKeys.create(tmp / "auth")
    transport = EmbeddedTransport(str(tmp / "log.sqlite"))
    transport.create_topics(["intake.events", "revisit.events", "revisit.dlq"], 3)
    runtime = migrated_runtime(SPEC, Settings.from_env("revisit", {"GUIDANCE_VAR_DIR": str(tmp)}), transport=transport)
    for _ in range(2):
        case_id = str(uuid.uuid4())
        for seq, (name, changes) in enumerate([("CaseOpened", {}), ("CaseClosed", {"major": True})], start=1):
            data = example(f"guidance.{name}.v1") | {"case_id": case_id, **changes}
            envelope = Envelope(
                type=f"guidance.{name}.v1", source="/guidance/intake", subject=case_id, data=data, sequence=seq
            )
            transport.producer().publish([envelope.to_record("intake.events")])
    runtime.runner().drain()
    with runtime.engine.connect() as conn:
        ids = [row[0] for row in conn.execute(select(revisits.c.revisit_id))]
    known = {
        "revisit_id": ids,
        "department_id": [DEPARTMENT_ID],
        "guidance_id": [str(uuid.uuid4())],
        "officer_id": [example("guidance.CaseOpened.v1")["officers"][0]["officer_id"]],
    }
    flask_app = create_app(runtime, testing=True, auth=keys.settings())
    yield flask_app, keys, known
    runtime.close()


@pytest.mark.parametrize("run", RUNS)
def test_no_generated_request_causes_a_server_error(app, run: str) -> None:
    flask_app, keys, known = app
    mode, with_token, examples = RUNS[run]
    roles = ["officer", "reviewer", "supervisor", "auditor"]
    headers = keys.headers("fuzz", DEPARTMENT_ID, roles) if with_token else {}
    statuses = fuzz_every_operation(flask_app, headers, mode, examples, known)
    if not with_token:
        assert {s for s in statuses if s < 500} <= {401, 404}, statuses  # feeds check the token before anything
    elif mode is GenerationMode.POSITIVE:
        assert any(200 <= status < 300 for status in statuses), statuses
