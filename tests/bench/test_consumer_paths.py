"""Smoke test of ``bench.consumer_paths`` at a tiny size: both paths run and leave one row per record.
It asserts nothing about speed; the figures come from running the bench."""

from __future__ import annotations

import pytest

from bench import consumer_paths


def test_consumer_paths_runs_both_paths_and_checks_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("guidance_shared.logging.configure_logging", lambda *_args, **_kwargs: None)
    result = consumer_paths.run(40)
    assert result["events"] == 40
    assert result["careful"]["cpu_us_per_event"] > 0 and result["plain"]["cpu_us_per_event"] > 0
