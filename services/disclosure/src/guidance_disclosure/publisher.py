"""What disclosure does with intake's events: keep the redacted projections, and give each act its item.

Runs as the consumer's projection, so the redacted rows, the item's first outcome (published,
withheld or sent to review) and the consumer's offsets commit together: every guidance act and
every case decision gets exactly one item, however often its event is delivered or replayed.
A withdrawn guidance act or a revoked decision takes its publication down in the same way.

The public queries live here too: an act is shown while its item is ``disclosed``, its own status
allows it, and — for a penalty — its display period has not ended.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from guidance_disclosure import items_handlers as handlers
from guidance_disclosure.adapters.items_read_model import disclosure_items
from guidance_disclosure.decisions_projection import NATURAL_PERSON_KINDS, PublicDecisionsProjection, public_text
from guidance_disclosure.domain import item as i
from guidance_disclosure.domain.publication import Subject, Withhold, decide, is_minor, publication_deadline
from guidance_disclosure.projection import PUBLISHED_STATUSES, PublicGuidanceProjection
from guidance_disclosure.revisits_projection import PublicRevisitsProjection
from guidance_shared.consumer import ConsumedEvent
from guidance_shared.events.common import CHINA_TZ
from guidance_shared.runtime import Runtime
from guidance_shared.vocabulary import label_zh

PERSON_REDACTIONS = (
    {"field": "counterpart.name", "method": "masked", "exemption": "personal_privacy"},
    {"field": "counterpart.id_no", "method": "removed", "exemption": "personal_privacy"},
    {"field": "counterpart.address", "method": "removed", "exemption": "personal_privacy"},
    {"field": "counterpart.contact", "method": "removed", "exemption": "personal_privacy"},
)
ORGANISATION_REDACTIONS = (
    {"field": "counterpart.legal_representative", "method": "masked", "exemption": "personal_privacy"},
)


def decision_kind(decision: str, domain: str) -> str:
    """Penalty and licensing decisions are published within 7 working days; other results within 20."""
    if decision == "penalty":
        return "penalty_decision"
    if domain == "licensing":
        return "licensing_decision"
    return "other_decision"


def guidance_title(row: dict[str, Any]) -> str:
    return f"{label_zh(row['content_type'])} {row['doc_no']}：{row['matter']}"[:300]


def decision_title(row: dict[str, Any]) -> str:
    kind = decision_kind(row["decision"], row["domain"])
    return f"{label_zh(kind)} {row['decision_no']}：{row['counterpart_name']}（{row['violation_category']}）"[:300]


class Publisher:
    def __init__(self, runtime: Runtime | None = None) -> None:
        self.runtime = runtime
        self.guidance = PublicGuidanceProjection()
        self.metadata = self.guidance.metadata
        self.decisions = PublicDecisionsProjection(self.metadata)
        self.revisits = PublicRevisitsProjection(self.metadata)

    @property
    def items(self) -> handlers.Items:
        from guidance_disclosure.service import items_of

        assert self.runtime is not None, "a Publisher that opens items needs its runtime"
        return items_of(self.runtime)

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        self.guidance.apply(conn, event)
        self.decisions.apply(conn, event)
        if event.name in ("RevisitScheduled", "RevisitCompleted"):
            self.revisits.apply(conn, event, public_text=lambda text: self._revisit_text(conn, event.data, text))
        react = getattr(self, f"_on_{event.name}", None)
        if react is not None:
            react(conn, event)

    # -- reactions ------------------------------------------------------------------------------
    def _on_GuidanceIssued(self, conn: Connection, event: ConsumedEvent) -> None:
        data = event.data
        items = self.items
        issued_on = data["issued_at"].astimezone(CHINA_TZ).date()
        row = self.guidance.issued_row(data)  # what the projection just wrote, without reading it back
        disclosure = data["disclosure"]
        subject = Subject(
            kind="guidance",
            decided_on=issued_on,
            texts=[data["matter"], data["content"], data.get("advice") or ""],
            intake_withheld=(
                (disclosure.get("exemption"), disclosure.get("reason")) if disclosure["level"] != "public" else None
            ),
            minor=is_minor(data["counterpart"], issued_on),
        )
        publication = self.guidance_publication(row, issued_on)
        handlers.open_item(items, conn, publication, decide(subject, items.rules), source_event_id=event.envelope.id)

    def _on_CaseDecided(self, conn: Connection, event: ConsumedEvent) -> None:
        data = event.data
        row = self.decisions.case(conn, str(data["case_id"]))
        if row is None:
            return  # a case opened before disclosure's history began: nothing to publish it from
        items = self.items
        decided_on = data["decided_at"].astimezone(CHINA_TZ).date()
        penalty = data.get("penalty") or {}
        subject = Subject(
            kind=decision_kind(data["decision"], row["domain"]),
            decided_on=decided_on,
            texts=[row["violation_description"], data.get("summary") or "", penalty.get("description") or ""],
            minor=bool(row["minor"]),
        )
        publication = self.decision_publication(row)
        handlers.open_item(items, conn, publication, decide(subject, items.rules), source_event_id=event.envelope.id)

    def _on_GuidanceWithdrawn(self, conn: Connection, event: ConsumedEvent) -> None:
        self._withdraw(conn, event, str(event.data["guidance_id"]), "行政指导已撤回：")

    def _on_CaseDecisionRevoked(self, conn: Connection, event: ConsumedEvent) -> None:
        self._withdraw(conn, event, str(event.data["case_id"]), "原决定已被依法变更或撤销（行政处罚法第四十八条）：")

    def _withdraw(self, conn: Connection, event: ConsumedEvent, subject_id: str, prefix: str) -> None:
        handlers.withdraw_subject(
            self.items,
            conn,
            subject_id,
            reason=(prefix + str(event.data["reason"]))[:1000],
            revoked_on=event.data["at"].astimezone(CHINA_TZ).date(),
            source_event_id=event.envelope.id,
        )

    def _on_RevisitCompleted(self, conn: Connection, event: ConsumedEvent) -> None:
        """A revisit's result is published under the act it follows, unless that act is withheld."""
        data = event.data
        revisit = self.revisits.revisit(conn, str(data["revisit_id"]))
        assert revisit is not None  # the projection wrote it just now, in this transaction
        parent = self._revisit_parent(conn, revisit)
        if parent is None:
            return  # an act disclosure never saw: there is no page to publish the result on
        items = self.items
        completed_on = data["completed_on"]
        publication = self.revisit_publication(revisit, parent)
        withheld = conn.execute(
            select(disclosure_items.c.exemption).where(
                disclosure_items.c.subject_id == parent["subject_id"], disclosure_items.c.state == i.WITHHELD_STATE
            )
        ).first()
        if withheld is not None:
            exemption = str(withheld.exemption)
            outcome: Any = Withhold(
                exemption, items.rules.legal_basis(exemption), "所回访的执法决定或行政指导不予公开。"
            )
        else:
            texts = [revisit["notes"] or ""]
            subject = Subject(kind="revisit_result", decided_on=completed_on, texts=texts, minor=parent["minor"])
            outcome = decide(subject, items.rules)
        handlers.open_item(items, conn, publication, outcome, source_event_id=event.envelope.id)

    def _revisit_parent(self, conn: Connection, revisit: dict[str, Any]) -> dict[str, Any] | None:
        if revisit["case_id"]:
            case = self.decisions.case(conn, revisit["case_id"])
            if case is not None:
                path = f"/public/decisions/{case['case_id']}"
                return {"subject_id": case["case_id"], "label": case["case_no"], "path": path, "minor": case["minor"]}
        if revisit["guidance_id"]:
            row = self.guidance_row(conn, revisit["guidance_id"])
            if row is not None:
                path = f"/public/guidance/{row['guidance_id']}"
                return {"subject_id": row["guidance_id"], "label": row["doc_no"], "path": path, "minor": False}
        return None

    def _revisit_text(self, conn: Connection, data: dict[str, Any], text: str) -> str:
        person = self.decisions.person_of(conn, str(data["case_id"])) if data.get("case_id") else {}
        return public_text(text, person)

    # -- what a publication says -------------------------------------------------------------------
    def guidance_publication(self, row: dict[str, Any], issued_on: date) -> handlers.Publication:
        items = self.items
        person = row["counterpart_kind"] in NATURAL_PERSON_KINDS
        return handlers.Publication(
            subject_id=row["guidance_id"],
            key=row["guidance_id"],
            department_id=row["department_id"],
            kind="guidance",
            title=guidance_title(row),
            path=f"/public/guidance/{row['guidance_id']}",
            deadline=publication_deadline(items.calendar, "guidance", issued_on, items.rules),
            redactions=[dict(r) for r in (PERSON_REDACTIONS if person else ())],
        )

    def decision_publication(self, row: dict[str, Any]) -> handlers.Publication:
        items = self.items
        kind = decision_kind(row["decision"], row["domain"])
        decided_on = date.fromisoformat(row["decided_at"][:10])
        person = row["counterpart_kind"] in NATURAL_PERSON_KINDS
        display_until = (
            items.rules.display.display_until(decided_on, row["penalty_kind"], row["violation_category"])
            if kind == "penalty_decision"
            else None
        )
        return handlers.Publication(
            subject_id=row["case_id"],
            key=f"{row['case_id']}:{row['decision_no']}",
            department_id=row["department_id"],
            kind=kind,
            title=decision_title(row),
            path=f"/public/decisions/{row['case_id']}",
            deadline=publication_deadline(items.calendar, kind, decided_on, items.rules),
            redactions=[
                dict(r)
                for r in (
                    PERSON_REDACTIONS if person else ORGANISATION_REDACTIONS if row["legal_representative"] else ()
                )
            ],
            display_until=display_until,
        )

    def revisit_publication(self, revisit: dict[str, Any], parent: dict[str, Any]) -> handlers.Publication:
        items = self.items
        completed_on = date.fromisoformat(revisit["completed_on"])
        return handlers.Publication(
            subject_id=revisit["revisit_id"],
            key=revisit["revisit_id"],
            department_id=revisit["department_id"],
            kind="revisit_result",
            title=f"回访结果：{parent['label']}"[:300],
            path=parent["path"],
            deadline=publication_deadline(items.calendar, "revisit_result", completed_on, items.rules),
            redactions=[],
        )

    def publication_of(self, conn: Connection, item: i.DisclosureItem) -> handlers.Publication | None:
        """What a reviewer's publication of ``item`` says, from the projections as they stand."""
        if item.kind == "revisit_result":
            revisit = self.revisits.revisit(conn, item.subject_id)
            parent = None if revisit is None else self._revisit_parent(conn, revisit)
            return None if revisit is None or parent is None else self.revisit_publication(revisit, parent)
        if item.kind == "guidance":
            row = self.guidance_row(conn, item.subject_id)
            if row is None:
                return None
            return self.guidance_publication(row, date.fromisoformat(row["issued_at"][:10]))
        case = self.decisions.case(conn, item.subject_id)
        return None if case is None or case["decision_no"] is None else self.decision_publication(case)

    def guidance_row(self, conn: Connection, guidance_id: str) -> dict[str, Any] | None:
        table = self.guidance.items
        row = conn.execute(select(table).where(table.c.guidance_id == guidance_id)).first()
        return None if row is None else dict(row._mapping)

    # -- the public surface ----------------------------------------------------------------------------
    def published_item(self, conn: Connection, guidance_id: str) -> dict[str, Any] | None:
        table = self.guidance.items
        row = conn.execute(
            select(table).select_from(self._guidance_join()).where(table.c.guidance_id == guidance_id, *self._shown())
        ).first()
        if row is None:
            return None
        return self.guidance.public_view(row._mapping) | {
            "revisits": self.published_revisits(conn, guidance_id=guidance_id)
        }

    def published_page(
        self,
        conn: Connection,
        *,
        department_id: str | None = None,
        content_type: str | None = None,
        issued_from: str | None = None,
        issued_before: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of published guidance acts, newest first, and how many match in all."""
        table = self.guidance.items
        where = self._shown()
        if department_id:
            where.append(table.c.department_id == department_id)
        if content_type:
            where.append(table.c.content_type == content_type)
        if issued_from:
            where.append(table.c.issued_at >= issued_from)
        if issued_before:
            where.append(table.c.issued_at < issued_before)
        joined = self._guidance_join()
        total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
        rows = conn.execute(
            select(table)
            .select_from(joined)
            .where(*where)
            .order_by(table.c.issued_at.desc(), table.c.guidance_id)
            .offset(offset)
            .limit(limit)
        )
        return [self.guidance.public_view(row._mapping) for row in rows], int(total)

    def published_decision(self, conn: Connection, case_id: str, today: date) -> dict[str, Any] | None:
        cases = self.decisions.cases
        row = conn.execute(
            self._decision_select().where(cases.c.case_id == case_id, *self._decision_shown(today))
        ).first()
        if row is None:
            return None
        return _public_decision(row._mapping) | {"revisits": self.published_revisits(conn, case_id=case_id)}

    def published_decisions(
        self,
        conn: Connection,
        today: date,
        *,
        department_id: str | None = None,
        kind: str | None = None,
        decided_from: str | None = None,
        decided_before: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of published decisions, newest first; a penalty leaves the list when its display period ends."""
        cases = self.decisions.cases
        where = self._decision_shown(today)
        if department_id:
            where.append(cases.c.department_id == department_id)
        if kind:
            where.append(disclosure_items.c.kind == kind)
        if decided_from:
            where.append(cases.c.decided_at >= decided_from)
        if decided_before:
            where.append(cases.c.decided_at < decided_before)
        total = conn.execute(select(func.count()).select_from(self._decision_join()).where(*where)).scalar_one()
        rows = conn.execute(
            self._decision_select()
            .where(*where)
            .order_by(cases.c.decided_at.desc(), cases.c.case_id)
            .offset(offset)
            .limit(limit)
        )
        return [_public_decision(row._mapping) for row in rows], int(total)

    def penalty_records(
        self,
        conn: Connection,
        department_id: str,
        *,
        decided_from: str | None = None,
        decided_before: str | None = None,
    ) -> list[dict[str, Any]]:
        """Published penalty decisions of a department, oldest first, for 双公示 (display period included)."""
        cases = self.decisions.cases
        where = [
            disclosure_items.c.state == i.DISCLOSED_STATE,
            disclosure_items.c.kind == "penalty_decision",
            cases.c.status == "decided",
            cases.c.department_id == department_id,
        ]
        if decided_from:
            where.append(cases.c.decided_at >= decided_from)
        if decided_before:
            where.append(cases.c.decided_at < decided_before)
        rows = conn.execute(self._decision_select().where(*where).order_by(cases.c.decided_at, cases.c.case_id))
        return [_public_decision(row._mapping) for row in rows]

    def published_revisits(
        self, conn: Connection, *, case_id: str | None = None, guidance_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The disclosed results of the revisits of one case or one guidance act, oldest first."""
        table = self.revisits.revisits
        which = table.c.case_id == case_id if case_id else table.c.guidance_id == guidance_id
        items = disclosure_items
        rows = conn.execute(
            select(table.c.kind, table.c.completed_on, table.c.method, table.c.findings, table.c.notes)
            .select_from(
                table.join(items, and_(items.c.subject_id == table.c.revisit_id, items.c.kind == "revisit_result"))
            )
            .where(which, items.c.state == i.DISCLOSED_STATE)
            .order_by(table.c.completed_on, table.c.revisit_id)
        )
        return [dict(row._mapping) | {"findings": json.loads(row.findings)} for row in rows]

    def departments(self, conn: Connection) -> list[dict[str, str]]:
        """Departments with something published, for the list's filter: id and name as of their latest act."""
        table = self.guidance.items
        cases = self.decisions.cases
        named: dict[str, str] = {}
        for source in (table, cases):
            rows = conn.execute(
                select(source.c.department_id, source.c.department_name).where(source.c.department_name.is_not(None))
            )
            for department_id, name in rows:
                named[department_id] = name
        return [{"department_id": k, "name": v} for k, v in sorted(named.items(), key=lambda kv: kv[1])]

    def _guidance_join(self) -> Any:
        table = self.guidance.items
        return table.join(
            disclosure_items,
            and_(disclosure_items.c.subject_id == table.c.guidance_id, disclosure_items.c.kind == "guidance"),
        )

    def _shown(self) -> list[ColumnElement[bool]]:
        table = self.guidance.items
        return [
            disclosure_items.c.state == i.DISCLOSED_STATE,
            table.c.withheld == "N",
            table.c.status.in_(PUBLISHED_STATUSES),
        ]

    def _decision_join(self) -> Any:
        cases = self.decisions.cases
        return cases.join(
            disclosure_items,
            and_(disclosure_items.c.subject_id == cases.c.case_id, disclosure_items.c.kind != "guidance"),
        )

    def _decision_select(self) -> Any:
        cases = self.decisions.cases
        return select(
            cases,
            disclosure_items.c.kind,
            disclosure_items.c.display_until,
            disclosure_items.c.disclosed_at,
        ).select_from(self._decision_join())

    def _decision_shown(self, today: date) -> list[ColumnElement[bool]]:
        cases = self.decisions.cases
        return [
            disclosure_items.c.state == i.DISCLOSED_STATE,
            cases.c.status == "decided",
            or_(disclosure_items.c.display_until.is_(None), disclosure_items.c.display_until >= today),
        ]


def _public_decision(mapping: Any) -> dict[str, Any]:
    item = dict(mapping)
    item["legal_basis"] = json.loads(item["legal_basis"] or "[]")
    item.pop("minor", None)
    item.pop("status", None)
    item["display_until"] = item["display_until"].isoformat() if item.get("display_until") else None
    return item
