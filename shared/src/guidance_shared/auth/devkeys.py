"""Development keys and tokens: an embedded install works out of the box, and tests sign their own tokens.

The private key never leaves ``<var>/auth/`` (mode 0600); services only ever
read the public ``jwks.json`` beside it, exactly as they would read an
identity provider's key set in production.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NotRequired, Required, TypedDict

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from guidance_shared.auth.settings import AuthSettings
from guidance_shared.files import locked, write_atomic
from guidance_shared.settings import SettingsError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}


class PublicJwk(TypedDict, total=False):
    """A public signing key as RFC 7517 writes it (EC: crv, x, y; RSA: n, e), with kid, alg and use."""

    kty: Required[str]
    crv: str
    x: str
    y: str
    key_ops: list[str]  # RSA keys, as PyJWT writes them
    n: str
    e: str
    kid: Required[str]
    alg: Required[str]
    use: Required[str]


class JwksDocument(TypedDict):
    """A JWK Set (RFC 7517 §5), as the development key set is written to disk."""

    keys: list[PublicJwk]


class Claims(TypedDict):
    """The claims ``TokenVerifier`` requires of a token, and the two it reads when present."""

    iss: str
    aud: str
    sub: str
    department_id: str
    roles: list[str]
    iat: int
    exp: int
    departments: NotRequired[list[str]]
    name: NotRequired[str]


@dataclass(frozen=True)
class SigningKey:
    """A private key with the algorithm and kid its tokens carry; the kid is the RFC 7638 thumbprint."""

    private_key: PrivateKey
    algorithm: str

    @classmethod
    def generate(cls, algorithm: str = "ES256") -> SigningKey:
        if algorithm == "ES256":
            return cls(ec.generate_private_key(ec.SECP256R1()), algorithm)
        if algorithm == "RS256":
            return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm)
        raise ValueError(f"development keys are ES256 or RS256, not {algorithm}")

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return cls(key, "ES256")
        if isinstance(key, rsa.RSAPrivateKey):
            return cls(key, "RS256")
        raise ValueError("the development key must be an EC P-256 or RSA private key")

    def pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwk(self) -> PublicJwk:
        """The public half as a JWK, with kid, alg and use."""
        public = self.private_key.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            members = ECAlgorithm.to_jwk(public, as_dict=True)
            kid = thumbprint(members)
            return {
                "kty": members["kty"],
                "crv": members["crv"],
                "x": members["x"],
                "y": members["y"],
                "kid": kid,
                "alg": self.algorithm,
                "use": "sig",
            }
        members = RSAAlgorithm.to_jwk(public, as_dict=True)
        kid = thumbprint(members)
        return {
            "kty": members["kty"],
            "key_ops": members["key_ops"],
            "n": members["n"],
            "e": members["e"],
            "kid": kid,
            "alg": self.algorithm,
            "use": "sig",
        }

    @property
    def kid(self) -> str:
        return str(self.jwk()["kid"])

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str:
        return jwt.encode(
            dict(claims), self.private_key, algorithm=self.algorithm, headers={"kid": self.kid, **(headers or {})}
        )


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638: sha256 over the required members in lexicographic order, base64url without padding."""
    members = _THUMBPRINT_MEMBERS[str(jwk["kty"])]
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def jwks_document(*keys: SigningKey) -> JwksDocument:
    return {"keys": [key.jwk() for key in keys]}


def claims_for(
    *,
    settings: AuthSettings,
    sub: str,
    department_id: str,
    roles: Sequence[str],
    departments: Sequence[str] = (),
    name: str | None = None,
    ttl: timedelta = timedelta(hours=8),
    now: datetime | None = None,
) -> Claims:
    """The claims a service expects, for the configured issuer and audience."""
    issued = now or datetime.now(UTC)
    claims: Claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": sub,
        "department_id": department_id,
        "roles": list(roles),
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    if departments:
        claims["departments"] = list(departments)
    if name is not None:
        claims["name"] = name
    return claims


def ensure_dev_keys(settings: AuthSettings) -> SigningKey:
    """Make (once) the development key pair; safe when several workers start at the same moment."""
    auth_dir = settings.dev_key_path.parent
    auth_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with locked(auth_dir / ".dev-keys.lock"):
        key = _load_or_create_private(settings)
        jwks_path = settings.jwks_path
        if not jwks_path.exists():
            write_atomic(jwks_path, (json.dumps(jwks_document(key), indent=2) + "\n").encode(), mode=0o644)
        return key


def load_dev_key(settings: AuthSettings) -> SigningKey:
    path = settings.dev_key_path
    try:
        return SigningKey.from_pem(path.read_bytes())
    except FileNotFoundError:
        raise SettingsError(f"no development signing key at {path}; run `guidance auth keys` first") from None


def _load_or_create_private(settings: AuthSettings) -> SigningKey:
    path = settings.dev_key_path
    if path.exists():
        return load_dev_key(settings)
    if settings.jwks_path.exists():
        raise SettingsError(
            f"GUIDANCE_AUTH_JWKS: {settings.jwks_path} exists but no development key does; it is not a development "
            "key set, so it is left alone (remove it, or set GUIDANCE_AUTH_DEV_KEYS=false)"
        )
    key = SigningKey.generate("ES256")
    write_atomic(path, key.pem(), mode=0o600)
    return key
