"""Per-subject data keys (DEKs), wrapped by key-encryption keys (KEKs), and the two ports that hold them.

Every natural person (a *subject*, named by the keyed pseudonym of their ID number, ``pseudonym.py``) has
one live 256-bit data key; their personal fields are sealed under it (``field.py``). A key store keeps each
data key only wrapped (encrypted) under a KEK, so a copy of the store without the KEKs opens nothing.
Erasing a subject deletes their wrapped keys: every ciphertext sealed under them, in every copy of every
event, becomes unreadable at once (crypto-shredding) while the events themselves stay as they were.

``KeyEncryptionKeys`` is shaped like a KMS's encrypt/decrypt-with-context call, so a real KMS can stand in
for the settings/file adapter (``local_keks.py``). ``SubjectKeys`` is the key store (intake's SQL table,
``guidance_intake.adapters.subject_keys``, or the in-memory fake, ``memory.py``); both hold ``KeyRecord``s
and use the functions below, so sealing, wrapping and erasing mean the same in each.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from guidance_shared.personal_data.errors import KeyConfigurationError, KeyErased

#: AES-256: every data key and every local KEK has 32 bytes
KEY_BYTES = 32
#: subject ids, subject key ids and KEK ids: URL-safe, short, and never containing the ``|`` that
#: separates the parts of associated data
IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: what a data key's wrapping is bound to (a KMS's "encryption context"): this store's purpose, the
#: subject and the key id, so a wrapped key copied to another row does not unwrap
WRAP_CONTEXT = "guidance-pd:dek:1"


def check_identifier(value: str, what: str) -> str:
    """``value`` if it is an identifier; else ``KeyConfigurationError`` (ids come from settings and key files)."""
    if not isinstance(value, str) or not IDENTIFIER.fullmatch(value):
        raise KeyConfigurationError(f"{what} must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")
    return value


@dataclass(frozen=True)
class DataKey:
    """One subject's data key in clear: held in memory only while a field is sealed or opened."""

    key_id: str
    subject_id: str
    secret: bytes = field(repr=False)
    #: seconds the holder may keep it, when the key service said (intake's key API: ``expires_in``)
    expires_in: float | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Wrapped:
    """A data key encrypted under the KEK ``kek_id``; ``blob`` is whatever that KEK's holder returned."""

    kek_id: str
    blob: bytes = field(repr=False)


class KeyEncryptionKeys(Protocol):
    """The KEKs: wrap under the current one, unwrap under any still held (so rotation can proceed).

    A KMS implements this with its encrypt and decrypt calls, passing ``context`` as the encryption
    context (associated data); the KEKs then never leave the KMS.
    """

    @property
    def current_id(self) -> str:
        """The KEK new keys are wrapped under, and ``SubjectKeys.rewrap`` moves every key to."""
        ...

    def wrap(self, plaintext: bytes, context: bytes) -> Wrapped:
        """Encrypt ``plaintext`` under the current KEK, bound to ``context``."""
        ...

    def unwrap(self, wrapped: Wrapped, context: bytes) -> bytes:
        """Decrypt under the KEK ``wrapped`` names: ``UnknownKek`` if not held, ``TamperedField`` if altered."""
        ...


@dataclass(frozen=True)
class KeyRecord:
    """What a key store holds for one data key. Erased: ``wrapped`` is gone and ``erased_at`` is set."""

    key_id: str
    subject_id: str
    wrapped: Wrapped | None
    created_at: datetime
    erased_at: datetime | None = None

    @property
    def erased(self) -> bool:
        return self.wrapped is None


class SubjectKeys(Protocol):
    """The key store: one live data key per subject, any number of erased ones."""

    def key_for(self, subject_id: str) -> DataKey:
        """The subject's live key, created (and wrapped under the current KEK) if they have none.

        A subject whose keys were erased gets a new key: what is sealed from now on is readable, what was
        sealed before stays erased.
        """
        ...

    def get(self, key_id: str) -> DataKey:
        """The key with this id, to open a field: ``KeyErased`` or ``UnknownKey`` if it cannot be had."""
        ...

    def erase(self, subject_id: str) -> int:
        """Delete every wrapped key of the subject for good; returns how many were live. Idempotent."""
        ...

    def rewrap(self) -> int:
        """Wrap every live key that is not under the current KEK under it; returns how many moved."""
        ...


def wrap_context(subject_id: str, key_id: str) -> bytes:
    return f"{WRAP_CONTEXT}|{subject_id}|{key_id}".encode("ascii")


def new_key_id() -> str:
    """A random key id (128 bits, base64url): it says nothing about the subject."""
    return secrets.token_urlsafe(16)


def create_key(keks: KeyEncryptionKeys, subject_id: str, now: datetime) -> tuple[DataKey, KeyRecord]:
    """A fresh random data key for the subject and the record that keeps it wrapped."""
    if not IDENTIFIER.fullmatch(subject_id):
        raise ValueError("a subject id is 1-64 characters of A-Z, a-z, 0-9, '_' or '-' (a pseudonym is 64 hex digits)")
    key = DataKey(new_key_id(), subject_id, secrets.token_bytes(KEY_BYTES))
    wrapped = keks.wrap(key.secret, wrap_context(subject_id, key.key_id))
    return key, KeyRecord(key.key_id, subject_id, wrapped, now)


def open_key(keks: KeyEncryptionKeys, record: KeyRecord) -> DataKey:
    """The record's data key in clear; ``KeyErased`` if the record was erased."""
    if record.wrapped is None:
        raise KeyErased(record.key_id)
    secret = keks.unwrap(record.wrapped, wrap_context(record.subject_id, record.key_id))
    return DataKey(record.key_id, record.subject_id, secret)


def rewrapped(keks: KeyEncryptionKeys, record: KeyRecord) -> KeyRecord:
    """The same key wrapped under the current KEK (an erased record stays erased)."""
    if record.wrapped is None:
        return record
    context = wrap_context(record.subject_id, record.key_id)
    return replace(record, wrapped=keks.wrap(keks.unwrap(record.wrapped, context), context))
