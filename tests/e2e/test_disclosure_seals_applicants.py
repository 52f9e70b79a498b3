"""disclosure seals the applicant of its own requests for disclosure (docs/personal-data.md §6, "Applicants"), with a
real intake serving its key API over real HTTP and disclosure's real store, on SQLite and PostgreSQL.

- A request whose applicant is a natural person leaves no clear ID number, name, phone or address of theirs in any
  table of disclosure's database (events, outbox, read model, idempotency records …) nor on ``disclosure.events``;
  the officer's worklist and the request's ``GET`` show the clear name, each read in the access log.
- Once intake erases the person (its erasure API) and disclosure consumes the erasure, their requests read
  ［已删除］ in the worklist and the ``GET``, and the same after the read models are rebuilt from the events.
- intake's key API unreachable: the command is a 503 problem and nothing is recorded.
- A request recorded with sealing off stays clear and readable once sealing is on.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, MetaData, select

from guidance_disclosure.bootstrap import SPEC as DISCLOSURE
from guidance_disclosure.bootstrap import create_app
from guidance_shared import access_log
from guidance_shared.db import make_engine
from guidance_shared.events.examples import DEPARTMENT_ID, INDIVIDUAL_BUSINESS, PERSON
from guidance_shared.personal_data.errors import ERASED_TEXT
from guidance_shared.personal_data.field import is_sealed
from guidance_shared.personal_data.pseudonym import Pseudonyms
from guidance_shared.rebuild import rebuild_read_models
from guidance_shared.settings import Settings
from guidance_shared.transport.embedded import EmbeddedTransport
from tests.support.auth import AuthKeys
from tests.support.events import record
from tests.support.intake_keys import PSEUDONYM_KEY, Intake, sealing_intake
from tests.support.schema import migrated_runtime

CHINA = ZoneInfo("Asia/Shanghai")
TOPICS = ["intake.events", "revisit.events", "disclosure.events", "disclosure.dlq"]
REQUESTS = "/v1/requests"
#: the applicant's values that must never be stored or sent in clear
CLEAR = [PERSON["id_no"], PERSON["name"], PERSON["contact"], PERSON["address"]]


class Disclosure:
    """disclosure with intake's key API (or without, ``key_api`` None), on its own embedded log; its app made once."""

    def __init__(
        self,
        var_dir: Path,
        keys: AuthKeys,
        database_url: str | None,
        key_api: Intake | None,
        *,
        seal: str | None = None,
        roles: tuple[str, ...] = ("pd-open", "pd-seal"),
    ) -> None:
        var_dir.mkdir(parents=True, exist_ok=True)
        env = {
            "GUIDANCE_VAR_DIR": str(var_dir),
            "GUIDANCE_EMBEDDED_LOG": str(var_dir / "log.sqlite"),
            "GUIDANCE_SCRUB_KEY": "s" * 40,
            "GUIDANCE_PSEUDONYM_KEY": PSEUDONYM_KEY,
            **({"GUIDANCE_DATABASE_URL": database_url} if database_url else {}),
            **({"GUIDANCE_SEAL_PERSONAL_DATA": seal} if seal is not None else {}),
        }
        if key_api is not None:
            env |= {"GUIDANCE_KEY_API_URL": key_api.url, "GUIDANCE_KEY_API_TOKEN": key_api.service_token(keys, *roles)}
        settings = Settings.from_env("disclosure", env)
        transport = EmbeddedTransport(settings.embedded_log)
        transport.create_topics(TOPICS, 3)
        engine = {"engine": make_engine(database_url)} if database_url else {}
        self.log = Path(settings.embedded_log)
        self.runtime = migrated_runtime(DISCLOSURE, settings, transport=transport, **engine)
        self.runtime.deps.requests.now = lambda: datetime(2026, 3, 2, 10, 0, tzinfo=CHINA)
        self.client = create_app(self.runtime, testing=True, auth=keys.settings(), public_rate_limit=0).test_client()
        self.officer = keys.headers("officer-1", DEPARTMENT_ID, ["officer"])

    def register(self, applicant: dict[str, Any], key: str) -> Any:
        body = {
            "department_id": DEPARTMENT_ID,
            "applicant": applicant,
            "description": "2025年本局作出的行政处罚决定书",
            "channel": "online",
            "received_on": "2026-03-02",
        }
        return self.client.post(REQUESTS, json=body, headers={**self.officer, "Idempotency-Key": key})

    def worklist(self) -> dict[str, str]:
        answer = self.client.get(REQUESTS, query_string={"department_id": DEPARTMENT_ID}, headers=self.officer)
        assert answer.status_code == 200, answer.get_json()
        return {row["request_id"]: row["applicant_name"] for row in answer.get_json()["requests"]}

    def shown(self, request_id: str) -> str:
        answer = self.client.get(f"{REQUESTS}/{request_id}", headers=self.officer)
        assert answer.status_code == 200, answer.get_json()
        return str(answer.get_json()["applicant_name"])

    def received(self) -> list[dict[str, Any]]:
        assert self.runtime.store is not None
        return [e.data["applicant"] for e in self.runtime.store.read_all() if e.type.endswith("RequestReceived.v1")]

    def reads(self) -> list[tuple[str, int, str | None]]:
        with self.runtime.engine.connect() as conn:
            return [(e.purpose, e.count, e.subject_ref) for e in access_log.entries(conn, limit=100)]

    def consume(self, served: Intake) -> None:
        """Deliver intake's events (its erasure among them) to disclosure's consumer, as the broker would."""
        assert served.runtime.store is not None
        events = served.runtime.store.read_all()
        records = [record(e.type, e.stream_id, e.data, e.version, event_id=e.event_id) for e in events]
        self.runtime.transport.producer().publish(records)
        self.runtime.runner().drain(timeout_s=120)
        assert self.runtime.runner().parked_aggregates() == []


