"""The department registry: given a configuration → when a department acts → then competence decides."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from guidance_intake.adapters.files import default_departments, departments_from_yaml
from guidance_intake.domain.departments import (
    DEFAULT_DOC_KIND_ABBR,
    DOC_KINDS,
    Department,
    DepartmentConfigError,
    DepartmentRegistry,
    pattern_problems,
)
from guidance_shared.errors import GuidanceError
from guidance_shared.events.examples import DEPARTMENT_ID
from guidance_shared.vocabulary import DOMAINS

ENVIRONMENT_ID = "8fc7b039-732d-5de9-a917-32ef0e4ec0ae"

CONFIG: dict[str, Any] = {
    "defaults": {"region_abbr": "豫"},
    "departments": [
        {
            "department_id": DEPARTMENT_ID,
            "name": "某县市场监督管理局",
            "short_name": "县市场监管局",
            "agency_abbr": "市监",
            "competent_domains": ["licensing", "penalty", "inspection"],
            "doc_kind_abbr": {"minor_issue_warning": "指"},
        },
        {
            "department_id": ENVIRONMENT_ID,
            "name": "某市生态环境局某县分局",
            "agency_abbr": "环",
            "competent_domains": ["penalty", "coercion"],
            "violation_categories": ["大气污染防治", "水污染防治"],
        },
    ],
}


def config(**changes: Any) -> dict[str, Any]:
    """CONFIG with the first department's settings changed."""
    data = copy.deepcopy(CONFIG)
    data["departments"][0].update(changes)
    return data


def refused(code: str, call: Any, *args: Any, **kwargs: Any) -> GuidanceError:
    with pytest.raises(GuidanceError) as caught:
        call(*args, **kwargs)
    assert (caught.value.code, caught.value.status) == (code, 422)
    return caught.value


def test_given_a_configuration_then_departments_are_found_by_id_in_any_case() -> None:
    registry = DepartmentRegistry.from_mapping(CONFIG)
    market = registry.require(DEPARTMENT_ID.upper())
    assert (market.name, market.region_abbr, market.short_name) == ("某县市场监督管理局", "豫", "县市场监管局")
    assert market.doc_kind_abbr["minor_issue_warning"] == "指"  # the entry's own abbreviation wins
    assert market.doc_kind_abbr["case_decision"] == "罚决"  # the rest come from the defaults
    assert registry.get(ENVIRONMENT_ID) is not None and registry.get("not-a-uuid") is None
    assert registry.require(ENVIRONMENT_ID).short_name == "某市生态环境局某县分局"  # defaults to the name
    assert len(registry) == 2 and DEPARTMENT_ID in registry


def test_when_an_unknown_department_acts_then_a_422_names_the_field() -> None:
    registry = DepartmentRegistry.from_mapping(CONFIG)
    error = refused("unknown-department", registry.require, "00000000-0000-0000-0000-000000000000", "dept")
    assert error.fields[0].field == "dept" and "00000000-0000-0000-0000-000000000000" in error.detail_en


def test_when_a_department_acts_within_its_domains_then_it_is_returned() -> None:
    registry = DepartmentRegistry.from_mapping(CONFIG)
    assert registry.require_competence(DEPARTMENT_ID, "penalty").department_id == DEPARTMENT_ID


def test_when_a_department_acts_outside_its_domains_then_a_bilingual_422_lists_its_domains() -> None:
    registry = DepartmentRegistry.from_mapping(CONFIG)
    error = refused("not-competent", registry.require_competence, DEPARTMENT_ID, "coercion")
    assert error.detail_en == (
        "某县市场监督管理局 holds no competence for coercion; its domains are licensing, penalty, inspection."
    )
    assert (
        error.detail_zh == "某县市场监督管理局无行政强制（coercion）职权；其职权领域为：行政许可、行政处罚、行政检查。"
    )
    assert error.fields[0].field == "domain"
    assert error.extra["competent_domains"] == ["licensing", "penalty", "inspection"]


def test_when_the_domain_is_not_a_domain_code_then_the_allowed_codes_are_listed() -> None:
    registry = DepartmentRegistry.from_mapping(CONFIG)
    error = refused("unknown-domain", registry.require_competence, DEPARTMENT_ID, "enforcement", "case.domain")
    assert error.fields[0].field == "case.domain" and ", ".join(DOMAINS) in error.detail_en


