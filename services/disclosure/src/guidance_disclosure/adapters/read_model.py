"""disclosure's own tables, folded from its own events in the transaction that appends them.

``disclosure_items`` says where each disclosure item stands. The public queries join it to the
redacted projection: an act is shown only while its item is ``disclosed`` (and, for a penalty,
within its display period). Officers' review queue and the overdue check read it too. It holds
nothing personal: titles are built from redacted text.

``disclosure_requests`` is the officers' worklist of requests for disclosure (依申请公开). It holds
the applicant's name (officers need it to reply) as the event holds it, sealed for a natural person once
disclosure seals applicants, opened only when an officer reads it; public pages never read it. It also tells the
overdue check which requests to look at.

Each table has its folding table (``ITEM_FOLDS``, ``REQUEST_FOLDS``): the column values one event
type sets, so a rebuild from the event store alone gives the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    func,
    insert,
    select,
    update,
)

from guidance_disclosure.adapters import applicants
from guidance_disclosure.domain import item as i
from guidance_shared import catalogue
from guidance_shared.dates import as_date, optional_date
from guidance_shared.dispatch import EventHandlers
from guidance_shared.messages import StoredEvent

ITEMS_MODEL = MetaData()
REQUESTS_MODEL = MetaData()

disclosure_items = Table(
    "disclosure_items",
    ITEMS_MODEL,
    Column("item_id", String(36), primary_key=True),
    Column("subject_id", String(36), nullable=False),
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
    # deadline was counted on an estimated calendar (its year's holiday arrangement not published yet)
    Column("deadline_estimated", Boolean, nullable=False, server_default=false()),
    # The officers' list, earliest deadline first, for each filter it offers (queries.item_rows reads by them).
    Index("ix_disclosure_items_listing", "department_id", "state", "deadline", "item_id"),
    Index("ix_disclosure_items_department_listing", "department_id", "deadline", "item_id"),
    Index("ix_disclosure_items_kind_listing", "department_id", "kind", "state", "deadline", "item_id"),
    # An act's or a case's item, as every public list asks for each row (queries._shown): all three columns, so
    # SQLite, which keeps no statistics unless asked, never prefers the state index and reads every disclosed item.
    Index("ix_disclosure_items_subject", "subject_id", "kind", "state"),
)

disclosure_requests = Table(
    "disclosure_requests",
    REQUESTS_MODEL,
    Column("request_id", String(36), primary_key=True),
    Column("department_id", String(36), nullable=False, index=True),
    Column("applicant_kind", String(20), nullable=False),
    # a natural person's name as their event holds it: sealed (its JSON, longer than the clear name's 200), or
    # clear in a request recorded before sealing; read through ``applicants.Applicants.names``
    Column("applicant_name", Text, nullable=False),
    # the applicant's pseudonym when sealed (docs/personal-data.md §4): whom a read of the request names
    Column("applicant_subject_id", String(64), nullable=True),
    Column("channel", String(20), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("answer_due_on", Date, nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("overdue", Boolean, nullable=False, default=False),
    Column("extended", Boolean, nullable=False, default=False),
    Column("answer", String(40), nullable=True),
    Column("answered_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
    # answer_due_on was counted on an estimated calendar (its year's holiday arrangement not published yet)
    Column("deadline_estimated", Boolean, nullable=False, server_default=false()),
    # The requests worklist by status, earliest answer date first (queries.request_rows).
    Index("ix_disclosure_requests_listing", "department_id", "status", "answer_due_on", "request_id"),
)

Fold = Callable[[Mapping[str, Any]], Mapping[str, object]]
"""The columns one event sets, from its data."""


def _estimated(d: Mapping[str, Any]) -> Mapping[str, object]:
    """Whether the deadline the event carries was an estimate (null on events before the flag: not)."""
    return {"deadline_estimated": bool(d.get("deadline_estimated"))} if "deadline" in d else {}


# -- disclosure items ----------------------------------------------------------------------------------
ITEM_FOLDS: EventHandlers[Fold] = EventHandlers(
    {
        catalogue.ITEM_DISCLOSED: lambda d: {
            "state": i.DISCLOSED_STATE,
            "disclosed_at": str(d["disclosed_at"]),
            "display_until": optional_date(d.get("display_until")),
            "exemption": None,
            **_estimated(d),
        },
        catalogue.DISCLOSURE_REVIEW_REQUESTED: lambda d: {
            "state": i.IN_REVIEW,
            "flags": json.dumps(d["flags"], ensure_ascii=False),
            **_estimated(d),
        },
        catalogue.DISCLOSURE_WITHHELD: lambda d: {"state": i.WITHHELD_STATE, "exemption": d["exemption"]},
        catalogue.DISCLOSURE_WITHDRAWN: lambda d: {
            "state": i.WITHDRAWN_STATE,
            "withdrawal_deadline": optional_date(d.get("deadline")),
            "withdrawn_at": str(d["at"]),
        },
        catalogue.DISCLOSURE_OVERDUE: lambda d: {"overdue": True},
        catalogue.DISCLOSURE_DEADLINE_RECOMPUTED: lambda d: {
            "deadline": as_date(d["deadline"]),
            "deadline_estimated": bool(d["deadline_estimated"]),
        },
    }
)


def apply_items(conn: Connection, events: Iterable[StoredEvent], *, deadline: date | None = None) -> None:
    """Fold stored item events into the table; ``deadline`` is the item's, for a first event that lacks it."""
    for event in events:
        if event.version == 1:
            conn.execute(insert(disclosure_items).values(**_opened_item_row(event, deadline)))
        else:
            values = {"version": event.version, **ITEM_FOLDS[event.type](event.data)}
            conn.execute(update(disclosure_items).where(disclosure_items.c.item_id == event.stream_id).values(**values))


