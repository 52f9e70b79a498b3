"""Smoke test of ``bench/run --all --quick``: every benchmark runs end to end at a tiny size, its
correctness checks hold, and the JSON carries every figure with its baseline, ratio and target.
It asserts nothing about speed (the figures come from a full ``bench/run --all``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import all as bench_all

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_the_quick_run_completes_checks_itself_and_records_every_figure(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("guidance_shared.logging.configure_logging", lambda *_args, **_kwargs: None)
    out = tmp_path / "all.json"

    status = bench_all.main(["--quick", "--postgres", postgres_url, "--json", str(out)])

    assert status == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["correct"] is True, result["problems"]
    assert result["quick"] is True
    sections = result["sections"]
    ran = {name for name, section in sections.items() if not section["skipped"]}
    assert ran == {
        "append",
        "public_list_sqlite",
        "public_list_postgresql",
        "commands_sqlite",
        "commands_postgresql",
    }
    for name in ran:
        section = sections[name]
        assert section["figures"], name
        assert section["problems"] == [], name
        for figure in section["figures"]:
            assert figure["value"] > 0 and figure["baseline"] > 0, figure
            assert figure["ratio"] == pytest.approx(figure["value"] / figure["baseline"], rel=1e-2, abs=1e-3)
            assert figure["unit"] and figure["baseline_name"], figure
            if figure["target"] is not None:
                assert isinstance(figure["met"], bool), figure
    targets = {figure["target"] for section in sections.values() for figure in section["figures"]}
    assert {
        ">= 1.0x eventsourcing",
        "p50 <= 20 ms at 16 clients",
        "p99 <= 100 ms at 16 clients",
        ">= 0.25x the trivial POST at 8 clients",
        "p99 <= 50 ms at 8 clients",
        "p99 <= 150 ms at 32 clients",
    } <= targets
    append = sections["append"]["figures"]
    assert {f["name"] for f in append} == {
        f"project append, {db}, {per}"
        for db in ("sqlite", "postgresql")
        for per in ("1 event/aggregate", "10 events/aggregate")
    }
    assert sections["public_list_sqlite"]["checks"]["published acts"] == result["sizes"]["public_acts"]
