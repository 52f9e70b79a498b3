"""Schema-driven fuzzing (schemathesis) of every operation in assessment's /openapi.json, in process: never a 5xx.

Bounded and derandomised: positive and negative requests with a token holding every role, and positive
requests without a token (all must be 401). The scripted year is loaded and the 2025 period opened, so
generated requests reach live standings, explanations and commands; path years are drawn from 2025 and
at random, department ids from the script's departments and at random.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from schemathesis import GenerationMode
from tests.support.assessment_year import ECOLOGY, HOUSING, MARKET, feed
from tests.support.auth import AuthKeys
from tests.support.fuzz import RUNS, fuzz_every_operation
from tests.support.schema import migrated_runtime

from guidance_assessment.bootstrap import SPEC, create_app
from guidance_assessment.domain.commands import OpenPeriod
from guidance_assessment.handlers.periods import open_period
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, AuthKeys, dict[str, list[Any]]]]:
    tmp: Path = tmp_path_factory.mktemp("assessment-fuzz")
    keys = AuthKeys.create(tmp / "auth")
    settings = Settings.from_env("assessment", {"GUIDANCE_VAR_DIR": str(tmp)})
    runtime = migrated_runtime(SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    runtime.provision()
    feed(runtime)
    runtime.deps = replace(runtime.deps, now=lambda: datetime(2026, 1, 20, 2, 0, tzinfo=UTC))
    with runtime.engine.begin() as conn:
        open_period(runtime.deps, conn, OpenPeriod(2025))
    known = {"year": [2025], "department_id": [MARKET, HOUSING, ECOLOGY]}
    yield create_app(runtime, testing=True, auth=keys.settings()), keys, known
    runtime.close()


@pytest.mark.parametrize("run", RUNS)
def test_no_generated_request_causes_a_server_error(app: Any, run: str) -> None:
    flask_app, keys, known = app
    mode, with_token, examples = RUNS[run]
    roles = ["officer", "reviewer", "supervisor", "auditor", "admin"]
    headers = keys.headers("fuzz", MARKET, roles) if with_token else {}
    statuses = fuzz_every_operation(flask_app, headers, mode, examples, known)
    if not with_token:
        assert {s for s in statuses if s < 500} <= {401, 404}, statuses
    elif mode is GenerationMode.POSITIVE:
        assert any(200 <= status < 300 for status in statuses), statuses
