"""intake's internal key API: persons' data keys, to the services granted them (docs/decisions/0007).

``POST /internal/v1/subject-keys`` hands a subject's live key to seal with (role ``pd-seal``), making it if the
subject has none; ``GET /internal/v1/subject-keys/{kid}`` hands the key a sealed field names, to open it with (role
``pd-open``), and ``POST /internal/v1/subject-keys/batch`` up to ``MAX_KEYS`` of them at once, as many GETs would (a
consumer replaying a batch of events about as many persons asks once, not once per person). Both roles are service
principals' (``guidance_shared.auth.principal.SERVICE_ROLES``): no person's role admits a caller here. Every call
says why (``purpose``) and is written to the access log before the answer leaves (who, the subject's pseudonym, the
key id, the purpose), a refused one too: a key that was erased (410 ``personal-data-erased``) or never made (404) is
an attempt an auditor wants to see.

The network narrows who can call further: the Ingress does not route ``/internal/`` and intake's web
NetworkPolicy admits disclosure's pods only (deploy/k8s). A caller keeps a key in memory for at most
``expires_in`` seconds (``guidance_shared.personal_data.cache``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from guidance_intake.adapters.subject_keys import SqlSubjectKeys
from guidance_intake.entrypoints.http import context
from guidance_shared.auth import PD_OPEN, PD_SEAL, requires
from guidance_shared.errors import GuidanceError, NotFound
from guidance_shared.personal_data.errors import KeyErased, UnknownKey
from guidance_shared.personal_data.field import b64url
from guidance_shared.personal_data.keys import IDENTIFIER, DataKey
from guidance_shared.web import Blueprint
from guidance_shared.web.access_log import Read, record_read, record_reads
from guidance_shared.web.strict import StrictBody

#: seconds a caller may keep a key it was handed (docs/decisions/0007: erasure reaches every cache within it)
EXPIRES_IN_S = 300
#: why a key is asked for, as the access log records it: scrubbing what disclosure publishes, answering an
#: information request about the person, keeping a record of them
PURPOSES = ("scrub", "request", "record")
#: a subject id is a pseudonym (docs/personal-data.md §4): 64 lowercase hex digits
SUBJECT_ID = r"^[0-9a-f]{64}$"
NO_STORE = {"Cache-Control": "no-store"}
#: key ids one call may ask for; a consumer asks for a larger batch of events' keys in several calls
MAX_KEYS = 500

subject_keys_blp = Blueprint(
    "subject_keys",
    __name__,
    url_prefix="/internal/v1/subject-keys",
    description="个人信息数据密钥 persons' data keys, for services granted pd-seal or pd-open (internal)",
)

_PURPOSE = {
    "validate": validate.OneOf(PURPOSES),
    "metadata": {"description": "why the key is needed, written to the access log: " + ", ".join(PURPOSES)},
}


class SealKeyRequest(StrictBody):
    subject_id = fields.String(
        required=True,
        validate=validate.Regexp(SUBJECT_ID),
        metadata={"description": "the subject's pseudonym (64 hex digits)", "example": "7d5b" * 16},
    )
    purpose = fields.String(required=True, **_PURPOSE)  # type: ignore[arg-type]


class OpenKeysRequest(StrictBody):
    kids = fields.List(
        fields.String(validate=validate.Regexp(IDENTIFIER.pattern + r"\Z")),
        required=True,
        validate=validate.Length(min=1, max=MAX_KEYS),
        metadata={
            "description": f"the key ids sealed fields name, 1 to {MAX_KEYS}",
            "example": ["AAECAwQFBgcICQoLDA0ODw"],
        },
    )
    purpose = fields.String(required=True, **_PURPOSE)  # type: ignore[arg-type]


class OpenKeyQuery(Schema):
    purpose = fields.String(required=True, **_PURPOSE)  # type: ignore[arg-type]


class SubjectKeyView(Schema):
    kid = fields.String(required=True, metadata={"description": "the key id sealed fields name"})
    subject_id = fields.String(required=True, metadata={"description": "the subject's pseudonym"})
    key = fields.String(required=True, metadata={"description": "the 32-byte AES-256 key, base64url, unpadded"})
    expires_in = fields.Integer(
        required=True, metadata={"description": "seconds the caller may keep the key, in memory only"}
    )


class SubjectKeysView(Schema):
    keys = fields.List(fields.Nested(SubjectKeyView), required=True, metadata={"description": "the keys handed out"})
    erased = fields.List(
        fields.String(), required=True, metadata={"description": "key ids erased with their subject (as GET's 410)"}
    )
    # Named apart from the member it is sent as: ``unknown`` is the name of a Schema's own setting.
    never_made = fields.List(
        fields.String(),
        required=True,
        attribute="unknown",
        data_key="unknown",
        metadata={"description": "key ids never made (as 404)"},
    )


class PersonalDataErased(GuidanceError):
    """The key's subject was erased: what it sealed can never be opened again."""

    def __init__(self, kid: str) -> None:
        super().__init__(
            code="personal-data-erased",
            title_en="Personal data erased",
            title_zh="个人信息已删除",
            status=410,
            detail_en=f"The data key {kid} was erased with its subject's personal data; show ［已删除］ in its place.",
            detail_zh=f"数据密钥 {kid} 已随当事人的个人信息一并删除，请以「［已删除］」代替显示。",
        )


