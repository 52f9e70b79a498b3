"""Keyed pseudonyms (HMAC-SHA256): stable stand-ins for identifiers, so records can be counted and linked
without the identifier, and the subject id every key is filed under.

The same identifier always gives the same pseudonym under one pseudonym key, however it was typed: it is
normalised first (NFKC, so full-width digits and letters become ASCII; spaces and dashes between groups
dropped; letters upper-cased, so a final ``x`` is the check character ``X``). Without the pseudonym key a
pseudonym cannot be recomputed from a guessed ID number, which an unkeyed hash of an 18-digit number with a
birth date inside could not resist. The pseudonym key is not a KEK and is never rotated: rotating it
would split every person in two.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from guidance_shared.personal_data.errors import KeyConfigurationError

PSEUDONYM_CONTEXT = "guidance-pd:pseudonym:1"
#: the purpose under which a subject id is derived from an ID number
SUBJECT = "subject"
MIN_KEY_BYTES = 32
# What people put between groups of an identifier: whitespace, hyphens and dashes of every width, and dots.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc\uff0d.\u00b7\u30fb]+")
_PURPOSE = re.compile(r"[a-z][a-z0-9_]{0,31}")


def normalise_identifier(value: str) -> str:
    """The canonical form of an ID number (or any identifier) typed by a person."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()


class Pseudonyms:
    """Pseudonyms under one key; ``repr`` never shows the key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise KeyConfigurationError(f"the pseudonym key needs at least {MIN_KEY_BYTES} bytes")
        self._key = bytes(key)

    def __repr__(self) -> str:
        return "Pseudonyms(key=<hidden>)"

    def of(self, purpose: str, value: str) -> str:
        """The pseudonym of ``value`` (normalised) for ``purpose``: 64 lowercase hex digits.

        ``purpose`` separates kinds of identifier (``subject``, ``phone`` …): the same digits under two
        purposes give two unrelated pseudonyms.
        """
        if not _PURPOSE.fullmatch(purpose):
            raise ValueError(f"not a pseudonym purpose: {purpose!r}")
        normalised = normalise_identifier(value)
        if not normalised:
            raise ValueError("an empty identifier has no pseudonym")
        message = f"{PSEUDONYM_CONTEXT}|{purpose}|{normalised}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def subject_id(self, id_no: str) -> str:
        """The subject a natural person's keys are filed under, from their ID number (of any document type).

        The document type is left out on purpose: one person recorded once as 居民身份证 and once as
        "other" with the same number is one subject, and erasure by ID number finds both.
        """
        return self.of(SUBJECT, id_no)
