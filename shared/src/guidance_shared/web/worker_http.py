"""The worker's own probes and metrics: ``/healthz``, ``/readyz`` (database, broker, consumer lag) and ``/metrics``.

Served by werkzeug in a thread beside the relay and consumer loops, on ``GUIDANCE_WORKER_HTTP_PORT``;
the same blueprint as web's (``guidance_shared.web.health``), with the worker's checks.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from guidance_shared.metrics import ReadinessCollector
from guidance_shared.runtime import Runtime
from guidance_shared.web.health import ops_blueprint


def worker_app(runtime: Runtime[Any]) -> Flask:
    app = Flask(f"{runtime.spec.name}-worker", static_folder=None)
    checks = runtime.worker_checks()
    runtime.metrics_registry.register(ReadinessCollector(runtime.spec.name, checks))
    app.register_blueprint(ops_blueprint(checks, runtime.metrics_registry))
    return app


class _QuietHandler(WSGIRequestHandler):
    """Probes come every few seconds: no access line for each."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WorkerHttpServer:
    """``start()`` serves in a daemon thread; ``stop()`` shuts the server down and closes its socket."""

    def __init__(self, runtime: Runtime[Any], host: str, port: int) -> None:
        self._server: BaseWSGIServer = make_server(
            host, port, worker_app(runtime), threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="worker-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def start(self) -> WorkerHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
