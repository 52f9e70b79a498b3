"""Signing keys and tokens for tests of any service: a JWKS in a temp dir and ``token(...)`` to call with.

Use the ``auth_keys`` fixture (list ``"tests.support.auth"`` in the root
conftest's ``pytest_plugins``, or call ``AuthKeys.create(tmp_path)`` in a
local fixture) and point the service's settings at it::

    def test_officer_issues(auth_keys: AuthKeys) -> None:
        app = create_app(env={**base_env, **auth_keys.env()})
        client.post(..., headers=auth_keys.headers("officer-1", DEPT, ["officer"]))
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from guidance_shared.auth import AuthSettings, SigningKey, claims_for, jwks_document
from guidance_shared.auth.settings import DEFAULT_AUDIENCE, DEFAULT_ISSUER

DEPARTMENT = "0b6e7a3c-2f43-4c55-9a1e-6d1f7c0e0001"


@functools.cache
def shared_key(algorithm: str) -> SigningKey:
    """One key per algorithm per test session: RSA generation is slow and keys are immutable."""
    return SigningKey.generate(algorithm)


@dataclass
class AuthKeys:
    """An RS256 and an ES256 key published in ``<directory>/jwks.json``, and tokens signed with them."""

    directory: Path
    rsa: SigningKey
    ec: SigningKey
    issuer: str = DEFAULT_ISSUER
    audience: str = DEFAULT_AUDIENCE
    published: list[SigningKey] = field(default_factory=list)

    @classmethod
    def create(cls, directory: Path) -> AuthKeys:
        keys = cls(directory=directory, rsa=shared_key("RS256"), ec=shared_key("ES256"))
        keys.publish(keys.rsa, keys.ec)
        return keys

    @property
    def jwks_path(self) -> Path:
        return self.directory / "jwks.json"

    def env(self, **extra: str) -> dict[str, str]:
        """Variables that make ``AuthSettings.from_env`` trust exactly these keys."""
        return {
            "GUIDANCE_VAR_DIR": str(self.directory),
            "GUIDANCE_AUTH_JWKS": str(self.jwks_path),
            "GUIDANCE_AUTH_DEV_KEYS": "false",
            "GUIDANCE_AUTH_ISSUER": self.issuer,
            "GUIDANCE_AUTH_AUDIENCE": self.audience,
            **extra,
        }

    def settings(self, service: str = "test-svc", **extra: str) -> AuthSettings:
        return AuthSettings.from_env(service, self.env(**extra))

    def publish(self, *keys: SigningKey) -> None:
        """Replace the key set (rotation) and move its mtime forward so a watcher cannot miss the change."""
        self.directory.mkdir(parents=True, exist_ok=True)
        previous = self.jwks_path.stat().st_mtime_ns if self.jwks_path.exists() else 0
        self.jwks_path.write_text(json.dumps(jwks_document(*keys)), encoding="utf-8")
        stamp = max(previous + 1_000_000_000, self.jwks_path.stat().st_mtime_ns)
        os.utime(self.jwks_path, ns=(stamp, stamp))
        self.published = list(keys)

    def token(
        self,
        sub: str = "officer-1",
        department_id: str | None = DEPARTMENT,
        roles: Iterable[str] | str | None = ("officer",),
        *,
        key: SigningKey | None = None,
        ttl: timedelta = timedelta(hours=1),
        headers: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        """A token the services accept; ``overrides`` replace claims, and a ``None`` override removes one."""
        role_list = roles.split(",") if isinstance(roles, str) else list(roles or ())
        claims: dict[str, Any] = claims_for(
            settings=self.settings(), sub=sub, department_id=department_id or "", roles=role_list, ttl=ttl
        )
        claims.update({"department_id": department_id, "roles": None if roles is None else role_list, **overrides})
        return (key or self.rsa).sign({k: v for k, v in claims.items() if v is not None}, headers)

    def headers(self, *args: Any, **kwargs: Any) -> dict[str, str]:
        """``{"Authorization": "Bearer ..."}`` for :meth:`token`'s arguments."""
        return {"Authorization": f"Bearer {self.token(*args, **kwargs)}"}


@pytest.fixture
def auth_keys(tmp_path: Path) -> AuthKeys:
    return AuthKeys.create(tmp_path / "auth")
