"""The domain's closed vocabularies (docs/domain.md): one English code per concept, its Chinese term once.

Every service, event schema, page and error message takes its codes from here,
so one concept never gets two names and a code never means two things. Each
vocabulary is declared as an ordered ``code -> 中文`` mapping; the tuple of
codes is what validators use, ``LABELS_ZH`` is what pages and errors show.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# 行政管理相对人: who the guidance or the case is about.
_COUNTERPART_KINDS = {
    "enterprise": "企业",
    "individual_business": "个体工商户",
    "person": "自然人",
    "other_org": "其他组织",
}

# 指导内容 (docs/domain.md §3).
_CONTENT_TYPES = {
    "development_advice": "服务发展建议",
    "supervisory_admonition": "行政监管劝勉",
    "enforcement_reminder": "执法事项提示",
    "minor_issue_warning": "轻微问题警示",
    "violation_correction": "违法行为纠错",
    "major_case_revisit": "重大案件回访",
}

# 指导方式 (docs/domain.md §4).
_METHODS = {
    "policy_counselling": "政策辅导",
    "visit_interview": "走访约见",
    "persuasion_reminder": "规劝提示",
    "reward_incentive": "奖励引导",
    "demonstration": "示范推荐",
    "credit_disclosure": "信用公示",
    "information_release": "信息披露",
    "warning": "警告告诫",
    "case_revisit": "案件回访",
    "administrative_recommendation": "行政建议",
}

# 执法领域.
_DOMAINS = {
    "licensing": "行政许可",
    "penalty": "行政处罚",
    "coercion": "行政强制",
    "inspection": "行政检查",
    "other": "其他",
}

# 指导形式.
_FORMS = {
    "written": "书面",
    "oral": "口头",
    "phone": "电话",
    "sms": "短信",
    "on_site": "现场",
}

# 启动方式.
_INITIATED = {
    "own_initiative": "依职权",
    "on_application": "依申请",
}

# 相对人对指导的回应 (自愿原则).
_RESPONSES = {
    "accepted": "接受",
    "declined": "不接受",
    "no_response": "未回应",
}

# 处罚程序.
_PROCEDURES = {
    "simple": "简易程序",
    "ordinary": "普通程序",
}

# 案件处理决定 (行政处罚法第三十三条).
_DECISIONS = {
    "penalty": "行政处罚",
    "no_penalty_minor": "轻微不罚",
    "no_penalty_first": "首违不罚",
    "no_penalty_no_fault": "无过错不罚",
    "coercive_measure": "行政强制措施",
    "other": "其他",
}

# 行政处罚种类 (行政处罚法第九条). The penalty 警告 is ``formal_warning`` so it
# never shares a code with the guidance method ``warning`` 警告告诫.
_PENALTY_KINDS = {
    "formal_warning": "警告",
    "circulated_criticism": "通报批评",
    "fine": "罚款",
    "confiscation_of_gains": "没收违法所得",
    "confiscation_of_property": "没收非法财物",
    "licence_suspension": "暂扣许可证件",
    "qualification_downgrade": "降低资质等级",
    "licence_revocation": "吊销许可证件",
    "business_restriction": "限制开展生产经营活动",
    "business_suspension": "责令停产停业",
    "closure": "责令关闭",
    "practice_restriction": "限制从业",
    "detention": "行政拘留",
    "other": "其他",
}

# 行政强制措施种类 (行政强制法第九条).
_COERCIVE_MEASURES = {
    "restriction_of_liberty": "限制公民人身自由",
    "sealing": "查封场所、设施或者财物",
    "seizure": "扣押财物",
    "freezing": "冻结存款、汇款",
    "other": "其他",
}

# 法制审核结论 (行政处罚法第五十八条).
_LEGAL_REVIEW_CONCLUSIONS = {
    "approved": "同意",
    "approved_with_changes": "修改后同意",
    "rejected": "不同意",
}

# 结案方式.
_CASE_OUTCOMES = {
    "executed": "执行完毕",
    "not_penalised": "不予处罚",
    "revoked": "决定撤销",
    "terminated": "终结",
    "transferred": "移送",
}

# 身份证件类型.
_SUMMONED_ROLES = {
    "legal_representative": "法定代表人",
    "person_in_charge": "主要负责人",
}
_ID_TYPES = {
    "resident_id": "居民身份证",
    "passport": "护照",
    "hk_macao_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
    "foreign_permanent_residence": "外国人永久居留身份证",
    "other": "其他",
}

# 公开决定.
_DISCLOSURE_LEVELS = {
    "public": "公开",
    "withheld": "不予公开",
}

# 不予公开的理由 (政府信息公开条例第十四至十六条).
_EXEMPTIONS = {
    "state_secret": "国家秘密",
    "trade_secret": "商业秘密",
    "personal_privacy": "个人隐私",
    "minor": "未成年人",
    "case_file": "行政执法案卷信息",
}

# 回访类型.
_REVISIT_KINDS = {
    "case_revisit": "案件回访",
    "correction_check": "整改核查",
    "spot": "随机回访",
}

# 回访方式.
_REVISIT_METHODS = {
    "visit": "实地走访",
    "phone": "电话",
    "letter": "信函",
    "meeting": "座谈",
}

# 公开事项类别: decides the deadline (7 or 20 working days, docs/domain.md §6).
_DISCLOSURE_KINDS = {
    "guidance": "行政指导",
    "penalty_decision": "行政处罚决定",
    "licensing_decision": "行政许可决定",
    "other_decision": "其他执法决定",
    "revisit_result": "回访结果",
}

# 脱敏方式 (docs/domain.md §7: names masked 张*, ID numbers and contacts removed).
_REDACTION_METHODS = {
    "removed": "删除",
    "masked": "遮蔽",
}

# 依申请公开的申请渠道.
_REQUEST_CHANNELS = {
    "online": "网上申请",
    "letter": "信函",
    "in_person": "当面提交",
    "fax": "传真",
}

# 依申请公开的答复类型 (政府信息公开条例第三十六条).
_REQUEST_ANSWERS = {
    "disclosed": "予以公开",
    "partially_disclosed": "部分公开",
    "withheld": "不予公开",
    "already_public": "已主动公开",
    "not_held": "信息不存在",
    "not_competent": "非本机关负责公开",
    "repeated_request": "重复申请",
    "not_government_information": "不属于政府信息",
}

# 删除个人信息的法定情形 (个人信息保护法第四十七条): why a person's data was erased (PersonalDataErased).
_ERASURE_REASONS = {
    "purpose_achieved": "处理目的已实现或不再必要",  # art. 47 para. 1 item 1
    "retention_ended": "保存期限届满",  # item 2
    "consent_withdrawn": "撤回同意",  # item 3
    "unlawful_processing": "违法或违约处理",  # item 4
    "other_legal_ground": "法律法规规定的其他情形",  # item 5
    "request": "个人请求删除",  # the last sentence of para. 1: the person asks, the processor had not deleted
}
# Whose data keys an erasure deleted: a person by ID number, an individual business known by its credit code.
_ERASED_SUBJECT_KINDS = {"person": "自然人", "individual_business": "个体工商户"}

COUNTERPART_KINDS = tuple(_COUNTERPART_KINDS)
CONTENT_TYPES = tuple(_CONTENT_TYPES)
METHODS = tuple(_METHODS)
DOMAINS = tuple(_DOMAINS)
FORMS = tuple(_FORMS)
INITIATED = tuple(_INITIATED)
RESPONSES = tuple(_RESPONSES)
PROCEDURES = tuple(_PROCEDURES)
DECISIONS = tuple(_DECISIONS)
PENALTY_KINDS = tuple(_PENALTY_KINDS)
COERCIVE_MEASURES = tuple(_COERCIVE_MEASURES)
LEGAL_REVIEW_CONCLUSIONS = tuple(_LEGAL_REVIEW_CONCLUSIONS)
CASE_OUTCOMES = tuple(_CASE_OUTCOMES)
ID_TYPES = tuple(_ID_TYPES)
SUMMONED_ROLES = tuple(_SUMMONED_ROLES)
DISCLOSURE_LEVELS = tuple(_DISCLOSURE_LEVELS)
EXEMPTIONS = tuple(_EXEMPTIONS)
REVISIT_KINDS = tuple(_REVISIT_KINDS)
REVISIT_METHODS = tuple(_REVISIT_METHODS)
DISCLOSURE_KINDS = tuple(_DISCLOSURE_KINDS)
REDACTION_METHODS = tuple(_REDACTION_METHODS)
REQUEST_CHANNELS = tuple(_REQUEST_CHANNELS)
REQUEST_ANSWERS = tuple(_REQUEST_ANSWERS)
ERASURE_REASONS = tuple(_ERASURE_REASONS)
ERASED_SUBJECT_KINDS = tuple(_ERASED_SUBJECT_KINDS)

# Content types that order a correction, so a deadline and its verification follow.
CORRECTION_CONTENT_TYPES = ("minor_issue_warning", "violation_correction")

#: Each vocabulary by name, with its labels; for pages that list choices.
VOCABULARIES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        name: MappingProxyType(labels)
        for name, labels in {
            "counterpart_kinds": _COUNTERPART_KINDS,
            "content_types": _CONTENT_TYPES,
            "methods": _METHODS,
            "domains": _DOMAINS,
            "forms": _FORMS,
            "initiated": _INITIATED,
            "responses": _RESPONSES,
            "procedures": _PROCEDURES,
            "decisions": _DECISIONS,
            "penalty_kinds": _PENALTY_KINDS,
            "coercive_measures": _COERCIVE_MEASURES,
            "legal_review_conclusions": _LEGAL_REVIEW_CONCLUSIONS,
            "case_outcomes": _CASE_OUTCOMES,
            "id_types": _ID_TYPES,
            "summoned_roles": _SUMMONED_ROLES,
            "disclosure_levels": _DISCLOSURE_LEVELS,
            "exemptions": _EXEMPTIONS,
            "revisit_kinds": _REVISIT_KINDS,
            "revisit_methods": _REVISIT_METHODS,
            "disclosure_kinds": _DISCLOSURE_KINDS,
            "redaction_methods": _REDACTION_METHODS,
            "request_channels": _REQUEST_CHANNELS,
            "request_answers": _REQUEST_ANSWERS,
            "erasure_reasons": _ERASURE_REASONS,
            "erased_subject_kinds": _ERASED_SUBJECT_KINDS,
        }.items()
    }
)


def _merge_labels() -> dict[str, str]:
    """One flat table; a code shared by two vocabularies must mean the same thing in both."""
    merged: dict[str, str] = {}
    for labels in VOCABULARIES.values():
        for code, label in labels.items():
            if merged.setdefault(code, label) != label:
                raise ValueError(f"code {code!r} has two labels: {merged[code]!r} and {label!r}")
    return merged


#: Chinese label of every code, for pages and error messages.
LABELS_ZH: dict[str, str] = _merge_labels()


def label_zh(code: str) -> str:
    """The Chinese term for ``code``, or the code itself when it is not a vocabulary code."""
    return LABELS_ZH.get(code, code)
