"""Property: a natural person's ID number, phone, address and full name never reach any public output.

Acts and penalty decisions about persons, with valid GB 11643 ID numbers, mobile numbers and addresses
(sometimes written into the free text too), go through the real consumer into the projection; every public
surface (HTML list and detail, JSON item and list, Atom feed) is then searched for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.events import record
from tests.support.schema import migrated_runtime

from guidance_disclosure.bootstrap import SPEC, create_app
from guidance_shared.events.examples import PERSON, example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport

ISSUED = "guidance.GuidanceIssued.v1"
OPENED = "guidance.CaseOpened.v1"
DECIDED = "guidance.CaseDecided.v1"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "张王李赵刘陈杨黄周吴"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英"
STREET = "东西南北中新华建设解放和平幸福光明朝阳文化青年胜利"


def with_check_digit(first17: str) -> str:
    """GB 11643-1999: check = "10X98765432"[Σ(digit × weight) mod 11]."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    area = draw(st.integers(110000, 659999))
    born = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2007, 12, 31)))
    serial = draw(st.integers(0, 999))
    return with_check_digit(f"{area}{born:%Y%m%d}{serial:03d}")


mobiles = st.builds(lambda second, rest: f"1{second}{rest:09d}", st.integers(3, 9), st.integers(0, 999_999_999))
names = st.builds(
    lambda surname, given: surname + given,
    st.sampled_from(SURNAMES),
    st.text(alphabet=GIVEN, min_size=1, max_size=2),
)
addresses = st.builds(
    lambda city, street, no, unit: f"{city}市{street}路{no}号{unit}单元",
    st.text(alphabet=STREET, min_size=2, max_size=3),
    st.text(alphabet=STREET, min_size=2, max_size=4),
    st.integers(1, 999),
    st.integers(1, 30),
)


def assert_shown_without(responses: dict[str, Any], subject_id: str, secrets: tuple[str, ...]) -> None:
    """Every surface answers and shows the act (so the secrets' absence means something), and no secret."""
    for where, response in responses.items():
        assert response.status_code == 200, where
        body = response.get_data(as_text=True)
        assert subject_id in body or where == "html detail", where  # the detail page links nothing by id
        for secret in secrets:
            assert secret not in body, (where, secret)


@pytest.fixture
def disclosure(tmp_path: Path) -> Iterator[tuple[Runtime, FlaskClient]]:
    """One runtime and one app for all examples: an app registers metrics on the runtime's registry once."""
    transport = EmbeddedTransport(str(tmp_path / "log.sqlite"))
    runtime = migrated_runtime(
        SPEC, Settings.from_env("disclosure", {"GUIDANCE_VAR_DIR": str(tmp_path)}), transport=transport
    )
    transport.create_topics(["intake.events", "revisit.events", "disclosure.events", "disclosure.dlq"], partitions=3)
    yield runtime, create_app(runtime, testing=True, public_rate_limit=0).test_client()
    runtime.engine.dispose()
    transport.close()


@settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    id_no=resident_ids(),
    phone=mobiles,
    address=addresses,
    name=names,
    in_matter=st.booleans(),
    in_content=st.booleans(),
)
def test_personal_data_never_reaches_a_public_page_api_or_feed(
    disclosure: tuple[Runtime, FlaskClient],
    id_no: str,
    phone: str,
    address: str,
    name: str,
    in_matter: bool,
    in_content: bool,
) -> None:
    guidance_id = str(uuid.uuid4())
    data = example(ISSUED)
    person = {**PERSON, "name": name, "id_no": id_no, "contact": phone, "address": address}
    data.update(guidance_id=guidance_id, counterpart=person)
    if in_matter:
        data["matter"] = f"{data['matter']}（当事人身份证号{id_no}，联系电话{phone}）"
    if in_content:
        data["content"] = f"请当事人{name}（公民身份号码：{id_no}；手机 {phone}；住址 {address}）{data['content']}"
    runtime, client = disclosure
    runtime.transport.producer().publish([record(ISSUED, guidance_id, data, 1)])
    assert runtime.runner().drain() >= 1

    responses = {
        "html list": client.get("/public/guidance?size=100"),
        "html detail": client.get(f"/public/guidance/{guidance_id}"),
        "json item": client.get(f"/public/v1/guidance/{guidance_id}"),
        "json list": client.get("/public/v1/guidance?size=100"),
        "atom feed": client.get("/public/guidance/feed.atom"),
    }
    assert_shown_without(responses, guidance_id, (id_no, phone, address, name))
    assert responses["json item"].get_json()["counterpart_name"] == name[0] + "*" * (len(name) - 1)
    assert f"{name[0]}*" in responses["html detail"].get_data(as_text=True)


@settings(max_examples=20, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(id_no=resident_ids(), phone=mobiles, address=addresses, name=names, in_summary=st.booleans())
def test_personal_data_never_reaches_a_published_decision(
    disclosure: tuple[Runtime, FlaskClient], id_no: str, phone: str, address: str, name: str, in_summary: bool
) -> None:
    """The same for penalty decisions on natural persons: the case's violation text and the decision's summary
    may name them, give their number or phone; the decision pages and JSON show none of it."""
    case_id = str(uuid.uuid4())
    person = {**PERSON, "name": name, "id_no": id_no, "contact": phone, "address": address}
    opened = example(OPENED) | {"case_id": case_id, "counterpart": person}
    opened["violation"] = {**opened["violation"], "description": f"{name}（住{address}）经营超过保质期的食品。"}
    decided = example(DECIDED) | {"case_id": case_id}
    if in_summary:
        decided["summary"] = f"当事人{name}，公民身份号码{id_no}，联系电话{phone}，经营超过保质期的食品。"
    runtime, client = disclosure
    runtime.transport.producer().publish([record(OPENED, case_id, opened, 1), record(DECIDED, case_id, decided, 2)])
    assert runtime.runner().drain() >= 2

    responses = {
        "html list": client.get("/public/decisions?size=100"),
        "html detail": client.get(f"/public/decisions/{case_id}"),
        "json item": client.get(f"/public/v1/decisions/{case_id}"),
        "json list": client.get("/public/v1/decisions?size=100"),
    }
    assert_shown_without(responses, case_id, (id_no, phone, address, name))
    assert responses["json item"].get_json()["counterpart_name"] == name[0] + "*" * (len(name) - 1)
