"""Sealing persons' fields into intake's events and opening them for intake's own views (docs/personal-data.md).

``PersonalFields.seal`` runs in the command's transaction: the subject's data key is found or created in that
transaction (``SqlSubjectKeys.within``), so a key exists exactly when an event sealed under it was committed.
``PersonalFields.opener`` opens what intake shows (its API answers, documents, ledger, archive): an erased
subject's fields read ``［已删除］``, never an error. Which fields are personal is ``domain.personal_fields``.

``local_keys`` makes the KEK list and the pseudonym key of an embedded install that was given none, under its
state directory, once, like the development signing key (``guidance_shared.auth.devkeys``).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from guidance_intake.adapters.subject_keys import SqlSubjectKeys
from guidance_intake.domain.personal_fields import personal_paths, replaced, subject_of, value_at
from guidance_shared.files import locked, write_atomic
from guidance_shared.personal_data.cipher import FieldCipher
from guidance_shared.personal_data.errors import KeyConfigurationError
from guidance_shared.personal_data.field import FieldContext, is_sealed
from guidance_shared.personal_data.keys import KEY_BYTES, DataKey, KeyEncryptionKeys
from guidance_shared.personal_data.local_keks import LocalKeyEncryptionKeys, decode_key
from guidance_shared.personal_data.pseudonym import Pseudonyms

LOCAL_KEYS_DIR = "personal-data"
LOCAL_KEKS_FILE = "keks"
LOCAL_PSEUDONYM_FILE = "pseudonym-key"
LOCAL_KEK_ID = "local-1"


class PersonalFields:
    """Seals and opens the personal fields of intake's events; ``sealing`` False leaves new events clear."""

    def __init__(
        self,
        engine: Engine,
        keks: KeyEncryptionKeys | None,
        pseudonyms: Pseudonyms | None,
        *,
        sealing: bool,
    ) -> None:
        if sealing and (keks is None or pseudonyms is None):
            raise KeyConfigurationError("sealing persons' fields needs the KEKs and the pseudonym key")
        self._engine = engine
        self._keks = keks
        self._pseudonyms = pseudonyms
        self.sealing = sealing

    def __repr__(self) -> str:
        return f"PersonalFields(sealing={self.sealing})"

    def subject_id(self, counterpart: Mapping[str, Any]) -> str | None:
        """The counterpart's pseudonym: as its event carries it, else computed from its clear identifier."""
        carried = counterpart.get("subject_id")
        if isinstance(carried, str) and carried:
            return carried
        subject = subject_of(counterpart)
        if subject is None or self._pseudonyms is None:
            return None
        return self._pseudonyms.of(subject.purpose, subject.identifier)

    def seal(self, conn: Connection, event_name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` with the subject's pseudonym added and the personal fields sealed; as it is when not sealing
        or when the counterpart is no natural person."""
        sealed = dict(data)
        subject_id = self.subject_id(data.get("counterpart") or {})
        if not self.sealing or subject_id is None:
            return sealed
        assert self._keks is not None  # the constructor refuses sealing without keys
        cipher = FieldCipher(SqlSubjectKeys(self._engine, self._keks).within(conn))
        sealed["counterpart"] = {**sealed["counterpart"], "subject_id": subject_id}
        for path in personal_paths(event_name, data):
            value = value_at(data, path)
            if isinstance(value, str):
                context = FieldContext(event_name, ".".join(path))
                sealed = replaced(sealed, path, cipher.seal(subject_id, context, value))
        return sealed

    def sealed_answer(self, conn: Connection, event_name: str, details: Mapping[str, Any]) -> Mapping[str, Any]:
        """A command answer's ``details`` (a record of ``event_name``'s shape, its person's fields opened) with
        those fields sealed again, for the copy kept for the command's retries; as it is when not sealing or
        when the counterpart is no natural person. Unlike ``seal`` it adds nothing: opened again
        (``Opener.opened``), it is the answer as sent."""
        subject_id = self.subject_id(details.get("counterpart") or {})
        if not self.sealing or subject_id is None:
            return dict(details)
        assert self._keks is not None  # the constructor refuses sealing without keys
        cipher = FieldCipher(SqlSubjectKeys(self._engine, self._keks).within(conn))
        sealed = dict(details)
        for path in personal_paths(event_name, details):
            value = value_at(details, path)
            if isinstance(value, str):
                context = FieldContext(event_name, ".".join(path))
                sealed = replaced(sealed, path, cipher.seal(subject_id, context, value))
        return sealed

    @property
    def keks(self) -> KeyEncryptionKeys | None:
        """The KEKs keys are wrapped under (what re-encrypting a store makes keys with); None when not configured."""
        return self._keks

    def key_store(self) -> SqlSubjectKeys | None:
        """The key store the internal key API serves (docs/decisions/0007); None when no KEKs are configured."""
        return None if self._keks is None else SqlSubjectKeys(self._engine, self._keks)

    def opener(self, conn: Connection) -> Opener:
        """Opens fields with the keys ``conn`` sees (a key created in its own transaction included); each key is
        read once per opener, so use one per request or export, never longer (an erasure must take hold)."""
        return Opener(None if self._keks is None else _RequestKeys(SqlSubjectKeys(self._engine, self._keks, conn=conn)))


class Opener:
    def __init__(self, keys: _RequestKeys | None) -> None:
        self._cipher = None if keys is None else FieldCipher(keys)

    def opened(self, event_name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` with every sealed personal field in clear (or ``［已删除］``); clear fields as they are."""
        opened = dict(data)
        for path in personal_paths(event_name, data):
            value = value_at(data, path)
            if is_sealed(value):
                if self._cipher is None:
                    raise KeyConfigurationError("a sealed personal field, and no KEKs are configured to open it")
                text = self._cipher.open_or_erased(value, FieldContext(event_name, ".".join(path)))
                opened = replaced(opened, path, text)
        return opened

    def text(self, value: Any, event_name: str, field: str) -> Any:
        """One field's value in clear: a stored copy of a sealed field (a read model's column), or clear text."""
        if not is_sealed(value):
            return value
        if self._cipher is None:
            raise KeyConfigurationError("a sealed personal field, and no KEKs are configured to open it")
        return self._cipher.open_or_erased(value, FieldContext(event_name, field))


class _RequestKeys:
    """The key store seen through one connection, each key unwrapped at most once: a ledger of a thousand acts
    of one person reads that person's key once. Lives as long as its opener."""

    def __init__(self, keys: SqlSubjectKeys) -> None:
        self._keys = keys
        self._opened: dict[str, DataKey] = {}

    def key_for(self, subject_id: str) -> DataKey:
        return self._keys.key_for(subject_id)

    def get(self, key_id: str) -> DataKey:
        if key_id not in self._opened:
            self._opened[key_id] = self._keys.get(key_id)
        return self._opened[key_id]

    def erase(self, subject_id: str) -> int:
        self._opened.clear()
        return self._keys.erase(subject_id)

    def rewrap(self) -> int:
        return self._keys.rewrap()


