"""The operator's CLI: a bad setting is a configuration error wherever it is read; calendar-recompute prints what the
service counted again, or that it keeps no working-day deadline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.service_cli import run
from guidance_shared.settings import SettingsError


def _refuse(_runtime: Runtime[None]) -> None:
    raise SettingsError("GUIDANCE_EXAMPLE_POLICY: no file at /nowhere.yaml")


def test_a_setting_refused_by_the_service_wiring_is_a_configuration_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GUIDANCE_VAR_DIR", str(tmp_path))
    spec: ServiceSpec[None] = ServiceSpec(name="example", publishes=None, wire=_refuse)
    assert run(spec, lambda _runtime: None, ["lag"]) == 2
    assert "configuration error: GUIDANCE_EXAMPLE_POLICY: no file at /nowhere.yaml" in capsys.readouterr().err


def test_a_malformed_kernel_setting_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GUIDANCE_TRANSPORT", "carrier-pigeon")
    spec: ServiceSpec[None] = ServiceSpec(name="example", publishes=None)
    assert run(spec, lambda _runtime: None, ["lag"]) == 2
    assert "GUIDANCE_TRANSPORT must be 'embedded' or 'kafka'" in capsys.readouterr().err


def test_calendar_recompute_on_a_service_without_working_day_deadlines_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GUIDANCE_VAR_DIR", str(tmp_path))
    spec: ServiceSpec[None] = ServiceSpec(name="example", publishes=None)
    assert run(spec, lambda _runtime: None, ["calendar-recompute"]) == 2
    assert json.loads(capsys.readouterr().out) == {"error": "example keeps no working-day deadline"}


def test_calendar_recompute_prints_what_the_service_recounted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GUIDANCE_VAR_DIR", str(tmp_path))
    spec: ServiceSpec[None] = ServiceSpec(
        name="example", publishes=None, recount_deadlines=lambda _runtime: {"recomputed": 2, "calendar": "c"}
    )
    assert run(spec, lambda _runtime: None, ["calendar-recompute"]) == 0
    assert json.loads(capsys.readouterr().out) == {"recomputed": 2, "calendar": "c"}
