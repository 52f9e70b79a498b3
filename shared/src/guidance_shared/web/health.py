"""Probes and metrics for the orchestrator: alive, ready, and Prometheus text.

``/healthz`` only says the process answers (restart me if not); ``/readyz``
runs the service's named checks (send me traffic only if they all pass).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine

from guidance_shared.errors import GuidanceError
from guidance_shared.logging import get_logger, scrub_text
from guidance_shared.web.problems import problem_response

Check = Callable[[], None]
_REASON_LIMIT = 200

log = get_logger("guidance.health")


def database_check(engine: Engine) -> Check:
    """Readiness check: one round trip to the database.

    Uses a raw DBAPI connection so no SQLAlchemy transaction (and, on SQLite,
    no ``BEGIN IMMEDIATE`` write lock) is taken every few seconds.
    """

    def check() -> None:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            cursor.close()
        finally:
            connection.close()

    return check


def ops_blueprint(checks: Mapping[str, Check], registry: CollectorRegistry) -> Blueprint:
    """``/healthz``, ``/readyz`` and ``/metrics`` at the root, outside the versioned API."""
    blueprint = Blueprint("guidance_ops", __name__)

    @blueprint.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @blueprint.get("/readyz")
    def readyz() -> Response:
        results = {name: _run(name, check) for name, check in checks.items()}
        failing = sorted(name for name, result in results.items() if result != "ok")
        if not failing:
            return jsonify(status="ok", checks=results)
        return problem_response(_not_ready(failing), checks=results)

    @blueprint.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return blueprint


def _run(name: str, check: Check) -> str:
    """'ok', or a short reason: a check that raises means not ready."""
    try:
        check()
    except Exception as exc:
        log.warning("readiness_check_failed", check=name, exc_info=exc)
        first_line = (str(exc).strip().splitlines() or [""])[0]
        reason = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
        return scrub_text(reason)[:_REASON_LIMIT]
    return "ok"


def _not_ready(failing: list[str]) -> GuidanceError:
    names = ", ".join(failing)
    return GuidanceError(
        code="not-ready",
        title_en="Not ready",
        title_zh="服务尚未就绪",
        status=503,
        detail_en=f"Failing checks: {names}.",
        detail_zh=f"以下检查未通过：{names}。",
    )
