"""Bearer tokens, roles and department scope: who may call, and what a refusal tells them (and the logs)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask, g
from flask.views import MethodView
from flask_smorest import Blueprint
from prometheus_client import CollectorRegistry

from guidance_shared.auth import (
    AuthSettings,
    SigningKey,
    current_principal,
    ensure_department,
    install_auth,
    jwks_document,
    requires,
)
from guidance_shared.auth import main as auth_main
from guidance_shared.cli import main as guidance_main
from guidance_shared.db import make_engine
from guidance_shared.errors import NotFound
from guidance_shared.logging import get_logger
from guidance_shared.settings import SettingsError
from guidance_shared.web import PROBLEM_MEDIA_TYPE, create_base_app, idempotent
from tests.support.auth import AuthKeys
from tests.support.logs import captured_logs
from tests.support.schema import kernel_tables

DEPT_A = "6f1c2a0e-0000-4000-8000-00000000000a"
DEPT_B = "6f1c2a0e-0000-4000-8000-00000000000b"
DEPT_C = "6f1c2a0e-0000-4000-8000-00000000000c"
CASES = {"case-a": DEPT_A, "case-b": DEPT_B, "case-c": DEPT_C}


class CaseOut(ma.Schema):
    id = ma.fields.String()
    department_id = ma.fields.String()


class CaseIn(ma.Schema):
    title = ma.fields.String(required=True)


def _blueprint() -> Blueprint:
    blp = Blueprint("cases", __name__, url_prefix="/v1")

    @blp.route("/cases")
    class Cases(MethodView):
        @requires("officer")
        @blp.arguments(CaseIn)
        @blp.response(201, CaseOut)
        def post(self, data: dict[str, Any]) -> Any:
            """Open a case in the caller's own department."""
            return {"id": "case-new", "department_id": current_principal().department_id}

    @blp.route("/cases/<case_id>")
    class Case(MethodView):
        @requires()
        @blp.response(200, CaseOut)
        def get(self, case_id: str) -> Any:
            """Read one case of an accessible department."""
            return {"id": case_id, "department_id": _load(case_id)}

        @requires("officer", "reviewer")
        @blp.response(200, CaseOut)
        def put(self, case_id: str) -> Any:
            """Change one case of an accessible department."""
            return {"id": case_id, "department_id": _load(case_id)}

    @blp.route("/me")
    class Me(MethodView):
        @requires()
        def get(self) -> Any:
            principal = current_principal()
            return {
                "subject": principal.subject,
                "department_ids": sorted(principal.department_ids),
                "roles": sorted(principal.roles),
                "scope": g.idempotency_scope,
            }

    @blp.route("/public/notices")
    class Notices(MethodView):
        @blp.response(200, CaseOut(many=True))
        def get(self) -> Any:
            """Public: no credentials."""
            return []

    return blp


def _load(case_id: str) -> str:
    not_found = NotFound("case", "案件", case_id)
    department = CASES.get(case_id)
    if department is None:
        raise not_found
    ensure_department(department, not_found=not_found)
    return department


def build_app(settings: AuthSettings) -> Flask:
    app, api = create_base_app("test-svc", version="1.0.0", registry=CollectorRegistry(), testing=True)
    install_auth(app, settings)
    api.register_blueprint(_blueprint())
    return app


@pytest.fixture
def auth_keys(tmp_path: Path) -> AuthKeys:
    return AuthKeys.create(tmp_path / "auth")


