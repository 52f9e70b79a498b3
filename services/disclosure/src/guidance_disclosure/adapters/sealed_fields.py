"""Opening the sealed personal fields of a consumed event, in memory, before disclosure's projection reads it.

intake seals a natural person's fields (docs/personal-data.md §6). What disclosure publishes about that person
needs them in clear for a moment: whether they are a minor (the birth date in the ID number), their name,
address and phone to remove from the published text, the marks ``case_person_names`` keeps. So the projection
is handed the event with every sealed field opened (``guidance_shared.personal_data.cipher.opened_event``), and
does exactly what it does with an event that arrived in clear (§6.1); nothing it opened is stored, only what
it stored before: masked names, redacted text, keyed marks.

When a key cannot be had (intake unreachable, no key API configured) or a field fails authentication, the
event is not applied at all: the error reaches the consumer runner, which retries it and then parks its
aggregate (docs/decisions/0002) until an operator redrives it with intake back. An erased person's fields read
``［已删除］``, as everywhere else; ``forget`` drops a subject's cached keys as soon as ``PersonalDataErased`` is
consumed, so an act still on its way opens as erased then, not when the cache would have let the key go.

With the pseudonym key configured, an opened ID number is also checked against the pseudonym the event
carries beside it (``counterpart.subject_id``): a mismatch means the fields were sealed for another person,
and the event is refused like a tampered one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from guidance_shared.personal_data.cache import CachedSubjectKeys
from guidance_shared.personal_data.cipher import FieldCipher, opened_event, sealed_paths
from guidance_shared.personal_data.errors import ERASED_TEXT, KeyServiceUnavailable, TamperedField
from guidance_shared.personal_data.keys import SubjectKeys
from guidance_shared.personal_data.pseudonym import Pseudonyms
from guidance_shared.projection import ConsumedEvent


class SealedFields:
    """Opens consumed events' sealed fields with ``keys`` (None: no key API configured, a sealed event waits)."""

    def __init__(self, keys: SubjectKeys | None, pseudonyms: Pseudonyms | None = None) -> None:
        self._keys = keys
        self._cipher = None if keys is None else FieldCipher(keys)
        self._pseudonyms = pseudonyms

    def prefetch(self, events: Sequence[ConsumedEvent]) -> int:
        """Fetch the keys of every sealed field of ``events`` not in the cache yet, in one call to the key API
        (``CachedSubjectKeys.prefetch``): a replay of a thousand acts about a thousand persons then makes a
        few calls rather than a thousand. Each key handed out is still one entry in intake's access log. How
        many keys it fetched."""
        if not isinstance(self._keys, CachedSubjectKeys):
            return 0
        key_ids = {
            str(value["kid"])
            for event in events
            for path in sealed_paths(event.data)
            if isinstance(value := _at(event.data, path), Mapping) and isinstance(value.get("kid"), str)
        }
        return self._keys.prefetch(key_ids) if key_ids else 0

    def forget(self, subject_id: str) -> None:
        """Drop the subject's keys from the cache, if ``keys`` keeps any: ``PersonalDataErased`` named them."""
        if isinstance(self._keys, CachedSubjectKeys):
            self._keys.forget(subject_id)

    def opened(self, event: ConsumedEvent) -> ConsumedEvent:
        """``event`` as it would have arrived in clear; the same object when nothing in it is sealed."""
        if next(sealed_paths(event.data), None) is None:
            return event
        if self._cipher is None:
            raise KeyServiceUnavailable("a sealed personal field, and no key API (GUIDANCE_KEY_API_URL) to open it")
        data = opened_event(self._cipher, event.name, event.data)
        self._check_subject(data.get("counterpart"))
        return dataclasses.replace(event, data=data)

    def _check_subject(self, counterpart: Mapping[str, Any] | None) -> None:
        if self._pseudonyms is None or not counterpart:
            return
        subject_id, id_no = counterpart.get("subject_id"), counterpart.get("id_no")
        if not isinstance(subject_id, str) or not isinstance(id_no, str) or id_no == ERASED_TEXT:
            return
        if self._pseudonyms.subject_id(id_no) != subject_id:
            raise TamperedField("counterpart.id_no is not the person counterpart.subject_id names")


def _at(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = node[part]
    return node
