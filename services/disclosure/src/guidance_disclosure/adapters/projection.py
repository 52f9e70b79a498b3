"""disclosure's read model of intake's and revisit's events: what the public may see, already redacted.

Personal data never enters the public tables, so no page, feed or JSON response can leak it:
natural persons' names (and an individual business's operator's) are masked, their ID numbers,
phones and addresses are not copied, and free text is redacted as ``adapters/redaction.py`` says
(numbers however typed, the persons' own data, their names and the names a segmenter is sure of).
Whether a case's counterpart was a minor is kept as a flag, not a birth date.

One thing is kept aside, in ``case_person_names``, because a decision comes later than its case and
its summary (or a revisit's notes) may repeat what the case said: the keyed marks (length and
HMAC-SHA256 under the scrub key, ``GUIDANCE_SCRUB_KEY``) of the case's natural persons' names, ID
number, address and contact, never the values, and the officers' names, which are public. A later
text is searched by hashing its windows under the same key. No public query reads the table.

A revisit result (回访结果) keeps only the findings, the method and the date, its notes scrubbed
like every other free text; officers' names are not shown.

An erased person (docs/personal-data.md §10) is nobody disclosure can scrub for any more: a rebuild opens their
fields as ［已删除］, and the acts about them then publish ［已删除］ in place of their name and of every free text
(``erased_person``). ``person_acts`` notes which data key each sealed act was sealed under, so that when
``PersonalDataErased`` names the keys the live rows become exactly that (``erased``) without any clear value.

The guidance statements are built once, with ``bindparam``, and executed with each event's values
as parameters: ``insert(table).values(**row)`` per event built a new statement whose cache key
covers every value, and SQLAlchemy spent more time building and keying statements than the database
spent running them. A ``GuidanceIssued`` replaces its row with one upsert; ``apply_many`` (the
kernel's optional batch interface) turns each run of them into one ``executemany``.

``WRITES`` says which table update each consumed event type makes; the consumer's projection
(``entrypoints/consumer.py``) runs it before the reactions that open disclosure items.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy import case as when
from sqlalchemy.dialects import postgresql, sqlite

from guidance_disclosure.adapters.redaction import Known, known_of, public_text
from guidance_disclosure.domain.item import item_id_for
from guidance_disclosure.domain.publication import decision_kind, is_minor
from guidance_shared import catalogue
from guidance_shared.consumer import kept_headers, kept_record
from guidance_shared.dates import china_day
from guidance_shared.dispatch import EventHandlers
from guidance_shared.envelope import compact_json
from guidance_shared.fast.bulk import Upsert
from guidance_shared.personal_data.errors import ERASED_TEXT
from guidance_shared.personal_data.field import is_sealed
from guidance_shared.privacy import Mark, mask_name
from guidance_shared.projection import ConsumedEvent
from guidance_shared.transport.base import ConsumedRecord

NATURAL_PERSON_KINDS = ("person",)

#: Statuses the public surface shows. A withdrawn act is no longer the administration's position, so it
#: leaves the list, the feed and the detail pages; a suspended act still exists and may resume, so it
#: stays visible, labelled 已中止, which is what openness (公开) asks for.
PUBLISHED_STATUSES = ("issued", "suspended")

PUBLIC_MODEL = MetaData()

public_guidance = Table(
    "public_guidance",
    PUBLIC_MODEL,
    Column("guidance_id", String(36), primary_key=True),
    Column("doc_no", String(64), nullable=False),
    Column("department_id", String(36), nullable=False),
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
    Column("issued_at", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("withheld", String(1), nullable=False),
    # The public list's keyset, newest first, for each filter it offers (queries.py reads by them, never by OFFSET).
    Index("ix_public_guidance_listing", "issued_at", "guidance_id"),
    Index("ix_public_guidance_department_listing", "department_id", "issued_at", "guidance_id"),
    Index("ix_public_guidance_content_listing", "content_type", "issued_at", "guidance_id"),
)

public_cases = Table(
    "public_cases",
    PUBLIC_MODEL,
    Column("case_id", String(36), primary_key=True),
    Column("case_no", String(64), nullable=False),
    Column("department_id", String(36), nullable=False),
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
    Column("penalty_other_kinds", Text, nullable=True),  # JSON [code]: the kinds imposed with the principal one
    Column("amount_yuan", String(24), nullable=True),
    Column("confiscated_yuan", String(24), nullable=True),
    Column("penalty_description", Text, nullable=True),
    Column("legal_basis", Text, nullable=True),
    Column("summary", Text, nullable=True),
    Column("decided_at", String(40), nullable=True),
    Column("status", String(20), nullable=False),
    # When intake closed the case (结案); a revisit result waits for it or for the decision (``held_revisit_results``).
    Column("closed_at", String(40), nullable=True),
    # A revoked or changed decision's public notice (行政处罚法第四十八条): the day and the reason, redacted.
    Column("withdrawn_on", String(10), nullable=True),
    Column("withdrawal_reason", Text, nullable=True),
    Index("ix_public_cases_listing", "decided_at", "case_id"),
    Index("ix_public_cases_department_listing", "department_id", "decided_at", "case_id"),
)

#: The withdrawal notice of a decision that a later decision of the same case replaced (行政处罚法第四十八条: the
#: reason stays published for the old decision's display period), one row per withdrawn decision number. While a
#: revoked case has no new decision its notice is its ``public_cases`` row; the new decision takes that row over,
#: so the notice moves here first. ``item_id`` is the old decision's disclosure item, which says whether and how
#: long the notice is shown.
public_decision_notices = Table(
    "public_decision_notices",
    PUBLIC_MODEL,
    Column("decision_no", String(64), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("item_id", String(36), nullable=False),
    Column("case_no", String(64), nullable=False),
    Column("decision", String(30), nullable=False),
    Column("department_id", String(36), nullable=False),
    Column("department_name", String(200), nullable=True),
    Column("department_uscc", String(18), nullable=True),
    Column("domain", String(20), nullable=False),
    Column("decided_at", String(40), nullable=False),
    Column("withdrawn_on", String(10), nullable=True),
    Column("withdrawal_reason", Text, nullable=True),
    Index("ix_public_decision_notices_listing", "decided_at", "case_id"),
)

case_person_names = Table(
    "case_person_names",
    PUBLIC_MODEL,
    Column("case_id", String(36), primary_key=True),
    Column("name_marks", Text, nullable=False),  # JSON [{length, mac}]: the natural persons' names
    Column("secret_marks", Text, nullable=False),  # JSON [{length, mac}]: their ID number, address, contact
    Column("public_names", Text, nullable=False),  # JSON [name]: the officers', public anyway
)

public_revisits = Table(
    "public_revisits",
    PUBLIC_MODEL,
    Column("revisit_id", String(36), primary_key=True),
    Column("department_id", String(36), nullable=False),
    Column("case_id", String(36), nullable=True, index=True),
    Column("guidance_id", String(36), nullable=True, index=True),
    Column("kind", String(30), nullable=True),
    Column("completed_on", String(10), nullable=True),
    Column("method", String(20), nullable=True),
    Column("findings", Text, nullable=True),
    Column("notes", Text, nullable=True),
    Column("completed", Boolean, nullable=False),
)

#: A revisit result that arrived before the act it follows. intake's and revisit's events are on two topics, so
#: disclosure may read a case's revisit result before the case's decision or closing (a lagging partition, a
#: rebalance, a rebuild reading the topics in another interleaving); published then, it would be scrubbed without
#: the case's persons and decided without the case's outcome, and a rebuild could decide it differently. So it
#: waits here, as its record was consumed, until its act is known (``revisit_parent_known``), and is applied then.
held_revisit_results = Table(
    "held_revisit_results",
    PUBLIC_MODEL,
    Column("event_id", String(36), primary_key=True),
    Column("parent_id", String(36), nullable=False, index=True),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("record_key", LargeBinary, nullable=True),
    Column("record_value", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
)

#: Where a revisit result and the event that makes its act known meet (``meet_at_parent``). Two workers may apply
#: them at once, each in its own transaction: the result would not see the act's uncommitted row and wait, the act
#: would not see the uncommitted waiting result and release nothing, and the result would wait for good. Both first
#: write this row, so the second waits for the first to commit and then reads what it wrote.
revisit_parents = Table(
    "revisit_parents",
    PUBLIC_MODEL,
    Column("parent_id", String(36), primary_key=True),
)

#: The acts about a natural person whose fields intake sealed (docs/personal-data.md §6.1): by whose pseudonym and
#: under which data key, and whether that key was erased. ``PersonalDataErased`` names the keys it deleted, and
#: the acts sealed under them are brought to what a rebuild makes of them (``erased``); a rebuild, which opens
#: those fields as ［已删除］, writes the row erased from the start. Only pseudonyms and key ids: no public query
#: reads the table.
person_acts = Table(
    "person_acts",
    PUBLIC_MODEL,
    Column("act_id", String(36), primary_key=True),
    Column("kind", String(10), nullable=False),  # "guidance" or "case"
    Column("subject_id", String(64), nullable=False, index=True),
    Column("key_id", String(64), nullable=False, index=True),
    Column("erased", Boolean, nullable=False),
)

_UPSERTS: Mapping[str, Callable[[Table], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


# -- guidance acts -----------------------------------------------------------------------------------
_replace_guidance = Upsert(public_guidance, "guidance_id")
_set_guidance_status = (
    update(public_guidance)
    .where(public_guidance.c.guidance_id == bindparam("gid"))
    .values(status=bindparam("new_status"))
)


class PublicGuidanceProjection:
    """The guidance acts' table on its own, as a kernel projection: the part of disclosure's projection
    that the replay benchmark runs (``bench/kernel_bench.py``), with the batch path ``apply_many``."""

    def __init__(self) -> None:
        self.metadata = PUBLIC_MODEL
        self.items = public_guidance

    def apply(self, conn: Connection, event: ConsumedEvent) -> None:
        write = self.writes.get(event.type)
        if write is not None:
            write(self, conn, event.data)

    def apply_many(self, conn: Connection, events: Sequence[ConsumedEvent]) -> None:
        """Same effect as ``apply`` on each event in order: each run of ``GuidanceIssued`` is one
        ``executemany`` of the upsert (rows replaced in order, so a repeated id ends as its last);
        any other event type ends the run first."""
        run: list[Mapping[str, Any]] = []
        for event in events:
            if event.type == catalogue.GUIDANCE_ISSUED:
                run.append(self.issued_row(event.data))
                continue
            _replace_guidance.executemany(conn, run)
            run.clear()
            self.apply(conn, event)
        _replace_guidance.executemany(conn, run)

    def issued(self, conn: Connection, data: Mapping[str, Any]) -> None:
        _replace_guidance.executemany(conn, [self.issued_row(data)])

    def withdrawn(self, conn: Connection, data: Mapping[str, Any]) -> None:
        conn.execute(_set_guidance_status, {"gid": str(data["guidance_id"]), "new_status": "withdrawn"})

    def suspended(self, conn: Connection, data: Mapping[str, Any]) -> None:
        conn.execute(_set_guidance_status, {"gid": str(data["guidance_id"]), "new_status": "suspended"})

    @staticmethod
    def issued_row(data: Mapping[str, Any]) -> dict[str, Any]:
        """The ``public_guidance`` row of a ``GuidanceIssued``: redacted, as the public may read it."""
        counterpart = data["counterpart"]
        person = counterpart["kind"] in NATURAL_PERSON_KINDS
        withheld = data["disclosure"]["level"] != "public"
        known = guidance_known(data)
        erased = erased_person(data)

        def clean(text: str) -> str:
            return ERASED_TEXT if erased else public_text(text, known)

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
            "counterpart_name": masked(counterpart["name"]) if person else counterpart["name"],
            "counterpart_uscc": None if person else counterpart.get("uscc"),
            "matter": clean(data["matter"]),
            "legal_basis": compact_json(
                [{"instrument": b["instrument"], "article": b["article"]} for b in data["legal_basis"]]
            ),
            "content": clean(data["content"]),
            "rights_notice": clean(data["rights_notice"]),
            "correction_deadline": data["correction_deadline"].isoformat() if data.get("correction_deadline") else None,
            "issued_at": data["issued_at"].isoformat(),
            "status": "issued",
            "withheld": "Y" if withheld else "N",
        }

    writes: ClassVar[EventHandlers[Callable[[PublicGuidanceProjection, Connection, Mapping[str, Any]], None]]] = (
        EventHandlers(
            {
                catalogue.GUIDANCE_ISSUED: issued,
                catalogue.GUIDANCE_WITHDRAWN: withdrawn,
                catalogue.GUIDANCE_SUSPENDED: suspended,
            }
        )
    )


def public_representative(counterpart: Mapping[str, Any]) -> str | None:
    """An organisation's legal representative is public registration information (双公示 ``CF_FRDB``); an
    individual business's operator is a natural person acting as one and is masked; a person has none."""
    representative = counterpart.get("legal_representative")
    if not representative or counterpart["kind"] in NATURAL_PERSON_KINDS:
        return None
    return masked(representative) if counterpart["kind"] == "individual_business" else str(representative)


