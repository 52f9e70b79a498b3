"""intake keeps the suite's layout: at the package root only the entry, wiring, settings and handlers."""

from __future__ import annotations

from pathlib import Path

import guidance_intake

ROOT_MODULES = {"__init__.py", "__main__.py", "bootstrap.py", "settings.py", "handlers.py"}
ROOT_PACKAGES = {"domain", "adapters", "entrypoints"}
PACKAGE = Path(guidance_intake.__file__).parent


def test_the_package_root_holds_only_the_layouts_modules_and_packages() -> None:
    modules = {path.name for path in PACKAGE.glob("*.py")}
    packages = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    assert modules <= ROOT_MODULES, sorted(modules - ROOT_MODULES)
    assert packages <= ROOT_PACKAGES, sorted(packages - ROOT_PACKAGES)


def test_no_module_outside_settings_reads_the_environment() -> None:
    readers = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name != "settings.py" and ("os.environ" in (text := path.read_text("utf-8")) or "getenv" in text)
    ]
    assert readers == []
