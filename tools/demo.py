"""Watch a guidance act travel: POST it to intake, then poll disclosure's public API until it is there."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INTAKE, DISCLOSURE = "http://127.0.0.1:8001", "http://127.0.0.1:8003"


def main() -> int:
    body = (ROOT / "examples" / "guidance" / "minor_issue_warning.json").read_bytes()
    request = urllib.request.Request(
        f"{INTAKE}/v1/guidance",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        created = json.load(response)
    guidance_id = created["guidance_id"]
    print(f"intake accepted guidance {guidance_id} ({created['details']['doc_no']})")
    started = time.monotonic()
    while time.monotonic() - started < 30:
        try:
            with urllib.request.urlopen(f"{DISCLOSURE}/public/v1/guidance/{guidance_id}", timeout=5) as response:
                item = json.load(response)
            print(f"disclosure publishes it after {time.monotonic() - started:.1f}s:")
            print(json.dumps(item, ensure_ascii=False, indent=2))
            return 0
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
        time.sleep(0.2)
    print("not published within 30s; see var/log/", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
