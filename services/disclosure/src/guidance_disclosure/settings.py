"""disclosure's own environment variables; the kernel's (database, transport, ports …) are ``guidance_shared.settings``.

Read once, from the mapping the kernel's ``Settings`` was read from (``runtime.settings.env``), so a
test that passes its own ``env`` configures disclosure with it too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from guidance_shared.settings import env_float

PUBLICATION_RULES_VAR = "GUIDANCE_PUBLICATION_RULES"
PUBLIC_BASE_URL_VAR = "GUIDANCE_PUBLIC_BASE_URL"
OVERDUE_INTERVAL_VAR = "GUIDANCE_OVERDUE_INTERVAL_S"
RATE_LIMIT_VAR = "GUIDANCE_PUBLIC_RATE_LIMIT"
SCRUB_KEY_VAR = "GUIDANCE_SCRUB_KEY"
SCRUB_KEY_FILE_VAR = "GUIDANCE_SCRUB_KEY_FILE"
#: The shortest scrub key accepted: 32 characters (``openssl rand -hex 32`` gives 64).
SHORTEST_SCRUB_KEY = 32
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
    #: GUIDANCE_SCRUB_KEY or GUIDANCE_SCRUB_KEY_FILE: the key of ``case_person_names``' marks; None: the one
    #: ``adapters/files.py`` keeps under the var directory. Never logged (excluded from ``repr``).
    scrub_key: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DisclosureSettings:
        rules = env.get(PUBLICATION_RULES_VAR)
        return cls(
            publication_rules=Path(rules) if rules else None,
            public_base_url=env.get(PUBLIC_BASE_URL_VAR, "http://127.0.0.1:8003"),
            overdue_interval_s=env_float(env, OVERDUE_INTERVAL_VAR, 60.0),
            public_rate_limit=rate_limit(env.get(RATE_LIMIT_VAR)),
            scrub_key=scrub_key(env),
        )


def rate_limit(value: str | None) -> int:
    """The configured limit; an empty or missing value means the default, a bad one fails at start-up."""
    if value is None or not value.strip():
        return DEFAULT_RATE_LIMIT_PER_MINUTE
    limit = int(value)
    if limit < 0:
        raise ValueError(f"{RATE_LIMIT_VAR} must be 0 (off) or a positive number of requests per minute, not {value!r}")
    return limit


def scrub_key(env: Mapping[str, str]) -> bytes | None:
    """GUIDANCE_SCRUB_KEY, or the contents of the file GUIDANCE_SCRUB_KEY_FILE names (a mounted Secret; one
    trailing newline dropped), as UTF-8 bytes; None when neither is set. A key shorter than 32 characters
    fails at start-up, and so does setting both."""
    value, path = env.get(SCRUB_KEY_VAR) or None, env.get(SCRUB_KEY_FILE_VAR) or None
    if value is not None and path is not None:
        raise ValueError(f"set {SCRUB_KEY_VAR} or {SCRUB_KEY_FILE_VAR}, not both")
    if path is not None:
        try:
            value = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ValueError(f"{SCRUB_KEY_FILE_VAR}: cannot read {path} ({exc.strerror or exc})") from None
    if value is None:
        return None
    if len(value) < SHORTEST_SCRUB_KEY:
        raise ValueError(f"the scrub key must have at least {SHORTEST_SCRUB_KEY} characters")
    return value.encode("utf-8")


def scrub_key_of_this_process() -> tuple[bytes | None, Path]:
    """The scrub key and the var directory from this process's environment, for revision 0004: Alembic
    passes a revision no settings, and ``migrate`` runs with the service's environment."""
    return scrub_key(os.environ), Path(os.environ.get("GUIDANCE_VAR_DIR", "var"))
