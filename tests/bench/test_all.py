"""Smoke test of ``bench/run --all --quick``: every benchmark runs end to end at a tiny size, its
correctness checks hold, and the JSON carries every figure with its baseline, ratio and target.
It asserts nothing about speed (the figures come from a full ``bench/run --all``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import all as bench_all


@pytest.mark.postgres
@pytest.mark.kafka
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_quick_run_completes_checks_itself_and_records_every_figure(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("guidance_shared.logging.configure_logging", lambda *_args, **_kwargs: None)
    out = tmp_path / "all.json"

    status = bench_all.main(["--quick", "--postgres", postgres_url, "--bootstrap", kafka_bootstrap, "--json", str(out)])

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
        "replay_floor",
        "replay_processes",
        "propagation_embedded",
        "propagation_kafka",
        "sealing_append",
        "sealing_replay",
    }
    assert ran == set(sections)  # nothing of the issue left out
    for name in ran:
        section = sections[name]
        assert section["figures"], name
        assert section["problems"] == [], name
        assert section["warnings"] == [], name  # at the quick sizes nothing may fail under load
        for figure in section["figures"]:
            assert figure["value"] > 0 and figure["baseline"] >= 0, figure
            if figure["baseline"] > 0:
                assert figure["ratio"] == pytest.approx(figure["value"] / figure["baseline"], rel=1e-2, abs=1e-3)
            else:  # an idle baseline can use less CPU than the clock's tick: no ratio then, never a division by 0
                assert figure["ratio"] is None, figure
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
        ">= 0.7x the floor pipeline",
        "p99 <= 100 ms",
        ">= 0.85x replay in clear",
    } <= targets
    append = sections["append"]["figures"]
    assert {f["name"] for f in append} == {
        f"project append, {db}, {per}"
        for db in ("sqlite", "postgresql")
        for per in ("1 event/aggregate", "10 events/aggregate")
    }
    assert sections["public_list_sqlite"]["checks"]["published acts"] == result["sizes"]["public_acts"]
    processes = {f["name"] for f in sections["replay_processes"]["figures"]}
    assert processes == {f"replay ×{n} (PostgreSQL)" for n in (1, 2, 4)}
    assert (
        sections["propagation_kafka"]["checks"]["commands shown on the public API"]
        == result["sizes"]["propagation_commands"]
    )
    sealing = {f["name"]: f for f in sections["sealing_replay"]["figures"]}
    assert set(sealing) == {
        "intake read model rebuild, sealed",
        "intake read model rebuild, sealed, events per CPU-second",
        "disclosure replay, sealed",
        "disclosure replay, sealed, records per CPU-second",
    }
    acts, rounds = result["sizes"]["sealing_acts"], sections["sealing_replay"]["info"]["rounds"]
    # one key fetched over HTTP per person and replay: the sealed side really opened through the key API
    assert sections["sealing_replay"]["checks"]["keys fetched from intake's key API, all runs"] == acts * rounds
    assert sections["sealing_append"]["checks"]["data keys made, sealed"] == acts


def test_the_docs_table_shows_each_figure_beside_its_baseline_and_verdict() -> None:
    result = {
        "sections": {
            "append": {
                "skipped": None,
                "figures": [
                    {
                        "name": "project append, sqlite, 1 event/aggregate",
                        "value": 450.0,
                        "unit": "events/s",
                        "baseline_name": "eventsourcing",
                        "baseline": 859.0,
                        "ratio": 0.5239,
                        "target": ">= 1.0x eventsourcing",
                        "met": False,
                    }
                ],
            },
            "later": {"skipped": "not possible today", "figures": []},
        }
    }

    rows = bench_all.markdown(result).splitlines()

    assert rows[2] == (
        "| append | project append, sqlite, 1 event/aggregate | 450 events/s | eventsourcing: 859 | 0.524 "
        "| >= 1.0x eventsourcing | **no** |"
    )
    assert rows[3] == "| later | not run: not possible today | | | | | |"
