"""intake's settings and wiring: its own variables are read once, from the runtime's environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.support.schema import migrated_runtime

from guidance_intake.adapters.files import default_departments, sample_exemptions
from guidance_intake.bootstrap import SPEC, wire
from guidance_intake.domain.chronology import DatePolicy
from guidance_intake.domain.exemptions import ExemptionListError
from guidance_intake.entrypoints.consumer import IntakeProjection
from guidance_intake.settings import IntakeSettings
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings, SettingsError
from guidance_shared.transport.embedded import EmbeddedTransport

DEPARTMENTS = """
departments:
  - department_id: 11111111-1111-4111-8111-111111111111
    name: 某镇人民政府
    short_name: 某镇
    region_abbr: 某
    agency_abbr: 镇
    competent_domains: [other]
"""
EXEMPTIONS = """
entries:
  - entry_id: Y1
    domain: 市场监管
    violation_code: X-1
    violation: 某行为
    violation_basis: 某依据
    penalty_basis: 某依据
    conditions: [minor]
    outcome: no_penalty
"""


def runtime_with(tmp_path: Path, **env: str) -> Runtime:
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    settings = Settings.from_env("intake", {"GUIDANCE_VAR_DIR": str(tmp_path), **env})
    return migrated_runtime(SPEC, settings, transport=transport)


def test_the_settings_name_the_files_and_an_empty_value_is_unset() -> None:
    assert IntakeSettings.from_env({}) == IntakeSettings(None, None)
    assert IntakeSettings.from_env({"GUIDANCE_DEPARTMENTS": "", "GUIDANCE_EXEMPTION_LISTS": ""}) == IntakeSettings()
    configured = IntakeSettings.from_env({"GUIDANCE_DEPARTMENTS": "d.yaml", "GUIDANCE_EXEMPTION_LISTS": "l.csv"})
    assert configured == IntakeSettings(Path("d.yaml"), Path("l.csv"))


def test_without_files_the_shipped_samples_are_wired(tmp_path: Path) -> None:
    runtime = runtime_with(tmp_path)
    assert {d.name for d in runtime.deps.departments} == {d.name for d in default_departments()}
    assert runtime.deps.exemptions.entries == sample_exemptions().entries
    assert isinstance(runtime.projection, IntakeProjection) and runtime.projection.deps is runtime.deps
    runtime.engine.dispose()


def test_the_files_the_environment_names_are_wired(tmp_path: Path) -> None:
    (tmp_path / "departments.yaml").write_text(DEPARTMENTS, encoding="utf-8")
    (tmp_path / "list.yaml").write_text(EXEMPTIONS, encoding="utf-8")
    runtime = runtime_with(
        tmp_path,
        GUIDANCE_DEPARTMENTS=str(tmp_path / "departments.yaml"),
        GUIDANCE_EXEMPTION_LISTS=str(tmp_path / "list.yaml"),
    )
    assert [d.short_name for d in runtime.deps.departments] == ["某镇"]
    assert [e.entry_id for e in runtime.deps.exemptions.entries] == ["Y1"]
    assert wire(runtime).departments.get("11111111-1111-4111-8111-111111111111") is not None
    runtime.engine.dispose()


def test_a_configured_list_with_a_bad_row_stops_the_service_at_start(tmp_path: Path) -> None:
    (tmp_path / "list.csv").write_text("监管领域,违法行为\n市场监管,某行为\n", encoding="utf-8")
    with pytest.raises(ExemptionListError, match=r"list\.csv"):
        runtime_with(tmp_path, GUIDANCE_EXEMPTION_LISTS=str(tmp_path / "list.csv"))


def test_the_date_settings_default_to_an_hour_of_skew_and_three_days_before_an_entry_is_backdated() -> None:
    assert IntakeSettings.from_env({}).dates == DatePolicy(timedelta(minutes=60), 3)
    configured = IntakeSettings.from_env(
        {"GUIDANCE_FUTURE_TOLERANCE_MINUTES": "0", "GUIDANCE_BACKDATED_AFTER_DAYS": "10"}
    )
    assert configured.dates == DatePolicy(timedelta(0), 10)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GUIDANCE_FUTURE_TOLERANCE_MINUTES", "-1"),
        ("GUIDANCE_FUTURE_TOLERANCE_MINUTES", "1441"),
        ("GUIDANCE_FUTURE_TOLERANCE_MINUTES", "1h"),
        ("GUIDANCE_BACKDATED_AFTER_DAYS", "367"),
    ],
)
def test_a_date_setting_out_of_bounds_stops_the_start_naming_it(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        IntakeSettings.from_env({name: value})


def test_the_date_settings_reach_the_handlers(tmp_path: Path) -> None:
    runtime = runtime_with(tmp_path, GUIDANCE_BACKDATED_AFTER_DAYS="7")
    try:
        assert runtime.deps.dates.backdated_after_days == 7
    finally:
        runtime.close()
