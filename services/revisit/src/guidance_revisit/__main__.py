"""``guidance-revisit`` / ``python -m guidance_revisit``: web, worker and operator commands."""

from __future__ import annotations

import sys

from guidance_revisit.app import create_app
from guidance_revisit.service import SPEC
from guidance_shared.service_cli import run


def main() -> int:
    return run(SPEC, create_app, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
