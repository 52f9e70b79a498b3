"""iCalendar feeds of revisits, so officials see them in their own calendar.

Calendar programs cannot send an Authorization header, so a feed also accepts the same bearer
token as ``?token=`` (mint a long-lived one per officer); access logs never record query strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Response, request
from flask.views import MethodView
from icalendar import Calendar, Event

from guidance_revisit.adapters import queries
from guidance_revisit.entrypoints.http.context import deps
from guidance_revisit.entrypoints.http.revisits import worklist
from guidance_shared.auth import READERS, current_principal, ensure_department, requires
from guidance_shared.dates import CHINA_TZ
from guidance_shared.db import reading
from guidance_shared.errors import NotFound
from guidance_shared.web import Blueprint

feeds = Blueprint("calendars", __name__, url_prefix="/v1/calendars", description="iCalendar feeds of revisits")

KINDS_ZH = {"case_revisit": "案件回访", "correction_check": "整改核查", "spot": "随机抽查回访"}


def _feed_token_to_header() -> None:
    """Calendar programs send no headers: accept the token as ?token= for the feeds only."""
    token = request.args.get("token")
    if token and "Authorization" not in request.headers:
        request.environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"


feeds.before_request(_feed_token_to_header)


def _calendar(name: str, rows: Sequence[queries.RevisitRecord]) -> Response:
    calendar = Calendar()
    calendar.add("prodid", "-//guidance suite//revisit//ZH")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    stamp = datetime.now(CHINA_TZ)
    for row in rows:
        event = Event()
        event.add("uid", f"{row['revisit_id']}@guidance-suite")
        event.add("dtstamp", stamp)
        event.add("dtstart", row["due_on"])
        # A date counted on an estimated holiday calendar may still move: the officer's calendar says so.
        estimated = "【预计】" if row["deadline_estimated"] else ""
        event.add("summary", f"{estimated}回访：{KINDS_ZH.get(row['kind'], row['kind'])}")
        event.add("description", row["reason"])
        open_status = "TENTATIVE" if row["deadline_estimated"] else "CONFIRMED"
        event.add("status", open_status if row["status"] in queries.OPEN else "CANCELLED")
        calendar.add_component(event)
    return Response(calendar.to_ical(), mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})


#: the 200 of a feed, which is not JSON: flask-smorest documents only what ``response`` declares
ICS = {
    "responses": {
        "200": {
            "description": "An iCalendar (RFC 5545) feed, one VEVENT per open revisit",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
            "headers": {"Cache-Control": {"description": "private, max-age=300", "schema": {"type": "string"}}},
        }
    }
}


@feeds.route("/departments/<uuid:department_id>.ics")
class DepartmentFeed(MethodView):
    @requires(*READERS)
    @feeds.doc(**ICS)
    def get(self, department_id: Any) -> Response:
        """A department's open revisits as an iCalendar feed."""
        ensure_department(str(department_id), not_found=NotFound("department", "部门", str(department_id)))
        return _calendar("回访日程", worklist(str(department_id), "open", {}))


@feeds.route("/officers/<uuid:officer_id>.ics")
class OfficerFeed(MethodView):
    @requires(*READERS)
    @feeds.doc(**ICS)
    def get(self, officer_id: Any) -> Response:
        """One officer's open revisits across the caller's departments as an iCalendar feed."""
        departments = current_principal().visible_departments()
        with reading(deps().engine) as conn:
            rows = queries.officer_feed(conn, str(officer_id), departments)
        return _calendar("我的回访", rows)
