"""The read side: the SELECTs the public surface and the officers' lists need.

An act is shown while its item is ``disclosed``, its own status allows it and, for a penalty, its
display period has not ended; so every public query joins the redacted projection
(``adapters/projection.py``) to ``disclosure_items`` (``adapters/read_model.py``). The officers' lists
read disclosure's own tables only.

The public lists are read by keyset, never by ``OFFSET``: a page is "the next ``limit`` rows after
this sort key" (``Window.after``), which an index on the sort key answers in the same time on page 1
and page 40,000. How many rows match is counted up to ``COUNT_CAP`` and no further ("more than
1,000"), so the count costs the same after ten years as after one. The officers' lists (review queue,
requests) page the same way, earliest date first, and count nothing; the 双公示 export is read as it is
sent.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Row,
    RowMapping,
    Select,
    Table,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    tuple_,
)

from guidance_disclosure.adapters.projection import (
    PUBLISHED_STATUSES,
    public_cases,
    public_decision_notices,
    public_guidance,
    public_revisits,
)
from guidance_disclosure.adapters.read_model import disclosure_items, disclosure_requests
from guidance_disclosure.domain import item as i
from guidance_disclosure.domain import request as r

#: A public document as the JSON API, the pages and the feed show it (its schema is the wire's).
Document = Mapping[str, Any]


#: How far a public list's count goes; beyond it the lists say "more than" this many.
COUNT_CAP = 1000

#: A row's place in a public list, newest first: its date as ISO text and its id (the tie-breaker).
SortKey = tuple[str, str]


@dataclass(frozen=True)
class Window:
    """Which rows of a public list: its filters' dates as ISO text (``before`` excluded), then either the rows
    after a sort key (``after``, the keyset: what every "next" link carries) or, for the first pages that
    page numbers still reach, an ``offset``."""

    department_id: str | None = None
    since: str | None = None
    before: str | None = None
    offset: int = 0
    limit: int = 20
    after: SortKey | None = None


@dataclass(frozen=True)
class Page:
    """A page of a public list: its rows, the count (exact up to ``COUNT_CAP``) and where the next page starts."""

    items: list[Document]
    total: int
    total_exact: bool
    next_after: SortKey | None  # the last row's sort key, if more rows follow


# -- guidance acts ---------------------------------------------------------------------------------------
def published_item(conn: Connection, guidance_id: str) -> Document | None:
    table = public_guidance
    row = conn.execute(select(table).where(table.c.guidance_id == guidance_id, *_shown())).first()
    if row is None:
        return None
    return {**_public_guidance(row._mapping), "revisits": published_revisits(conn, guidance_id=guidance_id)}


def published_page(conn: Connection, window: Window = Window(), *, content_type: str | None = None) -> Page:
    """A page of published guidance acts, newest first, and how many match (up to ``COUNT_CAP``)."""
    shape = _GuidanceShape(
        department=bool(window.department_id),
        content_type=bool(content_type),
        since=bool(window.since),
        before=bool(window.before),
        after=window.after is not None,
        offset=window.after is None and bool(window.offset),
    )
    params: dict[str, object] = {"limit": window.limit + 1}
    if shape.department:
        params["department_id"] = window.department_id
    if shape.content_type:
        params["content_type"] = content_type
    if shape.since:
        params["since"] = window.since
    if shape.before:
        params["before"] = window.before
    if window.after is not None:
        params["after_issued_at"], params["after_guidance_id"] = window.after
    elif shape.offset:
        params["offset"] = window.offset
    count, listing = _guidance_statements(shape)
    counted = ("guidance", COUNT_CAP, window.department_id, content_type, window.since, window.before)
    filters: dict[str, object] = {key: params[key] for key in _FILTERS if key in params}
    total = remembered(conn, counted, lambda: int(conn.execute(count, filters).scalar_one()))
    rows = conn.execute(listing, params).all()
    items = [_public_guidance(row._mapping) for row in rows[: window.limit]]
    more = len(rows) > window.limit
    last = (items[-1]["issued_at"], items[-1]["guidance_id"]) if more else None
    return Page(items, min(total, COUNT_CAP), total <= COUNT_CAP, last)


_FILTERS = ("department_id", "content_type", "since", "before")


@dataclass(frozen=True)
class _GuidanceShape:
    """Which filters and which kind of window a page of guidance acts has: one pair of statements each."""

    department: bool
    content_type: bool
    since: bool
    before: bool
    after: bool
    offset: bool


@functools.cache
def _guidance_statements(shape: _GuidanceShape) -> tuple[Select[Any], Select[Any]]:
    """The capped count and the page of a list of this shape, built once with named parameters: building a
    statement and its cache key cost a page more than the database's reading of it (docs/performance.md)."""
    table = public_guidance
    where = _shown()
    if shape.department:
        where.append(table.c.department_id == bindparam("department_id"))
    if shape.content_type:
        where.append(table.c.content_type == bindparam("content_type"))
    if shape.since:
        where.append(table.c.issued_at >= bindparam("since"))
    if shape.before:
        where.append(table.c.issued_at < bindparam("before"))
    sort = (table.c.issued_at, table.c.guidance_id)
    listing: Listing = None
    if shape.department:
        listing = (table.c.department_id, bindparam("department_id"))
    elif shape.content_type:
        listing = (table.c.content_type, bindparam("content_type"))
    page = _newest_first(
        select(table).where(*where),
        sort,
        after=(bindparam("after_issued_at"), bindparam("after_guidance_id")) if shape.after else None,
        listing=listing,
        offset=bindparam("offset") if shape.offset else None,
        limit=bindparam("limit"),
    )
    return _capped(table, where), page


