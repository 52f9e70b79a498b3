"""What can go wrong when personal data is sealed or opened, as types a caller can tell apart.

None of these messages carries personal data: they name key ids, KEK ids and field paths only, so an
error may be logged as it is.
"""

from __future__ import annotations

#: what pages, documents and exports show where a field's subject key has been erased (crypto-shredded);
#: written like ``privacy.REDACTED`` so a reader sees one convention for data that is not shown
ERASED_TEXT = "［已删除］"


class PersonalDataError(Exception):
    """Base of every error of this package."""


class KeyErased(PersonalDataError):
    """The subject key was erased: what it sealed can never be opened again. Show ``ERASED_TEXT``."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"subject key {key_id} was erased")
        self.key_id = key_id


class UnknownKey(PersonalDataError):
    """No subject key with this id was ever created in this key store (a wrong store, or a lost one)."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"no subject key {key_id}")
        self.key_id = key_id


class KeyServiceUnavailable(PersonalDataError):
    """The key service (intake's key API) could not answer: unreachable, too slow, or refusing this caller.
    What needed the key must wait and be tried again; it is never shown half-opened."""


class UnknownKek(PersonalDataError):
    """A key was wrapped under a key-encryption key the configuration no longer holds."""

    def __init__(self, kek_id: str) -> None:
        super().__init__(f"no key-encryption key {kek_id!r} is configured")
        self.kek_id = kek_id


class MalformedField(PersonalDataError):
    """A value that should be an encrypted field is not one in a format this package reads."""


class TamperedField(PersonalDataError):
    """The ciphertext failed authentication: it was altered, or moved to another field, event or key."""


class KeyConfigurationError(PersonalDataError):
    """Key material in the settings or a key file cannot be used; the message says which entry, never the key."""