def masked(name: str) -> str:
    """A natural person's name as published: masked (张三 → 张*), or ［已删除］ once they were erased."""
    return ERASED_TEXT if name == ERASED_TEXT else mask_name(name)


#: The fields intake seals under a counterpart's key (docs/personal-data.md §6).
_SEALED_COUNTERPART_FIELDS = ("name", "id_no", "legal_representative", "address", "contact")


def erased_person(data: Mapping[str, Any]) -> bool:
    """Whether the natural person an act names was erased: their sealed fields open as ［已删除］.

    The act's free text may still name them (intake does not remove them from it), and nothing is left to find
    them with: neither their name, address and phone nor, after ``erased``, their keyed marks. So none of the
    act's free text is published; what the act is (number, dates, department, kind, legal basis) stays."""
    counterpart = data.get("counterpart") or {}
    summoned = ((data.get("interview") or {}).get("summoned") or {}).get("name")
    return summoned == ERASED_TEXT or any(counterpart.get(name) == ERASED_TEXT for name in _SEALED_COUNTERPART_FIELDS)


def sealed_key_id(data: Mapping[str, Any]) -> str | None:
    """The data key an event's counterpart is sealed under (every field of one subject is sealed under one key)."""
    for value in (data.get("counterpart") or {}).values():
        if is_sealed(value):
            return str(value["kid"])
    return None


