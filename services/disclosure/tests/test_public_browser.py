"""A real headless Chromium reads the public pages served by a real ``python -m guidance_disclosure web``.

No WebDriver: the pages need no JavaScript, so ``chromium --headless --dump-dom`` on a URL is what a
browser shows; a filter is the GET the form submits. Skipped where Chromium is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from tests.support.events import record
from tests.support.services import ServiceProcess, free_port

from guidance_disclosure.service import SPEC
from guidance_shared.events.examples import example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings

CHROMIUM = shutil.which("chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--dump-dom",
)
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _chromium_present() -> None:
    """Never skipped: ./run-tests installs Debian's chromium; without it this fails and says so."""
    if CHROMIUM is None:
        pytest.fail("headless Chromium is needed: apt-get install chromium (./run-tests installs it)")


def dom(url: str, profile: Path) -> str:
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", url], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_a_browser_lists_filters_and_opens_a_detail_page(tmp_path: Path) -> None:
    env = {"GUIDANCE_VAR_DIR": str(tmp_path), "GUIDANCE_HTTP_PORT": str(free_port()), "GUIDANCE_AUTH_DEV_KEYS": "true"}
    runtime = Runtime(SPEC, Settings.from_env("disclosure", env))
    runtime.transport.create_topics(["intake.events", "disclosure.dlq"], partitions=3)
    ids = [str(uuid.uuid4()) for _ in range(2)]
    for n, (guidance_id, content_type) in enumerate(
        zip(ids, ("minor_issue_warning", "violation_correction"), strict=True)
    ):
        data = example("guidance.GuidanceIssued.v1")
        data.update(guidance_id=guidance_id, doc_no=f"某市监指〔2025〕第{n + 1:03d}号", content_type=content_type)
        if content_type == "violation_correction":
            data["related_case_id"] = str(uuid.uuid4())
        runtime.transport.producer().publish([record("guidance.GuidanceIssued.v1", guidance_id, data, 1)])
    assert runtime.runner().drain() == 2
    runtime.engine.dispose()

    web = ServiceProcess("disclosure", "web", env, tmp_path).start()
    try:
        web.wait_healthy()
        listing = dom(f"{web.url}/public/guidance", tmp_path / "profile")
        assert "第001号" in listing and "第002号" in listing
        filtered = dom(f"{web.url}/public/guidance?content_type=violation_correction", tmp_path / "profile")
        assert "第002号" in filtered and "第001号" not in filtered
        link = re.search(r'href="(/public/guidance/[0-9a-f-]{36})"', filtered)
        assert link is not None
        detail = dom(f"{web.url}{link.group(1)}", tmp_path / "profile")
        for text in ("法律依据", "指导内容", "指导方式", "权利告知", "知情权、参与权、救济权", "违法行为纠错"):
            assert text in detail, text
    finally:
        web.stop()
