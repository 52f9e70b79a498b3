"""What revisit does with intake's events: keep its history, and schedule or cancel follow-ups.

Runs as the consumer's projection, so the history row, the scheduled revisits and the consumer's
offsets commit together: each intake event schedules its revisits exactly once.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from guidance_revisit import handlers
from guidance_revisit.domain.policy import plan_case_closed, plan_correction_check
from guidance_revisit.projection import GuidanceHistoryProjection, local_date
from guidance_shared.consumer import ConsumedEvent
from guidance_shared.runtime import Runtime


class Planner:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.history = GuidanceHistoryProjection()
        self.metadata = self.history.metadata

    @property
    def revisits(self) -> handlers.Revisits:
        from guidance_revisit.service import revisits_of

        return revisits_of(self.runtime)

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        self.history.apply(conn, event)
        react = getattr(self, f"_on_{event.name}", None)
        if react is not None:
            react(conn, event)

    def _on_CaseClosed(self, conn: Connection, event: ConsumedEvent) -> None:
        case_id = str(event.data["case_id"])
        row = conn.execute(select(self.history.cases).where(self.history.cases.c.case_id == case_id)).first()
        if row is None:
            return  # a case opened before revisit's history began: nothing to base a revisit on
        case = dict(row._mapping) | {"major": event.data["major"]}
        policy = self.revisits.policies.for_department(row.department_id)
        plans = plan_case_closed(case, local_date(event.data["closed_at"]), policy, self.revisits.calendar)
        for index, planned in enumerate(plans):
            handlers.schedule(
                self.revisits,
                conn,
                row.department_id,
                planned,
                source_event_id=event.envelope.id,
                index=index,
                officer=_officer(row.lead_officer),
            )

    def _on_GuidanceIssued(self, conn: Connection, event: ConsumedEvent) -> None:
        data = event.data
        policy = self.revisits.policies.for_department(str(data["department_id"]))
        planned = plan_correction_check(data, policy)
        if planned is not None:
            officers = data.get("officers") or []
            officer = (
                {k: (str(v) if v is not None else None) for k, v in dict(officers[0]).items()} if officers else None
            )
            handlers.schedule(
                self.revisits,
                conn,
                str(data["department_id"]),
                planned,
                source_event_id=event.envelope.id,
                officer=officer,
            )

    def _on_GuidanceWithdrawn(self, conn: Connection, event: ConsumedEvent) -> None:
        handlers.cancel_open(
            self.revisits,
            conn,
            "指导已撤回 (guidance withdrawn)",
            source_event_id=event.envelope.id,
            guidance_id=str(event.data["guidance_id"]),
        )

    def _on_CaseDecisionRevoked(self, conn: Connection, event: ConsumedEvent) -> None:
        handlers.cancel_open(
            self.revisits,
            conn,
            "处理决定已撤销 (decision revoked)",
            source_event_id=event.envelope.id,
            case_id=str(event.data["case_id"]),
        )


def _officer(raw: str | None) -> dict[str, Any] | None:
    return json.loads(raw) if raw else None
