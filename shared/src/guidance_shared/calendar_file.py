"""The holiday arrangement an operator supplies for a year chinesecalendar does not know yet (YAML).

Kept apart from ``workdays`` so the working calendar the domain counts with reads no files::

    holidays: [2027-01-01, 2027-02-05, ...]   # days off on what would be a working day
    workdays: [2027-02-14, ...]              # make-up working days on what would be a weekend
    years: [2027]                           # years this file fully describes
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from guidance_shared.workdays import WorkingCalendar


def load_calendar(path: Path | None) -> WorkingCalendar:
    """The calendar with the overrides of ``path`` (``GUIDANCE_CALENDAR_OVERRIDES``); the package's alone if None."""
    if path is None:
        return WorkingCalendar()
    raw = path.read_bytes()
    data: Any = yaml.safe_load(raw.decode("utf-8")) or {}
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: expected a mapping with holidays, workdays and years")
    return WorkingCalendar(
        holidays=frozenset(_dates(data.get("holidays", []), path, "holidays")),
        workdays=frozenset(_dates(data.get("workdays", []), path, "workdays")),
        override_years=frozenset(int(y) for y in data.get("years", [])),
        overrides_digest=hashlib.sha256(raw).hexdigest(),
    )


def _dates(values: Iterable[Any], path: Path, key: str) -> list[date]:
    out = []
    for value in values:
        if isinstance(value, date):
            out.append(value)
            continue
        try:
            out.append(date.fromisoformat(str(value)))
        except ValueError:
            raise ValueError(f"{path}: {key} has {value!r}, not a YYYY-MM-DD date") from None
    return out