def insert_opened_items(conn: Connection, events: Sequence[StoredEvent]) -> None:
    """``apply_items`` for items' first events only, as one ``executemany``: the row each gets is the one
    ``apply_items`` inserts (the same ``_opened_item_row``). For a bulk load of new items, where a
    statement per item would cost more than the rows."""
    if any(event.version != 1 for event in events):
        raise ValueError("insert_opened_items takes items' first events only")
    if events:
        conn.execute(insert(disclosure_items), [_opened_item_row(event, None) for event in events])


def _opened_item_row(event: StoredEvent, deadline: date | None) -> dict[str, Any]:
    d = event.data
    return {
        "item_id": event.stream_id,
        "subject_id": str(d["subject_id"]),
        "department_id": str(d["department_id"]),
        "kind": d["kind"],
        "title": str(d.get("title") or ""),
        "state": None,
        "deadline": optional_date(d.get("deadline")) or deadline,
        "overdue": False,
        "flags": None,
        "exemption": None,
        "disclosed_at": None,
        "display_until": None,
        "withdrawal_deadline": None,
        "withdrawn_at": None,
        "version": event.version,
        "deadline_estimated": False,
        **ITEM_FOLDS[event.type](d),
    }


def item_exists(conn: Connection, item_id: str) -> bool:
    return (
        conn.execute(select(disclosure_items.c.item_id).where(disclosure_items.c.item_id == item_id)).first()
        is not None
    )


def items_for_subject(conn: Connection, subject_id: str) -> list[str]:
    rows = conn.execute(
        select(disclosure_items.c.item_id)
        .where(disclosure_items.c.subject_id == subject_id)
        .order_by(disclosure_items.c.item_id)
    )
    return [row[0] for row in rows]


def withheld_exemption(conn: Connection, subject_id: str) -> str | None:
    """The exemption an act's withheld item names; None when none of its items is withheld."""
    row = conn.execute(
        select(disclosure_items.c.exemption).where(
            disclosure_items.c.subject_id == subject_id, disclosure_items.c.state == i.WITHHELD_STATE
        )
    ).first()
    return None if row is None else str(row.exemption)


def items_past_due(conn: Connection, today: date, limit: int = 500) -> list[str]:
    """Items still in review, not yet flagged, whose publication deadline has passed."""
    table = disclosure_items
    query = (
        select(table.c.item_id)
        .where(table.c.state == i.IN_REVIEW, table.c.overdue.is_(False), table.c.deadline < today)
        .order_by(table.c.deadline)
        .limit(limit)
    )
    return [row[0] for row in conn.execute(query)]


# -- requests for disclosure -----------------------------------------------------------------------------
def _due(d: Mapping[str, Any]) -> Mapping[str, object]:
    """The due date an event recorded, and whether it was an estimate (null on events before the flag: not)."""
    if "answer_due_on" not in d:
        return {}
    return {"answer_due_on": as_date(d["answer_due_on"]), "deadline_estimated": bool(d.get("deadline_estimated"))}


