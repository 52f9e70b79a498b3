"""The files assessment reads: the rubric (考核评分方案, YAML) and a department registry for short names.

Both are read once, when the service is wired (``bootstrap.wire``), so a malformed file is said at
start-up, not at year end.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from guidance_assessment.domain.rubric import Rubric


def load_rubric(path: Path | str | None = None) -> Rubric:
    """The rubric at ``path`` (``GUIDANCE_ASSESSMENT_RUBRIC``), else the one shipped with the package."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("guidance_assessment").joinpath("data/rubric.yaml").read_text(encoding="utf-8")
    return Rubric.from_mapping(yaml.safe_load(text) or {})


def department_names(path: Path | str | None) -> dict[str, str]:
    """Short names from a department registry YAML (the format intake reads: ``departments: [{department_id,
    name, short_name}]``); without one, pages show the name the events carry or the start of each id."""
    if not path:
        return {}
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {
        str(entry["department_id"]).lower(): str(entry.get("short_name") or entry.get("name") or entry["department_id"])
        for entry in raw.get("departments") or []
    }
