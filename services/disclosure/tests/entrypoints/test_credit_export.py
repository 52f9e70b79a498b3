"""双公示 export validated field by field against the 行政处罚 layout (docs/domain.md §7.1).

The layout below is written out again here, from the research notes, rather than read from the code:
the export must match the notes, not itself.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.support.auth import AuthKeys
from tests.support.events import record

from guidance_disclosure.domain.credit import CODES, wan
from guidance_shared.events.examples import DEPARTMENT_ID, DEPARTMENT_NAME, DEPARTMENT_USCC, PERSON, example
from guidance_shared.runtime import Runtime

CHINA = ZoneInfo("Asia/Shanghai")
OPENED = "guidance.CaseOpened.v1"
DECIDED = "guidance.CaseDecided.v1"

# code: (type, maximum length or None, required) — §5.1's table; lengths of text columns are the export's caps.
LAYOUT: dict[str, tuple[str, int | None, bool]] = {
    "CF_XDR_MC": ("varchar", 200, True),
    "CF_XDR_LB": ("varchar", 100, True),
    "CF_XDR_SHXYM": ("varchar", 32, False),
    "CF_XDR_GSZC": ("varchar", None, False),
    "CF_XDR_ZZJG": ("varchar", None, False),
    "CF_XDR_SWDJ": ("varchar", None, False),
    "CF_XDR_SYDW": ("varchar", None, False),
    "CF_XDR_SHZZ": ("varchar", None, False),
    "CF_FRDB": ("varchar", None, False),
    "CF_FR_ZJLX": ("varchar", None, False),
    "CF_FR_ZJHM": ("varchar", None, False),
    "CF_XDR_ZJLX": ("varchar", None, False),
    "CF_XDR_ZJHM": ("varchar", None, False),
    "CF_WSH": ("varchar", 128, True),
    "CF_WFXW": ("text", None, True),
    "CF_SY": ("text", None, True),
    "CF_YJ": ("text", None, True),
    "CF_CFLB": ("varchar", 36, True),
    "CF_NR": ("text", None, True),
    "CF_NR_FK": ("decimal", None, False),
    "CF_NR_WFFF": ("decimal", None, False),
    "CF_NR_ZKDX": ("varchar", None, False),
    "CF_JDRQ": ("date", None, True),
    "CF_YXQ": ("date", None, True),
    "CF_GSJZQ": ("date", None, True),
    "CF_CFJG": ("varchar", None, True),
    "CF_CFJGDM": ("varchar", 18, True),
    "CF_SJLY": ("varchar", None, True),
    "CF_SJLYDM": ("varchar", 18, True),
    "BZ": ("varchar", None, False),
}
USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
CLASSES = {"法人及非法人组织", "自然人", "个体工商户"}


def validate_row(row: dict[str, str]) -> list[str]:
    """Every problem with one exported row, by field code; empty when the row fits the layout."""
    problems = []
    if list(row) != list(LAYOUT):
        problems.append(f"fields {list(row)} are not the layout's, in its order")
    for code, (kind, length, required) in LAYOUT.items():
        value = row.get(code, "")
        if required and not value:
            problems.append(f"{code}: required")
        if not value:
            continue
        if length is not None and len(value) > length:
            problems.append(f"{code}: longer than {length}")
        if kind == "decimal" and not re.fullmatch(r"\d{1,12}\.\d{6}", value):
            problems.append(f"{code}: not decimal(18,6): {value!r}")
        if kind == "date":
            try:
                datetime.strptime(value, "%Y-%m-%d")
            except ValueError:
                problems.append(f"{code}: not a date: {value!r}")
    for code in ("CF_XDR_SHXYM", "CF_CFJGDM", "CF_SJLYDM"):
        if row.get(code) and not USCC.match(row[code]):
            problems.append(f"{code}: not a 统一社会信用代码")
    if row.get("CF_XDR_LB") not in CLASSES:
        problems.append(f"CF_XDR_LB: {row.get('CF_XDR_LB')!r} not one of {CLASSES}")
    if row.get("CF_XDR_LB") == "自然人" and (row.get("CF_XDR_SHXYM") or row.get("CF_FRDB")):
        problems.append("a natural person has no organisation code and no legal representative")
    return problems


@pytest.fixture
def export(api: tuple[Any, AuthKeys, Runtime]) -> tuple[Any, AuthKeys, Runtime]:
    """The entrypoints' ``api`` with the items' clock on the day the export's decisions are published."""
    api[2].deps.items.now = lambda: datetime(2025, 3, 21, 9, 0, tzinfo=CHINA)
    return api


