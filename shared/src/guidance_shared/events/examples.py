"""One valid, canonical payload per v1 event type, telling one county's story.

Canonical means ``EventRegistry.validate(ce_type, example) == example``: every
optional field is spelled out, amounts have two decimals, times carry +08:00.
Tests, fixtures and end-to-end checks share these; use ``example()`` to get a
copy you may change. The people, companies and numbers are fictional.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

DEPARTMENT_ID = "3898b87c-d9e4-5a37-8351-e465fdfcaae6"  # 某县市场监督管理局
DEPARTMENT_NAME = "某县市场监督管理局"
DEPARTMENT_USCC = "11410000MB1234567P"
GUIDANCE_ID = "2bad7f62-ed9e-5421-900c-cf14d50d9fa9"
CASE_ID = "64689d52-2a4d-5c09-8718-81246f1bf58e"
REVISIT_ID = "225ccf3d-30d4-56bd-93cf-198a8c30c90d"
PLAN_ID = "6c48b7c4-44b3-59dd-9747-8eae4698429f"
ITEM_ID = "2656a843-766d-5381-a92b-f8c1f127b055"
REQUEST_ID = "c092a4d9-941f-57a1-a90c-99668758ee48"
PERIOD_ID = "52ef0f29-8c52-5a85-8363-3d22dd054bfb"
SCORECARD_ID = "fa99d687-6e7a-529b-bc8b-f6afba3cbe8a"
ARCHIVE_ID = "0d0f7a5e-3f0e-5c7b-9a43-2b8f1c6e4d21"
DECIDED_EVENT_ID = "3f1b7d08-f425-5b8f-8a42-0f033315367a"  # ce_id of the CaseDecided event
REVOKED_EVENT_ID = "2f8d5abd-44d2-56e9-8526-3f720029320e"  # ce_id of the CaseDecisionRevoked event

#: A calendar's version once the 2027 arrangement arrived in the override file (WorkingCalendar.version).
CALENDAR_VERSION = "chinesecalendar 1.11.0; overrides 2027 sha256:5e1f0c2a9b7d4e36"

OFFICER_WANG = {"name": "王立新", "badge_no": "豫A0310021", "officer_id": "556dfd8c-ab47-5d7c-aee3-ca0ae377eadb"}
OFFICER_LIU = {"name": "刘晓燕", "badge_no": "豫A0310057", "officer_id": "54d32fdf-7197-5647-a5e7-dd6e071b3ae1"}

ENTERPRISE = {
    "kind": "enterprise",
    "name": "某县宏达食品有限公司",
    "uscc": "91410000MA3X7K2P55",
    "id_type": None,
    "id_no": None,
    "legal_representative": "赵建国",
    "address": "某县城关镇人民路88号",
    "contact": "0371-62345678",
}
INDIVIDUAL_BUSINESS = {
    "kind": "individual_business",
    "name": "某县城关镇李记副食店",
    "uscc": "92410000MA3Y8L1N73",
    "id_type": None,
    "id_no": None,
    "legal_representative": "李有福",
    "address": "某县城关镇解放路16号",
    "contact": "13900139000",
}
PERSON = {
    "kind": "person",
    "name": "张伟",
    "uscc": None,
    "id_type": "resident_id",
    "id_no": "410102198503124517",
    "legal_representative": None,
    "address": "某县城关镇建设路9号院3号楼",
    "contact": "13800138000",
}

PENALTY_LAW_ART_33 = {"instrument": "《中华人民共和国行政处罚法》", "article": "第三十三条第一款"}
FOOD_SAFETY_LAW_ART_124 = {"instrument": "《中华人民共和国食品安全法》", "article": "第一百二十四条第一款第（五）项"}
DISCLOSURE_REGULATION_ART_15 = {"instrument": "《中华人民共和国政府信息公开条例》", "article": "第十五条"}

_intake: Mapping[str, Mapping[str, Any]] = {
    "guidance.GuidanceIssued.v1": {
        "guidance_id": GUIDANCE_ID,
        "doc_no": "某市监指〔2025〕第001号",
        "department_id": DEPARTMENT_ID,
        "department_name": DEPARTMENT_NAME,
        "department_uscc": DEPARTMENT_USCC,
        "officers": [OFFICER_WANG, OFFICER_LIU],
        "counterpart": ENTERPRISE,
        "content_type": "minor_issue_warning",
        "methods": ["warning", "persuasion_reminder"],
        "domain": "inspection",
        "form": "written",
        "initiated": "own_initiative",
        "applied_at": None,
        "written_requested": False,
        "matter": "食品经营许可证未在经营场所显著位置悬挂",
        "legal_basis": [
            PENALTY_LAW_ART_33,
            {"instrument": "《食品经营许可管理办法》", "article": "第二十六条"},
        ],
        "content": (
            "经检查，你单位未将食品经营许可证正本悬挂或者摆放在经营场所的显著位置。"
            "鉴于该行为系初次发生、情节轻微且未造成危害后果，依法不予行政处罚。"
            "请于2025年3月12日前改正，并建立证照公示自查制度。"
        ),
        "rights_notice": (
            "本指导不具有强制力，你单位可以自愿接受。对本指导有异议的，可以在收到之日起五个工作日内"
            "向本局陈述意见；认为本局行为侵犯合法权益的，可以依法申请行政复议或者提起行政诉讼。"
        ),
        "correction_deadline": "2025-03-12",
        "related_case_id": None,
        "interview": None,
        "reminder": None,
        "advice": None,
        "identifier_override_reason": None,
        "disclosure": {"level": "public", "exemption": None, "reason": None},
        "issued_at": "2025-03-05T10:30:00+08:00",
    },
    "guidance.GuidanceResponded.v1": {
        "guidance_id": GUIDANCE_ID,
        "department_id": DEPARTMENT_ID,
        "response": "accepted",
        "statement": "已知悉，当日即整改，今后注意证照公示。",
        "responded_at": "2025-03-05T11:00:00+08:00",
    },
    "guidance.CorrectionVerified.v1": {
        "guidance_id": GUIDANCE_ID,
        "department_id": DEPARTMENT_ID,
        "corrected": True,
        "verified_on": "2025-03-12",
        "evidence": "现场核查：食品经营许可证正本已悬挂于收银台后墙显著位置，拍照留存2张。",
        "verified_by": OFFICER_LIU,
        "revisit_id": None,
    },
    "guidance.GuidanceSuspended.v1": {
        "guidance_id": GUIDANCE_ID,
        "department_id": DEPARTMENT_ID,
        "reason": "相对人对指导所认定的事实提出异议，暂停执行，待复核。",
        "at": "2025-03-06T09:15:00+08:00",
    },
    "guidance.GuidanceWithdrawn.v1": {
        "guidance_id": GUIDANCE_ID,
        "department_id": DEPARTMENT_ID,
        "reason": "经复核，指导所依据的事实认定有误，撤回本指导。",
        "at": "2025-03-10T16:40:00+08:00",
    },
    "guidance.CaseOpened.v1": {
        "case_id": CASE_ID,
        "case_no": "某市监立〔2025〕12号",
        "department_id": DEPARTMENT_ID,
        "department_name": DEPARTMENT_NAME,
        "department_uscc": DEPARTMENT_USCC,
        "counterpart": INDIVIDUAL_BUSINESS,
        "domain": "penalty",
        "procedure": "ordinary",
        "violation": {
            "code": "SP-034-10",
            "category": "食品安全",
            "description": "经营超过保质期的预包装食品（某品牌月饼）共计46盒。",
            "occurred_on": "2025-03-01",
        },
        "major": True,
        "officers": [OFFICER_WANG, OFFICER_LIU],
        "identifier_override_reason": None,
        "opened_at": "2025-03-03T09:00:00+08:00",
    },
    "guidance.CaseLegalReviewed.v1": {
        "case_id": CASE_ID,
        "department_id": DEPARTMENT_ID,
        "legal_review": {
            "reviewer": "某县市场监督管理局法制审核室",
            "reviewed_on": "2025-03-18",
            "conclusion": "approved",
            "opinion": "事实清楚，证据确凿，适用依据正确，程序合法，处罚适当。",
        },
        "recorded_at": "2025-03-18T16:00:00+08:00",
    },
    "guidance.CaseDecided.v1": {
        "case_id": CASE_ID,
        "department_id": DEPARTMENT_ID,
        "decision_no": "某市监处罚〔2025〕12号",
        "decision": "penalty",
        "penalty": {
            "kind": "fine",
            "other_kinds": ["confiscation_of_gains", "confiscation_of_property"],
            "amount_yuan": "50000.00",
            "confiscated_yuan": "1196.00",
            "description": "没收超过保质期的月饼46盒，没收违法所得1196.00元，并处罚款50000.00元。",
        },
        "coercive_measure": None,
        "legal_basis": [
            {"instrument": "《中华人民共和国食品安全法》", "article": "第三十四条第（十）项"},
            FOOD_SAFETY_LAW_ART_124,
        ],
        "major": True,
        "legal_review": {
            "reviewer": "某县市场监督管理局法制审核室",
            "reviewed_on": "2025-03-18",
            "conclusion": "approved",
            "opinion": "事实清楚，证据确凿，适用依据正确，程序合法，处罚适当。",
        },
        "circumstances": None,
        "education_guidance_id": None,
        "cited_guidance_ids": [],
        "exemption_list_entry": None,
        "override_reason": None,
        "summary": "当事人经营超过保质期的食品，违反《中华人民共和国食品安全法》第三十四条第（十）项。",
        "decided_at": "2025-03-20T15:00:00+08:00",
    },
    "guidance.CaseDecisionRevoked.v1": {
        "case_id": CASE_ID,
        "department_id": DEPARTMENT_ID,
        "reason": "经行政复议，复议机关以事实不清为由决定撤销原行政处罚决定。",
        "at": "2025-05-10T10:00:00+08:00",
    },
    "guidance.CaseClosed.v1": {
        "case_id": CASE_ID,
        "department_id": DEPARTMENT_ID,
        "outcome": "executed",
        "major": True,
        "closed_at": "2025-04-15T16:00:00+08:00",
    },
    "guidance.ArchivePackageProduced.v1": {
        "archive_id": ARCHIVE_ID,
        "department_id": DEPARTMENT_ID,
        "fonds_code": "J012",
        "year": 2025,
        "item_count": 2,
        "manifest_sha256": "5d1b0d1d3a3b1e0c8f6a4e2b9c7d5f3a1e9b8c7d6f5e4a3b2c1d0e9f8a7b6c5d",
        "package_sha256": "0f3c6a9b2e5d8c1f4a7b0e3d6c9f2a5b8e1d4c7f0a3b6e9d2c5f8a1b4e7d0c3f",
        "produced_at": "2026-01-15T10:00:00+08:00",
    },
    "guidance.PersonalDataErased.v1": {
        "erasure_id": "469e76f5-9231-56da-9a29-a37a17369228",
        "subject_id": "7d5b965be65af19779a1fcf1c5eb13eb541ddf871fd3b4456499c68daf054d26",
        "subject_kind": "person",
        "key_ids": ["AAECAwQFBgcICQoLDA0ODw"],
        "legal_reason": "request",
        "requested_by": "officer-1",
        "approved_by": "supervisor-1",
        "erased_at": "2026-03-02T09:30:00+08:00",
    },
}

_revisit: Mapping[str, Mapping[str, Any]] = {
    "guidance.RevisitScheduled.v1": {
        "revisit_id": REVISIT_ID,
        "department_id": DEPARTMENT_ID,
        "case_id": CASE_ID,
        "guidance_id": None,
        "kind": "case_revisit",
        "due_on": "2025-05-15",
        "reason": "重大行政处罚案件结案后30日内回访。",
        "officer": OFFICER_WANG,
        "draw": None,
        "scheduled_at": "2025-04-15T16:05:00+08:00",
        "deadline_estimated": False,
        "deadline_basis": None,
    },
    "guidance.RevisitCompleted.v1": {
        "revisit_id": REVISIT_ID,
        "department_id": DEPARTMENT_ID,
        "case_id": CASE_ID,
        "guidance_id": None,
        "completed_on": "2025-05-12",
        "officers": [OFFICER_WANG, OFFICER_LIU],
        "method": "visit",
        "findings": {"corrected": True, "conduct_ok": True, "rights_explained": True, "needs_guidance": False},
        "notes": "当事人已建立进货查验记录制度，临近保质期食品单独存放并明示。",
    },
    "guidance.RevisitOverdue.v1": {
        "revisit_id": REVISIT_ID,
        "department_id": DEPARTMENT_ID,
        "due_on": "2025-05-15",
        "detected_at": "2025-05-16T00:10:00+08:00",
    },
    "guidance.RevisitCancelled.v1": {
        "revisit_id": REVISIT_ID,
        "department_id": DEPARTMENT_ID,
        "reason": "原行政处罚决定已被撤销，不再回访。",
        "at": "2025-05-10T10:30:00+08:00",
    },
    "guidance.RevisitRescheduled.v1": {
        "revisit_id": REVISIT_ID,
        "department_id": DEPARTMENT_ID,
        "previous_due_on": "2025-05-15",
        "due_on": "2025-05-22",
        "reason": "当事人经营者外出，经协商改期回访。",
        "at": "2025-05-09T14:20:00+08:00",
    },
    "guidance.RevisitDeadlineRecomputed.v1": {
        "revisit_id": REVISIT_ID,
        "department_id": DEPARTMENT_ID,
        "previous_due_on": "2027-02-23",
        "due_on": "2027-02-24",
        "previously_estimated": True,
        "deadline_estimated": False,
        "calendar_version": CALENDAR_VERSION,
        "recomputed_at": "2026-12-22T08:30:00+08:00",
    },
    "guidance.ReminderPlanned.v1": {
        "plan_id": PLAN_ID,
        "department_id": DEPARTMENT_ID,
        "violation_category": "食品安全",
        "domain": "penalty",
        "peak_period": {"from": "2025-09-20", "to": "2025-10-08"},
        "notify_on": "2025-09-10",
        "basis": {
            "lookback_from": "2022-01-01",
            "lookback_to": "2024-12-31",
            "case_count": 126,
            "peak_case_count": 41,
            "summary": "近三年中秋、国庆前后查处的过期食品和月饼标签案件占全年案件的32.5%。",
            "method": "按年逐月计数；某月年均数≥μ+kσ（k=1.5）、≥3件且至少2年高于μ即为高发月，相邻月份合并。",
            "mean_per_month": 3.5,
            "sd_per_month": 1.9,
            "threshold": 6.35,
            "peak_mean": 6.83,
            "years_observed": 3,
            "years_recurring": 3,
        },
        "planned_at": "2025-08-28T09:00:00+08:00",
    },
    "guidance.ReminderPlanAccepted.v1": {
        "plan_id": PLAN_ID,
        "department_id": DEPARTMENT_ID,
        "accepted_by": OFFICER_LIU,
        "at": "2025-08-29T10:00:00+08:00",
    },
    "guidance.ReminderPlanAdjusted.v1": {
        "plan_id": PLAN_ID,
        "department_id": DEPARTMENT_ID,
        "peak_period": {"from": "2025-09-15", "to": "2025-10-08"},
        "notify_on": "2025-09-05",
        "reason": "今年中秋节较早，月饼集中上市提前，提示相应提前。",
        "by": OFFICER_LIU,
        "at": "2025-08-29T10:05:00+08:00",
    },
    "guidance.ReminderPlanDismissed.v1": {
        "plan_id": PLAN_ID,
        "department_id": DEPARTMENT_ID,
        "reason": "高发系2023年专项整治集中查处所致，不属于周期性高发。",
        "by": OFFICER_LIU,
        "at": "2025-08-29T10:10:00+08:00",
    },
}

_disclosure: Mapping[str, Mapping[str, Any]] = {
    "guidance.ItemDisclosed.v1": {
        "item_id": ITEM_ID,
        "department_id": DEPARTMENT_ID,
        "source_event_id": DECIDED_EVENT_ID,
        "subject_id": CASE_ID,
        "kind": "penalty_decision",
        "title": "某县市场监督管理局行政处罚决定书（某市监处罚〔2025〕12号）",
        "deadline": "2025-03-31",
        "disclosed_at": "2025-03-25T10:00:00+08:00",
        "url": "https://www.example.gov.cn/xxgk/xzcf/2025/12.html",
        "redactions": [
            {"field": "counterpart.contact", "method": "removed", "exemption": "personal_privacy"},
            {"field": "counterpart.legal_representative", "method": "masked", "exemption": "personal_privacy"},
        ],
        "display_until": "2026-03-25",
        "reviewed_by": None,
        "review_note": None,
        "deadline_estimated": False,
    },
    "guidance.DisclosureReviewRequested.v1": {
        "item_id": ITEM_ID,
        "department_id": DEPARTMENT_ID,
        "source_event_id": DECIDED_EVENT_ID,
        "subject_id": GUIDANCE_ID,
        "kind": "guidance",
        "title": "服务发展建议 某市监建议〔2025〕第003号：食品生产工艺改进建议",
        "deadline": "2025-04-02",
        "flags": [
            {"rule": "trade_secret_terms", "label": "涉及配方、工艺等可能的商业秘密", "exemption": "trade_secret"}
        ],
        "requested_at": "2025-03-05T10:31:00+08:00",
        "deadline_estimated": False,
    },
    "guidance.DisclosureWithheld.v1": {
        "item_id": ITEM_ID,
        "department_id": DEPARTMENT_ID,
        "source_event_id": DECIDED_EVENT_ID,
        "subject_id": GUIDANCE_ID,
        "kind": "guidance",
        "exemption": "trade_secret",
        "legal_basis": [DISCLOSURE_REGULATION_ART_15],
        "reason": "指导内容涉及企业产品配方，第三方不同意公开，且不公开不会对公共利益造成重大影响。",
        "decided_by": OFFICER_WANG,
        "decided_at": "2025-03-07T11:00:00+08:00",
        "deadline": "2025-04-02",
    },
    "guidance.DisclosureWithdrawn.v1": {
        "item_id": ITEM_ID,
        "department_id": DEPARTMENT_ID,
        "source_event_id": REVOKED_EVENT_ID,
        "reason": "原行政处罚决定已被撤销，依《中华人民共和国行政处罚法》第四十八条撤下公示。",
        "deadline": "2025-05-13",
        "at": "2025-05-11T09:00:00+08:00",
    },
    "guidance.DisclosureOverdue.v1": {
        "item_id": ITEM_ID,
        "department_id": DEPARTMENT_ID,
        "source_event_id": DECIDED_EVENT_ID,
        "kind": "penalty_decision",
        "deadline": "2025-03-31",
        "detected_at": "2025-04-01T00:05:00+08:00",
    },
    "guidance.DisclosureDeadlineRecomputed.v1": {
        "item_id": ITEM_ID,
        "department_id": DEPARTMENT_ID,
        "kind": "guidance",
        "previous_deadline": "2027-02-23",
        "deadline": "2027-02-24",
        "previously_estimated": True,
        "deadline_estimated": False,
        "calendar_version": CALENDAR_VERSION,
        "recomputed_at": "2026-12-22T08:30:00+08:00",
    },
    "guidance.DisclosureRequestReceived.v1": {
        "request_id": REQUEST_ID,
        "department_id": DEPARTMENT_ID,
        "applicant": PERSON,
        "description": "申请公开某县市场监督管理局2024年度食品安全领域行政指导工作台账。",
        "channel": "online",
        "received_on": "2025-04-01",
        "answer_due_on": "2025-04-29",
        "received_at": "2025-04-01T14:32:00+08:00",
        "deadline_estimated": False,
    },
    "guidance.DisclosureRequestAnswered.v1": {
        "request_id": REQUEST_ID,
        "department_id": DEPARTMENT_ID,
        "answer": "partially_disclosed",
        "exemption": "personal_privacy",
        "legal_basis": [
            DISCLOSURE_REGULATION_ART_15,
            {"instrument": "《中华人民共和国政府信息公开条例》", "article": "第三十七条"},
        ],
        "reply_doc_no": "某市监依复〔2025〕3号",
        "answered_on": "2025-04-25",
        "answered_at": "2025-04-25T17:00:00+08:00",
        "answer_due_on": "2025-05-29",
        "late": False,
        "working_days_late": 0,
    },
    "guidance.DisclosureRequestExtended.v1": {
        "request_id": REQUEST_ID,
        "department_id": DEPARTMENT_ID,
        "extension_working_days": 20,
        "answer_due_on": "2025-05-29",
        "approved_by": {"name": "陈国强", "badge_no": None, "officer_id": None},
        "reason": "申请内容涉及多个年度台账，需检索整理，经政府信息公开工作机构负责人同意延长答复期限。",
        "extended_at": "2025-04-24T10:00:00+08:00",
        "approved_on": "2025-04-24",
        "deadline_estimated": False,
    },
    "guidance.DisclosureRequestSupplementRequested.v1": {
        "request_id": REQUEST_ID,
        "department_id": DEPARTMENT_ID,
        "items": "请补充所需信息的文号或者形成时间，以便检索。",
        "notice_on": "2025-04-03",
        "notice_due_on": "2025-04-11",
        "supplement_by": "2025-04-18",
        "notified_by": {"name": "陈国强", "badge_no": None, "officer_id": None},
        "requested_at": "2025-04-03T09:30:00+08:00",
    },
    "guidance.DisclosureRequestSupplemented.v1": {
        "request_id": REQUEST_ID,
        "department_id": DEPARTMENT_ID,
        "supplemented_on": "2025-04-08",
        "answer_due_on": "2025-05-08",
        "recorded_at": "2025-04-08T10:15:00+08:00",
        "deadline_estimated": False,
    },
    "guidance.DisclosureRequestConsultationStarted.v1": {
        "request_id": REQUEST_ID,
        "department_id": DEPARTMENT_ID,
        "reason": "所需信息涉及第三方商业秘密，书面征求第三方意见。",
        "started_on": "2025-04-10",
        "reply_due_on": "2025-04-30",
        "started_at": "2025-04-10T11:00:00+08:00",
    },
    "guidance.DisclosureRequestConsultationEnded.v1": {
        "request_id": REQUEST_ID,
        "department_id": DEPARTMENT_ID,
        "ended_on": "2025-04-17",
        "paused_working_days": 5,
        "answer_due_on": "2025-05-15",
        "ended_at": "2025-04-17T16:00:00+08:00",
        "deadline_estimated": False,
    },
    "guidance.DisclosureRequestOverdue.v1": {
        "request_id": REQUEST_ID,
        "department_id": DEPARTMENT_ID,
        "answer_due_on": "2025-04-29",
        "detected_at": "2025-04-30T00:05:00+08:00",
    },
    "guidance.DisclosureRequestDeadlineRecomputed.v1": {
        "request_id": REQUEST_ID,
        "department_id": DEPARTMENT_ID,
        "previous_answer_due_on": "2027-02-23",
        "answer_due_on": "2027-02-24",
        "previously_estimated": True,
        "deadline_estimated": False,
        "calendar_version": CALENDAR_VERSION,
        "recomputed_at": "2026-12-22T08:30:00+08:00",
    },
}

_WEIGHTS = {
    "written_share": 10.0,
    "acceptance_rate": 10.0,
    "correction_on_time": 20.0,
    "revisit_coverage": 20.0,
    "disclosure_on_time": 20.0,
    "ledger_completeness": 10.0,
    "external_evaluation": 10.0,
}

_assessment: Mapping[str, Mapping[str, Any]] = {
    "guidance.AssessmentPeriodOpened.v1": {
        "period_id": PERIOD_ID,
        "year": 2025,
        "starts_on": "2025-01-01",
        "ends_on": "2025-12-31",
        "rubric": {"name": "某县2025年度推行行政指导工作考核方案", "version": "2025.1", "weights": _WEIGHTS},
        "department_ids": [DEPARTMENT_ID],
        "rubric_config": None,
        "opened_at": "2025-01-02T09:00:00+08:00",
    },
    "guidance.ScorecardPublished.v1": {
        "scorecard_id": SCORECARD_ID,
        "period_id": PERIOD_ID,
        "department_id": DEPARTMENT_ID,
        "indicators": {
            "written_share": {"value": 0.92, "score": 9.2, "numerator": 230, "denominator": 250},
            "acceptance_rate": {"value": 0.88, "score": 8.8, "numerator": 220, "denominator": 250},
            "correction_on_time": {"value": 0.95, "score": 19.0, "numerator": 57, "denominator": 60},
            "revisit_coverage": {"value": 1.0, "score": 20.0, "numerator": 12, "denominator": 12},
            "disclosure_on_time": {"value": 0.9, "score": 18.0, "numerator": 45, "denominator": 50},
            "ledger_completeness": {"value": 0.96, "score": 9.6, "numerator": 240, "denominator": 250},
            "external_evaluation": {"value": 0.85, "score": 8.5, "numerator": None, "denominator": None},
        },
        "score": 93.1,
        "rank": 2,
        "rubric_version": "2025.1",
        "published_at": "2026-01-20T10:00:00+08:00",
        "counted_sources": {"count": 3, "fingerprints": "NzMyUjZgLlpp9pprDoWE9rJx8F8UNb3i"},
    },
    "guidance.ExternalEvaluationRecorded.v1": {
        "period_id": PERIOD_ID,
        "department_id": DEPARTMENT_ID,
        "score": 85.0,
        "method": "测评卡（发放200份，回收186份）",
        "note": "县司法局组织的行政执法社会评议。",
        "recorded_at": "2025-12-20T15:00:00+08:00",
    },
    "guidance.RolloutDeliverableRecorded.v1": {
        "period_id": PERIOD_ID,
        "department_id": DEPARTMENT_ID,
        "deliverable": "plan_filed",
        "done_on": "2025-06-20",
        "evidence": "某市监〔2025〕36号《推行行政指导工作实施方案》",
        "recorded_at": "2025-06-21T10:00:00+08:00",
    },
    "guidance.ScorecardRevised.v1": {
        "scorecard_id": SCORECARD_ID,
        "period_id": PERIOD_ID,
        "department_id": DEPARTMENT_ID,
        "indicators": {
            "written_share": {"value": 0.92, "score": 9.2, "numerator": 230, "denominator": 250},
            "acceptance_rate": {"value": 0.88, "score": 8.8, "numerator": 220, "denominator": 250},
            "correction_on_time": {"value": 0.95, "score": 19.0, "numerator": 57, "denominator": 60},
            "revisit_coverage": {"value": 1.0, "score": 20.0, "numerator": 12, "denominator": 12},
            "disclosure_on_time": {"value": 0.8824, "score": 17.65, "numerator": 45, "denominator": 51},
            "ledger_completeness": {"value": 0.96, "score": 9.6, "numerator": 240, "denominator": 250},
            "external_evaluation": {"value": 0.85, "score": 8.5, "numerator": None, "denominator": None},
        },
        "score": 92.75,
        "rank": 2,
        "rubric_version": "2025.1",
        "published_at": "2026-02-03T10:00:00+08:00",
        "version": 2,
        "differences": [
            {
                "field": "indicators.disclosure_on_time",
                "before": {"value": 0.9, "score": 18.0, "numerator": 45, "denominator": 50},
                "after": {"value": 0.8824, "score": 17.65, "numerator": 45, "denominator": 51},
            },
            {"field": "score", "before": 93.1, "after": 92.75},
        ],
        "new_source_event_ids": ["b8a2f0c4-3e1d-5f6a-9b7c-2d4e6f8a0b1c"],
        "counted_sources": {"count": 4, "fingerprints": "NzMyUjZgLlpp9pprDoWE9nqRQtoJkBAFsnHwXxQ1veI="},
    },
}

# Copied one by one so no two examples share a nested dict; read-only: ``example`` gives a copy to change.
EXAMPLES: Mapping[str, Mapping[str, Any]] = {
    ce_type: copy.deepcopy(data) for ce_type, data in {**_intake, **_revisit, **_disclosure, **_assessment}.items()
}


def example(ce_type: str) -> dict[str, Any]:
    """A deep copy of the example of ``ce_type``, safe to modify."""
    return dict(copy.deepcopy(EXAMPLES[ce_type]))
