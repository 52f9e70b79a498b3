"""Reproducible builds: the licence the packages declare, the lock every install is made from, the audit.

The LICENSE file is the unmodified Apache License 2.0 and every pyproject declares it. requirements/lock.txt was
compiled from the dependency declarations as they are now (tools/lock records their digest: an offline check),
and compiling again with uv from PyPI, keeping its pins, gives the committed files byte for byte (hashes fetched
afresh); it pins every requirement of the kernel, its extras, the services and the dev tools at a version their
specifiers allow, with hashes; the runtime lock is the same pins; every declared requirement has an upper bound;
the installers use the lock. The dependency audit fails on a known vulnerability.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from tools import audit, lockfile

ROOT = Path(__file__).resolve().parents[1]
#: sha256 of the Apache License 2.0 as the ASF publishes it (apache.org/licenses/LICENSE-2.0.txt), first blank
#: line dropped: the text most packages ship, and GitHub's licence detection matches.
APACHE_2_SHA256 = "c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4"
COPYRIGHT = "   Copyright 2026 the guidance suite authors"
TEMPLATE = "   Copyright [yyyy] [name of copyright owner]"


def test_license_is_the_unmodified_apache_2_text_with_our_copyright_line() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.count(COPYRIGHT + "\n") == 1
    original = text.replace(COPYRIGHT + "\n", TEMPLATE + "\n")
    assert hashlib.sha256(original.encode()).hexdigest() == APACHE_2_SHA256


@pytest.mark.parametrize("pyproject", lockfile.PYPROJECTS, ids=lambda p: p.parent.name)
def test_each_package_declares_the_license_of_the_file(pyproject: Path) -> None:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License\n")


def pins(lock: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a lock file."""
    text = re.sub(r"\\\n", " ", lock.read_text(encoding="utf-8"))
    found = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})*)\s*", line)
        assert match, f"{lock.name}: not a hashed pin: {line!r}"
        found[canonicalize_name(match[1])] = (match[2], re.findall(r"sha256:([0-9a-f]{64})", match[3]))
    return found


def declared_requirements() -> list[Requirement]:
    """Every requirement of the kernel (with its extras), the services, dev.txt and lock.in, local ones aside."""
    local: set[str] = set()
    found = []
    for pyproject in lockfile.PYPROJECTS:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        local.add(canonicalize_name(project["name"]))
        found += project["dependencies"]
        for extra in project.get("optional-dependencies", {}).values():
            found += extra
    for path in (lockfile.DEV, lockfile.LOCK_IN):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith(("#", "-")):
                found.append(line)
    requirements = [Requirement(spec) for spec in found]
    return [r for r in requirements if canonicalize_name(r.name) not in local]


def test_the_lock_was_compiled_from_the_declarations_as_they_are() -> None:
    for lock in (lockfile.LOCK, lockfile.RUNTIME_LOCK):
        assert lockfile.recorded_digest(lock) == lockfile.inputs_digest(), (
            f"{lock.relative_to(ROOT)} is older than a pyproject, requirements/dev.txt or lock.in: run tools/lock"
        )


def test_compiling_again_gives_the_committed_locks(tmp_path: Path) -> None:
    """uv resolves the declarations again (from PyPI, keeping the committed pins): nothing may move."""
    full, runtime = lockfile.compile_locks(tmp_path)
    assert full.read_text(encoding="utf-8") == lockfile.LOCK.read_text(encoding="utf-8"), "run tools/lock"
    assert runtime.read_text(encoding="utf-8") == lockfile.RUNTIME_LOCK.read_text(encoding="utf-8"), "run tools/lock"


def test_every_requirement_is_pinned_with_hashes_at_an_allowed_version() -> None:
    locked = pins(lockfile.LOCK)
    assert all(hashes for _, hashes in locked.values())
    for requirement in declared_requirements():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is not in requirements/lock.txt: run tools/lock"
        assert requirement.specifier.contains(locked[name][0], prereleases=True), (requirement, locked[name][0])


def test_the_runtime_lock_is_the_same_pins_without_the_dev_tools() -> None:
    locked, runtime = pins(lockfile.LOCK), pins(lockfile.RUNTIME_LOCK)
    for name, pin in runtime.items():
        assert locked.get(name) == pin, name
    assert {"flask", "sqlalchemy", "kafka-python", "psycopg", "gunicorn", "icalendar"} <= runtime.keys()
    assert not {"pytest", "mypy", "ruff", "uv", "pip-audit", "hatchling"} & runtime.keys()


def test_every_declared_requirement_has_an_upper_bound() -> None:
    for requirement in declared_requirements():
        assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), (
            f"{requirement}: cap it below the next major of the locked version"
        )


