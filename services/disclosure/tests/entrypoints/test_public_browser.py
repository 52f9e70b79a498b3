"""A citizen's browser on the public pages: Debian's headless Chromium, driven by Selenium, against a real
``python -m guidance_disclosure web`` process, in a phone-sized window.

It opens the list, chooses a department and a content type in the filter form and submits it, follows
a result to its detail page, and reads what a citizen reads there; then the same for a penalty decision.
The pages carry no JavaScript, so what the browser shows is what every citizen's browser shows.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from tests.support.browser import chromium, follow
from tests.support.events import record
from tests.support.schema import migrated_runtime
from tests.support.services import ServiceProcess, free_port

from guidance_disclosure.bootstrap import SPEC
from guidance_shared.events.examples import CASE_ID, PERSON, example
from guidance_shared.settings import Settings

pytestmark = pytest.mark.slow
OTHER_DEPARTMENT = {"department_id": "077493a6-c269-5ad9-9cc1-26c4417acc51", "department_name": "某县应急管理局"}


def seed(env: dict[str, str]) -> None:
    runtime = migrated_runtime(SPEC, Settings.from_env("disclosure", env))
    runtime.transport.create_topics(
        ["intake.events", "revisit.events", "disclosure.events", "disclosure.dlq"], partitions=3
    )
    records = []
    for n, (content_type, department) in enumerate(
        (("minor_issue_warning", {}), ("violation_correction", {}), ("violation_correction", OTHER_DEPARTMENT))
    ):
        guidance_id = str(uuid.uuid4())
        data = example("guidance.GuidanceIssued.v1") | department
        data.update(guidance_id=guidance_id, doc_no=f"某市监指〔2025〕第{n + 1:03d}号", content_type=content_type)
        if content_type == "violation_correction":
            data["related_case_id"] = str(uuid.uuid4())
        records.append(record("guidance.GuidanceIssued.v1", guidance_id, data, 1))
    opened = example("guidance.CaseOpened.v1") | {"counterpart": PERSON}
    records.append(record("guidance.CaseOpened.v1", CASE_ID, opened, 1))
    records.append(record("guidance.CaseDecided.v1", CASE_ID, example("guidance.CaseDecided.v1"), 2))
    runtime.transport.producer().publish(records)
    assert runtime.runner().drain() == 5
    runtime.close()


def test_a_citizen_filters_the_list_and_reads_an_act_and_a_decision(tmp_path: Path) -> None:
    env = {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_HTTP_PORT": str(free_port()), "GUIDANCE_AUTH_DEV_KEYS": "true"}
    seed(env)
    web = ServiceProcess("disclosure", "web", env, tmp_path).start()
    try:
        web.wait_healthy()
        with chromium() as browser:
            browser.get(f"{web.url}/public/guidance")
            assert browser.find_element(By.TAG_NAME, "h1").text == "行政指导公开信息"
            titles = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "ol.results h2 a")]
            assert len(titles) == 3

            Select(browser.find_element(By.ID, "department_id")).select_by_visible_text("某县市场监督管理局")
            Select(browser.find_element(By.ID, "content_type")).select_by_visible_text("违法行为纠错")
            follow(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]"))
            assert "content_type=violation_correction" in browser.current_url
            results = browser.find_elements(By.CSS_SELECTOR, "ol.results h2 a")
            assert [a.text for a in results] == [t for t in titles if "第002号" in t]
            assert browser.find_element(By.CSS_SELECTOR, "p.count").text == "共 1 条"

            follow(browser, results[0])
            headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "article.detail h2")]
            assert headings == ["法律依据", "指导内容", "指导方式", "指导程序", "权利告知"]
            page = browser.find_element(By.TAG_NAME, "main").text
            for text in ("违法行为纠错", "某县市场监督管理局", "启动方式", "知情权、参与权、救济权"):
                assert text in page, text

            follow(browser, browser.find_element(By.LINK_TEXT, "执法决定公示"))
            decisions = browser.find_elements(By.CSS_SELECTOR, "ol.results h2 a")
            masked = PERSON["name"][0] + "*" * (len(PERSON["name"]) - 1)
            assert [a.text for a in decisions] == [f"行政处罚决定 某市监处罚〔2025〕12号：{masked}"]
            follow(browser, decisions[0])
            page = browser.find_element(By.TAG_NAME, "main").text
            for text in ("违法事实", "法律依据", "处理决定", "罚款金额：50000.00 元", "公示截止", "2028-03-20", masked):
                assert text in page, text
            for secret in (PERSON["name"], PERSON["id_no"], PERSON["contact"]):
                assert secret not in browser.page_source
    finally:
        web.stop()