def guidance_known(data: Mapping[str, Any]) -> Known:
    """The natural persons a ``GuidanceIssued`` names: its counterpart's, whom an admonition summoned; its
    officers, whose names are public."""
    summoned = ((data.get("interview") or {}).get("summoned") or {}).get("name") or ""
    return known_of(data["counterpart"], officers=data.get("officers") or (), summoned=summoned)


def guidance_row(conn: Connection, guidance_id: str) -> Mapping[str, Any] | None:
    row = conn.execute(select(public_guidance).where(public_guidance.c.guidance_id == guidance_id)).first()
    return None if row is None else dict(row._mapping)


# -- cases and their decisions -------------------------------------------------------------------------
def _upsert_case_row(conn: Connection, table: Table, row: Mapping[str, Any]) -> None:
    upsert = _UPSERTS[conn.dialect.name](table).values(**row)
    conn.execute(upsert.on_conflict_do_update(index_elements=["case_id"], set_=row))


def person_of(conn: Connection, case_id: str) -> Known:
    """What ``case_person_names`` keeps of a case's persons (marks, public names); empty for a case not seen."""
    kept = conn.execute(select(case_person_names).where(case_person_names.c.case_id == case_id)).first()
    if kept is None:
        return Known()
    return Known(
        name_marks=tuple(Mark.from_data(m) for m in json.loads(kept.name_marks)),
        secret_marks=tuple(Mark.from_data(m) for m in json.loads(kept.secret_marks)),
        public=tuple(json.loads(kept.public_names)),
    )


