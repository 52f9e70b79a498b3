"""Schema-driven fuzzing of a service's OpenAPI in process, shared by the services' fuzz tests."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from hypothesis.stateful import Bundle
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.stateful.state_machine import StepInput
from schemathesis.specs.openapi.stateful import transition

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


#: The stateful runs: short scenarios of linked calls (create → read → change), the same ones on every run.
STATEFUL = settings(
    max_examples=12,
    stateful_step_count=6,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def run_stateful(
    fresh_app: Callable[[], Any], headers: dict[str, str], *, examples: int = 12
) -> Counter[tuple[str, int]]:
    """schemathesis' state machine over the document's links, authenticated, every answer checked against the
    document (``CHECKS``); returns how often each operation answered each status.

    Every scenario runs against a service of its own (``fresh_app()``: a new, empty database). hypothesis
    replays scenarios and asserts that the same choices lead to the same draws; which rules are enabled
    depends on the records a scenario made, so records left behind by an earlier scenario (a period of the
    same year answering 409 instead of 201) made the run fail as "flaky" on some orders of the examples.

    Besides schemathesis' own starts (generated requests), a scenario may start from a create sent with its
    documented example, one field of it generated: a generated body rarely gets past the domain's rules, and
    links lead somewhere only from a record that was made. What follows the links is generated."""
    service = _Swappable(fresh_app)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", service)
    document = service.current.test_client().get("/openapi.json").get_json()
    creates = {
        path: item["post"]["requestBody"]["content"]["application/json"]["example"]
        for path, item in document["paths"].items()
        if "{" not in path and "201" in item.get("post", {}).get("responses", {}) and "requestBody" in item["post"]
    }
    answers: Counter[tuple[str, int]] = Counter()
    machine = schema.as_state_machine()
    # schemathesis builds its rules with this helper; a start of our own is one more rule of the same kind.
    starts = {
        f"EXAMPLE_{path.replace('/', '_')}": transition(
            name=f"EXAMPLE_{path.replace('/', '_')}",
            target=Bundle("catch_all"),
            input=_example_start(schema[path]["POST"], body),
            precondition=lambda _machine: True,
        )
        for path, body in creates.items()
    }

    class Scenario(machine):  # type: ignore[misc, valid-type]
        root_rules = machine.root_rules | frozenset(starts)

        def setup(self) -> None:
            service.renew()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            answers[(case.operation.label, response.status_code)] += 1

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    for name, start in starts.items():
        setattr(Scenario, name, start)
    Scenario.run(settings=settings(STATEFUL, max_examples=examples))
    return answers


class _Swappable:
    """A WSGI application that passes each request to the current one of a series of fresh services."""

    def __init__(self, fresh: Callable[[], Any]) -> None:
        self._fresh = fresh
        self.current = fresh()

    def renew(self) -> None:
        self.current = self._fresh()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.current(environ, start_response)


def _example_start(operation: Any, example: dict[str, Any]) -> Any:
    """A create's documented example with at most one field replaced by a generated one (a period's year, a
    case's number: what makes a second record rather than a refused copy of the first)."""

    def splice(case: Any, data: Any) -> StepInput:
        body = copy.deepcopy(example)
        if isinstance(case.body, dict) and case.body:
            chosen = data.draw(st.sets(st.sampled_from(sorted(case.body)), max_size=1))
            body.update({name: case.body[name] for name in chosen})
        return StepInput.initial(operation.Case(body=body, media_type="application/json"))

    return st.builds(splice, operation.as_strategy(), st.data())
