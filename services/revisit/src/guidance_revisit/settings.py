"""revisit's own environment variables (the kernel's are in ``guidance_shared.settings``).

``GUIDANCE_REVISIT_POLICY``        YAML file of the scheduling policy per department (defaults when unset)
``GUIDANCE_OVERDUE_INTERVAL_S``    seconds between overdue checks (60)
``GUIDANCE_REMINDER_INTERVAL_S``   seconds between reminder-planning runs (86400: daily)
``GUIDANCE_REMINDER_*``            the peak-detection parameters of ``domain/reminders.py``:
                                   LOOKBACK_YEARS (3), K (1.5), MIN_CASES (3), MIN_YEARS (2),
                                   LEAD_DAYS (14), HORIZON_DAYS (90)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from guidance_shared.settings import env_float, env_int


@dataclass(frozen=True)
class RevisitSettings:
    policy_file: Path | None = None
    overdue_interval_s: float = 60.0
    reminder_interval_s: float = 86400.0
    reminder_lookback_years: int = 3
    reminder_k: float = 1.5
    reminder_min_cases: float = 3.0
    reminder_min_years: int = 2
    reminder_lead_days: int = 14
    reminder_horizon_days: int = 90

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RevisitSettings:
        """From ``env`` (the runtime's ``settings.env``); a malformed value is a SettingsError naming it."""
        d = cls()
        policy = env.get("GUIDANCE_REVISIT_POLICY")
        return cls(
            policy_file=Path(policy) if policy else None,
            overdue_interval_s=env_float(env, "GUIDANCE_OVERDUE_INTERVAL_S", d.overdue_interval_s),
            reminder_interval_s=env_float(env, "GUIDANCE_REMINDER_INTERVAL_S", d.reminder_interval_s),
            reminder_lookback_years=env_int(
                env, "GUIDANCE_REMINDER_LOOKBACK_YEARS", d.reminder_lookback_years, minimum=1
            ),
            reminder_k=env_float(env, "GUIDANCE_REMINDER_K", d.reminder_k),
            reminder_min_cases=env_float(env, "GUIDANCE_REMINDER_MIN_CASES", d.reminder_min_cases),
            reminder_min_years=env_int(env, "GUIDANCE_REMINDER_MIN_YEARS", d.reminder_min_years, minimum=1),
            reminder_lead_days=env_int(env, "GUIDANCE_REMINDER_LEAD_DAYS", d.reminder_lead_days, minimum=0),
            reminder_horizon_days=env_int(env, "GUIDANCE_REMINDER_HORIZON_DAYS", d.reminder_horizon_days, minimum=0),
        )