#: The filter a list is read under, as the leading column of its listing index and the value it equals (or the
#: named parameter that will).
Listing = tuple[Any, Any] | None


def _keyset(statement: Select[Any], sort: tuple[Any, Any], window: Window, listing: Listing = None) -> Select[Any]:
    """``_newest_first`` for a window given as values: one row more than the page, which says whether a next
    page exists."""
    return _newest_first(
        statement, sort, after=window.after, listing=listing, offset=window.offset or None, limit=window.limit + 1
    )


def _newest_first(
    statement: Select[Any],
    sort: tuple[Any, Any],
    *,
    after: tuple[Any, Any] | None,
    listing: Listing,
    offset: Any,
    limit: Any,
) -> Select[Any]:
    """Newest first by (date, id), both descending so one index serves the order; from after the cursor
    ``after`` (else from ``offset``, if any), ``limit`` rows. Each part is a value or a named parameter, so the
    same code builds a statement once per list shape (``_guidance_statements``) or once per read.

    Under a filter, the cursor is also said as a comparison that leads with the filter's column
    (``(department_id, date, id) < (d, …)``, beside ``department_id = d``; together they say the same). With
    the plain ``(date, id) <`` only, PostgreSQL's planner, guessing the comparison's selectivity, sometimes
    read a department's deep page down the unfiltered listing and filtered the department there, stepping
    over every other department's acts from the cursor on (6 departments, tests/adapters/
    test_public_list_plans.py); the longer comparison bounds the department index's search from its first
    column, and the planner takes it. SQLite bounds its search by the plain one after ``department_id = ?``,
    so both are given."""
    if after is not None:
        statement = statement.where(tuple_(*sort) < tuple_(*after))
        if listing is not None:
            column, value = listing
            statement = statement.where(tuple_(column, *sort) < tuple_(value, *after))
    elif offset is not None:
        statement = statement.offset(offset)
    return statement.order_by(sort[0].desc(), sort[1].desc()).limit(limit)


#: How many results each pooled connection remembers (``remembered``): the filters seen most recently.
REMEMBERED_PER_CONNECTION = 256
_REMEMBERED = "guidance_disclosure_remembered"
T = TypeVar("T")


