"""The operator's CLI reports a bad setting as a configuration error, wherever the setting is read."""

from __future__ import annotations

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
