"""disclosure's own environment variables; the kernel's (database, transport, ports …) are ``guidance_shared.settings``.

Read once, from the mapping the kernel's ``Settings`` was read from (``runtime.settings.env``), so a
test that passes its own ``env`` configures disclosure with it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from guidance_shared.settings import env_float

PUBLICATION_RULES_VAR = "GUIDANCE_PUBLICATION_RULES"
PUBLIC_BASE_URL_VAR = "GUIDANCE_PUBLIC_BASE_URL"
OVERDUE_INTERVAL_VAR = "GUIDANCE_OVERDUE_INTERVAL_S"
RATE_LIMIT_VAR = "GUIDANCE_PUBLIC_RATE_LIMIT"
DEFAULT_RATE_LIMIT_PER_MINUTE = 60


@dataclass(frozen=True)
class DisclosureSettings:
    #: GUIDANCE_PUBLICATION_RULES: a publication rules file instead of the packaged ``config/publication.yaml``.
    publication_rules: Path | None = None
    #: GUIDANCE_PUBLIC_BASE_URL: where the public pages are served; items' URLs start with it.
    public_base_url: str = "http://127.0.0.1:8003"
    #: GUIDANCE_OVERDUE_INTERVAL_S: seconds between the worker's overdue checks.
    overdue_interval_s: float = 60.0
    #: GUIDANCE_PUBLIC_RATE_LIMIT: requests per minute per client on ``/public/`` (0 = off).
    public_rate_limit: int = DEFAULT_RATE_LIMIT_PER_MINUTE

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DisclosureSettings:
        rules = env.get(PUBLICATION_RULES_VAR)
        return cls(
            publication_rules=Path(rules) if rules else None,
            public_base_url=env.get(PUBLIC_BASE_URL_VAR, "http://127.0.0.1:8003"),
            overdue_interval_s=env_float(env, OVERDUE_INTERVAL_VAR, 60.0),
            public_rate_limit=rate_limit(env.get(RATE_LIMIT_VAR)),
        )


def rate_limit(value: str | None) -> int:
    """The configured limit; an empty or missing value means the default, a bad one fails at start-up."""
    if value is None or not value.strip():
        return DEFAULT_RATE_LIMIT_PER_MINUTE
    limit = int(value)
    if limit < 0:
        raise ValueError(f"{RATE_LIMIT_VAR} must be 0 (off) or a positive number of requests per minute, not {value!r}")
    return limit
