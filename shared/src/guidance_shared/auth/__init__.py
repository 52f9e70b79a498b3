"""Authentication and authorisation for every non-public endpoint: bearer JWTs, roles, department scope.

A service wires it once in ``create_app``::

    install_auth(app, AuthSettings.from_env("intake"))

and marks each view with ``@requires("officer", ...)``; a view that loads a
record calls ``ensure_department(record.department_id, not_found=...)``, or
``load_own(load, NotFound(...))`` for an aggregate.
Tokens are RS256/ES256 JWTs from the configured issuer, checked against a
JWKS file or URL. An embedded (development) install gets a generated key pair
under ``<var>/auth/`` and ``guidance auth mint`` to sign tokens with it.
"""

from guidance_shared.auth.cli import main
from guidance_shared.auth.devkeys import SigningKey, claims_for, ensure_dev_keys, jwks_document
from guidance_shared.auth.errors import AuthUnavailable, ForbiddenDepartment, ForbiddenRole, Unauthenticated
from guidance_shared.auth.principal import (
    ADMIN,
    ARCHIVIST,
    AUDITOR,
    KNOWN_ROLES,
    OFFICER,
    PD_OPEN,
    PD_SEAL,
    READERS,
    REVIEWER,
    ROLES,
    SERVICE_ROLES,
    SUPERVISOR,
    Principal,
)
from guidance_shared.auth.settings import AuthSettings
from guidance_shared.auth.verifier import TokenVerifier
from guidance_shared.auth.web import (
    SECURITY_SCHEME,
    authenticate,
    current_principal,
    ensure_department,
    install_auth,
    load_own,
    requires,
)

__all__ = [
    "ADMIN",
    "ARCHIVIST",
    "AUDITOR",
    "KNOWN_ROLES",
    "OFFICER",
    "PD_OPEN",
    "PD_SEAL",
    "READERS",
    "REVIEWER",
    "ROLES",
    "SECURITY_SCHEME",
    "SERVICE_ROLES",
    "SUPERVISOR",
    "AuthSettings",
    "AuthUnavailable",
    "ForbiddenDepartment",
    "ForbiddenRole",
    "Principal",
    "SigningKey",
    "TokenVerifier",
    "Unauthenticated",
    "authenticate",
    "claims_for",
    "current_principal",
    "ensure_department",
    "ensure_dev_keys",
    "install_auth",
    "jwks_document",
    "load_own",
    "main",
    "requires",
]
