"""``guidance-revisit``: web, worker and operator commands, on the kernel's command line.

The spec and the app factory come from ``bootstrap`` by parameter (``__main__`` passes them), so
this layer stays below the one that builds the service.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Flask

from guidance_revisit.handlers import RevisitDeps
from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.service_cli import run


def main(spec: ServiceSpec[RevisitDeps], create_app: Callable[[Runtime], Flask], argv: Sequence[str]) -> int:
    """Run one command (``argv`` without the program name) of the service ``spec`` describes."""
    return run(spec, create_app, argv)
