"""Service boundaries, checked by tools rather than by memory (docs/architecture.md §2; docs/decisions/0006).

No service imports another service's code, the shared kernel imports no
service, and no service reaches for another service's database. Two checks:
import-linter over the installed packages (``.importlinter``), and a plain scan
of every ``.py`` under ``services/<service>/`` (tests included) for another
service's package name or database setting, which also catches what an import
graph cannot see (``importlib`` strings, environment variable names, URLs).
Each check is also shown to fail on a planted violation, so a green run means
something.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("intake", "revisit", "disclosure", "assessment")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


# -- the plain scan ------------------------------------------------------------------


def _patterns(other: str) -> list[tuple[str, re.Pattern[str]]]:
    """What in one service's source would mean it reaches into ``other``."""
    return [
        # the package, in an import, an importlib string or an env var such as GUIDANCE_INTAKE_DATABASE_URL
        ("names the package", re.compile(rf"guidance_{other}(?![a-z0-9])", re.IGNORECASE)),
        ("reads its settings", re.compile(rf"from_env\(\s*(?:service\s*=\s*)?[\"']{other}[\"']")),
        ("poses as it", re.compile(rf"ServiceSpec\(\s*name\s*=\s*[\"']{other}[\"']")),
        ("opens its SQLite file", re.compile(rf"(?<![\w.]){other}\.sqlite")),
        ("opens its PostgreSQL database", re.compile(rf"postgres(?:ql)?(?:\+\w+)?://[^\s\"']*/{other}(?![\w-])")),
    ]


def crossings(service: str, source: str, filename: str = "<source>") -> list[str]:
    """Every place where ``source``, a file of ``service``, reaches into another service; empty if none."""
    found: list[str] = []
    for other in SERVICES:
        if other == service:
            continue
        for what, pattern in _patterns(other):
            for match in pattern.finditer(source):
                line = source.count("\n", 0, match.start()) + 1
                found.append(f"{filename}:{line}: {service} {what} of {other}: {match.group(0)!r}")
    return found


def scan(root: Path) -> list[str]:
    """Crossings in every ``.py`` file under ``root/services/<service>/``."""
    found: list[str] = []
    for service in SERVICES:
        for path in sorted((root / "services" / service).rglob("*.py")):
            found += crossings(service, path.read_text(encoding="utf-8"), str(path.relative_to(root)))
    return found


def test_no_service_source_reaches_into_another_service() -> None:
    assert scan(ROOT) == []


def test_the_scan_reads_every_service() -> None:
    """A renamed or moved service directory must not make the scan pass by finding nothing."""
    scanned = {path.relative_to(ROOT).parts[:3] for s in SERVICES for path in (ROOT / "services" / s).rglob("*.py")}
    assert {("services", s, "src") for s in SERVICES} <= scanned


@pytest.mark.parametrize(
    "line",
    [
        "from guidance_intake.handlers import issue_guidance",
        "import guidance_disclosure.projection as other",
        "api = importlib.import_module('guidance_assessment.api')",
        "url = os.environ['GUIDANCE_INTAKE_DATABASE_URL']",
        "settings = Settings.from_env('intake')",
        'settings = Settings.from_env(service="disclosure")',
        "SPEC = ServiceSpec(name='assessment', publishes=None)",
        "engine = make_engine('sqlite:///var/intake.sqlite')",
        "engine = make_engine('postgresql://guidance:secret@postgres:5432/disclosure')",
    ],
)
def test_the_scan_catches_a_crossing(line: str) -> None:
    assert len(crossings("revisit", f'"""A module."""\n\n{line}\n', "bad.py")) == 1


@pytest.mark.parametrize(
    "line",
    [
        "from guidance_shared.runtime import ServiceSpec",
        "from guidance_revisit.projection import GuidanceHistoryProjection",
        "SPEC = ServiceSpec(name='revisit', publishes='revisit.events', consumes=('intake.events',))",
        "guidance_id = data['guidance_id']",
        "settings = Settings.from_env('revisit')",
        '"""intake registers guidance acts; disclosure publishes them."""',
        "engine = make_engine('postgresql://revisit:secret@postgres:5432/revisit')",
    ],
)
def test_the_scan_allows_shared_code_topics_and_plain_words(line: str) -> None:
    assert crossings("revisit", f"{line}\n") == []


def test_the_scan_finds_a_crossing_planted_in_a_service_tree(tmp_path: Path) -> None:
    for service in SERVICES:
        package = tmp_path / "services" / service / "src" / f"guidance_{service}"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(f'"""The {service} service."""\n', encoding="utf-8")
    tests = tmp_path / "services" / "assessment" / "tests"
    tests.mkdir()
    (tests / "test_sneaky.py").write_text("from guidance_disclosure.api import public\n", encoding="utf-8")
    assert scan(tmp_path) == [
        "services/assessment/tests/test_sneaky.py:1: assessment names the package of disclosure: 'guidance_disclosure'"
    ]


# -- import-linter ---------------------------------------------------------------------


def lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _contracts(root: Path) -> list[configparser.SectionProxy]:
    config = configparser.ConfigParser()
    config.read(root / ".importlinter", encoding="utf-8")
    return [config[section] for section in config.sections() if section.startswith("importlinter:contract:")]


def test_import_linter_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(_contracts(ROOT))} kept, 0 broken." in result.stdout


def _names(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def test_import_linter_contracts_break_on_a_planted_import(tmp_path: Path) -> None:
    """The repo's own contracts, applied to fake packages of the same shape with one violation each."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    for section in config.sections():
        for key, value in config[section].items():
            config[section][key] = value.replace("guidance_", "fake_")
    with (tmp_path / ".importlinter").open("w", encoding="utf-8") as out:
        config.write(out)

    planted: dict[str, list[str]] = {}
    modules: set[str] = set(_names(config["importlinter"]["root_packages"]))
    for section in config.sections():
        contract = config[section]
        named = [
            n
            for key in ("modules", "source_modules", "forbidden_modules", "layers")
            for n in _names(contract.get(key, ""))
        ]
        modules.update(n for n in named if n.startswith("fake_"))
        kind = contract.get("type")
        if kind == "independence":
            importer, imported = _names(contract["modules"])[1], _names(contract["modules"])[0] + ".handlers"
            modules.add(imported)
        elif kind == "forbidden":
            importer, imported = _names(contract["source_modules"])[0], _names(contract["forbidden_modules"])[0]
        elif kind == "layers":
            importer, imported = _names(contract["layers"])[-1], _names(contract["layers"])[0]
        else:
            continue
        planted.setdefault(importer, []).append(f"import {imported}\n")
    for module in sorted(modules):
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):
            package = tmp_path.joinpath(*parts[:depth])
            package.mkdir(exist_ok=True)
            (package / "__init__.py").touch()
    for module, lines in planted.items():
        (tmp_path.joinpath(*module.split(".")) / "__init__.py").write_text("".join(lines), encoding="utf-8")

    result = lint_imports(tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"Contracts: 0 kept, {len(_contracts(ROOT))} broken." in result.stdout
    assert "fake_revisit -> fake_intake.handlers" in result.stdout
