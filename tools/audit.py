"""Audit the pinned dependencies for known vulnerabilities (PyPI's vulnerability data; pip-audit).

`./run-tests` runs it on requirements/lock.txt, the whole install: it exits 1 when a pinned version has a
known vulnerability, naming each with its advisory and the versions that fix it (raise the pin with
`tools/lock --upgrade-package NAME`, within the bounds, or lift the bound). A pin nothing could be learnt about is
reported as not audited; with --strict that fails too (where the vulnerability data must be reachable).

PyPI's project JSON lists the known vulnerabilities of the project's latest release, so a pin at that release
(most pins, the lock being compiled from the newest versions the bounds allow) is audited from it, many requests
at a time. The other pins go to pip-audit, which asks about each version (PyPI's per-version JSON). Where that
does not answer (as on the machines this project is built on today), they are reported as not audited.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"


def read_pins(requirements: Path) -> dict[str, str]:
    """name -> version of a lock (hashes and comments aside)."""
    return dict(re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", requirements.read_text(encoding="utf-8"), re.M))


def audit_from_project_json(
    pins: dict[str, str], project: Callable[[str], dict[str, Any] | None]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """(each pin at its project's latest release, audited in pip-audit's report form; the pins left over).

    `project(name)` is PyPI's /pypi/NAME/json document, or None when it could not be had. Withdrawn advisories
    do not count.
    """
    with ThreadPoolExecutor(16) as pool:
        documents = dict(zip(pins, pool.map(project, pins), strict=True))
    audited, left = [], {}
    for name, version in pins.items():
        document = documents[name]
        if document is None or document["info"]["version"] != version:
            left[name] = version
            continue
        vulns = [
            {"id": v["id"], "aliases": v.get("aliases") or [], "fix_versions": v.get("fixed_in") or []}
            for v in document.get("vulnerabilities") or []
            if not v.get("withdrawn")
        ]
        audited.append({"name": name, "version": version, "vulns": vulns})
    return audited, left


def run_pip_audit(pins: dict[str, str]) -> list[dict[str, Any]]:
    """pip-audit's report on these pins (no resolution: each pinned version alone)."""
    if not pins:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        requirements, output = Path(tmp, "pins.txt"), Path(tmp, "audit.json")
        requirements.write_text("".join(f"{name}=={version}\n" for name, version in pins.items()), encoding="utf-8")
        command = [str(Path(sys.executable).with_name("pip-audit")), "--disable-pip", "--no-deps"]
        command += ["--progress-spinner", "off", "--format", "json", "--output", str(output), "-r", str(requirements)]
        run = subprocess.run(command, capture_output=True, text=True)
        if not output.exists():  # pip-audit itself failed (not a finding): nothing learnt about these pins
            reason = f"pip-audit failed (exit {run.returncode}): {run.stderr.strip()[-300:]}"
            return [{"name": name, "skip_reason": reason} for name in pins]
        dependencies: list[dict[str, Any]] = json.loads(output.read_text(encoding="utf-8"))["dependencies"]
        return dependencies


def pypi_project(name: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json", timeout=30) as response:
            document: dict[str, Any] = json.load(response)
            return document
    except (OSError, ValueError):
        return None


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
            f"(not their project's latest release, and no answer for their version), e.g. {skipped[0]['skip_reason']}"
        )
    if vulnerable:
        return 1, lines
    if skipped and strict:
        return 1, lines
    lines.append(f"dependency audit: no known vulnerability in the {audited} audited pinned distributions")
    return 0, lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requirements", nargs="?", type=Path, default=LOCK, help="a lock (default: %(default)s)")
    parser.add_argument("--strict", action="store_true", help="fail when a pinned distribution could not be audited")
    args = parser.parse_args(argv)
    audited, left = audit_from_project_json(read_pins(args.requirements), pypi_project)
    code, lines = verdict({"dependencies": audited + run_pip_audit(left)}, strict=args.strict)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