def every_row(engine: Engine) -> str:
    """Every value of every row of every table of the database, as text (bytes decoded as UTF-8): what a scan for
    clear values reads."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        return "\n".join(
            value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            for table in metadata.sorted_tables
            for row in conn.execute(select(table))
            for value in (bytes(v) if isinstance(v, memoryview) else v for v in row)
        )


def clear_values_in(text: str) -> list[str]:
    """Which of the applicant's values ``text`` holds, as written or JSON-escaped."""
    return [value for value in CLEAR if value in text or json.dumps(value)[1:-1] in text]


def test_a_sealed_request_stores_and_sends_nothing_of_the_applicant_in_clear(
    tmp_path: Path, served: Intake, auth_keys: AuthKeys, database_url: str | None
) -> None:
    disclosure = Disclosure(tmp_path / "disclosure", auth_keys, database_url, served)
    try:
        # when an officer registers a request of a natural person and one of an individual business
        made = disclosure.register(PERSON, "person")
        assert made.status_code == 201, made.get_json()
        assert "applicant_name" not in made.get_json()  # a command's answer (kept for retries) names nobody
        business = disclosure.register(INDIVIDUAL_BUSINESS, "business").get_json()
        disclosure.runtime.relay().drain(timeout_s=60)
        # then the event carries the applicant's pseudonym and their fields sealed, as intake's counterparts
        person, shop = disclosure.received()
        pseudonyms = Pseudonyms(base64.b64decode(PSEUDONYM_KEY))
        assert person["subject_id"] == pseudonyms.subject_id(PERSON["id_no"])
        assert all(is_sealed(person[f]) for f in ("id_no", "name", "address", "contact"))
        assert shop["subject_id"] == pseudonyms.of("business", INDIVIDUAL_BUSINESS["uscc"])
        assert shop["name"] == INDIVIDUAL_BUSINESS["name"]  # a 字号 is public, its operator and contact are not
        assert all(is_sealed(shop[f]) for f in ("legal_representative", "address", "contact"))
        # and no table of disclosure's database, nor the topic's log, holds any of the person's values in clear
        assert clear_values_in(every_row(disclosure.runtime.engine)) == []
        sent = every_row(make_engine(f"sqlite:///{disclosure.log}"))
        assert "DisclosureRequestReceived" in sent and clear_values_in(sent) == []
        # and the officer reads the clear name, each read of a person's request in the access log
        request_id = made.get_json()["request_id"]
        assert disclosure.worklist() == {request_id: PERSON["name"], business["request_id"]: shop["name"]}
        assert disclosure.shown(request_id) == PERSON["name"]
        assert disclosure.reads() == [
            ("getRequestCollection", 2, None),
            ("getRequestItem", 1, person["subject_id"]),
        ]
    finally:
        disclosure.runtime.close()


