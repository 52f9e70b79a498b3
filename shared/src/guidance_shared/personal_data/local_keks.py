"""Key-encryption keys from the settings or a key file: the adapter of ``KeyEncryptionKeys`` without a KMS.

A KEK list is text, one entry per line (or separated by commas in a single environment variable)::

    # id=base64 of 32 random bytes; the current KEK is named by the settings, else it is the last entry
    2026-01=q0F1ZzL0m2x0b3…
    2026-07=Vb5o8mZ0Zm9vYm…

Rotation: add a new entry at the end (or name it current), run ``rewrap``, and remove the old entry only
after the last backup that still holds keys wrapped under it has expired (docs/decisions/0007).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from guidance_shared.personal_data.errors import KeyConfigurationError, TamperedField, UnknownKek
from guidance_shared.personal_data.keys import KEY_BYTES, Wrapped, check_identifier

_NONCE_BYTES = 12


class LocalKeyEncryptionKeys:
    """KEKs held in this process (AES-256-GCM key wrapping). ``repr`` shows the ids only."""

    def __init__(self, keys: Mapping[str, bytes], current_id: str | None = None) -> None:
        if not keys:
            raise KeyConfigurationError("no key-encryption key is configured")
        for kek_id, key in keys.items():
            check_identifier(kek_id, "a KEK id")
            if len(key) != KEY_BYTES:
                raise KeyConfigurationError(f"KEK {kek_id!r} must be {KEY_BYTES} bytes")
        current = list(keys)[-1] if current_id is None else current_id
        if current not in keys:
            raise KeyConfigurationError(f"the current KEK {current!r} is not among the configured ones")
        self._keys = {kek_id: AESGCM(bytes(key)) for kek_id, key in keys.items()}
        self._current = current

    @classmethod
    def from_text(cls, text: str, current_id: str | None = None) -> LocalKeyEncryptionKeys:
        """Entries ``id=base64`` separated by newlines or commas; blank lines and ``#`` comments ignored."""
        keys: dict[str, bytes] = {}
        for number, raw in enumerate(text.replace(",", "\n").splitlines(), start=1):
            entry = raw.split("#", 1)[0].strip()
            if not entry:
                continue
            kek_id, sep, encoded = (part.strip() for part in entry.partition("="))
            if not sep:
                raise KeyConfigurationError(f"KEK entry {number} is not id=base64")
            check_identifier(kek_id, f"the id of KEK entry {number}")
            if kek_id in keys:
                raise KeyConfigurationError(f"KEK {kek_id!r} is listed twice")
            keys[kek_id] = decode_key(encoded, f"KEK {kek_id!r}")
        return cls(keys, current_id)

    @classmethod
    def from_file(cls, path: Path, current_id: str | None = None) -> LocalKeyEncryptionKeys:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise KeyConfigurationError(f"cannot read the KEK file {path}: {error.strerror}") from None
        return cls.from_text(text, current_id)

    def __repr__(self) -> str:
        return f"LocalKeyEncryptionKeys(ids={list(self._keys)}, current={self._current!r})"

    @property
    def current_id(self) -> str:
        return self._current

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def wrap(self, plaintext: bytes, context: bytes) -> Wrapped:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return Wrapped(self._current, nonce + self._keys[self._current].encrypt(nonce, plaintext, context))

    def unwrap(self, wrapped: Wrapped, context: bytes) -> bytes:
        aead = self._keys.get(wrapped.kek_id)
        if aead is None:
            raise UnknownKek(wrapped.kek_id)
        nonce, ciphertext = wrapped.blob[:_NONCE_BYTES], wrapped.blob[_NONCE_BYTES:]
        try:
            return aead.decrypt(nonce, ciphertext, context)
        except InvalidTag:
            raise TamperedField(f"a key wrapped under KEK {wrapped.kek_id!r} failed authentication") from None


def decode_key(encoded: str, what: str) -> bytes:
    """32 bytes from standard or URL-safe base64, padded or not; the error names ``what``, never the value."""
    text = encoded.strip()
    try:
        key = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigurationError(f"{what} is not base64") from None
    if len(key) != KEY_BYTES:
        raise KeyConfigurationError(f"{what} must be {KEY_BYTES} bytes, base64-encoded")
    return key


def new_entry(kek_id: str) -> str:
    """A new KEK list entry with 32 random bytes, for an operator to add to the key file."""
    check_identifier(kek_id, "a KEK id")
    return f"{kek_id}={base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"
