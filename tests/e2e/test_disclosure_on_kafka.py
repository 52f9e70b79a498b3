"""disclosure on the real broker: a guidance act about a person, posted to intake, is on the public page
after it flowed through Kafka — redacted; a penalty decision is disclosed, then withdrawn when revoked,
and disclosure's own ItemDisclosed / DisclosureWithdrawn go back onto the broker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer

from guidance_disclosure.bootstrap import SPEC as DISCLOSURE
from guidance_disclosure.bootstrap import create_app as create_disclosure
from guidance_intake.bootstrap import SPEC as INTAKE
from guidance_intake.bootstrap import create_app as create_intake
from guidance_shared.envelope import Envelope
from guidance_shared.events.common import CHINA_TZ
from guidance_shared.events.examples import DEPARTMENT_ID, PERSON, example
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from guidance_shared.transport.base import Record
from tests.support.auth import AuthKeys
from tests.support.intake_keys import opening_env, sealing_env, serving
from tests.support.schema import migrated_runtime
from tests.support.services import case_command, decision_command, guidance_command

pytestmark = pytest.mark.kafka
REVIEWED = "guidance.CaseLegalReviewed.v1"


Suite = tuple[Runtime, Any, Runtime]


@pytest.fixture
def suite(tmp_path: Path, kafka_bootstrap: str, auth_keys: AuthKeys) -> Iterator[Suite]:
    """intake as shipped (it seals persons' fields; on Kafka it is given its keys) with its key API served over
    HTTP; its test client; and a disclosure that opens what intake sealed through that API."""
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "GUIDANCE_TOPIC_PREFIX": f"dk{uuid.uuid4().hex[:6]}",
    }
    intake = migrated_runtime(INTAKE, Settings.from_env("intake", {**env, **sealing_env()}))
    try:
        intake.provision()
        intake_app = create_intake(intake, testing=True, auth=auth_keys.settings())
        with serving(intake_app) as server:
            opening = opening_env(f"http://127.0.0.1:{server.server_port}", auth_keys)
            disclosure = migrated_runtime(DISCLOSURE, Settings.from_env("disclosure", {**env, **opening}))
            try:
                yield intake, intake_app.test_client(), disclosure
            finally:
                disclosure.close()
    finally:
        intake.close()


def test_a_guidance_act_about_a_person_is_published_redacted(suite: Suite, auth_keys: AuthKeys) -> None:
    intake, intake_api, disclosure = suite
    officer = auth_keys.headers("officer-1", DEPARTMENT_ID, ["officer"])
    content = f"经查，当事人张伟（身份证号{PERSON['id_no']}，电话{PERSON['contact']}）未按规定公示证照。"
    body = guidance_command(counterpart=PERSON, content=content)
    created = intake_api.post("/v1/guidance", json=body, headers=officer)
    assert created.status_code == 201, created.get_json()
    guidance_id = created.get_json()["guidance_id"]
    assert intake.relay().drain() == 1
    disclosure.runner().drain(timeout_s=60)

    public = create_disclosure(disclosure, testing=True, auth=auth_keys.settings(), public_rate_limit=0).test_client()
    for path in (
        f"/public/guidance/{guidance_id}",
        "/public/guidance",
        f"/public/v1/guidance/{guidance_id}",
        "/public/guidance/feed.atom",
    ):
        page = public.get(path)
        assert page.status_code == 200, path
        text = page.get_data(as_text=True)
        for secret in (PERSON["id_no"], PERSON["contact"], PERSON["address"], PERSON["name"]):
            assert secret not in text, (path, secret)
    assert "张*" in public.get(f"/public/guidance/{guidance_id}").get_data(as_text=True)


def test_a_penalty_decided_at_intake_is_disclosed_then_withdrawn_on_revocation_through_kafka(
    suite: Suite, kafka_bootstrap: str, auth_keys: AuthKeys
) -> None:
    """intake's case events reach disclosure over the broker; disclosure's own events go back onto the broker."""
    intake, intake_api, disclosure = suite
    headers = auth_keys.headers("e2e", DEPARTMENT_ID, ["officer", "reviewer", "supervisor"])

    def post(path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = intake_api.post(path, json=body, headers=headers)
        assert response.status_code == status, response.get_json()
        result: dict[str, Any] = response.get_json()
        return result

    case_id = post("/v1/cases", case_command(counterpart=PERSON), 201)["case_id"]
    post(f"/v1/cases/{case_id}/legal-review", {"legal_review": example(REVIEWED)["legal_review"]})
    post(f"/v1/cases/{case_id}/decision", decision_command(decided_at=datetime.now(CHINA_TZ).isoformat()))
    assert intake.relay().drain() == 3
    disclosure.runner().drain(timeout_s=60)

    public = create_disclosure(disclosure, testing=True, auth=auth_keys.settings(), public_rate_limit=0)
    client = public.test_client()
    shown = client.get(f"/public/v1/decisions/{case_id}")
    assert shown.status_code == 200, shown.get_json()
    masked = PERSON["name"][0] + "*" * (len(PERSON["name"]) - 1)
    assert shown.get_json()["counterpart_name"] == masked
    assert shown.get_json()["department_name"] == "某县市场监督管理局"

    decision_no = shown.get_json()["decision_no"]
    who = f"{PERSON['name']}（身份证号{PERSON['id_no']}）"
    reason = f"经行政复议，复议机关认定当事人{who}的违法事实不清，撤销原处罚决定。"
    post(f"/v1/cases/{case_id}/revocation", {"reason": reason})
    assert intake.relay().drain() == 1
    disclosure.runner().drain(timeout_s=60)

    # 行政处罚法第四十八条: taken down, and the reason published where the decision was, not a bare 404.
    gone = client.get(f"/public/v1/decisions/{case_id}")
    assert gone.status_code == 410, gone.get_json()
    notice = gone.get_json()["withdrawal"]
    assert notice["decision_no"] == decision_no and notice["case_id"] == case_id
    assert notice["withdrawal"]["withdrawn_on"] == datetime.now(CHINA_TZ).date().isoformat()
    assert notice["withdrawal"]["reason"].startswith("经行政复议，复议机关认定当事人")
    listed = client.get("/public/v1/decisions").get_json()["items"]
    assert [(d["case_id"], d["status"]) for d in listed] == [(case_id, "withdrawn")]
    assert listed[0]["withdrawal"] == notice["withdrawal"] and listed[0]["counterpart_name"] is None
    page = client.get(f"/public/decisions/{case_id}")
    assert page.status_code == 410
    assert decision_no in page.get_data(as_text=True) and "撤回理由" in page.get_data(as_text=True)
    assert "【已撤回】" in client.get("/public/decisions").get_data(as_text=True)
    for text in (gone.get_data(as_text=True), page.get_data(as_text=True), str(listed)):
        for secret in (PERSON["name"], PERSON["id_no"]):
            assert secret not in text

    # disclosure's own facts, published through its outbox onto the broker, for assessment and others.
    assert disclosure.relay().drain() == 2
    consumer = KafkaConsumer(
        disclosure.transport.physical("disclosure.events"),
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=5000,
    )
    events = [Envelope.from_record(_as_record(r)) for r in consumer]
    consumer.close()
    assert [e.type for e in events] == ["guidance.ItemDisclosed.v1", "guidance.DisclosureWithdrawn.v1"]
    disclosed, withdrawn = (e.data for e in events)
    assert disclosed["subject_id"] == case_id and disclosed["kind"] == "penalty_decision"
    assert disclosed["url"].endswith(f"/public/decisions/{case_id}")
    assert withdrawn["item_id"] == disclosed["item_id"] and withdrawn["deadline"] >= withdrawn["at"][:10]
    for secret in (PERSON["name"], PERSON["id_no"], PERSON["contact"]):
        assert secret not in str(disclosed)


def _as_record(message: Any) -> Record:
    return Record(message.topic, message.key, message.value, tuple(message.headers))
