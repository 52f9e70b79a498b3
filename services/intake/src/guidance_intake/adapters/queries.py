"""The read side: the SELECTs on intake's read model (``read_model``) that handlers and views need.

Every answer comes from the inline tables, so it is as current as the event store and loads no aggregate.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from guidance_intake.adapters.read_model import case_records, guidance_records


@dataclass(frozen=True)
class HistoryEntry:
    """One guidance act or case in a counterpart's history."""

    record: str  # "guidance" or "case"
    id: str
    department_id: str
    number: str  # 文号 or 案件编号
    kind: str  # content type, or violation category
    date: date
    status: str


def prior_violation_dates(
    conn: Connection, keys: Sequence[str], violation_code: str, *, excluding_case: str
) -> list[date]:
    """When this counterpart (any of its ``read_model.counterpart_keys``) committed the same violation in other
    cases (revoked decisions don't count)."""
    query = select(case_records.c.occurred_on).where(
        case_records.c.counterpart_key.in_(sorted(set(keys))),
        case_records.c.violation_code == violation_code,
        case_records.c.case_id != excluding_case,
        case_records.c.status != "decision_revoked",
    )
    return [row[0] for row in conn.execute(query)]


def history(conn: Connection, keys: Sequence[str], departments: frozenset[str] | None) -> list[HistoryEntry]:
    """A counterpart's guidance acts and cases (under any of its ``read_model.counterpart_keys``), newest first;
    ``departments=None`` means all (admin)."""
    wanted = sorted(set(keys))
    guidance = select(guidance_records).where(guidance_records.c.counterpart_key.in_(wanted))
    cases = select(case_records).where(case_records.c.counterpart_key.in_(wanted))
    if departments is not None:
        guidance = guidance.where(guidance_records.c.department_id.in_(sorted(departments)))
        cases = cases.where(case_records.c.department_id.in_(sorted(departments)))
    entries = [
        HistoryEntry("guidance", r.guidance_id, r.department_id, r.doc_no, r.content_type, r.issued_on, r.status)
        for r in conn.execute(guidance)
    ] + [
        HistoryEntry("case", r.case_id, r.department_id, r.case_no, r.violation_category, r.occurred_on, r.status)
        for r in conn.execute(cases)
    ]
    return sorted(entries, key=lambda e: (e.date, e.number), reverse=True)


def ledger_records(conn: Connection, department_id: str, first: date, last: date) -> Iterator[Mapping[str, Any]]:
    """The department's acts issued from ``first`` to ``last`` (both included, Beijing days), oldest first, read
    down ``ix_guidance_records_ledger`` as the caller takes them (years of acts are never all in memory)."""
    c = guidance_records.c
    query = (
        select(guidance_records)
        .where(c.department_id == department_id, c.issued_on >= first, c.issued_on <= last)
        .order_by(c.issued_on, c.doc_no)
    )
    for row in conn.execution_options(yield_per=500).execute(query):
        yield row._asdict()


def ledger_count(conn: Connection, department_id: str, first: date, last: date) -> int:
    """How many acts ``ledger_records`` gives for the range (counted down the same index)."""
    c = guidance_records.c
    query = select(func.count()).where(c.department_id == department_id, c.issued_on >= first, c.issued_on <= last)
    return int(conn.execute(query).scalar_one())


def case_ids_numbered(conn: Connection, department_id: str, case_no: str) -> list[str]:
    """The ids of the department's cases with this 案件编号 (one, none, or — when numbers repeat — several)."""
    c = case_records.c
    return [
        row.case_id
        for row in conn.execute(select(c.case_id).where(c.department_id == department_id, c.case_no == case_no))
    ]
