"""Token in, principal out: every check a bearer JWT must pass, each failure with its own reason."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jwt
from jwt import PyJWK
from jwt import exceptions as jwt_errors

from guidance_shared.auth import errors
from guidance_shared.auth.devkeys import ensure_dev_keys
from guidance_shared.auth.errors import Reason, Unauthenticated
from guidance_shared.auth.jwks import KeySource, key_source, select_key
from guidance_shared.auth.principal import ClaimError, Principal, principal_from_claims
from guidance_shared.auth.settings import AuthSettings
from guidance_shared.logging import get_logger

MAX_TOKEN_LENGTH = 8192
#: tokens whose verification is remembered; beyond it the memory starts afresh (a bound, not an eviction policy)
VERIFIED_TOKENS = 1024
REQUIRED_CLAIMS = ("sub", "iss", "aud", "exp", "iat", "department_id", "roles")

# Most specific first: several PyJWT errors subclass InvalidTokenError/DecodeError.
_DECODE_REASONS: tuple[tuple[type[Exception], Reason], ...] = (
    (jwt_errors.ExpiredSignatureError, errors.EXPIRED),
    (jwt_errors.ImmatureSignatureError, errors.NOT_YET_VALID),
    (jwt_errors.InvalidIssuerError, errors.WRONG_ISSUER),
    (jwt_errors.InvalidAudienceError, errors.WRONG_AUDIENCE),
    (jwt_errors.InvalidSignatureError, errors.BAD_SIGNATURE),
    (jwt_errors.InvalidAlgorithmError, errors.ALGORITHM),
)

log = get_logger("guidance.auth")


class TokenVerifier:
    """Checks signature, algorithm, issuer, audience and lifetime against the configured key set."""

    def __init__(self, settings: AuthSettings, keys: KeySource, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.keys = keys
        self._clock = clock
        self._verified: dict[str, _Verified] = {}

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> TokenVerifier:
        """Start-up: make the development keys if allowed, then load the key set (a missing file fails here)."""
        if settings.dev_keys:
            key = ensure_dev_keys(settings)
            log.info("auth_dev_keys_in_use", jwks=str(settings.jwks_path), kid=key.kid)
        return cls(settings, key_source(settings))

    def verify(self, token: str) -> Principal:
        """The token's principal. A token verified before is answered from memory while the key set is the same
        object it was verified against (a rotated or re-read key set starts afresh, so a withdrawn key stops
        its tokens at once) and until its expiry plus the leeway, as a fresh check would. A client sends the
        same token with every request, and its signature check (RSA, ECDSA) was a tenth of a command's CPU."""
        keys = self.keys.jwks()
        remembered = self._verified.get(token)
        if remembered is not None and remembered.keys is keys and self._clock() < remembered.until:
            return remembered.principal
        principal, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.clear()
        self._verified[token] = _Verified(principal, keys, expires + self.settings.leeway_s)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        header = _header(token)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.settings.algorithms:
            raise self._refused(errors.ALGORITHM)
        kid = header.get("kid")
        key = self._key(kid if isinstance(kid, str) else None, algorithm)
        claims = self._decode(token, key, algorithm)
        try:
            return principal_from_claims(claims), float(claims["exp"])
        except ClaimError as exc:
            raise Unauthenticated(
                errors.INVALID_CLAIM, claim=exc.claim, problem_en=exc.problem_en, problem_zh=exc.problem_zh
            ) from None

    def _key(self, kid: str | None, algorithm: str) -> PyJWK:
        """Look the key up; an unknown kid may mean the keys rotated, so ask the source once more."""
        key = select_key(self.keys.jwks(), kid, algorithm)
        if key is None:
            key = select_key(self.keys.jwks(refresh=True), kid, algorithm)
        if key is None:
            raise Unauthenticated(errors.UNKNOWN_KEY)
        return key

    def _decode(self, token: str, key: PyJWK, algorithm: str) -> Mapping[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_s,
                options={"require": list(REQUIRED_CLAIMS), "verify_nbf": True, "verify_iat": True},
            )
        except jwt_errors.MissingRequiredClaimError as exc:
            raise Unauthenticated(errors.MISSING_CLAIM, claim=exc.claim) from None
        except jwt_errors.PyJWTError as exc:
            raise self._refused(_reason(exc)) from None

    def _refused(self, reason: Reason) -> Unauthenticated:
        return Unauthenticated(
            reason,
            accepted=", ".join(self.settings.algorithms),
            issuer=self.settings.issuer,
            audience=self.settings.audience,
        )


class _Verified(NamedTuple):
    principal: Principal
    keys: object  # the key set it was verified against, compared by identity
    until: float  # epoch seconds: its expiry plus the leeway


def _header(token: str) -> Mapping[str, Any]:
    if len(token) > MAX_TOKEN_LENGTH:
        raise Unauthenticated(errors.MALFORMED_TOKEN)
    try:
        return jwt.get_unverified_header(token)
    except jwt_errors.PyJWTError:
        raise Unauthenticated(errors.MALFORMED_TOKEN) from None


def _reason(exc: Exception) -> Reason:
    for kind, reason in _DECODE_REASONS:
        if isinstance(exc, kind):
            return reason
    return errors.MALFORMED_TOKEN
