"""``guidance-assessment`` / ``python -m guidance_assessment``: web, worker and operator commands.

The commands are the kernel's (``guidance_shared.service_cli``), run on the service that
``bootstrap`` describes; ``__main__`` hands it over, as the layers let nothing here import bootstrap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Flask

from guidance_assessment.handlers.deps import AssessmentDeps
from guidance_shared.runtime import Runtime, ServiceSpec
from guidance_shared.service_cli import run


def main(
    spec: ServiceSpec[AssessmentDeps], create_app: Callable[[Runtime[AssessmentDeps]], Flask], argv: Sequence[str]
) -> int:
    """Parse ``argv`` (web, worker, provision, verify, lag, parked, redrive, rebuild, …) and run it."""
    return run(spec, create_app, argv)
