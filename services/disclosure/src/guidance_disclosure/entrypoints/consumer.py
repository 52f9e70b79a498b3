"""disclosure's projection of intake's and revisit's events, as the kernel's consumer runs it.

An event whose personal fields are sealed is first opened, in memory (``adapters/sealed_fields.py``), so both
steps below see it as it would have arrived in clear; one that cannot be opened is not applied (it parks).
Each event first updates the redacted public tables (``adapters/projection.py``: ``writes``), then,
for the types that concern publication, the reaction opens or withdraws a disclosure item
(``handlers/publications.py``), all in the transaction that records the event as applied: the
redacted rows, the item's first outcome (published, withheld or sent to review) and the consumer's
offsets commit together.

``PersonalDataErased`` first drops the person's keys from the key cache, so an act sealed under them that is
still on its way opens as erased; then the public tables' rows of the acts sealed under those keys become what a
rebuild makes of them (``projection.erased``, found through ``projection.person_acts``).

A revisit result read before the act it follows waits (``adapters/projection.py``, ``held_revisit_results``) and
is applied, writes and reaction alike, in the transaction that makes its act known: the outcome is then the same
whatever the interleaving of the two topics, live or in a rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection

from guidance_disclosure.adapters import projection
from guidance_disclosure.adapters.projection import PUBLIC_MODEL, writes
from guidance_disclosure.handlers import DisclosureDeps, publications
from guidance_disclosure.handlers.items import Items
from guidance_shared import catalogue
from guidance_shared.dispatch import EventHandlers
from guidance_shared.envelope import Envelope
from guidance_shared.events.registry import EventRegistry
from guidance_shared.projection import ConsumedEvent
from guidance_shared.runtime import Runtime
from guidance_shared.transport.base import ConsumedRecord

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
        catalogue.PERSONAL_DATA_ERASED,  # the public tables' ``projection.erased`` and the keys' cache only
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


#: The events that make an act known to a revisit result (``projection.revisit_parent_known``), and the field
#: naming the act: the results that waited for it are applied right after them.
_RELEASES = {
    catalogue.GUIDANCE_ISSUED: "guidance_id",
    catalogue.CASE_DECIDED: "case_id",
    catalogue.CASE_CLOSED: "case_id",
}


#: The events whose counterpart intake seals, the kind of act they make and the field naming it
#: (``projection.person_acts``: which key each act was sealed under, for ``PersonalDataErased``).
_PERSON_ACTS = {
    catalogue.GUIDANCE_ISSUED: ("guidance", "guidance_id"),
    catalogue.CASE_OPENED: ("case", "case_id"),
}


class DisclosureProjection:
    """The consumer runner's projection: the public tables, then the reaction (see the module docstring)."""

    def __init__(self, runtime: Runtime[DisclosureDeps]) -> None:
        self.items = runtime.deps.items
        self.metadata = PUBLIC_MODEL
        self.writes = writes(runtime.deps.scrub_key)
        self.registry: EventRegistry = runtime.registry
        self.sealed = runtime.deps.sealed

    def prepare(self, events: Sequence[ConsumedEvent]) -> None:
        """Before the batch's transaction: the keys its sealed fields need, in one call (``Preparing``)."""
        self.sealed.prefetch(events)

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        if event.type == catalogue.REVISIT_COMPLETED and (parent_id := projection.revisit_parent_id(event.data)):
            projection.meet_at_parent(conn, parent_id)  # before looking: see ``projection.revisit_parents``
            if not projection.revisit_parent_known(conn, event.data):
                projection.hold_revisit_result(conn, parent_id, event)
                return
        self._apply(conn, event)
        released = _RELEASES.get(event.type)
        if released is not None:
            act_id = str(event.data[released])
            projection.meet_at_parent(conn, act_id)
            for record in projection.take_held_revisit_results(conn, act_id):
                self._apply(conn, self._consumed(record))

    def _consumed(self, record: ConsumedRecord) -> ConsumedEvent:
        """A held record as the consumer would have handed it over (it was valid when first consumed)."""
        envelope = Envelope.from_record(record)
        event_type, data = self.registry.load_typed(envelope.type, envelope.data)
        return ConsumedEvent(envelope, data, record.topic, record.partition, record.offset, event_type.ce_type)

    def _apply(self, conn: Connection, consumed: ConsumedEvent) -> None:
        event = self.sealed.opened(consumed)  # persons' fields in clear, in memory only (adapters/sealed_fields.py)
        if event.type == catalogue.PERSONAL_DATA_ERASED:
            # at once, not when the cached keys expire: a sealed act still on its way opens as erased
            self.sealed.forget(str(event.data["subject_id"]))
        write = self.writes.get(event.type)
        if write is not None:
            write(conn, event.data)
        kept = _PERSON_ACTS.get(event.type)
        if kept is not None:
            kind, id_field = kept
            projection.keep_person(conn, kind, str(event.data[id_field]), consumed.data, event.data)
        react = REACTIONS.get(event.type)
        if react is not None:
            react(self.items, conn, event)
