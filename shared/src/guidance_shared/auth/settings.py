"""Where trust comes from: issuer, audience, the key set and the accepted algorithms, all from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from guidance_shared.settings import SettingsError

# Only asymmetric algorithms: a service holds public keys only, so it can never mint a token itself.
ACCEPTABLE_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
DEFAULT_ISSUER = "guidance-suite-dev"
DEFAULT_AUDIENCE = "guidance-suite"
DEV_KEY_FILE = "dev-signing-key.pem"
JWKS_FILE = "jwks.json"


@dataclass(frozen=True)
class AuthSettings:
    service: str
    issuer: str
    audience: str
    jwks: str  # a file path or an http(s) URL
    algorithms: tuple[str, ...]
    leeway_s: int
    dev_keys: bool
    var_dir: Path
    jwks_cache_s: float = 300.0
    jwks_timeout_s: float = 3.0
    # A token with an unknown kid may force a refetch, but not more often than this (no amplification).
    jwks_refresh_cooldown_s: float = 10.0

    @classmethod
    def from_env(
        cls, service: str, env: Mapping[str, str] | None = None, *, var_dir: str | None = None
    ) -> AuthSettings:
        """From ``env`` (the process environment if None); ``var_dir`` overrides ``GUIDANCE_VAR_DIR``."""
        env = os.environ if env is None else env
        var_dir_path = Path(var_dir or env.get("GUIDANCE_VAR_DIR", "var"))
        jwks = env.get("GUIDANCE_AUTH_JWKS") or str(var_dir_path / "auth" / JWKS_FILE)
        return cls(
            service=service,
            issuer=env.get("GUIDANCE_AUTH_ISSUER") or DEFAULT_ISSUER,
            audience=env.get("GUIDANCE_AUTH_AUDIENCE") or DEFAULT_AUDIENCE,
            jwks=jwks,
            algorithms=_algorithms(env.get("GUIDANCE_AUTH_ALGORITHMS") or "RS256,ES256"),
            leeway_s=_leeway(env.get("GUIDANCE_AUTH_LEEWAY_S") or "30"),
            dev_keys=_dev_keys(env, jwks),
            var_dir=var_dir_path,
        )

    @property
    def jwks_is_url(self) -> bool:
        return _is_url(self.jwks)

    @property
    def jwks_path(self) -> Path:
        if self.jwks_is_url:
            raise SettingsError(f"GUIDANCE_AUTH_JWKS is a URL ({self.jwks}), not a file")
        return Path(self.jwks)

    @property
    def dev_key_path(self) -> Path:
        """The development private key; never used when the keys come from an identity provider."""
        return self.var_dir / "auth" / DEV_KEY_FILE


def _is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _algorithms(raw: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip().upper() for part in raw.split(",") if part.strip()))
    refused = [name for name in names if name not in ACCEPTABLE_ALGORITHMS]
    if refused or not names:
        allowed, given = ", ".join(sorted(ACCEPTABLE_ALGORITHMS)), ", ".join(refused) or repr(raw)
        raise SettingsError(f"GUIDANCE_AUTH_ALGORITHMS may list only asymmetric algorithms ({allowed}), not {given}")
    return names


def _leeway(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"GUIDANCE_AUTH_LEEWAY_S must be an integer number of seconds, not {raw!r}") from None
    if not 0 <= value <= 300:
        raise SettingsError(f"GUIDANCE_AUTH_LEEWAY_S must be between 0 and 300, not {value}")
    return value


def _dev_keys(env: Mapping[str, str], jwks: str) -> bool:
    """Explicit setting wins; by default only an embedded (development) install without a key set gets dev keys."""
    raw = env.get("GUIDANCE_AUTH_DEV_KEYS", "").strip().lower()
    if raw in ("1", "true", "yes"):
        if _is_url(jwks):
            raise SettingsError("GUIDANCE_AUTH_DEV_KEYS=true needs GUIDANCE_AUTH_JWKS to be a file, not a URL")
        return True
    if raw in ("0", "false", "no"):
        return False
    if raw:
        raise SettingsError(f"GUIDANCE_AUTH_DEV_KEYS must be true or false, not {raw!r}")
    embedded = env.get("GUIDANCE_TRANSPORT", "embedded").strip().lower() == "embedded"
    return embedded and not _is_url(jwks) and not Path(jwks).exists()
