"""Schema-driven fuzzing (schemathesis) of every operation in disclosure's /openapi.json, in process: never a 5xx.

Bounded and derandomised: positive and negative requests with a token of the examples' department holding
every working role, and positive requests without a token. Public endpoints answer without one; officer
endpoints must then answer 401. Path ids are drawn at random and from records the module created.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from tests.support.auth import AuthKeys

from guidance_disclosure.app import create_app
from guidance_disclosure.service import SPEC
from guidance_shared.envelope import Envelope
from guidance_shared.events.examples import DEPARTMENT_ID, example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

FUZZ = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
RUNS = {
    "positive with token": (GenerationMode.POSITIVE, True, 25),
    "negative with token": (GenerationMode.NEGATIVE, True, 25),
    "positive without token": (GenerationMode.POSITIVE, False, 10),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, AuthKeys, dict[str, list[str]]]]:
    tmp: Path = tmp_path_factory.mktemp("disclosure-fuzz")
    keys = AuthKeys.create(tmp / "auth")
    transport = EmbeddedTransport(str(tmp / "log.sqlite"))
    transport.create_topics(["intake.events", "revisit.events", "disclosure.dlq"], 3)
    runtime = Runtime(SPEC, Settings.from_env("disclosure", {"GUIDANCE_VAR_DIR": str(tmp)}), transport=transport)
    guidance_id = str(uuid.uuid4())
    data = example("guidance.GuidanceIssued.v1") | {"guidance_id": guidance_id}
    envelope = Envelope(
        type="guidance.GuidanceIssued.v1", source="/guidance/intake", subject=guidance_id, data=data, sequence=1
    )
    transport.producer().publish([envelope.to_record("intake.events")])
    runtime.runner().drain()
    known = {"guidance_id": [guidance_id], "department_id": [DEPARTMENT_ID]}
    flask_app = create_app(runtime, testing=True, auth=keys.settings(), public_rate_limit=0)
    yield flask_app, keys, known
    runtime.close()


def strategy_for(operation: Any, mode: GenerationMode, known: dict[str, list[str]]) -> Any:
    strategy = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters]
    if not names or any(name not in known for name in names):
        return strategy
    ids = st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names})
    return st.one_of(strategy, ids.flatmap(lambda p: operation.as_strategy(generation_mode=mode, path_parameters=p)))


@pytest.mark.parametrize("run", RUNS)
def test_no_generated_request_causes_a_server_error(app, run: str) -> None:
    flask_app, keys, known = app
    mode, with_token, examples = RUNS[run]
    schema = schemathesis.openapi.from_wsgi("/openapi.json", flask_app)
    headers = (
        keys.headers("fuzz", DEPARTMENT_ID, ["officer", "reviewer", "supervisor", "auditor"]) if with_token else {}
    )
    statuses: Counter[int] = Counter()
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(FUZZ, max_examples=examples)
        @given(case=strategy_for(operation, mode, known))
        def call(case: Any) -> None:
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            statuses[response.status_code] += 1

        try:
            call()
        except Exception as exc:  # one operation's failure must not hide another's
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert statuses and not any(status >= 500 for status in statuses)
    assert any(200 <= status < 300 for status in statuses), statuses  # public endpoints answer without a token
