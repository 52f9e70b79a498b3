"""Every failure is an RFC 9457 problem, bilingual, field by field, and never leaks internals."""

from __future__ import annotations

from typing import Any

import pytest

from guidance_shared.web import PROBLEM_MEDIA_TYPE, translate
from guidance_shared.web.messages import FALLBACK_ZH, field_problems
from tests.shared.web.conftest import valid_body

TYPE_BASE = "https://guidance-suite.example/problems/"


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.mimetype == PROBLEM_MEDIA_TYPE
    body = response.get_json(force=True)
    assert body["type"] == TYPE_BASE + code
    assert body["status"] == status
    assert body["title"] and body["title_zh"] and body["detail"] and body["detail_zh"]
    assert body["instance"] == response.request.path
    assert body["request_id"] == response.headers["X-Request-Id"]
    return body


def test_invalid_body_names_each_field_in_both_languages(client: Any) -> None:
    body = valid_body(title=5, counterpart={"kind": "alien"}, priority=9, extra="x")
    body["legal_basis"] = [{"law": "行政处罚法", "article": "第三十三条"}, {"law": "行政许可法"}]

    problem = assert_problem(client.post("/v1/guidance", json=body), 422, "validation-failed")

    errors = {e["field"]: (e["message_en"], e["message_zh"]) for e in problem["errors"]}
    assert errors == {
        "title": ("Not a valid string.", "不是有效的字符串。"),
        "counterpart.name": ("Missing data for required field.", "缺少必填字段。"),
        "counterpart.kind": ("Must be one of: person, organization.", "必须是以下取值之一：person, organization。"),
        "legal_basis.1.article": ("Missing data for required field.", "缺少必填字段。"),
        "priority": (
            "Must be greater than or equal to 1 and less than or equal to 5.",
            "必须大于等于 1 且小于等于 5。",
        ),
        "extra": ("Unknown field.", "未知字段，不允许提交。"),
    }


def test_a_body_that_is_not_an_object_is_a_validation_problem(client: Any) -> None:
    problem = assert_problem(client.post("/v1/guidance", json=[1, 2]), 422, "validation-failed")
    assert problem["errors"] == [
        {"field": "json", "message_en": "Invalid input type.", "message_zh": "输入类型无效，应为 JSON 对象。"}
    ]


def test_malformed_json_is_a_400_problem_saying_where(client: Any) -> None:
    response = client.post("/v1/guidance", data='{"title": ', content_type="application/json")
    problem = assert_problem(response, 400, "malformed-json")
    assert "line 1" in problem["detail"]
    assert "JSON" in problem["detail_zh"]


def test_a_non_json_body_to_a_json_endpoint_is_415(client: Any) -> None:
    response = client.post("/v1/guidance", data="title=x", content_type="application/x-www-form-urlencoded")
    problem = assert_problem(response, 415, "unsupported-media-type")
    assert "application/json" in problem["detail"]


def test_unknown_route_is_a_404_problem(client: Any) -> None:
    assert_problem(client.get("/v1/nowhere"), 404, "not-found")


def test_wrong_method_is_a_405_problem_with_allow(client: Any) -> None:
    response = client.delete("/v1/guidance")
    problem = assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers["Allow"]
    assert "DELETE" in problem["detail"]


def test_oversized_body_is_a_413_problem(client: Any) -> None:
    response = client.post("/v1/guidance", data=b"x" * (2 * 1024 * 1024 + 1), content_type="application/json")
    problem = assert_problem(response, 413, "payload-too-large")
    assert "2097152" in problem["detail"]


def test_unexpected_exception_is_a_bare_500(client: Any) -> None:
    response = client.get("/v1/guidance/boom")
    assert_problem(response, 500, "internal-error")
    text = response.get_data(as_text=True)
    for leak in ("hunter2", "RuntimeError", "Traceback", "110105194912310021", "conftest"):
        assert leak not in text


def test_guidance_error_keeps_its_status_texts_and_extension_members(client: Any) -> None:
    problem = assert_problem(client.post("/v1/guidance/conflict"), 409, "version-conflict")
    assert problem["title_zh"] == "版本冲突"
    assert (problem["stream_id"], problem["expected_version"], problem["current_version"]) == ("case-1", 2, 3)


def test_chinese_is_sent_unescaped_as_utf8(client: Any) -> None:
    response = client.post("/v1/guidance", json=valid_body(title=""))
    raw = response.get_data()
    assert "长度必须在 1 到 100 之间。".encode() in raw
    assert b"\\u" not in raw


def test_openapi_31_is_served_with_problem_errors_and_the_idempotency_header(client: Any) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    post = spec["paths"]["/v1/guidance"]["post"]
    assert {"in": "header", "name": "Idempotency-Key"}.items() <= post["parameters"][0].items()
    assert PROBLEM_MEDIA_TYPE in spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Missing data for required field.", "缺少必填字段。"),
        ("Not a valid integer.", "不是有效的整数。"),
        ("Not a valid number.", "不是有效的数字。"),
        ("Not a valid boolean.", "不是有效的布尔值。"),
        ("Not a valid UUID.", "不是有效的 UUID。"),
        ("Not a valid date.", "不是有效的日期（YYYY-MM-DD）。"),
        ("Not a valid datetime.", "不是有效的日期时间（ISO 8601）。"),
        ("Not a valid email address.", "不是有效的电子邮箱地址。"),
        ("Not a valid URL.", "不是有效的网址（URL）。"),
        ("Not a valid list.", "不是有效的列表。"),
        ("Not a valid mapping type.", "不是有效的对象（映射）。"),
        ("Field may not be null.", "字段不能为 null。"),
        ("Length must be between 2 and 8.", "长度必须在 2 到 8 之间。"),
        ("Shorter than minimum length 3.", "长度不能少于 3。"),
        ("Longer than maximum length 9.", "长度不能超过 9。"),
        ("Must be greater than or equal to 0.", "必须大于等于 0。"),
        ("Must be less than 10.", "必须小于 10。"),
        ("Something only this service says.", FALLBACK_ZH),
    ],
)
def test_marshmallow_messages_are_translated(english: str, chinese: str) -> None:
    assert translate(english) == chinese


def test_nested_messages_flatten_to_dotted_paths() -> None:
    messages = {"legal_basis": {0: {"article": ["Not a valid string."]}}, "_schema": ["Invalid input."]}
    paths = [(p.field, p.message_zh) for p in field_problems(messages, root="body")]
    assert paths == [("legal_basis.0.article", "不是有效的字符串。"), ("body", "输入无效。")]
