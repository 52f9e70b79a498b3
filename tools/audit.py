"""Audit the pinned dependencies for known vulnerabilities (pip-audit, PyPI's vulnerability data).

`./run-tests` runs it on requirements/lock.txt, the whole install: it exits 1 when a pinned version has a
known vulnerability, naming each with its advisory and the versions that fix it (raise the pin with
`tools/lock --upgrade-package NAME`, within the bounds, or lift the bound). A distribution the service could not
answer for is reported as not audited; with --strict that fails too (where PyPI's vulnerability data should be
reachable, as in a release build).

pip-audit reads PyPI's per-version JSON. Where only the project JSON answers (as on the machines this project is
built on), a pin the service skipped is still audited when it is the project's latest release: the project JSON
lists the known vulnerabilities of exactly that release.
"""

from __future__ import annotations

import argparse
import json
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


def fill_from_project_json(report: dict[str, Any], project: Callable[[str], dict[str, Any] | None]) -> dict[str, Any]:
    """The report with each skipped pin that is its project's latest release audited from the project JSON.

    `project(name)` is PyPI's /pypi/NAME/json document, or None when it could not be had. The pin's version is
    read from the skip reason pip-audit gives ("...: NAME (VERSION)").
    """
    skipped = [d for d in report["dependencies"] if "skip_reason" in d]
    with ThreadPoolExecutor(8) as pool:
        documents = dict(
            zip([d["name"] for d in skipped], pool.map(project, [d["name"] for d in skipped]), strict=True)
        )
    dependencies = []
    for dependency in report["dependencies"]:
        document = documents.get(dependency["name"]) if "skip_reason" in dependency else None
        version = dependency.get("skip_reason", "").rpartition("(")[2].rstrip(")")
        if document is None or document["info"]["version"] != version:
            dependencies.append(dependency)
            continue
        vulns = [
            {"id": v["id"], "aliases": v.get("aliases") or [], "fix_versions": v.get("fixed_in") or []}
            for v in document.get("vulnerabilities") or []
            if not v.get("withdrawn")
        ]
        dependencies.append({"name": dependency["name"], "version": version, "vulns": vulns})
    return {**report, "dependencies": dependencies}


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
            f"(no answer for their version, and not their project's latest release), e.g. {skipped[0]['skip_reason']}"
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
        report = fill_from_project_json(json.loads(output.read_text(encoding="utf-8")), pypi_project)
        code, lines = verdict(report, strict=args.strict)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
