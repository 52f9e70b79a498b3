"""The ledger (台账) of a department: one line per guidance act, in the columns a county keeps on paper.

A line is made from one row of intake's read model (``adapters.queries.ledger_records``), so the ledger
is as current as the event store and never loads an aggregate. It is an internal record, yet it still
names a natural person only by name: the read model holds no identity number, phone or address, and free
text of acts about a person or an individual business is scrubbed of ID and phone numbers here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from guidance_shared.privacy import scrub_text
from guidance_shared.vocabulary import label_zh

#: What a ledger cell holds: text, a day, or nothing (an empty cell).
LedgerCell = str | date | None

HEADERS = (
    "文号",
    "作出日期",
    "指导类型",
    "指导方式",
    "执法领域",
    "指导形式",
    "相对人类型",
    "相对人名称",
    "指导事项",
    "法律依据",
    "执法人员",
    "改正期限",
    "相对人回应",
    "回应日期",
    "改正核查",
    "核查日期",
    "状态",
    "补录登记日期",
)
NONE = "—"
STATUS_ZH: Mapping[str, str] = {
    "issued": "已作出",
    "responded": "已回应",
    "correction_verified": "已核查",
    "suspended": "已中止",
    "withdrawn": "已撤回",
}
# Counterparts who are, or are run by, a natural person: their free text is scrubbed.
PERSONAL_KINDS = ("person", "individual_business")


def ledger_line(record: Mapping[str, Any]) -> tuple[LedgerCell, ...]:
    """One read-model row as ledger cells, in the order of ``HEADERS``."""
    personal = record["counterpart_kind"] in PERSONAL_KINDS
    return (
        record["doc_no"],
        record["issued_on"],
        label_zh(record["content_type"]),
        "、".join(label_zh(m) for m in json.loads(record["methods"])),
        label_zh(record["domain"]),
        label_zh(record["form"]),
        label_zh(record["counterpart_kind"]),
        record["counterpart_name"],
        scrub_text(record["matter"]) if personal else record["matter"],
        legal_basis_text(json.loads(record["legal_basis"])),
        "、".join(officer["name"] for officer in json.loads(record["officers"])),
        record["correction_deadline"],
        label_zh(record["response"]) if record["response"] else NONE,
        record["responded_on"],
        _corrected(record["corrected"]),
        record["verified_on"],
        STATUS_ZH.get(record["status"], record["status"]),
        record["recorded_on"] if record.get("backdated") else NONE,
    )


def legal_basis_text(bases: Sequence[Mapping[str, str]]) -> str:
    """《法》第X条；《法》第Y条 — the instrument bracketed once, whether or not it came with 《》."""
    return "；".join(f"{_bracketed(b['instrument'])}{b['article']}" for b in bases)


def _bracketed(instrument: str) -> str:
    return instrument if instrument.startswith("《") else f"《{instrument}》"


def _corrected(corrected: bool | None) -> str:
    if corrected is None:
        return NONE
    return "已改正" if corrected else "未改正"
