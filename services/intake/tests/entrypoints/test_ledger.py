"""GET /v1/ledger: a department's 台账 as CSV or XLSX, read back the way a county office would open it."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any
from urllib.parse import unquote

import openpyxl
import pytest
from flask.testing import FlaskClient
from tests.support.auth import AuthKeys

from guidance_intake.domain.ledger import ledger_line
from guidance_shared.dates import china_day
from guidance_shared.events.examples import DEPARTMENT_ID, ENTERPRISE, PERSON

OTHER_DEPARTMENT = "8fc7b039-732d-5de9-a917-32ef0e4ec0ae"  # 某市生态环境局某县分局

HEADERS = [
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
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YEAR_2025 = f"/v1/ledger?department_id={DEPARTMENT_ID}&from=2025-01-01&to=2025-12-31"


def rows_of(response: Any) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so Excel reads Chinese"
    text = body.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


def sheet_of(response: Any) -> Any:
    assert response.mimetype == XLSX
    return openpyxl.load_workbook(io.BytesIO(response.get_data())).active


def test_the_csv_ledger_has_one_row_per_act_in_the_range(client: FlaskClient, officer: Any, issue: Any) -> None:
    first = issue()
    issue(issued_at="2024-12-31T23:30:00+08:00", correction_deadline="2025-01-10")  # the year before
    client.post(
        f"/v1/guidance/{first['guidance_id']}/response",
        json={"response": "declined", "responded_at": "2025-03-06T09:00:00+08:00"},
        headers=officer,
    )
    client.post(
        f"/v1/guidance/{first['guidance_id']}/correction-verification",
        json={"corrected": True, "verified_on": "2025-03-12", "verified_by": {"name": "刘晓燕"}},
        headers=officer,
    )
    second = issue(content_type="development_advice", advice="建立食品安全自查制度", correction_deadline=None)

    response = client.get(YEAR_2025, headers=officer)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "县市场监管局台账_2025-01-01_2025-12-31.csv"
    header, *lines = rows_of(response)
    assert header == HEADERS
    assert len(lines) == 2
    by_no = {line[0]: dict(zip(HEADERS, line, strict=True)) for line in lines}
    warning = by_no[first["details"]["doc_no"]]
    assert warning == {
        "文号": "某市监警示〔2025〕第001号",
        "作出日期": "2025-03-05",
        "指导类型": "轻微问题警示",
        "指导方式": "警告告诫、规劝提示",
        "执法领域": "行政检查",
        "指导形式": "书面",
        "相对人类型": "企业",
        "相对人名称": "某县宏达食品有限公司",
        "指导事项": "食品经营许可证未在经营场所显著位置悬挂",
        "法律依据": "《中华人民共和国行政处罚法》第三十三条第一款；《食品经营许可管理办法》第二十六条",
        "执法人员": "王立新、刘晓燕",
        "改正期限": "2025-03-12",
        "相对人回应": "不接受",
        "回应日期": "2025-03-06",
        "改正核查": "已改正",
        "核查日期": "2025-03-12",
        "状态": "已核查",
        # Issued today with the example's date of 2025: a back-dated entry (补录), recorded on this day.
        "补录登记日期": china_day(first["details"]["recorded_at"]).isoformat(),
    }
    assert first["details"]["backdated"] is True
    advice = by_no[second["details"]["doc_no"]]
    assert (advice["指导类型"], advice["改正期限"], advice["相对人回应"], advice["改正核查"], advice["状态"]) == (
        "服务发展建议",
        "",
        "—",
        "—",
        "已作出",
    )


def test_an_act_recorded_when_it_is_issued_is_no_backdated_entry(client: FlaskClient, officer: Any, issue: Any) -> None:
    # Dated by intake's own clock: issued as it is recorded.
    act = issue(issued_at=None, content_type="development_advice", advice="建立自查制度", correction_deadline=None)
    assert "backdated" not in act["details"] and "recorded_at" not in act["details"]
    day = china_day(act["details"]["issued_at"])

    response = client.get(f"/v1/ledger?department_id={DEPARTMENT_ID}&from={day}&to={day}", headers=officer)

    (line,) = rows_of(response)[1:]
    assert dict(zip(HEADERS, line, strict=True))["补录登记日期"] == "—"


def test_the_xlsx_ledger_has_a_bold_frozen_header_and_real_dates(client: FlaskClient, officer: Any, issue: Any) -> None:
    act = issue()

    response = client.get(YEAR_2025 + "&format=xlsx", headers=officer)

    assert response.status_code == 200
    disposition = unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1])
    assert disposition == "县市场监管局台账_2025-01-01_2025-12-31.xlsx"
    sheet = sheet_of(response)
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    values = [cell.value for cell in sheet[2]]
    assert values[0] == act["details"]["doc_no"]
    assert values[1].date() == date(2025, 3, 5) and sheet.cell(2, 2).is_date
    assert values[11].date() == date(2025, 3, 12)
    assert values[7] == "某县宏达食品有限公司"
    assert sheet.column_dimensions["I"].width > sheet.column_dimensions["B"].width  # 指导事项 is the wide one
    assert sheet.max_row == 2


def test_the_accept_header_chooses_the_format(client: FlaskClient, officer: Any, issue: Any) -> None:
    issue()
    assert client.get(YEAR_2025, headers={**officer, "Accept": XLSX}).mimetype == XLSX
    assert client.get(YEAR_2025, headers={**officer, "Accept": "text/csv"}).mimetype == "text/csv"
    assert client.get(YEAR_2025, headers={**officer, "Accept": "*/*"}).mimetype == "text/csv"
    assert client.get(YEAR_2025 + "&format=csv", headers={**officer, "Accept": XLSX}).mimetype == "text/csv"
    refused = client.get(YEAR_2025, headers={**officer, "Accept": "application/json"})
    assert refused.status_code == 406 and refused.mimetype == "application/problem+json"


def test_an_empty_range_is_a_ledger_with_only_its_header(client: FlaskClient, officer: Any) -> None:
    assert rows_of(client.get(YEAR_2025, headers=officer)) == [HEADERS]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("department_id=" + DEPARTMENT_ID + "&from=2025-03-01&to=2025-02-28", "to"),
        ("department_id=" + DEPARTMENT_ID + "&from=2022-01-01&to=2025-01-01", "to"),
        ("department_id=" + DEPARTMENT_ID + "&from=2025-13-01&to=2025-12-31", "from"),
        ("department_id=" + DEPARTMENT_ID + "&to=2025-12-31", "from"),
        ("department_id=not-a-uuid&from=2025-01-01&to=2025-12-31", "department_id"),
        ("from=2025-01-01&to=2025-12-31", "department_id"),
        ("department_id=" + DEPARTMENT_ID + "&from=2025-01-01&to=2025-12-31&format=pdf", "format"),
    ],
)
def test_a_bad_query_is_a_422_naming_the_field(client: FlaskClient, officer: Any, query: str, field: str) -> None:
    response = client.get(f"/v1/ledger?{query}", headers=officer)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert field in {e["field"] for e in errors}
    assert all(e["message_zh"] and e["message_zh"] != "字段取值无效" for e in errors)


@pytest.mark.parametrize(
    ("first", "last"), [("2022-01-01", "2024-12-31"), ("2024-02-29", "2027-02-28"), ("9998-01-01", "9999-12-31")]
)
def test_up_to_three_years_to_the_day_is_a_range(client: FlaskClient, officer: Any, first: str, last: str) -> None:
    response = client.get(f"/v1/ledger?department_id={DEPARTMENT_ID}&from={first}&to={last}", headers=officer)
    assert response.status_code == 200


def test_an_empty_xlsx_ledger_still_has_its_header(client: FlaskClient, officer: Any) -> None:
    sheet = sheet_of(client.get(YEAR_2025 + "&format=xlsx", headers=officer))
    assert [cell.value for cell in sheet[1]] == HEADERS and sheet.max_row == 1


def test_who_may_read_a_ledger(client: FlaskClient, auth_keys: AuthKeys, issue: Any) -> None:
    issue()
    assert client.get(YEAR_2025).status_code == 401
    for role in ("supervisor", "auditor"):
        assert client.get(YEAR_2025, headers=auth_keys.headers("x", DEPARTMENT_ID, [role])).status_code == 200
    reviewer = client.get(YEAR_2025, headers=auth_keys.headers("r", DEPARTMENT_ID, ["reviewer"]))
    assert reviewer.status_code == 403
    stranger = client.get(YEAR_2025, headers=auth_keys.headers("o", OTHER_DEPARTMENT, ["officer"]))
    assert stranger.status_code == 404 and stranger.mimetype == "application/problem+json"
    admin = auth_keys.headers("a", OTHER_DEPARTMENT, ["admin"])
    assert len(rows_of(client.get(YEAR_2025, headers=admin))) == 2
    unknown = "/v1/ledger?department_id=0b6e7a3c-2f43-4c55-9a1e-6d1f7c0e0001&from=2025-01-01&to=2025-12-31"
    assert client.get(unknown, headers=admin).status_code == 404


def test_another_departments_acts_are_not_in_the_ledger(client: FlaskClient, auth_keys: AuthKeys, issue: Any) -> None:
    other = auth_keys.headers("o", OTHER_DEPARTMENT, ["officer"])
    issue(headers=other, department_id=OTHER_DEPARTMENT)
    assert rows_of(client.get(YEAR_2025, headers=auth_keys.headers("a", DEPARTMENT_ID, ["admin"]))) == [HEADERS]


def test_a_natural_person_appears_by_name_only(client: FlaskClient, officer: Any, issue: Any) -> None:
    issue(counterpart=PERSON, matter=f"张伟（身份证{PERSON['id_no']}，电话{PERSON['contact']}）未亮证经营")
    csv_text = client.get(YEAR_2025, headers=officer).get_data().decode("utf-8-sig")
    sheet = sheet_of(client.get(YEAR_2025 + "&format=xlsx", headers=officer))
    xlsx_text = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row)
    for output in (csv_text, xlsx_text):
        assert "张伟" in output and "自然人" in output
        for secret in (PERSON["id_no"], PERSON["contact"], PERSON["address"]):
            assert secret not in output


def test_cells_a_spreadsheet_would_evaluate_are_guarded(client: FlaskClient, officer: Any, issue: Any) -> None:
    issue(counterpart={**ENTERPRISE, "name": '=HYPERLINK("http://evil.example","点此")'}, matter="+1+2")
    issue(matter="@SUM(A1:A2)", issued_at="2025-03-06T10:00:00+08:00")
    issue(matter="-3+3", issued_at="2025-03-07T10:00:00+08:00")

    _header, *lines = rows_of(client.get(YEAR_2025, headers=officer))
    assert [line[8] for line in lines] == ["'+1+2", "'@SUM(A1:A2)", "'-3+3"]
    assert lines[0][7] == '\'=HYPERLINK("http://evil.example","点此")'

    sheet = sheet_of(client.get(YEAR_2025 + "&format=xlsx", headers=officer))
    cells = [sheet.cell(row, column) for row in (2, 3, 4) for column in (8, 9)]
    assert all(cell.data_type == "s" for cell in cells), "no cell is stored as a formula"
    assert sheet.cell(2, 8).value.startswith("'=") and sheet.cell(3, 9).value == "'@SUM(A1:A2)"


def test_every_status_and_verification_has_its_chinese_word() -> None:
    record: dict[str, Any] = {
        "doc_no": "某市监警示〔2025〕第009号",
        "issued_on": date(2025, 3, 5),
        "content_type": "violation_correction",
        "methods": '["warning"]',
        "domain": "penalty",
        "form": "on_site",
        "counterpart_kind": "other_org",
        "counterpart_name": "某县某协会",
        "matter": "未按期年报",
        "legal_basis": '[{"instrument": "企业信息公示暂行条例", "article": "第八条"}]',
        "officers": '[{"name": "王立新", "badge_no": null}]',
        "correction_deadline": date(2025, 3, 20),
        "response": "no_response",
        "responded_on": date(2025, 3, 9),
        "corrected": False,
        "verified_on": date(2025, 3, 21),
        "status": "withdrawn",
    }
    line = ledger_line(record)
    assert line[9] == "《企业信息公示暂行条例》第八条"
    assert (line[3], line[5], line[6], line[12], line[14], line[16]) == (
        "警告告诫",
        "现场",
        "其他组织",
        "未回应",
        "未改正",
        "已撤回",
    )
    assert ledger_line({**record, "status": "suspended"})[16] == "已中止"
    assert ledger_line({**record, "status": "responded"})[16] == "已回应"
