"""The officer API's schemas build the typed commands once; the handlers never see a wire dict."""

from __future__ import annotations

import uuid
from datetime import date

from guidance_disclosure.domain.commands import (
    AnswerRequest,
    ExtendAnswerPeriod,
    Officer,
    Provision,
    PublishItem,
    RegisterRequest,
    RequestSupplement,
    WithholdItem,
)
from guidance_disclosure.entrypoints.http import items, requests

OFFICER_ID = uuid.UUID("8d2f8a4e-3c7b-4d6e-9f1a-2b3c4d5e6f70")
DEPARTMENT_ID = "11111111-1111-4111-8111-111111111111"


def test_a_publication_carries_its_reviewer_and_note() -> None:
    command = items.PublishCommand().load({"reviewed_by": {"name": "王审核", "officer_id": str(OFFICER_ID)}})
    assert command == PublishItem(reviewed_by=Officer("王审核", None, str(OFFICER_ID)), note=None)
    assert command.reviewed_by.as_data() == {"name": "王审核", "badge_no": None, "officer_id": str(OFFICER_ID)}


def test_a_withholding_keeps_its_provisions_in_order() -> None:
    command = items.WithholdCommand().load(
        {
            "exemption": "trade_secret",
            "reason": "含商业秘密",
            "decided_by": {"name": "李科长", "badge_no": "A-1"},
            "legal_basis": [
                {"instrument": "《政府信息公开条例》", "article": "第十五条"},
                {"instrument": "《反不正当竞争法》", "article": "第九条"},
            ],
        }
    )
    assert isinstance(command, WithholdItem)
    assert command.legal_basis == (
        Provision("《政府信息公开条例》", "第十五条"),
        Provision("《反不正当竞争法》", "第九条"),
    )
    assert command.decided_by == Officer("李科长", "A-1", None)


def test_a_withholding_without_provisions_leaves_them_to_the_rules() -> None:
    command = items.WithholdCommand().load(
        {"exemption": "personal_privacy", "reason": "个人隐私", "decided_by": {"name": "李科长"}}
    )
    assert command.legal_basis == ()


def test_a_registration_is_one_typed_command() -> None:
    command = requests.RegisterRequestSchema().load(
        {
            "department_id": DEPARTMENT_ID,
            "applicant": {"kind": "person", "name": "张三", "id_type": "resident_id", "id_no": "110101199001011234"},
            "description": "2025年行政指导目录",
            "channel": "online",
            "received_on": "2026-03-02",
        }
    )
    assert isinstance(command, RegisterRequest)
    assert (command.department_id, command.received_on) == (DEPARTMENT_ID, date(2026, 3, 2))
    assert command.applicant["name"] == "张三"


def test_the_request_steps_load_their_commands() -> None:
    notice = requests.SupplementNotice().load(
        {"items": "请补充所需信息的文号", "notice_on": "2026-03-03", "notified_by": {"name": "赵办事员"}}
    )
    assert notice == RequestSupplement("请补充所需信息的文号", date(2026, 3, 3), Officer("赵办事员"), None)
    extension = requests.Extension().load(
        {"extension_working_days": 10, "approved_by": {"name": "钱主任"}, "reason": "需要征求第三方意见"}
    )
    assert extension == ExtendAnswerPeriod(10, Officer("钱主任"), "需要征求第三方意见")
    answer = requests.Answer().load({"answer": "disclosed", "answered_on": "2026-03-20"})
    assert answer == AnswerRequest("disclosed", date(2026, 3, 20))
