"""Who is calling: the verified subject, their departments and roles, and what that lets them touch."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OFFICER = "officer"  # 经办人员
REVIEWER = "reviewer"  # 审核人员
SUPERVISOR = "supervisor"  # 监督人员
AUDITOR = "auditor"  # 审计人员
ADMIN = "admin"  # 系统管理员
ARCHIVIST = "archivist"  # 档案管理人员
ROLES = (OFFICER, REVIEWER, SUPERVISOR, AUDITOR, ADMIN, ARCHIVIST)
READERS = ROLES  # every role may read its own departments' records
# Service principals' roles (docs/decisions/0007): obtaining persons' data keys from intake's key API. They
# are not in ROLES, so no endpoint that admits "any role" admits a service, and no person's role implies them.
PD_SEAL = "pd-seal"  # a key to seal a person's fields under (intake itself, disclosure for its applicants)
PD_OPEN = "pd-open"  # a key to open a person's sealed fields (disclosure, to scrub what it publishes)
SERVICE_ROLES = (PD_SEAL, PD_OPEN)
KNOWN_ROLES = ROLES + SERVICE_ROLES
ROLE_NAMES_ZH = {
    OFFICER: "经办人员",
    REVIEWER: "审核人员",
    SUPERVISOR: "监督人员",
    AUDITOR: "审计人员",
    ADMIN: "系统管理员",
    ARCHIVIST: "档案管理人员",
}

_SCOPE_LIMIT = 200  # idempotency_keys.scope is String(200)


class ClaimError(ValueError):
    """A verified token whose claims do not describe a usable principal; names the claim, never its value."""

    def __init__(self, claim: str, problem_en: str, problem_zh: str) -> None:
        super().__init__(f"{claim}: {problem_en}")
        self.claim = claim
        self.problem_en = problem_en
        self.problem_zh = problem_zh


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The caller, as the token vouches for them; ``department_id`` is their home department."""

    subject: str
    name: str | None
    department_id: str
    department_ids: frozenset[str]
    roles: frozenset[str]

    def has_role(self, *roles: str) -> bool:
        """True when the principal holds any of ``roles``; admin is not implied (separation of duties)."""
        return not self.roles.isdisjoint(roles)

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    def may_access(self, department_id: str | uuid.UUID) -> bool:
        """Admins see every department; everyone else only the departments in their token."""
        return self.is_admin or canonical_department(department_id) in self.department_ids

    def visible_departments(self) -> frozenset[str] | None:
        """The departments a list query must be limited to; ``None`` means no limit (admin)."""
        return None if self.is_admin else self.department_ids

    @property
    def idempotency_scope(self) -> str:
        """Idempotency keys are per caller and department, so two counties can never replay each other's answer."""
        scope = f"{self.department_id}:{self.subject}"
        if len(scope) <= _SCOPE_LIMIT:
            return scope
        return f"{self.department_id}:sha256:{hashlib.sha256(self.subject.encode()).hexdigest()}"

    def log_context(self) -> dict[str, str]:
        """The only claims that may reach a log line."""
        return {"user": self.subject, "department_id": self.department_id, "roles": ",".join(sorted(self.roles))}


def canonical_department(department_id: str | uuid.UUID) -> str:
    """Department ids compare as lower-case UUID strings, however a record or a token spells them."""
    try:
        return str(department_id if isinstance(department_id, uuid.UUID) else uuid.UUID(str(department_id)))
    except ValueError:
        return str(department_id)


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """Build the principal from verified claims; unknown roles are ignored so a shared IdP may add its own."""
    home = _department(claims.get("department_id"), "department_id")
    extra = claims.get("departments", [])
    if not isinstance(extra, list):
        raise ClaimError("departments", "must be a list of department UUIDs", "须为部门 UUID 列表")
    return Principal(
        subject=_subject(claims.get("sub")),
        name=_name(claims.get("name")),
        department_id=home,
        department_ids=frozenset([home, *(_department(item, "departments") for item in extra)]),
        roles=_roles(claims.get("roles")),
    )


def _subject(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ClaimError("sub", "must be a non-empty string", "须为非空字符串")
    return value


def _name(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ClaimError("name", "must be a string", "须为字符串")


def _department(value: Any, claim: str) -> str:
    if not isinstance(value, str):
        raise ClaimError(claim, "must be a department UUID string", "须为部门 UUID 字符串")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ClaimError(claim, "must be a department UUID string", "须为部门 UUID 字符串") from None


def _roles(value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(role, str) for role in value):
        raise ClaimError(
            "roles", f"must be a list of roles ({', '.join(ROLES)})", f"须为角色列表（{'、'.join(ROLES)}）"
        )
    return frozenset(role for role in value if role in KNOWN_ROLES)
