"""A real headless Chromium, driven by Selenium, shows the dashboard's charts with the scripted year's data.

The service runs in a real HTTP server (werkzeug, in a thread) on a free port; the browser sends the
bearer token as a portal would, through Chrome's DevTools ``Network.setExtraHTTPHeaders``. Never skipped:
without chromium and chromedriver this test fails and says what to install (tests/support/browser.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from tests.support.assessment_year import HOUSING, MARKET, prepare
from tests.support.auth import AuthKeys
from tests.support.browser import chromium
from tests.support.schema import migrated_runtime
from tests.support.services import free_port
from werkzeug.serving import make_server

from guidance_assessment.bootstrap import SPEC, create_app
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path, auth_keys: AuthKeys) -> Iterator[str]:
    settings = Settings.from_env("assessment", env={"GUIDANCE_VAR_DIR": str(tmp_path)})
    runtime = migrated_runtime(SPEC, settings, transport=EmbeddedTransport(settings.embedded_log))
    runtime.provision()
    prepare(runtime)
    port = free_port()
    http = make_server("127.0.0.1", port, create_app(runtime, auth=auth_keys.settings()), threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        http.shutdown()
        thread.join(10)
        runtime.close()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    with chromium(width=1280) as driver:
        yield driver


def test_the_dashboard_shows_scores_months_and_timeliness_as_charts(
    server: str, browser: webdriver.Chrome, auth_keys: AuthKeys
) -> None:
    token = auth_keys.token("auditor-1", MARKET, ["auditor"])
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Bearer {token}"}})
    browser.get(f"{server}/v1/assessment/periods/2025/dashboard?department_id={MARKET}")

    assert browser.title == "2025年度行政指导工作考核看板"
    scores = browser.find_elements(By.CSS_SELECTOR, "svg#chart-scores rect.bar")
    assert [(bar.get_attribute("data-label"), bar.get_attribute("data-value")) for bar in scores] == [
        ("县住建局", "96.0"),
        ("县市场监管局", "67.02"),
        ("县生态环境分局", "38.0"),
    ]
    widths = [float(bar.get_attribute("width") or 0) for bar in scores]
    assert widths[0] > widths[1] > widths[2] > 0  # drawn to scale, not just present
    assert scores[0].size["width"] > 0  # rendered by the browser

    lines = browser.find_elements(By.CSS_SELECTOR, "svg#chart-monthly g.series")
    assert [line.get_attribute("data-series") for line in lines] == [
        "书面指导比例",
        "按期整改率",
        "处罚案件回访率",
        "按期公开率",
    ]
    written = browser.find_elements(By.CSS_SELECTOR, 'svg#chart-monthly circle.point[data-series="书面指导比例"]')
    assert {(p.get_attribute("data-month"), p.get_attribute("data-value")) for p in written} == {
        ("2025-03", "100.0"),
        ("2025-04", "0.0"),
        ("2025-05", "100.0"),
        ("2025-06", "100.0"),
    }
    written_lines = browser.find_elements(
        By.CSS_SELECTOR, 'svg#chart-monthly g.series[data-series="书面指导比例"] polyline.segment'
    )
    assert [len((line.get_attribute("points") or "").split()) for line in written_lines] == [4]  # March–June
    months = browser.find_elements(By.CSS_SELECTOR, "svg#chart-monthly text.month")
    assert len(months) == 12

    timeliness = browser.find_elements(By.CSS_SELECTOR, "svg#chart-timeliness rect.bar")
    drawn = {
        (b.get_attribute("data-label"), b.get_attribute("data-series")): b.get_attribute("data-value")
        for b in timeliness
    }
    assert drawn[("县市场监管局", "处罚案件回访率")] == "66.67"
    assert drawn[("县市场监管局", "按期公开率")] == "33.33"
    assert drawn[("县生态环境分局", "处罚案件回访率")] == "100.0"
    assert drawn[("县市场监管局", "按期撤下率")] == "100.0"
    assert ("县住建局", "处罚案件回访率") not in drawn  # no penalty cases: nothing to draw, and it says so
    unmeasured = browser.find_elements(By.CSS_SELECTOR, 'svg#chart-timeliness text.empty[data-label="县住建局"]')
    assert [t.get_attribute("data-series") for t in unmeasured][:1] == ["处罚案件回访率"]
    assert all(bar.size["width"] > 0 for bar in timeliness)  # rendered by the browser, zeros included

    exports = {a.get_attribute("href").split("/tables/")[1] for a in browser.find_elements(By.CSS_SELECTOR, "a.export")}
    assert exports == {
        f"{t}?format={f}" for t in ("scores", "monthly", "timeliness", "indicators") for f in ("csv", "xlsx")
    }
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#table-scores tbody tr:first-child td")]
    assert cells[:3] == ["县住建局", "1", "96.0"]
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#table-scores thead th")]
    assert headers[:3] == ["机关", "排名", "总分"] and "机关编号" not in headers
    assert HOUSING in (browser.find_element(By.CSS_SELECTOR, "#reports a").get_attribute("href") or "")
