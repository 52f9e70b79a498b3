"""What the consumer runner applies intake's events to: revisit's history, then its reactions.

``RevisitProjection.apply`` runs in the consumer's transaction: the history table update
(``adapters.projection.UPDATES``) and the reaction (``REACTIONS``: schedule or cancel revisits)
commit with the consumer's offsets, so each intake event has its effect exactly once.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from guidance_revisit.adapters import projection
from guidance_revisit.handlers import RevisitDeps, reactions
from guidance_shared import catalogue
from guidance_shared.dispatch import EventHandlers
from guidance_shared.projection import ConsumedEvent
from guidance_shared.runtime import Runtime

Reaction = Callable[[RevisitDeps, Connection, ConsumedEvent], None]

REACTIONS: EventHandlers[Reaction] = EventHandlers(
    {
        catalogue.CASE_CLOSED: reactions.case_closed,
        catalogue.GUIDANCE_ISSUED: reactions.guidance_issued,
        catalogue.GUIDANCE_WITHDRAWN: reactions.guidance_withdrawn,
        catalogue.CASE_DECISION_REVOKED: reactions.case_decision_revoked,
    },
    ignored=(
        catalogue.GUIDANCE_RESPONDED,
        catalogue.CORRECTION_VERIFIED,
        catalogue.GUIDANCE_SUSPENDED,
        catalogue.CASE_OPENED,
        catalogue.CASE_LEGAL_REVIEWED,
        catalogue.CASE_DECIDED,
        catalogue.ARCHIVE_PACKAGE_PRODUCED,
        catalogue.PERSONAL_DATA_ERASED,
    ),
)
"""Which of intake's event types schedule or cancel revisits; the others only update the history."""


class RevisitProjection:
    """The consumer-side projection of ``intake.events``: the history's tables, and the reactions.

    Built by the runtime it runs in (``ServiceSpec.projection``); reactions get the runtime's deps,
    the same ones its views and tasks use.
    """

    def __init__(self, runtime: Runtime[RevisitDeps]) -> None:
        self.runtime = runtime
        self.metadata = projection.HISTORY

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        projection.apply(conn, event.type, event.data)
        react = REACTIONS.get(event.type)
        if react is not None:
            react(self.runtime.deps, conn, event)
