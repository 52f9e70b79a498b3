"""One effect per Idempotency-Key, on SQLite and PostgreSQL, even under concurrent retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import Engine

from guidance_shared.db import make_engine
from guidance_shared.web import create_base_app, current_tx, idempotent, purge_expired
from tests.shared.web.conftest import build_app, effect_count, valid_body

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    is_postgres = request.param == "postgres"
    url = request.getfixturevalue("postgres_db_url") if is_postgres else f"sqlite:///{tmp_path}/x.db"
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def app(engine: Engine) -> Flask:
    return build_app(engine)[0]


def post(client: Any, key: str | None, body: Any, path: str = "/v1/guidance") -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(path, json=body, headers=headers)


def test_a_retry_replays_the_stored_response_without_running_the_view(client: Any, engine: Engine) -> None:
    first = post(client, "key-1", valid_body())
    again = post(client, "key-1", valid_body())

    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert effect_count(engine) == 1


def test_the_same_json_with_other_key_order_and_spacing_is_the_same_request(client: Any, engine: Engine) -> None:
    body = valid_body()
    post(client, "key-1", body)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4, ensure_ascii=False)
    again = client.post(
        "/v1/guidance", data=reordered, content_type="application/json", headers={"Idempotency-Key": "key-1"}
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert effect_count(engine) == 1


def test_reusing_a_key_for_a_different_request_is_refused(client: Any, engine: Engine) -> None:
    post(client, "key-1", valid_body())
    other_body = post(client, "key-1", valid_body(title="另一份指导"))
    other_path = post(client, "key-1", {}, path="/v1/guidance/plain")

    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.get_json(force=True)["type"].endswith("/idempotency-key-reused")
    assert effect_count(engine) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "含中文", "with space"])
def test_an_invalid_key_is_a_400_problem(client: Any, engine: Engine, key: str) -> None:
    response = client.post(
        "/v1/guidance", json=valid_body(), headers={"Idempotency-Key": key.encode().decode("latin-1")}
    )
    assert response.status_code == 400
    assert response.get_json(force=True)["type"].endswith("/invalid-idempotency-key")
    assert effect_count(engine) == 0


def test_without_a_key_each_request_runs_in_its_own_transaction(client: Any, engine: Engine) -> None:
    assert post(client, None, valid_body()).status_code == 201
    assert post(client, None, valid_body()).status_code == 201
    assert effect_count(engine) == 2


def test_a_failing_view_stores_nothing_and_rolls_back_its_writes(client: Any, engine: Engine) -> None:
    for _ in range(2):
        response = post(client, "key-1", valid_body(title="explode"))
        assert response.status_code == 500
        assert "Idempotent-Replayed" not in response.headers
    assert effect_count(engine) == 0


def test_invalid_input_stores_nothing_so_the_key_stays_usable(client: Any, engine: Engine) -> None:
    assert post(client, "key-1", valid_body(title="")).status_code == 422
    assert post(client, "key-1", valid_body()).status_code == 201
    assert effect_count(engine) == 1


def test_concurrent_duplicates_cause_exactly_one_effect(app: Flask, engine: Engine) -> None:
    results: list[Any] = []
    start = threading.Barrier(8)

    def send() -> None:
        client = app.test_client()
        start.wait()
        results.append(post(client, "same-key", valid_body(title="slow")))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [r.status_code for r in results] == [201] * 8
    assert len({r.get_data() for r in results}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in results) == 7
    assert effect_count(engine) == 1


def test_purged_keys_are_forgotten(client: Any, engine: Engine) -> None:
    post(client, "key-1", valid_body())
    assert purge_expired(engine, older_than=timedelta(days=1)) == 0
    assert purge_expired(engine, older_than=timedelta(seconds=-1)) == 1
    assert "Idempotent-Replayed" not in post(client, "key-1", valid_body()).headers
    assert effect_count(engine) == 2


def test_current_tx_outside_an_idempotent_view_is_a_clear_error(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(RuntimeError, match="@idempotent"):
        current_tx()


def test_placing_idempotent_below_blp_response_fails_loudly(engine: Engine) -> None:
    app, api = create_base_app("misuse", version="0", engine=engine, testing=True)
    blp = Blueprint("misuse", __name__, url_prefix="/misuse")

    @blp.route("")
    class Misuse(MethodView):
        @blp.response(201)
        @idempotent
        def post(self) -> Any:
            return {"ok": True}

    api.register_blueprint(blp)
    assert app.test_client().post("/misuse").status_code == 500
