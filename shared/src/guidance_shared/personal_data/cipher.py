"""Sealing and opening personal fields against a key store: what a service holds to do either."""

from __future__ import annotations

from guidance_shared.personal_data.errors import ERASED_TEXT, KeyErased
from guidance_shared.personal_data.field import FieldContext, SealedJson, open_sealed, parse, seal
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
