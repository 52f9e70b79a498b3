"""What a view of assessment needs from the running service, and who may see which department.

Who sees what: auditors (审计/考核办), supervisors (法制部门) and admins see every department; any other
role sees only the departments in its token.
"""

from __future__ import annotations

import uuid

from flask import current_app
from sqlalchemy import Engine

from guidance_assessment.handlers.deps import AssessmentDeps
from guidance_shared.auth import ADMIN, AUDITOR, SUPERVISOR, current_principal
from guidance_shared.errors import NotFound
from guidance_shared.runtime import Runtime

OVERSEERS = (AUDITOR, SUPERVISOR, ADMIN)


def runtime() -> Runtime[AssessmentDeps]:
    """The runtime the app was created with (the one place a view reads it from)."""
    found: Runtime[AssessmentDeps] = current_app.extensions["guidance"]["runtime"]
    return found


def deps() -> AssessmentDeps:
    return runtime().deps


def engine() -> Engine:
    return runtime().engine


def may_see(department_id: str) -> bool:
    principal = current_principal()
    return principal.has_role(*OVERSEERS) or principal.may_access(department_id)


def visible_department(department_id: uuid.UUID | str) -> str:
    """The department of the path, or a 404 (not a 403) for one the caller may not see."""
    department = str(department_id)
    if not may_see(department):
        raise NotFound("scorecard", "记分卡", department)
    return department
