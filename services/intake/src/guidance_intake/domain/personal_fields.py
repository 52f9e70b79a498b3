"""Which fields of intake's events are a natural person's data, and whose (docs/personal-data.md §6).

Pure rules over event data: the handlers seal what ``personal_paths`` names under the key of ``subject_of``'s
subject before the event is recorded, and intake opens the same paths wherever it shows them. A path is only
named where the field holds a value; an absent or null field stays so. The rule by the counterpart's ``kind`` is
``guidance_shared.personal_data.persons``: disclosure seals its requests' applicants by the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guidance_shared.catalogue import CASE_OPENED, GUIDANCE_ISSUED
from guidance_shared.personal_data.persons import PERSON_KINDS, Subject, personal_field_names, subject_of

#: the events whose counterpart is sealed, by the name their sealed fields are bound to (no version)
SEALED_EVENTS = {GUIDANCE_ISSUED: "GuidanceIssued", CASE_OPENED: "CaseOpened"}

Path = tuple[str, ...]
__all__ = ["PERSON_KINDS", "SEALED_EVENTS", "Subject", "personal_paths", "replaced", "subject_of", "value_at"]


def personal_paths(event_name: str, data: Mapping[str, Any]) -> list[Path]:
    """The fields of ``data`` (an event of ``event_name``, a key of ``SEALED_EVENTS``) that are personal."""
    if event_name not in SEALED_EVENTS.values():
        return []
    counterpart = data.get("counterpart") or {}
    kind = counterpart.get("kind")
    paths: list[Path] = [("counterpart", name) for name in personal_field_names(counterpart)]
    summoned = ((data.get("interview") or {}).get("summoned")) or {}
    if event_name == "GuidanceIssued" and kind in PERSON_KINDS and summoned.get("name") is not None:
        paths.append(("interview", "summoned", "name"))
    return paths


def value_at(data: Mapping[str, Any], path: Path) -> Any:
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def replaced(data: Mapping[str, Any], path: Path, value: Any) -> dict[str, Any]:
    """A copy of ``data`` with the field at ``path`` set to ``value`` (the mappings on the way copied, not shared)."""
    copied = dict(data)
    head, *rest = path
    copied[head] = replaced(data[head], tuple(rest), value) if rest else value
    return copied
