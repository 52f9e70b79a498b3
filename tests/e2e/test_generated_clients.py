"""A client generated from each service's OpenAPI drives one happy path of that service.

An integrator's first step is to feed ``/openapi.json`` to a generator; this test does the same with
``openapi-python-client`` (pinned in requirements/dev.txt) and calls the four services only through the
generated code: its models build the request bodies, its functions send them, and its response parsers read
the answers. A spec that disagrees with the server fails here — a required field the server omits, a status
the spec does not list (the generated function then returns ``None``), a header it does not name.

The services run in this process on one embedded log (as in the in-process slice); the generated client
reaches each Flask app through httpx's WSGI transport, so the HTTP layer is the real one.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from guidance_shared.dates import china_today
from guidance_shared.events.examples import DEPARTMENT_ID, OFFICER_WANG, PERSON
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime
from tests.support.services import close_a_penalty_case, guidance_command

SERVICES = ("intake", "revisit", "disclosure", "assessment")
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Runtime, Any]]]:
    tmp = tmp_path_factory.mktemp("generated")
    keys = AuthKeys.create(tmp / "auth")
    transport = EmbeddedTransport(str(tmp / "log.sqlite"))
    env = {"GUIDANCE_VAR_DIR": str(tmp)}
    apps: dict[str, tuple[Runtime, Any]] = {}
    for service in SERVICES:
        bootstrap = importlib.import_module(f"guidance_{service}.bootstrap")
        runtime = migrated_runtime(bootstrap.SPEC, Settings.from_env(service, env), transport=transport)
        runtime.provision()
        apps[service] = (runtime, bootstrap.create_app(runtime, testing=True, auth=keys.settings()))
    apps["keys"] = (apps["intake"][0], keys)
    yield apps
    for service in SERVICES:
        apps[service][0].close()
    transport.close()


def generate(service: str, app: Any, into: Path) -> ModuleType:
    """The client openapi-python-client writes for the app's OpenAPI document, imported as a package."""
    spec = into / f"{service}.json"
    spec.write_text(json.dumps(app.test_client().get("/openapi.json").get_json()), encoding="utf-8")
    package = f"generated_{service}_client"
    config = into / f"{service}-config.json"
    config.write_text(json.dumps({"package_name_override": package}), encoding="utf-8")
    result = subprocess.run(
        [
            *(str(GENERATOR), "generate", "--path", str(spec), "--config", str(config)),
            *("--meta", "none", "--output-path", str(into / package)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The only warnings allowed are for bodies that are not JSON (the sheet import), which it cannot model.
    warnings = [line for line in result.stdout.splitlines() if line.startswith("WARNING")]
    assert all("/import" in line for line in warnings), result.stdout
    sys.path.insert(0, str(into))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(into))


def client(package: ModuleType, app: Any, headers: dict[str, str]) -> Any:
    token = headers["Authorization"].removeprefix("Bearer ")
    return package.AuthenticatedClient(
        base_url="http://generated.test",
        token=token,
        raise_on_unexpected_status=True,
        httpx_args={"transport": httpx.WSGITransport(app=app)},
    )


def call(package: ModuleType, operation: str, **kwargs: Any) -> Any:
    """``sync_detailed`` of the operation, by its operationId, asserting a 2xx parsed into a model."""
    module = _operation_module(package, operation)
    response = module.sync_detailed(**kwargs)
    assert 200 <= response.status_code < 300, (operation, response.status_code, response.content[:500])
    assert response.parsed is not None and type(response.parsed).__name__ != "Problem", operation
    return response


def _operation_module(package: ModuleType, operation: str) -> ModuleType:
    snake = "".join("_" + c.lower() if c.isupper() else c for c in operation)
    api = Path(package.__file__).parent / "api"
    [found] = list(api.glob(f"*/{snake}.py"))
    return importlib.import_module(f"{package.__name__}.api.{found.parent.name}.{snake}")


def model(package: ModuleType, name: str, data: dict[str, Any]) -> Any:
    return getattr(importlib.import_module(f"{package.__name__}.models"), name).from_dict(data)


def test_generated_clients_drive_each_service(suite, tmp_path: Path) -> None:
    keys: AuthKeys = suite["keys"][1]
    officer = keys.headers("officer-1", DEPARTMENT_ID, ["officer", "supervisor"])
    packages = {service: generate(service, suite[service][1], tmp_path) for service in SERVICES}

    # intake: issue an act, read it, record the counterpart's response under If-Match
    intake = packages["intake"]
    api = client(intake, suite["intake"][1], officer)
    issued = call(
        intake,
        "postGuidanceCollection",
        client=api,
        body=model(intake, "IssueGuidanceRequest", guidance_command()),
        idempotency_key="generated-1",
    )
    act = issued.parsed
    assert issued.status_code == 201 and act.details["doc_no"]
    read = call(intake, "getGuidanceItem", client=api, guidance_id=act.guidance_id)
    assert read.parsed.guidance_id == act.guidance_id and read.headers["ETag"] == '"1"'
    responded = call(
        intake,
        "postGuidanceResponse",
        client=api,
        guidance_id=act.guidance_id,
        body=model(intake, "RecordResponseRequest", {"response": "accepted"}),
        if_match=read.headers["ETag"],
    )
    assert responded.headers["ETag"] == '"2"'

    # a closed penalty case (set up through the Flask client) reaches revisit and disclosure
    setup = keys.headers("officer-1", DEPARTMENT_ID, ["officer", "supervisor", "reviewer"])
    close_a_penalty_case(suite["intake"][1].test_client(), setup)
    assert suite["intake"][0].relay().drain() >= 1
    for service in ("revisit", "disclosure", "assessment"):
        suite[service][0].runner().drain()

    # revisit: the worklist holds the planned revisit; complete it
    revisit = packages["revisit"]
    api = client(revisit, suite["revisit"][1], officer)
    worklist = call(revisit, "getRevisitCollection", client=api, department_id=DEPARTMENT_ID)
    first = worklist.parsed.revisits[0]
    current = call(revisit, "getRevisitItem", client=api, revisit_id=first.revisit_id)
    completion = {
        "completed_on": str(china_today()),
        "officers": [OFFICER_WANG],
        "method": "visit",
        "findings": {"corrected": True, "conduct_ok": True, "rights_explained": True, "needs_guidance": False},
        "notes": "现场回访，整改到位。",
    }
    done = call(
        revisit,
        "postRevisitCompletion",
        client=api,
        revisit_id=first.revisit_id,
        body=model(revisit, "CompleteRequest", completion),
        if_match=current.headers["ETag"],
    )
    assert done.parsed.status == "completed"

    # disclosure: the act is on the public list; a request for disclosure is registered and answered
    disclosure = packages["disclosure"]
    api = client(disclosure, suite["disclosure"][1], officer)
    public = call(disclosure, "getPublicGuidanceList", client=api)
    assert act.guidance_id in {str(item.guidance_id) for item in public.parsed.items}
    received = china_today() - timedelta(days=3)
    request = {
        "department_id": DEPARTMENT_ID,
        "applicant": PERSON,
        "description": "申请公开2025年度食品安全领域行政指导工作台账。",
        "channel": "online",
        "received_on": str(received),
    }
    registered = call(
        disclosure, "postRequestCollection", client=api, body=model(disclosure, "RegisterRequest", request)
    )
    rid = registered.parsed.request_id
    answer = {"answer": "disclosed", "answered_on": str(china_today()), "reply_doc_no": "某市监依复〔2026〕1号"}
    answered = call(
        disclosure,
        "postRequestAnswer",
        client=api,
        request_id=rid,
        body=model(disclosure, "Answer", answer),
    )
    assert answered.parsed.status == "answered"
    call(disclosure, "getRequestItem", client=api, request_id=rid)

    # assessment: open a period and read its standing
    assessment = packages["assessment"]
    api = client(assessment, suite["assessment"][1], keys.headers("supervisor-1", DEPARTMENT_ID, ["supervisor"]))
    opened = call(assessment, "postPeriods", client=api, body=model(assessment, "OpenPeriodRequest", {"year": 2025}))
    assert opened.status_code == 201
    call(assessment, "getPeriodItem", client=api, year=2025)
    call(assessment, "getStandings", client=api, year=2025)
