"""The wire format of one encrypted personal field, and sealing and opening it (AES-256-GCM).

A personal field's value is replaced, in the event's JSON, by this object (docs/personal-data.md
specifies it for consumers in other languages)::

    {"v": 1, "alg": "A256GCM", "kid": "<subject key id>",
     "aad": {"event": "GuidanceIssued", "field": "counterpart.id_no"},
     "nonce": "<12 bytes, base64url>", "ct": "<ciphertext and 16-byte tag, base64url>"}

The plaintext is the field's text in UTF-8. The associated data, authenticated but not encrypted, is the
ASCII text ``guidance-pd:1|A256GCM|<kid>|<event>|<field>``: a ciphertext copied into another field, another
event type or under another key id fails authentication. The event is named without its major version,
so an upcast event keeps its fields readable. Nonces are random: a subject's key seals a handful of
fields, far below the 2^32 messages per key under which random 96-bit GCM nonces stay safe.

AES-GCM comes from ``cryptography`` (OpenSSL); nothing here is hand-written cryptography.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from guidance_shared.personal_data.errors import MalformedField, TamperedField
from guidance_shared.personal_data.keys import IDENTIFIER, DataKey

FORMAT_VERSION = 1
ALGORITHM = "A256GCM"  # the JOSE name (RFC 7518 §5.3) of AES-256 in Galois/Counter Mode
NONCE_BYTES = 12
TAG_BYTES = 16
AAD_PREFIX = "guidance-pd:1"
_MEMBERS = frozenset({"v", "alg", "kid", "aad", "nonce", "ct"})
_EVENT = re.compile(r"[A-Z][A-Za-z0-9]{0,63}")
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,63}(?:\.[a-z][a-z0-9_]{0,63}){0,7}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

#: a sealed field as it stands in an event's JSON data
SealedJson = dict[str, Any]

_B64URL_PATTERN = "^[A-Za-z0-9_-]*$"
#: the JSON Schema (2020-12) of a sealed field: what an event's schema says a personal field may hold
#: besides its clear string (``{"oneOf": [{"type": "string", …}, JSON_SCHEMA]}``)
JSON_SCHEMA: dict[str, Any] = {
    "title": "Sealed personal field (docs/personal-data.md §2)",
    "type": "object",
    "additionalProperties": False,
    "required": ["v", "alg", "kid", "aad", "nonce", "ct"],
    "properties": {
        "v": {"const": FORMAT_VERSION},
        "alg": {"const": ALGORITHM},
        "kid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        "aad": {
            "type": "object",
            "additionalProperties": False,
            "required": ["event", "field"],
            "properties": {
                "event": {"type": "string", "pattern": f"^{_EVENT.pattern}$"},
                "field": {"type": "string", "pattern": f"^{_FIELD.pattern}$"},
            },
        },
        "nonce": {"type": "string", "pattern": _B64URL_PATTERN, "minLength": 16, "maxLength": 16},
        "ct": {"type": "string", "pattern": _B64URL_PATTERN, "minLength": 22},
    },
}


@dataclass(frozen=True)
class FieldContext:
    """Where a sealed value belongs: the event type's name (no version) and the field's dotted path."""

    event: str
    field: str

    def __post_init__(self) -> None:
        if not _EVENT.fullmatch(self.event):
            raise ValueError(f"not an event name: {self.event!r}")
        if not _FIELD.fullmatch(self.field):
            raise ValueError(f"not a field path: {self.field!r}")


@dataclass(frozen=True)
class SealedField:
    """An encrypted field read from its JSON object (not yet opened)."""

    key_id: str
    context: FieldContext
    nonce: bytes
    ciphertext: bytes

    def as_json(self) -> SealedJson:
        return {
            "v": FORMAT_VERSION,
            "alg": ALGORITHM,
            "kid": self.key_id,
            "aad": {"event": self.context.event, "field": self.context.field},
            "nonce": b64url(self.nonce),
            "ct": b64url(self.ciphertext),
        }


def associated_data(key_id: str, context: FieldContext) -> bytes:
    return f"{AAD_PREFIX}|{ALGORITHM}|{key_id}|{context.event}|{context.field}".encode("ascii")


def is_sealed(value: object) -> bool:
    """Whether a JSON value is an encrypted field (rather than the clear text of an older event)."""
    return isinstance(value, Mapping) and value.get("alg") == ALGORITHM and "ct" in value and "kid" in value


def seal(key: DataKey, context: FieldContext, plaintext: str) -> SealedJson:
    """The JSON object that stands for ``plaintext`` in the field ``context`` names, under ``key``."""
    return seal_with_nonce(key, context, plaintext, secrets.token_bytes(NONCE_BYTES))


def seal_with_nonce(key: DataKey, context: FieldContext, plaintext: str, nonce: bytes) -> SealedJson:
    """``seal`` with a given nonce: only for published test vectors. A nonce must never repeat under a key."""
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"a nonce has {NONCE_BYTES} bytes")
    ciphertext = AESGCM(key.secret).encrypt(nonce, plaintext.encode("utf-8"), associated_data(key.key_id, context))
    return SealedField(key.key_id, context, nonce, ciphertext).as_json()


def parse(value: object) -> SealedField:
    """Read an encrypted field's JSON object; ``MalformedField`` if it is not one this version reads."""
    if not isinstance(value, Mapping):
        raise MalformedField("an encrypted field is a JSON object")
    # The version first: a later format may have other members, and its reader should be told it is newer.
    if value.get("v") != FORMAT_VERSION or value.get("alg") != ALGORITHM:
        # The values are not echoed: a malformed object may hold anything, personal data included.
        raise MalformedField(f"not an encrypted field of version {FORMAT_VERSION} with algorithm {ALGORITHM}")
    if set(value) != _MEMBERS:
        raise MalformedField(f"an encrypted field has exactly the members {sorted(_MEMBERS)}")
    kid, aad = value["kid"], value["aad"]
    if not isinstance(kid, str) or not IDENTIFIER.fullmatch(kid):
        raise MalformedField("kid is not a key id")
    if not isinstance(aad, Mapping) or set(aad) != {"event", "field"}:
        raise MalformedField("aad has exactly the members event and field")
    try:
        context = FieldContext(str(aad["event"]), str(aad["field"]))
    except ValueError:
        raise MalformedField("aad is not an event name and a field path") from None
    nonce, ciphertext = b64url_decode(value["nonce"]), b64url_decode(value["ct"])
    if len(nonce) != NONCE_BYTES or len(ciphertext) < TAG_BYTES:
        raise MalformedField("nonce or ciphertext has the wrong length")
    return SealedField(kid, context, nonce, ciphertext)


def open_sealed(key: DataKey, sealed: SealedField, expected: FieldContext) -> str:
    """The clear text of ``sealed``, which must belong where ``expected`` says (else ``TamperedField``)."""
    if sealed.context != expected:
        raise TamperedField(
            f"sealed for {sealed.context.event}.{sealed.context.field}, read as {expected.event}.{expected.field}"
        )
    if key.key_id != sealed.key_id:
        raise ValueError("the key given is not the key the field names")
    try:
        plaintext = AESGCM(key.secret).decrypt(sealed.nonce, sealed.ciphertext, associated_data(key.key_id, expected))
    except InvalidTag:
        raise TamperedField(f"{expected.event}.{expected.field} under key {key.key_id} failed authentication") from None
    return plaintext.decode("utf-8")


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 4648 §5), as JOSE writes it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: object) -> bytes:
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedField("not base64url without padding")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedField("not base64url without padding") from None
