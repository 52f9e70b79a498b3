"""Where each disclosure item stands, updated in the transaction that appends its events.

The public queries join this table to the redacted projections: an act is shown only while its item
is ``disclosed`` (and, for a penalty, within its display period). Officers' review queue and the
overdue check read it too. It holds nothing personal: titles are built from redacted text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Date, Integer, MetaData, String, Table, Text, insert, select, update

from guidance_disclosure.domain import item as i
from guidance_shared.eventstore import StoredEvent

ITEMS_MODEL = MetaData()

disclosure_items = Table(
    "disclosure_items",
    ITEMS_MODEL,
    Column("item_id", String(36), primary_key=True),
    Column("subject_id", String(36), nullable=False, index=True),
    Column("department_id", String(36), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("title", String(300), nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("deadline", Date, nullable=True, index=True),
    Column("overdue", Boolean, nullable=False, default=False),
    Column("flags", Text, nullable=True),
    Column("exemption", String(30), nullable=True),
    Column("disclosed_at", String(40), nullable=True),
    Column("display_until", Date, nullable=True),
    Column("withdrawal_deadline", Date, nullable=True),
    Column("withdrawn_at", String(40), nullable=True),
    Column("version", Integer, nullable=False),
)

STATE_OF = {
    i.DISCLOSED: i.DISCLOSED_STATE,
    i.REVIEW_REQUESTED: i.IN_REVIEW,
    i.WITHHELD: i.WITHHELD_STATE,
    i.WITHDRAWN: i.WITHDRAWN_STATE,
}


def _day(value: Any) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def apply(conn: Connection, events: Iterable[StoredEvent], *, deadline: date | None = None) -> None:
    """Fold stored item events into the table; ``deadline`` is the item's, for a first event that lacks it."""
    for event in events:
        d = event.data
        values: dict[str, Any] = {"version": event.version}
        if event.type in STATE_OF:
            values["state"] = STATE_OF[event.type]
        if event.type == i.DISCLOSED:
            values.update(
                disclosed_at=str(d["disclosed_at"]), display_until=_day(d.get("display_until")), exemption=None
            )
        elif event.type == i.REVIEW_REQUESTED:
            values["flags"] = json.dumps(d["flags"], ensure_ascii=False)
        elif event.type == i.WITHHELD:
            values["exemption"] = d["exemption"]
        elif event.type == i.WITHDRAWN:
            values.update(withdrawal_deadline=_day(d.get("deadline")), withdrawn_at=str(d["at"]))
        elif event.type == i.OVERDUE:
            values["overdue"] = True
        if event.version == 1:
            conn.execute(
                insert(disclosure_items).values(
                    item_id=event.stream_id,
                    subject_id=str(d["subject_id"]),
                    department_id=str(d["department_id"]),
                    kind=d["kind"],
                    title=str(d.get("title") or ""),
                    deadline=_day(d.get("deadline")) or deadline,
                    overdue=False,
                    **values,
                )
            )
        else:
            conn.execute(update(disclosure_items).where(disclosure_items.c.item_id == event.stream_id).values(**values))


def exists(conn: Connection, item_id: str) -> bool:
    return (
        conn.execute(select(disclosure_items.c.item_id).where(disclosure_items.c.item_id == item_id)).first()
        is not None
    )


def for_subject(conn: Connection, subject_id: str) -> list[str]:
    rows = conn.execute(
        select(disclosure_items.c.item_id)
        .where(disclosure_items.c.subject_id == subject_id)
        .order_by(disclosure_items.c.item_id)
    )
    return [row[0] for row in rows]


def past_due(conn: Connection, today: date, limit: int = 500) -> list[str]:
    """Items still in review, not yet flagged, whose publication deadline has passed."""
    table = disclosure_items
    query = (
        select(table.c.item_id)
        .where(table.c.state == i.IN_REVIEW, table.c.overdue.is_(False), table.c.deadline < today)
        .order_by(table.c.deadline)
        .limit(limit)
    )
    return [row[0] for row in conn.execute(query)]
