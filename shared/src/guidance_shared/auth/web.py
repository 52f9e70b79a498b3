"""Flask side of authentication: ``@requires(...)`` on every non-public view, and the department check.

Stacking on a flask-smorest ``MethodView`` method: ``@requires`` goes on top,
so an unauthenticated caller learns nothing from argument validation, and
above ``@idempotent``, which reads the ``g.idempotency_scope`` set here::

    @requires("officer")
    @blp.arguments(IssueGuidanceRequest)
    @idempotent
    @blp.response(201, GuidanceView)
    def post(self, data): ...
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from copy import deepcopy
from typing import Any, TypeVar

import structlog
from flask import Flask, Response, current_app, g, has_request_context, request
from flask_smorest import Api

from guidance_shared.auth import errors
from guidance_shared.auth.errors import ChallengeError, ForbiddenDepartment, ForbiddenRole, Unauthenticated
from guidance_shared.auth.principal import KNOWN_ROLES, ROLES, Principal
from guidance_shared.auth.settings import AuthSettings
from guidance_shared.auth.verifier import TokenVerifier
from guidance_shared.errors import GuidanceError, NotFound
from guidance_shared.logging import bind_context, get_logger
from guidance_shared.web.problems import http_error, problem_response

SECURITY_SCHEME = "bearerAuth"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*) *", re.IGNORECASE)

View = TypeVar("View", bound=Callable[..., Any])

log = get_logger("guidance.auth")


def install_auth(app: Flask, settings: AuthSettings, api: Api | None = None) -> TokenVerifier:
    """Load the key set (failing start-up if it is missing) and document the bearer scheme on every Api."""
    verifier = TokenVerifier.from_settings(settings)
    app.extensions.setdefault("guidance", {})["auth"] = verifier
    app.register_error_handler(ChallengeError, _handle_challenge)
    app.teardown_request(_forget_principal)
    for each in [api] if api is not None else _apis(app):
        _document_scheme(each)
    return verifier


def requires(*roles: str) -> Callable[[View], View]:
    """Authenticate the bearer token and require one of ``roles`` (none given: any person's role, never a
    service's)."""
    unknown = sorted(set(roles) - set(KNOWN_ROLES))
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(KNOWN_ROLES)}")
    required = frozenset(roles or ROLES)

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if not principal.has_role(*required):
                log.info("authorisation_refused", required_roles=sorted(required))
                raise ForbiddenRole(required, principal.roles)
            return view(*args, **kwargs)

        _document_operation(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorator


def authenticate() -> Principal:
    """The request's principal, verifying the bearer token on first use."""
    principal = g.get("principal")
    if principal is None:
        principal = _verifier().verify(_bearer_token())
        g.principal = principal
        g.idempotency_scope = principal.idempotency_scope
        g.auth_log_tokens = bind_context(**principal.log_context())
    return principal


def current_principal() -> Principal:
    """The caller of the running ``@requires`` view."""
    principal = g.get("principal") if has_request_context() else None
    if principal is None:
        raise RuntimeError("current_principal() is only available inside a view decorated with @requires")
    return principal


Owned = TypeVar("Owned")


def load_own(load: Callable[[], Owned], missing: NotFound) -> Owned:
    """``load()`` (an aggregate with a ``department_id``) if the caller may see its department.

    One that does not exist and one of another department both answer ``missing``, on a read as on
    a write, so the two cannot be told apart (see ``ensure_department``)."""
    try:
        found = load()
    except NotFound:
        raise missing from None
    ensure_department(found.department_id, not_found=missing)  # type: ignore[attr-defined]
    return found


def ensure_department(department_id: str | uuid.UUID, *, not_found: GuidanceError | None = None) -> None:
    """Refuse a record of a department the caller may not access.

    A record of another department does not exist for the caller, whatever the verb: pass the view's
    own ``NotFound`` as ``not_found`` and a read, a change or a delete of it answers exactly as a
    missing one would, so a leaked or guessed id does not confirm that another county holds a case
    about someone. Without ``not_found`` the department was named by the caller for something new
    (a create in the body): there is no record to hide, and the answer is 403
    ``forbidden-department``, which never names the other department.
    """
    principal = current_principal()
    if principal.may_access(department_id):
        return
    log.info("department_refused", method=request.method)
    if not_found is not None:
        raise not_found
    if request.method in SAFE_METHODS:
        raise http_error(404)
    raise ForbiddenDepartment()


def _verifier() -> TokenVerifier:
    verifier = current_app.extensions.get("guidance", {}).get("auth")
    if verifier is None:
        raise RuntimeError("@requires needs install_auth(app, AuthSettings.from_env(...)) in create_app")
    return verifier


def _bearer_token() -> str:
    header = request.headers.get("Authorization")
    if header is None or not header.strip():
        raise Unauthenticated(errors.MISSING)
    match = _BEARER.fullmatch(header)
    if match is None:
        raise Unauthenticated(errors.MALFORMED_HEADER)
    return match.group(1)


def _handle_challenge(error: ChallengeError) -> Response:
    if isinstance(error, Unauthenticated):
        log.info("authentication_failed", reason=error.reason.code)
    return problem_response(error, {"WWW-Authenticate": error.challenge})


def _forget_principal(_exc: BaseException | None) -> None:
    tokens = g.pop("auth_log_tokens", None)
    if tokens:
        structlog.contextvars.reset_contextvars(**tokens)


def _apis(app: Flask) -> list[Api]:
    registered = app.extensions.get("flask-smorest", {}).get("apis", {})
    return [entry["ext_obj"] for entry in registered.values()]


def _document_scheme(api: Api) -> None:
    if SECURITY_SCHEME in api.spec.components.security_schemes:
        return
    api.spec.components.security_scheme(
        SECURITY_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "RS256/ES256 JWT from the configured issuer; claims sub, department_id, optional departments, "
                f"roles ({', '.join(ROLES)}). 访问令牌须包含部门与角色。"
            ),
        },
    )


def _document_operation(wrapper: Any) -> None:
    """Mark the operation as needing the bearer token, with its 401 and 403, next to flask-smorest's own docs."""
    wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    manual = wrapper._apidoc.setdefault("manual_doc", {})
    manual["security"] = [{SECURITY_SCHEME: []}]
    responses = wrapper._apidoc.setdefault("response", {}).setdefault("responses", {})
    for status, name in ((401, "UNAUTHORIZED"), (403, "FORBIDDEN")):
        if not responses.get(status):
            responses[status] = [name]
