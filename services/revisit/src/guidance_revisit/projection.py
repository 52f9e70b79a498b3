"""revisit's own projection of intake's history: the guidance acts and cases that revisits hang off.

Built only from ``intake.events``, so revisit never asks intake (or its
database) anything and can rebuild this by replaying the topic. It keeps what
scheduling a revisit needs — whom, which department, which deadline, which
case — and no personal data: of the counterpart (行政管理相对人) only its kind
and name are kept, never an ID number, phone, address or legal representative.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Date, MetaData, String, Table, Text, delete, insert, select, update

from guidance_shared.consumer import ConsumedEvent
from guidance_shared.events.common import CHINA_TZ

GUIDANCE_STATUSES = ("issued", "suspended", "withdrawn")
CASE_STATUSES = ("open", "closed")


def local_date(moment: datetime) -> date:
    """The date of an act where it happened: revisit clocks run on China's calendar days."""
    return moment.astimezone(CHINA_TZ).date()


class GuidanceHistoryProjection:
    def __init__(self) -> None:
        self.metadata = MetaData()
        self.guidance = Table(
            "guidance_history",
            self.metadata,
            Column("guidance_id", String(36), primary_key=True),
            Column("doc_no", String(64), nullable=False),
            Column("department_id", String(36), nullable=False, index=True),
            Column("content_type", String(40), nullable=False),
            Column("correction_deadline", Date, nullable=True, index=True),
            Column("related_case_id", String(36), nullable=True, index=True),
            Column("counterpart_kind", String(30), nullable=False),
            Column("counterpart_name", String(200), nullable=False),
            Column("status", String(20), nullable=False),
            Column("lead_officer", Text, nullable=True),  # JSON {name, badge_no, officer_id}: who follows up
            Column("issued_at", String(40), nullable=False),  # UTC, RFC 3339
            Column("status_changed_at", String(40), nullable=True),  # UTC, RFC 3339
        )
        self.cases = Table(
            "cases",
            self.metadata,
            Column("case_id", String(36), primary_key=True),
            Column("case_no", String(64), nullable=False),
            Column("department_id", String(36), nullable=False, index=True),
            Column("major", Boolean, nullable=False),
            Column("procedure", String(20), nullable=False),
            Column("violation_category", String(100), nullable=False),
            Column("status", String(20), nullable=False),
            Column("outcome", String(40), nullable=True),
            Column("decision", String(30), nullable=True),
            Column("lead_officer", Text, nullable=True),
            Column("opened_on", Date, nullable=False),
            Column("closed_on", Date, nullable=True, index=True),
            Column("decision_revoked_on", Date, nullable=True),
        )

        # Enforcement reminders (执法事项提示) issued at intake: an accepted reminder plan they cover is done.
        self.reminders = Table(
            "issued_reminders",
            self.metadata,
            Column("guidance_id", String(36), primary_key=True),
            Column("department_id", String(36), nullable=False, index=True),
            Column("doc_no", String(64), nullable=False),
            Column("violation_category", String(100), nullable=False),
            Column("period_from", Date, nullable=False),
            Column("period_to", Date, nullable=False),
        )

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        handler = getattr(self, f"_on_{event.name}", None)
        if handler is not None:
            handler(conn, event.data)

    # -- guidance acts ---------------------------------------------------------
    def _on_GuidanceIssued(self, conn: Connection, data: dict[str, Any]) -> None:
        counterpart = data["counterpart"]
        related = data.get("related_case_id")
        row = {
            "guidance_id": str(data["guidance_id"]),
            "doc_no": data["doc_no"],
            "department_id": str(data["department_id"]),
            "content_type": data["content_type"],
            "correction_deadline": data.get("correction_deadline"),
            "related_case_id": str(related) if related else None,
            "counterpart_kind": counterpart["kind"],
            "counterpart_name": counterpart["name"],
            "status": "issued",
            "lead_officer": _officer(data.get("officers")),
            "issued_at": _utc(data["issued_at"]),
            "status_changed_at": None,
        }
        # Replace rather than insert, so a re-delivered event leaves one row.
        conn.execute(delete(self.guidance).where(self.guidance.c.guidance_id == row["guidance_id"]))
        conn.execute(insert(self.guidance).values(**row))
        reminder = data.get("reminder")
        if reminder:
            conn.execute(delete(self.reminders).where(self.reminders.c.guidance_id == row["guidance_id"]))
            conn.execute(
                insert(self.reminders).values(
                    guidance_id=row["guidance_id"],
                    department_id=row["department_id"],
                    doc_no=row["doc_no"],
                    violation_category=reminder["violation_category"],
                    period_from=reminder["period"]["from"],
                    period_to=reminder["period"]["to"],
                )
            )

    def reminders_covering(
        self, conn: Connection, department_id: str, category: str, start: date, end: date
    ) -> list[str]:
        """Document numbers of the reminders issued for this category whose period overlaps [start, end]."""
        table, status = self.reminders, self.guidance.c.status
        rows = conn.execute(
            select(table.c.doc_no)
            .select_from(table.join(self.guidance, self.guidance.c.guidance_id == table.c.guidance_id))
            .where(
                table.c.department_id == department_id,
                table.c.violation_category == category,
                table.c.period_from <= end,
                table.c.period_to >= start,
                status != "withdrawn",
            )
            .order_by(table.c.doc_no)
        )
        return [row[0] for row in rows]

    def _on_GuidanceSuspended(self, conn: Connection, data: dict[str, Any]) -> None:
        self._set_guidance_status(conn, data, "suspended")

    def _on_GuidanceWithdrawn(self, conn: Connection, data: dict[str, Any]) -> None:
        self._set_guidance_status(conn, data, "withdrawn")

    def _set_guidance_status(self, conn: Connection, data: dict[str, Any], status: str) -> None:
        conn.execute(
            update(self.guidance)
            .where(self.guidance.c.guidance_id == str(data["guidance_id"]))
            .values(status=status, status_changed_at=_utc(data["at"]))
        )

    # -- cases -------------------------------------------------------------------
    def _on_CaseOpened(self, conn: Connection, data: dict[str, Any]) -> None:
        row = {
            "case_id": str(data["case_id"]),
            "case_no": data["case_no"],
            "department_id": str(data["department_id"]),
            "major": data["major"],
            "procedure": data["procedure"],
            "violation_category": data["violation"]["category"],
            "status": "open",
            "outcome": None,
            "decision": None,
            "lead_officer": _officer(data.get("officers")),
            "opened_on": local_date(data["opened_at"]),
            "closed_on": None,
            "decision_revoked_on": None,
        }
        conn.execute(delete(self.cases).where(self.cases.c.case_id == row["case_id"]))
        conn.execute(insert(self.cases).values(**row))

    def _on_CaseClosed(self, conn: Connection, data: dict[str, Any]) -> None:
        # A closed major case starts the revisit clock, so ``major`` as of closing is what counts.
        conn.execute(
            update(self.cases)
            .where(self.cases.c.case_id == str(data["case_id"]))
            .values(
                status="closed", outcome=data["outcome"], major=data["major"], closed_on=local_date(data["closed_at"])
            )
        )

    def _on_CaseDecided(self, conn: Connection, data: dict[str, Any]) -> None:
        # Which rule schedules the revisit depends on the decision (a penalty in ordinary procedure).
        conn.execute(
            update(self.cases).where(self.cases.c.case_id == str(data["case_id"])).values(decision=data["decision"])
        )

    def _on_CaseDecisionRevoked(self, conn: Connection, data: dict[str, Any]) -> None:
        conn.execute(
            update(self.cases)
            .where(self.cases.c.case_id == str(data["case_id"]))
            .values(decision_revoked_on=local_date(data["at"]))
        )

    # -- reads ---------------------------------------------------------------
    def guidance_item(self, conn: Connection, guidance_id: str) -> dict[str, Any] | None:
        row = conn.execute(select(self.guidance).where(self.guidance.c.guidance_id == guidance_id)).first()
        if row is None:
            return None
        item = dict(row._mapping)
        for key in ("issued_at", "status_changed_at"):
            if item[key] is not None:
                item[key] = datetime.fromisoformat(item[key]).astimezone(CHINA_TZ)
        return item

    def case_item(self, conn: Connection, case_id: str) -> dict[str, Any] | None:
        row = conn.execute(select(self.cases).where(self.cases.c.case_id == case_id)).first()
        return None if row is None else dict(row._mapping)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _officer(officers: Any) -> str | None:
    if not officers:
        return None
    first = officers[0]
    return json.dumps({k: (str(v) if v is not None else None) for k, v in dict(first).items()}, ensure_ascii=False)
