"""Schema-driven fuzzing of a service's OpenAPI in process, shared by the services' fuzz tests."""

from __future__ import annotations

from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

#: what every answer must be: no 5xx; a documented status; the documented media type and headers; a body its
#: schema accepts — the OpenAPI is the contract, so a schema-driven client is never surprised
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

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


def strategy_for(operation: Any, mode: GenerationMode, known: dict[str, list[str]]) -> Any:
    """Random cases, and cases whose path names records that exist (so commands reach the handlers)."""
    strategy = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters]
    if not names or any(name not in known for name in names):
        return strategy
    ids = st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names})
    return st.one_of(strategy, ids.flatmap(lambda p: operation.as_strategy(generation_mode=mode, path_parameters=p)))


def fuzz_every_operation(
    flask_app: Any, headers: dict[str, str], mode: GenerationMode, examples: int, known: dict[str, list[str]]
) -> Counter[int]:
    """Every operation of /openapi.json, bounded and derandomised; fails listing each operation that gave a 5xx."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", flask_app)
    statuses: Counter[int] = Counter()
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(FUZZ, max_examples=examples)
        @given(case=strategy_for(operation, mode, known))
        def call(case: Any) -> None:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            statuses[response.status_code] += 1

        try:
            call()
        except Unsatisfiable:
            # Negative mode on an operation that takes no input at all: there is nothing to make invalid.
            if mode is not GenerationMode.NEGATIVE or _takes_input(operation):
                failures.append(f"{operation.label}: no case could be generated")
        except Exception as exc:  # one operation's failure must not hide another's
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert statuses and not any(status >= 500 for status in statuses)
    return statuses


def _takes_input(operation: Any) -> bool:
    return bool(list(operation.iter_parameters()) or operation.body)
