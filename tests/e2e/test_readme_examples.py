"""intake's worked examples (examples/*.json, shown in docs/api-intake.md) are accepted exactly as documented."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from guidance_intake.bootstrap import SPEC, create_app
from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from guidance_shared.vocabulary import CONTENT_TYPES, METHODS
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api-intake.md"  # the README links to it


def load(name: str, **substitutions: str) -> dict[str, Any]:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    for key, value in substitutions.items():
        text = text.replace(f"${key}", value)
    body: dict[str, Any] = json.loads(text)
    return body


@pytest.fixture
def post(tmp_path: Path, auth_keys: AuthKeys):
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    runtime = migrated_runtime(
        SPEC, Settings.from_env("intake", {"GUIDANCE_VAR_DIR": str(tmp_path)}), transport=transport
    )
    client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
    headers = auth_keys.headers("readme", DEPARTMENT_ID, ["officer", "reviewer", "supervisor"])

    def _post(path: str, body: dict[str, Any], status: int) -> dict[str, Any]:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == status, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result

    yield _post
    runtime.close()


def closed_major_case(post: Any) -> str:
    case_id: str = post("/v1/cases", load("cases/open.json"), 201)["case_id"]
    post(f"/v1/cases/{case_id}/legal-review", load("cases/legal-review.json"), 200)
    post(f"/v1/cases/{case_id}/decision", load("cases/decision.json"), 200)
    post(f"/v1/cases/{case_id}/closure", load("cases/closure.json"), 200)
    return case_id


def test_each_content_type_example_is_issued(post: Any) -> None:
    issued = {}
    for content_type in CONTENT_TYPES:
        substitutions = {}
        if content_type in ("violation_correction", "major_case_revisit"):
            substitutions["CASE_ID"] = closed_major_case(post)
        body = load(f"guidance/{content_type}.json", **substitutions)
        issued[content_type] = post("/v1/guidance", body, 201)
        assert issued[content_type]["details"]["doc_no"]
    used = {m for name in CONTENT_TYPES for m in load(f"guidance/{name}.json")["methods"]}
    assert used == set(METHODS)  # the examples show all ten methods


def test_the_api_page_shows_a_curl_example_for_every_content_type() -> None:
    page = API_DOC.read_text(encoding="utf-8")
    for content_type in CONTENT_TYPES:
        assert f"examples/guidance/{content_type}.json" in page, content_type
