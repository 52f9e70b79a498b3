"""intake's configuration files: the department registry (YAML) and exemption lists (免罚清单, CSV or YAML).

The files are read and parsed here; what their contents mean is decided in the domain
(``DepartmentRegistry.from_mapping``, ``ExemptionList.from_table`` / ``from_entries``), so a county's
edit is checked by the same rules whichever file it came from. Without a configured file the samples
shipped in the package (``config/``) are used.
"""

from __future__ import annotations

import csv
import io
import os
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml

from guidance_intake.domain.departments import DepartmentConfigError, DepartmentRegistry
from guidance_intake.domain.exemptions import ExemptionList

Source = str | os.PathLike[str] | Traversable


def departments_from_yaml(path: Source) -> DepartmentRegistry:
    """The registry in a YAML file; an unreadable file or a bad entry is a DepartmentConfigError naming the file."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8") if isinstance(path, Traversable) else Path(path).read_text("utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise DepartmentConfigError(f"{source}: cannot read the department configuration: {exc}") from exc
    return DepartmentRegistry.from_mapping(data, source=source)


def default_departments() -> DepartmentRegistry:
    """The county configuration shipped with the package (某县)."""
    return departments_from_yaml(files("guidance_intake") / "config" / "departments.yaml")


def load_departments(path: Path | None) -> DepartmentRegistry:
    """The configured registry (``GUIDANCE_DEPARTMENTS``), or the shipped one."""
    return departments_from_yaml(path) if path is not None else default_departments()


def exemptions_from_csv(path_or_text: Source) -> ExemptionList:
    """A list with Chinese headers; a ``str`` holding a line break is the CSV itself, else a path."""
    text, source = _read(path_or_text)
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    return ExemptionList.from_table(next(rows, None), rows, source)


def exemptions_from_yaml(path_or_text: Source) -> ExemptionList:
    """``entries:`` (or a bare list) with English keys; a ``str`` holding a line break is the YAML itself."""
    text, source = _read(path_or_text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return ExemptionList.unreadable(f"Not valid YAML: {exc}", f"不是有效的YAML：{exc}", source)
    return ExemptionList.from_entries(data, source)


def sample_exemptions() -> ExemptionList:
    """The sample 市场监管 list shipped with the package."""
    return exemptions_from_csv(files("guidance_intake") / "config" / "exemptions-sample.csv")


def load_exemptions(path: Path | None) -> ExemptionList:
    """The configured list (``GUIDANCE_EXEMPTION_LISTS``, YAML by its suffix, else CSV), or the sample;
    a configured list with a bad row refuses to load (ExemptionListError naming every bad row)."""
    if path is None:
        return sample_exemptions()
    loader = exemptions_from_yaml if str(path).endswith((".yaml", ".yml")) else exemptions_from_csv
    return loader(path).require_ok()


def _read(source: Source) -> tuple[str, str]:
    if isinstance(source, Traversable):
        return source.read_text(encoding="utf-8-sig"), str(source)
    if isinstance(source, str) and "\n" in source:
        return source, "<text>"
    return Path(source).read_text(encoding="utf-8-sig"), str(source)