def test_an_erased_applicant_reads_erased_live_and_after_a_rebuild(
    tmp_path: Path, served: Intake, auth_keys: AuthKeys, database_url: str | None
) -> None:
    disclosure = Disclosure(tmp_path / "disclosure", auth_keys, database_url, served)
    try:
        request_id = disclosure.register(PERSON, "person").get_json()["request_id"]
        other = disclosure.register({**PERSON, "id_no": "110105194912310029", "name": "李娜"}, "other")
        assert disclosure.shown(request_id) == PERSON["name"]
        # when intake erases the applicant through its erasure API and disclosure consumes the erasure
        admin = {**auth_keys.headers("admin-1", DEPARTMENT_ID, ["admin"]), "Idempotency-Key": "erase"}
        body = {"id_no": PERSON["id_no"], "legal_reason": "request", "approver": "supervisor-2"}
        erased = served.client.post("/v1/personal-data/erasures", json=body, headers=admin)
        assert erased.status_code == 201, erased.get_json()
        disclosure.consume(served)
        # then their request reads erased in the worklist and its GET; the other applicant's is untouched
        expected = {request_id: ERASED_TEXT, other.get_json()["request_id"]: "李娜"}
        assert disclosure.worklist() == expected and disclosure.shown(request_id) == ERASED_TEXT
        # and the same after the read models are refolded from the events
        before = every_row(disclosure.runtime.engine)
        rebuild_read_models(disclosure.runtime)
        assert disclosure.worklist() == expected and disclosure.shown(request_id) == ERASED_TEXT
        assert clear_values_in(before) == [] and clear_values_in(every_row(disclosure.runtime.engine)) == []
    finally:
        disclosure.runtime.close()


def test_the_key_api_unreachable_is_a_503_and_nothing_is_recorded(tmp_path: Path, auth_keys: AuthKeys) -> None:
    with sealing_intake(tmp_path / "intake", auth_keys, serve=False) as silent:
        disclosure = Disclosure(tmp_path / "disclosure", auth_keys, None, silent)
        try:
            refused = disclosure.register(PERSON, "person")
            assert refused.status_code == 503
            problem = refused.get_json()
            assert problem["type"].endswith("/key-service-unavailable") and problem["title_zh"]
            assert disclosure.runtime.store is not None and disclosure.runtime.store.read_all() == []
            assert clear_values_in(every_row(disclosure.runtime.engine)) == []
            # an organisation has nothing to seal: its request needs no key
            organisation = {"kind": "enterprise", "name": "某县食品有限公司", "uscc": "91410100MA44XK1Q2U"}
            assert disclosure.register(organisation, "organisation").status_code == 201
        finally:
            disclosure.runtime.close()


def test_a_request_recorded_before_sealing_stays_clear_and_readable(
    tmp_path: Path, served: Intake, auth_keys: AuthKeys
) -> None:
    # given a request recorded with sealing off (the key API configured all the same)
    var = tmp_path / "disclosure"
    off = Disclosure(var, auth_keys, None, served, seal="false")
    try:
        before = off.register(PERSON, "before").get_json()["request_id"]
        [clear] = off.received()
        assert clear["name"] == PERSON["name"] and "subject_id" not in clear
        assert not any(is_sealed(v) for v in clear.values())
    finally:
        off.runtime.close()
    # when disclosure starts again sealing (unset: the key API is configured) and records another
    on = Disclosure(var, auth_keys, None, served)
    try:
        after = on.register({**PERSON, "id_no": "110105194912310029", "name": "李娜"}, "after").get_json()
        clear, sealed = on.received()
        assert not any(is_sealed(v) for v in clear.values()) and is_sealed(sealed["name"])
        # then both read clear, the old one as it was recorded
        assert on.worklist() == {before: PERSON["name"], after["request_id"]: "李娜"}
        assert on.shown(before) == PERSON["name"] and on.shown(after["request_id"]) == "李娜"
    finally:
        on.runtime.close()