def decide(runtime: Runtime, counterpart: dict[str, Any], **decided: Any) -> str:
    case_id = str(uuid.uuid4())
    opened = example(OPENED) | {"case_id": case_id, "counterpart": counterpart}
    data = example(DECIDED) | {"case_id": case_id, "decision_no": f"某市监处罚〔2025〕{case_id[:4]}号"} | decided
    runtime.transport.producer().publish([record(OPENED, case_id, opened, 1), record(DECIDED, case_id, data, 2)])
    runtime.runner().drain()
    return case_id


def fetch(client: Any, keys: AuthKeys, fmt: str) -> Any:
    return client.get(
        "/v1/credit/penalties",
        query_string={"department_id": DEPARTMENT_ID, "format": fmt, "from": "2025-01-01", "to": "2025-12-31"},
        headers=keys.headers("officer-1", DEPARTMENT_ID, ["officer"]),
    )


def test_every_exported_field_fits_the_layout_and_says_what_the_decision_says(export) -> None:
    client, keys, runtime = export
    enterprise = example(OPENED)["counterpart"] | {
        "kind": "enterprise",
        "name": "某县宏达食品有限公司",
        "uscc": "91410000MA3X7K2P55",
        "legal_representative": "赵建国",
    }
    decide(runtime, enterprise)
    response = fetch(client, keys, "json")
    assert response.status_code == 200, response.get_json()
    (row,) = response.get_json()["records"]
    assert validate_row(row) == []
    assert row == {
        "CF_XDR_MC": "某县宏达食品有限公司",
        "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": "91410000MA3X7K2P55",
        "CF_XDR_GSZC": "",
        "CF_XDR_ZZJG": "",
        "CF_XDR_SWDJ": "",
        "CF_XDR_SYDW": "",
        "CF_XDR_SHZZ": "",
        "CF_FRDB": "赵建国",  # an enterprise's legal representative is public registration information
        "CF_FR_ZJLX": "",
        "CF_FR_ZJHM": "",
        "CF_XDR_ZJLX": "",
        "CF_XDR_ZJHM": "",
        "CF_WSH": row["CF_WSH"],
        "CF_WFXW": example(OPENED)["violation"]["category"],
        "CF_SY": example(OPENED)["violation"]["description"],
        "CF_YJ": "《中华人民共和国食品安全法》第三十四条第（十）项；"
        + "".join(example(DECIDED)["legal_basis"][1].values()),
        "CF_CFLB": "罚款、没收违法所得、没收非法财物",  # every kind imposed, the principal one first
        "CF_NR": example(DECIDED)["penalty"]["description"],
        "CF_NR_FK": "5.000000",  # 50,000.00 yuan in 万元
        "CF_NR_WFFF": "0.119600",  # 1,196.00 yuan
        "CF_NR_ZKDX": "",
        "CF_JDRQ": "2025-03-20",
        "CF_YXQ": "2028-03-20",
        "CF_GSJZQ": "2028-03-20",
        "CF_CFJG": DEPARTMENT_NAME,
        "CF_CFJGDM": DEPARTMENT_USCC,
        "CF_SJLY": DEPARTMENT_NAME,
        "CF_SJLYDM": DEPARTMENT_USCC,
        "BZ": "",
    }
    assert row["CF_WSH"].startswith("某市监处罚〔2025〕")


def test_a_natural_person_is_masked_and_carries_no_id_number(export) -> None:
    client, keys, runtime = export
    decide(runtime, PERSON, summary=f"{PERSON['name']}经营超过保质期的食品。")
    (row,) = fetch(client, keys, "json").get_json()["records"]
    assert validate_row(row) == []
    assert row["CF_XDR_LB"] == "自然人" and row["CF_XDR_MC"] == PERSON["name"][0] + "*" * (len(PERSON["name"]) - 1)
    assert row["CF_XDR_ZJLX"] == "居民身份证" and row["CF_XDR_ZJHM"] == ""
    body = fetch(client, keys, "csv").get_data(as_text=True)
    for secret in (PERSON["name"], PERSON["id_no"], PERSON["contact"], PERSON["address"]):
        assert secret not in body


