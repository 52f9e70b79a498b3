"""双公示: penalty decisions in the national field layout (行政处罚 CF_*) for the credit platform.

The layout is the one of docs/domain.md §7.1 (the "双公示数据标准 2.0" field set as
implementations use it): code, Chinese name, type, maximum length, and whether a row needs it. It is
data, so the export and its field-by-field test read the same table.

Decisions made here, where the sources are silent or the suite's privacy rule is stricter:

- a natural person's name is masked (张*) and the ID number is left empty: disclosure never stores
  it; the department's exchange system, which reads intake, fills ``CF_XDR_ZJHM`` if its platform
  demands it. ``CF_XDR_ZJLX`` names the document type (not personal) when the counterpart is a person;
- ``CF_FRDB``: an enterprise's or organisation's legal representative is public registration
  information and the layout publishes it, so it is given as written; an individual business's
  operator is a natural person acting as one and stays masked;
- ``CF_CFLB`` lists every penalty kind of the decision, the principal one first (罚款、没收违法所得);
- amounts are in 万元 with six decimals (decimal(18,6));
- ``CF_YXQ`` (处罚有效期) is the end of the display period, as is ``CF_GSJZQ`` (公示截止期): the
  suite has no other validity date for a penalty;
- ``CF_SJLY``/``CF_SJLYDM`` (data source) are the deciding department: it is the one that publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from guidance_shared.vocabulary import label_zh


@dataclass(frozen=True)
class Field:
    code: str
    name: str
    kind: str  # varchar | text | decimal | date
    length: int | None
    required: bool


LAYOUT: tuple[Field, ...] = (
    Field("CF_XDR_MC", "行政相对人名称", "varchar", 200, True),
    Field("CF_XDR_LB", "行政相对人类别", "varchar", 100, True),
    Field("CF_XDR_SHXYM", "统一社会信用代码", "varchar", 32, False),
    Field("CF_XDR_GSZC", "工商注册号", "varchar", 50, False),
    Field("CF_XDR_ZZJG", "组织机构代码", "varchar", 9, False),
    Field("CF_XDR_SWDJ", "税务登记号", "varchar", 15, False),
    Field("CF_XDR_SYDW", "事业单位证书号", "varchar", 12, False),
    Field("CF_XDR_SHZZ", "社会组织登记证号", "varchar", 50, False),
    Field("CF_FRDB", "法定代表人", "varchar", 50, False),
    Field("CF_FR_ZJLX", "法定代表人证件类型", "varchar", 64, False),
    Field("CF_FR_ZJHM", "法定代表人证件号码", "varchar", 64, False),
    Field("CF_XDR_ZJLX", "证件类型", "varchar", 64, False),
    Field("CF_XDR_ZJHM", "证件号码", "varchar", 64, False),
    Field("CF_WSH", "行政处罚决定书文号", "varchar", 128, True),
    Field("CF_WFXW", "违法行为类型", "text", 2000, True),
    Field("CF_SY", "违法事实", "text", 5000, True),
    Field("CF_YJ", "处罚依据", "text", 2000, True),
    Field("CF_CFLB", "处罚类别", "varchar", 36, True),
    Field("CF_NR", "处罚内容", "text", 4000, True),
    Field("CF_NR_FK", "罚款金额（万元）", "decimal", None, False),
    Field("CF_NR_WFFF", "没收违法所得、没收非法财物的金额（万元）", "decimal", None, False),
    Field("CF_NR_ZKDX", "暂扣或吊销证照名称及编号", "varchar", 200, False),
    Field("CF_JDRQ", "处罚决定日期", "date", None, True),
    Field("CF_YXQ", "处罚有效期", "date", None, True),
    Field("CF_GSJZQ", "公示截止期", "date", None, True),
    Field("CF_CFJG", "处罚机关", "varchar", 200, True),
    Field("CF_CFJGDM", "处罚机关统一社会信用代码", "varchar", 18, True),
    Field("CF_SJLY", "数据来源单位", "varchar", 200, True),
    Field("CF_SJLYDM", "数据来源单位统一社会信用代码", "varchar", 18, True),
    Field("BZ", "备注", "varchar", 512, False),
)
CODES = tuple(f.code for f in LAYOUT)

#: 行政相对人类别 as the platform samples spell it.
COUNTERPART_CLASS = {
    "enterprise": "法人及非法人组织",
    "other_org": "法人及非法人组织",
    "individual_business": "个体工商户",
    "person": "自然人",
}
LICENCE_KINDS = ("licence_suspension", "licence_revocation")
TEN_THOUSAND = Decimal(10000)


def wan(amount: str | None) -> str:
    """Yuan as 万元 with six decimals: '12000.00' → '1.200000'."""
    if amount is None:
        return ""
    return str((Decimal(amount) / TEN_THOUSAND).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))


def penalty_row(decision: Mapping[str, Any]) -> dict[str, str]:
    """One published penalty decision (a row of the public projection joined with its item) in CF_* fields."""
    person = decision["counterpart_kind"] == "person"
    basis = "；".join(f"{b['instrument']}{b['article']}" for b in decision["legal_basis"])
    content = decision.get("penalty_description") or decision.get("summary") or label_zh(decision["penalty_kind"])
    display_until = str(decision["display_until"] or "")
    department = decision.get("department_name") or ""
    department_uscc = decision.get("department_uscc") or ""
    row = {
        "CF_XDR_MC": decision["counterpart_name"],
        "CF_XDR_LB": COUNTERPART_CLASS.get(decision["counterpart_kind"], "法人及非法人组织"),
        "CF_XDR_SHXYM": "" if person else (decision.get("counterpart_uscc") or ""),
        "CF_XDR_GSZC": "",
        "CF_XDR_ZZJG": "",
        "CF_XDR_SWDJ": "",
        "CF_XDR_SYDW": "",
        "CF_XDR_SHZZ": "",
        "CF_FRDB": "" if person else (decision.get("legal_representative") or ""),
        "CF_FR_ZJLX": "",
        "CF_FR_ZJHM": "",
        "CF_XDR_ZJLX": label_zh(decision["counterpart_id_type"])
        if person and decision.get("counterpart_id_type")
        else "",
        "CF_XDR_ZJHM": "",
        "CF_WSH": decision["decision_no"],
        "CF_WFXW": decision["violation_category"],
        "CF_SY": decision["violation_description"],
        "CF_YJ": basis,
        "CF_CFLB": penalty_kinds(decision),
        "CF_NR": content,
        "CF_NR_FK": wan(decision.get("amount_yuan")),
        "CF_NR_WFFF": wan(decision.get("confiscated_yuan")),
        "CF_NR_ZKDX": (decision.get("penalty_description") or "")[:200]
        if set(_kinds(decision)) & set(LICENCE_KINDS)
        else "",
        "CF_JDRQ": decision["decided_at"][:10],
        "CF_YXQ": display_until,
        "CF_GSJZQ": display_until,
        "CF_CFJG": department,
        "CF_CFJGDM": department_uscc,
        "CF_SJLY": department,
        "CF_SJLYDM": department_uscc,
        "BZ": "",
    }
    return {code: _fit(row[code], field) for code, field in zip(CODES, LAYOUT, strict=True)}


def penalty_kinds(decision: Mapping[str, Any]) -> str:
    """CF_CFLB: every kind imposed, the principal one first, as the platform samples join them (罚款、没收违法所得)."""
    return "、".join(label_zh(kind) for kind in _kinds(decision))


def _kinds(decision: Mapping[str, Any]) -> list[str]:
    return [decision["penalty_kind"], *(decision.get("penalty_other_kinds") or ())]


def _fit(value: str, field: Field) -> str:
    """Cut text to the column's length, so one long description never makes the platform refuse the batch."""
    if field.length is not None and len(value) > field.length:
        return value[: field.length - 1] + "…"
    return value
