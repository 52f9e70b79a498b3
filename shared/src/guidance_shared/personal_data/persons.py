"""Which fields of a party (a counterpart of intake's acts, an applicant of disclosure's requests) are a natural
person's data, and under whose key they are sealed (docs/personal-data.md §6).

One rule for every service that seals a party: intake's counterparts and disclosure's applicants are the same
``Counterpart`` shape, so they are sealed alike and ``guidance_shared.personal_data`` opens both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: parties who are, or are run by, a natural person
PERSON_KINDS = ("person", "individual_business")


@dataclass(frozen=True)
class Subject:
    """Whose key seals a party's fields: a pseudonym purpose (docs/personal-data.md §4) and the identifier."""

    purpose: str
    identifier: str


def subject_of(party: Mapping[str, Any]) -> Subject | None:
    """A party with an ID number is that person; an individual business known by its credit code alone is keyed
    by the code (so it can be erased by it); an organisation without an ID number has no subject."""
    id_no = party.get("id_no")
    if isinstance(id_no, str) and id_no:
        return Subject("subject", id_no)
    uscc = party.get("uscc")
    if party.get("kind") == "individual_business" and isinstance(uscc, str) and uscc:
        return Subject("business", uscc)
    return None


def personal_field_names(party: Mapping[str, Any]) -> list[str]:
    """The party's fields that are personal, by its ``kind``, where they hold a value."""
    kind = party.get("kind")
    names = ["id_no"]
    if kind == "person":
        names.append("name")  # an individual business's name is its registered 字号, published by 双公示
    if kind in PERSON_KINDS:
        names += ["address", "contact"]
    if kind == "individual_business":
        names.append("legal_representative")  # the operator; an organisation's representative is public
    return [name for name in names if party.get(name) is not None]
