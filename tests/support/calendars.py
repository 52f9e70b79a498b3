"""2027 as the tests know it: a year whose holiday arrangement is not published yet, and the override file
that publishes it (the State Council's notice, given as ``GUIDANCE_CALENDAR_OVERRIDES``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from guidance_disclosure.bootstrap import SPEC as DISCLOSURE
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.schema import migrated_runtime

CHINA = ZoneInfo("Asia/Shanghai")
ARRANGEMENT_2027 = """\
holidays: [2027-01-01, 2027-02-05, 2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11, 2027-04-05, 2027-05-03,
           2027-05-04, 2027-06-09, 2027-09-15, 2027-10-01, 2027-10-04, 2027-10-05]
workdays: []
years: [2027]
"""
OVERRIDES = "calendar-2027.yaml"


def with_arrangement_2027(var: Path) -> Path:
    """``var`` with the override file in it (used only when a service is told to read it)."""
    (var / OVERRIDES).write_text(ARRANGEMENT_2027, encoding="utf-8")
    return var


def disclosure_in_2027(var: Path, *, arrangement: bool) -> Runtime[Any]:
    """disclosure as a process starts it on the embedded log in ``var``, with or without the override file."""
    env = {"GUIDANCE_VAR_DIR": str(var)}
    if arrangement:
        env["GUIDANCE_CALENDAR_OVERRIDES"] = str(var / OVERRIDES)
    transport = EmbeddedTransport(str(var / "log.sqlite"))
    transport.create_topics(["intake.events", "revisit.events", "disclosure.events", "disclosure.dlq"], 3)
    return migrated_runtime(DISCLOSURE, Settings.from_env("disclosure", env), transport=transport)
