"""What disclosure publishes about a person once intake erased them (docs/personal-data.md §6.1, §10), with a real
intake that sealed their fields and serves its key API over real HTTP, and disclosure's real consumer runner.

- ``PersonalDataErased`` drops the person's cached keys at once: an act sealed under the erased key that arrives
  afterwards opens as ［已删除］ (intake is asked again and answers 410), not from the cache.
- After the erasure the live projection is what a rebuild from offset zero makes (``guidance-disclosure
  rebuild``): every public table, the public API and the 双公示 export are equal. The person's name and every free
  text of their acts read ［已删除］ in both, and nothing of theirs (not even a keyed mark) is kept; another
  person's act is untouched.
- A resident whose ID number was erased may have been a minor: an act about them that disclosure first meets
  after the erasure is withheld, never published.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from guidance_disclosure.adapters.projection import PUBLIC_MODEL, case_person_names, person_acts, public_guidance
from guidance_disclosure.adapters.read_model import disclosure_items
from guidance_disclosure.bootstrap import SPEC as DISCLOSURE
from guidance_disclosure.bootstrap import create_app
from guidance_shared import access_log
from guidance_shared.db import make_engine
from guidance_shared.events.examples import DEPARTMENT_ID, INDIVIDUAL_BUSINESS, PERSON, example
from guidance_shared.messages import StoredEvent
from guidance_shared.personal_data.errors import ERASED_TEXT
from guidance_shared.privacy import mask_name
from guidance_shared.rebuild import ShadowRebuild
from guidance_shared.settings import Settings
from guidance_shared.transport.base import Record
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.auth import AuthKeys
from tests.support.events import record
from tests.support.intake_keys import PSEUDONYM_KEY, Intake
from tests.support.schema import migrated_runtime
from tests.support.services import case_command, decision_command, guidance_command

CHINA = ZoneInfo("Asia/Shanghai")
SCRUB_KEY = "s" * 40
ERASURES = "/v1/personal-data/erasures"
MINOR = {**PERSON, "name": "王小明", "id_no": "11010520100601001X", "contact": "13700137000"}
TOLD = f"经查，{PERSON['name']}（电话{PERSON['contact']}，住{PERSON['address']}）未按规定公示。"
TOPICS = ["intake.events", "revisit.events", "disclosure.events", "disclosure.dlq"]


class Disclosure:
    """A disclosure opening sealed fields with the served intake's keys, on an embedded log its settings name (so a
    rebuild replays the same log), its web app made once."""

    def __init__(self, var_dir: Path, served: Intake, keys: AuthKeys, database_url: str | None) -> None:
        env = {
            "GUIDANCE_VAR_DIR": str(var_dir),
            "GUIDANCE_EMBEDDED_LOG": str(var_dir / "log.sqlite"),
            "GUIDANCE_SCRUB_KEY": SCRUB_KEY,
            "GUIDANCE_KEY_API_URL": served.url,
            "GUIDANCE_KEY_API_TOKEN": served.service_token(keys, "pd-open"),
            "GUIDANCE_PSEUDONYM_KEY": PSEUDONYM_KEY,
            **({"GUIDANCE_DATABASE_URL": database_url} if database_url else {}),
        }
        settings = Settings.from_env("disclosure", env)
        transport = EmbeddedTransport(settings.embedded_log)
        transport.create_topics(TOPICS, 3)
        engine = {"engine": make_engine(database_url)} if database_url else {}
        self.runtime = migrated_runtime(DISCLOSURE, settings, transport=transport, **engine)
        self.runtime.deps.items.now = lambda: datetime(2025, 3, 5, 10, 31, tzinfo=CHINA)
        self.client = create_app(self.runtime, testing=True, auth=keys.settings(), public_rate_limit=0).test_client()
        self.keys = keys

    def deliver(self, events: list[StoredEvent], *extra: Record) -> None:
        records = [record(e.type, e.stream_id, e.data, e.version, event_id=e.event_id) for e in events]
        self.runtime.transport.producer().publish([*records, *extra])
        self.runtime.runner().drain(timeout_s=300)  # the first act loads the segmenter: slow on a busy machine
        assert self.runtime.runner().parked_aggregates() == []

    def tables(self) -> dict[str, list[tuple[str, ...]]]:
        with self.runtime.engine.connect() as conn:
            return {
                table.name: sorted(tuple(map(str, row)) for row in conn.execute(select(table)))
                for table in PUBLIC_MODEL.sorted_tables
            }

    def published(self) -> dict[str, Any]:
        """Everything public disclosure holds or serves: its public tables, the public API, the 双公示 export."""
        pages = {path: self.client.get(path).get_json() for path in ("/public/v1/guidance", "/public/v1/decisions")}
        for act in pages["/public/v1/guidance"]["items"]:
            pages[act["guidance_id"]] = self.client.get(f"/public/v1/guidance/{act['guidance_id']}").get_json()
        for decision in pages["/public/v1/decisions"]["items"]:
            answer = self.client.get(f"/public/v1/decisions/{decision['case_id']}").get_json()
            answer.pop("request_id", None)  # a withdrawn decision is a 410 problem, named by each request's own id
            pages[decision["case_id"]] = answer
        export = self.client.get(
            "/v1/credit/penalties",
            query_string={"department_id": DEPARTMENT_ID, "format": "csv", "from": "2025-01-01", "to": "2025-12-31"},
            headers=self.keys.headers("officer-1", DEPARTMENT_ID, ["officer"]),
        )
        assert export.status_code == 200, export.get_data(as_text=True)
        return {"tables": self.tables(), "pages": pages, "export": export.get_data(as_text=True)}

    def item_state(self, subject_id: str) -> tuple[str, str | None]:
        with self.runtime.engine.connect() as conn:
            row = conn.execute(
                select(disclosure_items.c.state, disclosure_items.c.exemption).where(
                    disclosure_items.c.subject_id == subject_id
                )
            ).one()
        return row.state, row.exemption


@pytest.fixture
def live(tmp_path: Path, served: Intake, auth_keys: AuthKeys) -> Iterator[Disclosure]:
    made = Disclosure(tmp_path / "disclosure", served, auth_keys, None)
    yield made
    made.runtime.close()


def post(served: Intake, keys: AuthKeys, path: str, body: dict[str, Any]) -> dict[str, Any]:
    officer = keys.headers("officer-1", DEPARTMENT_ID, ["officer", "supervisor"])
    answer = served.client.post(path, json=body, headers=officer)
    assert answer.status_code in (200, 201), answer.get_json()
    return dict(answer.get_json())


def recorded_since(served: Intake, known: int) -> list[StoredEvent]:
    assert served.runtime.store is not None
    return served.runtime.store.read_all()[known:]


def erase(served: Intake, keys: AuthKeys, id_no: str) -> dict[str, Any]:
    admin = {**keys.headers("admin-1", DEPARTMENT_ID, ["admin"]), "Idempotency-Key": f"erase-{id_no}"}
    body = {"id_no": id_no, "legal_reason": "request", "approver": "supervisor-2"}
    answer = served.client.post(ERASURES, json=body, headers=admin)
    assert answer.status_code == 201, answer.get_json()
    return dict(answer.get_json())


def key_calls(served: Intake, purpose: str) -> int:
    with served.runtime.engine.connect() as conn:
        return sum(e.purpose == purpose for e in access_log.entries(conn, limit=500))


def test_an_erasure_drops_the_cached_keys_at_once(served: Intake, live: Disclosure, auth_keys: AuthKeys) -> None:
    # given two acts about a person, disclosure having opened the first (its key now in disclosure's cache)
    first = post(served, auth_keys, "/v1/guidance", guidance_command(counterpart=PERSON, content=TOLD))
    post(served, auth_keys, "/v1/guidance", guidance_command(counterpart=PERSON, content=TOLD))
    recorded = recorded_since(served, 0)
    live.deliver(recorded[:1])
    assert key_calls(served, "openSubjectKey:scrub") == 1
    # when intake erases the person and disclosure consumes the erasure, then the second act, sealed before it
    erase(served, auth_keys, PERSON["id_no"])
    live.deliver(recorded_since(served, 2))
    live.deliver(recorded[1:2])
    # then the second act was opened with intake's answer, not the cached key: the person reads erased
    assert key_calls(served, "openSubjectKey:scrub:erased") == 1
    with live.runtime.engine.connect() as conn:
        rows = conn.execute(
            select(public_guidance.c.counterpart_name, public_guidance.c.content).where(
                public_guidance.c.guidance_id != first["guidance_id"]
            )
        ).all()
    assert [tuple(row) for row in rows] == [(ERASED_TEXT, ERASED_TEXT)]
    assert PERSON["name"] not in str(live.published()) and PERSON["address"] not in str(live.published())


def test_after_an_erasure_the_live_projection_is_what_a_rebuild_makes(
    tmp_path: Path, served: Intake, auth_keys: AuthKeys, database_url: str | None
) -> None:
    # given acts and a decided, revisited case about a person whose free text repeats their name, phone and
    # address, and an act about an individual business's operator, all published
    post(served, auth_keys, "/v1/guidance", guidance_command(counterpart=PERSON, content=TOLD))
    operator = f"经营者{INDIVIDUAL_BUSINESS['legal_representative']}（{INDIVIDUAL_BUSINESS['contact']}）当场承诺整改。"
    other = post(served, auth_keys, "/v1/guidance", guidance_command(counterpart=INDIVIDUAL_BUSINESS, content=operator))
    case = post(served, auth_keys, "/v1/cases", case_command(counterpart=PERSON, major=False))
    post(served, auth_keys, f"/v1/cases/{case['case_id']}/decision", decision_command(summary=TOLD))
    revoked = post(served, auth_keys, "/v1/cases", case_command(counterpart=PERSON, major=False))
    post(served, auth_keys, f"/v1/cases/{revoked['case_id']}/decision", decision_command(summary=TOLD))
    revocation = {"reason": f"复议机关撤销：{TOLD}", "at": "2025-03-25T10:00:00+08:00"}
    post(served, auth_keys, f"/v1/cases/{revoked['case_id']}/revocation", revocation)
    revisit = example("guidance.RevisitCompleted.v1") | {"case_id": case["case_id"], "notes": TOLD}
    revisited = record("guidance.RevisitCompleted.v1", revisit["revisit_id"], revisit, 1, topic="revisit.events")
    live = Disclosure(tmp_path / "disclosure", served, auth_keys, database_url)
    try:
        live.deliver(recorded_since(served, 0), revisited)
        before = live.published()
        assert before["tables"]["public_revisits"] and len(before["pages"]["/public/v1/guidance"]["items"]) == 2
        assert mask_name(PERSON["name"]) in str(before["pages"]) and PERSON["address"] not in str(before)
        # when intake erases the person and disclosure consumes the erasure
        known = len(recorded_since(served, 0))
        erasure = erase(served, auth_keys, PERSON["id_no"])
        live.deliver(recorded_since(served, known))
        after = live.published()
        # then the person's acts read erased where they named or may name them, the acts themselves stand
        assert after != before
        assert after["pages"]["/public/v1/guidance"]["pagination"]["total"] == 2
        detail = after["pages"][case["case_id"]]
        assert detail["counterpart_name"] == ERASED_TEXT and detail["summary"] == ERASED_TEXT
        assert detail["decision_no"] == before["pages"][case["case_id"]]["decision_no"]
        assert after["pages"][other["guidance_id"]] == before["pages"][other["guidance_id"]]
        with live.runtime.engine.connect() as conn:
            marks = conn.execute(select(case_person_names.c.name_marks, case_person_names.c.secret_marks)).all()
            acts = conn.execute(select(person_acts.c.subject_id, person_acts.c.erased)).all()
        assert [tuple(map(json.loads, m)) for m in marks] == [([], [])] * 2  # not even their keyed marks are kept
        assert sorted((s == erasure["subject_id"], e) for s, e in acts) == [(False, False), *[(True, True)] * 3]
        assert ERASED_TEXT in str(after["pages"][revoked["case_id"]])  # the withdrawal notice's reason
        # and a rebuild from offset zero, which opens the person's fields as erased, makes exactly the same
        result = ShadowRebuild(live.runtime).run(timeout_s=120)
        assert result.parked == ()
        assert live.published() == after
    finally:
        live.runtime.close()


def test_a_resident_erased_before_disclosure_met_their_act_is_withheld_as_a_minor_may_be(
    served: Intake, live: Disclosure, auth_keys: AuthKeys
) -> None:
    # given an act about a minor that disclosure has not consumed yet
    act = post(served, auth_keys, "/v1/guidance", guidance_command(counterpart=MINOR))
    # when intake erases them first, and disclosure then meets the act (a lag, a redrive, a rebuild)
    erase(served, auth_keys, MINOR["id_no"])
    live.deliver(recorded_since(served, 0))
    # then their age cannot be told from the erased number, and the act is withheld as a minor's, never public
    assert live.item_state(act["guidance_id"]) == ("withheld", "minor")
    assert live.published()["pages"]["/public/v1/guidance"]["items"] == []
