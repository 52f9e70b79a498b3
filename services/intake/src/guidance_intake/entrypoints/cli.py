"""``guidance-intake``: web, worker and operator commands, on the kernel's command line.

The spec and the app factory come from ``bootstrap`` by parameter (``__main__`` passes them), so
this layer stays below the one that builds the service.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from guidance_intake.handlers import IntakeDeps
from guidance_shared.runtime import ServiceSpec
from guidance_shared.service_cli import AppFactory, run


def main(spec: ServiceSpec[IntakeDeps], create_app: AppFactory, argv: Sequence[str] | None = None) -> int:
    """Run one command for the service ``bootstrap`` describes (``spec``, ``create_app``)."""
    return run(spec, create_app, sys.argv[1:] if argv is None else argv)
