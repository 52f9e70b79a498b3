"""``guidance-assessment`` / ``python -m guidance_assessment``: web, worker and operator commands."""

from __future__ import annotations

import sys

from guidance_assessment.app import create_app
from guidance_assessment.service import SPEC
from guidance_shared.service_cli import run


def main() -> int:
    return run(SPEC, create_app, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