def test_an_individual_business_operator_stays_masked_and_a_single_kind_is_listed_alone(export) -> None:
    # Given a 个体工商户 run by 孙丽华, fined only
    client, keys, runtime = export
    shop = example(OPENED)["counterpart"] | {
        "kind": "individual_business",
        "name": "某县丽华副食店",
        "uscc": "92410102MA3X7K2P5X",
        "legal_representative": "孙丽华",
    }
    fine = {"kind": "fine", "amount_yuan": "2000.00", "description": "罚款2000.00元。"}
    decide(runtime, shop, penalty=fine)
    # When the department exports its penalties
    (row,) = fetch(client, keys, "json").get_json()["records"]
    # Then the operator, a natural person, is masked, and CF_CFLB names the one kind imposed
    assert (row["CF_XDR_LB"], row["CF_XDR_MC"], row["CF_FRDB"]) == ("个体工商户", "某县丽华副食店", "孙**")
    assert row["CF_CFLB"] == "罚款" and row["CF_NR_WFFF"] == ""
    assert "孙丽华" not in fetch(client, keys, "csv").get_data(as_text=True)


def test_the_csv_has_the_codes_as_header_and_reads_back_the_same_rows(export) -> None:
    client, keys, runtime = export
    for n in range(3):
        decide(runtime, example(OPENED)["counterpart"], decided_at=f"2025-03-{20 + n}T15:00:00+08:00")
    as_json = fetch(client, keys, "json").get_json()["records"]
    response = fetch(client, keys, "csv")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert list(rows[0]) == list(LAYOUT) == list(CODES)
    assert rows == as_json and len(rows) == 3
    assert [row["CF_JDRQ"] for row in rows] == ["2025-03-20", "2025-03-21", "2025-03-22"]
    assert all(validate_row(row) == [] for row in rows)


def test_only_published_penalties_are_exported(export) -> None:
    client, keys, runtime = export
    decide(runtime, example(OPENED)["counterpart"], decision="no_penalty_minor", penalty=None, major=False)
    decide(runtime, example(OPENED)["counterpart"], summary="涉及配方资料。")  # waits in review
    assert fetch(client, keys, "json").get_json()["records"] == []


def test_the_export_is_department_scoped_and_validated(export) -> None:
    client, keys, _runtime = export
    other = keys.headers("officer-2", "077493a6-c269-5ad9-9cc1-26c4417acc51", ["officer"])
    query = {"department_id": DEPARTMENT_ID}
    assert client.get("/v1/credit/penalties", query_string=query, headers=other).status_code == 404
    assert client.get("/v1/credit/penalties", query_string=query).status_code == 401
    own = keys.headers("officer-1", DEPARTMENT_ID, ["officer"])
    bad = client.get("/v1/credit/penalties", query_string={**query, "format": "xml"}, headers=own)
    assert bad.status_code == 422 and "format" in str(bad.get_json())
    layout = client.get("/v1/credit/penalties/layout").get_json()["fields"]
    assert [f["code"] for f in layout] == list(LAYOUT)


def test_amounts_are_in_ten_thousand_yuan_with_six_decimals() -> None:
    assert wan("50000.00") == "5.000000"
    assert wan("0.01") == "0.000001"
    assert wan("123456789.99") == "12345.678999"
    assert wan(None) == ""
    assert Decimal(wan("1196.00")) * 10000 == Decimal("1196.000000")


def test_a_name_a_spreadsheet_would_run_as_a_formula_is_guarded_in_the_csv(export) -> None:
    client, keys, runtime = export
    hostile = example(OPENED)["counterpart"] | {"kind": "enterprise", "name": '=HYPERLINK("http://x")有限公司'}
    decide(runtime, hostile)
    rows = list(csv.DictReader(io.StringIO(fetch(client, keys, "csv").get_data(as_text=True).removeprefix("\ufeff"))))
    assert rows[0]["CF_XDR_MC"] == '\'=HYPERLINK("http://x")有限公司'
    assert fetch(client, keys, "json").get_json()["records"][0]["CF_XDR_MC"] == hostile["name"]
