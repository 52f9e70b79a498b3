"""intake's own environment variables; the kernel's (database, transport, ports …) are ``guidance_shared.settings``.

GUIDANCE_DEPARTMENTS      the department registry (YAML); unset: the county sample in the package
GUIDANCE_EXEMPTION_LISTS  the exemption list (免罚清单), YAML by its suffix (.yaml, .yml), else CSV; unset: the sample
GUIDANCE_PERSONAL_DATA_KEKS[_FILE]   the key-encryption keys of the persons' key store (docs/personal-data.md §8)
GUIDANCE_PERSONAL_DATA_KEK_CURRENT   the KEK new keys are wrapped under; unset: the last one listed
GUIDANCE_PSEUDONYM_KEY[_FILE]        the key of persons' pseudonyms, base64 of 32 random bytes
GUIDANCE_SEAL_PERSONAL_DATA          true: seal persons' fields in GuidanceIssued and CaseOpened (docs/personal-data.md
                                     §6); default true, false leaves new events clear. With it on and no keys
                                     configured, an embedded install makes its own under GUIDANCE_VAR_DIR/personal-data
                                     (``adapters.personal_fields``); any other refuses to start (``bootstrap``)
GUIDANCE_PERSONAL_DATA_RETENTION     the retention schedule of persons' data (YAML: record kind → Y or D<years>);
                                     unset: each record's archival retention (``domain.erasure``)
GUIDANCE_RETENTION_INTERVAL_S        how often the worker erases the persons whose every record is past its
                                     retention; default 86400 (daily), 0: never
GUIDANCE_FUTURE_TOLERANCE_MINUTES    how far past now (clock skew) a date a caller sends may lie; default 60
GUIDANCE_BACKDATED_AFTER_DAYS        an entry dated more than this many days before it is recorded is 补录; default 3

Key material is held in objects whose ``repr`` hides it, and this dataclass does not show them either: settings
may be printed or logged, keys never.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import yaml

from guidance_intake.domain.chronology import DEFAULT_BACKDATED_AFTER_DAYS, DEFAULT_FUTURE_TOLERANCE, DatePolicy
from guidance_intake.domain.erasure import RetentionSchedule, schedule_problems
from guidance_shared.personal_data.errors import KeyConfigurationError
from guidance_shared.personal_data.local_keks import LocalKeyEncryptionKeys, decode_key
from guidance_shared.personal_data.pseudonym import Pseudonyms
from guidance_shared.settings import SettingsError

KEKS = "GUIDANCE_PERSONAL_DATA_KEKS"
KEK_CURRENT = "GUIDANCE_PERSONAL_DATA_KEK_CURRENT"
SEAL = "GUIDANCE_SEAL_PERSONAL_DATA"
PSEUDONYM_KEY = "GUIDANCE_PSEUDONYM_KEY"
FUTURE_TOLERANCE = "GUIDANCE_FUTURE_TOLERANCE_MINUTES"
BACKDATED_AFTER = "GUIDANCE_BACKDATED_AFTER_DAYS"
RETENTION = "GUIDANCE_PERSONAL_DATA_RETENTION"
RETENTION_INTERVAL = "GUIDANCE_RETENTION_INTERVAL_S"
DEFAULT_RETENTION_INTERVAL_S = 24 * 3600
MAX_RETENTION_INTERVAL_S = 31 * 24 * 3600
#: Bounds that keep a typo from switching a rule off: a day of skew, a year before an entry counts as 补录.
MAX_FUTURE_TOLERANCE_MINUTES = 24 * 60
MAX_BACKDATED_AFTER_DAYS = 366


@dataclass(frozen=True)
class IntakeSettings:
    departments: Path | None = None
    exemption_lists: Path | None = None
    # None until configured: when sealing, an embedded install then makes its own (``bootstrap.sealing_keys``).
    keks: LocalKeyEncryptionKeys | None = field(default=None, repr=False, compare=False)
    pseudonyms: Pseudonyms | None = field(default=None, repr=False, compare=False)
    dates: DatePolicy = field(default_factory=DatePolicy)
    #: whether the command path seals persons' fields (GUIDANCE_SEAL_PERSONAL_DATA); on unless switched off
    seal: bool = True
    #: the kernel's transport is the embedded log: a development or single-machine install
    embedded: bool = True
    #: how long persons' data is kept, per record kind (GUIDANCE_PERSONAL_DATA_RETENTION)
    retention: RetentionSchedule = field(default_factory=RetentionSchedule)
    #: seconds between the worker's retention passes (GUIDANCE_RETENTION_INTERVAL_S); 0: none
    retention_interval_s: int = DEFAULT_RETENTION_INTERVAL_S

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> IntakeSettings:
        """Read from ``env`` (the mapping the kernel's settings came from); an empty value counts as unset."""
        return cls(
            departments=_path(env.get("GUIDANCE_DEPARTMENTS")),
            exemption_lists=_path(env.get("GUIDANCE_EXEMPTION_LISTS")),
            keks=_keks(env),
            pseudonyms=_pseudonyms(env),
            seal=_flag(env, SEAL, default=True),
            embedded=(env.get("GUIDANCE_TRANSPORT") or "embedded").strip().lower() == "embedded",
            retention=_retention(env.get(RETENTION) or None),
            retention_interval_s=_bounded(
                env, RETENTION_INTERVAL, DEFAULT_RETENTION_INTERVAL_S, MAX_RETENTION_INTERVAL_S
            ),
            dates=DatePolicy(
                future_tolerance=timedelta(
                    minutes=_bounded(
                        env,
                        FUTURE_TOLERANCE,
                        int(DEFAULT_FUTURE_TOLERANCE.total_seconds() // 60),
                        MAX_FUTURE_TOLERANCE_MINUTES,
                    )
                ),
                backdated_after_days=_bounded(
                    env, BACKDATED_AFTER, DEFAULT_BACKDATED_AFTER_DAYS, MAX_BACKDATED_AFTER_DAYS
                ),
            ),
        )


def _bounded(env: Mapping[str, str], name: str, default: int, most: int) -> int:
    """A whole number from 0 to ``most``; unset or empty: ``default``."""
    text = env.get(name) or ""
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number from 0 to {most}, not {text!r}") from None
    if not 0 <= value <= most:
        raise SettingsError(f"{name} must be a whole number from 0 to {most}, not {value}")
    return value


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    """``name`` as true or false; unset or empty: ``default``."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _retention(path: str | None) -> RetentionSchedule:
    """The schedule in the YAML file ``path`` names, over the defaults; unset: the defaults."""
    if path is None:
        return RetentionSchedule()
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{RETENTION}: cannot read {path} ({exc.strerror or exc})") from None
    except yaml.YAMLError:
        raise SettingsError(f"{RETENTION}: {path} is not YAML") from None
    if not isinstance(loaded, dict):
        raise SettingsError(f"{RETENTION}: {path} must map record kinds to periods")
    periods = {str(kind): str(period) for kind, period in loaded.items()}
    problems = schedule_problems(periods)
    if problems:
        raise SettingsError(f"{RETENTION}: {'; '.join(problems)}")
    return RetentionSchedule({**RetentionSchedule().periods, **periods})


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _keks(env: Mapping[str, str]) -> LocalKeyEncryptionKeys | None:
    text, current = _secret(env, KEKS), env.get(KEK_CURRENT) or None
    if text is None:
        if current is not None:
            raise SettingsError(f"{KEK_CURRENT} names a KEK, but {KEKS} and {KEKS}_FILE are unset")
        return None
    try:
        return LocalKeyEncryptionKeys.from_text(text, current)
    except KeyConfigurationError as error:  # its message names the entry, never the key
        raise SettingsError(f"{KEKS}: {error}") from None


def _pseudonyms(env: Mapping[str, str]) -> Pseudonyms | None:
    text = _secret(env, PSEUDONYM_KEY)
    if text is None:
        return None
    try:
        return Pseudonyms(decode_key(text, PSEUDONYM_KEY))
    except KeyConfigurationError as error:  # names the variable, never the value
        raise SettingsError(str(error)) from None


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """``name`` itself, or the whole file ``name``_FILE names (a mounted Secret); not both."""
    value, path = env.get(name) or None, env.get(f"{name}_FILE") or None
    if value is not None and path is not None:
        raise SettingsError(f"set {name} or {name}_FILE, not both")
    if path is None:
        return value
    try:
        content = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"{name}_FILE: cannot read {path} ({exc.strerror or exc})") from None
    if not content.strip():
        raise SettingsError(f"{name}_FILE: {path} is empty")
    return content
