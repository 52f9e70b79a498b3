"""Smoke test of ``python -m bench.command_cpu``: it posts valid commands (each answered 201, or it exits
non-zero) and prints both figures and their ratio. Nothing about speed is asserted."""

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
