"""The commands benchmark's baseline: a trivial Flask POST served by the same gunicorn settings as a
service's ``web`` (``guidance_shared.service_cli.gunicorn_application``, GUIDANCE_WEB_* from the
environment). It parses the JSON body and answers 201 with a small JSON document, nothing else.

    python -m bench.trivial_app      # GUIDANCE_HTTP_PORT, GUIDANCE_WEB_WORKERS, ... as for a service
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue


def create_app() -> Flask:
    app = Flask("bench-trivial")

    @app.post("/trivial")
    def trivial() -> ResponseReturnValue:
        body = request.get_json()
        return jsonify({"accepted": isinstance(body, dict)}), 201

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify({"status": "ok"})

    return app


def main() -> None:
    from guidance_shared.service_cli import gunicorn_application
    from guidance_shared.settings import Settings

    gunicorn_application(create_app(), Settings.from_env("bench-trivial", dict(os.environ))).run()


if __name__ == "__main__":
    main()