@pytest.fixture
def client(auth_keys: AuthKeys) -> Any:
    return build_app(auth_keys.settings()).test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def forge(header: dict[str, Any], claims: dict[str, Any], sign: Any = None) -> str:
    """A token built by hand, for what PyJWT refuses to produce (alg none, HS256 keyed with a public key)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{_b64(signature)}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def refused(response: Any, status: int = 401) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status and body["detail"] and body["detail_zh"]
    return body


def challenge(response: Any) -> str:
    return str(response.headers["WWW-Authenticate"])


# --- authentication -------------------------------------------------------------------------------------------


def test_no_token_is_401_problem_with_a_bare_challenge(client: Any) -> None:
    response = client.get("/v1/cases/case-a")
    body = refused(response)
    assert body["type"].endswith("/unauthenticated") and body["reason"] == "missing-token"
    assert "Authorization" in body["detail"] and "访问令牌" in body["detail_zh"]
    assert challenge(response) == 'Bearer realm="guidance"'  # RFC 6750 §3.1: no error code without credentials


@pytest.mark.parametrize("header", ["Basic b2ZmaWNlcjpwdw==", "Bearer", "Bearer a.b.c extra", "Token a.b.c"])
def test_a_malformed_authorization_header_is_an_invalid_request(client: Any, header: str) -> None:
    response = client.get("/v1/cases/case-a", headers={"Authorization": header})
    assert refused(response)["reason"] == "malformed-header"
    assert 'error="invalid_request"' in challenge(response)


def test_a_token_that_is_not_a_jwt_is_invalid(client: Any) -> None:
    response = client.get("/v1/cases/case-a", headers=bearer("not-a-jwt"))
    assert refused(response)["reason"] == "malformed-token"
    assert challenge(response).startswith('Bearer realm="guidance", error="invalid_token", error_description="')


def test_rs256_and_es256_tokens_are_accepted(client: Any, auth_keys: AuthKeys) -> None:
    for key in (auth_keys.rsa, auth_keys.ec):
        response = client.get("/v1/cases/case-a", headers=auth_keys.headers("officer-1", DEPT_A, ["officer"], key=key))
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == {"id": "case-a", "department_id": DEPT_A}


def test_a_signature_by_another_key_under_a_trusted_kid_does_not_verify(client: Any, auth_keys: AuthKeys) -> None:
    impostor = SigningKey.generate("ES256")
    token = auth_keys.token(key=impostor, headers={"kid": auth_keys.ec.kid})
    response = client.get("/v1/me", headers=bearer(token))
    assert refused(response)["reason"] == "bad-signature"
    assert token not in response.get_data(as_text=True)


def test_a_token_from_an_unknown_key_is_refused(client: Any, auth_keys: AuthKeys) -> None:
    response = client.get("/v1/me", headers=bearer(auth_keys.token(key=SigningKey.generate("ES256"))))
    assert refused(response)["reason"] == "unknown-key"


def test_an_expired_token_is_refused(client: Any, auth_keys: AuthKeys) -> None:
    response = client.get("/v1/me", headers=bearer(auth_keys.token(exp=int(time.time()) - 120)))
    body = refused(response)
    assert body["reason"] == "expired" and "过期" in body["detail_zh"]
    assert "expired" in challenge(response)


def test_expiry_within_the_leeway_is_tolerated(client: Any, auth_keys: AuthKeys) -> None:
    response = client.get("/v1/me", headers=bearer(auth_keys.token(exp=int(time.time()) - 5)))
    assert response.status_code == 200


def test_a_token_not_yet_valid_is_refused(client: Any, auth_keys: AuthKeys) -> None:
    response = client.get("/v1/me", headers=bearer(auth_keys.token(nbf=int(time.time()) + 600)))
    assert refused(response)["reason"] == "not-yet-valid"


def test_a_foreign_issuer_is_refused_naming_the_trusted_one(client: Any, auth_keys: AuthKeys) -> None:
    response = client.get("/v1/me", headers=bearer(auth_keys.token(iss="https://elsewhere.example")))
    body = refused(response)
    assert body["reason"] == "wrong-issuer" and auth_keys.issuer in body["detail"]
    assert "elsewhere" not in response.get_data(as_text=True)


def test_a_token_for_another_audience_is_refused(client: Any, auth_keys: AuthKeys) -> None:
    response = client.get("/v1/me", headers=bearer(auth_keys.token(aud="payroll")))
    body = refused(response)
    assert body["reason"] == "wrong-audience" and auth_keys.audience in body["detail"]


def test_alg_none_is_refused(client: Any, auth_keys: AuthKeys) -> None:
    claims = json.loads(base64.urlsafe_b64decode(auth_keys.token().split(".")[1] + "=="))
    response = client.get("/v1/me", headers=bearer(forge({"alg": "none", "typ": "JWT"}, claims)))
    body = refused(response)
    assert body["reason"] == "algorithm-not-accepted" and "RS256, ES256" in body["detail"]


def test_hs256_keyed_with_the_public_key_is_refused(client: Any, auth_keys: AuthKeys) -> None:
    """The classic key-confusion attack: the public PEM used as an HMAC secret."""
    claims = json.loads(base64.urlsafe_b64decode(auth_keys.token().split(".")[1] + "=="))
    secret = auth_keys.rsa.public_pem()
    token = forge(
        {"alg": "HS256", "typ": "JWT", "kid": auth_keys.rsa.kid},
        claims,
        lambda data: hmac.new(secret, data, hashlib.sha256).digest(),
    )
    assert refused(client.get("/v1/me", headers=bearer(token)))["reason"] == "algorithm-not-accepted"


@pytest.mark.parametrize("algorithms", ["none", "HS256", "RS256,HS512"])
def test_symmetric_or_no_algorithms_cannot_be_configured(algorithms: str) -> None:
    with pytest.raises(SettingsError, match="GUIDANCE_AUTH_ALGORITHMS"):
        AuthSettings.from_env("test-svc", {"GUIDANCE_AUTH_ALGORITHMS": algorithms})


def test_an_algorithm_left_out_of_the_allow_list_is_refused(auth_keys: AuthKeys) -> None:
    client = build_app(auth_keys.settings(GUIDANCE_AUTH_ALGORITHMS="RS256")).test_client()
    response = client.get("/v1/me", headers=bearer(auth_keys.token(key=auth_keys.ec)))
    assert refused(response)["reason"] == "algorithm-not-accepted"


@pytest.mark.parametrize(
    ("override", "reason", "claim"),
    [
        ({"department_id": None}, "missing-claim", "department_id"),
        ({"roles": None}, "missing-claim", "roles"),
        ({"department_id": "county-7"}, "invalid-claim", "department_id"),
        ({"departments": "6f1c2a0e"}, "invalid-claim", "departments"),
        ({"roles": [7]}, "invalid-claim", "roles"),
    ],
)
def test_claims_are_checked_and_named_without_their_values(
    client: Any, auth_keys: AuthKeys, override: dict[str, Any], reason: str, claim: str
) -> None:
    body = refused(client.get("/v1/me", headers=bearer(auth_keys.token(**override))))
    assert body["reason"] == reason and claim in body["detail"]
    assert "county-7" not in json.dumps(body)


# --- authorisation --------------------------------------------------------------------------------------------


def test_a_missing_role_is_403_naming_the_roles_required(client: Any, auth_keys: AuthKeys) -> None:
    response = client.post("/v1/cases", json={"title": "x"}, headers=auth_keys.headers("aud-1", DEPT_A, ["auditor"]))
    body = refused(response, 403)
    assert body["type"].endswith("/forbidden-role") and body["required_roles"] == ["officer"]
    assert "officer" in body["detail"] and "经办人员" in body["detail_zh"]
    assert 'error="insufficient_scope"' in challenge(response)


def test_authentication_comes_before_argument_validation(client: Any) -> None:
    assert refused(client.post("/v1/cases", json={}))["reason"] == "missing-token"


def test_an_officer_writes_in_their_own_department(client: Any, auth_keys: AuthKeys) -> None:
    response = client.post("/v1/cases", json={"title": "x"}, headers=auth_keys.headers("o-1", DEPT_A, ["officer"]))
    assert (response.status_code, response.get_json()["department_id"]) == (201, DEPT_A)


def test_another_departments_record_reads_as_not_found(client: Any, auth_keys: AuthKeys) -> None:
    headers = auth_keys.headers("officer-1", DEPT_A, ["officer"])
    hidden = refused(client.get("/v1/cases/case-b", headers=headers), 404)
    missing = refused(client.get("/v1/cases/case-zz", headers=headers), 404)
    assert {k: v for k, v in hidden.items() if k not in ("request_id", "instance", "detail", "detail_zh")} == {
        k: v for k, v in missing.items() if k not in ("request_id", "instance", "detail", "detail_zh")
    }
    assert hidden["detail"] == "No case with id case-b." and DEPT_B not in json.dumps(hidden)


def test_changing_another_departments_record_answers_as_if_it_did_not_exist(client: Any, auth_keys: AuthKeys) -> None:
    headers = auth_keys.headers("officer-1", DEPT_A, ["officer"])
    hidden = refused(client.put("/v1/cases/case-b", headers=headers), 404)
    missing = refused(client.put("/v1/cases/case-zz", headers=headers), 404)
    assert hidden["type"] == missing["type"] and DEPT_B not in json.dumps(hidden)
    assert "WWW-Authenticate" not in client.put("/v1/cases/case-b", headers=headers).headers


def test_department_ids_compare_case_insensitively(client: Any, auth_keys: AuthKeys) -> None:
    headers = auth_keys.headers("officer-1", DEPT_A.upper(), ["officer"])
    assert client.get("/v1/cases/case-a", headers=headers).status_code == 200


def test_an_admin_sees_every_department(client: Any, auth_keys: AuthKeys) -> None:
    headers = auth_keys.headers("admin-1", DEPT_C, ["admin"])
    assert [client.get(f"/v1/cases/{case}", headers=headers).status_code for case in CASES] == [200, 200, 200]


def test_a_county_supervisor_oversees_the_departments_listed(client: Any, auth_keys: AuthKeys) -> None:
    headers = auth_keys.headers("sup-1", DEPT_A, ["supervisor"], departments=[DEPT_B])
    codes = [client.get(f"/v1/cases/{case}", headers=headers).status_code for case in ("case-a", "case-b", "case-c")]
    assert codes == [200, 200, 404]
    me = client.get("/v1/me", headers=headers).get_json()
    assert me["department_ids"] == sorted([DEPT_A, DEPT_B]) and me["roles"] == ["supervisor"]


def test_idempotency_scope_is_per_subject_and_department(client: Any, auth_keys: AuthKeys) -> None:
    first = client.get("/v1/me", headers=auth_keys.headers("o-1", DEPT_A, ["officer"])).get_json()["scope"]
    other = client.get("/v1/me", headers=auth_keys.headers("o-1", DEPT_B, ["officer"])).get_json()["scope"]
    assert first == f"{DEPT_A}:o-1" and other == f"{DEPT_B}:o-1"


def test_idempotency_keys_of_two_departments_never_collide(auth_keys: AuthKeys, tmp_path: Path) -> None:
    engine = kernel_tables(make_engine(f"sqlite:///{tmp_path}/idem.db"))
    app, api = create_base_app("test-svc", version="1", engine=engine, registry=CollectorRegistry(), testing=True)
    install_auth(app, auth_keys.settings())
    blp = Blueprint("notes", __name__, url_prefix="/v1/notes")
    written: list[str] = []

    @blp.route("")
    class Notes(MethodView):
        @requires("officer")
        @blp.arguments(CaseIn)
        @idempotent
        @blp.response(201, CaseOut)
        def post(self, data: dict[str, Any]) -> Any:
            written.append(current_principal().department_id)
            return {"id": str(len(written)), "department_id": written[-1]}

    api.register_blueprint(blp)
    client = app.test_client()

    def post(department: str) -> Any:
        headers = {**auth_keys.headers("o-1", department, ["officer"]), "Idempotency-Key": "k-1"}
        return client.post("/v1/notes", json={"title": "x"}, headers=headers)

    first, other, again = post(DEPT_A), post(DEPT_B), post(DEPT_A)
    assert [r.get_json()["department_id"] for r in (first, other, again)] == [DEPT_A, DEPT_B, DEPT_A]
    assert written == [DEPT_A, DEPT_B] and again.headers["Idempotent-Replayed"] == "true"
    engine.dispose()


def test_unknown_roles_in_a_token_grant_nothing(client: Any, auth_keys: AuthKeys) -> None:
    response = client.get("/v1/me", headers=auth_keys.headers("x", DEPT_A, ["superuser"]))
    assert refused(response, 403)["type"].endswith("/forbidden-role")


def test_requires_refuses_a_misspelt_role_at_import() -> None:
    with pytest.raises(ValueError, match="officr"):
        requires("officr")


# --- key sets -------------------------------------------------------------------------------------------------


def test_a_rotated_jwks_file_is_picked_up_without_restart(client: Any, auth_keys: AuthKeys) -> None:
    fresh = SigningKey.generate("ES256")
    assert refused(client.get("/v1/me", headers=bearer(auth_keys.token(key=fresh))))["reason"] == "unknown-key"

    auth_keys.publish(auth_keys.rsa, fresh)

    assert client.get("/v1/me", headers=bearer(auth_keys.token(key=fresh))).status_code == 200
    retired = client.get("/v1/me", headers=bearer(auth_keys.token(key=auth_keys.ec)))
    assert refused(retired)["reason"] == "unknown-key"


def test_a_withdrawn_key_stops_a_token_already_verified_at_once(client: Any, auth_keys: AuthKeys) -> None:
    # given a token the service has verified (and now answers from memory)
    token = auth_keys.token(key=auth_keys.ec)
    assert client.get("/v1/me", headers=bearer(token)).status_code == 200
    assert client.get("/v1/me", headers=bearer(token)).status_code == 200
    # when its key is withdrawn from the key set
    auth_keys.publish(auth_keys.rsa)
    # then the very same token is refused on its next request
    assert refused(client.get("/v1/me", headers=bearer(token)))["reason"] == "unknown-key"


def test_a_token_already_verified_is_refused_once_it_expires(auth_keys: AuthKeys) -> None:
    client = build_app(replace(auth_keys.settings(), leeway_s=0)).test_client()
    expires = int(time.time()) + 2
    token = auth_keys.token(exp=expires)
    assert client.get("/v1/me", headers=bearer(token)).status_code == 200
    while time.time() <= expires + 0.05:
        time.sleep(0.1)
    body = refused(client.get("/v1/me", headers=bearer(token)))
    assert body["reason"] == "expired"


def test_a_half_written_jwks_file_keeps_the_last_good_keys(client: Any, auth_keys: AuthKeys) -> None:
    auth_keys.jwks_path.write_text('{"keys": [', encoding="utf-8")
    assert client.get("/v1/me", headers=bearer(auth_keys.token())).status_code == 200


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 that counts its fetches."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jwks_server(auth_keys: AuthKeys) -> Iterator[JwksServer]:
    server = JwksServer(jwks_document(auth_keys.rsa))
    yield server
    server.close()


def url_settings(url: str) -> AuthSettings:
    return replace(AuthSettings.from_env("test-svc", {"GUIDANCE_AUTH_JWKS": url}), jwks_refresh_cooldown_s=0)


def test_jwks_over_http_is_cached_and_refetched_for_an_unknown_kid(
    auth_keys: AuthKeys, jwks_server: JwksServer
) -> None:
    client = build_app(url_settings(jwks_server.url)).test_client()
    for _ in range(2):
        assert client.get("/v1/me", headers=bearer(auth_keys.token())).status_code == 200
    assert jwks_server.fetches == 1

    jwks_server.document = jwks_document(auth_keys.rsa, auth_keys.ec)

    assert client.get("/v1/me", headers=bearer(auth_keys.token(key=auth_keys.ec))).status_code == 200
    assert jwks_server.fetches == 2


def test_unknown_kids_refetch_at_most_once_per_cooldown(auth_keys: AuthKeys, jwks_server: JwksServer) -> None:
    settings = replace(url_settings(jwks_server.url), jwks_refresh_cooldown_s=60)
    client = build_app(settings).test_client()
    for _ in range(3):
        response = client.get("/v1/me", headers=bearer(auth_keys.token(key=SigningKey.generate("ES256"))))
        assert refused(response)["reason"] == "unknown-key"
    assert jwks_server.fetches == 1


def test_an_unreachable_jwks_url_is_503_not_401(auth_keys: AuthKeys, jwks_server: JwksServer) -> None:
    url = jwks_server.url
    jwks_server.close()
    response = build_app(url_settings(url)).test_client().get("/v1/me", headers=bearer(auth_keys.token()))
    assert refused(response, 503)["type"].endswith("/auth-unavailable")


# --- development keys and the mint command ----------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in [n for n in os.environ if n.startswith("GUIDANCE_")]:
        monkeypatch.delenv(name)


def test_an_embedded_install_without_keys_gets_a_dev_key_pair(tmp_path: Path) -> None:
    settings = AuthSettings.from_env("test-svc", {"GUIDANCE_VAR_DIR": str(tmp_path)})
    assert settings.dev_keys and settings.jwks_path == tmp_path / "auth" / "jwks.json"

    build_app(settings)

    assert stat.S_IMODE(settings.dev_key_path.stat().st_mode) == 0o600
    assert json.loads(settings.jwks_path.read_text())["keys"][0]["alg"] == "ES256"
    assert "d" not in json.loads(settings.jwks_path.read_text())["keys"][0]  # public half only
    assert not AuthSettings.from_env("test-svc", {"GUIDANCE_VAR_DIR": str(tmp_path)}).dev_keys


@pytest.mark.parametrize(
    "env", [{"GUIDANCE_TRANSPORT": "kafka"}, {"GUIDANCE_AUTH_DEV_KEYS": "false"}], ids=["kafka", "explicit-false"]
)
def test_without_dev_keys_a_missing_jwks_stops_start_up(tmp_path: Path, env: dict[str, str]) -> None:
    settings = AuthSettings.from_env("test-svc", {"GUIDANCE_VAR_DIR": str(tmp_path), **env})
    assert not settings.dev_keys
    with pytest.raises(SettingsError, match="GUIDANCE_AUTH_JWKS"):
        build_app(settings)
    assert not (tmp_path / "auth").exists()


def test_dev_keys_are_refused_with_a_jwks_url() -> None:
    with pytest.raises(SettingsError, match="GUIDANCE_AUTH_DEV_KEYS"):
        AuthSettings.from_env("x", {"GUIDANCE_AUTH_JWKS": "https://idp.example/jwks", "GUIDANCE_AUTH_DEV_KEYS": "1"})


def test_dev_keys_never_overwrite_a_foreign_jwks(auth_keys: AuthKeys) -> None:
    before = auth_keys.jwks_path.read_bytes()
    with pytest.raises(SettingsError, match="not a development key set"):
        build_app(auth_keys.settings(GUIDANCE_AUTH_DEV_KEYS="true"))
    assert auth_keys.jwks_path.read_bytes() == before


@pytest.mark.usefixtures("clean_env")
def test_a_minted_token_is_accepted_by_a_service(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert auth_main(["keys", "--var-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "auth" / "jwks.json")
    argv = ["mint", "--sub", "sup-1", "--department", DEPT_A, "--departments", DEPT_B]
    argv += ["--roles", "supervisor,auditor", "--ttl", "30m", "--var-dir", str(tmp_path)]
    assert guidance_main(["auth", *argv]) == 0
    token = capsys.readouterr().out.strip()

    client = build_app(AuthSettings.from_env("test-svc", {"GUIDANCE_VAR_DIR": str(tmp_path)})).test_client()
    me = client.get("/v1/me", headers=bearer(token)).get_json()

    assert me["subject"] == "sup-1" and me["roles"] == ["auditor", "supervisor"]
    assert me["department_ids"] == sorted([DEPT_A, DEPT_B])
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["exp"] - claims["iat"] == 1800


@pytest.mark.usefixtures("clean_env")
def test_mint_writes_a_service_token_file_only_its_owner_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--out``: a service's token file (deploy/compose.yaml's auth-init), made with the key set if none."""
    out = tmp_path / "var" / "key-api" / "disclosure.token"
    argv = ["mint", "--sub", "svc", "--department", DEPT_A, "--roles", "pd-open", "--var-dir", str(tmp_path / "var")]
    assert auth_main([*argv, "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)  # the path, never the token
    assert out.stat().st_mode & 0o777 == 0o600
    token = out.read_text(encoding="utf-8").strip()
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert (claims["sub"], claims["roles"]) == ("svc", ["pd-open"])
    assert (tmp_path / "var" / "auth" / "jwks.json").exists()


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--department", "county-7", "--roles", "officer"], "UUID"),
        (["--department", DEPT_A, "--roles", "boss"], "boss"),
        (["--department", DEPT_A, "--roles", "officer", "--ttl", "soon"], "--ttl"),
    ],
)
def test_mint_explains_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], complaint: str
) -> None:
    assert auth_main(["mint", "--sub", "x", *args, "--var-dir", str(tmp_path)]) == 2
    assert complaint in capsys.readouterr().err


