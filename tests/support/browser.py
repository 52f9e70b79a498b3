"""Debian's headless Chromium driven by Selenium through Debian's chromedriver, for the browser tests.

Never skipped: ./run-tests installs chromium and chromium-driver; without them a browser test fails
and says what to install. The flags keep Chromium off this machine's closed network (no update,
sync or background checks) and give each session its own empty profile.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=390,844",  # a phone's viewport: the public pages must work there
)


@contextmanager
def chromium(*, width: int | None = None) -> Iterator[webdriver.Chrome]:
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.fail("headless Chromium and chromedriver are needed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS:
        options.add_argument(flag)
    if width is not None:
        options.add_argument(f"--window-size={width},900")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        browser = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        browser.set_page_load_timeout(60)
        try:
            yield browser
        finally:
            browser.quit()


def follow(browser: webdriver.Chrome, element: WebElement, timeout_s: float = 30.0) -> None:
    """Click a link or a submit button and wait until the next page replaced this one.

    ``click()`` returns once the click is dispatched, not once the navigation it starts has finished;
    reading right after it may read the old page. The old page's root going stale is the signal.
    """
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(browser, timeout_s).until(expected_conditions.staleness_of(page))
    WebDriverWait(browser, timeout_s).until(lambda b: b.execute_script("return document.readyState") == "complete")
