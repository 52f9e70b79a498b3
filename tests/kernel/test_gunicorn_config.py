"""``guidance-<svc> web`` runs gunicorn with the workers, threads and timeout the settings give it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from flask import Flask

from guidance_shared.service_cli import gunicorn_application
from guidance_shared.settings import Settings
from tests.support.services import ServiceProcess, free_port, migrate_databases, wait_for


def _cfg(env: dict[str, str]) -> Any:
    return gunicorn_application(Flask("t"), Settings.from_env("intake", env)).cfg


def test_by_default_gunicorn_runs_one_worker_with_eight_threads() -> None:
    cfg = _cfg({})
    assert (cfg.workers, cfg.threads, cfg.timeout, cfg.worker_class_str) == (1, 8, 30, "gthread")
    assert cfg.bind == ["127.0.0.1:8001"]


def test_the_settings_reach_gunicorns_config() -> None:
    cfg = _cfg({"GUIDANCE_WEB_WORKERS": "4", "GUIDANCE_WEB_THREADS": "2", "GUIDANCE_WEB_TIMEOUT_S": "75"})
    assert (cfg.workers, cfg.threads, cfg.timeout) == (4, 2, 75)


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_web_started_with_two_workers_answers_from_both_processes(tmp_path: Path) -> None:
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_HTTP_PORT": str(free_port()),
        "GUIDANCE_AUTH_DEV_KEYS": "true",
        "GUIDANCE_WEB_WORKERS": "2",
    }
    migrate_databases(env, "intake")
    web = ServiceProcess("intake", "web", env, tmp_path).start()
    try:
        web.wait_healthy(timeout_s=60)
        assert web.proc is not None
        assert len(wait_for(lambda: (c := _children(web.proc.pid)) and len(c) == 2 and c, timeout_s=60)) == 2
        for _ in range(10):  # each forked worker reaches the database with connections of its own
            assert requests.get(f"{web.url}/readyz", timeout=10).status_code == 200
    finally:
        web.stop()