def case_row(conn: Connection, case_id: str) -> Mapping[str, Any] | None:
    row = conn.execute(select(public_cases).where(public_cases.c.case_id == case_id)).first()
    return None if row is None else dict(row._mapping)


def _money(value: object) -> str | None:
    return None if value is None else str(value)


def _optional_id(value: object) -> str | None:
    return str(value) if value else None


class CaseTables:
    """Cases, their decisions and revisit results: the writes that need the scrub key, because a later event's
    text is cleaned with what ``case_person_names`` keeps of the case (its keyed marks)."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def opened(self, conn: Connection, data: Mapping[str, Any]) -> None:
        counterpart = data["counterpart"]
        person = counterpart["kind"] in NATURAL_PERSON_KINDS
        violation = data["violation"]
        occurred = violation.get("occurred_on") or china_day(data["opened_at"])
        known = known_of(counterpart, officers=data.get("officers") or ())
        erased = erased_person(data)
        if erased:  # nothing of the person is kept to scrub later texts with: they are not published (``erased``)
            known = Known(public=known.public)
        row = {
            "case_id": str(data["case_id"]),
            "case_no": data["case_no"],
            "department_id": str(data["department_id"]),
            "department_name": data.get("department_name"),
            "department_uscc": data.get("department_uscc"),
            "domain": data["domain"],
            "counterpart_kind": counterpart["kind"],
            "counterpart_name": masked(counterpart["name"]) if person else counterpart["name"],
            "counterpart_uscc": None if person else counterpart.get("uscc"),
            "counterpart_id_type": counterpart.get("id_type") if person else None,
            "legal_representative": public_representative(counterpart),
            "minor": is_minor(counterpart, occurred),
            "violation_code": violation["code"],
            "violation_category": violation["category"],
            "violation_description": ERASED_TEXT if erased else public_text(violation["description"], known),
            "opened_at": data["opened_at"].isoformat(),
            "status": "open",
        }
        _upsert_case_row(conn, public_cases, row)
        kept = known.marked(self.key)
        _upsert_case_row(
            conn,
            case_person_names,
            {
                "case_id": row["case_id"],
                "name_marks": json.dumps([m.as_data() for m in kept.name_marks]),
                "secret_marks": json.dumps([m.as_data() for m in kept.secret_marks]),
                "public_names": json.dumps(list(kept.public), ensure_ascii=False),
            },
        )

    def decided(self, conn: Connection, data: Mapping[str, Any]) -> None:
        penalty = data.get("penalty") or {}
        known = person_of(conn, str(data["case_id"]))
        erased = act_erased(conn, str(data["case_id"]))
        _keep_withdrawal_notice(conn, str(data["case_id"]), str(data["decision_no"]))

        def clean(text: str) -> str:
            return ERASED_TEXT if erased else public_text(text, known, self.key)

        conn.execute(
            update(public_cases)
            .where(public_cases.c.case_id == str(data["case_id"]))
            .values(
                decision_no=data["decision_no"],
                decision=data["decision"],
                penalty_kind=penalty.get("kind"),
                penalty_other_kinds=json.dumps(list(penalty.get("other_kinds") or [])) if penalty else None,
                amount_yuan=_money(penalty.get("amount_yuan")),
                confiscated_yuan=_money(penalty.get("confiscated_yuan")),
                penalty_description=clean(penalty["description"]) if penalty.get("description") else None,
                legal_basis=json.dumps(
                    [{"instrument": b["instrument"], "article": b["article"]} for b in data["legal_basis"]],
                    ensure_ascii=False,
                ),
                summary=clean(data["summary"]) if data.get("summary") else None,
                decided_at=data["decided_at"].isoformat(),
                status="decided",
                # The earlier decision's notice, if any, now lives in ``public_decision_notices``.
                withdrawn_on=None,
                withdrawal_reason=None,
            )
        )

    def decision_revoked(self, conn: Connection, data: Mapping[str, Any]) -> None:
        """The decision leaves the public list, and its notice takes its place: the day and the reason, which
        may repeat the case's persons and is cleaned like the decision's own text."""
        case_id = str(data["case_id"])
        erased = act_erased(conn, case_id)
        reason = ERASED_TEXT if erased else public_text(data["reason"], person_of(conn, case_id), self.key)
        conn.execute(
            update(public_cases)
            .where(public_cases.c.case_id == case_id)
            .values(status="revoked", withdrawn_on=china_day(data["at"]).isoformat(), withdrawal_reason=reason)
        )

    @staticmethod
    def closed(conn: Connection, data: Mapping[str, Any]) -> None:
        conn.execute(
            update(public_cases)
            .where(public_cases.c.case_id == str(data["case_id"]))
            .values(closed_at=data["closed_at"].isoformat())
        )

    # -- revisits --------------------------------------------------------------------------------------
    @staticmethod
    def revisit_scheduled(conn: Connection, data: Mapping[str, Any]) -> None:
        row = {
            "revisit_id": str(data["revisit_id"]),
            "department_id": str(data["department_id"]),
            "case_id": _optional_id(data.get("case_id")),
            "guidance_id": _optional_id(data.get("guidance_id")),
            "kind": data["kind"],
            "completed": False,
        }
        upsert = _UPSERTS[conn.dialect.name](public_revisits).values(**row)
        conn.execute(upsert.on_conflict_do_nothing(index_elements=["revisit_id"]))

    def revisit_completed(self, conn: Connection, data: Mapping[str, Any]) -> None:
        """The result, its notes cleaned of the case's persons; a revisit scheduled before disclosure's
        history began keeps what the result itself says."""
        known = revisit_known(conn, data)
        erased = any(act_erased(conn, str(act)) for act in (data.get("case_id"), data.get("guidance_id")) if act)
        notes = data.get("notes")
        values = {
            "completed_on": data["completed_on"].isoformat(),
            "method": data["method"],
            "findings": json.dumps(dict(data["findings"]), ensure_ascii=False),
            "notes": (ERASED_TEXT if erased else public_text(notes, known, self.key)) if notes else None,
            "completed": True,
        }
        found = conn.execute(
            update(public_revisits).where(public_revisits.c.revisit_id == str(data["revisit_id"])).values(**values)
        ).rowcount
        if not found:
            conn.execute(
                public_revisits.insert().values(
                    revisit_id=str(data["revisit_id"]),
                    department_id=str(data["department_id"]),
                    case_id=_optional_id(data.get("case_id")),
                    guidance_id=_optional_id(data.get("guidance_id")),
                    kind=None,
                    **values,
                )
            )


def _keep_withdrawal_notice(conn: Connection, case_id: str, decision_no: str) -> None:
    """Before a new decision takes a revoked case's row over, its standing notice moves to its own row (keyed by
    the withdrawn decision's number, so a redelivered or replayed decision writes it once)."""
    row = case_row(conn, case_id)
    if row is None or row["status"] != "revoked" or row["decision_no"] in (None, decision_no):
        return
    notice = {
        "decision_no": row["decision_no"],
        "case_id": case_id,
        "item_id": item_id_for(decision_kind(row["decision"], row["domain"]), f"{case_id}:{row['decision_no']}"),
        **{key: row[key] for key in _NOTICE_COLUMNS},
    }
    upsert = _UPSERTS[conn.dialect.name](public_decision_notices).values(**notice)
    conn.execute(upsert.on_conflict_do_update(index_elements=["decision_no"], set_=notice))


