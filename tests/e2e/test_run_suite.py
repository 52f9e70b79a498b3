"""The README's first command: the suite starts all four services and the demo sees an act travel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.services import ROOT, free_port, wait_for


def test_run_suite_starts_four_services_and_the_demo_sees_an_act_published(tmp_path: Path) -> None:
    ports = {service: free_port() for service in ("intake", "revisit", "disclosure", "assessment")}
    env = {**os.environ, **{f"GUIDANCE_{s.upper()}_PORT": str(p) for s, p in ports.items()}}
    log = tmp_path / "suite.log"
    with open(log, "wb") as out:
        suite = subprocess.Popen(
            [sys.executable, str(ROOT / "tools" / "suite.py"), "--var-dir", str(tmp_path / "var")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        wait_for(lambda: "is running" in log.read_text(errors="replace") or suite.poll() is not None, timeout_s=90)
        assert suite.poll() is None, log.read_text(errors="replace")
        demo = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "demo.py")],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **env,
                "GUIDANCE_VAR_DIR": str(tmp_path / "var"),
                "GUIDANCE_INTAKE_URL": f"http://127.0.0.1:{ports['intake']}",
                "GUIDANCE_DISCLOSURE_URL": f"http://127.0.0.1:{ports['disclosure']}",
            },
        )
        assert demo.returncode == 0, demo.stderr + log.read_text(errors="replace")
        assert "disclosure publishes it" in demo.stdout
    finally:
        suite.send_signal(signal.SIGINT)
        suite.wait(60)
