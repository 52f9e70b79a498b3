"""Every event intake meets has exactly one answer: handled, or named as ignored."""

from __future__ import annotations

import pytest

from guidance_intake.adapters.read_model import FOLDS
from guidance_intake.domain.archive import ArchivePackage
from guidance_intake.domain.case import Case
from guidance_intake.domain.guidance import Guidance
from guidance_intake.entrypoints.consumer import REACTIONS
from guidance_shared import catalogue
from guidance_shared.aggregate import Aggregate
from guidance_shared.events import default_registry


def test_the_consumer_answers_every_type_on_revisit_events() -> None:
    REACTIONS.check_covers(catalogue.types_on(catalogue.REVISIT_EVENTS))
    assert REACTIONS.handled == {catalogue.REVISIT_COMPLETED}


def test_the_read_model_folds_every_type_intake_publishes() -> None:
    FOLDS.check_covers(catalogue.types_on(catalogue.INTAKE_EVENTS))


@pytest.mark.parametrize(
    ("aggregate", "stream_type"), [(Guidance, "Guidance"), (Case, "Case"), (ArchivePackage, "ArchivePackage")]
)
def test_each_aggregate_applies_every_type_of_its_stream(aggregate: type[Aggregate], stream_type: str) -> None:
    types = [t.ce_type for t in default_registry().all() if t.aggregate == stream_type]
    assert types
    aggregate.appliers.check_covers(types)


def test_an_event_of_another_stream_is_refused_by_an_aggregate() -> None:
    with pytest.raises(ValueError, match="no applier"):
        Guidance("g-1")._apply(catalogue.CASE_OPENED, {})
