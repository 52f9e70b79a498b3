"""The codes a client must send are in intake's OpenAPI enums, the same codes the server accepts."""

from __future__ import annotations

from flask.testing import FlaskClient

from guidance_intake.entrypoints.http.schemas import DecideCaseRequest
from guidance_shared.vocabulary import DECISIONS


def test_the_openapi_enum_of_a_decision_is_the_codes_the_server_accepts(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    enum = spec["components"]["schemas"]["DecideCaseRequest"]["properties"]["decision"]["enum"]
    accepted = DecideCaseRequest().fields["decision"].validate.choices  # type: ignore[union-attr]
    assert enum == list(accepted) == list(DECISIONS)
    refused = DecideCaseRequest().validate({"decision": "not_a_decision"})
    assert "decision" in refused