def remembered(conn: Connection, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or what it gave for ``key`` on this connection while the database has not changed since.

    On SQLite, ``PRAGMA data_version`` changes when another connection commits and the driver's
    ``total_changes`` when this one writes; while both hold, the database is the one the result was
    computed from, so the result is still exact (never stale: a commit anywhere forgets it). What is
    remembered is what every page of a list repeats: its capped count and the departments of its filter,
    half of a page's time under 16 clients (docs/performance.md, "The public list at 16 clients"). Kept
    in the pooled connection's own ``info`` (one thread uses a connection at a time, so no lock), at most
    ``REMEMBERED_PER_CONNECTION`` keys. Elsewhere (PostgreSQL) there is no such cheap proof of "unchanged",
    so it computes every time."""
    version = _data_version(conn)
    if version is None:
        return compute()
    cache: dict[Hashable, tuple[tuple[int, int], Any]] = conn.connection.info.setdefault(_REMEMBERED, {})
    hit = cache.get(key)
    if hit is not None and hit[0] == version:
        value: T = hit[1]
        return value
    value = compute()
    if key not in cache and len(cache) >= REMEMBERED_PER_CONNECTION:
        cache.pop(next(iter(cache)))  # the oldest key
    cache[key] = (version, value)
    return value


def forget_remembered(conn: Connection) -> None:
    """Drop what ``remembered`` keeps on this connection, so the next read runs its statements (a test that
    looks at them)."""
    conn.connection.info.pop(_REMEMBERED, None)


def _data_version(conn: Connection) -> tuple[int, int] | None:
    if conn.dialect.name != "sqlite":
        return None
    dbapi_connection: Any = conn.connection.dbapi_connection
    (changed_elsewhere,) = dbapi_connection.execute("PRAGMA data_version").fetchone()
    return int(changed_elsewhere), int(dbapi_connection.total_changes)


def _capped_count(conn: Connection, joined: FromClause, where: list[ColumnElement[bool]]) -> tuple[int, bool]:
    """How many rows match, counting no further than ``COUNT_CAP`` + 1: (count, whether it is exact)."""
    counted = int(conn.execute(_capped(joined, where)).scalar_one())
    return min(counted, COUNT_CAP), counted <= COUNT_CAP


def _capped(joined: FromClause, where: list[ColumnElement[bool]]) -> Select[Any]:
    """The count of the rows that match, read no further than ``COUNT_CAP`` + 1 of them."""
    matching = select(literal(1)).select_from(joined).where(*where).limit(COUNT_CAP + 1).subquery()
    return select(func.count()).select_from(matching)


# -- decisions -------------------------------------------------------------------------------------------
#: A listed decision's ``status``: standing, or revoked/changed and shown only as its withdrawal notice.
PUBLISHED = "published"
WITHDRAWN = "withdrawn"
#: The item a listed case's row goes with, by the case's status.
_ITEM_STATE_OF = {"decided": i.DISCLOSED_STATE, "revoked": i.WITHDRAWN_STATE}
_ITEM_KEYS = ("subject_id", "state")
#: What a withdrawal notice still shows of the decision it replaces.
_NOTICE_KEYS = (
    "case_id",
    "case_no",
    "kind",
    "decision_no",
    "decision",
    "department_id",
    "department_name",
    "department_uscc",
    "domain",
    "decided_at",
    "disclosed_at",
    "display_until",
)


def published_decision(conn: Connection, case_id: str, today: date) -> Document | None:
    cases = public_cases
    rows = conn.execute(select(cases).where(cases.c.case_id == case_id, *_decision_shown(today))).all()
    found = _with_items(conn, rows, today)
    if not found or found[0]["status"] != PUBLISHED:
        return None
    return {**found[0], "revisits": published_revisits(conn, case_id=case_id)}


def withdrawal_notice(conn: Connection, case_id: str, today: date) -> Document | None:
    """The notice that stands at a revoked decision's address (行政处罚法第四十八条) while the decision would
    still have been listed; None when the decision was never published, or is published, or its time is over.
    A case decided again whose new decision is not (yet) published shows its latest replaced decision's notice."""
    cases = public_cases
    rows = conn.execute(select(cases).where(cases.c.case_id == case_id, *_decision_shown(today))).all()
    found = _with_items(conn, rows, today)
    if found:
        return found[0] if found[0]["status"] == WITHDRAWN else None
    notices, items = public_decision_notices, disclosure_items
    latest = conn.execute(
        select(notices, items.c.kind, items.c.display_until, items.c.disclosed_at)
        .select_from(notices.join(items, items.c.item_id == notices.c.item_id))
        .where(notices.c.case_id == case_id, items.c.state == i.WITHDRAWN_STATE, *_decision_item_shown(today))
        .order_by(notices.c.decided_at.desc())
        .limit(1)
    ).first()
    return None if latest is None else _replaced_notice(latest._mapping)


def published_decisions(conn: Connection, today: date, window: Window = Window(), *, kind: str | None = None) -> Page:
    """A page of published decisions, newest first; a penalty leaves the list when its display period ends. The
    notices of decisions that a later decision of their case replaced are listed too, by their own decision date:
    two keyset reads in the same order, merged."""
    cases = public_cases
    where = _decision_shown(today, kind)
    if window.department_id:
        where.append(cases.c.department_id == window.department_id)
    if window.since:
        where.append(cases.c.decided_at >= window.since)
    if window.before:
        where.append(cases.c.decided_at < window.before)
    total, exact = _capped_count(conn, cases, where)
    listing: Listing = (cases.c.department_id, window.department_id) if window.department_id else None
    # The first pages by number read both sources from the start, so each gives offset + limit + 1 rows.
    merged = window if not window.offset else replace(window, offset=0, limit=window.offset + window.limit)
    sort = (cases.c.decided_at, cases.c.case_id)
    rows = conn.execute(_keyset(select(cases).where(*where), sort, merged, listing)).all()
    listed = _with_items(conn, rows, today, kind)
    notices, notices_total, notices_exact = _replaced_notices(conn, today, merged, kind)
    if notices:
        listed = sorted([*listed, *notices], key=lambda d: (d["decided_at"], d["case_id"]), reverse=True)
    listed = listed[window.offset :] if window.offset else listed
    items = listed[: window.limit]
    more = len(listed) > window.limit
    total, exact = min(total + notices_total, COUNT_CAP), exact and notices_exact and total + notices_total <= COUNT_CAP
    return Page(items, total, exact, (items[-1]["decided_at"], items[-1]["case_id"]) if more else None)


def _replaced_notices(
    conn: Connection, today: date, window: Window, kind: str | None = None
) -> tuple[list[Document], int, bool]:
    """The listed notices of decisions a later decision replaced (``public_decision_notices``), in the list's
    order and window, and how many match: shown, like a revoked case's own notice, while the withdrawn decision's
    item had been disclosed and its display period lasts."""
    notices, items = public_decision_notices, disclosure_items
    joined = notices.join(items, items.c.item_id == notices.c.item_id)
    where = [*_decision_item_shown(today, kind), items.c.state == i.WITHDRAWN_STATE]
    if window.department_id:
        where.append(notices.c.department_id == window.department_id)
    if window.since:
        where.append(notices.c.decided_at >= window.since)
    if window.before:
        where.append(notices.c.decided_at < window.before)
    total, exact = _capped_count(conn, joined, where)
    if not total:
        return [], 0, True
    statement = select(notices, items.c.kind, items.c.display_until, items.c.disclosed_at).select_from(joined)
    rows = conn.execute(_keyset(statement.where(*where), (notices.c.decided_at, notices.c.case_id), window)).all()
    return [_replaced_notice(row._mapping) for row in rows], total, exact


def _replaced_notice(mapping: RowMapping) -> Document:
    """A replaced decision's notice in the shape of a revoked case's (``_public_decision`` hides the rest)."""
    blank = {column.name: None for column in public_cases.columns}
    notice = {key: value for key, value in mapping.items() if key != "item_id"}
    return _public_decision({**blank, **notice, "status": "revoked"})


def _with_items(conn: Connection, rows: Sequence[Row[Any]], today: date, kind: str | None = None) -> list[Document]:
    """The page's cases with what their disclosed item adds (kind, display period, when disclosed): one lookup
    for the whole page, by the cases' ids."""
    if not rows:
        return []
    items = disclosure_items
    shown = conn.execute(
        select(items.c.subject_id, items.c.state, items.c.kind, items.c.display_until, items.c.disclosed_at)
        .where(items.c.subject_id.in_([row.case_id for row in rows]), *_decision_item_shown(today, kind))
        .order_by(items.c.withdrawn_at.nulls_first())
    )
    # A case decided again after a revocation has the earlier, withdrawn item too: each row takes the item of
    # its own status (the latest withdrawn one for a revoked case, hence the order).
    by_case = {(item.subject_id, item.state): item._mapping for item in shown}
    out = []
    for row in rows:
        item = by_case[(row.case_id, _ITEM_STATE_OF[row.status])]
        out.append(_public_decision({**row._mapping, **{k: v for k, v in item.items() if k not in _ITEM_KEYS}}))
    return out


def penalty_records(
    conn: Connection, department_id: str, *, decided_from: str | None = None, decided_before: str | None = None
) -> Iterator[Document]:
    """Published penalty decisions of a department, oldest first, for 双公示 (display period included): read
    as the caller takes them (a department's years of decisions are never all in memory), down
    ``ix_public_cases_department_listing``."""
    cases = public_cases
    where = [
        disclosure_items.c.state == i.DISCLOSED_STATE,
        disclosure_items.c.kind == "penalty_decision",
        cases.c.status == "decided",
        cases.c.department_id == department_id,
    ]
    if decided_from:
        where.append(cases.c.decided_at >= decided_from)
    if decided_before:
        where.append(cases.c.decided_at < decided_before)
    statement = _decision_select().where(*where).order_by(cases.c.decided_at, cases.c.case_id)
    for row in conn.execution_options(yield_per=500).execute(statement):
        yield _public_decision(dict(row._mapping))


# -- revisit results and departments ---------------------------------------------------------------------
def published_revisits(
    conn: Connection, *, case_id: str | None = None, guidance_id: str | None = None
) -> list[Document]:
    """The disclosed results of the revisits of one case or one guidance act, oldest first."""
    table = public_revisits
    which = table.c.case_id == case_id if case_id else table.c.guidance_id == guidance_id
    items = disclosure_items
    rows = conn.execute(
        select(table.c.kind, table.c.completed_on, table.c.method, table.c.findings, table.c.notes)
        .select_from(
            table.join(items, and_(items.c.subject_id == table.c.revisit_id, items.c.kind == "revisit_result"))
        )
        .where(which, items.c.state == i.DISCLOSED_STATE)
        .order_by(table.c.completed_on, table.c.revisit_id)
    )
    return [dict(row._mapping) | {"findings": json.loads(row.findings)} for row in rows]


def departments(conn: Connection) -> list[dict[str, str]]:
    """Departments with something published, for the list's filter: id and name as of their latest act (a
    department with decisions only: as of a decision of it).

    Read as a loose index scan: each department id is the first one after the previous, one search down
    a listing index each, and its name one more; so the filter costs what the number of departments
    costs, not what the years of acts cost (every list page shows it). The searches are one recursive
    statement per table: as one statement each, 20 departments took 42 round trips, 14 ms a page on
    PostgreSQL (docs/performance.md, "The public list on PostgreSQL")."""
    return remembered(conn, "departments", lambda: _departments(conn))


def _departments(conn: Connection) -> list[dict[str, str]]:
    named: dict[str, str] = {}
    listings = (
        (public_guidance, (public_guidance.c.issued_at, public_guidance.c.guidance_id)),
        (public_cases, (public_cases.c.decided_at, public_cases.c.case_id)),
    )
    for source, order in listings:
        for department_id, name in conn.execute(_named_departments(source, order)):
            if department_id not in named and name is not None:
                named[department_id] = name
    return [{"department_id": k, "name": v} for k, v in sorted(named.items(), key=lambda kv: kv[1])]


def _named_departments(source: Table, order: tuple[Any, Any]) -> Select[Any]:
    """(department_id, its latest name) for each distinct ``department_id`` of ``source``: a recursive walk
    where each id is the least one after the previous (one index search), then the latest named row of each
    (one more)."""
    column = source.c.department_id
    walk = select(func.min(column).label("department_id")).cte("department_walk", recursive=True)
    following = select(func.min(column)).where(column > walk.c.department_id).scalar_subquery()
    walk = walk.union_all(select(following).where(walk.c.department_id.is_not(None)))
    name = (
        select(source.c.department_name)
        .where(column == walk.c.department_id, source.c.department_name.is_not(None))
        .order_by(column.desc(), *(part.desc() for part in order))
        .limit(1)
        .scalar_subquery()
    )
    return select(walk.c.department_id, name.label("name")).where(walk.c.department_id.is_not(None))


def _shown() -> list[ColumnElement[bool]]:
    """A guidance act is listed while its item is disclosed. Written as EXISTS on the act's own row, not as a
    join, so a list is read down its keyset index and each candidate's item looked up by its subject: a join
    lets the planner start from every disclosed item and sort them all, which grows with the years."""
    return list(_shown_once())


@functools.cache
def _shown_once() -> tuple[ColumnElement[bool], ...]:
    items = disclosure_items
    disclosed = (
        select(items.c.item_id)
        .where(
            items.c.subject_id == public_guidance.c.guidance_id,
            items.c.kind == "guidance",
            items.c.state == i.DISCLOSED_STATE,
        )
        .exists()
    )
    return (public_guidance.c.withheld == "N", public_guidance.c.status.in_(PUBLISHED_STATUSES), disclosed)


def _decision_join() -> FromClause:
    return public_cases.join(
        disclosure_items,
        and_(disclosure_items.c.subject_id == public_cases.c.case_id, disclosure_items.c.kind != "guidance"),
    )


def _decision_select() -> Select[Any]:
    return select(
        public_cases,
        disclosure_items.c.kind,
        disclosure_items.c.display_until,
        disclosure_items.c.disclosed_at,
    ).select_from(_decision_join())


def _decision_item_shown(today: date, kind: str | None = None) -> list[ColumnElement[bool]]:
    """A decision's item that puts it on the list: disclosed, or withdrawn after it was disclosed (its notice
    then takes its place), within the penalty's display period."""
    items = disclosure_items
    shown = [
        items.c.kind != "guidance",
        or_(
            items.c.state == i.DISCLOSED_STATE,
            and_(items.c.state == i.WITHDRAWN_STATE, items.c.disclosed_at.is_not(None)),
        ),
        or_(items.c.display_until.is_(None), items.c.display_until >= today),
    ]
    return [*shown, items.c.kind == kind] if kind else shown


def _decision_shown(today: date, kind: str | None = None) -> list[ColumnElement[bool]]:
    """A decision is listed while its item is disclosed and, for a penalty, its display period lasts; a revoked
    one, as its withdrawal notice, if it had been published and would still be listed: EXISTS on the case's own
    row, for the reason ``_shown`` gives."""
    cases, items = public_cases, disclosure_items
    visible = select(items.c.item_id).where(
        items.c.subject_id == cases.c.case_id,
        *_decision_item_shown(today, kind),
        or_(
            and_(cases.c.status == "decided", items.c.state == i.DISCLOSED_STATE),
            and_(cases.c.status == "revoked", items.c.state == i.WITHDRAWN_STATE),
        ),
    )
    return [cases.c.status.in_(tuple(_ITEM_STATE_OF)), visible.exists()]


def _public_guidance(mapping: RowMapping) -> Document:
    item = dict(mapping)
    item.pop("withheld")
    item["methods"] = json.loads(item["methods"])
    item["legal_basis"] = json.loads(item["legal_basis"])
    return item


def _public_decision(mapping: Mapping[str, Any]) -> Document:
    item = dict(mapping)
    item["legal_basis"] = json.loads(item["legal_basis"] or "[]")
    item["penalty_other_kinds"] = json.loads(item.get("penalty_other_kinds") or "[]")
    item.pop("minor", None)
    item["display_until"] = item["display_until"].isoformat() if item.get("display_until") else None
    withdrawn_on, reason = item.pop("withdrawn_on", None), item.pop("withdrawal_reason", None)
    if item.pop("status", None) != "revoked":
        return {**item, "status": PUBLISHED, "withdrawal": None}
    # Taken down means the decision's content is no longer shown: what remains is which decision, by whom, when,
    # and why it was withdrawn.
    notice = {key: item.get(key) for key in _NOTICE_KEYS}
    hidden = {key: None for key in item if key not in _NOTICE_KEYS}
    return {
        **hidden,
        **notice,
        "legal_basis": [],
        "penalty_other_kinds": [],
        "status": WITHDRAWN,
        "withdrawal": {"withdrawn_on": withdrawn_on, "reason": reason},
    }


# -- the officers' lists ---------------------------------------------------------------------------------
#: Request statuses before the answer: the "pending" worklist is these, one index range each.
UNANSWERED = (r.OPEN, r.AWAITING_SUPPLEMENT, r.IN_CONSULTATION)


@dataclass(frozen=True)
class OfficerPage:
    """A page of an officer's list, in its order, and the sort key of its last row if more rows follow
    (the keyset the next page starts after: a date as ISO text and the row's id)."""

    rows: list[Document]
    next_after: SortKey | None


def item_rows(
    conn: Connection,
    department_id: str,
    *,
    state: str,
    kind: str | None = None,
    limit: int = 100,
    after: SortKey | None = None,
) -> OfficerPage:
    """A department's items by state (``overdue``: flagged and still in review; ``all``), earliest deadline
    first, read down ``ix_disclosure_items_*_listing`` from ``after`` (the keyset), never by OFFSET."""
    table = disclosure_items
    statement = select(table).where(table.c.department_id == department_id)
    if state == "overdue":
        statement = statement.where(table.c.state == "in_review", table.c.overdue.is_(True))
    elif state != "all":
        statement = statement.where(table.c.state == state)
    if kind:
        statement = statement.where(table.c.kind == kind)
    sort = (table.c.deadline, table.c.item_id)
    if after is not None:
        statement = statement.where(tuple_(*sort) > tuple_(date.fromisoformat(after[0]), after[1]))
    rows = [_item_row(row._mapping) for row in conn.execute(statement.order_by(*sort).limit(limit + 1))]
    return _officer_page(rows, limit, "deadline", "item_id")


def item_row(conn: Connection, item_id: str) -> Document | None:
    row = conn.execute(select(disclosure_items).where(disclosure_items.c.item_id == item_id)).first()
    return None if row is None else _item_row(row._mapping)


def _item_row(mapping: RowMapping) -> Document:
    row = dict(mapping)
    row["flags"] = json.loads(row["flags"]) if row.get("flags") else []
    return row


def request_rows(
    conn: Connection, department_id: str, *, status: str, limit: int = 100, after: SortKey | None = None
) -> OfficerPage:
    """A department's requests by status (``pending``: not yet answered; ``overdue``: flagged and unanswered),
    earliest answer date first, read down ``ix_disclosure_requests_listing`` from ``after`` (the keyset). The
    unanswered statuses are named, not "not answered", so answered years stay outside the ranges read."""
    table = disclosure_requests
    statement = select(table).where(table.c.department_id == department_id)
    if status == "pending":
        statement = statement.where(table.c.status.in_(UNANSWERED))
    elif status == "overdue":
        statement = statement.where(table.c.status.in_(UNANSWERED), table.c.overdue.is_(True))
    else:
        statement = statement.where(table.c.status == status)
    sort = (table.c.answer_due_on, table.c.request_id)
    if after is not None:
        statement = statement.where(tuple_(*sort) > tuple_(date.fromisoformat(after[0]), after[1]))
    rows = [dict(row._mapping) for row in conn.execute(statement.order_by(*sort).limit(limit + 1))]
    return _officer_page(rows, limit, "answer_due_on", "request_id")


def request_applicant(conn: Connection, request_id: str) -> Mapping[str, Any] | None:
    """A request's applicant as the worklist keeps them: ``applicant_kind``, ``applicant_name`` (sealed for a natural
    person once disclosure seals applicants) and ``applicant_subject_id``; None for no such request."""
    table = disclosure_requests
    columns = (table.c.applicant_kind, table.c.applicant_name, table.c.applicant_subject_id)
    row = conn.execute(select(*columns).where(table.c.request_id == request_id)).first()
    return None if row is None else dict(row._mapping)


def _officer_page(rows: Sequence[Document], limit: int, date_key: str, id_key: str) -> OfficerPage:
    """The first ``limit`` rows (one more was read to know whether another page follows) and the keyset."""
    if len(rows) <= limit:
        return OfficerPage(list(rows), None)
    last = rows[limit - 1]
    return OfficerPage(list(rows[:limit]), (last[date_key].isoformat(), str(last[id_key])))
