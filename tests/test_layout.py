"""Every service has the same shape, so a reader who knows one can find their way in the others.

At a service's package root there are only ``__init__``, ``__main__``, ``bootstrap``, ``settings`` and
``handlers`` (a module or a package) besides the layer packages ``domain``, ``adapters`` and
``entrypoints``; everything else belongs in one of them (import-linter's layer contracts then say
what may import what). Data folders (templates, static files, configuration) may sit beside them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("intake", "revisit", "disclosure", "assessment")
ROOT_MODULES = {"__init__", "__main__", "bootstrap", "settings", "handlers"}
LAYER_PACKAGES = {"domain", "adapters", "entrypoints", "handlers"}
# Same concept, same module name in every service: where each one exists, it is called this.
SAME_NAMES = ("domain/commands.py", "bootstrap.py", "settings.py")


def misplaced(package: Path) -> list[str]:
    """Modules and packages at ``package``'s root that the layout does not allow."""
    found = []
    for entry in sorted(package.iterdir()):
        if entry.name.startswith((".", "__pycache__")):
            continue
        if entry.is_file() and entry.suffix == ".py" and entry.stem not in ROOT_MODULES:
            found.append(entry.name)
        elif entry.is_dir() and (entry / "__init__.py").exists() and entry.name not in LAYER_PACKAGES:
            found.append(f"{entry.name}/")
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_package_root_holds_only_the_layout(service: str) -> None:
    package = ROOT / "services" / service / "src" / f"guidance_{service}"
    assert misplaced(package) == []
    for name in SAME_NAMES:
        assert (package / name).exists(), f"{service} lacks {name}"
    for layer in ("domain", "adapters", "entrypoints"):
        assert (package / layer / "__init__.py").exists(), f"{service} lacks {layer}/"


def sources(package: Path) -> dict[str, str]:
    return {path.relative_to(package).as_posix(): path.read_text(encoding="utf-8") for path in package.rglob("*.py")}


@pytest.mark.parametrize("service", SERVICES)
def test_only_settings_reads_the_environment_and_one_function_reads_the_running_app(service: str) -> None:
    found = sources(ROOT / "services" / service / "src" / f"guidance_{service}")
    readers = [p for p, text in found.items() if p != "settings.py" and ("os.environ" in text or "getenv" in text)]
    assert readers == []
    assert [p for p, text in found.items() if "current_app.extensions" in text] == ["entrypoints/http/context.py"]
    assert found["entrypoints/http/context.py"].count("current_app.extensions") == 1


def test_the_check_finds_a_module_added_at_the_root(tmp_path: Path) -> None:
    package = tmp_path / "guidance_fake"
    for layer in ("domain", "adapters", "entrypoints", "helpers"):
        (package / layer).mkdir(parents=True)
        (package / layer / "__init__.py").touch()
    (package / "templates").mkdir()
    for name in ("__init__.py", "bootstrap.py", "settings.py", "handlers.py", "api_things.py", "notes.txt"):
        (package / name).touch()
    assert misplaced(package) == ["api_things.py", "helpers/"]
