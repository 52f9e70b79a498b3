"""``guidance-assessment`` / ``python -m guidance_assessment``: the service's command line (``entrypoints/cli.py``)."""

from __future__ import annotations

import sys

from guidance_assessment import bootstrap
from guidance_assessment.entrypoints import cli


def main() -> int:
    return cli.main(bootstrap.SPEC, bootstrap.create_app, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
