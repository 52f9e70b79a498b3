"""Smoke tests of the CPU aids ``python -m bench.command_cpu`` and ``python -m bench.apply_cpu``: each does its
work (every command answered 201, every act published, or it exits non-zero) and prints its figures. Nothing
about speed is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_command_cpu_aid_runs_and_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.command_cpu", "--commands", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["commands"] == 5
    assert figures["command_cpu_ms"] > 0 and figures["healthz_cpu_ms"] > 0
    assert figures["ratio"] > 0


def test_the_apply_cpu_aid_runs_and_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.apply_cpu", "--acts", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["acts"] == 5 and figures["cpu_ms_per_act"] > 0
