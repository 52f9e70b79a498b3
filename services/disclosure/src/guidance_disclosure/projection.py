"""disclosure's projection of intake's history: what the public may see, already redacted.

Personal data never enters this table, so no page, feed or JSON response can
leak it: natural persons' names are masked, their ID numbers, phones and
addresses are not copied, and free text is scrubbed of ID and phone numbers.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, Connection, MetaData, String, Table, Text, delete, insert, select, update

from guidance_shared.consumer import ConsumedEvent
from guidance_shared.privacy import mask_name, scrub_text

NATURAL_PERSON_KINDS = ("person",)


class PublicGuidanceProjection:
    def __init__(self) -> None:
        self.metadata = MetaData()
        self.items = Table(
            "public_guidance",
            self.metadata,
            Column("guidance_id", String(36), primary_key=True),
            Column("doc_no", String(64), nullable=False),
            Column("department_id", String(36), nullable=False, index=True),
            Column("content_type", String(40), nullable=False),
            Column("domain", String(20), nullable=False),
            Column("form", String(20), nullable=False),
            Column("methods", Text, nullable=False),
            Column("counterpart_kind", String(30), nullable=False),
            Column("counterpart_name", String(200), nullable=False),
            Column("counterpart_uscc", String(18), nullable=True),
            Column("matter", Text, nullable=False),
            Column("legal_basis", Text, nullable=False),
            Column("content", Text, nullable=False),
            Column("rights_notice", Text, nullable=False),
            Column("correction_deadline", String(10), nullable=True),
            Column("issued_at", String(40), nullable=False, index=True),
            Column("status", String(20), nullable=False),
            Column("withheld", String(1), nullable=False),
        )

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        handler = getattr(self, f"_on_{event.name}", None)
        if handler is not None:
            handler(conn, event.data)

    def _on_GuidanceIssued(self, conn: Connection, data: dict[str, Any]) -> None:
        counterpart = data["counterpart"]
        person = counterpart["kind"] in NATURAL_PERSON_KINDS
        withheld = data["disclosure"]["level"] != "public"
        row = {
            "guidance_id": str(data["guidance_id"]),
            "doc_no": data["doc_no"],
            "department_id": str(data["department_id"]),
            "content_type": data["content_type"],
            "domain": data["domain"],
            "form": data["form"],
            "methods": json.dumps(list(data["methods"]), ensure_ascii=False),
            "counterpart_kind": counterpart["kind"],
            "counterpart_name": mask_name(counterpart["name"]) if person else counterpart["name"],
            "counterpart_uscc": None if person else counterpart.get("uscc"),
            "matter": scrub_text(data["matter"]),
            "legal_basis": json.dumps(
                [{"instrument": b["instrument"], "article": b["article"]} for b in data["legal_basis"]],
                ensure_ascii=False,
            ),
            "content": scrub_text(data["content"]),
            "rights_notice": scrub_text(data["rights_notice"]),
            "correction_deadline": data["correction_deadline"].isoformat() if data.get("correction_deadline") else None,
            "issued_at": data["issued_at"].isoformat(),
            "status": "issued",
            "withheld": "Y" if withheld else "N",
        }
        conn.execute(delete(self.items).where(self.items.c.guidance_id == row["guidance_id"]))
        conn.execute(insert(self.items).values(**row))

    def _on_GuidanceWithdrawn(self, conn: Connection, data: dict[str, Any]) -> None:
        conn.execute(
            update(self.items).where(self.items.c.guidance_id == str(data["guidance_id"])).values(status="withdrawn")
        )

    def _on_GuidanceSuspended(self, conn: Connection, data: dict[str, Any]) -> None:
        conn.execute(
            update(self.items).where(self.items.c.guidance_id == str(data["guidance_id"])).values(status="suspended")
        )

    # -- reads ---------------------------------------------------------------
    def public_item(self, conn: Connection, guidance_id: str) -> dict[str, Any] | None:
        row = conn.execute(
            select(self.items).where(self.items.c.guidance_id == guidance_id, self.items.c.withheld == "N")
        ).first()
        if row is None:
            return None
        item = dict(row._mapping)
        item.pop("withheld")
        item["methods"] = json.loads(item["methods"])
        item["legal_basis"] = json.loads(item["legal_basis"])
        return item
