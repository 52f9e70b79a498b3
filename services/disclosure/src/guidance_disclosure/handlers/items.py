"""Command handlers of disclosure items: one function per command, inside the caller's transaction.

New items are opened by the consumer's projection (``handlers/publications.py`` through
``entrypoints/consumer.py``), in the transaction that also records the upstream event as applied, so
each act gets its item exactly once: the item id is derived from the act, and a redelivered or
replayed event finds the item already there. Reviewers publish or withhold through the officer API;
a periodic check flags items whose deadline passed while they waited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy import Connection, Engine

from guidance_disclosure.adapters import read_model
from guidance_disclosure.domain import item as i
from guidance_disclosure.domain.commands import PublishItem, WithholdItem
from guidance_disclosure.domain.item import DisclosureItem, item_id_for
from guidance_disclosure.domain.publication import (
    Outcome,
    PublicationRules,
    Publish,
    Review,
    Withhold,
    withdrawal_deadline,
)
from guidance_shared.dates import CHINA_TZ, china_today, now_utc
from guidance_shared.errors import ConcurrencyError
from guidance_shared.events.registry import EventRegistry
from guidance_shared.handling import each_in_own_transaction, valid_event_data
from guidance_shared.repository import Repository
from guidance_shared.workdays import Deadline, WorkingCalendar

log = structlog.get_logger(__name__)
STREAM = "Disclosure"
#: Who decides what a rule decided by itself (automatic publication, intake's own withholding).
SYSTEM = {"name": "公开规则（自动）", "badge_no": None, "officer_id": None}


@dataclass
class Items:
    """What the item handlers depend on, built once by ``bootstrap.wire``; ``now`` is the clock."""

    repository: Repository[DisclosureItem]
    registry: EventRegistry
    rules: PublicationRules
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    public_base_url: str = "http://127.0.0.1:8003"
    now: Callable[[], datetime] = field(default=now_utc)

    def stamp(self) -> str:
        return self.now().astimezone(CHINA_TZ).isoformat()

    def today(self) -> date:
        return china_today(self.now())

    def url(self, path: str) -> str:
        return self.public_base_url.rstrip("/") + path


@dataclass(frozen=True)
class Redaction:
    """One field a publication removes or masks, and the exemption that requires it."""

    field: str
    method: str
    exemption: str

    def as_data(self) -> Mapping[str, str]:
        return {"field": self.field, "method": self.method, "exemption": self.exemption}


@dataclass(frozen=True)
class Publication:
    """What a published item says about its act: computed from the redacted projections."""

    subject_id: str
    key: str
    department_id: str
    kind: str
    title: str
    path: str
    due: Deadline  # the publication deadline, and whether it was counted on an estimated calendar
    redactions: tuple[Redaction, ...] = ()
    display_until: date | None = None

    @property
    def deadline(self) -> date:
        return self.due.due_on


def open_item(
    items: Items, conn: Connection, publication: Publication, outcome: Outcome, *, source_event_id: str
) -> DisclosureItem | None:
    """The act's item with its first outcome; None when the act already has one (redelivery, replay)."""
    item_id = item_id_for(publication.kind, publication.key)
    if read_model.item_exists(conn, item_id):
        return None
    item = new_item(items, publication, outcome, source_event_id=source_event_id)
    if item is None:
        return None
    try:
        with conn.begin_nested():
            items.repository.save(conn, item)
    except ConcurrencyError:
        return None
    # One line per item an event opened: with the flow's ids, it ties the item to the command upstream.
    log.info("disclosure.item_opened", item_id=item_id, kind=publication.kind)
    return item


#: How an item's first event is checked against its schema: ``valid_event_data`` unless a bulk load says.
EventCheck = Callable[[EventRegistry, str, Mapping[str, Any]], Mapping[str, Any]]


def new_item(
    items: Items,
    publication: Publication,
    outcome: Outcome,
    *,
    source_event_id: str,
    check: EventCheck = valid_event_data,
) -> DisclosureItem | None:
    """The act's new item with its first outcome recorded and not yet saved; None when a publication's
    display period is already over. ``open_item`` saves it; a bulk load saves many at once."""
    item_id = item_id_for(publication.kind, publication.key)
    base = {
        "item_id": item_id,
        "department_id": publication.department_id,
        "source_event_id": source_event_id,
        "subject_id": publication.subject_id,
        "kind": publication.kind,
    }
    item = DisclosureItem(item_id)
    if isinstance(outcome, Publish):
        if publication.display_until is not None and publication.display_until < items.today():
            log.info("disclosure.display_period_already_over", item_id=item_id, kind=publication.kind)
            return None
        item.open(i.DISCLOSED, check(items.registry, i.DISCLOSED, _disclosed(items, publication, base)))
    elif isinstance(outcome, Withhold):
        data: dict[str, object] = {
            **base,
            "exemption": outcome.exemption,
            "legal_basis": outcome.legal_basis,
            "reason": outcome.reason,
            "decided_by": SYSTEM,
            "decided_at": items.stamp(),
            "deadline": publication.deadline.isoformat(),  # so the read model can be refolded from events
        }
        item.open(i.WITHHELD, check(items.registry, i.WITHHELD, data))
    elif isinstance(outcome, Review):
        data = {
            **base,
            "title": publication.title,
            "deadline": publication.deadline.isoformat(),
            "flags": outcome.flags,
            "requested_at": items.stamp(),
            "deadline_estimated": publication.due.estimated,
        }
        item.open(i.REVIEW_REQUESTED, check(items.registry, i.REVIEW_REQUESTED, data))
    return item


