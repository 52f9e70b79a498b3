"""Sealing the applicant of a request for disclosure, and opening what officers read of them
(docs/personal-data.md §6, "Applicants").

An applicant who is a natural person (or an individual business) is sealed exactly as intake seals a counterpart
(``guidance_shared.personal_data.persons`` says which fields, by ``kind``): their pseudonym is added as
``applicant.subject_id`` and each personal field is replaced by the sealed object, under the subject's live key
from intake's key API (``POST /internal/v1/subject-keys``, role ``pd-seal``, purpose ``request``), before the
aggregate records ``DisclosureRequestReceived``. So the event store, the outbox, ``disclosure.events`` and the read
model only ever hold the sealed form, and one decoder opens disclosure's applicants and intake's counterparts.

Reads open the read model's sealed name with the keys intake hands out for the purpose ``request`` (role
``pd-open``), asked once per page for every key it names (the batch call) and kept for that read only: an erasure
takes hold at the next read, in every disclosure process, whether or not it has consumed ``PersonalDataErased``
yet. An erased applicant reads ``［已删除］``. A clear name (a request recorded before sealing) reads as it is.

The key API unreachable, slow or refusing is ``KeyServiceDown``: a 503 problem, the command records nothing and a
read shows nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from guidance_shared.errors import GuidanceError
from guidance_shared.personal_data.cipher import FieldCipher
from guidance_shared.personal_data.errors import KeyErased, PersonalDataError, UnknownKey
from guidance_shared.personal_data.field import FieldContext, is_sealed, seal
from guidance_shared.personal_data.keys import DataKey, SubjectKeys
from guidance_shared.personal_data.persons import personal_field_names, subject_of
from guidance_shared.personal_data.pseudonym import Pseudonyms

#: the event type the applicant's fields are sealed in, without its version (their ``aad.event``)
EVENT = "DisclosureRequestReceived"
NAME = FieldContext(EVENT, "applicant.name")


class KeyServiceDown(GuidanceError):
    """intake's key API could not hand out the applicant's key: nothing is recorded or shown, try again."""

    def __init__(self) -> None:
        super().__init__(
            code="key-service-unavailable",
            title_en="Personal data key service unavailable",
            title_zh="个人信息密钥服务暂不可用",
            status=503,
            detail_en="The applicant's personal data is kept only sealed, and its key could not be had from intake's "
            "key service; nothing was recorded. Try again shortly.",
            detail_zh="申请人的个人信息须加密保存，暂时无法从登记服务取得其密钥，本次未作任何记录，请稍后重试。",
        )


class ApplicantKeys(SubjectKeys, Protocol):
    """The key API as sealing and reading applicants use it (``subject_keys.IntakeKeys``)."""

    def get_many(self, key_ids: Sequence[str]) -> Mapping[str, DataKey | None]: ...


class Applicants:
    """Seals applicants when ``sealing`` (then ``keys`` and ``pseudonyms`` are given) and opens their names."""

    def __init__(self, keys: ApplicantKeys | None, pseudonyms: Pseudonyms | None, *, sealing: bool) -> None:
        if sealing and (keys is None or pseudonyms is None):
            raise ValueError("sealing applicants needs intake's key API and the pseudonym key")
        self._keys = keys
        self._pseudonyms = pseudonyms
        self.sealing = sealing

    def __repr__(self) -> str:
        return f"Applicants(sealing={self.sealing})"

    def seal(self, applicant: Mapping[str, Any]) -> Mapping[str, object]:
        """The applicant as the event records it: their pseudonym added and their personal fields sealed; as it is
        when not sealing or when the applicant is an organisation."""
        subject = subject_of(applicant)
        if not self.sealing or subject is None:
            return dict(applicant)
        assert self._keys is not None and self._pseudonyms is not None  # the constructor refuses otherwise
        subject_id = self._pseudonyms.of(subject.purpose, subject.identifier)
        try:
            key = self._keys.key_for(subject_id)
        except PersonalDataError:
            raise KeyServiceDown() from None
        sealed: dict[str, object] = {**applicant, "subject_id": subject_id}
        for name in personal_field_names(applicant):
            value = applicant[name]
            if isinstance(value, str):
                sealed[name] = seal(key, FieldContext(EVENT, f"applicant.{name}"), value)
        return sealed

    def names(self, stored: Iterable[str]) -> Callable[[str], str]:
        """What opens the read model's ``applicant_name`` values ``stored`` (a page of them): the keys of every
        sealed one fetched at once, for this read only."""
        sealed = [value for value in map(loaded, stored) if is_sealed(value)]
        if not sealed:
            return lambda text: text
        if self._keys is None:
            raise KeyServiceDown()
        keys = _ReadKeys(self._keys)
        try:
            keys.fetch({str(value["kid"]) for value in sealed})
        except PersonalDataError:
            raise KeyServiceDown() from None
        cipher = FieldCipher(keys)

        def name(text: str) -> str:
            value = loaded(text)
            if not is_sealed(value):
                return text
            try:
                return cipher.open_or_erased(value, NAME)
            except UnknownKey:  # a key intake never made: not this installation's, never shown as erased
                raise KeyServiceDown() from None

        return name


class _ReadKeys:
    """The keys one read fetched in one call: a key intake answered erased reads as erased."""

    def __init__(self, keys: ApplicantKeys) -> None:
        self._keys = keys
        self._found: dict[str, DataKey | None] = {}

    def fetch(self, key_ids: set[str]) -> None:
        self._found = dict(self._keys.get_many(sorted(key_ids)))

    def get(self, key_id: str) -> DataKey:
        if key_id not in self._found:
            raise UnknownKey(key_id)
        key = self._found[key_id]
        if key is None:
            raise KeyErased(key_id)
        return key

    def key_for(self, subject_id: str) -> DataKey:
        raise PersonalDataError("a read seals nothing")

    def erase(self, subject_id: str) -> int:
        raise PersonalDataError("persons are erased in intake")

    def rewrap(self) -> int:
        raise PersonalDataError("data keys are rewrapped in intake")


def stored(value: Any) -> str:
    """The applicant's name as the read model's text column keeps it: clear text as it is, sealed as its JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))


def loaded(text: str) -> Any:
    """The inverse of ``stored``: a sealed field's object, else the text."""
    if text.startswith('{"'):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if is_sealed(value):
            return value
    return text
