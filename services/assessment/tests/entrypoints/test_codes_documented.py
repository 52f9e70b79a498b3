"""The codes a client must send are written where it looks: the OpenAPI document and the README."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.schema import migrated_runtime

from guidance_assessment.bootstrap import SPEC, create_app
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from guidance_shared.vocabulary import DECISIONS

ROOT = Path(__file__).resolve().parents[4]


def test_the_openapi_names_every_deliverable_of_the_rubric_in_force(tmp_path: Path) -> None:
    settings = Settings.from_env("assessment", {"GUIDANCE_VAR_DIR": str(tmp_path)})
    runtime = migrated_runtime(SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    try:
        spec = create_app(runtime, testing=True).test_client().get("/openapi.json").get_json()
        deliverables = runtime.deps.rubric.deliverables
    finally:
        runtime.close()
    field = spec["components"]["schemas"]["DeliverableRequest"]["properties"]["deliverable"]
    assert deliverables
    assert field["enum"] == list(deliverables)
    for code, due in deliverables.items():
        assert f"{code} (due {due})" in field["description"]


def test_the_readme_lists_the_decision_and_deliverable_codes(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    settings = Settings.from_env("assessment", {"GUIDANCE_VAR_DIR": str(tmp_path)})
    runtime = migrated_runtime(SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    try:
        deliverables = runtime.deps.rubric.deliverables
    finally:
        runtime.close()
    [decisions] = [line for line in readme.splitlines() if line.startswith("| a case's `decision`")]
    [rollout] = [line for line in readme.splitlines() if line.startswith("| a period's `deliverable`")]
    assert set(re.findall(r"`([a-z_]+)`", decisions)) - {"decision"} == set(DECISIONS)
    assert set(re.findall(r"`([a-z_]+)` [^`]* \((\d\d-\d\d)\)", rollout)) == set(deliverables.items())