def withdraw_subject(
    items: Items,
    conn: Connection,
    subject_id: str,
    *,
    reason: str,
    revoked_on: date,
    source_event_id: str,
) -> int:
    """Take an act's publications down (行政处罚法第四十八条: within 3 working days of the revocation).

    Items in review leave the queue the same way; withheld ones had nothing public and stay as they are.
    """
    deadline = withdrawal_deadline(items.calendar, revoked_on, items.rules).isoformat()
    count = 0
    for item_id in read_model.items_for_subject(conn, subject_id):
        item = items.repository.load(conn, item_id)
        data = {
            "item_id": item_id,
            "department_id": item.department_id,
            "source_event_id": source_event_id,
            "reason": reason,
            "deadline": deadline,
            "at": items.stamp(),
        }
        if item.withdraw(valid_event_data(items.registry, i.WITHDRAWN, data)):
            items.repository.save(conn, item)
            count += 1
    return count


def publish(
    items: Items,
    conn: Connection,
    item_id: str,
    publication: Publication,
    cmd: PublishItem,
    *,
    expected_version: int | None = None,
) -> DisclosureItem:
    """A reviewer publishes an item from the queue (or one withheld on a relative exemption)."""

    def decide(item: DisclosureItem) -> None:
        base = {
            "item_id": item_id,
            "department_id": item.department_id,
            "source_event_id": item.source_event_id,
            "subject_id": item.subject_id,
            "kind": item.kind,
        }
        data = {
            **_disclosed(items, publication, base),
            "reviewed_by": cmd.reviewed_by.as_data(),
            "review_note": cmd.note,
        }
        if item.deadline is not None:
            data["deadline"] = item.deadline.isoformat()
        item.publish(valid_event_data(items.registry, i.DISCLOSED, data))

    return items.repository.change(conn, item_id, decide, expected_version=expected_version)


def withhold(
    items: Items,
    conn: Connection,
    item_id: str,
    cmd: WithholdItem,
    *,
    expected_version: int | None = None,
) -> DisclosureItem:
    """A reviewer withholds an item, in review or already public, naming the exemption and its legal basis."""

    def decide(item: DisclosureItem) -> None:
        data = {
            "item_id": item_id,
            "department_id": item.department_id,
            "source_event_id": item.source_event_id,
            "subject_id": item.subject_id,
            "kind": item.kind,
            "exemption": cmd.exemption,
            "legal_basis": [b.as_data() for b in cmd.legal_basis] or items.rules.legal_basis(cmd.exemption),
            "reason": cmd.reason,
            "decided_by": cmd.decided_by.as_data(),
            "decided_at": items.stamp(),
        }
        item.withhold(valid_event_data(items.registry, i.WITHHELD, data))

    return items.repository.change(conn, item_id, decide, expected_version=expected_version)


def flag_overdue(items: Items, engine: Engine, today: date) -> int:
    """Flag every item still in review past its deadline: one DisclosureOverdue each, ever.

    Each item in its own transaction; two workers racing on one item conflict on the version, and the
    loser skips it, so the flag is recorded exactly once.
    """
    with engine.connect() as conn:
        due = read_model.items_past_due(conn, today)

    def flag(conn: Connection, item_id: str) -> bool:
        item = items.repository.load(conn, item_id)
        data = {
            "item_id": item_id,
            "department_id": item.department_id,
            "source_event_id": item.source_event_id,
            "kind": item.kind,
            "deadline": item.deadline.isoformat() if item.deadline else today.isoformat(),
            "detected_at": items.stamp(),
        }
        if not item.flag_overdue(valid_event_data(items.registry, i.OVERDUE, data), today):
            return False
        items.repository.save(conn, item)
        return True

    return each_in_own_transaction(engine, due, flag)


def _disclosed(items: Items, publication: Publication, base: Mapping[str, Any]) -> Mapping[str, object]:
    return {
        **base,
        "title": publication.title,
        "deadline": publication.deadline.isoformat(),
        "disclosed_at": items.stamp(),
        "url": items.url(publication.path),
        "redactions": [r.as_data() for r in publication.redactions],
        "display_until": publication.display_until.isoformat() if publication.display_until else None,
        "deadline_estimated": publication.due.estimated,
    }
