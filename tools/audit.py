"""Audit the pinned dependencies for known vulnerabilities (pip-audit, PyPI's vulnerability data).

`./run-tests` runs it on requirements/lock.txt, the whole install: it exits 1 when a pinned version has a
known vulnerability, naming each with its advisory and the versions that fix it (raise the pin with
`tools/lock --upgrade-package NAME`, within the bounds, or lift the bound). A distribution the service could not
answer for is reported as not audited; with --strict that fails too (where PyPI's vulnerability data should be
reachable, as in a release build).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"


def verdict(report: dict[str, Any], strict: bool = False) -> tuple[int, list[str]]:
    """The exit code and the lines to print for a pip-audit JSON report."""
    dependencies = report["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    lines = []
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            lines.append(
                f"dependency audit: {dependency['name']} {dependency['version']} has {vuln['id']}"
                + (f" ({aliases})" if aliases else "")
                + f"; fixed in: {fixed}"
            )
    audited = len(dependencies) - len(skipped)
    if skipped:
        lines.append(
            f"dependency audit: {len(skipped)} of {len(dependencies)} pinned distributions not audited "
            f"(no answer from the vulnerability service), e.g. {skipped[0]['skip_reason']}"
        )
    if vulnerable:
        return 1, lines
    if skipped and strict:
        return 1, lines
    lines.append(f"dependency audit: no known vulnerability in the {audited} audited pinned distributions")
    return 0, lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requirements", nargs="?", type=Path, default=LOCK, help="a hashed lock (default: %(default)s)")
    parser.add_argument("--strict", action="store_true", help="fail when a distribution could not be audited")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp, "audit.json")
        command = [str(Path(sys.executable).with_name("pip-audit")), "--disable-pip", "--require-hashes"]
        command += [
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(output),
            "-r",
            str(args.requirements),
        ]
        run = subprocess.run(command, capture_output=True, text=True)
        if not output.exists():  # pip-audit itself failed (not a finding)
            print(f"dependency audit: pip-audit failed (exit {run.returncode}): {run.stderr.strip()}", file=sys.stderr)
            return 2 if args.strict else 0
        code, lines = verdict(json.loads(output.read_text(encoding="utf-8")), strict=args.strict)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
