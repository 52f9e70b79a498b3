"""Property: a natural person's ID number, phone, address and full name never reach any public output.

Acts and penalty decisions about persons, with valid GB 11643 ID numbers, mobile numbers and addresses
(sometimes written into the free text too), go through the real consumer into the projection; every public
surface (HTML list and detail, JSON item and list, Atom feed) is then searched for them.

The numbers are also written as people type them (in groups joined by spaces, dashes or dots, in
full-width digits, mixed), and names stand in the text in context: an individual business's operator,
a shop assistant, a witness. An act whose text may still name someone the rules cannot be sure of is
held for review instead (``domain/names.py``): then it is on no public surface at all, which the test
checks too. ``case_person_names`` holds none of the values in clear.
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
from sqlalchemy import select
from tests.support.events import record
from tests.support.schema import migrated_runtime

from guidance_disclosure.adapters.projection import case_person_names
from guidance_disclosure.adapters.read_model import disclosure_items
from guidance_disclosure.bootstrap import SPEC, create_app
from guidance_shared.events.examples import INDIVIDUAL_BUSINESS, PERSON, example
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


# -- numbers as typed, names in context ---------------------------------------------------------------------------
FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)} | {"X": "\uff38"}
SEPARATORS = (" ", "-", "\u3000", "\uff0d", " - ", ".")


@st.composite
def typed(draw: st.DrawFn, number: str) -> str:
    """``number`` cut in three or four groups joined by any separators, some digits full-width."""
    cuts = sorted(draw(st.sets(st.integers(2, len(number) - 2), min_size=2, max_size=3)))
    chars = "".join(FULL_WIDTH[c] if draw(st.booleans()) and c in FULL_WIDTH else c for c in number)
    groups = [chars[a:b] for a, b in zip([0, *cuts], [*cuts, len(number)], strict=True)]
    return groups[0] + "".join(draw(st.sampled_from(SEPARATORS)) + g for g in groups[1:])


def published_or_held(runtime: Runtime, subject_id: str) -> str:
    """The item's state; an item held for review must be held for a possible name, nothing else here."""
    with runtime.engine.connect() as conn:
        held = select(disclosure_items.c.state, disclosure_items.c.flags)
        row = conn.execute(held.where(disclosure_items.c.subject_id == subject_id)).one()
    assert row.state in ("disclosed", "in_review"), row.state
    if row.state == "in_review":
        assert "person_name" in (row.flags or ""), row.flags
    return str(row.state)


def assert_nowhere(responses: dict[str, Any], subject_id: str, state: str, secrets: tuple[str, ...]) -> None:
    if state == "disclosed":
        assert_shown_without(responses, subject_id, secrets)
        return
    for where, response in responses.items():  # held: on no public surface, so nothing of it either
        body = response.get_data(as_text=True)
        assert subject_id not in body, where
        for secret in secrets:
            assert secret not in body, (where, secret)


@settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    id_no=resident_ids(),
    phone=mobiles,
    operator=names,
    assistant=names,
    witness=names,
)
def test_typed_numbers_and_names_in_context_never_reach_a_public_surface(
    disclosure: tuple[Runtime, FlaskClient],
    data: st.DataObject,
    id_no: str,
    phone: str,
    operator: str,
    assistant: str,
    witness: str,
) -> None:
    """An act about an individual business: its operator (whose ID number and phone the event carries) is
    named in the text with their numbers typed in groups or full-width, beside a shop assistant and a witness."""
    guidance_id = str(uuid.uuid4())
    shop = {**INDIVIDUAL_BUSINESS, "legal_representative": operator, "id_no": id_no, "id_type": "resident_id"}
    shop["contact"] = phone
    sale = example(ISSUED) | {"guidance_id": guidance_id, "counterpart": shop}
    sale["content"] = (
        f"经营者{operator}（身份证{data.draw(typed(id_no))}，电话{data.draw(typed(phone))}）未公示营业执照；"
        f"店员{assistant}称不知情，证人{witness}证实。{sale['content']}"
    )
    runtime, client = disclosure
    runtime.transport.producer().publish([record(ISSUED, guidance_id, sale, 1)])
    assert runtime.runner().drain() >= 1

    responses = {
        "html list": client.get("/public/guidance?size=100"),
        "html detail": client.get(f"/public/guidance/{guidance_id}"),
        "json item": client.get(f"/public/v1/guidance/{guidance_id}"),
        "json list": client.get("/public/v1/guidance?size=100"),
        "atom feed": client.get("/public/guidance/feed.atom"),
    }
    state = published_or_held(runtime, guidance_id)
    assert_nowhere(responses, guidance_id, state, (id_no, phone, operator, assistant, witness))


@settings(max_examples=20, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), id_no=resident_ids(), phone=mobiles, address=addresses, name=names, witness=names)
def test_a_decision_is_cleaned_by_the_marks_alone(
    disclosure: tuple[Runtime, FlaskClient],
    data: st.DataObject,
    id_no: str,
    phone: str,
    address: str,
    name: str,
    witness: str,
) -> None:
    """The decision comes after its case, so its summary is cleaned with what ``case_person_names`` kept: marks,
    never the values (the table is searched for them), yet the person's name, ID number typed in groups and
    address are all found again."""
    case_id = str(uuid.uuid4())
    person = {**PERSON, "name": name, "id_no": id_no, "contact": phone, "address": address}
    opened = example(OPENED) | {"case_id": case_id, "counterpart": person}
    decided = example(DECIDED) | {"case_id": case_id}
    spaced_address = address.replace("路", " 路 ")
    decided["summary"] = (
        f"当事人{name}（公民身份号码{data.draw(typed(id_no))}，住{spaced_address}，电话{data.draw(typed(phone))}）"
        f"经营超过保质期的食品，证人{witness}在场。"
    )
    runtime, client = disclosure
    runtime.transport.producer().publish([record(OPENED, case_id, opened, 1), record(DECIDED, case_id, decided, 2)])
    assert runtime.runner().drain() >= 2

    with runtime.engine.connect() as conn:
        kept = conn.execute(select(case_person_names).where(case_person_names.c.case_id == case_id)).one()
    for value in (id_no, phone, address, name, name[1:]):
        assert all(value not in str(column) for column in kept), value
    responses = {
        "html list": client.get("/public/decisions?size=100"),
        "html detail": client.get(f"/public/decisions/{case_id}"),
        "json item": client.get(f"/public/v1/decisions/{case_id}"),
        "json list": client.get("/public/v1/decisions?size=100"),
    }
    state = published_or_held(runtime, case_id)
    assert_nowhere(responses, case_id, state, (id_no, phone, address, name, witness))
