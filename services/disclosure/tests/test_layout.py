"""The package's shape: the same layout as every service, and disclosure's own settings in one place."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from guidance_disclosure.domain.request import MAX_EXTENSION_WORKING_DAYS, SUPPLEMENT_NOTICE_WORKING_DAYS
from guidance_disclosure.settings import DisclosureSettings, rate_limit
from guidance_shared.events import disclosure as contract

PACKAGE = Path(str(files("guidance_disclosure")))
ROOT_MODULES = {"__init__", "__main__", "bootstrap", "settings", "handlers"}
ROOT_PACKAGES = {"domain", "adapters", "entrypoints", "handlers"}


def test_the_settings_defaults_are_the_documented_ones() -> None:
    settings = DisclosureSettings.from_env({})
    assert settings == DisclosureSettings(
        publication_rules=None,
        public_base_url="http://127.0.0.1:8003",
        overdue_interval_s=60.0,
        public_rate_limit=60,
    )


def test_the_settings_are_read_from_the_given_mapping() -> None:
    settings = DisclosureSettings.from_env(
        {
            "GUIDANCE_PUBLICATION_RULES": "/etc/guidance/rules.yaml",
            "GUIDANCE_PUBLIC_BASE_URL": "https://gk.example.gov.cn",
            "GUIDANCE_OVERDUE_INTERVAL_S": "2.5",
            "GUIDANCE_PUBLIC_RATE_LIMIT": "0",
        }
    )
    assert settings.publication_rules == Path("/etc/guidance/rules.yaml")
    assert settings.public_base_url == "https://gk.example.gov.cn"
    assert (settings.overdue_interval_s, settings.public_rate_limit) == (2.5, 0)


@pytest.mark.parametrize(("value", "limit"), [(None, 60), ("", 60), ("  ", 60), ("0", 0), ("120", 120)])
def test_the_rate_limit_setting(value: str | None, limit: int) -> None:
    assert rate_limit(value) == limit


@pytest.mark.parametrize("value", ["-1", "many"])
def test_a_bad_rate_limit_fails_at_start_up(value: str) -> None:
    with pytest.raises(ValueError):
        rate_limit(value)


def test_the_domain_keeps_the_contract_s_working_day_bounds() -> None:
    assert MAX_EXTENSION_WORKING_DAYS == contract.MAX_EXTENSION_WORKING_DAYS
    assert SUPPLEMENT_NOTICE_WORKING_DAYS == contract.SUPPLEMENT_NOTICE_WORKING_DAYS
