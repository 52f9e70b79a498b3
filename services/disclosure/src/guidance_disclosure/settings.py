"""disclosure's own environment variables; the kernel's (database, transport, ports …) are ``guidance_shared.settings``.

Read once, from the mapping the kernel's ``Settings`` was read from (``runtime.settings.env``), so a
test that passes its own ``env`` configures disclosure with it too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from guidance_shared.personal_data.errors import KeyConfigurationError
from guidance_shared.personal_data.pseudonym import Pseudonyms
from guidance_shared.personal_data.settings import pseudonyms, secret
from guidance_shared.settings import SettingsError, env_float

PUBLICATION_RULES_VAR = "GUIDANCE_PUBLICATION_RULES"
PUBLIC_BASE_URL_VAR = "GUIDANCE_PUBLIC_BASE_URL"
OVERDUE_INTERVAL_VAR = "GUIDANCE_OVERDUE_INTERVAL_S"
RATE_LIMIT_VAR = "GUIDANCE_PUBLIC_RATE_LIMIT"
SCRUB_KEY_VAR = "GUIDANCE_SCRUB_KEY"
SCRUB_KEY_FILE_VAR = "GUIDANCE_SCRUB_KEY_FILE"
KEY_API_URL_VAR = "GUIDANCE_KEY_API_URL"
KEY_API_TOKEN_VAR = "GUIDANCE_KEY_API_TOKEN"
KEY_API_TOKEN_FILE_VAR = "GUIDANCE_KEY_API_TOKEN_FILE"
KEY_API_TIMEOUT_VAR = "GUIDANCE_KEY_API_TIMEOUT_S"
PSEUDONYM_KEY_VAR = "GUIDANCE_PSEUDONYM_KEY"
PSEUDONYM_KEY_FILE_VAR = "GUIDANCE_PSEUDONYM_KEY_FILE"
SEAL_VAR = "GUIDANCE_SEAL_PERSONAL_DATA"
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
    #: GUIDANCE_KEY_API_URL: intake's web, whose internal key API opens persons' sealed fields
    #: (docs/decisions/0007); None: a sealed event cannot be applied (it parks, docs/personal-data.md §6.1).
    key_api_url: str | None = None
    #: GUIDANCE_KEY_API_TOKEN: the service token (role pd-open) disclosure calls the key API with; never logged.
    key_api_token: str | None = field(default=None, repr=False)
    #: GUIDANCE_KEY_API_TOKEN_FILE: the same, from a file (a mounted Secret) read again at each use, so a token
    #: renewed in the Secret is used without a restart.
    key_api_token_file: Path | None = None
    #: GUIDANCE_KEY_API_TIMEOUT_S: seconds a call to the key API may take before it counts as unreachable.
    key_api_timeout_s: float = 5.0
    #: GUIDANCE_PSEUDONYM_KEY or GUIDANCE_PSEUDONYM_KEY_FILE: the key of persons' pseudonyms, intake's (§4 of
    #: docs/personal-data.md): checks that an opened ID number is the person the event names. Never logged.
    pseudonyms: Pseudonyms | None = field(default=None, repr=False, compare=False)
    #: GUIDANCE_SEAL_PERSONAL_DATA: whether requests' applicants are sealed (docs/personal-data.md §6). Unset: when
    #: the key API is configured (its address and token); true: the key API must be; false: never.
    seal_applicants: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DisclosureSettings:
        rules = env.get(PUBLICATION_RULES_VAR)
        url, token = key_api_url(env.get(KEY_API_URL_VAR)), key_api_token(env)
        token_file = env.get(KEY_API_TOKEN_FILE_VAR)
        pseudonym_key = _pseudonyms(env)
        return cls(
            publication_rules=Path(rules) if rules else None,
            public_base_url=env.get(PUBLIC_BASE_URL_VAR, "http://127.0.0.1:8003"),
            overdue_interval_s=env_float(env, OVERDUE_INTERVAL_VAR, 60.0),
            public_rate_limit=rate_limit(env.get(RATE_LIMIT_VAR)),
            scrub_key=scrub_key(env),
            key_api_url=url,
            key_api_token=token,
            key_api_token_file=Path(token_file) if token_file else None,
            key_api_timeout_s=env_float(env, KEY_API_TIMEOUT_VAR, 5.0),
            pseudonyms=pseudonym_key,
            seal_applicants=seal_applicants(
                env.get(SEAL_VAR), url is not None, bool(token or token_file), pseudonym_key is not None
            ),
        )


def seal_applicants(value: str | None, has_url: bool, has_token: bool, has_pseudonym_key: bool) -> bool:
    """Whether requests' applicants are sealed. Unset: exactly when the key API is configured; true: it must be;
    false: never. Sealing also needs the pseudonym key (the applicant's subject id). What is missing for sealing
    stops the process at start, naming the variable."""
    raw = (value or "").strip().lower()
    if raw in ("0", "false", "no"):
        return False
    if raw not in ("", "1", "true", "yes"):
        raise SettingsError(f"{SEAL_VAR} must be true or false, not {raw!r}")
    if not raw and not (has_url and has_token):
        return False
    missing = [
        name
        for name, present in (
            (KEY_API_URL_VAR, has_url),
            (f"{KEY_API_TOKEN_VAR} or {KEY_API_TOKEN_FILE_VAR}", has_token),
            (f"{PSEUDONYM_KEY_VAR} or {PSEUDONYM_KEY_FILE_VAR}", has_pseudonym_key),
        )
        if not present
    ]
    if missing:
        raise SettingsError(f"sealing requests' applicants ({SEAL_VAR}) needs {', '.join(missing)}")
    return True


def key_api_url(value: str | None) -> str | None:
    """intake's base address without a trailing slash; an address that is not http(s) fails at start-up."""
    if value is None or not value.strip():
        return None
    url = value.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"{KEY_API_URL_VAR} must be an http:// or https:// address, not {value!r}")
    return url


def key_api_token(env: Mapping[str, str]) -> str | None:
    """GUIDANCE_KEY_API_TOKEN; with GUIDANCE_KEY_API_TOKEN_FILE instead, the file must be readable at start-up
    (it is read again at each use, ``adapters/subject_keys.py``)."""
    try:
        token = secret(env, KEY_API_TOKEN_VAR)
    except KeyConfigurationError as error:
        raise SettingsError(str(error)) from None
    return None if env.get(KEY_API_TOKEN_FILE_VAR) else token


def _pseudonyms(env: Mapping[str, str]) -> Pseudonyms | None:
    try:
        return pseudonyms(env)
    except KeyConfigurationError as error:  # names the variable, never the value
        raise SettingsError(str(error)) from None


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
