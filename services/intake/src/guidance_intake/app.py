"""intake's Flask app: the shared web kit plus intake's blueprints."""

from __future__ import annotations

from flask import Flask

from guidance_intake import api
from guidance_shared.runtime import Runtime
from guidance_shared.web.service import create_service_app

VERSION = "0.1.0"


def create_app(runtime: Runtime, *, testing: bool = False) -> Flask:
    return create_service_app(runtime, version=VERSION, blueprints=[api.blp], testing=testing)
