"""The assessment recognises a counterpart again (a repeat violation) by a one-way key, also when intake seals a
natural person's fields: their sealed ID number differs in every event, their pseudonym does not."""

from __future__ import annotations

from typing import Any

from guidance_assessment.domain.facts import counterpart_key
from guidance_shared.events.examples import PERSON
from guidance_shared.personal_data.field import FieldContext, seal
from guidance_shared.personal_data.keys import DataKey

KEY = DataKey("assessment-test-key", "b" * 64, bytes(range(32)))


def sealed(person: dict[str, Any], subject_id: str) -> dict[str, Any]:
    fields = {
        name: seal(KEY, FieldContext("CaseOpened", f"counterpart.{name}"), str(person[name]))
        for name in ("name", "id_no", "address", "contact")
    }
    return {**person, **fields, "subject_id": subject_id}


def test_a_sealed_person_is_the_same_counterpart_in_every_event_and_another_is_not() -> None:
    first, second = sealed(PERSON, "b" * 64), sealed(PERSON, "b" * 64)
    assert first["id_no"] != second["id_no"]  # a fresh nonce in every seal
    assert counterpart_key(first) == counterpart_key(second)
    assert counterpart_key(sealed(PERSON, "c" * 64)) != counterpart_key(first)
    assert len(counterpart_key(first)) == 32 and PERSON["id_no"] not in counterpart_key(first)
