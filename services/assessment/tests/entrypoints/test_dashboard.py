"""The dashboard's tables as CSV and XLSX, and the annual statistics report, from the scripted year."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient
from tests.support.assessment_year import ECOLOGY, HOUSING, MARKET, prepare
from tests.support.auth import AuthKeys
from tests.support.schema import migrated_runtime

from guidance_assessment.adapters.files import department_names
from guidance_assessment.bootstrap import SPEC, create_app
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

BASE = "/v1/assessment/periods/2025"
QUIET = "7c1f0e52-3d4b-4a8e-9f61-2b5d8c0a9e14"  # a registered department that records nothing


@pytest.fixture
def client(tmp_path: Path, auth_keys: AuthKeys) -> Iterator[tuple[FlaskClient, AuthKeys]]:
    settings = Settings.from_env("assessment", env={"GUIDANCE_VAR_DIR": str(tmp_path)})
    runtime = migrated_runtime(SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    runtime.provision()
    prepare(runtime)
    yield create_app(runtime, testing=True, auth=auth_keys.settings()).test_client(), auth_keys
    runtime.close()


def get(client: FlaskClient, keys: AuthKeys, url: str, role: str = "auditor", department: str = MARKET) -> Any:
    response = client.get(url, headers=keys.headers("u", department, [role]))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def test_every_table_exports_as_csv_and_xlsx_with_the_same_figures(client: tuple[FlaskClient, AuthKeys]) -> None:
    api, keys = client
    response = get(api, keys, f"{BASE}/tables/scores?format=csv")
    assert response.mimetype == "text/csv" and response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["机关", "排名", "总分", "通用标准", "专用标准", "外部评议", "机关编号"]
    assert rows[1] == ["department", "rank", "score", "general", "specific", "external", "department_id"]
    assert rows[2:] == [
        ["县住建局", "1", "96.0", "30.0", "50.0", "16.0", HOUSING],
        ["县市场监管局", "2", "67.02", "20.5", "29.52", "17.0", MARKET],
        ["县生态环境分局", "3", "38.0", "7.0", "31.0", "0.0", ECOLOGY],
    ]
    workbook = openpyxl.load_workbook(io.BytesIO(get(api, keys, f"{BASE}/tables/scores?format=xlsx").data))
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == rows[0] and [c.value for c in sheet[2]] == rows[1]
    assert [c.value for c in sheet[4]] == ["县市场监管局", 2, 67.02, 20.5, 29.52, 17, MARKET]
    assert sheet.column_dimensions["G"].hidden and not sheet.column_dimensions["A"].hidden
    assert sheet.freeze_panes == "A3"
    for name in ("indicators", "timeliness", "monthly"):
        for fmt in ("csv", "xlsx"):
            assert get(api, keys, f"{BASE}/tables/{name}?format={fmt}").data
    timeliness = list(csv.reader(io.StringIO(get(api, keys, f"{BASE}/tables/timeliness").data.decode("utf-8-sig"))))
    assert timeliness[0][:3] == ["机关", "处罚案件回访率（%）", "结案至回访天数（中位数）"]
    assert timeliness[3] == ["县市场监管局", "66.67", "38.5", "33.33", "100.0", MARKET]
    indicators = list(csv.reader(io.StringIO(get(api, keys, f"{BASE}/tables/indicators").data.decode("utf-8-sig"))))
    assert indicators[0][:3] == ["机关", "指标", "指标代码"]
    assert {row[0] for row in indicators[2:]} == {"县住建局", "县市场监管局", "县生态环境分局"}


def test_the_page_shows_chinese_headers_and_names_and_no_ids(client: tuple[FlaskClient, AuthKeys]) -> None:
    api, keys = client
    page = get(api, keys, f"{BASE}/dashboard?department_id={MARKET}").get_data(as_text=True)
    assert '<th data-code="department">机关</th><th data-code="rank">排名</th>' in page
    assert "<h2>逐月指标（县市场监管局）</h2>" in page
    tables = page.split("<table", 1)[1]
    for department in (MARKET, HOUSING, ECOLOGY):
        assert f"<td>{department}</td>" not in tables  # ids only in the report links, never as a cell


def test_a_registered_department_with_no_acts_is_ranked_by_when_empty(client: tuple[FlaskClient, AuthKeys]) -> None:
    """Given a registry naming a fourth department that recorded nothing in 2025, when the scores are read,
    then it is ranked: every indicator with nothing to measure earns its when_empty share (full marks, none
    for the rollout deliverables and the external evaluation): 20 + 50 + 0."""
    api, keys = client
    runtime = api.application.extensions["guidance"]["runtime"]
    runtime.deps = replace(runtime.deps, names={**runtime.deps.names, QUIET: "县林业局"})
    rows = list(csv.reader(io.StringIO(get(api, keys, f"{BASE}/tables/scores").data.decode("utf-8-sig"))))
    assert [row[:6] for row in rows[2:]] == [
        ["县住建局", "1", "96.0", "30.0", "50.0", "16.0"],
        ["县林业局", "2", "70.0", "20.0", "50.0", "0.0"],
        ["县市场监管局", "3", "67.02", "20.5", "29.52", "17.0"],
        ["县生态环境分局", "4", "38.0", "7.0", "31.0", "0.0"],
    ]
    explained = get(api, keys, f"{BASE}/departments/{QUIET}/explain").get_json()
    assert explained["activity"]["guidance_acts"] == 0
    assert {i["code"]: i["score"] for i in explained["indicators"]}["written_share"] == 6.0


def test_the_months_add_up_to_the_year(client: tuple[FlaskClient, AuthKeys]) -> None:
    api, keys = client
    text = get(api, keys, f"{BASE}/tables/monthly?department_id={MARKET}").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text.split("\r\n", 1)[1])))  # keyed by the codes row
    assert [r["month"] for r in rows] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert sum(int(r["guidance_acts"]) for r in rows) == 4  # a1–a4; a5 was withdrawn
    by_month = {r["month"]: r for r in rows}
    assert by_month["2025-03"]["written_share_pct"] == "100.0"  # a1
    assert by_month["2025-04"]["written_share_pct"] == "0.0"  # a2, oral
    assert by_month["2025-01"]["written_share_pct"] == ""  # nothing issued


def test_a_department_exports_only_itself_and_gets_its_annual_report(client: tuple[FlaskClient, AuthKeys]) -> None:
    api, keys = client
    own = get(api, keys, f"{BASE}/tables/scores", role="officer", department=ECOLOGY).data.decode("utf-8-sig")
    assert [row[-1] for row in csv.reader(io.StringIO(own))][2:] == [ECOLOGY]

    report = get(api, keys, f"{BASE}/departments/{MARKET}/report", role="officer").get_json()
    assert report["headers"] == ["栏目", "项目", "数值"] and report["codes"] == ["section", "item", "value"]
    items = {(section, item): value for section, item, value in report["rows"]}
    assert items[("报告", "报送期限")] == "2026-01-31"
    assert items[("行政指导", "件数（不含撤回）")] == 4
    assert items[("指导内容", "minor_issue_warning")] == 2
    assert items[("考核", "总分")] == 67.02 and items[("考核", "排名")] == 2
    sheet = openpyxl.load_workbook(io.BytesIO(get(api, keys, f"{BASE}/departments/{MARKET}/report?format=xlsx").data))
    assert sheet.active.title == "report"
    refused = api.get(f"{BASE}/departments/{MARKET}/report", headers=keys.headers("u", ECOLOGY, ["officer"]))
    assert refused.status_code == 404


def test_department_names_come_from_a_registry_in_intakes_format(tmp_path: Path) -> None:
    registry = tmp_path / "departments.yaml"
    registry.write_text(
        f"departments:\n  - department_id: {MARKET.upper()}\n    name: 某县市场监督管理局\n"
        "    short_name: 县市场监管局\n"
        f"  - department_id: {HOUSING}\n    name: 某县住房和城乡建设局\n",
        encoding="utf-8",
    )
    assert department_names(str(registry)) == {MARKET: "县市场监管局", HOUSING: "某县住房和城乡建设局"}
    assert department_names(None) == {}


def test_without_a_registry_departments_are_named_as_intakes_events_name_them(
    client: tuple[FlaskClient, AuthKeys],
) -> None:
    api, keys = client
    runtime = api.application.extensions["guidance"]["runtime"]
    runtime.deps = replace(runtime.deps, names={})
    rows = list(csv.reader(io.StringIO(get(api, keys, f"{BASE}/tables/scores?format=csv").data.decode("utf-8-sig"))))
    assert [row[0] for row in rows[2:]] == ["某县住房和城乡建设局", "某县市场监督管理局", "某市生态环境局某县分局"]
