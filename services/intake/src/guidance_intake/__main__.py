"""``guidance-intake`` / ``python -m guidance_intake``: web, worker and operator commands."""

from __future__ import annotations

import sys

from guidance_intake.bootstrap import SPEC, create_app
from guidance_intake.entrypoints import cli


def main() -> int:
    return cli.main(SPEC, create_app)


if __name__ == "__main__":
    sys.exit(main())
