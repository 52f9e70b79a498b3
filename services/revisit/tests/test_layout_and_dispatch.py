"""revisit's shape: the package root holds only the wiring, and every dispatch table answers every event type."""

from __future__ import annotations

from pathlib import Path

import pytest

import guidance_revisit
from guidance_revisit.adapters import projection, read_model
from guidance_revisit.domain.reminder_plan import ReminderPlan
from guidance_revisit.domain.revisit import Revisit
from guidance_revisit.entrypoints.consumer import REACTIONS
from guidance_shared import catalogue
from guidance_shared.aggregate import Aggregate
from guidance_shared.events import default_registry

PACKAGE = Path(guidance_revisit.__file__).parent
ROOT_MODULES = {"__init__", "__main__", "bootstrap", "settings"}
ROOT_PACKAGES = {"domain", "adapters", "entrypoints", "handlers"}


@pytest.mark.parametrize(
    ("table", "topic"),
    [
        (projection.UPDATES, catalogue.INTAKE_EVENTS),  # the history of intake
        (REACTIONS, catalogue.INTAKE_EVENTS),  # scheduling and cancelling
        (read_model.UPDATES, catalogue.REVISIT_EVENTS),  # revisit's own read models
    ],
    ids=["history", "reactions", "read-models"],
)
def test_each_consumed_or_folded_type_has_one_answer(table, topic: str) -> None:
    table.check_covers(catalogue.types_on(topic))


@pytest.mark.parametrize(("aggregate", "stream_type"), [(Revisit, "Revisit"), (ReminderPlan, "ReminderPlan")])
def test_each_aggregate_applies_every_type_of_its_stream(aggregate: type[Aggregate], stream_type: str) -> None:
    types = [t.ce_type for t in default_registry().all() if t.aggregate == stream_type]
    assert types  # the catalogue knows the stream type
    aggregate.appliers.check_covers(types)