REQUEST_FOLDS: EventHandlers[Fold] = EventHandlers(
    {
        catalogue.DISCLOSURE_REQUEST_RECEIVED: lambda d: {
            "request_id": d["request_id"],
            "department_id": d["department_id"],
            "applicant_kind": d["applicant"]["kind"],
            "applicant_name": applicants.stored(d["applicant"]["name"]),
            "applicant_subject_id": d["applicant"].get("subject_id"),
            "channel": d["channel"],
            "received_on": as_date(d["received_on"]),
            **_due(d),
            "status": "open",
            "overdue": False,
            "extended": False,
        },
        catalogue.DISCLOSURE_REQUEST_SUPPLEMENT_REQUESTED: lambda d: {**_due(d), "status": "awaiting_supplement"},
        catalogue.DISCLOSURE_REQUEST_SUPPLEMENTED: lambda d: {**_due(d), "status": "open"},
        catalogue.DISCLOSURE_REQUEST_CONSULTATION_STARTED: lambda d: {**_due(d), "status": "in_consultation"},
        catalogue.DISCLOSURE_REQUEST_CONSULTATION_ENDED: lambda d: {**_due(d), "status": "open"},
        # an extension is recorded only when approved in time, so an earlier overdue flag was premature
        catalogue.DISCLOSURE_REQUEST_EXTENDED: lambda d: {**_due(d), "extended": True, "overdue": False},
        catalogue.DISCLOSURE_REQUEST_OVERDUE: lambda d: {"overdue": True},
        catalogue.DISCLOSURE_REQUEST_DEADLINE_RECOMPUTED: _due,
        catalogue.DISCLOSURE_REQUEST_ANSWERED: lambda d: {
            **{k: v for k, v in _due(d).items() if k == "answer_due_on"},  # judged against it; the flag stays
            "status": "answered",
            "answer": d["answer"],
            "answered_on": as_date(d["answered_on"]),
            **({"overdue": True} if d.get("late") else {}),  # answered after the due date: late, flagged or not
        },
    }
)


def apply_requests(conn: Connection, events: Iterable[StoredEvent]) -> None:
    for event in events:
        values = {"version": event.version, **REQUEST_FOLDS[event.type](event.data)}
        if event.type == catalogue.DISCLOSURE_REQUEST_RECEIVED:
            conn.execute(insert(disclosure_requests).values(**values))
        else:
            conn.execute(
                update(disclosure_requests).where(disclosure_requests.c.request_id == event.stream_id).values(**values)
            )


def requests_past_due(conn: Connection, today: date, limit: int = 500) -> list[str]:
    """Open, not yet flagged requests whose due date has passed: candidates for DisclosureRequestOverdue."""
    table = disclosure_requests
    query = (
        select(table.c.request_id)
        .where(table.c.status == "open", table.c.overdue.is_(False), table.c.answer_due_on < today)
        .order_by(table.c.answer_due_on)
        .limit(limit)
    )
    return [row[0] for row in conn.execute(query)]


def items_estimated(conn: Connection) -> list[str]:
    """Items waiting for a reviewer whose publication deadline is an estimate: to count again when the calendar
    changes."""
    table = disclosure_items
    query = select(table.c.item_id).where(table.c.state == i.IN_REVIEW, table.c.deadline_estimated.is_(True))
    return [row[0] for row in conn.execute(query.order_by(table.c.deadline, table.c.item_id))]


def requests_estimated(conn: Connection) -> list[str]:
    """Requests whose clock runs and whose answer due date is an estimate: to count again when the calendar changes."""
    table = disclosure_requests
    query = select(table.c.request_id).where(table.c.status == "open", table.c.deadline_estimated.is_(True))
    return [row[0] for row in conn.execute(query.order_by(table.c.answer_due_on, table.c.request_id))]


# -- monitoring ------------------------------------------------------------------------------------------
def overdue_counts(conn: Connection, today: date) -> dict[str, tuple[int, int]]:
    """For ``guidance_overdue``: per kind, how many are past due and open, and how many of them are not flagged yet
    (the same conditions as ``items_past_due`` and ``requests_past_due``)."""
    items, requests = disclosure_items, disclosure_requests
    item_rows = conn.execute(
        select(items.c.overdue, func.count())
        .where(items.c.state == i.IN_REVIEW, items.c.deadline < today)
        .group_by(items.c.overdue)
    )
    request_rows = conn.execute(
        select(requests.c.overdue, func.count())
        .where(requests.c.status == "open", requests.c.answer_due_on < today)
        .group_by(requests.c.overdue)
    )
    return {
        "disclosure_item": _past_due_and_unflagged(item_rows),
        "disclosure_request": _past_due_and_unflagged(request_rows),
    }


def _past_due_and_unflagged(rows: Iterable[Any]) -> tuple[int, int]:
    by_flag = {bool(flagged): int(count) for flagged, count in rows}
    return sum(by_flag.values()), by_flag.get(False, 0)
