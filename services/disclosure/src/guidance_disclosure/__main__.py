"""``guidance-disclosure`` / ``python -m guidance_disclosure``: web, worker and operator commands."""

from __future__ import annotations

import sys

from guidance_disclosure.bootstrap import SPEC, create_app
from guidance_disclosure.entrypoints import cli


def main() -> int:
    return cli.main(SPEC, create_app, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
