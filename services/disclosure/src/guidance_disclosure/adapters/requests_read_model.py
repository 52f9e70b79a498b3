"""The officers' worklist of requests for disclosure, updated in the transaction that appends their events.

It lives in disclosure's own database and holds the applicant's name (officers need it to reply);
public pages never read this table. It also tells the overdue check which requests to look at.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Date, Integer, MetaData, String, Table, insert, select, update

from guidance_shared.eventstore import StoredEvent

REQUESTS_MODEL = MetaData()

disclosure_requests = Table(
    "disclosure_requests",
    REQUESTS_MODEL,
    Column("request_id", String(36), primary_key=True),
    Column("department_id", String(36), nullable=False, index=True),
    Column("applicant_kind", String(20), nullable=False),
    Column("applicant_name", String(200), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("answer_due_on", Date, nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("overdue", Boolean, nullable=False, default=False),
    Column("extended", Boolean, nullable=False, default=False),
    Column("answer", String(40), nullable=True),
    Column("answered_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def apply(conn: Connection, events: Iterable[StoredEvent]) -> None:
    for event in events:
        d = event.data
        name = event.type.split(".")[1]
        if name == "DisclosureRequestReceived":
            conn.execute(
                insert(disclosure_requests).values(
                    request_id=d["request_id"],
                    department_id=d["department_id"],
                    applicant_kind=d["applicant"]["kind"],
                    applicant_name=d["applicant"]["name"],
                    channel=d["channel"],
                    received_on=_day(d["received_on"]),
                    answer_due_on=_day(d["answer_due_on"]),
                    status="open",
                    overdue=False,
                    extended=False,
                    version=event.version,
                )
            )
            continue
        values: dict[str, Any] = {"version": event.version}
        if "answer_due_on" in d and name != "DisclosureRequestOverdue":
            values["answer_due_on"] = _day(d["answer_due_on"])
        if name == "DisclosureRequestSupplementRequested":
            values["status"] = "awaiting_supplement"
        elif name in ("DisclosureRequestSupplemented", "DisclosureRequestConsultationEnded"):
            values["status"] = "open"
        elif name == "DisclosureRequestConsultationStarted":
            values["status"] = "in_consultation"
        elif name == "DisclosureRequestExtended":
            values["extended"] = True
        elif name == "DisclosureRequestOverdue":
            values["overdue"] = True
        elif name == "DisclosureRequestAnswered":
            values.update(status="answered", answer=d["answer"], answered_on=_day(d["answered_on"]))
        conn.execute(
            update(disclosure_requests).where(disclosure_requests.c.request_id == event.stream_id).values(**values)
        )


def past_due(conn: Connection, today: date, limit: int = 500) -> list[str]:
    """Open, not yet flagged requests whose due date has passed: candidates for DisclosureRequestOverdue."""
    table = disclosure_requests
    query = (
        select(table.c.request_id)
        .where(table.c.status == "open", table.c.overdue.is_(False), table.c.answer_due_on < today)
        .order_by(table.c.answer_due_on)
        .limit(limit)
    )
    return [row[0] for row in conn.execute(query)]
