"""An item waiting for a reviewer whose publication deadline was estimated: flagged, and counted again
(DisclosureDeadlineRecomputed) when the worker restarts with 2027's arrangement in the override file.

A guidance act issued Wed 20 Jan 2027 names a possible trade secret, so it waits for a reviewer; its
deadline is 20 working days later, Tue 23 Feb on the estimate (chinesecalendar 1.11 does not describe
2027). The arrangement gives 11 February off as well: Wed 24 Feb.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.auth import AuthKeys
from tests.support.calendars import CHINA, disclosure_in_2027, with_arrangement_2027
from tests.support.events import record
from tests.support.projections import assert_read_models_refold

from guidance_disclosure.bootstrap import create_app
from guidance_disclosure.entrypoints import worker
from guidance_shared.catalogue import DISCLOSURE_DEADLINE_RECOMPUTED, GUIDANCE_ISSUED
from guidance_shared.events.examples import DEPARTMENT_ID, example
from guidance_shared.runtime import Runtime


@pytest.fixture
def var(tmp_path: Path) -> Path:
    return with_arrangement_2027(tmp_path)


def start(var: Path, *, arrangement: bool) -> Runtime[Any]:
    """The service as a process starts it, with or without the override file; its clock on 20 Jan 2027."""
    runtime = disclosure_in_2027(var, arrangement=arrangement)
    runtime.deps.items.now = lambda: datetime(2027, 1, 20, 10, 31, tzinfo=CHINA)
    return runtime


def review_queue(client: Any, keys: AuthKeys) -> list[tuple[str, str, bool]]:
    response = client.get(
        "/v1/items",
        query_string={"department_id": DEPARTMENT_ID, "state": "in_review"},
        headers=keys.headers("auditor-1", DEPARTMENT_ID, ["auditor"]),
    )
    assert response.status_code == 200, response.get_json()
    return [(r["item_id"], r["deadline"], r["deadline_estimated"]) for r in response.get_json()["items"]]


def test_an_estimated_publication_deadline_in_review_is_counted_again_when_the_arrangement_arrives(
    var: Path, auth_keys: AuthKeys
) -> None:
    # Given an act issued while 2027 had no published arrangement, held for review
    runtime = start(var, arrangement=False)
    try:
        guidance_id = str(uuid.uuid4())
        issued = example(GUIDANCE_ISSUED) | {
            "guidance_id": guidance_id,
            "issued_at": "2027-01-20T10:30:00+08:00",
            "correction_deadline": "2027-03-31",
            "content": "建议企业妥善保管核心配方资料，建立保密制度。",
        }
        runtime.transport.producer().publish([record(GUIDANCE_ISSUED, guidance_id, issued, 1)])
        runtime.runner().drain()
        client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
        [(item_id, deadline, estimated)] = review_queue(client, auth_keys)
        assert (deadline, estimated) == ("2027-02-23", True)
        worker.deadline_recount(runtime, threading.Event())  # the same calendar: nothing changes
        assert review_queue(client, auth_keys) == [(item_id, "2027-02-23", True)]
    finally:
        runtime.close()

    # When the worker starts again with the override file that describes 2027
    runtime = start(var, arrangement=True)
    try:
        worker.deadline_recount(runtime, threading.Event())
        worker.deadline_recount(runtime, threading.Event())

        # Then the item is due a working day later, no longer an estimate, and the ledger says so once
        client = create_app(runtime, testing=True, auth=auth_keys.settings()).test_client()
        assert review_queue(client, auth_keys) == [(item_id, "2027-02-24", False)]
        assert runtime.store is not None
        changes = [e.data for e in runtime.store.load(item_id) if e.type == DISCLOSURE_DEADLINE_RECOMPUTED]
        assert [(c["previous_deadline"], c["deadline"], c["deadline_estimated"]) for c in changes] == [
            ("2027-02-23", "2027-02-24", False)
        ]
        assert changes[0]["calendar_version"] == runtime.deps.items.calendar.version
        assert_read_models_refold(runtime)
    finally:
        runtime.close()