_NOTICE_COLUMNS = (
    "case_no",
    "decision",
    "department_id",
    "department_name",
    "department_uscc",
    "domain",
    "decided_at",
    "withdrawn_on",
    "withdrawal_reason",
)


def revisit_known(conn: Connection, data: Mapping[str, Any]) -> Known:
    """A revisit result's persons: its case's (kept marks), its officers' names public."""
    case = person_of(conn, str(data["case_id"])) if data.get("case_id") else Known()
    officers = tuple(str(o.get("name") or "") for o in data.get("officers") or ())
    return Known(
        name_marks=case.name_marks,
        secret_marks=case.secret_marks,
        public=tuple(n for n in (*case.public, *officers) if n),
    )


def revisit_parent_id(data: Mapping[str, Any]) -> str | None:
    """The act a revisit follows: its case, else its guidance act (a revisit names one of them)."""
    return _optional_id(data.get("case_id")) or _optional_id(data.get("guidance_id"))


def revisit_parent_known(conn: Connection, data: Mapping[str, Any]) -> bool:
    """Whether the act a revisit result follows is in the projection as it stood when the revisit was planned:
    a case once decided or closed (revisits are planned when a case closes, after any decision), a guidance
    act once issued. A result that names neither has nothing to wait for."""
    if data.get("case_id"):
        case = conn.execute(
            select(public_cases.c.decision_no, public_cases.c.closed_at).where(
                public_cases.c.case_id == str(data["case_id"])
            )
        ).first()
        return case is not None and (case.decision_no is not None or case.closed_at is not None)
    if data.get("guidance_id"):
        return guidance_row(conn, str(data["guidance_id"])) is not None
    return True


