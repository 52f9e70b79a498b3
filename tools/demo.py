"""Watch a guidance act travel: POST it to intake, then poll disclosure's public API until it is there.

The act is about an individual business (个体工商户), whose operator is a natural person: intake seals the
operator's name, address and phone in the event it records and publishes, and disclosure opens them through
intake's key API only to mask them in what it publishes (docs/personal-data.md §6.1).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INTAKE = os.environ.get("GUIDANCE_INTAKE_URL", "http://127.0.0.1:8001")
DISCLOSURE = os.environ.get("GUIDANCE_DISCLOSURE_URL", "http://127.0.0.1:8003")
VAR = Path(os.environ.get("GUIDANCE_VAR_DIR", str(ROOT / "var")))
#: The act posted: the example minor-issue warning, addressed to the individual business of the example case
#: (its operator a natural person) so that the demo shows a person's data sealed and redacted.
EXAMPLE = ROOT / "examples" / "guidance" / "minor_issue_warning.json"
COUNTERPART = ROOT / "examples" / "cases" / "open.json"


def _token(var: Path) -> str:
    """An officer's token for the example's department, signed with the suite's development key."""
    from guidance_shared.auth import AuthSettings, claims_for, ensure_dev_keys
    from guidance_shared.events.examples import DEPARTMENT_ID

    settings = AuthSettings.from_env("demo", {**os.environ, "GUIDANCE_VAR_DIR": str(var)})
    claims = claims_for(settings=settings, sub="demo-officer", department_id=DEPARTMENT_ID, roles=["officer"])
    return ensure_dev_keys(settings).sign(claims)


def _problem(error: urllib.error.HTTPError) -> str:
    """The problem's title and detail, or the raw start of the body if it is not a problem."""
    body = error.read()
    try:
        problem = json.loads(body)
        return f"{problem.get('title', '')}: {problem.get('detail', '')}"
    except ValueError:
        return body[:200].decode("utf-8", "replace")


def main(argv: list[str]) -> int:
    var = VAR
    if argv[:1] == ["--var-dir"] and len(argv) == 2:
        var = Path(argv[1])
    elif argv:
        print("usage: tools/demo [--var-dir DIR]   (default: $GUIDANCE_VAR_DIR, else var/)", file=sys.stderr)
        return 2
    act = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    act["counterpart"] = json.loads(COUNTERPART.read_text(encoding="utf-8"))["counterpart"]
    body = json.dumps(act, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        f"{INTAKE}/v1/guidance",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
            "Authorization": f"Bearer {_token(var)}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            created = json.load(response)
    except urllib.error.HTTPError as error:
        print(f"intake refused the act: {error.code} {_problem(error)}", file=sys.stderr)
        if error.code == 401:
            print(
                f"  The token was signed with the development key under {var / 'auth'}; the suite at {INTAKE} "
                "uses another. Run the demo with the suite's GUIDANCE_VAR_DIR (or --var-dir).",
                file=sys.stderr,
            )
        return 1
    except OSError as error:
        print(f"intake does not answer at {INTAKE} ({error}): is ./run-suite running?", file=sys.stderr)
        return 1
    guidance_id = created["guidance_id"]
    print(f"intake accepted guidance {guidance_id} ({created['details']['doc_no']})")
    started = time.monotonic()
    while time.monotonic() - started < 30:
        try:
            with urllib.request.urlopen(f"{DISCLOSURE}/public/v1/guidance/{guidance_id}", timeout=5) as response:
                item = json.load(response)
            print(f"disclosure publishes it after {time.monotonic() - started:.1f}s, the operator's data masked:")
            print(json.dumps(item, ensure_ascii=False, indent=2))
            return 0
        except urllib.error.HTTPError as error:
            if error.code != 404:
                print(f"disclosure answered {error.code} {_problem(error)}", file=sys.stderr)
                return 1
        except OSError as error:
            print(f"disclosure does not answer at {DISCLOSURE} ({error}): is ./run-suite running?", file=sys.stderr)
            return 1
        time.sleep(0.2)
    print(
        f"not published within 30s; see {var / 'log'} (disclosure's worker log names an act it could not open: "
        "is intake's key API reachable, and disclosure's token valid?)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
