"""The trusted public keys: a JWKS file watched for changes, or a JWKS URL fetched and cached.

Either source hands out the raw JWKS document; :func:`select_key` then picks
the key for one token, binding it to the token's (allow-listed) algorithm so a
key published for ES256 can never verify an RS256 token or the reverse.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from jwt import PyJWK, PyJWKClient
from jwt.exceptions import PyJWKClientError, PyJWTError

from guidance_shared.auth.errors import AuthUnavailable
from guidance_shared.auth.settings import AuthSettings
from guidance_shared.logging import get_logger
from guidance_shared.settings import SettingsError

Jwks = Mapping[str, Any]
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC"}
_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}

log = get_logger("guidance.auth")


class KeySource(Protocol):
    def jwks(self, *, refresh: bool = False) -> Jwks:
        """The current key set; ``refresh`` asks for a fresh copy because a token named an unknown kid."""
        ...


class JwksFile:
    """A JWKS file read at start and re-read whenever it changes, so keys rotate without a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp = _stamp(path)
        self._jwks = _parse(path.read_bytes(), str(path))

    def jwks(self, *, refresh: bool = False) -> Jwks:
        stamp = _stamp(self.path)
        if stamp != self._stamp:
            self._reload(stamp)
        return self._jwks

    def _reload(self, stamp: tuple[int, ...] | None) -> None:
        """Keep the last good key set if the new file is missing or half-written; the next change retries."""
        with self._lock:
            if stamp == self._stamp:
                return
            try:
                self._jwks = _parse(self.path.read_bytes(), str(self.path))
            except (OSError, SettingsError) as exc:
                log.warning("jwks_reload_failed", path=str(self.path), error=type(exc).__name__)
                return
            finally:
                self._stamp = stamp
            log.info("jwks_reloaded", path=str(self.path), keys=len(self._jwks.get("keys", [])))


class JwksUrl:
    """A JWKS endpoint, cached for ``jwks_cache_s``; an unknown kid forces a refetch at most every cooldown.

    PyJWKClient does the fetching (timeout, no redirects, http(s) only); the
    caching is ours so that a stale key set keeps serving while the IdP is down.
    """

    def __init__(self, url: str, *, cache_s: float, timeout_s: float, cooldown_s: float) -> None:
        self.url = url
        self._client = PyJWKClient(url, cache_jwk_set=False, timeout=timeout_s)
        self._cache_s = cache_s
        self._cooldown_s = cooldown_s
        self._lock = threading.Lock()
        self._jwks: Jwks | None = None
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")

    def jwks(self, *, refresh: bool = False) -> Jwks:
        with self._lock:
            now = time.monotonic()
            due = refresh or self._jwks is None or now - self._fetched_at >= self._cache_s
            # Attempts, failed ones too, wait for the cooldown: neither a dead IdP nor random kids hammer it.
            if due and now - self._attempted_at >= self._cooldown_s:
                self._fetch(now)
            if self._jwks is None:
                raise AuthUnavailable()
            return self._jwks

    def _fetch(self, now: float) -> None:
        self._attempted_at = now
        try:
            self._jwks = _validated(self._client.fetch_data(), self.url)
        except (PyJWKClientError, SettingsError, ValueError, OSError) as exc:
            log.warning("jwks_fetch_failed", url=self.url, error=type(exc).__name__, stale=self._jwks is not None)
            return
        self._fetched_at = now


def key_source(settings: AuthSettings) -> KeySource:
    """The configured source; a missing JWKS file is a start-up error that names the variable."""
    if settings.jwks_is_url:
        return JwksUrl(
            settings.jwks,
            cache_s=settings.jwks_cache_s,
            timeout_s=settings.jwks_timeout_s,
            cooldown_s=settings.jwks_refresh_cooldown_s,
        )
    path = settings.jwks_path
    if not path.is_file():
        raise SettingsError(
            f"GUIDANCE_AUTH_JWKS: no JWKS file at {path}; point GUIDANCE_AUTH_JWKS at the identity provider's key set "
            "(a file or an https URL), or set GUIDANCE_AUTH_DEV_KEYS=true for a development key pair"
        )
    return JwksFile(path)


def select_key(jwks: Jwks, kid: str | None, algorithm: str) -> PyJWK | None:
    """The one signing key for this kid and algorithm; without a kid only an unambiguous key qualifies."""
    candidates = [jwk for jwk in jwks.get("keys", []) if _fits(jwk, algorithm)]
    if kid is not None:
        candidates = [jwk for jwk in candidates if jwk.get("kid") == kid]
    if len(candidates) != 1:
        return None
    try:
        return PyJWK(candidates[0], algorithm=algorithm)
    except PyJWTError:
        return None


def _fits(jwk: Any, algorithm: str) -> bool:
    if not isinstance(jwk, Mapping) or jwk.get("use", "sig") != "sig":
        return False
    if jwk.get("alg") not in (None, algorithm) or jwk.get("kty") != _KEY_TYPES.get(algorithm[:2]):
        return False
    return algorithm not in _CURVES or jwk.get("crv") == _CURVES[algorithm]


def _stamp(path: Path) -> tuple[int, ...] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _parse(raw: bytes, where: str) -> Jwks:
    try:
        document = json.loads(raw)
    except ValueError:
        raise SettingsError(f"GUIDANCE_AUTH_JWKS: {where} is not valid JSON") from None
    return _validated(document, where)


def _validated(document: Any, where: str) -> Jwks:
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise SettingsError(f"GUIDANCE_AUTH_JWKS: {where} is not a JWKS (an object with a 'keys' list)")
    return document
