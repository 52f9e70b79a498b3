"""DA/T 22 numbering: items classed by retention period and problem, ordered by date, numbered from 0001 per class."""

from __future__ import annotations

from datetime import date

import pytest

from guidance_intake.adapters.files import default_departments
from guidance_intake.domain.archive import (
    Candidate,
    archival_no,
    manifest,
    manifest_bytes,
    number_items,
    require_year,
)
from guidance_intake.domain.departments import DepartmentConfigError, DepartmentRegistry
from guidance_intake.domain.retention import DEFAULT_RETENTION
from guidance_shared.errors import GuidanceError
from guidance_shared.events.examples import DEPARTMENT_ID


def candidate(kind: str, day: date, reference: str) -> Candidate:
    return Candidate(kind, f"id-{reference}", f"题名{reference}", "某县市场监督管理局", day, reference)


def test_the_archival_number_is_fonds_year_retention_problem_piece() -> None:
    assert archival_no("J012", 2025, "D30", "AJ", 7) == "J012-2025-D30-AJ-0007"


def test_items_are_numbered_by_date_within_each_retention_period_and_problem() -> None:
    items = number_items(
        "J012",
        2025,
        [
            candidate("minor_issue_warning", date(2025, 6, 1), "警示002"),
            candidate("case", date(2025, 3, 1), "立001"),
            candidate("minor_issue_warning", date(2025, 2, 1), "警示001"),
            candidate("major_case", date(2025, 9, 1), "立002"),
            candidate("supervisory_admonition", date(2025, 1, 5), "约谈001"),
            candidate("case", date(2025, 1, 9), "立003"),
        ],
        DEFAULT_RETENTION,
    )
    assert [(i.archival_no, i.candidate.reference) for i in items] == [
        ("J012-2025-Y-AJ-0001", "立002"),  # 永久 first
        ("J012-2025-D30-AJ-0001", "立003"),  # then 定期30年: cases by date …
        ("J012-2025-D30-AJ-0002", "立001"),
        ("J012-2025-D30-ZD-0001", "约谈001"),  # … and guidance, numbered on its own
        ("J012-2025-D10-ZD-0001", "警示001"),
        ("J012-2025-D10-ZD-0002", "警示002"),
    ]
    assert items[0].catalogue_entry()["date"] == "20250901" and items[0].catalogue_entry()["retention_zh"] == "永久"


def test_a_county_sets_the_retention_of_a_kind() -> None:
    items = number_items(
        "J012", 2025, [candidate("minor_issue_warning", date(2025, 2, 1), "1")], {"minor_issue_warning": "Y"}
    )
    assert items[0].archival_no == "J012-2025-Y-ZD-0001"


def test_the_registry_reads_fonds_code_and_retention_and_refuses_what_a_number_cannot_carry() -> None:
    market = default_departments().require(DEPARTMENT_ID)
    assert market.fonds_code == "J012" and market.archive_retention["major_case"] == "Y"
    entry = {
        "department_id": DEPARTMENT_ID,
        "name": "某县市场监督管理局",
        "region_abbr": "某",
        "agency_abbr": "市监",
        "competent_domains": ["penalty"],
        "fonds_code": "J0-12",
        "archive_retention": {"case": "D5", "memo": "Y"},
    }
    with pytest.raises(DepartmentConfigError) as refused:
        DepartmentRegistry.from_mapping({"departments": [entry]})
    message = str(refused.value)
    assert "fonds_code 'J0-12'" in message and "case=D5" in message and "memo" in message
    changed = DepartmentRegistry.from_mapping(
        {"departments": [{**entry, "fonds_code": "J012", "archive_retention": {"case": "Y"}}]}
    ).require(DEPARTMENT_ID)
    assert changed.archive_retention["case"] == "Y" and changed.archive_retention["major_case"] == "Y"
    assert changed.archive_retention["development_advice"] == "D10"


def test_a_year_to_come_cannot_be_archived() -> None:
    require_year(2026, date(2026, 1, 2))
    with pytest.raises(GuidanceError) as refused:
        require_year(2027, date(2026, 12, 31))
    assert refused.value.code == "archive-year-invalid"


def test_one_manifest_has_one_byte_form() -> None:
    described = manifest(
        archive_id="a",
        department_id=DEPARTMENT_ID,
        department_name="某县市场监督管理局",
        fonds_code="J012",
        year=2025,
        produced_at="2026-01-15T10:00:00+08:00",
        items=[],
        files_of={},
    )
    assert manifest_bytes(described) == manifest_bytes(dict(reversed(list(described.items()))))
    assert "某县市场监督管理局".encode() in manifest_bytes(described)
