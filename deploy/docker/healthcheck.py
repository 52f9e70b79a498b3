#!/usr/bin/env python3
"""Docker HEALTHCHECK of a web container: GET /healthz on the port the service itself listens on.

The port comes from the same settings the service reads (GUIDANCE_HTTP_PORT, else the service's
default), so the check and the server cannot disagree. Exit status 0 is healthy, 1 is not (Docker's
contract). ``healthcheck.py SERVICE`` checks a named service; in the image it reads the built-in name.
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from guidance_shared.settings import Settings

SERVICE_FILE = Path("/etc/guidance/service")


def main(argv: list[str]) -> int:
    try:
        service = argv[0] if argv else SERVICE_FILE.read_text(encoding="utf-8").strip()
        port = Settings.from_env(service).http_port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
            return 0 if response.status == 200 else 1
    except Exception as exc:  # any failure means unhealthy; say why in `docker inspect`
        print(f"unhealthy: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
