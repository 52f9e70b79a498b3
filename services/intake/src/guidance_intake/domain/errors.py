"""intake's rule violations: each names the field and says, in Chinese and English, what the law requires."""

from __future__ import annotations

from guidance_shared.errors import FieldProblem, GuidanceError


def rule_broken(code: str, field: str, en: str, zh: str, *, status: int = 422) -> GuidanceError:
    """A command that breaks a rule of guidance or enforcement; 422 unless the state forbids it (409)."""
    return GuidanceError(
        code=code,
        title_en="Rule of administrative guidance not met" if status == 422 else "Not allowed in the current state",
        title_zh="不符合行政指导规则" if status == 422 else "当前状态不允许此操作",
        status=status,
        detail_en=en,
        detail_zh=zh,
        fields=[FieldProblem(field, en, zh)],
    )


def wrong_state(code: str, en: str, zh: str) -> GuidanceError:
    return rule_broken(code, "status", en, zh, status=409)
