"""POST /v1/guidance/import: a county's spreadsheet in, one report line per row out, good rows really issued."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from tests.support.auth import AuthKeys
from tests.support.services import case_command

from guidance_intake.adapters.read_model import guidance_records
from guidance_intake.adapters.spreadsheets import read_table
from guidance_intake.entrypoints.batch_import import CODE_OF, COLUMNS, MAX_ROWS, REQUIRED_COLUMNS, is_codes_row
from guidance_shared.errors import GuidanceError
from guidance_shared.events.examples import DEPARTMENT_ID, PERSON
from guidance_shared.runtime import Runtime
from guidance_shared.spreadsheets import guard_formula, unguard_formula

OTHER_DEPARTMENT = "8fc7b039-732d-5de9-a917-32ef0e4ec0ae"  # 某市生态环境局某县分局
UNCONFIGURED = "0b6e7a3c-2f43-4c55-9a1e-6d1f7c0e0001"
IMPORT = "/v1/guidance/import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

WARNING = {
    "部门编号": DEPARTMENT_ID,
    "相对人类型": "企业",
    "相对人名称": "某县宏达食品有限公司",
    "统一社会信用代码": "91410000MA3X7K2P55",
    "法定代表人": "赵建国",
    "指导类型": "轻微问题警示",
    "指导方式": "警告告诫、规劝提示",
    "执法领域": "行政检查",
    "指导形式": "书面",
    "指导事项": "食品经营许可证未在经营场所显著位置悬挂",
    "法律依据": "《中华人民共和国行政处罚法》第三十三条第一款；《食品经营许可管理办法》第二十六条",
    "指导内容": "请于2025年3月12日前将许可证悬挂于显著位置。",
    "权利告知": "本指导不具有强制力，你单位可以自愿接受；有异议的可以陈述意见。",
    "改正期限": "2025年3月12日",
    "公开": "公开",
    "作出时间": "2025-03-05 10:30",
    "执法人员": "王立新:豫A0310021；刘晓燕：豫A0310057",
}
ADMONITION = {
    **WARNING,
    "指导类型": "行政监管劝勉",
    "指导方式": "走访约见",
    "指导事项": "进货查验记录缺失",
    "改正期限": "",
    "约谈时间": "2025/3/10 9:30",
    "约谈地点": "县市场监管局三楼会议室",
    "被约谈人": "赵建国",
    "被约谈人身份": "法定代表人",
    "整改事项": "建立进货查验记录制度；开展从业人员食品安全培训",
}
PERSON_ROW = {
    **WARNING,
    "相对人类型": "自然人",
    "相对人名称": "张伟",
    "统一社会信用代码": "",
    "法定代表人": "",
    "证件类型": "居民身份证",
    "证件号码": PERSON["id_no"],
    "公开": "不公开",
    "不公开理由": "个人隐私：相对人为自然人",
}
HEADER = list(dict.fromkeys([*WARNING, *ADMONITION, *PERSON_ROW]))


def csv_bytes(*rows: Mapping[str, str], header: list[str] | None = None, encoding: str = "utf-8-sig") -> bytes:
    columns = header or HEADER
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode(encoding)


def post_csv(client: FlaskClient, headers: dict[str, str], body: bytes, query: str = "") -> Any:
    return client.post(IMPORT + query, data=body, content_type="text/csv", headers=headers)


def acts_in(runtime: Runtime) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(guidance_records)).scalar_one())


def by_row(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {line["row"]: line for line in report["rows"]}


def fields_of(line: dict[str, Any]) -> set[str]:
    return {e["field"] for e in line["errors"]}


def test_good_rows_are_issued_and_bad_rows_reported_by_column(
    client: FlaskClient, officer: Any, runtime: Runtime
) -> None:
    body = csv_bytes(
        WARNING,  # row 2
        {**WARNING, "法律依据": "食品安全法第一条"},  # 3: not 《…》
        {**WARNING, "部门编号": UNCONFIGURED},  # 4
        {**WARNING, "统一社会信用代码": "91410000MA3X7K2P56"},  # 5: check character wrong
        {**ADMONITION, "约谈时间": "", "约谈地点": "", "被约谈人": "", "被约谈人身份": "", "整改事项": ""},  # 6
        ADMONITION,  # 7
        {**WARNING, "部门编号": OTHER_DEPARTMENT},  # 8: not the caller's
        PERSON_ROW,  # 9
        {**WARNING, "改正期限": "2025-02-30", "指导方式": "恐吓"},  # 10: two bad cells
    )

    response = post_csv(client, officer, body)

    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert (report["accepted"], report["rejected"], report["dry_run"]) == (3, 6, False)
    rows = by_row(report)
    assert [line["row"] for line in report["rows"]] == list(range(2, 11))
    assert {n for n, line in rows.items() if line["status"] == "issued"} == {2, 7, 9}
    assert fields_of(rows[3]) == {"法律依据"}
    assert "《中华人民共和国行政处罚法》第三十三条" in rows[3]["errors"][0]["message_zh"]
    assert fields_of(rows[4]) == {"部门编号"}
    assert fields_of(rows[5]) == {"统一社会信用代码"} and rows[5]["code"] == "uscc-check-failed"
    assert "校验码" in rows[5]["errors"][0]["message_zh"] and "代码校验例外理由" in rows[5]["errors"][0]["message_zh"]
    assert fields_of(rows[6]) == {"约谈时间", "约谈地点", "被约谈人", "被约谈人身份", "整改事项"}
    assert rows[8]["code"] == "forbidden-department" and fields_of(rows[8]) == {"部门编号"}
    assert fields_of(rows[10]) == {"改正期限", "指导方式"}
    for line in report["rows"]:
        for error in line.get("errors", []):
            assert error["message_en"] and error["message_zh"] and error["message_zh"] != "字段取值无效"

    # Good rows are real acts, numbered without gaps despite the bad rows between them.
    assert [rows[n]["doc_no"] for n in (2, 9)] == ["某市监警示〔2025〕第001号", "某市监警示〔2025〕第002号"]
    assert rows[7]["doc_no"] == "某市监约谈〔2025〕第001号"
    assert acts_in(runtime) == 3
    warning = client.get(f"/v1/guidance/{rows[2]['guidance_id']}", headers=officer).get_json()
    details = warning["details"]
    assert details["doc_no"] == rows[2]["doc_no"]
    assert details["methods"] == ["warning", "persuasion_reminder"]
    assert details["issued_at"] == "2025-03-05T10:30:00+08:00"
    assert details["correction_deadline"] == "2025-03-12"
    assert details["initiated"] == "own_initiative"
    assert details["officers"][1] == {"name": "刘晓燕", "badge_no": "豫A0310057", "officer_id": None}
    assert details["legal_basis"][1] == {"instrument": "《食品经营许可管理办法》", "article": "第二十六条"}
    admonition = client.get(f"/v1/guidance/{rows[7]['guidance_id']}", headers=officer).get_json()["details"]
    assert admonition["interview"]["held_at"] == "2025-03-10T09:30:00+08:00"
    assert admonition["interview"]["summoned"] == {"name": "赵建国", "role": "legal_representative"}
    assert admonition["interview"]["rectification_items"] == ["建立进货查验记录制度", "开展从业人员食品安全培训"]
    person = client.get(f"/v1/guidance/{rows[9]['guidance_id']}", headers=officer).get_json()["details"]
    assert person["disclosure"] == {"level": "withheld", "exemption": "personal_privacy", "reason": "相对人为自然人"}


def test_a_dry_run_checks_everything_and_issues_nothing(client: FlaskClient, officer: Any, runtime: Runtime) -> None:
    body = csv_bytes(WARNING, {**WARNING, "法律依据": "《行政处罚法》"}, ADMONITION)

    dry = post_csv(client, officer, body, "?dry_run=true").get_json()

    assert dry["dry_run"] is True and (dry["accepted"], dry["rejected"]) == (2, 1)
    rows = by_row(dry)
    assert rows[2] == {"row": 2, "status": "valid"} and rows[4] == {"row": 4, "status": "valid"}
    assert rows[3]["status"] == "rejected"
    assert acts_in(runtime) == 0
    real = by_row(post_csv(client, officer, body).get_json())
    assert real[2]["doc_no"] == "某市监警示〔2025〕第001号", "the dry run took no number"
    assert real[4]["doc_no"] == "某市监约谈〔2025〕第001号"


def test_a_competence_problem_found_by_the_handler_names_the_column(client: FlaskClient, auth_keys: AuthKeys) -> None:
    admin = auth_keys.headers("a", DEPARTMENT_ID, ["admin"])
    # The county's environment branch holds no licensing competence; its name works as well as its id.
    body = csv_bytes({**WARNING, "执法领域": "行政许可", "部门编号": "县生态环境分局"})
    line = post_csv(client, admin, body).get_json()["rows"][0]
    assert line["status"] == "rejected" and line["code"] == "not-competent"
    assert fields_of(line) == {"执法领域"}


def test_a_retry_with_the_same_key_returns_the_stored_report(
    client: FlaskClient, officer: Any, runtime: Runtime
) -> None:
    body = csv_bytes(WARNING, {**WARNING, "法律依据": ""})
    headers = {**officer, "Idempotency-Key": "import-2025-03"}

    first = post_csv(client, headers, body)
    again = post_csv(client, headers, body)

    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert acts_in(runtime) == 1
    other_body = post_csv(client, headers, csv_bytes(ADMONITION))
    assert other_body.status_code == 422 and other_body.get_json()["type"].endswith("idempotency-key-reused")


def test_an_xlsx_upload_with_real_dates_is_imported(client: FlaskClient, officer: Any) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    cells = {
        **ADMONITION,
        "约谈时间": datetime(2025, 3, 10, 9, 30),
        "作出时间": datetime(2025, 3, 5, 10, 30),
        "指导事项": "'=进货查验记录缺失",
    }
    sheet.append([cells.get(column, "") or None for column in HEADER])
    sheet.append([None] * len(HEADER))  # blank rows are skipped
    sheet.append([{**WARNING, "改正期限": date(2025, 3, 12)}.get(column, "") or None for column in HEADER])
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = client.post(IMPORT, data={"file": (io.BytesIO(buffer.getvalue()), "台账.xlsx", XLSX)}, headers=officer)

    assert response.status_code == 200, response.get_json()
    rows = by_row(response.get_json())
    assert rows[2]["status"] == "issued" and rows[4]["status"] == "issued", rows
    details = client.get(f"/v1/guidance/{rows[2]['guidance_id']}", headers=officer).get_json()["details"]
    assert details["interview"]["held_at"] == "2025-03-10T09:30:00+08:00"
    assert details["matter"] == "=进货查验记录缺失", "the ledger's formula guard comes off on the way in"
    warning = client.get(f"/v1/guidance/{rows[4]['guidance_id']}", headers=officer).get_json()["details"]
    assert warning["correction_deadline"] == "2025-03-12"


def test_a_csv_saved_by_chinese_excel_is_read(client: FlaskClient, officer: Any) -> None:
    body = csv_bytes(WARNING, encoding="gb18030")
    report = client.post(IMPORT, data={"file": (io.BytesIO(body), "指导.csv")}, headers=officer).get_json()
    assert report["rows"][0]["status"] == "issued", report


def test_a_related_case_is_found_by_its_case_number(client: FlaskClient, officer: Any) -> None:
    case = case_command()
    opened = client.post("/v1/cases", json=case, headers=officer)
    assert opened.status_code == 201, opened.get_json()
    correction = {**WARNING, "指导类型": "违法行为纠错", "执法领域": "行政处罚", "关联案件编号": case["case_no"]}

    unknown = {**correction, "关联案件编号": "某市监立〔2025〕99号"}
    report = post_csv(client, officer, csv_bytes(correction, unknown, header=[*HEADER, "关联案件编号"]))

    rows = by_row(report.get_json())
    assert rows[2]["status"] == "issued", rows
    details = client.get(f"/v1/guidance/{rows[2]['guidance_id']}", headers=officer).get_json()["details"]
    assert details["related_case_id"] == opened.get_json()["case_id"]
    assert fields_of(rows[3]) == {"关联案件编号"}


def test_a_persons_id_number_is_never_echoed(client: FlaskClient, officer: Any) -> None:
    bad_id = PERSON["id_no"][:-1] + ("0" if PERSON["id_no"][-1] != "0" else "1")
    response = post_csv(client, officer, csv_bytes({**PERSON_ROW, "证件号码": bad_id}))
    line = response.get_json()["rows"][0]
    assert line["status"] == "rejected" and fields_of(line) == {"证件号码"}
    assert bad_id not in response.get_data(as_text=True)


def test_who_may_import(client: FlaskClient, auth_keys: AuthKeys) -> None:
    body = csv_bytes(WARNING)
    assert post_csv(client, {}, body).status_code == 401
    for role in ("auditor", "supervisor", "reviewer"):
        assert post_csv(client, auth_keys.headers("x", DEPARTMENT_ID, [role]), body).status_code == 403
    admin = post_csv(client, auth_keys.headers("a", OTHER_DEPARTMENT, ["admin"]), body)
    assert admin.get_json()["rows"][0]["status"] == "issued"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        (b'{"rows": []}', "application/json", 415, None),
        (b"", "text/csv", 422, "file"),
        ("部门编号,相对人类型\r\n".encode(), "text/csv", 422, "相对人名称"),
        (csv_bytes(header=[*HEADER, "备注栏"]), "text/csv", 422, "备注栏"),
        (csv_bytes(header=[*HEADER, "文号"]), "text/csv", 422, "文号"),
        (csv_bytes(header=[*HEADER, "补录登记日期"]), "text/csv", 422, "补录登记日期"),  # intake marks 补录 itself
        (csv_bytes(header=[*HEADER, "部门编号"]), "text/csv", 422, "部门编号"),
        (csv_bytes(header=HEADER), "text/csv", 422, "file"),
        (b"PK\x03\x04not really a workbook", XLSX, 422, "file"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(
    client: FlaskClient, officer: Any, body: bytes, content_type: str, status: int, field: str | None
) -> None:
    response = client.post(IMPORT, data=body, content_type=content_type, headers=officer)
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    if field is not None:
        assert field in {e["field"] for e in response.get_json()["errors"]}


def test_a_multipart_upload_needs_the_file_field(client: FlaskClient, officer: Any) -> None:
    response = client.post(IMPORT, data={"sheet": (io.BytesIO(csv_bytes(WARNING)), "a.csv")}, headers=officer)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "file"


def test_more_rows_than_the_limit_are_refused(client: FlaskClient, officer: Any, runtime: Runtime) -> None:
    row = {column: "x" for column in ("部门编号", "相对人名称")}
    response = post_csv(client, officer, csv_bytes(*[row] * (MAX_ROWS + 1)))
    assert response.status_code == 422 and str(MAX_ROWS) in response.get_json()["detail"]
    assert acts_in(runtime) == 0


def test_a_misaligned_row_is_rejected_not_guessed(client: FlaskClient, officer: Any) -> None:
    lines = csv_bytes(WARNING).decode("utf-8-sig").splitlines()
    lines.append(lines[1] + ",多余的一格")  # an unquoted comma pushes the row one cell to the right
    response = post_csv(client, officer, "\r\n".join(lines).encode())
    rows = by_row(response.get_json())
    assert rows[2]["status"] == "issued" and rows[3]["status"] == "rejected"
    assert fields_of(rows[3]) == {"（整行）"}


def test_the_columns_cover_what_issuing_needs() -> None:
    for column in ("部门编号", "证件号码", "约谈时间", "提示时段起", "提示时段止", "建议内容", "不公开理由"):
        assert column in COLUMNS


def test_a_workbook_that_unpacks_to_far_more_than_it_weighs_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (65 * 1024 * 1024))
    with pytest.raises(GuidanceError) as refused:
        read_table(buffer.getvalue(), max_rows=MAX_ROWS)
    assert refused.value.status == 422 and refused.value.fields[0].field == "file"


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "'plain", "普通文字", ""])
def test_the_formula_guard_comes_off_exactly(text: str) -> None:
    assert unguard_formula(guard_formula(text)) == text


def test_a_retried_multipart_upload_replays_despite_a_new_boundary(
    client: FlaskClient, officer: Any, runtime: Runtime
) -> None:
    headers = {**officer, "Idempotency-Key": "multipart-retry"}
    body = csv_bytes(WARNING)
    first = client.post(IMPORT, data={"file": (io.BytesIO(body), "a.csv")}, headers=headers)
    again = client.post(IMPORT, data={"file": (io.BytesIO(body), "a.csv")}, headers=headers)  # a fresh boundary
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == first.get_json()
    assert acts_in(runtime) == 1


TEMPLATE = "/v1/guidance/import/template"


@pytest.mark.parametrize(("kind", "media_type"), [("csv", "text/csv"), ("xlsx", XLSX)])
def test_the_template_imports_as_it_is(client: FlaskClient, officer: Any, kind: str, media_type: str) -> None:
    # Given the template, as an office downloads it
    response = client.get(f"{TEMPLATE}?format={kind}", headers=officer)
    assert response.status_code == 200 and response.mimetype == media_type
    assert f"guidance-import-template.{kind}" in response.headers["Content-Disposition"]
    sheet = read_table(response.data, max_rows=MAX_ROWS)
    # ... every column the import reads, the required ones first, with their codes and an example row
    assert sheet.headers == COLUMNS and COLUMNS[: len(REQUIRED_COLUMNS)] == REQUIRED_COLUMNS
    [(_, codes), (number, example)] = sheet.rows
    assert codes == tuple(CODE_OF[column] for column in COLUMNS)
    assert codes[:3] == ("department_id", "counterpart.kind", "counterpart.name") and number == 3
    assert example[0]  # a department of the caller's, by name
    # When it is uploaded unchanged
    report = client.post(IMPORT, data=response.data, content_type=media_type, headers=officer).get_json()
    # Then the codes row is skipped and the example is issued
    assert (report["accepted"], report["rejected"]) == (1, 0), report
    [line] = report["rows"]
    assert line["row"] == 3 and line["status"] == "issued" and line["doc_no"].startswith("某市监警示〔2025〕")
    issued = client.get(f"/v1/guidance/{line['guidance_id']}", headers=officer).get_json()
    assert issued["details"]["department_id"] == DEPARTMENT_ID
    details = issued["details"]
    assert details["counterpart"]["kind"] == "enterprise" and details["correction_deadline"] == "2025-03-12"


def test_a_row_that_only_resembles_the_codes_is_data() -> None:
    columns = ("部门编号", "相对人名称")
    assert is_codes_row(columns, ("department_id", "counterpart.name"))
    assert is_codes_row(columns, ("department_id", "counterpart.name", ""))
    assert not is_codes_row(columns, ("department_id", "某县宏达食品有限公司"))
    assert not is_codes_row(("备注栏",), ("department_id",))


def test_the_template_needs_an_officer(client: FlaskClient, auth_keys: AuthKeys) -> None:
    assert client.get(TEMPLATE).status_code == 401
    auditor = auth_keys.headers("x", DEPARTMENT_ID, ["auditor"])
    assert client.get(TEMPLATE, headers=auditor).status_code == 403
    officer = auth_keys.headers("x", DEPARTMENT_ID, ["officer"])
    assert client.get(f"{TEMPLATE}?format=pdf", headers=officer).status_code == 422


def test_the_documented_columns_are_the_imported_ones() -> None:
    """docs/api-intake.md lists the columns an office may use: exactly the import's, with their codes."""
    text = (Path(__file__).resolve().parents[4] / "docs" / "api-intake.md").read_text(encoding="utf-8")
    section = text[text.index("### Batch import") :]
    documented = re.findall(r"^\| (\S+) \| `([^`]+)` \| (yes)? ?\|", section, re.MULTILINE)
    assert [(name, code) for name, code, _ in documented] == [(c, CODE_OF[c]) for c in COLUMNS]
    assert [name for name, _, required in documented if required] == list(REQUIRED_COLUMNS)
