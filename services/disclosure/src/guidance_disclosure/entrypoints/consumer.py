"""disclosure's projection of intake's and revisit's events, as the kernel's consumer runs it.

Each event first updates the redacted public tables (``adapters/projection.py``: ``writes``), then,
for the types that concern publication, the reaction opens or withdraws a disclosure item
(``handlers/publications.py``), all in the transaction that records the event as applied: the
redacted rows, the item's first outcome (published, withheld or sent to review) and the consumer's
offsets commit together.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from guidance_disclosure.adapters.projection import PUBLIC_MODEL, writes
from guidance_disclosure.handlers import DisclosureDeps, publications
from guidance_disclosure.handlers.items import Items
from guidance_shared import catalogue
from guidance_shared.dispatch import EventHandlers
from guidance_shared.projection import ConsumedEvent
from guidance_shared.runtime import Runtime

Reaction = Callable[[Items, Connection, ConsumedEvent], None]

#: What disclosure does about a consumed event once the public tables have it; the other types only
#: change the tables (they are handled in ``writes``).
REACTIONS: EventHandlers[Reaction] = EventHandlers(
    {
        catalogue.GUIDANCE_ISSUED: publications.guidance_issued,
        catalogue.GUIDANCE_WITHDRAWN: publications.guidance_withdrawn,
        catalogue.CASE_DECIDED: publications.case_decided,
        catalogue.CASE_DECISION_REVOKED: publications.case_decision_revoked,
        catalogue.REVISIT_COMPLETED: publications.revisit_completed,
    },
    ignored=(
        catalogue.GUIDANCE_RESPONDED,
        catalogue.CORRECTION_VERIFIED,
        catalogue.GUIDANCE_SUSPENDED,
        catalogue.CASE_OPENED,
        catalogue.CASE_LEGAL_REVIEWED,
        catalogue.CASE_CLOSED,
        catalogue.ARCHIVE_PACKAGE_PRODUCED,
        catalogue.PERSONAL_DATA_ERASED,
        catalogue.REVISIT_SCHEDULED,
        catalogue.REVISIT_OVERDUE,
        catalogue.REVISIT_CANCELLED,
        catalogue.REVISIT_RESCHEDULED,
        catalogue.REVISIT_DEADLINE_RECOMPUTED,
        catalogue.REMINDER_PLANNED,
        catalogue.REMINDER_PLAN_ACCEPTED,
        catalogue.REMINDER_PLAN_ADJUSTED,
        catalogue.REMINDER_PLAN_DISMISSED,
    ),
)


class DisclosureProjection:
    """The consumer runner's projection: the public tables, then the reaction (see the module docstring)."""

    def __init__(self, runtime: Runtime[DisclosureDeps]) -> None:
        self.items = runtime.deps.items
        self.metadata = PUBLIC_MODEL
        self.writes = writes(runtime.deps.scrub_key)

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        write = self.writes.get(event.type)
        if write is not None:
            write(conn, event.data)
        react = REACTIONS.get(event.type)
        if react is not None:
            react(self.items, conn, event)