# --- OpenAPI and logs -------------------------------------------------------------------------------------------


def test_openapi_documents_the_bearer_scheme_on_protected_operations_only(client: Any) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    read = spec["paths"]["/v1/cases/{case_id}"]["get"]
    assert read["security"] == [{"bearerAuth": []}]
    assert {"200", "401", "403"} <= set(read["responses"])
    assert spec["paths"]["/v1/cases"]["post"]["requestBody"]  # flask-smorest's own docs survive the wrapper
    assert "security" not in spec["paths"]["/v1/public/notices"]["get"]


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    with captured_logs(capsys, "test-svc", "DEBUG") as logs:
        yield logs.text


def test_tokens_and_personal_claims_never_reach_the_log(client: Any, auth_keys: AuthKeys, json_logs: Any) -> None:
    good = auth_keys.token("officer-1", DEPT_A, ["officer"], name="张三", address="北京市朝阳区某街1号")
    expired = auth_keys.token(exp=int(time.time()) - 600, name="李四")
    forged = auth_keys.token(key=SigningKey.generate("ES256"), headers={"kid": auth_keys.ec.kid})
    client.get("/v1/cases/case-a", headers=bearer(good))
    for token in (expired, forged, "garbage"):
        client.get("/v1/cases/case-a", headers=bearer(token))
    client.get("/v1/cases/case-a", headers={"Authorization": "Basic b2ZmaWNlcjpwdw=="})
    get_logger("test").info("after_the_request")

    out = json_logs()
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    for secret in (good, expired, forged, good.split(".")[1], expired.split(".")[2], "张三", "李四", "朝阳区", "b2Zm"):
        assert secret not in out
    access = [line for line in lines if line["event"] == "http_request"]
    assert (access[0]["user"], access[0]["department_id"], access[0]["roles"]) == ("officer-1", DEPT_A, "officer")
    assert [line["reason"] for line in lines if line["event"] == "authentication_failed"] == [
        "expired",
        "bad-signature",
        "malformed-token",
        "malformed-header",
    ]
    assert all("user" not in line for line in access[1:])
    assert "user" not in lines[-1]  # the principal is unbound once the request ends