class KeysNotConfigured(GuidanceError):
    def __init__(self) -> None:
        super().__init__(
            code="personal-data-keys-unavailable",
            title_en="Personal data keys unavailable",
            title_zh="个人信息密钥不可用",
            status=503,
            detail_en="This intake has no key-encryption keys configured (docs/personal-data.md §8).",
            detail_zh="本服务未配置密钥加密密钥（见 docs/personal-data.md 第 8 节）。",
        )


def _store() -> SqlSubjectKeys:
    personal = context.deps().personal
    store = None if personal is None else personal.key_store()
    if store is None:
        raise KeysNotConfigured()
    return store


def _answer(key: DataKey) -> dict[str, Any]:
    return {"kid": key.key_id, "subject_id": key.subject_id, "key": b64url(key.secret), "expires_in": EXPIRES_IN_S}


def _unknown(kid: str) -> NotFound:
    return NotFound("subject key", "数据密钥", kid)


@subject_keys_blp.route("")
class SealKey(MethodView):
    @requires(PD_SEAL)
    @subject_keys_blp.arguments(SealKeyRequest)
    @subject_keys_blp.response(200, SubjectKeyView)
    def post(self, request: Mapping[str, Any]) -> Any:
        """The subject's live data key, made if they have none: to seal their fields with (role pd-seal)."""
        key = _store().key_for(request["subject_id"])
        record_read(f"sealSubjectKey:{request['purpose']}", subject_refs=(key.subject_id,), record_id=key.key_id)
        return _answer(key), 200, NO_STORE


@subject_keys_blp.route("/<kid>")
class OpenKey(MethodView):
    @requires(PD_OPEN)
    @subject_keys_blp.arguments(OpenKeyQuery, location="query")
    @subject_keys_blp.response(200, SubjectKeyView)
    @subject_keys_blp.alt_response(404, description="no key with this id was ever made")
    @subject_keys_blp.alt_response(410, description="the key was erased with its subject (personal-data-erased)")
    def get(self, query: Mapping[str, Any], kid: str) -> Any:
        """The data key a sealed field names, to open it with (role pd-open)."""
        operation = f"openSubjectKey:{query['purpose']}"
        if not IDENTIFIER.fullmatch(kid):
            record_read(f"{operation}:unknown", record_id=kid[:64])
            raise _unknown(kid[:64])
        store = _store()
        try:
            key = store.get(kid)
        except KeyErased:
            record_read(f"{operation}:erased", subject_refs=(store.subject_of(kid),), record_id=kid)
            raise PersonalDataErased(kid) from None
        except UnknownKey:
            record_read(f"{operation}:unknown", record_id=kid)
            raise _unknown(kid) from None
        record_read(operation, subject_refs=(key.subject_id,), record_id=kid)
        return _answer(key), 200, NO_STORE


@subject_keys_blp.route("/batch")
class OpenKeys(MethodView):
    @requires(PD_OPEN)
    @subject_keys_blp.arguments(OpenKeysRequest)
    @subject_keys_blp.response(200, SubjectKeysView)
    def post(self, request: Mapping[str, Any]) -> Any:
        """Many data keys at once, each as GET hands out one: to open the sealed fields of a batch of events
        (role pd-open). Each key id asked for is one access log entry, as its GET would be."""
        operation = f"openSubjectKey:{request['purpose']}"
        kids = list(dict.fromkeys(request["kids"]))
        found = _store().look_up(kids)
        keys, erased, unknown, reads = [], [], [], []
        for kid in kids:
            key = found.get(kid)
            if key is None:
                unknown.append(kid)
                reads.append(Read(f"{operation}:unknown", None, kid))
            elif isinstance(key, str):  # erased: the subject's id, for the entry
                erased.append(kid)
                reads.append(Read(f"{operation}:erased", key, kid))
            else:
                keys.append(_answer(key))
                reads.append(Read(operation, key.subject_id, kid))
        record_reads(reads)
        return {"keys": keys, "erased": erased, "unknown": unknown}, 200, NO_STORE
