"""``guidance-disclosure`` / ``python -m guidance_disclosure``: web, worker and operator commands."""

from __future__ import annotations

from collections.abc import Sequence

from guidance_disclosure.handlers import DisclosureDeps
from guidance_shared.runtime import ServiceSpec
from guidance_shared.service_cli import AppFactory, run


def main(spec: ServiceSpec[DisclosureDeps], create_app: AppFactory, argv: Sequence[str]) -> int:
    """Run the kernel's command line for disclosure, built from ``bootstrap`` (which ``__main__`` passes in)."""
    return run(spec, create_app, list(argv))
