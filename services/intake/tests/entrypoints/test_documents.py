"""GET /v1/guidance/<id>/document: the 行政指导书 as printable HTML, escaped and without a person's identifiers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from tests.support.auth import AuthKeys

from guidance_intake.adapters.files import default_departments
from guidance_intake.domain.documents import TITLES, chinese_date, chinese_moment, guidance_document
from guidance_intake.domain.guidance import Guidance
from guidance_shared.events.examples import DEPARTMENT_ID, ENTERPRISE, INDIVIDUAL_BUSINESS, PERSON, example

OTHER_DEPARTMENT = "8fc7b039-732d-5de9-a917-32ef0e4ec0ae"  # 某市生态环境局某县分局
INTERVIEW = {
    "held_at": "2025-03-10T09:30:00+08:00",
    "place": "县市场监管局三楼会议室",
    "summoned": {"name": "赵建国", "role": "legal_representative"},
    "rectification_items": ["建立进货查验记录制度", "开展从业人员食品安全培训"],
}


def document_of(client: FlaskClient, guidance_id: str, headers: dict[str, str]) -> str:
    response = client.get(f"/v1/guidance/{guidance_id}/document", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/html" and response.mimetype_params["charset"] == "utf-8"
    return response.get_data(as_text=True)


def test_the_document_carries_what_the_unified_format_asks_for(client: FlaskClient, officer: Any, issue: Any) -> None:
    act = issue()
    html = document_of(client, act["guidance_id"], officer)

    assert "<title>行政指导书（轻微问题警示）" in html
    assert "<h1>行政指导书（轻微问题警示）</h1>" in html
    assert html.count("某县市场监督管理局") >= 2  # the heading and the signature
    assert act["details"]["doc_no"] in html
    assert "某县宏达食品有限公司（企业）" in html
    assert ENTERPRISE["uscc"] in html and ENTERPRISE["address"] in html and "赵建国" in html
    assert ENTERPRISE["contact"] not in html
    assert "<li>《中华人民共和国行政处罚法》第三十三条第一款</li>" in html
    assert "<li>《食品经营许可管理办法》第二十六条</li>" in html
    assert "请于2025年3月12日前改正" in html
    assert "警告告诫、规劝提示" in html and "指导形式：书面" in html
    assert "本指导不具有强制力，你单位可以自愿接受" in html  # the recorded rights notice
    assert "本指导不具有强制力，相对人可以自愿选择是否接受" in html
    assert "2025年3月5日" in html
    assert "王立新（执法证号：豫A0310021）" in html and "刘晓燕（执法证号：豫A0310057）" in html
    assert "送达回证" in html and "受送达人签名" in html and "送达人签名" in html


def test_the_page_prints_on_a4_and_loads_nothing(client: FlaskClient, officer: Any, issue: Any) -> None:
    act = issue()
    response = client.get(f"/v1/guidance/{act['guidance_id']}/document", headers=officer)
    html = response.get_data(as_text=True)
    assert "size: A4" in html and "@media print" in html
    assert "<script" not in html.lower()
    assert not re.search(r"\b(src|href)\s*=", html, re.IGNORECASE)
    assert "@import" not in html and "url(" not in html
    assert "{#" not in html and "Personal data" not in html  # the template's notes stay on the server
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["Cache-Control"] == "no-store"


def test_everything_is_escaped(client: FlaskClient, officer: Any, issue: Any) -> None:
    act = issue(
        matter="<script>alert('matter')</script>",
        content="内容<img src=x onerror=alert(1)>",
        counterpart={**ENTERPRISE, "name": "<b>某公司</b>"},
    )
    html = document_of(client, act["guidance_id"], officer)
    assert "<script>" not in html and "<img" not in html and "<b>某公司" not in html
    assert "&lt;script&gt;alert(&#39;matter&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_natural_person_is_named_and_never_identified(client: FlaskClient, officer: Any, issue: Any) -> None:
    act = issue(
        counterpart=PERSON,
        content=f"经查，张伟（身份证号{PERSON['id_no']}，住{PERSON['address']}，电话{PERSON['contact']}）未亮证经营。"
        "咨询电话：0371-62345000。",
    )
    html = document_of(client, act["guidance_id"], officer)
    assert "张伟（自然人）" in html
    for secret in (PERSON["id_no"], PERSON["contact"], PERSON["address"], "居民身份证"):
        assert secret not in html
    assert "［已隐去］" in html
    assert "0371-62345000" in html  # the agency's own number stays


def test_an_individual_business_shows_its_code_and_operator_but_not_its_premises(
    client: FlaskClient, officer: Any, issue: Any
) -> None:
    act = issue(counterpart=INDIVIDUAL_BUSINESS)
    html = document_of(client, act["guidance_id"], officer)
    assert INDIVIDUAL_BUSINESS["uscc"] in html and "经营者" in html and "李有福" in html
    assert INDIVIDUAL_BUSINESS["address"] not in html and INDIVIDUAL_BUSINESS["contact"] not in html


def test_an_admonition_lists_the_interview_and_its_rectification_items(
    client: FlaskClient, officer: Any, issue: Any
) -> None:
    act = issue(
        content_type="supervisory_admonition",
        methods=["visit_interview"],
        correction_deadline=None,
        interview=INTERVIEW,
    )
    html = document_of(client, act["guidance_id"], officer)
    assert "<h1>约谈通知书</h1>" in html
    assert "约谈时间：2025年3月10日9时30分" in html
    assert "约谈地点：县市场监管局三楼会议室" in html
    assert "被约谈人：赵建国（法定代表人）" in html
    items = re.search(r"整改事项：</p>\s*<ol>(.*?)</ol>", html, re.DOTALL)
    assert items is not None
    assert re.findall(r"<li>(.*?)</li>", items.group(1)) == INTERVIEW["rectification_items"]
    assert "改正期限" not in html


def test_a_reminder_names_the_violation_and_the_period(client: FlaskClient, officer: Any, issue: Any) -> None:
    act = issue(
        content_type="enforcement_reminder",
        methods=["persuasion_reminder"],
        correction_deadline=None,
        reminder={"violation_category": "食品安全", "period": {"from": "2025-09-01", "to": "2025-10-08"}},
    )
    html = document_of(client, act["guidance_id"], officer)
    assert "<h1>执法事项提示书</h1>" in html
    assert "提示的违法行为类别：食品安全" in html and "易发时段：2025年9月1日至2025年10月8日" in html


def test_a_withdrawn_act_prints_marked_as_withdrawn(
    client: FlaskClient, auth_keys: AuthKeys, officer: Any, issue: Any
) -> None:
    act = issue()
    supervisor = auth_keys.headers("s", DEPARTMENT_ID, ["supervisor"])
    withdrawn = client.post(
        f"/v1/guidance/{act['guidance_id']}/withdrawal", json={"reason": "事实有误"}, headers=supervisor
    )
    assert withdrawn.status_code == 200
    assert "本指导已撤回" in document_of(client, act["guidance_id"], officer)


def test_who_may_print_a_document(client: FlaskClient, auth_keys: AuthKeys, issue: Any) -> None:
    act = issue()
    path = f"/v1/guidance/{act['guidance_id']}/document"
    assert client.get(path).status_code == 401
    for role in ("officer", "reviewer", "supervisor", "auditor"):
        assert client.get(path, headers=auth_keys.headers("x", DEPARTMENT_ID, [role])).status_code == 200
    assert client.get(path, headers=auth_keys.headers("x", DEPARTMENT_ID, [])).status_code == 403
    other = client.get(path, headers=auth_keys.headers("o", OTHER_DEPARTMENT, ["officer"]))
    assert other.status_code == 404 and other.mimetype == "application/problem+json"
    assert client.get(path, headers=auth_keys.headers("a", OTHER_DEPARTMENT, ["admin"])).status_code == 200
    missing = client.get(
        "/v1/guidance/00000000-0000-4000-8000-000000000000/document", headers=auth_keys.headers("x", DEPARTMENT_ID)
    )
    assert missing.status_code == 404


def test_pdf_is_not_rendered_here(client: FlaskClient, officer: Any, issue: Any) -> None:
    act = issue()
    response = client.get(f"/v1/guidance/{act['guidance_id']}/document?format=pdf", headers=officer)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "format"


@pytest.mark.parametrize("content_type", sorted(TITLES))
def test_each_content_type_has_its_title(content_type: str) -> None:
    details = {**example("guidance.GuidanceIssued.v1"), "content_type": content_type}
    guidance = Guidance("g-1", status="issued", details=details)
    department = default_departments().get(DEPARTMENT_ID)
    document = guidance_document(guidance, department)
    assert document.title == TITLES[content_type]
    assert document.department_name == "某县市场监督管理局"
    correcting = content_type in ("minor_issue_warning", "violation_correction")
    assert (document.correction_deadline == "2025年3月12日") is correcting


def test_dates_are_written_in_chinese_in_beijing_time() -> None:
    assert chinese_date("2025-03-05") == "2025年3月5日"
    assert chinese_date("2025-03-04T17:30:00+00:00") == "2025年3月5日"
    assert chinese_moment("2025-03-10T01:05:00+00:00") == "2025年3月10日9时05分"
