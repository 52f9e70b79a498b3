"""The public pages, the list API, the Atom feed and the rate limit, fed through the real disclosure consumer."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from tests.support.events import record

from guidance_disclosure.adapters import queries
from guidance_disclosure.bootstrap import SPEC, create_app
from guidance_disclosure.entrypoints.http.rate_limit import TokenBucketLimiter
from guidance_shared.events.examples import DEPARTMENT_ID, example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

ISSUED, WITHDRAWN, SUSPENDED = (
    f"guidance.{name}.v1" for name in ("GuidanceIssued", "GuidanceWithdrawn", "GuidanceSuspended")
)
ATOM = "{http://www.w3.org/2005/Atom}"
OTHER_DEPARTMENT = "0b0e5f5e-2b6c-4a53-9d7a-3f7a1b2c3d4e"


class Feeder:
    """Publishes intake events to the embedded log and drains disclosure's consumer, as production does."""

    def __init__(self, transport: EmbeddedTransport, runtime: Runtime) -> None:
        self.transport, self.runtime, self.sequence = transport, runtime, 0

    def publish(self, ce_type: str, data: dict[str, Any]) -> None:
        self.sequence += 1
        self.transport.producer().publish([record(ce_type, str(data["guidance_id"]), data, self.sequence)])

    def issue(self, day: int, **changes: Any) -> str:
        guidance_id = str(uuid.uuid4())
        data = example(ISSUED)
        data.update(
            guidance_id=guidance_id,
            doc_no=f"某市监指〔2025〕第{day:03d}号",
            issued_at=f"2025-03-{day:02d}T09:00:00+08:00",
            correction_deadline="2025-12-31",
        )
        data.update(changes)
        self.publish(ISSUED, data)
        return guidance_id

    def status(self, ce_type: str, guidance_id: str) -> None:
        self.publish(ce_type, {**example(ce_type), "guidance_id": guidance_id})

    def drain(self) -> int:
        return self.runtime.runner().drain()


@pytest.fixture
def disclosure(tmp_path: Path) -> Iterator[tuple[Feeder, Runtime]]:
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    runtime = Runtime(SPEC, Settings.from_env("disclosure", {"GUIDANCE_VAR_DIR": str(tmp_path)}), transport=transport)
    transport.create_topics(["intake.events", "revisit.events", "disclosure.events", "disclosure.dlq"], partitions=3)
    yield Feeder(transport, runtime), runtime
    runtime.engine.dispose()
    transport.close()


def _app(runtime: Runtime, limit: int = 0) -> Flask:
    return create_app(runtime, testing=True, public_rate_limit=limit)


@pytest.fixture
def story(disclosure: tuple[Feeder, Runtime]) -> dict[str, str]:
    feeder, _ = disclosure
    ids = {
        "old": feeder.issue(1),
        "advice": feeder.issue(5, content_type="violation_correction", related_case_id=str(uuid.uuid4())),
        "other_dept": feeder.issue(10, department_id=OTHER_DEPARTMENT),
        "suspended": feeder.issue(12),
        "withdrawn": feeder.issue(15),
        "withheld": feeder.issue(
            20, disclosure={"level": "withheld", "exemption": "trade_secret", "reason": "涉及商业秘密"}
        ),
        "newest": feeder.issue(25),
    }
    feeder.status(SUSPENDED, ids["suspended"])
    feeder.status(WITHDRAWN, ids["withdrawn"])
    assert feeder.drain() == 9
    return ids


def test_the_json_list_is_newest_first_and_shows_only_published_acts(disclosure, story) -> None:
    client = _app(disclosure[1]).test_client()
    body = client.get("/public/v1/guidance").get_json()
    ids = [item["guidance_id"] for item in body["items"]]
    assert ids == [story[k] for k in ("newest", "suspended", "other_dept", "advice", "old")]
    assert body["pagination"] == {"page": 1, "size": 20, "total": 5, "total_exact": True, "pages": 1, "next": None}
    assert client.get(f"/public/v1/guidance/{story['withdrawn']}").status_code == 404
    assert client.get(f"/public/v1/guidance/{story['suspended']}").get_json()["status"] == "suspended"


