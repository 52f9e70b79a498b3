"""The scrub key: from settings (value or file, long enough, not both), else one made once under the var directory."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from guidance_disclosure.adapters.files import SCRUB_KEY_FILE, load_scrub_key
from guidance_disclosure.settings import DisclosureSettings, scrub_key

LONG = "k" * 32


def test_the_configured_key_is_read_from_the_variable_or_its_file(tmp_path: Path) -> None:
    assert scrub_key({}) is None
    assert scrub_key({"GUIDANCE_SCRUB_KEY": LONG}) == LONG.encode()
    secret = tmp_path / "scrub"
    secret.write_text(LONG + "\n", encoding="utf-8")
    assert scrub_key({"GUIDANCE_SCRUB_KEY_FILE": str(secret)}) == LONG.encode()
    assert LONG not in repr(DisclosureSettings.from_env({"GUIDANCE_SCRUB_KEY": LONG}))


def test_a_short_key_both_forms_or_an_unreadable_file_fail_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        scrub_key({"GUIDANCE_SCRUB_KEY": "short"})
    with pytest.raises(ValueError, match="not both"):
        scrub_key({"GUIDANCE_SCRUB_KEY": LONG, "GUIDANCE_SCRUB_KEY_FILE": str(tmp_path / "x")})
    with pytest.raises(ValueError, match="cannot read"):
        scrub_key({"GUIDANCE_SCRUB_KEY_FILE": str(tmp_path / "missing")})


def test_without_settings_one_key_is_made_once_and_kept_owner_only(tmp_path: Path) -> None:
    assert load_scrub_key(LONG.encode(), tmp_path) == LONG.encode()
    assert not (tmp_path / SCRUB_KEY_FILE).exists()
    first = load_scrub_key(None, tmp_path / "var")
    assert len(first) == 64 and load_scrub_key(None, tmp_path / "var") == first
    assert stat.S_IMODE((tmp_path / "var" / SCRUB_KEY_FILE).stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "var").iterdir()] == [SCRUB_KEY_FILE]
