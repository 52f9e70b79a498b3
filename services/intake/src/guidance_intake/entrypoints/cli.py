"""``guidance-intake`` / ``python -m guidance_intake``: web, worker and operator commands (the kernel's CLI)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from guidance_intake.handlers import IntakeDeps
from guidance_shared.runtime import ServiceSpec
from guidance_shared.service_cli import AppFactory, run


def main(spec: ServiceSpec[IntakeDeps], create_app: AppFactory, argv: Sequence[str] | None = None) -> int:
    """Run one command for the service ``bootstrap`` describes (``spec``, ``create_app``)."""
    return run(spec, create_app, sys.argv[1:] if argv is None else argv)
