"""disclosure publishes from a sealed event exactly what it publishes from the same event in clear
(docs/personal-data.md §6.1): it opens the sealed fields in memory with keys from intake's key API, served over
real HTTP by a real intake that sealed them (GUIDANCE_SEAL_PERSONAL_DATA on).

The same acts are applied twice, through disclosure's real consumer runner: once as intake recorded them
(sealed), once as intake would have recorded them with sealing off (the same events opened by intake's own code,
the pseudonym beside them dropped). Every public table, the public API and the 双公示 export are then equal.
When intake cannot be reached the act is not applied at all: it parks (docs/decisions/0002), nothing of it is
public, and redriven once intake answers it becomes exactly what the clear act made."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from guidance_disclosure.adapters.projection import PUBLIC_MODEL, person_acts
from guidance_disclosure.bootstrap import SPEC as DISCLOSURE
from guidance_disclosure.bootstrap import create_app
from guidance_shared import access_log
from guidance_shared.events.examples import DEPARTMENT_ID, INDIVIDUAL_BUSINESS, PERSON
from guidance_shared.messages import StoredEvent
from guidance_shared.personal_data.field import is_sealed
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.auth import AuthKeys
from tests.support.events import record
from tests.support.intake_keys import PSEUDONYM_KEY, Intake, free_port, sealing_intake, serving
from tests.support.schema import migrated_runtime
from tests.support.services import case_command, decision_command, guidance_command

CHINA = ZoneInfo("Asia/Shanghai")
SCRUB_KEY = "s" * 40
MINOR = {**PERSON, "name": "王小明", "id_no": "11010520100601001X", "contact": "13700137000"}
TOPICS = ["intake.events", "revisit.events", "disclosure.events", "disclosure.dlq"]
CLIENTS: dict[Runtime, Any] = {}


def disclosure(var_dir: Path, keys: AuthKeys, **env: str) -> Runtime:
    """A disclosure on an embedded log, its web app made once (``published`` reads through it)."""
    transport = EmbeddedTransport(str(var_dir / "log.sqlite"))
    transport.create_topics(TOPICS, 3)
    settings = Settings.from_env(
        "disclosure", {"GUIDANCE_VAR_DIR": str(var_dir), "GUIDANCE_SCRUB_KEY": SCRUB_KEY, **env}
    )
    runtime = migrated_runtime(DISCLOSURE, settings, transport=transport)
    runtime.deps.items.now = lambda: datetime(2025, 3, 5, 10, 31, tzinfo=CHINA)
    CLIENTS[runtime] = create_app(runtime, testing=True, auth=keys.settings(), public_rate_limit=0).test_client()
    return runtime


def key_api(served: Intake, keys: AuthKeys) -> dict[str, str]:
    return {
        "GUIDANCE_KEY_API_URL": served.url,
        "GUIDANCE_KEY_API_TOKEN": served.service_token(keys, "pd-open"),
        "GUIDANCE_PSEUDONYM_KEY": PSEUDONYM_KEY,
    }


def record_acts(served: Intake, keys: AuthKeys) -> list[StoredEvent]:
    """Acts and a case about natural persons whose free text repeats their name, phone and address; what intake
    recorded, in order."""
    officer = keys.headers("officer-1", DEPARTMENT_ID, ["officer", "supervisor"])
    told = f"经查，{PERSON['name']}（电话{PERSON['contact']}，住{PERSON['address']}）未按规定公示。"

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = served.client.post(path, json=body, headers=officer)
        assert answer.status_code in (200, 201), answer.get_json()
        return dict(answer.get_json())

    post("/v1/guidance", guidance_command(counterpart=PERSON, content=told))
    operator = f"经营者{INDIVIDUAL_BUSINESS['legal_representative']}（{INDIVIDUAL_BUSINESS['contact']}）当场承诺整改。"
    post("/v1/guidance", guidance_command(counterpart=INDIVIDUAL_BUSINESS, content=operator))
    post("/v1/guidance", guidance_command(counterpart=MINOR))
    case = post("/v1/cases", case_command(counterpart=PERSON, major=False))
    post(f"/v1/cases/{case['case_id']}/decision", decision_command(summary=told))
    assert served.runtime.store is not None
    return served.runtime.store.read_all()


def as_if_clear(served: Intake, event: StoredEvent) -> dict[str, Any]:
    """The event's data as intake records it with sealing off: its fields opened by intake's own code, no
    pseudonym beside them."""
    with served.runtime.engine.connect() as conn:
        opened = served.runtime.deps.personal.opener(conn).opened(event.type.split(".")[1], event.data)
    counterpart = opened.get("counterpart")
    if isinstance(counterpart, dict):
        opened["counterpart"] = {k: v for k, v in counterpart.items() if k != "subject_id"}
    return opened


def deliver(runtime: Runtime, events: list[tuple[StoredEvent, dict[str, Any]]]) -> None:
    records = [record(e.type, e.stream_id, data, e.version, event_id=e.event_id) for e, data in events]
    runtime.transport.producer().publish(records)
    runtime.runner().drain()


def published(runtime: Runtime, keys: AuthKeys) -> dict[str, Any]:
    """Everything public disclosure holds or serves: its public tables, the public API, the 双公示 export."""
    with runtime.engine.connect() as conn:
        tables = {
            table.name: sorted(tuple(map(str, row)) for row in conn.execute(select(table)))
            for table in PUBLIC_MODEL.sorted_tables
            if table is not person_acts  # which key sealed an act: a clear act has none, and nothing public reads it
        }
    client = CLIENTS[runtime]
    pages = {path: client.get(path).get_json() for path in ("/public/v1/guidance", "/public/v1/decisions")}
    for act in pages["/public/v1/guidance"]["items"]:
        pages[act["guidance_id"]] = client.get(f"/public/v1/guidance/{act['guidance_id']}").get_json()
    export = client.get(
        "/v1/credit/penalties",
        query_string={"department_id": DEPARTMENT_ID, "format": "csv", "from": "2025-01-01", "to": "2025-12-31"},
        headers=keys.headers("officer-1", DEPARTMENT_ID, ["officer"]),
    )
    assert export.status_code == 200, export.get_data(as_text=True)
    return {"tables": tables, "pages": pages, "export": export.get_data(as_text=True)}


def test_a_sealed_act_is_published_exactly_as_the_same_act_in_clear(served, auth_keys, tmp_path: Path) -> None:
    # given what a sealing intake recorded, and the same events as a non-sealing intake would have recorded them
    events = record_acts(served, auth_keys)
    assert sum(any(map(is_sealed, (e.data.get("counterpart") or {}).values())) for e in events) == 4
    clear = [(e, as_if_clear(served, e)) for e in events]
    assert not any(is_sealed(v) for _, data in clear for v in (data.get("counterpart") or {}).values())
    # when one disclosure applies the clear events and another the sealed ones, opening them with intake's keys
    from_clear = disclosure(tmp_path / "clear", auth_keys)
    from_sealed = disclosure(tmp_path / "sealed", auth_keys, **key_api(served, auth_keys))
    deliver(from_clear, clear)
    deliver(from_sealed, [(e, copy.deepcopy(e.data)) for e in events])
    try:
        # then nothing waits aside, and everything public is the same, the redactions included
        assert from_sealed.runner().parked_aggregates() == []
        public = published(from_sealed, auth_keys)
        assert public == published(from_clear, auth_keys)
        assert len(public["tables"]["public_guidance"]) == 3 and len(public["tables"]["public_cases"]) == 1
        text = str(public)
        for secret in (PERSON["name"], PERSON["contact"], PERSON["address"], PERSON["id_no"], MINOR["name"]):
            assert secret not in text
        assert INDIVIDUAL_BUSINESS["legal_representative"] not in text and INDIVIDUAL_BUSINESS["contact"] not in text
        # the minor, told by the birth date inside the sealed ID number, is not on the public list
        listed = public["pages"]["/public/v1/guidance"]["items"]
        assert len(listed) == 2, listed
        # and each key was asked for once per act (the cache), each call in intake's access log
        with served.runtime.engine.connect() as conn:
            opened = [e for e in access_log.entries(conn, limit=500) if e.purpose == "openSubjectKey:scrub"]
        assert {e.actor for e in opened} == {"disclosure"} and len(opened) == 3  # three persons, one key each
    finally:
        for runtime in (from_clear, from_sealed):
            CLIENTS.pop(runtime)
            runtime.close()


def test_a_sealed_act_waits_parked_while_intake_is_unreachable_and_is_published_once_redriven(
    auth_keys: AuthKeys, tmp_path: Path
) -> None:
    port = free_port()
    with sealing_intake(tmp_path / "intake", auth_keys, port, serve=False) as intake:
        events = [e for e in record_acts(intake, auth_keys) if e.type == "guidance.GuidanceIssued.v1"][:1]
        from_clear = disclosure(tmp_path / "clear", auth_keys)
        from_sealed = disclosure(tmp_path / "sealed", auth_keys, **key_api(intake, auth_keys))
        try:
            deliver(from_clear, [(e, as_if_clear(intake, e)) for e in events])
            # when intake does not answer
            deliver(from_sealed, [(e, copy.deepcopy(e.data)) for e in events])
            # then the act is not applied at all: parked, with the reason, nothing public, no item
            [parked] = from_sealed.runner().parked_aggregates()
            assert parked["aggregate_id"] == events[0].stream_id and "KeyServiceUnavailable" in parked["reason"]
            assert all(rows == [] for rows in published(from_sealed, auth_keys)["tables"].values())
            # and once intake answers, the redriven act is what the clear one made
            with serving(intake.client.application, port):
                assert from_sealed.runner().redrive(events[0].stream_id) == 1
                assert from_sealed.runner().parked_aggregates() == []
                assert published(from_sealed, auth_keys) == published(from_clear, auth_keys)
        finally:
            for runtime in (from_clear, from_sealed):
                CLIENTS.pop(runtime)
                runtime.close()