def test_the_installers_use_the_lock() -> None:
    bootstrap = (ROOT / "tools" / "bootstrap").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements/lock.txt" in bootstrap
    assert "--no-deps" in bootstrap
    # the stamp that decides whether to reinstall covers the lock files
    stamp_inputs = next(line for line in bootstrap.splitlines() if line.startswith("inputs="))
    assert "requirements/*.txt" in stamp_inputs and "requirements/lock.in" in stamp_inputs
    dockerfile = (ROOT / "deploy" / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements/lock-runtime.txt" in dockerfile
    assert "COPY requirements/lock-runtime.txt" in dockerfile


# -- the dependency audit ---------------------------------------------------------------------------


def test_a_known_vulnerability_fails_the_audit_naming_the_advisory_and_the_fix() -> None:
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {
                "name": "jinja2",
                "version": "3.1.4",
                "vulns": [{"id": "GHSA-q2x7-8rv6-6q7h", "fix_versions": ["3.1.5"], "aliases": ["CVE-2024-56201"]}],
            },
        ],
        "fixes": [],
    }
    code, lines = audit.verdict(report)
    assert code == 1
    assert lines == ["dependency audit: jinja2 3.1.4 has GHSA-q2x7-8rv6-6q7h (CVE-2024-56201); fixed in: 3.1.5"]


def test_no_known_vulnerability_passes_and_says_what_was_not_audited() -> None:
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {"name": "uv", "skip_reason": "Dependency not found on PyPI and could not be audited: uv (0.13.9)"},
        ],
        "fixes": [],
    }
    code, lines = audit.verdict(report)
    assert code == 0
    assert "1 of 2 pinned distributions not audited" in lines[0]
    assert lines[-1] == "dependency audit: no known vulnerability in the 1 audited pinned distributions"
    assert audit.verdict(report, strict=True)[0] == 1


def test_a_pin_at_its_latest_release_is_audited_from_the_project_json() -> None:
    projects = {
        "jinja2": {
            "info": {"version": "3.1.4"},
            "vulnerabilities": [
                {"id": "GHSA-q2x7-8rv6-6q7h", "aliases": ["CVE-2024-56201"], "fixed_in": ["3.1.5"], "withdrawn": None},
                {"id": "PYSEC-0000-1", "aliases": [], "fixed_in": [], "withdrawn": "2024-01-01T00:00:00"},
            ],
        },
        "flask": {"info": {"version": "3.1.3"}, "vulnerabilities": []},
        "selenium": {"info": {"version": "4.52.0"}, "vulnerabilities": []},  # the pin is older: for pip-audit
    }
    pins = {"jinja2": "3.1.4", "flask": "3.1.3", "selenium": "4.51.0", "gone": "1.0"}  # gone: no document at all
    audited, left = audit.audit_from_project_json(pins, projects.get)
    assert audited == [
        {
            "name": "jinja2",
            "version": "3.1.4",
            "vulns": [{"id": "GHSA-q2x7-8rv6-6q7h", "aliases": ["CVE-2024-56201"], "fix_versions": ["3.1.5"]}],
        },
        {"name": "flask", "version": "3.1.3", "vulns": []},
    ]
    assert left == {"selenium": "4.51.0", "gone": "1.0"}
    code, lines = audit.verdict({"dependencies": audited})
    assert code == 1 and lines[0].startswith("dependency audit: jinja2 3.1.4 has GHSA-q2x7-8rv6-6q7h")


def test_the_audit_reads_the_pins_of_a_hashed_lock() -> None:
    locked = pins(lockfile.LOCK)
    assert audit.read_pins(lockfile.LOCK) == {name: version for name, (version, _) in locked.items()}


def test_the_audit_runs_on_a_hashed_lock(tmp_path: Path) -> None:
    """The real audit on two pins of the lock (selenium is pinned below its latest release: pip-audit's part)."""
    locked = pins(lockfile.LOCK)
    two = tmp_path / "two.txt"
    two.write_text(
        "".join(f"{name}=={locked[name][0]} --hash=sha256:{locked[name][1][0]}\n" for name in ("flask", "selenium")),
        encoding="utf-8",
    )
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "audit.py"), str(two)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith("dependency audit: no known vulnerability in the ")


def test_run_tests_fails_when_the_audit_fails() -> None:
    script = (ROOT / "run-tests").read_text(encoding="utf-8")
    assert "tools/audit.py" in script
    assert 'wait "$audit_pid" || audit_rc=$?' in script
    assert '[ "$audit_rc" -eq 0 ] || {' in script
