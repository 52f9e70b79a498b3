"""Which fields of intake's events are a natural person's data, and whose (docs/personal-data.md §6).

Pure rules over event data: the handlers seal what ``personal_paths`` names under the key of ``subject_of``'s
subject before the event is recorded, and intake opens the same paths wherever it shows them. A path is only
named where the field holds a value; an absent or null field stays so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from guidance_shared.catalogue import CASE_OPENED, GUIDANCE_ISSUED

#: counterparts who are, or are run by, a natural person
PERSON_KINDS = ("person", "individual_business")
#: the events whose counterpart is sealed, by the name their sealed fields are bound to (no version)
SEALED_EVENTS = {GUIDANCE_ISSUED: "GuidanceIssued", CASE_OPENED: "CaseOpened"}

Path = tuple[str, ...]


@dataclass(frozen=True)
class Subject:
    """Whose key seals a counterpart's fields: a pseudonym purpose (docs/personal-data.md §4) and the identifier."""

    purpose: str
    identifier: str


def subject_of(counterpart: Mapping[str, Any]) -> Subject | None:
    """A counterpart with an ID number is that person; an individual business known by its credit code alone
    is keyed by the code (so it can be erased by it); an organisation without an ID number has no subject."""
    id_no = counterpart.get("id_no")
    if isinstance(id_no, str) and id_no:
        return Subject("subject", id_no)
    uscc = counterpart.get("uscc")
    if counterpart.get("kind") == "individual_business" and isinstance(uscc, str) and uscc:
        return Subject("business", uscc)
    return None


def personal_paths(event_name: str, data: Mapping[str, Any]) -> list[Path]:
    """The fields of ``data`` (an event of ``event_name``, a key of ``SEALED_EVENTS``) that are personal."""
    if event_name not in SEALED_EVENTS.values():
        return []
    counterpart = data.get("counterpart") or {}
    kind = counterpart.get("kind")
    names = ["id_no"]
    if kind == "person":
        names.append("name")  # an individual business's name is its registered 字号, published by 双公示
    if kind in PERSON_KINDS:
        names += ["address", "contact"]
    if kind == "individual_business":
        names.append("legal_representative")  # the operator; an organisation's representative is public
    paths: list[Path] = [("counterpart", name) for name in names if counterpart.get(name) is not None]
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
