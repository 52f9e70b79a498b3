"""The disclosure item, given its history, when a command comes, then these events (or this refusal)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from guidance_disclosure.domain import item as i
from guidance_disclosure.domain.item import DisclosureItem
from guidance_shared.errors import GuidanceError
from guidance_shared.events.examples import example
from guidance_shared.eventstore import StoredEvent

ITEM = "2656a843-766d-5381-a92b-f8c1f127b055"


def given(*types: str, **changes: Any) -> DisclosureItem:
    history = []
    for version, ce_type in enumerate(types, start=1):
        data = example(ce_type) | {"item_id": ITEM} | changes.get(ce_type.split(".")[1], {})
        history.append(
            StoredEvent(
                position=version,
                stream_id=ITEM,
                stream_type="Disclosure",
                version=version,
                type=ce_type,
                data=data,
                event_id=f"e{version}",
                meta={},
                occurred_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
                hash="",
                prev_hash="",
            )
        )
    return DisclosureItem.from_history(ITEM, history)


def recorded(item: DisclosureItem) -> list[str]:
    return [event.type for event in item.pending]


def test_a_new_item_opens_with_its_first_outcome() -> None:
    item = DisclosureItem(ITEM)
    item.open(i.REVIEW_REQUESTED, example(i.REVIEW_REQUESTED))
    assert recorded(item) == [i.REVIEW_REQUESTED]
    assert item.state == i.IN_REVIEW and item.deadline == date(2025, 4, 2)


def test_an_item_opens_once() -> None:
    with pytest.raises(GuidanceError) as caught:
        given(i.DISCLOSED).open(i.DISCLOSED, example(i.DISCLOSED))
    assert caught.value.status == 409


def test_a_reviewer_publishes_from_the_queue() -> None:
    item = given(i.REVIEW_REQUESTED)
    item.publish(example(i.DISCLOSED))
    assert recorded(item) == [i.DISCLOSED] and item.state == i.DISCLOSED_STATE


def test_a_reviewer_withholds_from_the_queue_or_takes_a_public_item_down() -> None:
    for history in ((i.REVIEW_REQUESTED,), (i.DISCLOSED,)):
        item = given(*history)
        item.withhold(example(i.WITHHELD))
        assert recorded(item) == [i.WITHHELD] and item.state == i.WITHHELD_STATE


def test_a_relative_exemption_may_be_lifted_but_an_absolute_one_never() -> None:
    lifted = given(i.WITHHELD, DisclosureWithheld={"exemption": "trade_secret"})
    lifted.publish(example(i.DISCLOSED))
    assert lifted.state == i.DISCLOSED_STATE
    for exemption in ("state_secret", "minor"):
        item = given(i.WITHHELD, DisclosureWithheld={"exemption": exemption})
        with pytest.raises(GuidanceError) as caught:
            item.publish(example(i.DISCLOSED))
        assert caught.value.status == 409 and caught.value.fields[0].field == "exemption"
        assert recorded(item) == []


def test_nothing_is_published_or_withheld_twice_or_after_withdrawal() -> None:
    for history, command in (
        ((i.DISCLOSED,), "publish"),
        ((i.REVIEW_REQUESTED, i.WITHHELD), "withhold"),
        ((i.DISCLOSED, i.WITHDRAWN), "publish"),
        ((i.DISCLOSED, i.WITHDRAWN), "withhold"),
    ):
        item = given(*history)
        with pytest.raises(GuidanceError):
            getattr(item, command)(example(i.DISCLOSED if command == "publish" else i.WITHHELD))
        assert recorded(item) == []


def test_a_revocation_withdraws_a_public_item_or_one_in_review_once() -> None:
    for history in ((i.DISCLOSED,), (i.REVIEW_REQUESTED,)):
        item = given(*history)
        assert item.withdraw(example(i.WITHDRAWN))
        assert not item.withdraw(example(i.WITHDRAWN))
        assert recorded(item) == [i.WITHDRAWN] and item.state == i.WITHDRAWN_STATE


def test_a_withheld_item_has_nothing_to_withdraw() -> None:
    item = given(i.WITHHELD)
    assert not item.withdraw(example(i.WITHDRAWN))
    assert recorded(item) == []


def test_an_item_in_review_past_its_deadline_is_flagged_once() -> None:
    item = given(i.REVIEW_REQUESTED)  # deadline 2025-04-02
    assert not item.flag_overdue(example(i.OVERDUE), date(2025, 4, 2))  # the deadline day itself is still in time
    assert item.flag_overdue(example(i.OVERDUE), date(2025, 4, 3))
    assert not item.flag_overdue(example(i.OVERDUE), date(2025, 4, 4))
    assert recorded(item) == [i.OVERDUE] and item.overdue_flagged


def test_a_published_item_is_never_overdue() -> None:
    assert not given(i.DISCLOSED).flag_overdue(example(i.OVERDUE), date(2030, 1, 1))
