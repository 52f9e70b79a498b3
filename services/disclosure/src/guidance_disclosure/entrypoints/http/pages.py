"""The public pages (公开): server-rendered Chinese HTML and the Atom feed, no credentials, no JavaScript.

Everything shown comes from the ``public_guidance`` projection, which is redacted when it is written,
so a template cannot leak what the table does not hold. Jinja autoescapes ``.html`` templates; the
Content-Security-Policy forbids scripts outright, so even an escaping mistake could not run code.
Errors on these pages are HTML in Chinese (a citizen's browser, not an API client, reads them).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from marshmallow import EXCLUDE, ValidationError

from guidance_disclosure.adapters import queries
from guidance_disclosure.adapters.queries import Window
from guidance_disclosure.entrypoints.http.caching import cacheable
from guidance_disclosure.entrypoints.http.context import reader
from guidance_disclosure.entrypoints.http.feed import FEED_SIZE, atom_feed, entry_title
from guidance_disclosure.entrypoints.http.public import (
    DECISION_KINDS,
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    PublicDecisionQuery,
    PublicGuidanceQuery,
    find_decisions,
    find_published,
)
from guidance_shared.dates import china_today, optional_date
from guidance_shared.vocabulary import CONTENT_TYPES, label_zh

#: The package's own folders (they stay at its root, beside the code that serves them).
PACKAGE = files("guidance_disclosure")
TEMPLATES = str(PACKAGE / "templates")
STATIC = str(PACKAGE / "static")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
RIGHTS = ("知情权", "参与权", "救济权")
STATUS_ZH = {"issued": "有效", "suspended": "已中止"}
FIELD_ZH = {
    "department_id": "发布部门",
    "content_type": "指导内容类别",
    "kind": "决定类别",
    "from": "起始日期",
    "to": "截止日期",
    "page": "页码",
    "size": "每页条数",
    "cursor": "翻页位置",
}

pages = Blueprint(
    "public_pages",
    __name__,
    url_prefix="/public/guidance",
    template_folder=TEMPLATES,
    static_folder=STATIC,
    static_url_path="/static",
)


decision_pages = Blueprint("decision_pages", __name__, url_prefix="/public/decisions", template_folder=TEMPLATES)


#: The list pages' query schemas, built once (a schema instance holds no request state; building one per
#: request copied every field).
_GUIDANCE_QUERY = PublicGuidanceQuery(unknown=EXCLUDE)
_DECISION_QUERY = PublicDecisionQuery(unknown=EXCLUDE)


pages.after_request(cacheable)
decision_pages.after_request(cacheable)


@pages.after_request
@decision_pages.after_request
def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@pages.app_template_filter("zh")
def _zh(code: str) -> str:
    return label_zh(code)


@pages.app_template_filter("day")
def _calendar_day(iso: str | None) -> str:
    """ISO text as the calendar day it names (``YYYY-MM-DD``, as written); empty when there is none."""
    day = optional_date(iso)
    return day.isoformat() if day else ""


@pages.get("")
def guidance_list() -> tuple[str, int]:
    """The list with its filters; bad filters re-render the form with Chinese messages and a 400."""
    try:
        # Empty form fields mean "no filter"; unknown arguments (tracking tags) are ignored, not errors.
        given = {k: v for k, v in request.args.items() if v.strip()}
        args = _GUIDANCE_QUERY.load(given)
    except ValidationError as error:
        return _render_list(None, _messages_zh(error.messages), 400)
    return _render_list(find_published(args), [], 200)


@pages.get("/feed.atom")
def feed() -> Response:
    with reader() as conn:
        items = queries.published_page(conn, Window(limit=FEED_SIZE)).items
    body = atom_feed(
        items,
        feed_url=url_for(".feed", _external=True),
        list_url=url_for(".guidance_list", _external=True),
        detail_url=lambda gid: url_for(".guidance_detail", guidance_id=gid, _external=True),
    )
    return Response(body, mimetype="application/atom+xml")


@pages.get("/<guidance_id>")
def guidance_detail(guidance_id: str) -> tuple[str, int]:
    """One act; a malformed id is the same Chinese 404 as an unknown one (the route takes any string for that)."""
    try:
        canonical = str(uuid.UUID(guidance_id))
    except ValueError:
        return _not_found()
    with reader() as conn:
        item = queries.published_item(conn, canonical)
    if item is None:
        return _not_found()
    return render_template("public/detail.html", item=item, rights=RIGHTS, status_zh=STATUS_ZH), 200


@decision_pages.get("")
def decision_list() -> tuple[str, int]:
    """Published decisions with their filters; penalties past their display period are not listed."""
    try:
        given = {k: v for k, v in request.args.items() if v.strip()}
        args = _DECISION_QUERY.load(given)
    except ValidationError as error:
        return _render_decisions(None, _messages_zh(error.messages), 400)
    return _render_decisions(find_decisions(args), [], 200)


@decision_pages.get("/<case_id>")
def decision_detail(case_id: str) -> tuple[str, int]:
    try:
        canonical = str(uuid.UUID(case_id))
    except ValueError:
        return _not_found()
    today = china_today()
    with reader() as conn:
        item = queries.published_decision(conn, canonical, today)
        notice = None if item is not None else queries.withdrawal_notice(conn, canonical, today)
    if notice is not None:
        # 410, not 404: the decision existed and was taken down on purpose, and the law wants the reason read here.
        return render_template("public/decision_withdrawn.html", item=notice), 410
    if item is None:
        return _not_found()
    return render_template("public/decision_detail.html", item=item), 200


def _departments() -> list[dict[str, str]]:
    with reader() as conn:
        return queries.departments(conn)


def _render_decisions(result: Mapping[str, object] | None, errors: list[str], status: int) -> tuple[str, int]:
    query = {k: v for k, v in request.args.items() if k in FIELD_ZH and k not in ("page", "cursor") and v}
    return (
        render_template(
            "public/decisions_list.html",
            result=result,
            errors=errors,
            args=request.args,
            query=query,
            kinds=DECISION_KINDS,
            departments=_departments(),
        ),
        status,
    )


def _render_list(result: Mapping[str, object] | None, errors: list[str], status: int) -> tuple[str, int]:
    query = {k: v for k, v in request.args.items() if k in FIELD_ZH and k not in ("page", "cursor") and v}
    return (
        render_template(
            "public/list.html",
            result=result,
            errors=errors,
            args=request.args,
            query=query,
            departments=_departments(),
            content_types=CONTENT_TYPES,
            max_size=MAX_PAGE_SIZE,
            status_zh=STATUS_ZH,
            title_of=entry_title,
            # each row's link is this and its id (a UUID needs no quoting): one url_for, not one per row
            detail_base=url_for(".guidance_list") + "/",
        ),
        status,
    )


def _not_found() -> tuple[str, int]:
    return render_template("public/not_found.html"), 404


def _messages_zh(messages: Any) -> list[str]:
    """One Chinese sentence per bad field; the marshmallow text is English, so it is not shown."""
    fields = messages.keys() if isinstance(messages, dict) else []
    out = []
    for name in fields:
        label = FIELD_ZH.get(str(name), str(name))
        if name in ("from", "to"):
            out.append(f"{label}格式不正确（应为 YYYY-MM-DD），或起始日期晚于截止日期。")
        elif name == "size":
            out.append(f"{label}应为 1 至 {MAX_PAGE_SIZE} 之间的整数。")
        elif name == "page":
            out.append(f"{label}应为不小于 1 的整数；页码只能翻到前 {MAX_OFFSET} 条，更多请点“下一页”。")
        elif name == "cursor":
            out.append(f"{label}无效，请从第一页重新浏览。")
        elif name in ("content_type", "kind"):
            out.append(f"{label}不在可选范围内。")
        elif name == "department_id":
            out.append(f"{label}格式不正确（应为 UUID）。")
        else:
            out.append(f"不支持的查询参数：{label}。")
    return out or ["查询条件有误。"]
