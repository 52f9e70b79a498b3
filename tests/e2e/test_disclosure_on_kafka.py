"""disclosure on the real broker: a guidance act about a person, posted to intake, is on the public page
after it flowed through Kafka — redacted."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from guidance_disclosure.app import create_app as create_disclosure
from guidance_disclosure.service import SPEC as DISCLOSURE
from guidance_intake.app import create_app as create_intake
from guidance_intake.service import SPEC as INTAKE
from guidance_shared.events.examples import DEPARTMENT_ID, PERSON
from guidance_shared.runtime import Runtime
from guidance_shared.settings import Settings
from tests.support.auth import AuthKeys
from tests.support.services import guidance_command

pytestmark = pytest.mark.kafka


def test_a_guidance_act_about_a_person_is_published_redacted(
    tmp_path: Path, kafka_bootstrap: str, auth_keys: AuthKeys
) -> None:
    env = {
        "GUIDANCE_VAR_DIR": str(tmp_path),
        "GUIDANCE_TRANSPORT": "kafka",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "GUIDANCE_TOPIC_PREFIX": f"dk{uuid.uuid4().hex[:6]}",
    }
    intake = Runtime(INTAKE, Settings.from_env("intake", env))
    disclosure = Runtime(DISCLOSURE, Settings.from_env("disclosure", env))
    try:
        intake.provision()
        officer = auth_keys.headers("officer-1", DEPARTMENT_ID, ["officer"])
        content = f"经查，当事人张伟（身份证号{PERSON['id_no']}，电话{PERSON['contact']}）未按规定公示证照。"
        body = guidance_command(counterpart=PERSON, content=content)
        created = (
            create_intake(intake, testing=True, auth=auth_keys.settings())
            .test_client()
            .post("/v1/guidance", json=body, headers=officer)
        )
        assert created.status_code == 201, created.get_json()
        guidance_id = created.get_json()["guidance_id"]
        assert intake.relay().drain() == 1
        disclosure.runner().drain(timeout_s=60)

        public = create_disclosure(
            disclosure, testing=True, auth=auth_keys.settings(), public_rate_limit=0
        ).test_client()
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
    finally:
        disclosure.close()
        intake.close()
