"""Publication through the real consumer, store and API: each act gets one item, and the item decides what is public.

intake's events go onto the embedded log; disclosure's runner applies them (the DisclosureProjection opens the
items in the same transaction); officers and reviewers then use /v1/items, the public reads /public/.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from tests.support.auth import AuthKeys
from tests.support.events import record
from tests.support.projections import assert_read_models_refold
from tests.support.schema import migrated_runtime

from guidance_disclosure.adapters import queries
from guidance_disclosure.adapters.projection import held_revisit_results
from guidance_disclosure.bootstrap import SPEC, create_app
from guidance_disclosure.domain import item as i
from guidance_disclosure.handlers import items as items_handlers
from guidance_shared.events.examples import CASE_ID, DEPARTMENT_ID, ENTERPRISE, PERSON, example
from guidance_shared.personal_data.field import FieldContext, seal
from guidance_shared.personal_data.keys import DataKey
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

CHINA = ZoneInfo("Asia/Shanghai")
OTHER = "077493a6-c269-5ad9-9cc1-26c4417acc51"
REVIEWER = {"name": "孙丽", "badge_no": "豫A0310088", "officer_id": None}
ISSUED = "guidance.GuidanceIssued.v1"
OPENED = "guidance.CaseOpened.v1"
DECIDED = "guidance.CaseDecided.v1"
REVOKED = "guidance.CaseDecisionRevoked.v1"
WITHDRAWN_GUIDANCE = "guidance.GuidanceWithdrawn.v1"


class Disclosure:
    def __init__(self, runtime: Runtime, client: Any, keys: AuthKeys, transport: EmbeddedTransport) -> None:
        self.runtime, self.client, self.keys, self.transport = runtime, client, keys, transport
        self.sequence = 0

    def deliver(self, ce_type: str, subject: str, data: dict[str, Any], *, event_id: str | None = None) -> str:
        self.sequence += 1
        event_id = event_id or str(uuid.uuid4())
        self.runtime.transport.producer().publish([record(ce_type, subject, data, self.sequence, event_id=event_id)])
        self.runtime.runner().drain()
        return event_id

    def issue(self, **changes: Any) -> str:
        guidance_id = str(uuid.uuid4())
        self.deliver(ISSUED, guidance_id, example(ISSUED) | {"guidance_id": guidance_id} | changes)
        return guidance_id

    def headers(self, *roles: str, department: str = DEPARTMENT_ID) -> dict[str, str]:
        return self.keys.headers("reviewer-1", department, list(roles) or ["reviewer"])

    def items(self, state: str = "all", **query: Any) -> list[dict[str, Any]]:
        response = self.client.get(
            "/v1/items",
            query_string={"department_id": DEPARTMENT_ID, "state": state, **query},
            headers=self.headers("auditor"),
        )
        assert response.status_code == 200, response.get_json()
        items: list[dict[str, Any]] = response.get_json()["items"]
        return items

    def item_of(self, subject_id: str) -> dict[str, Any]:
        (found,) = [row for row in self.items() if row["subject_id"] == subject_id]
        return found

    def events_of(self, item_id: str) -> list[tuple[str, dict[str, Any]]]:
        assert self.runtime.store is not None
        return [(e.type, e.data) for e in self.runtime.store.load(item_id)]

    def public(self, path: str) -> int:
        return int(self.client.get(path).status_code)


@pytest.fixture
def disclosure(tmp_path: Any, auth_keys: AuthKeys) -> Iterator[Disclosure]:
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    transport.create_topics(["intake.events", "revisit.events", "disclosure.events", "disclosure.dlq"], 3)
    runtime = migrated_runtime(
        SPEC, Settings.from_env("disclosure", {"GUIDANCE_VAR_DIR": str(tmp_path)}), transport=transport
    )
    client = create_app(runtime, testing=True, auth=auth_keys.settings(), public_rate_limit=0).test_client()
    runtime.deps.items.now = lambda: datetime(2025, 3, 5, 10, 31, tzinfo=CHINA)
    disclosure = Disclosure(runtime, client, auth_keys, transport)
    yield disclosure
    assert_read_models_refold(disclosure.runtime, allow_empty=True)  # every flow's items, refolded
    disclosure.runtime.close()


# -- guidance acts -------------------------------------------------------------------------------------
def test_an_ordinary_act_is_disclosed_at_once_with_its_deadline_and_redactions(disclosure: Disclosure) -> None:
    guidance_id = disclosure.issue()
    item = disclosure.item_of(guidance_id)
    # Issued Wed 5 Mar 2025; 20 working days: 6, 7, 10–14, 17–21, 24–28, 31 Mar, 1, 2 Apr.
    assert (item["state"], item["kind"], item["deadline"]) == ("disclosed", "guidance", "2025-04-02")
    assert item["title"].startswith("轻微问题警示 ") or item["title"]
    ((event_type, data),) = disclosure.events_of(item["item_id"])
    assert event_type == i.DISCLOSED
    assert data["url"] == f"http://127.0.0.1:8003/public/guidance/{guidance_id}"
    assert data["disclosed_at"] == "2025-03-05T10:31:00+08:00" and data["reviewed_by"] is None
    assert disclosure.public(f"/public/v1/guidance/{guidance_id}") == 200


def test_each_act_gets_one_item_however_often_it_is_delivered(disclosure: Disclosure) -> None:
    guidance_id = str(uuid.uuid4())
    data = example(ISSUED) | {"guidance_id": guidance_id}
    first = disclosure.deliver(ISSUED, guidance_id, data)
    disclosure.deliver(ISSUED, guidance_id, data, event_id=first)  # the same event redelivered
    disclosure.deliver(ISSUED, guidance_id, data)  # the same act under a new event id (a replayed export)
    (item,) = [row for row in disclosure.items() if row["subject_id"] == guidance_id]
    assert len(disclosure.events_of(item["item_id"])) == 1


def test_an_act_withheld_at_intake_is_recorded_with_its_exemption_and_never_shown(disclosure: Disclosure) -> None:
    guidance_id = disclosure.issue(
        disclosure={"level": "withheld", "exemption": "trade_secret", "reason": "涉及企业产品配方，第三方不同意公开。"}
    )
    item = disclosure.item_of(guidance_id)
    assert (item["state"], item["exemption"]) == ("withheld", "trade_secret")
    ((event_type, data),) = disclosure.events_of(item["item_id"])
    assert event_type == i.WITHHELD
    assert data["legal_basis"] == [{"instrument": "《中华人民共和国政府信息公开条例》", "article": "第十五条"}]
    assert data["reason"] == "涉及企业产品配方，第三方不同意公开。"
    assert disclosure.public(f"/public/v1/guidance/{guidance_id}") == 404
    assert disclosure.public(f"/public/guidance/{guidance_id}") == 404


def test_an_act_about_a_minor_is_withheld(disclosure: Disclosure) -> None:
    minor = {**example(ISSUED)["counterpart"], "kind": "person", "name": "李小明", "uscc": None}
    minor |= {"id_type": "resident_id", "id_no": "110105201006010018", "legal_representative": None}
    guidance_id = disclosure.issue(counterpart=minor)
    item = disclosure.item_of(guidance_id)
    assert (item["state"], item["exemption"]) == ("withheld", "minor")
    assert disclosure.public(f"/public/v1/guidance/{guidance_id}") == 404


def test_a_flagged_act_waits_for_review_is_flagged_overdue_once_then_a_reviewer_publishes_it(
    disclosure: Disclosure,
) -> None:
    guidance_id = disclosure.issue(content="建议企业妥善保管核心配方资料，建立保密制度。")
    item = disclosure.item_of(guidance_id)
    assert item["state"] == "in_review" and item["deadline"] == "2025-04-02"
    assert item["flags"][0]["rule"] == "trade_secret_terms"
    assert [row["item_id"] for row in disclosure.items("in_review")] == [item["item_id"]]
    assert disclosure.public(f"/public/v1/guidance/{guidance_id}") == 404

    items = disclosure.runtime.deps.items
    assert items_handlers.flag_overdue(items, disclosure.runtime.engine, date(2025, 4, 2)) == 0
    assert items_handlers.flag_overdue(items, disclosure.runtime.engine, date(2025, 4, 3)) == 1
    assert items_handlers.flag_overdue(items, disclosure.runtime.engine, date(2025, 4, 7)) == 0
    assert [row["item_id"] for row in disclosure.items("overdue")] == [item["item_id"]]

    path = f"/v1/items/{item['item_id']}/publish"
    body = {"reviewed_by": REVIEWER, "note": "配方未写入公开内容，可以公开。"}
    assert disclosure.client.post(path, json=body, headers=disclosure.headers("officer")).status_code == 403
    stale = disclosure.client.post(path, json=body, headers={**disclosure.headers(), "If-Match": '"1"'})
    assert stale.status_code == 412  # the version named is not the item's: a failed precondition
    published = disclosure.client.post(path, json=body, headers={**disclosure.headers(), "If-Match": '"2"'})
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["state"] == "disclosed" and published.headers["ETag"] == '"3"'
    types = [t for t, _ in disclosure.events_of(item["item_id"])]
    assert types == [i.REVIEW_REQUESTED, i.OVERDUE, i.DISCLOSED]
    disclosed = disclosure.events_of(item["item_id"])[-1][1]
    assert disclosed["reviewed_by"]["name"] == "孙丽" and disclosed["deadline"] == "2025-04-02"
    assert disclosure.public(f"/public/v1/guidance/{guidance_id}") == 200
    assert disclosure.items("in_review") == []


def test_a_name_that_may_be_a_persons_holds_the_act_for_review_and_a_certain_one_is_masked(
    disclosure: Disclosure,
) -> None:
    """The review queue as it holds a possible name today: the flag names the rule, never the name."""
    held = disclosure.issue(content="经查，该店由钱多宝负责日常经营，请于2025年3月12日前改正。")
    item = disclosure.item_of(held)
    assert item["state"] == "in_review"
    assert item["flags"] == [
        {"rule": "person_name", "label": "文中可能有未隐去的自然人姓名", "exemption": "personal_privacy"}
    ]
    ((event_type, data),) = disclosure.events_of(item["item_id"])
    assert event_type == i.REVIEW_REQUESTED and "钱多宝" not in str(data)
    assert disclosure.public(f"/public/v1/guidance/{held}") == 404

    masked = disclosure.issue(content="店员钱多宝称不知情，证人李小红在场，请于2025年3月12日前改正。")
    assert disclosure.item_of(masked)["state"] == "disclosed"
    content = disclosure.client.get(f"/public/v1/guidance/{masked}").get_json()["content"]
    assert content == "店员钱**称不知情，证人李**在场，请于2025年3月12日前改正。"


def test_a_reviewer_withholds_with_a_legal_basis_and_may_take_a_public_item_down(disclosure: Disclosure) -> None:
    guidance_id = disclosure.issue()
    item = disclosure.item_of(guidance_id)
    path = f"/v1/items/{item['item_id']}/withhold"
    body = {"exemption": "personal_privacy", "reason": "内容可识别出第三人的健康状况。", "decided_by": REVIEWER}

    elsewhere = disclosure.client.post(path, json=body, headers=disclosure.headers(department=OTHER))
    assert elsewhere.status_code == 404  # another department's item does not exist for the caller
    bad = disclosure.client.post(path, json={**body, "exemption": "embarrassing"}, headers=disclosure.headers())
    assert bad.status_code == 422 and "exemption" in str(bad.get_json())
    done = disclosure.client.post(path, json=body, headers=disclosure.headers())
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["state"] == "withheld"
    withheld = disclosure.events_of(item["item_id"])[-1][1]
    assert withheld["legal_basis"] == [{"instrument": "《中华人民共和国政府信息公开条例》", "article": "第十五条"}]
    assert withheld["decided_by"]["name"] == "孙丽"
    assert disclosure.public(f"/public/v1/guidance/{guidance_id}") == 404
    again = disclosure.client.post(path, json=body, headers=disclosure.headers())
    assert again.status_code == 409


def test_a_withdrawn_act_is_taken_down(disclosure: Disclosure) -> None:
    guidance_id = disclosure.issue()
    withdrawn = example(WITHDRAWN_GUIDANCE) | {"guidance_id": guidance_id, "at": "2025-03-06T09:00:00+08:00"}
    disclosure.deliver(WITHDRAWN_GUIDANCE, guidance_id, withdrawn)
    item = disclosure.item_of(guidance_id)
    assert item["state"] == "withdrawn" and item["withdrawal_deadline"] == "2025-03-11"
    assert disclosure.public(f"/public/v1/guidance/{guidance_id}") == 404


# -- case decisions ----------------------------------------------------------------------------------------
def decide(disclosure: Disclosure, *, case_id: str = CASE_ID, **changes: Any) -> None:
    opened = example(OPENED) | {"case_id": case_id, **changes.pop("opened", {})}
    disclosure.deliver(OPENED, case_id, opened)
    disclosure.deliver(DECIDED, case_id, example(DECIDED) | {"case_id": case_id} | changes)


def test_a_penalty_is_published_within_seven_working_days_for_its_display_period(disclosure: Disclosure) -> None:
    decide(disclosure)
    item = disclosure.item_of(CASE_ID)
    # Decided Thu 20 Mar 2025: 21, 24–28, 31 March is the 7th working day. A fine: shown for 36 months.
    assert (item["kind"], item["deadline"], item["display_until"]) == ("penalty_decision", "2025-03-31", "2028-03-20")
    listing = disclosure.client.get("/public/v1/decisions").get_json()
    (shown,) = listing["items"]
    assert shown["decision_no"] == "某市监处罚〔2025〕12号" and shown["department_name"] == "某县市场监督管理局"
    assert shown["amount_yuan"] == "50000.00" and shown["display_until"] == "2028-03-20"
    assert shown["penalty_other_kinds"] == ["confiscation_of_gains", "confiscation_of_property"]
    assert (shown["status"], shown["withdrawal"]) == ("published", None)
    assert disclosure.public(f"/public/decisions/{CASE_ID}") == 200
    page = disclosure.client.get(f"/public/decisions/{CASE_ID}").get_data(as_text=True)
    assert "行政处罚：罚款、没收违法所得、没收非法财物" in page

    with disclosure.runtime.engine.connect() as conn:
        on_last_day = queries.published_decisions(conn, date(2028, 3, 20)).items
        day_after = queries.published_decisions(conn, date(2028, 3, 21)).items
    assert [d["case_id"] for d in on_last_day] == [CASE_ID] and day_after == []


def test_a_formal_warning_leaves_the_public_list_when_its_display_period_ends(disclosure: Disclosure) -> None:
    warning = {"kind": "formal_warning", "amount_yuan": None, "confiscated_yuan": None, "description": "警告。"}
    decide(disclosure, penalty=warning, major=False, legal_review=None)
    item = disclosure.item_of(CASE_ID)
    assert item["state"] == "disclosed" and item["display_until"] == "2025-06-20"  # 3 months
    # Today (2026 or later) is past 20 June 2025: the public no longer sees it, the item stays on record.
    assert disclosure.client.get("/public/v1/decisions").get_json()["items"] == []
    assert disclosure.public(f"/public/v1/decisions/{CASE_ID}") == 404
    assert disclosure.public(f"/public/decisions/{CASE_ID}") == 404


def test_a_no_penalty_decision_is_another_result_published_within_twenty_working_days(disclosure: Disclosure) -> None:
    decide(
        disclosure,
        decision="no_penalty_minor",
        penalty=None,
        major=False,
        legal_review=None,
        circumstances={"minor": True, "harmful_consequence": False, "corrected_on": "2025-03-19"},
    )
    item = disclosure.item_of(CASE_ID)
    assert (item["kind"], item["display_until"]) == ("other_decision", None)
    assert item["deadline"] == "2025-04-18"  # 21, 24–28, 31 Mar, 1–3, 7–11, 14–18 Apr (4 Apr is 清明)


def test_a_revoked_penalty_is_withdrawn_within_three_working_days(disclosure: Disclosure) -> None:
    decide(disclosure)
    revoked = example(REVOKED)  # at Sat 10 May 2025 → Mon 12, Tue 13, Wed 14
    source = disclosure.deliver(REVOKED, CASE_ID, revoked)
    item = disclosure.item_of(CASE_ID)
    assert (item["state"], item["withdrawal_deadline"]) == ("withdrawn", "2025-05-14")
    event_type, data = disclosure.events_of(item["item_id"])[-1]
    assert event_type == i.WITHDRAWN and data["source_event_id"] == source
    assert data["reason"].startswith("原决定已被依法变更或撤销")
    assert data["at"] <= data["deadline"] + "T23:59:59+08:00"
    # ... and its place on the list and at its address is the notice: number, dates and the published reason.
    listed = disclosure.client.get("/public/v1/decisions").get_json()["items"]
    assert [(d["case_id"], d["status"]) for d in listed] == [(CASE_ID, "withdrawn")]
    assert listed[0]["withdrawal"] == {"withdrawn_on": "2025-05-10", "reason": revoked["reason"]}
    assert listed[0]["decided_at"].startswith("2025-03-20") and listed[0]["summary"] is None
    gone = disclosure.client.get(f"/public/v1/decisions/{CASE_ID}")
    assert gone.status_code == 410 and gone.get_json()["withdrawal"]["decision_no"] == listed[0]["decision_no"]
    assert disclosure.public(f"/public/decisions/{CASE_ID}") == 410


def test_a_decision_changed_after_a_revocation_keeps_the_old_decisions_notice(disclosure: Disclosure) -> None:
    # Given a fine published on Thu 20 Mar 2025 and revoked on Sat 10 May 2025
    decide(disclosure)
    revoked = example(REVOKED)
    disclosure.deliver(REVOKED, CASE_ID, revoked)
    # When the case is decided again, under a new number, and that decision is published too
    again = {"decision_no": "某市监处罚〔2025〕31号", "decided_at": "2025-05-20T10:00:00+08:00"}
    disclosure.deliver(DECIDED, CASE_ID, example(DECIDED) | {"case_id": CASE_ID} | again)
    # Then the list shows the new decision and, by its own number and date, the old one's notice (art. 48)
    listed = disclosure.client.get("/public/v1/decisions").get_json()
    assert [(d["decision_no"], d["status"]) for d in listed["items"]] == [
        ("某市监处罚〔2025〕31号", "published"),
        ("某市监处罚〔2025〕12号", "withdrawn"),
    ]
    assert listed["pagination"]["total"] == 2
    notice = listed["items"][1]
    assert notice["case_id"] == CASE_ID and notice["decided_at"].startswith("2025-03-20")
    assert notice["withdrawal"] == {"withdrawn_on": "2025-05-10", "reason": revoked["reason"]}
    assert notice["summary"] is None and notice["amount_yuan"] is None and notice["display_until"] == "2028-03-20"
    # ... the case's address answers its standing decision, and the public pages list both numbers
    standing = disclosure.client.get(f"/public/v1/decisions/{CASE_ID}")
    assert standing.status_code == 200 and standing.get_json()["decision_no"] == "某市监处罚〔2025〕31号"
    page = disclosure.client.get("/public/decisions").get_data(as_text=True)
    assert "某市监处罚〔2025〕31号" in page and "某市监处罚〔2025〕12号" in page and revoked["reason"] in page
    # ... and paging by keyset walks both, one per page
    first = disclosure.client.get("/public/v1/decisions", query_string={"size": 1}).get_json()
    assert [d["decision_no"] for d in first["items"]] == ["某市监处罚〔2025〕31号"]
    following = {"size": 1, "cursor": first["pagination"]["next"]}
    by_cursor = disclosure.client.get("/public/v1/decisions", query_string=following).get_json()
    by_number = disclosure.client.get("/public/v1/decisions", query_string={"size": 1, "page": 2}).get_json()
    for second in (by_cursor, by_number):
        assert [d["decision_no"] for d in second["items"]] == ["某市监处罚〔2025〕12号"]
        assert second["pagination"]["next"] is None


def test_a_case_decided_again_shows_the_old_notice_until_the_new_decision_is_published(
    disclosure: Disclosure,
) -> None:
    decide(disclosure)
    disclosure.deliver(REVOKED, CASE_ID, example(REVOKED))
    # A new decision whose summary holds it in the review queue (a trade-secret term)
    held = {"decision_no": "某市监处罚〔2025〕31号", "decided_at": "2025-05-20T10:00:00+08:00"}
    held["summary"] = "当事人使用的核心配方涉及商业秘密，经营超过保质期的食品。"
    disclosure.deliver(DECIDED, CASE_ID, example(DECIDED) | {"case_id": CASE_ID} | held)
    gone = disclosure.client.get(f"/public/v1/decisions/{CASE_ID}")
    assert gone.status_code == 410 and gone.get_json()["withdrawal"]["decision_no"] == "某市监处罚〔2025〕12号"
    listed = disclosure.client.get("/public/v1/decisions").get_json()["items"]
    assert [(d["decision_no"], d["status"]) for d in listed] == [("某市监处罚〔2025〕12号", "withdrawn")]


def test_a_decision_revoked_before_it_was_published_leaves_no_notice(disclosure: Disclosure) -> None:
    # Given a penalty whose summary holds it in the review queue (a trade-secret term), never published
    decide(disclosure, summary="当事人使用的核心配方涉及商业秘密，经营超过保质期的食品。")
    assert disclosure.item_of(CASE_ID)["state"] == "in_review"
    # When it is revoked on Sat 10 May 2025
    disclosure.deliver(REVOKED, CASE_ID, example(REVOKED))
    # Then there was nothing public to take down: no notice on the list, and its address is not found
    assert disclosure.client.get("/public/v1/decisions").get_json()["items"] == []
    assert disclosure.public(f"/public/v1/decisions/{CASE_ID}") == 404
    assert disclosure.public(f"/public/decisions/{CASE_ID}") == 404


def test_a_revocation_reason_is_redacted_like_any_public_text(disclosure: Disclosure) -> None:
    person = {**example(OPENED)["counterpart"], "kind": "person", "name": "王建华", "uscc": None}
    person |= {"id_type": "resident_id", "id_no": "410102198001010012", "legal_representative": None}
    person |= {"address": "某县城关镇幸福路12号", "contact": "13912345678"}
    decide(disclosure, opened={"counterpart": person})
    reason = "复议机关认定王建华（住某县城关镇幸福路12号，电话13912345678）的违法事实不清，撤销原决定。"
    disclosure.deliver(REVOKED, CASE_ID, example(REVOKED) | {"reason": reason})
    gone = disclosure.client.get(f"/public/v1/decisions/{CASE_ID}")
    html = disclosure.client.get(f"/public/decisions/{CASE_ID}").get_data(as_text=True)
    listed = disclosure.client.get("/public/decisions").get_data(as_text=True)
    assert gone.status_code == 410
    assert gone.get_json()["withdrawal"]["withdrawal"]["reason"].startswith("复议机关认定王**")
    for body in (gone.get_data(as_text=True), html, listed):
        assert "撤销原决定" in body
        for secret in ("王建华", "幸福路", "13912345678"):
            assert secret not in body


def test_a_penalty_on_a_person_masks_the_name_in_everything_it_publishes(disclosure: Disclosure) -> None:
    person = {**example(ISSUED)["counterpart"], "kind": "person", "name": "王建华", "uscc": None}
    person |= {"id_type": "resident_id", "id_no": "410102198001010012", "legal_representative": None}
    person |= {"address": "某县城关镇幸福路12号", "contact": "13912345678"}
    decide(
        disclosure,
        opened={"counterpart": person},
        summary="王建华（身份证号410102198001010012，电话13912345678）经营超过保质期的食品。",
    )
    detail = disclosure.client.get(f"/public/v1/decisions/{CASE_ID}").get_json()
    html = disclosure.client.get(f"/public/decisions/{CASE_ID}").get_data(as_text=True)
    for body in (str(detail), html):
        for secret in ("王建华", "410102198001010012", "13912345678", "幸福路"):
            assert secret not in body
    assert detail["counterpart_name"] == "王**" and "王**" in detail["summary"]


def test_rebuilding_the_projection_keeps_every_item_and_what_the_public_sees(disclosure: Disclosure) -> None:
    shown = disclosure.issue()
    flagged = disclosure.issue(content="涉及配方资料。")
    decide(disclosure)
    before = sorted((row["item_id"], row["state"], row["version"]) for row in disclosure.items())
    runner = disclosure.runtime.runner()  # the same runner, which has read everything already
    runner.reset()
    runner.drain()
    after = sorted((row["item_id"], row["state"], row["version"]) for row in disclosure.items())
    assert after == before and len(after) == 3
    assert disclosure.public(f"/public/v1/guidance/{shown}") == 200
    assert disclosure.public(f"/public/v1/guidance/{flagged}") == 404
    assert disclosure.public(f"/public/v1/decisions/{CASE_ID}") == 200


def test_the_item_api_is_department_scoped_and_validated(disclosure: Disclosure) -> None:
    guidance_id = disclosure.issue()
    item = disclosure.item_of(guidance_id)
    own = disclosure.client.get(f"/v1/items/{item['item_id']}", headers=disclosure.headers("officer"))
    assert own.status_code == 200 and own.headers["ETag"] == '"1"'
    other = disclosure.client.get(f"/v1/items/{item['item_id']}", headers=disclosure.headers(department=OTHER))
    assert other.status_code == 404
    listing = disclosure.client.get(
        "/v1/items", query_string={"department_id": OTHER}, headers=disclosure.headers("officer")
    )
    assert listing.status_code == 404
    bad = disclosure.client.get(
        "/v1/items", query_string={"department_id": DEPARTMENT_ID, "state": "lost"}, headers=disclosure.headers()
    )
    assert bad.status_code == 422 and bad.headers["Content-Type"].startswith("application/problem+json")
    assert disclosure.client.get("/v1/items", query_string={"department_id": DEPARTMENT_ID}).status_code == 401
    enterprise_name = ENTERPRISE["name"]
    assert enterprise_name in disclosure.client.get(f"/public/v1/guidance/{guidance_id}").get_data(as_text=True)


# -- revisit results -----------------------------------------------------------------------------------------
SCHEDULED = "guidance.RevisitScheduled.v1"
COMPLETED = "guidance.RevisitCompleted.v1"


def revisit(disclosure: Disclosure, **completed: Any) -> None:
    for ce_type, data in ((SCHEDULED, example(SCHEDULED)), (COMPLETED, example(COMPLETED) | completed)):
        disclosure.sequence += 1
        rec = record(ce_type, data["revisit_id"], data, disclosure.sequence, topic="revisit.events")
        disclosure.runtime.transport.producer().publish([rec])
    disclosure.runtime.runner().drain()


def test_a_revisit_result_is_published_under_the_decision_it_follows(disclosure: Disclosure) -> None:
    person = {**example(ISSUED)["counterpart"], "kind": "person", "name": "王建华", "uscc": None}
    person |= {"id_type": "resident_id", "id_no": "410102198001010012", "legal_representative": None}
    decide(disclosure, opened={"counterpart": person})
    revisit(disclosure, notes="王建华已建立进货查验记录制度（电话13912345678）。")
    item = disclosure.item_of(example(SCHEDULED)["revisit_id"])
    # Completed Mon 12 May 2025: 20 working days, 2 June (端午) not counted → Tue 10 June.
    assert (item["kind"], item["state"], item["deadline"]) == ("revisit_result", "disclosed", "2025-06-10")
    detail = disclosure.client.get(f"/public/v1/decisions/{CASE_ID}").get_json()
    (shown,) = detail["revisits"]
    assert shown["completed_on"] == "2025-05-12" and shown["method"] == "visit"
    assert shown["findings"] == {
        "corrected": True,
        "conduct_ok": True,
        "rights_explained": True,
        "needs_guidance": False,
    }
    assert shown["notes"] == "王**已建立进货查验记录制度（电话［已隐去］）。"
    html = disclosure.client.get(f"/public/decisions/{CASE_ID}").get_data(as_text=True)
    assert "回访情况" in html and "已整改" in html and "王建华" not in html


def test_the_result_of_a_revisit_of_a_withheld_act_is_withheld_too(disclosure: Disclosure) -> None:
    minor = {**example(ISSUED)["counterpart"], "kind": "person", "name": "李小明", "uscc": None}
    minor |= {"id_type": "resident_id", "id_no": "110105201006010018", "legal_representative": None}
    decide(disclosure, opened={"counterpart": minor})
    assert disclosure.item_of(CASE_ID)["state"] == "withheld"
    revisit(disclosure)
    item = disclosure.item_of(example(SCHEDULED)["revisit_id"])
    assert (item["state"], item["exemption"]) == ("withheld", "minor")


CLOSED = "guidance.CaseClosed.v1"
WANG = {**example(ISSUED)["counterpart"], "kind": "person", "name": "王建华", "uscc": None} | {
    "id_type": "resident_id",
    "id_no": "410102198001010012",
    "legal_representative": None,
}


def test_a_revisit_result_read_before_its_case_waits_for_the_decision_and_is_published_as_in_order(
    disclosure: Disclosure,
) -> None:
    # revisit.events ran ahead of intake.events (a lagging partition, a rebuild's interleaving): the result
    # names a case disclosure does not know yet.
    revisit(disclosure, notes="王建华已建立进货查验记录制度（电话13912345678）。")
    revisit_id = example(SCHEDULED)["revisit_id"]
    assert [row for row in disclosure.items() if row["subject_id"] == revisit_id] == []
    decide(disclosure, opened={"counterpart": WANG})
    item = disclosure.item_of(revisit_id)
    assert (item["kind"], item["state"], item["deadline"]) == ("revisit_result", "disclosed", "2025-06-10")
    (shown,) = disclosure.client.get(f"/public/v1/decisions/{CASE_ID}").get_json()["revisits"]
    # scrubbed with the case's persons, as when the case came first
    assert shown["notes"] == "王**已建立进货查验记录制度（电话［已隐去］）。"
    assert held(disclosure) == 0


def test_a_revisit_result_read_before_a_withheld_case_is_withheld_with_it(disclosure: Disclosure) -> None:
    minor = {**WANG, "name": "李小明", "id_no": "110105201006010018"}
    revisit(disclosure)
    decide(disclosure, opened={"counterpart": minor})
    item = disclosure.item_of(example(SCHEDULED)["revisit_id"])
    assert (item["state"], item["exemption"]) == ("withheld", "minor")


def test_a_revisit_result_of_an_undecided_case_waits_for_its_closing(disclosure: Disclosure) -> None:
    revisit(disclosure)
    disclosure.deliver(OPENED, CASE_ID, example(OPENED) | {"case_id": CASE_ID})
    revisit_id = example(SCHEDULED)["revisit_id"]
    assert [row for row in disclosure.items() if row["subject_id"] == revisit_id] == []  # opened is not enough
    disclosure.deliver(CLOSED, CASE_ID, example(CLOSED) | {"case_id": CASE_ID})
    assert disclosure.item_of(revisit_id)["kind"] == "revisit_result"


def held(disclosure: Disclosure) -> int:
    with disclosure.runtime.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(held_revisit_results)).scalar_one())


def test_a_held_revisit_result_delivered_again_is_held_once(disclosure: Disclosure) -> None:
    scheduled, completed = example(SCHEDULED), example(COMPLETED)
    event_id = str(uuid.uuid4())
    for ce_type, data, eid in (
        (SCHEDULED, scheduled, None),
        (COMPLETED, completed, event_id),
        (COMPLETED, completed, event_id),
    ):
        disclosure.sequence += 1
        rec = record(ce_type, data["revisit_id"], data, disclosure.sequence, event_id=eid, topic="revisit.events")
        disclosure.runtime.transport.producer().publish([rec])
        disclosure.runtime.runner().drain()
    assert held(disclosure) == 1
    decide(disclosure)
    assert held(disclosure) == 0
    assert [row["kind"] for row in disclosure.items() if row["subject_id"] == completed["revisit_id"]] == [
        "revisit_result"
    ]
    assert len(disclosure.client.get(f"/public/v1/decisions/{CASE_ID}").get_json()["revisits"]) == 1


def test_an_act_whose_person_is_sealed_is_never_published_while_disclosure_cannot_open_it(
    disclosure: Disclosure,
) -> None:
    """Without intake's key API to open them (GUIDANCE_KEY_API_URL unset here), an act about a person whose
    fields are sealed waits aside, never published half-redacted (docs/personal-data.md §6.1)."""
    key = DataKey("AAECAwQFBgcICQoLDA0ODw", "a" * 64, bytes(range(32)))
    counterpart = {**PERSON, "subject_id": "a" * 64}
    for field in ("name", "id_no", "address", "contact"):
        counterpart[field] = seal(key, FieldContext("GuidanceIssued", f"counterpart.{field}"), PERSON[field])
    # given a sealed act about a person
    guidance_id = disclosure.issue(counterpart=counterpart)
    # then no item was opened for it, nothing is public, and the act waits aside (parked) to be redriven
    assert [row for row in disclosure.items() if row["subject_id"] == guidance_id] == []
    assert disclosure.public(f"/public/v1/guidance/{guidance_id}") == 404
    assert [p["aggregate_id"] for p in disclosure.runtime.runner().parked_aggregates()] == [guidance_id]