# -- an embedded install's own keys ---------------------------------------------------------------------
def local_keys(var_dir: Path) -> tuple[LocalKeyEncryptionKeys, Pseudonyms]:
    """The KEK list and pseudonym key under ``var_dir``/personal-data, made (mode 0600) on first use.

    Safe when several processes start at once. Losing these files is erasing every person sealed under them:
    an installation that keeps data sets ``GUIDANCE_PERSONAL_DATA_KEKS_FILE`` and ``GUIDANCE_PSEUDONYM_KEY_FILE``.
    """
    directory = var_dir / LOCAL_KEYS_DIR
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    keks_path, pseudonym_path = directory / LOCAL_KEKS_FILE, directory / LOCAL_PSEUDONYM_FILE
    with locked(directory / ".keys.lock"):
        if not keks_path.exists():
            write_atomic(keks_path, (f"{LOCAL_KEK_ID}={_random_key()}\n").encode(), mode=0o600)
        if not pseudonym_path.exists():
            write_atomic(pseudonym_path, (_random_key() + "\n").encode("utf-8"), mode=0o600)
    keks = LocalKeyEncryptionKeys.from_file(keks_path)
    pseudonyms = Pseudonyms(decode_key(pseudonym_path.read_text(encoding="utf-8"), str(pseudonym_path)))
    return keks, pseudonyms


def _random_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
