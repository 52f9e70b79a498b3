"""Sealing and opening personal fields against a key store: what a service holds to do either, field by field
or (``opened_event``) every sealed field of an event at once."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from guidance_shared.personal_data.errors import ERASED_TEXT, KeyErased
from guidance_shared.personal_data.field import FieldContext, SealedJson, is_sealed, open_sealed, parse, seal
from guidance_shared.personal_data.keys import SubjectKeys


class FieldCipher:
    """Seals a subject's fields under their live key; opens any field whose key the store still holds."""

    def __init__(self, keys: SubjectKeys) -> None:
        self._keys = keys

    def seal(self, subject_id: str, context: FieldContext, plaintext: str) -> SealedJson:
        return seal(self._keys.key_for(subject_id), context, plaintext)

    def open(self, value: object, context: FieldContext) -> str:
        """The clear text; ``KeyErased`` once the subject was erased, ``TamperedField`` if it was moved or altered."""
        sealed = parse(value)
        return open_sealed(self._keys.get(sealed.key_id), sealed, context)

    def open_or_erased(self, value: object, context: FieldContext) -> str:
        """The clear text, or ``ERASED_TEXT`` where the subject was erased: what pages and documents show."""
        try:
            return self.open(value, context)
        except KeyErased:
            return ERASED_TEXT


def sealed_paths(data: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """The dotted path of every sealed field of an event's data, wherever it sits among nested objects (a sealed
    field is never inside a list: its path could not name it, docs/personal-data.md §2)."""
    for name, value in data.items():
        path = f"{prefix}{name}"
        if is_sealed(value):
            yield path
        elif isinstance(value, Mapping):
            yield from sealed_paths(value, f"{path}.")


def opened_event(cipher: FieldCipher, event: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with every sealed field opened in place, ``ERASED_TEXT`` where its subject was erased; what is
    not sealed (older events, organisations' fields) as it was. A field whose key cannot be had otherwise
    (``UnknownKey``, the key service unreachable) or that fails authentication raises: nothing half-opened is
    returned. Objects on a sealed field's path are copied, the rest shared with ``data``."""
    opened = dict(data)
    for path in sealed_paths(data):
        *parents, last = path.split(".")
        node = opened
        for part in parents:
            node[part] = dict(node[part])
            node = node[part]
        node[last] = cipher.open_or_erased(node[last], FieldContext(event, path))
    return opened