def meet_at_parent(conn: Connection, parent_id: str) -> None:
    """Lock the act's meeting row (made if new) until this transaction ends (``revisit_parents``)."""
    upsert = _UPSERTS[conn.dialect.name](revisit_parents).values(parent_id=parent_id)
    conn.execute(upsert.on_conflict_do_update(index_elements=["parent_id"], set_={"parent_id": parent_id}))


def hold_revisit_result(conn: Connection, parent_id: str, event: ConsumedEvent) -> None:
    """Keep a revisit result until its act is known; a redelivery of the same event is kept once."""
    record = event.envelope.to_record(event.topic)
    row = {
        "event_id": event.envelope.id,
        "parent_id": parent_id,
        "topic": event.topic,
        "partition": event.partition,
        "offset": event.offset,
        "record_key": record.key,
        "record_value": record.value,
        "headers": kept_headers(record.headers),
    }
    upsert = _UPSERTS[conn.dialect.name](held_revisit_results).values(**row)
    conn.execute(upsert.on_conflict_do_nothing(index_elements=["event_id"]))


def take_held_revisit_results(conn: Connection, parent_id: str) -> list[ConsumedRecord]:
    """The results that waited for ``parent_id``, as consumed, in their topic's order; no longer held."""
    table = held_revisit_results
    rows = conn.execute(
        select(table).where(table.c.parent_id == parent_id).order_by(table.c.partition, table.c.offset)
    ).all()
    if not rows:
        return []
    conn.execute(delete(table).where(table.c.parent_id == parent_id))
    return [
        kept_record(row.topic, row.partition, row.offset, row.record_key, row.record_value, row.headers) for row in rows
    ]