def test_the_json_list_filters_and_pages(disclosure, story) -> None:
    client = _app(disclosure[1]).test_client()

    def ids(query: str) -> list[str]:
        response = client.get(f"/public/v1/guidance?{query}")
        assert response.status_code == 200, response.get_json()
        return [item["guidance_id"] for item in response.get_json()["items"]]

    assert ids(f"department_id={OTHER_DEPARTMENT}") == [story["other_dept"]]
    assert ids("content_type=violation_correction") == [story["advice"]]
    assert ids("from=2025-03-05&to=2025-03-10") == [story["other_dept"], story["advice"]]
    assert ids("size=2&page=2") == [story["other_dept"], story["advice"]]
    page3 = client.get("/public/v1/guidance?size=2&page=3").get_json()
    assert page3["pagination"] == {"page": 3, "size": 2, "total": 5, "total_exact": True, "pages": 3, "next": None}
    for bad in (
        "size=101",
        "page=0",
        "page=501",  # past the first 10,000 rows at the default size: follow the cursor
        "size=100&page=101",
        "cursor=not-a-cursor",
        "cursor=WyJhIl0",  # base64 of ["a"]: a list, but not a sort key
        "page=2&cursor=WyIyMDI1LTAzLTEwIiwgIngiXQ",
        "from=2025-13-01",
        "content_type=nope",
        "department_id=x",
        "from=2025-03-02&to=2025-03-01",
    ):
        response = client.get(f"/public/v1/guidance?{bad}")
        assert response.status_code == 422, bad
        assert response.content_type == "application/problem+json"


def test_following_next_walks_the_whole_list_once_in_order_with_its_filters(disclosure, story) -> None:
    """The keyset: each page's ``next`` (and its ``Link: rel=next``) starts after the previous page's last row,
    so the walk yields every listed act exactly once, newest first, under the same filters."""
    client = _app(disclosure[1]).test_client()
    everything = [item["guidance_id"] for item in client.get("/public/v1/guidance").get_json()["items"]]

    walked, url, pages = [], "/public/v1/guidance?size=2", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        walked += [item["guidance_id"] for item in body["items"]]
        pages += 1
        following = body["pagination"]["next"]
        if following:
            link = response.headers["Link"]
            assert link.startswith("</public/v1/guidance?") and link.endswith('>; rel="next"') and "size=2" in link
            url = link[1 : link.index(">")]
            assert f"cursor={following}" in url
            assert client.get(url).get_json()["pagination"]["page"] is None
        else:
            assert "Link" not in response.headers
            url = ""
    assert walked == everything and pages == 3

    filtered = client.get(f"/public/v1/guidance?size=1&department_id={DEPARTMENT_ID}").get_json()
    second = client.get(
        f"/public/v1/guidance?size=1&department_id={DEPARTMENT_ID}&cursor={filtered['pagination']['next']}"
    ).get_json()
    assert [i["guidance_id"] for i in filtered["items"] + second["items"]] == [story["newest"], story["suspended"]]


def test_a_count_past_its_cap_says_more_than(disclosure, story, monkeypatch: pytest.MonkeyPatch) -> None:
    """The count stops at ``COUNT_CAP`` so it costs the same after years of acts; the list says "more than"."""
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    client = _app(disclosure[1]).test_client()
    body = client.get("/public/v1/guidance?size=2").get_json()
    assert body["pagination"]["total"] == 3 and body["pagination"]["total_exact"] is False
    assert body["pagination"]["pages"] is None and body["pagination"]["next"]
    assert "超过 3 条" in client.get("/public/guidance?size=2").get_data(as_text=True)
    monkeypatch.setattr(queries, "COUNT_CAP", 5)
    exact = client.get("/public/v1/guidance?size=2").get_json()["pagination"]
    assert (exact["total"], exact["total_exact"], exact["pages"]) == (5, True, 3)


