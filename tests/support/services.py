"""Running the services for tests: in-process runtimes, or real OS processes on free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from guidance_shared.events.examples import example

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def guidance_command(**changes: Any) -> dict[str, Any]:
    """A POST /v1/guidance body: the GuidanceIssued example without the fields intake assigns."""
    body = example("guidance.GuidanceIssued.v1")
    for server_field in ("guidance_id", "doc_no", "department_name", "department_uscc"):
        body.pop(server_field)
    body.update(changes)
    return body


def case_command(**changes: Any) -> dict[str, Any]:
    """A POST /v1/cases body: the CaseOpened example without the fields intake assigns."""
    body = example("guidance.CaseOpened.v1")
    for server_field in ("case_id", "department_name", "department_uscc"):
        body.pop(server_field)
    body.update(changes)
    return body


def decision_command(**changes: Any) -> dict[str, Any]:
    """A POST /v1/cases/<id>/decision body: the CaseDecided example without the fields intake assigns."""
    body = example("guidance.CaseDecided.v1")
    for server_field in ("case_id", "department_id", "decision_no", "major", "legal_review", "exemption_list_entry"):
        body.pop(server_field)
    body.update(changes)
    return body


class ServiceProcess:
    """One ``python -m guidance_<service> <command>`` process with its own environment."""

    def __init__(self, service: str, command: str, env: Mapping[str, str], log_dir: Path) -> None:
        self.service, self.command = service, command
        self.env = {**os.environ, **env}
        self.log_path = log_dir / f"{service}-{command}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        return int(self.env["GUIDANCE_HTTP_PORT"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"guidance_{self.service}", self.command],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        return self

    def wait_healthy(self, timeout_s: float = 30.0) -> ServiceProcess:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.service} {self.command} exited: {self.tail()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.service} {self.command} not healthy: {self.tail()}")

    def kill(self) -> None:
        """SIGKILL: the crash a test wants to survive."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def migrate_databases(env: Mapping[str, str], *services: str) -> None:
    """``guidance-<service> migrate`` for each of ``services`` with ``env``, as the migration Job runs it
    before any other process of the service starts (they refuse a database that is not at the head)."""
    for service in services:
        migrated = run_cli(service, "migrate", env)
        assert migrated.returncode == 0, migrated.stderr


def run_cli(
    service: str, command: str, env: Mapping[str, str], *, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``guidance-<service> <command>`` in a process of its own, with ``env`` over this one's environment."""
    return subprocess.run(
        [sys.executable, "-m", f"guidance_{service}", *command.split()],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


def officer_headers(env: Mapping[str, str], roles: str = "officer,supervisor") -> dict[str, str]:
    """A bearer token from the development key the services generated under GUIDANCE_VAR_DIR."""
    from guidance_shared.events.examples import DEPARTMENT_ID

    minted = subprocess.run(
        [
            sys.executable,
            "-m",
            "guidance_shared.auth",
            "mint",
            "--sub",
            "test-officer",
            "--department",
            DEPARTMENT_ID,
            "--roles",
            roles,
            "--var-dir",
            env["GUIDANCE_VAR_DIR"],
        ],
        env={**os.environ, **env, "GUIDANCE_AUTH_DEV_KEYS": "true"},
        capture_output=True,
        text=True,
        check=True,
    )
    return {"Authorization": f"Bearer {minted.stdout.strip()}"}


def wait_for(predicate: Any, timeout_s: float = 30.0, interval_s: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise TimeoutError("condition not met in time")


def close_a_penalty_case(client: Any, headers: Mapping[str, str]) -> str:
    """Through intake's API (a Flask test client): open the example case, review, decide and close it
    in April 2025; its id. A major penalty case in ordinary procedure, closed: revisit plans a revisit."""

    def ok(response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    case_id = str(ok(client.post("/v1/cases", json=case_command(), headers=headers), 201)["case_id"])
    review = {"legal_review": example("guidance.CaseLegalReviewed.v1")["legal_review"]}
    ok(client.post(f"/v1/cases/{case_id}/legal-review", json=review, headers=headers))
    ok(client.post(f"/v1/cases/{case_id}/decision", json=decision_command(), headers=headers))
    closure = {"outcome": "executed", "closed_at": "2025-04-15T16:00:00+08:00"}
    ok(client.post(f"/v1/cases/{case_id}/closure", json=closure, headers=headers))
    return case_id