def revisit_row(conn: Connection, revisit_id: str) -> Mapping[str, Any] | None:
    row = conn.execute(select(public_revisits).where(public_revisits.c.revisit_id == revisit_id)).first()
    return None if row is None else dict(row._mapping)


# -- erased persons ----------------------------------------------------------------------------------------
def keep_person(conn: Connection, kind: str, act_id: str, sealed: Mapping[str, Any], opened: Mapping[str, Any]) -> None:
    """Note whose sealed fields an act (``kind`` "guidance" or "case") carries and under which key, from the event
    as consumed (``sealed``) and as opened; nothing for an act whose counterpart was not sealed."""
    subject_id = (sealed.get("counterpart") or {}).get("subject_id")
    key_id = sealed_key_id(sealed)
    if not isinstance(subject_id, str) or key_id is None:
        return
    row = {"act_id": act_id, "kind": kind, "subject_id": subject_id, "key_id": key_id, "erased": erased_person(opened)}
    upsert = _UPSERTS[conn.dialect.name](person_acts).values(**row)
    conn.execute(upsert.on_conflict_do_update(index_elements=["act_id"], set_=row))


def act_erased(conn: Connection, act_id: str) -> bool:
    """Whether the person an act was sealed for was erased (as its own event said, or ``erased`` since)."""
    found = conn.execute(select(person_acts.c.erased).where(person_acts.c.act_id == act_id)).scalar_one_or_none()
    return bool(found)


def _erased_unless_null(column: Any) -> Any:
    return when((column.is_(None), None), else_=ERASED_TEXT)


def erased(conn: Connection, data: Mapping[str, Any]) -> None:
    """``PersonalDataErased``: the acts sealed under the keys it names become what a rebuild makes of them, where
    the person's fields open as ［已删除］ (``issued_row``, ``CaseTables``): the person's name and operator read
    ［已删除］, every free text of the act, its decision, its withdrawal notices and its revisits' notes reads
    ［已删除］ (it may name them, and nothing is left to find them with), the case's keyed marks are dropped, and a
    resident's case counts as a minor's (``is_minor``: their age can no longer be told). Other acts of the same
    pseudonym, sealed under a key not named (a later record, erased by a later erasure), are left as they are."""
    acts = person_acts.c
    named = and_(acts.key_id.in_([str(k) for k in data["key_ids"]]), acts.erased.is_(False))
    found = conn.execute(select(acts.act_id, acts.kind).where(named)).all()
    for act_id, kind in found:
        if kind == "guidance":
            _erase_guidance(conn, act_id)
        else:
            _erase_case(conn, act_id)
        revisits = public_revisits.c
        conn.execute(
            update(public_revisits)
            .where(or_(revisits.case_id == act_id, revisits.guidance_id == act_id))
            .values(notes=_erased_unless_null(revisits.notes))
        )
    conn.execute(update(person_acts).where(named).values(erased=True))


