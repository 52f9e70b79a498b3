"""A tiny service built on the web kit: one flask-smorest blueprint, a nested schema, one effects table."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from prometheus_client import CollectorRegistry
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, func, insert, select

from guidance_shared.db import make_engine
from guidance_shared.errors import ConcurrencyError
from guidance_shared.web import create_base_app, current_tx, idempotent
from tests.support.schema import kernel_tables

EFFECTS_METADATA = MetaData()
effects = Table(
    "effects",
    EFFECTS_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
)


class LegalBasisSchema(ma.Schema):
    law = ma.fields.String(required=True)
    article = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20))


class CounterpartSchema(ma.Schema):
    name = ma.fields.String(required=True)
    kind = ma.fields.String(validate=ma.validate.OneOf(["person", "organization"]))


class GuidanceIn(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    counterpart = ma.fields.Nested(CounterpartSchema, required=True)
    legal_basis = ma.fields.List(ma.fields.Nested(LegalBasisSchema), required=True)
    issued_on = ma.fields.Date()
    priority = ma.fields.Integer(validate=ma.validate.Range(min=1, max=5))


class GuidanceOut(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()


def _blueprint() -> Blueprint:
    blp = Blueprint("guidance", __name__, url_prefix="/v1/guidance")

    @blp.route("")
    class GuidanceCollection(MethodView):
        @blp.arguments(GuidanceIn)
        @idempotent
        @blp.response(201, GuidanceOut)
        def post(self, data: dict[str, Any]) -> Any:
            """Record a guidance; counts one row in ``effects`` per real execution."""
            if data["title"] == "slow":
                time.sleep(0.3)  # widen the window for concurrent duplicates
            new_id = current_tx().execute(insert(effects).values(title=data["title"])).inserted_primary_key[0]
            if data["title"] == "explode":
                raise RuntimeError("exploded after writing")
            return {"id": new_id, "title": data["title"]}, {"Location": f"/v1/guidance/{new_id}"}

    @blp.route("/boom")
    def boom() -> Any:
        raise RuntimeError("secret db password hunter2 for 110105194912310021")

    @blp.route("/conflict", methods=["POST"])
    def conflict() -> Any:
        raise ConcurrencyError("case-1", expected=2, actual=3)

    @blp.route("/plain", methods=["POST"])
    @idempotent
    def plain() -> Any:
        return jsonify(ok=True)

    return blp


def build_app(
    engine: Engine | None = None, checks: Mapping[str, Callable[[], None]] | None = None
) -> tuple[Flask, CollectorRegistry]:
    registry = CollectorRegistry()
    app, api = create_base_app(
        "test-svc", version="1.2.3", checks=checks, engine=engine, registry=registry, testing=True
    )
    api.register_blueprint(_blueprint())
    if engine is not None:
        kernel_tables(engine, EFFECTS_METADATA)  # the idempotency records, as a service's history makes them
    return app, registry


def effect_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(effects)).scalar_one())


def valid_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "责令改正",
        "counterpart": {"name": "某某公司", "kind": "organization"},
        "legal_basis": [{"law": "行政处罚法", "article": "第三十三条"}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def sqlite_engine(tmp_path: Any) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    yield engine
    engine.dispose()


@pytest.fixture
def app(sqlite_engine: Engine) -> Flask:
    return build_app(sqlite_engine)[0]


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()
