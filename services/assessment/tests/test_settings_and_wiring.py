"""assessment's own settings, read from the mapping the kernel's Settings came from, and what ``wire`` builds
from them once: the rubric file, the department registry, the revision interval."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.support.schema import migrated_runtime

from guidance_assessment.adapters.files import load_rubric
from guidance_assessment.bootstrap import SPEC
from guidance_assessment.handlers.dashboard import Names
from guidance_assessment.settings import AssessmentSettings
from guidance_shared.settings import Settings, SettingsError
from guidance_shared.transport.embedded import EmbeddedTransport

MARKET = "0b9d7f5e-1f6c-4c0e-9a57-0d7a4e0c1a11"


def test_the_defaults_are_the_packaged_rubric_no_registry_and_five_minutes() -> None:
    assert AssessmentSettings.from_env({}) == AssessmentSettings(rubric=None, departments=None, revise_interval_s=300.0)


def test_the_assessment_registry_wins_over_the_suites_and_empty_means_unset() -> None:
    both = {"GUIDANCE_ASSESSMENT_DEPARTMENTS": "/a.yaml", "GUIDANCE_DEPARTMENTS": "/b.yaml"}
    assert AssessmentSettings.from_env(both).departments == Path("/a.yaml")
    assert AssessmentSettings.from_env({"GUIDANCE_DEPARTMENTS": "/b.yaml"}).departments == Path("/b.yaml")
    empty = {"GUIDANCE_ASSESSMENT_DEPARTMENTS": "", "GUIDANCE_ASSESSMENT_RUBRIC": ""}
    assert AssessmentSettings.from_env(empty) == AssessmentSettings.from_env({})


def test_a_malformed_interval_names_its_variable() -> None:
    assert AssessmentSettings.from_env({"GUIDANCE_ASSESSMENT_REVISE_INTERVAL_S": "2.5"}).revise_interval_s == 2.5
    with pytest.raises(SettingsError, match="GUIDANCE_ASSESSMENT_REVISE_INTERVAL_S"):
        AssessmentSettings.from_env({"GUIDANCE_ASSESSMENT_REVISE_INTERVAL_S": "often"})


def test_wire_reads_the_rubric_and_registry_named_in_the_runtimes_settings(tmp_path: Path) -> None:
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(yaml.safe_dump(dict(load_rubric().source) | {"version": "2099.9"}), encoding="utf-8")
    registry = tmp_path / "departments.yaml"
    registry.write_text(f"departments:\n  - department_id: {MARKET}\n    short_name: 县市场监管局\n", encoding="utf-8")
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_ASSESSMENT_RUBRIC": str(rubric),
        "GUIDANCE_ASSESSMENT_DEPARTMENTS": str(registry),
        "GUIDANCE_ASSESSMENT_REVISE_INTERVAL_S": "60",
    }
    settings = Settings.from_env("assessment", env=env)
    runtime = migrated_runtime(SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    try:
        assert runtime.deps.rubric.version == "2099.9"
        assert runtime.deps.names == {MARKET: "县市场监管局"}
        assert runtime.deps.settings.revise_interval_s == 60.0
        assert runtime.deps.periods.stream_type == "AssessmentPeriod"
        assert runtime.deps.scorecards.stream_type == "Scorecard"
    finally:
        runtime.close()


def test_a_department_is_named_by_the_registry_else_by_its_events_else_by_the_start_of_its_id() -> None:
    names = Names(registry={MARKET: "县市场监管局"}, learned={MARKET: "某县市场监督管理局", "b" * 36: "某县住建局"})
    assert names.of(MARKET) == "县市场监管局"
    assert names.of("b" * 36) == "某县住建局"
    assert names.of("c" * 36) == "c" * 8