def test_when_a_department_lists_violation_categories_then_only_those_are_competent() -> None:
    registry = DepartmentRegistry.from_mapping(CONFIG)
    assert registry.require_competence(ENVIRONMENT_ID, "penalty", violation_category="水污染防治")
    error = refused(
        "not-competent", registry.require_competence, ENVIRONMENT_ID, "penalty", violation_category="食品安全"
    )
    assert error.fields[0].field == "violation_category" and "食品安全" in error.detail_zh
    # A department without a category list is not limited by category.
    assert registry.require_competence(DEPARTMENT_ID, "penalty", violation_category="食品安全")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"competent_domains": ["penalty", "coersion"]}, "unknown domain code(s) coersion"),
        ({"competent_domains": []}, "competent_domains must list at least one"),
        ({"competent_domains": "penalty"}, "competent_domains must be a list"),
        ({"department_id": "market-1"}, "'market-1' is not a UUID"),
        ({"doc_pattern": "{region}{agency}{kind}{serial:03d}号"}, "lacks {year}"),
        ({"doc_pattern": "{region}{kind}〔{year}〕{serial:03d}号{county}"}, "unknown field(s) {county}"),
        ({"doc_pattern": "{kind}{year}{serial:.2f"}, "is not a format string"),
        ({"doc_pattern": "{kind}{year}{serial:s}"}, "cannot be formatted"),
        ({"doc_kind_abbr": {"penalty_notice": "罚"}}, "unknown document kind(s) penalty_notice"),
        ({"agency_abbr": " "}, "agency_abbr must not be blank"),
        ({"competent_domain": ["penalty"]}, "unknown setting(s) competent_domain"),
    ],
)
def test_given_a_bad_entry_then_loading_fails_naming_the_source_and_the_entry(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(DepartmentConfigError) as failed:
        DepartmentRegistry.from_mapping(config(**changes), source="departments.yaml")
    text = str(failed.value)
    assert text.startswith("departments.yaml: entry 1 (")
    assert message in text


def test_given_a_duplicate_id_then_loading_fails_naming_both_entries() -> None:
    data = copy.deepcopy(CONFIG)
    data["departments"][1]["department_id"] = DEPARTMENT_ID.upper()
    with pytest.raises(
        DepartmentConfigError, match=r"entry 2 \(某市生态环境局某县分局\): duplicate department_id .* \(also entry 1"
    ):
        DepartmentRegistry.from_mapping(data, source="departments.yaml")


def test_given_several_bad_entries_then_every_one_is_reported_at_once() -> None:
    data = copy.deepcopy(CONFIG)
    data["departments"][0]["competent_domains"] = ["nope"]
    data["departments"][1]["doc_pattern"] = "{kind}"
    with pytest.raises(DepartmentConfigError) as failed:
        DepartmentRegistry.from_mapping(data, source="x.yaml")
    assert "x.yaml: entry 1" in str(failed.value) and "x.yaml: entry 2" in str(failed.value)


def test_given_a_file_that_is_not_yaml_then_the_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "departments.yaml"
    path.write_text("departments: [\n", encoding="utf-8")
    with pytest.raises(DepartmentConfigError, match=str(path)):
        departments_from_yaml(path)
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(DepartmentConfigError, match="a 'departments' list"):
        departments_from_yaml(path)


def test_a_department_built_in_code_is_checked_like_one_from_a_file() -> None:
    with pytest.raises(ValueError, match="unknown domain"):
        Department(
            department_id=DEPARTMENT_ID,
            name="x",
            short_name="x",
            region_abbr="某",
            agency_abbr="市监",
            competent_domains=frozenset({"taxation"}),
        )


def test_the_default_pattern_and_abbreviations_are_usable() -> None:
    assert pattern_problems("{region}{agency}{kind}〔{year}〕{serial:03d}号") == []
    assert set(DEFAULT_DOC_KIND_ABBR) == set(DOC_KINDS)


# -- the shipped county configuration ---------------------------------------------------


def test_the_shipped_configuration_loads_and_holds_the_department_of_the_shared_examples() -> None:
    registry = default_departments()
    names = {department.name for department in registry}
    assert names == {
        "某县市场监督管理局",
        "某市生态环境局某县分局",
        "某县应急管理局",
        "某县交通运输局",
        "某县城市管理综合执法局",
    }
    market = registry.require(DEPARTMENT_ID)
    assert market.name == "某县市场监督管理局"
    assert registry.require_competence(DEPARTMENT_ID, "penalty", violation_category="食品安全") is market
    error = refused("not-competent", registry.require_competence, ENVIRONMENT_ID, "licensing")
    assert "某市生态环境局某县分局 holds no competence for licensing" in error.detail_en


def test_two_departments_that_would_share_document_numbers_are_refused() -> None:
    from guidance_intake.domain.departments import DepartmentConfigError, DepartmentRegistry

    entry = {
        "name": "甲局",
        "short_name": "甲",
        "region_abbr": "某",
        "agency_abbr": "监",
        "competent_domains": ["other"],
    }
    data = {
        "departments": [
            {**entry, "department_id": "11111111-1111-4111-8111-111111111111"},
            {**entry, "department_id": "22222222-2222-4222-8222-222222222222", "name": "乙局"},
        ]
    }
    with pytest.raises(DepartmentConfigError, match="甲局 and 乙局"):
        DepartmentRegistry.from_mapping(data)
