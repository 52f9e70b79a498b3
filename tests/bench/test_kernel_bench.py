"""Smoke test of the kernel benchmark at a tiny size: it runs end to end and its correctness checks
hold. It asserts nothing about speed; the figures come from ``bench/run``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import kernel_bench

pytestmark = pytest.mark.kafka


@pytest.mark.parametrize("kernel", ["stock", "proposed"])
def test_kernel_bench_runs_and_checks_itself(
    kafka_bootstrap: str, tmp_path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("guidance_shared.logging.configure_logging", lambda *_args, **_kwargs: None)
    out = tmp_path / "kernel.json"
    status = kernel_bench.main(
        ["--events", "60", "--bootstrap", kafka_bootstrap, "--json", str(out), "--kernel", kernel]
    )

    assert status == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["correct"] is True, result["problems"]
    assert result["kernel"] == kernel
    assert result["events"] == result["aggregates"] == 60
    assert result["checks"]["projection_rows"] == 60
    assert result["checks"]["applied_ids"] == 60
    assert result["checks"]["relay_published"] == 60
    assert result["checks"]["parked"] == result["checks"]["skipped"] == 0
    assert set(result["rates_per_s"]) == {"append", "raw_produce", "relay", "raw_consume", "replay"}
    assert set(result["ratios"]) == {"relay_vs_raw_produce", "replay_vs_raw_consume"}
    assert result["target"] == 0.5
