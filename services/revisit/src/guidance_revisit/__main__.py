"""``guidance-revisit`` / ``python -m guidance_revisit``: the service's command line (``entrypoints.cli``)."""

from __future__ import annotations

import sys

from guidance_revisit.bootstrap import SPEC, create_app
from guidance_revisit.entrypoints import cli


def main() -> int:
    return cli.main(SPEC, create_app, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