def test_the_html_list_filters_pages_and_explains_bad_input_in_chinese(disclosure, story) -> None:
    client = _app(disclosure[1]).test_client()
    page = client.get("/public/guidance")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<html lang="zh-CN">' in html and 'name="viewport"' in html and "<script" not in html
    assert 'for="content_type"' in html and 'for="from"' in html and 'for="to"' in html
    assert "轻微问题警示 某市监指〔2025〕第025号" in html and "已中止" in html
    assert "第015号" not in html and "第020号" not in html  # withdrawn, withheld
    assert html.index("第025号") < html.index("第012号") < html.index("第001号")
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"

    filtered = client.get("/public/guidance?content_type=violation_correction&department_id=&from=&to=").get_data(
        as_text=True
    )
    assert "第005号" in filtered and "第025号" not in filtered
    paged = client.get("/public/guidance?size=2&page=2").get_data(as_text=True)
    assert "第010号" in paged and "第025号" not in paged and "上一页" in paged and "下一页" in paged
    following = paged[paged.index('rel="next" href="') + len('rel="next" href="') :].split('"', 1)[0]
    assert "cursor=" in following and "size=2" in following and "page=" not in following
    last = client.get(following.replace("&amp;", "&")).get_data(as_text=True)
    assert "第001号" in last and "第010号" not in last and "下一页" not in last and "首页" in last

    bad = client.get("/public/guidance?size=500&from=2025-02-30")
    assert bad.status_code == 400 and bad.mimetype == "text/html"
    text = bad.get_data(as_text=True)
    assert "每页条数应为 1 至 100 之间的整数" in text and "起始日期格式不正确" in text
    assert client.get("/public/guidance/static/public.css").status_code == 200