def _erase_guidance(conn: Connection, guidance_id: str) -> None:
    row = public_guidance.c
    conn.execute(
        update(public_guidance)
        .where(row.guidance_id == guidance_id)
        .values(
            counterpart_name=when(
                (row.counterpart_kind.in_(NATURAL_PERSON_KINDS), ERASED_TEXT), else_=row.counterpart_name
            ),
            matter=ERASED_TEXT,
            content=ERASED_TEXT,
            rights_notice=ERASED_TEXT,
        )
    )


def _erase_case(conn: Connection, case_id: str) -> None:
    row = public_cases.c
    conn.execute(
        update(public_cases)
        .where(row.case_id == case_id)
        .values(
            counterpart_name=when(
                (row.counterpart_kind.in_(NATURAL_PERSON_KINDS), ERASED_TEXT), else_=row.counterpart_name
            ),
            legal_representative=when(
                (
                    and_(row.counterpart_kind == "individual_business", row.legal_representative.is_not(None)),
                    ERASED_TEXT,
                ),
                else_=row.legal_representative,
            ),
            minor=when(
                (and_(row.counterpart_kind == "person", row.counterpart_id_type == "resident_id"), True),
                else_=row.minor,
            ),
            violation_description=ERASED_TEXT,
            penalty_description=_erased_unless_null(row.penalty_description),
            summary=_erased_unless_null(row.summary),
            withdrawal_reason=_erased_unless_null(row.withdrawal_reason),
        )
    )
    notices = public_decision_notices.c
    conn.execute(
        update(public_decision_notices)
        .where(notices.case_id == case_id)
        .values(withdrawal_reason=_erased_unless_null(notices.withdrawal_reason))
    )
    conn.execute(
        update(case_person_names)
        .where(case_person_names.c.case_id == case_id)
        .values(name_marks="[]", secret_marks="[]")
    )


TableWrite = Callable[[Connection, Mapping[str, Any]], None]
_GUIDANCE = PublicGuidanceProjection()

#: The consumed event types that change no public table.
IGNORED = (
    catalogue.GUIDANCE_RESPONDED,
    catalogue.CORRECTION_VERIFIED,
    catalogue.CASE_LEGAL_REVIEWED,
    catalogue.ARCHIVE_PACKAGE_PRODUCED,
    catalogue.REVISIT_OVERDUE,
    catalogue.REVISIT_CANCELLED,
    catalogue.REVISIT_RESCHEDULED,
    catalogue.REVISIT_DEADLINE_RECOMPUTED,
    catalogue.REMINDER_PLANNED,
    catalogue.REMINDER_PLAN_ACCEPTED,
    catalogue.REMINDER_PLAN_ADJUSTED,
    catalogue.REMINDER_PLAN_DISMISSED,
)


def writes(key: bytes) -> EventHandlers[TableWrite]:
    """The public tables' update for each consumed event type (its validated data); ``key`` is the scrub key
    the case tables keep their marks under."""
    cases = CaseTables(key)
    return EventHandlers(
        {
            catalogue.GUIDANCE_ISSUED: _GUIDANCE.issued,
            catalogue.GUIDANCE_WITHDRAWN: _GUIDANCE.withdrawn,
            catalogue.GUIDANCE_SUSPENDED: _GUIDANCE.suspended,
            catalogue.CASE_OPENED: cases.opened,
            catalogue.CASE_DECIDED: cases.decided,
            catalogue.CASE_DECISION_REVOKED: cases.decision_revoked,
            catalogue.CASE_CLOSED: cases.closed,
            catalogue.REVISIT_SCHEDULED: cases.revisit_scheduled,
            catalogue.REVISIT_COMPLETED: cases.revisit_completed,
            catalogue.PERSONAL_DATA_ERASED: erased,
        },
        ignored=IGNORED,
    )
