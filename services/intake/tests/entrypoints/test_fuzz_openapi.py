"""Schema-driven fuzzing (schemathesis) of every operation in intake's /openapi.json, in process: never a 5xx.

Each run is a bounded, derandomised Hypothesis search per operation (the same cases every time):

- positive (bodies that fit the schema) with a token of 某县市场监督管理局 holding officer, reviewer and supervisor,
  so the requests get past authentication and role checks; half of the bodies name the token's department;
- negative (bodies, paths and headers that break the schema), with the same token;
- positive without a token: every answer must be 401;
- generated fields in valid requests: a valid command on a fresh record of the right state, with one or two of its
  fields replaced by generated ones (positive, then negative), so odd values reach the handlers and the domain
  rather than stopping at the first check a random body fails.

Operations on one record get, besides random ids, the ids of records the module made, so the fuzzer reaches the
command handlers and not only the 404 of an unknown id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from tests.support.fuzz import CHECKS

from guidance_shared.events.examples import ENTERPRISE

MARKET = "3898b87c-d9e4-5a37-8351-e465fdfcaae6"  # 某县市场监督管理局, the examples' department
MAX_EXAMPLES = 25  # per operation and run
SPLICED_EXAMPLES = 15  # per operation, for the runs that also make a fresh record per example

FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,  # the same cases on every run: a failure is reproducible, a pass is stable
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)

RUNS = {  # (generation mode, with a token, examples per operation)
    "positive with token": (GenerationMode.POSITIVE, True, MAX_EXAMPLES),
    "negative with token": (GenerationMode.NEGATIVE, True, MAX_EXAMPLES),
    "positive without token": (GenerationMode.POSITIVE, False, 10),  # all alike: 401 before anything else
}
AT = "2025-03-06T09:15:00+08:00"
FIRST_VIOLATION_FREE = {  # the exemption-list entry SJ-SW-001 covers it: decisions run the list's rules
    "code": "DJ-036-01",
    "category": "市场主体登记",
    "description": "未公示执照",
    "occurred_on": None,
}

# A valid request per operation that takes a body: (the record it acts on, its body).
VALID_REQUESTS: dict[str, tuple[str | None, Callable[[Any], dict[str, Any]]]] = {
    "POST /v1/guidance": (None, lambda api: api.guidance_body()),
    "POST /v1/guidance/{guidance_id}/response": (
        "guidance",
        lambda api: {"response": "accepted", "statement": "已知悉", "responded_at": AT},
    ),
    "POST /v1/guidance/{guidance_id}/correction-verification": (
        "guidance",
        lambda api: {**api.verification_body(), "revisit_id": None},
    ),
    "POST /v1/guidance/{guidance_id}/suspension": ("guidance", lambda api: {"reason": "异议复核", "at": AT}),
    "POST /v1/guidance/{guidance_id}/withdrawal": ("guidance", lambda api: {"reason": "撤回", "at": AT}),
    "POST /v1/cases": (None, lambda api: api.case_body(violation=FIRST_VIOLATION_FREE)),
    "POST /v1/cases/{case_id}/legal-review": ("open_case", lambda api: api.review_body()),
    "POST /v1/cases/{case_id}/decision": (
        "open_case",
        lambda api: api.decision_body(
            circumstances={"minor": True, "harmful_consequence": False, "corrected_on": None}
        ),
    ),
    "POST /v1/cases/{case_id}/revocation": ("decided_case", lambda api: {"reason": "复议撤销", "at": AT}),
    "POST /v1/cases/{case_id}/closure": ("decided_case", lambda api: {"outcome": "executed", "closed_at": AT}),
    "POST /v1/counterparts/history": (None, lambda api: {"uscc": ENTERPRISE["uscc"], "id_type": None, "id_no": None}),
}


@pytest.fixture(scope="module")
def schema(module_api) -> Any:
    return schemathesis.openapi.from_wsgi("/openapi.json", module_api.client.application)


@pytest.fixture(scope="module")
def known_ids(module_api) -> dict[str, list[str]]:
    """Records the fuzzer may act on: a guidance act, an open and a decided case, a closed major case."""
    decided = module_api.open_case()["case_id"]
    module_api.command(f"/v1/cases/{decided}/decision", module_api.decision_body())
    return {
        "guidance_id": [module_api.issue()["guidance_id"], module_api.issue("development_advice")["guidance_id"]],
        "case_id": [module_api.open_case(major=True)["case_id"], decided, module_api.closed_major_case()["case_id"]],
    }


def test_every_operation_of_the_openapi_document_loads(schema) -> None:
    results = list(schema.get_all_operations())
    assert not [str(result.err()) for result in results if isinstance(result, Err)]
    labels = {result.ok().label for result in results}
    assert {"POST /v1/guidance", "POST /v1/cases/{case_id}/decision", "POST /v1/counterparts/history"} <= labels


def case_strategy(operation: Any, mode: GenerationMode, known_ids: dict[str, list[str]]) -> Any:
    """Random cases, and cases whose path names a record that exists."""
    strategy = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters]
    if not names or any(name not in known_ids for name in names):
        return strategy
    known = st.fixed_dictionaries({name: st.sampled_from(known_ids[name]) for name in names})
    return st.one_of(
        strategy, known.flatmap(lambda ids: operation.as_strategy(generation_mode=mode, path_parameters=ids))
    )


def fuzz(operation: Any, strategy: Any, headers: dict[str, str], statuses: Counter[int], examples: int) -> None:
    @settings(FUZZ, max_examples=examples)
    @given(case=strategy, own_department=st.booleans())
    def run(case: Any, own_department: bool) -> None:
        if own_department and isinstance(case.body, dict) and "department_id" in case.body:
            case.body["department_id"] = MARKET
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        statuses[response.status_code] += 1

    run()


@pytest.mark.parametrize("run", RUNS)
def test_no_generated_request_causes_a_server_error(module_api, schema, known_ids, run: str) -> None:
    mode, with_token, examples = RUNS[run]
    headers = module_api.headers("officer", "reviewer", "supervisor") if with_token else {}
    statuses: Counter[int] = Counter()
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            fuzz(operation, case_strategy(operation, mode, known_ids), headers, statuses, examples)
        except Exception as exc:  # one operation's failure must not hide another's
            failures.append(f"{operation.label}: {exc}")

    assert not failures, "\n\n".join(failures)
    assert not any(status >= 500 for status in statuses)
    if not with_token:
        assert set(statuses) == {401}, statuses
    elif mode is GenerationMode.POSITIVE:
        assert any(200 <= status < 300 for status in statuses), f"the fuzzer never got past the checks: {statuses}"


def fuzz_in_valid_request(
    api: Any, operation: Any, mode: GenerationMode, request: tuple[str | None, Any], statuses: Counter[int]
) -> None:
    record, valid_body = request
    headers = api.headers("officer", "reviewer", "supervisor")

    @settings(FUZZ, max_examples=SPLICED_EXAMPLES)
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case: Any, data: Any) -> None:
        body = valid_body(api)
        if isinstance(case.body, dict) and case.body:
            chosen = data.draw(st.sets(st.sampled_from(sorted(case.body)), min_size=1, max_size=2))
            body.update({name: case.body[name] for name in chosen})
        case.body = body
        case.path_parameters = api.record(record)
        case.headers = {}
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        statuses[response.status_code] += 1

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_generated_fields_in_valid_requests_cause_no_server_error(module_api, schema, mode) -> None:
    operations = {result.ok().label: result.ok() for result in schema.get_all_operations()}
    assert set(VALID_REQUESTS) <= set(operations)
    statuses: Counter[int] = Counter()
    failures = []
    for label, request in VALID_REQUESTS.items():
        try:
            fuzz_in_valid_request(module_api, operations[label], mode, request, statuses)
        except Exception as exc:  # one operation's failure must not hide another's
            failures.append(f"{label}: {exc}")

    assert not failures, "\n\n".join(failures)
    assert any(200 <= status < 300 for status in statuses), statuses
