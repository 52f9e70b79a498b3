"""disclosure's projection of intake's cases: the decisions the public may read, redacted when written.

Like the guidance projection, ``public_cases`` holds no personal data: a natural person's name (and
an enterprise's legal representative's) is masked, ID numbers, addresses and contacts are not copied,
and free text is scrubbed. Whether the counterpart was a minor is kept as a flag, not a birth date.

One thing is kept aside: a natural person's full name, ID number, address and contact, in
``case_person_names``, because the decision comes later than the case and its summary may repeat
them; without them they could not be removed there. No query of the public surface reads that table.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Boolean, Column, Connection, MetaData, String, Table, Text, select, update
from sqlalchemy.dialects import postgresql, sqlite

from guidance_disclosure.domain.publication import is_minor
from guidance_disclosure.projection import NATURAL_PERSON_KINDS
from guidance_shared.consumer import ConsumedEvent
from guidance_shared.events.common import CHINA_TZ
from guidance_shared.privacy import mask_name, redact_own, scrub_text

_UPSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class PublicDecisionsProjection:
    def __init__(self, metadata: MetaData) -> None:
        self.cases = Table(
            "public_cases",
            metadata,
            Column("case_id", String(36), primary_key=True),
            Column("case_no", String(64), nullable=False),
            Column("department_id", String(36), nullable=False, index=True),
            Column("department_name", String(200), nullable=True),
            Column("department_uscc", String(18), nullable=True),
            Column("domain", String(20), nullable=False),
            Column("counterpart_kind", String(30), nullable=False),
            Column("counterpart_name", String(200), nullable=False),
            Column("counterpart_uscc", String(18), nullable=True),
            Column("counterpart_id_type", String(40), nullable=True),
            Column("legal_representative", String(100), nullable=True),
            Column("minor", Boolean, nullable=False),
            Column("violation_code", String(64), nullable=False),
            Column("violation_category", String(100), nullable=False),
            Column("violation_description", Text, nullable=False),
            Column("opened_at", String(40), nullable=False),
            Column("decision_no", String(64), nullable=True),
            Column("decision", String(30), nullable=True),
            Column("penalty_kind", String(40), nullable=True),
            Column("amount_yuan", String(24), nullable=True),
            Column("confiscated_yuan", String(24), nullable=True),
            Column("penalty_description", Text, nullable=True),
            Column("legal_basis", Text, nullable=True),
            Column("summary", Text, nullable=True),
            Column("decided_at", String(40), nullable=True, index=True),
            Column("status", String(20), nullable=False),
        )

        self.person_names = Table(
            "case_person_names",
            metadata,
            Column("case_id", String(36), primary_key=True),
            Column("name", String(200), nullable=False),
            Column("secrets", Text, nullable=False),  # JSON: the person's ID number, address, contact
        )

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        handler = getattr(self, f"_on_{event.name}", None)
        if handler is not None:
            handler(conn, event.data)

    def _on_CaseOpened(self, conn: Connection, data: dict[str, Any]) -> None:
        counterpart = data["counterpart"]
        person = counterpart["kind"] in NATURAL_PERSON_KINDS
        violation = data["violation"]
        occurred = violation.get("occurred_on") or data["opened_at"].astimezone(CHINA_TZ).date()
        row = {
            "case_id": str(data["case_id"]),
            "case_no": data["case_no"],
            "department_id": str(data["department_id"]),
            "department_name": data.get("department_name"),
            "department_uscc": data.get("department_uscc"),
            "domain": data["domain"],
            "counterpart_kind": counterpart["kind"],
            "counterpart_name": mask_name(counterpart["name"]) if person else counterpart["name"],
            "counterpart_uscc": None if person else counterpart.get("uscc"),
            "counterpart_id_type": counterpart.get("id_type") if person else None,
            "legal_representative": (
                mask_name(counterpart["legal_representative"])
                if counterpart.get("legal_representative") and not person
                else None
            ),
            "minor": is_minor(counterpart, occurred),
            "violation_code": violation["code"],
            "violation_category": violation["category"],
            "violation_description": public_text(violation["description"], counterpart),
            "opened_at": data["opened_at"].isoformat(),
            "status": "open",
        }
        self._upsert(conn, self.cases, row)
        if person:
            secrets = [counterpart.get(key) for key in ("id_no", "address", "contact") if counterpart.get(key)]
            self._upsert(
                conn,
                self.person_names,
                {"case_id": row["case_id"], "name": counterpart["name"], "secrets": json.dumps(secrets)},
            )

    @staticmethod
    def _upsert(conn: Connection, table: Table, row: dict[str, Any]) -> None:
        upsert = _UPSERTS[conn.dialect.name](table).values(**row)
        conn.execute(upsert.on_conflict_do_update(index_elements=["case_id"], set_=row))

    def _on_CaseDecided(self, conn: Connection, data: dict[str, Any]) -> None:
        penalty = data.get("penalty") or {}
        person = self.person_of(conn, str(data["case_id"]))
        conn.execute(
            update(self.cases)
            .where(self.cases.c.case_id == str(data["case_id"]))
            .values(
                decision_no=data["decision_no"],
                decision=data["decision"],
                penalty_kind=penalty.get("kind"),
                amount_yuan=_money(penalty.get("amount_yuan")),
                confiscated_yuan=_money(penalty.get("confiscated_yuan")),
                penalty_description=public_text(penalty["description"], person) if penalty.get("description") else None,
                legal_basis=json.dumps(
                    [{"instrument": b["instrument"], "article": b["article"]} for b in data["legal_basis"]],
                    ensure_ascii=False,
                ),
                summary=public_text(data["summary"], person) if data.get("summary") else None,
                decided_at=data["decided_at"].isoformat(),
                status="decided",
            )
        )

    def _on_CaseDecisionRevoked(self, conn: Connection, data: dict[str, Any]) -> None:
        conn.execute(update(self.cases).where(self.cases.c.case_id == str(data["case_id"])).values(status="revoked"))

    def person_of(self, conn: Connection, case_id: str) -> dict[str, Any]:
        """The case's natural person as ``public_text`` needs them to clean later text; {} for an organisation."""
        names = self.person_names
        known = conn.execute(select(names).where(names.c.case_id == case_id)).first()
        if known is None:
            return {}
        return {"kind": "person", "name": known.name, "secrets": tuple(json.loads(known.secrets))}

    def case(self, conn: Connection, case_id: str) -> dict[str, Any] | None:
        row = conn.execute(select(self.cases).where(self.cases.c.case_id == case_id)).first()
        return None if row is None else dict(row._mapping)


def public_text(text: str, counterpart: dict[str, Any]) -> str:
    """Free text as the public may read it: numbers scrubbed; a person's own name masked and their own
    ID number, address and contact removed wherever typed in."""
    if counterpart.get("kind") not in NATURAL_PERSON_KINDS:
        return scrub_text(text)
    secrets = counterpart.get("secrets") or (
        counterpart.get("id_no"),
        counterpart.get("address"),
        counterpart.get("contact"),
    )
    return redact_own(text, name=counterpart.get("name"), secrets=tuple(secrets))


def _money(value: Any) -> str | None:
    return None if value is None else str(value)
