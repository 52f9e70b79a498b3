"""Document numbers (文号): given a department's pattern → when a serial is formatted → then the number."""

from __future__ import annotations

import pytest

from guidance_intake.adapters.files import default_departments
from guidance_intake.domain.departments import Department
from guidance_intake.domain.doc_numbers import DocKey, format_doc_no
from guidance_shared.events.examples import DEPARTMENT_ID


def department(**changes: object) -> Department:
    settings: dict[str, object] = {
        "department_id": DEPARTMENT_ID,
        "name": "某县市场监督管理局",
        "short_name": "县市场监管局",
        "region_abbr": "豫",
        "agency_abbr": "市监",
        "competent_domains": frozenset({"penalty", "inspection"}),
        **changes,
    }
    return Department(**settings)


def test_the_default_pattern_gives_region_agency_kind_year_and_a_three_digit_serial() -> None:
    assert format_doc_no(department(), "minor_issue_warning", 2025, 1) == "豫市监警示〔2025〕001号"
    assert format_doc_no(department(), "case_decision", 2025, 12) == "豫市监罚决〔2025〕012号"
    assert format_doc_no(department(), "violation_correction", 2025, 1234) == "豫市监纠错〔2025〕1234号"


def test_a_department_pattern_reproduces_the_henan_style() -> None:
    henan = department(
        agency_abbr="政简",
        doc_pattern="{region}{agency}{kind}{year}第{serial:03d}号",
        doc_kind_abbr={"development_advice": "行指"},
    )
    assert format_doc_no(henan, "development_advice", 2017, 1) == "豫政简行指2017第001号"


def test_the_shipped_market_department_numbers_like_the_shared_examples() -> None:
    market = default_departments().require(DEPARTMENT_ID)
    assert format_doc_no(market, "minor_issue_warning", 2025, 1) == "某市监警示〔2025〕第001号"


@pytest.mark.parametrize(
    ("kind", "year", "serial", "message"),
    [
        ("major_case_revisit", 2025, 1, "no document abbreviation for 'major_case_revisit'"),
        ("minor_issue_warning", 25, 1, "four-digit year"),
        ("minor_issue_warning", 2025, 0, "1 or more"),
    ],
)
def test_what_cannot_be_numbered_is_refused(kind: str, year: int, serial: int, message: str) -> None:
    partial = department(doc_kind_abbr={"minor_issue_warning": "警示"})
    with pytest.raises(ValueError, match=message):
        format_doc_no(partial, kind, year, serial)


def test_a_doc_key_names_one_sequence() -> None:
    assert DocKey(DEPARTMENT_ID, "minor_issue_warning", 2025) == DocKey(DEPARTMENT_ID, "minor_issue_warning", 2025)
    assert DocKey(DEPARTMENT_ID, "minor_issue_warning", 2025) != DocKey(DEPARTMENT_ID, "minor_issue_warning", 2026)
