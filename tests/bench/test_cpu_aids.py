"""Smoke tests of the CPU aids ``python -m bench.command_cpu``, ``bench.apply_cpu``, ``bench.page_cpu`` and
``bench.runner_cpu``: each does its work (every command answered 201, every act published, every page answered 200
and the deep page reached by following "next", every batch's offsets stored, or it exits non-zero) and prints its
figures. Nothing about speed is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("aid", "size", "figures"),
    [
        ("command_cpu", ["--commands", "5"], {"commands": 5}),
        ("apply_cpu", ["--acts", "5"], {"acts": 5}),
        ("page_cpu", ["--acts", "45", "--pages", "5", "--depth", "2"], {"pages": 5, "deep page walked": 2}),
        ("runner_cpu", ["--batches", "20"], {"batches": 20}),
    ],
)
def test_a_cpu_aid_runs_and_prints_its_figures(aid: str, size: list[str], figures: dict[str, int]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{aid}", *size],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    assert {key: printed[key] for key in figures} == figures
    assert all(value > 0 for key, value in printed.items() if key.endswith(("_ms", "_per_act", "_per_batch")))
