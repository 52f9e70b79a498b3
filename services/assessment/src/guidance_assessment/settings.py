"""assessment's own environment variables (the kernel's are ``guidance_shared.settings.Settings``).

GUIDANCE_ASSESSMENT_RUBRIC              the rubric YAML; the packaged ``data/rubric.yaml`` when unset
GUIDANCE_ASSESSMENT_DEPARTMENTS         a department registry (intake's format) for short names;
                                        GUIDANCE_DEPARTMENTS when unset, none when both are
GUIDANCE_ASSESSMENT_REVISE_INTERVAL_S   seconds between the worker's revision checks (300)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from guidance_shared.settings import env_float


@dataclass(frozen=True)
class AssessmentSettings:
    rubric: Path | None
    departments: Path | None
    revise_interval_s: float

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AssessmentSettings:
        rubric = env.get("GUIDANCE_ASSESSMENT_RUBRIC") or None
        departments = env.get("GUIDANCE_ASSESSMENT_DEPARTMENTS") or env.get("GUIDANCE_DEPARTMENTS") or None
        return cls(
            rubric=Path(rubric) if rubric else None,
            departments=Path(departments) if departments else None,
            revise_interval_s=env_float(env, "GUIDANCE_ASSESSMENT_REVISE_INTERVAL_S", 300.0),
        )
