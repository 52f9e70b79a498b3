"""Persons' data keys from intake's internal key API (docs/decisions/0007), for opening their sealed fields.

``IntakeKeys`` is the HTTP adapter of ``guidance_shared.personal_data.keys.SubjectKeys`` as disclosure uses it:
``get`` is ``GET /internal/v1/subject-keys/{kid}?purpose=scrub`` (role ``pd-open``), ``get_many`` its batch ``POST
/internal/v1/subject-keys/batch`` (what the consumer prefetches a batch of events' keys with), ``key_for`` is
``POST`` with purpose ``request`` (role ``pd-seal``, for sealing a request's applicant); the client that reads
applicants opens with the purpose ``request`` too (``adapters/applicants.py``). Erasing and rewrapping are
intake's alone. Answers map onto the port's errors: 410 is ``KeyErased``, 404 ``UnknownKey``; anything else (no
answer in time, a refused token, a server error) is ``KeyServiceUnavailable``, so the event that needed the key
waits for intake rather than being published half-redacted. Nothing here writes a key anywhere: ``keys`` wraps the
client in the in-memory cache, bounded by the answer's ``expires_in``.

The token is the service principal's bearer token, read at each call when it comes from a file (a mounted
Secret renewed in place). Neither the token nor a key is ever in a message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from guidance_shared.personal_data.cache import DEFAULT_TTL_S, CachedSubjectKeys
from guidance_shared.personal_data.errors import KeyErased, KeyServiceUnavailable, PersonalDataError, UnknownKey
from guidance_shared.personal_data.field import b64url_decode
from guidance_shared.personal_data.keys import KEY_BYTES, DataKey

PATH = "/internal/v1/subject-keys"
OPEN_PURPOSE = "scrub"  # what disclosure opens persons' fields for: to remove them from what it publishes
SEAL_PURPOSE = "request"  # what it seals them for: a request's applicant
BATCH = 500  # key ids per call of ``get_many``: the most the key API takes at once


class IntakeKeys:
    """The key API's client; ``token`` returns the bearer token to send (called at each request); ``open_purpose``
    is what keys are opened for (``scrub`` for what disclosure publishes, ``request`` for a request's applicant)."""

    def __init__(
        self, base_url: str, token: Callable[[], str], *, timeout_s: float = 5.0, open_purpose: str = OPEN_PURPOSE
    ) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout_s
        self._open_purpose = open_purpose

    def __repr__(self) -> str:
        return f"IntakeKeys({self._base!r})"

    def get(self, key_id: str) -> DataKey:
        query = urllib.parse.urlencode({"purpose": self._open_purpose})
        answer = self._call("GET", f"{PATH}/{urllib.parse.quote(key_id, safe='')}?{query}", None, key_id)
        key = _key(answer)
        if key.key_id != key_id:
            raise KeyServiceUnavailable(f"the key API answered for another key than {key_id}")
        return key

    def get_many(self, key_ids: Sequence[str]) -> dict[str, DataKey | None]:
        """``POST /internal/v1/subject-keys/batch`` (role ``pd-open``, the open purpose), ``BATCH`` ids a call:
        each key id's key, or None when it was erased; an id intake never made is left out."""
        found: dict[str, DataKey | None] = {}
        for start in range(0, len(key_ids), BATCH):
            asked = list(key_ids[start : start + BATCH])
            answer = self._call("POST", f"{PATH}/batch", {"kids": asked, "purpose": self._open_purpose}, None)
            try:
                keys, erased = [_key(k) for k in answer["keys"]], [str(kid) for kid in answer["erased"]]
            except (KeyError, TypeError):
                raise KeyServiceUnavailable("the key API's answer is not a batch of keys") from None
            if not {key.key_id for key in keys} | set(erased) <= set(asked):
                raise KeyServiceUnavailable("the key API answered for keys not asked for")
            found.update({key.key_id: key for key in keys})
            found.update(dict.fromkeys(erased))
        return found

    def key_for(self, subject_id: str) -> DataKey:
        key = _key(self._call("POST", PATH, {"subject_id": subject_id, "purpose": SEAL_PURPOSE}, None))
        if key.subject_id != subject_id:
            raise KeyServiceUnavailable("the key API answered with another subject's key")
        return key

    def erase(self, subject_id: str) -> int:
        raise PersonalDataError("persons are erased in intake, never through its key API")

    def rewrap(self) -> int:
        raise PersonalDataError("data keys are rewrapped in intake, never through its key API")

    def _call(self, method: str, path: str, body: dict[str, Any] | None, key_id: str | None) -> Any:
        request = urllib.request.Request(
            self._base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode("utf-8"),
            headers={"Authorization": f"Bearer {self._token()}", "Accept": "application/json"}
            | ({} if body is None else {"Content-Type": "application/json"}),
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # the settings accept http(s) only
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            error.close()
            if error.code == 410 and key_id is not None:
                raise KeyErased(key_id) from None
            if error.code == 404 and key_id is not None:
                raise UnknownKey(key_id) from None
            raise KeyServiceUnavailable(f"the key API answered {error.code} to {method} {PATH}") from None
        except (OSError, ValueError) as error:  # unreachable, timed out, or not JSON
            raise KeyServiceUnavailable(f"the key API did not answer {method} {PATH}: {type(error).__name__}") from None


def _key(answer: Any) -> DataKey:
    try:
        secret = b64url_decode(answer["key"])
        key = DataKey(str(answer["kid"]), str(answer["subject_id"]), secret, float(answer["expires_in"]))
    except (KeyError, TypeError, ValueError, PersonalDataError):
        raise KeyServiceUnavailable("the key API's answer is not a key") from None
    if len(secret) != KEY_BYTES:
        raise KeyServiceUnavailable("the key API's answer is not a key")
    return key


def token_reader(token: str | None, token_file: Path | None) -> Callable[[], str]:
    """The bearer token to send: the file's current contents when a file is given, else the token itself."""

    def from_file() -> str:
        assert token_file is not None
        try:
            return token_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise KeyServiceUnavailable(f"cannot read the key API's token file ({error.strerror})") from None

    if token_file is not None:
        return from_file
    return lambda: token or ""


def keys(
    base_url: str, token: Callable[[], str], *, timeout_s: float, ttl_s: float = DEFAULT_TTL_S
) -> CachedSubjectKeys:
    """The key API behind the in-memory cache every key disclosure opens with passes through."""
    return CachedSubjectKeys(IntakeKeys(base_url, token, timeout_s=timeout_s), ttl_s=ttl_s)