def test_the_detail_page_shows_basis_content_methods_procedure_and_rights(disclosure, story) -> None:
    client = _app(disclosure[1]).test_client()
    page = client.get(f"/public/guidance/{story['newest']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    data = example(ISSUED)
    for heading in ("法律依据", "指导内容", "指导方式", "形式", "文号", "发布部门", "权利告知"):
        assert f">{heading}<" in html, heading
    assert "知情权、参与权、救济权" in html
    assert data["legal_basis"][0]["instrument"].replace("《", "&lt;") not in html
    assert "警告告诫" in html and "规劝提示" in html and "书面" in html
    assert "某县市场监督管理局" in html and "启动方式" in html and "依职权" in html
    assert data["rights_notice"][:10] in html
    assert "<script" not in html


def test_unknown_withheld_withdrawn_and_malformed_ids_are_a_chinese_404_page(disclosure, story) -> None:
    client = _app(disclosure[1]).test_client()
    for ident in (str(uuid.uuid4()), story["withheld"], story["withdrawn"], "not-a-uuid"):
        page = client.get(f"/public/guidance/{ident}")
        assert page.status_code == 404 and page.mimetype == "text/html", ident
        assert "未找到该公开信息" in page.get_data(as_text=True)


def test_the_atom_feed_lists_published_acts_with_chinese_titles_and_links(disclosure, story) -> None:
    client = _app(disclosure[1]).test_client()
    response = client.get("/public/guidance/feed.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 5
    first = entries[0]
    assert first.findtext(f"{ATOM}title", "").startswith("轻微问题警示 某市监指〔2025〕第025号：")
    assert first.findtext(f"{ATOM}updated") == "2025-03-25T09:00:00+08:00"
    assert feed.findtext(f"{ATOM}updated") == "2025-03-25T09:00:00+08:00"
    link = first.find(f"{ATOM}link")
    assert link is not None and link.get("href", "").endswith(f"/public/guidance/{story['newest']}")
    assert first.findtext(f"{ATOM}id") == f"urn:uuid:{story['newest']}"


def test_the_feed_holds_at_most_fifty_entries(disclosure) -> None:
    feeder, runtime = disclosure
    for i in range(55):
        feeder.issue(1 + i % 28)
    feeder.drain()
    feed = ET.fromstring(_app(runtime).test_client().get("/public/guidance/feed.atom").data)
    assert len(feed.findall(f"{ATOM}entry")) == 50


def test_public_endpoints_are_rate_limited_per_client_with_a_problem_and_retry_after(disclosure, story) -> None:
    client = _app(disclosure[1], limit=3).test_client()
    for _ in range(3):
        assert client.get("/public/v1/guidance").status_code == 200
    limited = client.get("/public/guidance")
    assert limited.status_code == 429 and limited.content_type == "application/problem+json"
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.get_json()["title_zh"] == "请求过于频繁"
    other = client.get("/public/guidance", environ_overrides={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200
    assert client.get("/openapi.json").status_code == 200  # only /public/ is limited


@pytest.fixture
def behind_one_proxy(tmp_path: Path) -> Iterator[Runtime]:
    """disclosure as deployed behind one trusted reverse proxy (an ingress), with no acts published."""
    transport = EmbeddedTransport(str(tmp_path / "proxied-log.sqlite"))
    env = {"GUIDANCE_VAR_DIR": str(tmp_path / "proxied"), "GUIDANCE_TRUSTED_PROXIES": "1"}
    (tmp_path / "proxied").mkdir()
    runtime = Runtime(SPEC, Settings.from_env("disclosure", env), transport=transport)
    yield runtime
    runtime.engine.dispose()
    transport.close()


def _via(proxy: str, forwarded_for: str) -> dict[str, Any]:
    return {"environ_overrides": {"REMOTE_ADDR": proxy}, "headers": {"X-Forwarded-For": forwarded_for}}


def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(behind_one_proxy: Runtime) -> None:
    client = _app(behind_one_proxy, limit=2).test_client()
    proxy = "10.1.0.2"
    assert [client.get("/public/v1/guidance", **_via(proxy, "203.0.113.7")).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert client.get("/public/v1/guidance", **_via(proxy, "198.51.100.4")).status_code == 200  # another citizen
    # The proxy appends the address it saw: what the client wrote before it does not choose the bucket.
    assert client.get("/public/v1/guidance", **_via(proxy, "198.51.100.99, 203.0.113.7")).status_code == 429


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(disclosure, story) -> None:
    client = _app(disclosure[1], limit=2).test_client()
    peer = "10.1.0.3"
    spoofed = [client.get("/public/v1/guidance", **_via(peer, f"203.0.113.{n}")).status_code for n in range(3)]
    assert spoofed == [200, 200, 429]  # one peer, one bucket, whatever the header claims


def test_a_limit_of_zero_turns_the_limiter_off(disclosure, story) -> None:
    client = _app(disclosure[1], limit=0).test_client()
    assert all(client.get("/public/v1/guidance").status_code == 200 for _ in range(100))


def test_the_token_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = TokenBucketLimiter(60, clock=lambda: now[0])
    assert all(limiter.acquire("a") == 0.0 for _ in range(60))
    assert limiter.acquire("a") == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("b") == 0.0


@pytest.mark.parametrize(
    "path", ["/public/v1/guidance", "/public/v1/decisions", "/public/guidance", "/public/guidance/feed.atom"]
)
def test_public_reads_carry_an_etag_a_proxy_can_revalidate(disclosure, story, path: str) -> None:
    """A repeat visitor (or a CDN) that sends back the ETag gets 304 without the body, until the content changes."""
    feeder, runtime = disclosure
    client = _app(runtime).test_client()
    first = client.get(path)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]

    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag

    feeder.issue(27)
    assert feeder.drain() == 1
    changed = client.get(path, headers={"If-None-Match": etag})
    if path.startswith("/public/v1/decisions"):  # a guidance act does not change the decisions list
        assert changed.status_code == 304
    else:
        assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_errors_are_not_marked_cacheable(disclosure, story) -> None:
    client = _app(disclosure[1]).test_client()
    assert "Cache-Control" not in client.get("/public/v1/guidance?size=0").headers
    assert "ETag" not in client.get(f"/public/v1/guidance/{story['withdrawn']}").headers
