"""disclosure's projection of intake's history: what the public may see, already redacted.

Personal data never enters this table, so no page, feed or JSON response can
leak it: natural persons' names are masked, their ID numbers, phones and
addresses are not copied, and free text is scrubbed of ID and phone numbers.

The statements are built once, with ``bindparam``, and executed with each
event's values as parameters: ``insert(table).values(**row)`` per event built
a new statement whose cache key covers every value, and SQLAlchemy spent more
time building and keying statements than the database spent running them.
A ``GuidanceIssued`` replaces its row with one upsert; ``apply_many`` (the
kernel's optional batch interface) turns each run of them into one
``executemany``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    update,
)

from guidance_shared.consumer import ConsumedEvent
from guidance_shared.db import Upsert
from guidance_shared.envelope import compact_json
from guidance_shared.privacy import mask_name, redact_own, scrub_text

NATURAL_PERSON_KINDS = ("person",)

#: Statuses the public surface shows. A withdrawn act is no longer the administration's position, so it
#: leaves the list, the feed and the detail pages; a suspended act still exists and may resume, so it
#: stays visible, labelled 已中止, which is what openness (公开) asks for.
PUBLISHED_STATUSES = ("issued", "suspended")


class PublicGuidanceProjection:
    def __init__(self) -> None:
        self.metadata = MetaData()
        self.items = Table(
            "public_guidance",
            self.metadata,
            Column("guidance_id", String(36), primary_key=True),
            Column("doc_no", String(64), nullable=False),
            Column("department_id", String(36), nullable=False, index=True),
            Column("department_name", String(200), nullable=True),
            Column("content_type", String(40), nullable=False),
            Column("domain", String(20), nullable=False),
            Column("form", String(20), nullable=False),
            Column("initiated", String(20), nullable=False),
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
        items = self.items
        self._replace = Upsert(items, "guidance_id")
        self._set_status = (
            update(items).where(items.c.guidance_id == bindparam("gid")).values(status=bindparam("new_status"))
        )

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        handler = getattr(self, f"_on_{event.name}", None)
        if handler is not None:
            handler(conn, event.data)

    def apply_many(self, conn: Connection, events: Sequence[ConsumedEvent]) -> None:
        """Same effect as ``apply`` on each event in order: each run of ``GuidanceIssued`` is one
        ``executemany`` of the upsert (rows replaced in order, so a repeated id ends as its last);
        any other event type ends the run first."""
        run: list[dict[str, Any]] = []
        for event in events:
            if event.name == "GuidanceIssued":
                run.append(self.issued_row(event.data))
                continue
            self._replace.executemany(conn, run)
            run.clear()
            self.apply(conn, event)
        self._replace.executemany(conn, run)

    def _on_GuidanceIssued(self, conn: Connection, data: dict[str, Any]) -> None:
        self._replace.executemany(conn, [self.issued_row(data)])

    @staticmethod
    def issued_row(data: dict[str, Any]) -> dict[str, Any]:
        counterpart = data["counterpart"]
        person = counterpart["kind"] in NATURAL_PERSON_KINDS
        withheld = data["disclosure"]["level"] != "public"
        return {
            "guidance_id": str(data["guidance_id"]),
            "doc_no": data["doc_no"],
            "department_id": str(data["department_id"]),
            "department_name": data.get("department_name"),
            "content_type": data["content_type"],
            "domain": data["domain"],
            "form": data["form"],
            "initiated": data["initiated"],
            "methods": compact_json(list(data["methods"])),
            "counterpart_kind": counterpart["kind"],
            "counterpart_name": mask_name(counterpart["name"]) if person else counterpart["name"],
            "counterpart_uscc": None if person else counterpart.get("uscc"),
            "matter": _public_text(data["matter"], counterpart, person),
            "legal_basis": compact_json(
                [{"instrument": b["instrument"], "article": b["article"]} for b in data["legal_basis"]]
            ),
            "content": _public_text(data["content"], counterpart, person),
            "rights_notice": _public_text(data["rights_notice"], counterpart, person),
            "correction_deadline": data["correction_deadline"].isoformat() if data.get("correction_deadline") else None,
            "issued_at": data["issued_at"].isoformat(),
            "status": "issued",
            "withheld": "Y" if withheld else "N",
        }

    def _on_GuidanceWithdrawn(self, conn: Connection, data: dict[str, Any]) -> None:
        conn.execute(self._set_status, {"gid": str(data["guidance_id"]), "new_status": "withdrawn"})

    def _on_GuidanceSuspended(self, conn: Connection, data: dict[str, Any]) -> None:
        conn.execute(self._set_status, {"gid": str(data["guidance_id"]), "new_status": "suspended"})

    # -- reads (the public queries, which also need each act's disclosure item, are in publisher.py) --
    @staticmethod
    def public_view(mapping: Any) -> dict[str, Any]:
        item = dict(mapping)
        item.pop("withheld")
        item["methods"] = json.loads(item["methods"])
        item["legal_basis"] = json.loads(item["legal_basis"])
        return item


def _public_text(text: str, counterpart: dict[str, Any], person: bool) -> str:
    """Free text as the public may read it: numbers scrubbed; a person's own name masked and their own
    ID number, address and contact removed wherever typed in."""
    if not person:
        return scrub_text(text)
    secrets = (counterpart.get("id_no"), counterpart.get("address"), counterpart.get("contact"))
    return redact_own(text, name=counterpart.get("name"), secrets=secrets)
