"""Every event type disclosure meets has exactly one answer: handled once, or named as ignored.

A new type in the catalogue on a topic disclosure reads (or a new type of its own aggregates) fails
here until the table that must answer it says what it does.
"""

from __future__ import annotations

import pytest

from guidance_disclosure.adapters.projection import writes
from guidance_disclosure.adapters.read_model import ITEM_FOLDS, REQUEST_FOLDS
from guidance_disclosure.bootstrap import SPEC
from guidance_disclosure.domain.item import DisclosureItem
from guidance_disclosure.domain.request import DisclosureRequest
from guidance_disclosure.entrypoints.consumer import REACTIONS
from guidance_disclosure.handlers.items import STREAM as ITEM_STREAM
from guidance_disclosure.handlers.requests import STREAM as REQUEST_STREAM
from guidance_shared import catalogue
from guidance_shared.dispatch import EventHandlers
from guidance_shared.events import default_registry

WRITES = writes(b"k" * 32)
CONSUMED = catalogue.types_on(catalogue.INTAKE_EVENTS, catalogue.REVISIT_EVENTS)


def of_aggregate(stream_type: str) -> tuple[str, ...]:
    return tuple(t.ce_type for t in default_registry().all() if t.aggregate == stream_type)


@pytest.mark.parametrize("table", [WRITES, REACTIONS], ids=["table writes", "reactions"])
def test_the_consumer_answers_every_type_on_the_topics_it_reads(table: EventHandlers[object]) -> None:
    table.check_covers(CONSUMED)


def test_the_topics_disclosure_reads_are_the_ones_its_spec_consumes() -> None:
    assert set(catalogue.types_on(*SPEC.consumes)) == set(CONSUMED)


def test_every_reaction_follows_a_table_write_or_an_ignored_type() -> None:
    """A reaction reads what the projection just wrote; an act the tables never see has nothing to publish."""
    assert REACTIONS.handled <= WRITES.handled


@pytest.mark.parametrize(
    ("table", "stream_type"),
    [
        (DisclosureItem.appliers, ITEM_STREAM),
        (ITEM_FOLDS, ITEM_STREAM),
        (DisclosureRequest.appliers, REQUEST_STREAM),
        (REQUEST_FOLDS, REQUEST_STREAM),
    ],
    ids=["item aggregate", "items read model", "request aggregate", "requests read model"],
)
def test_each_own_event_type_has_its_applier_and_its_fold(table: EventHandlers[object], stream_type: str) -> None:
    types = of_aggregate(stream_type)
    assert types, f"no event types of {stream_type} in the registry"
    table.check_covers(types)


def test_the_tables_refuse_a_type_they_do_not_know() -> None:
    with pytest.raises(AssertionError, match="without an answer"):
        WRITES.check_covers((*CONSUMED, catalogue.SCORECARD_PUBLISHED))
