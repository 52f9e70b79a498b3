"""The encrypted field's format, sealing and opening, keyed pseudonyms, and the test vector that
docs/personal-data.md publishes for consumers in other languages (checked here for staleness)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from guidance_shared.personal_data.errors import KeyConfigurationError, MalformedField, TamperedField
from guidance_shared.personal_data.field import (
    JSON_SCHEMA,
    FieldContext,
    b64url,
    b64url_decode,
    is_sealed,
    open_sealed,
    parse,
    seal,
    seal_with_nonce,
)
from guidance_shared.personal_data.keys import DataKey
from guidance_shared.personal_data.pseudonym import Pseudonyms, normalise_identifier

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "personal-data.md"
ID_NO = FieldContext("GuidanceIssued", "counterpart.id_no")
KEY = DataKey("AAECAwQFBgcICQoLDA0ODw", "s" * 64, bytes(range(32)))


def test_a_sealed_field_opens_to_its_text_and_hides_it() -> None:
    sealed = seal(KEY, ID_NO, "11010519491231002X")
    assert is_sealed(sealed) and "11010519491231002X" not in json.dumps(sealed)
    assert set(sealed) == {"v", "alg", "kid", "aad", "nonce", "ct"}
    assert sealed["aad"] == {"event": "GuidanceIssued", "field": "counterpart.id_no"}
    assert open_sealed(KEY, parse(sealed), ID_NO) == "11010519491231002X"
    assert seal(KEY, ID_NO, "11010519491231002X")["nonce"] != sealed["nonce"]  # a fresh nonce every time


@given(st.text(max_size=300))
def test_any_text_survives_a_round_trip(text: str) -> None:
    assert open_sealed(KEY, parse(seal(KEY, ID_NO, text)), ID_NO) == text


def test_a_ciphertext_moved_to_another_field_or_event_does_not_open() -> None:
    sealed = seal(KEY, ID_NO, "13800138000")
    phone = FieldContext("GuidanceIssued", "counterpart.contact")
    with pytest.raises(TamperedField):  # read where it was not sealed
        open_sealed(KEY, parse(sealed), phone)
    relabelled = sealed | {"aad": {"event": "GuidanceIssued", "field": "counterpart.contact"}}
    with pytest.raises(TamperedField):  # its label rewritten to match: authentication still fails
        open_sealed(KEY, parse(relabelled), phone)
    other_event = sealed | {"aad": {"event": "CaseOpened", "field": "counterpart.id_no"}}
    with pytest.raises(TamperedField):
        open_sealed(KEY, parse(other_event), FieldContext("CaseOpened", "counterpart.id_no"))


def test_an_altered_ciphertext_or_nonce_does_not_open() -> None:
    sealed = seal(KEY, ID_NO, "长沙市岳麓区某路1号")
    ct = bytearray(b64url_decode(sealed["ct"]))
    ct[0] ^= 1
    with pytest.raises(TamperedField):
        open_sealed(KEY, parse(sealed | {"ct": b64url(bytes(ct))}), ID_NO)
    with pytest.raises(TamperedField):
        open_sealed(KEY, parse(sealed | {"nonce": b64url(bytes(12))}), ID_NO)


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"alg": "A128GCM"},
        {"kid": "no|bars"},
        {"aad": {"event": "GuidanceIssued"}},
        {"aad": {"event": "guidance.GuidanceIssued.v1", "field": "counterpart.id_no"}},
        {"nonce": "AAAA"},
        {"nonce": "not base64url!"},
        {"ct": "AAAA"},
        {"extra": 1},
    ],
)
def test_what_is_not_this_format_is_malformed(change: dict[str, Any]) -> None:
    with pytest.raises(MalformedField):
        parse(seal(KEY, ID_NO, "x") | change)


@pytest.mark.parametrize("member", ["v", "alg", "kid", "aad", "nonce", "ct"])
def test_a_malformed_field_is_refused_without_echoing_what_it_holds(member: str) -> None:
    clear = "长沙市岳麓区示例路1号 13800138000"
    bad = seal(KEY, ID_NO, "x") | {member: clear if member != "aad" else {"event": clear, "field": clear}}
    with pytest.raises(MalformedField) as caught:
        parse(bad | {"extra": clear} if member == "v" else bad)
    assert clear not in str(caught.value)


@given(st.text(max_size=50))
def test_every_sealed_field_is_valid_under_its_json_schema(text: str) -> None:
    jsonschema.Draft202012Validator(JSON_SCHEMA).validate(seal(KEY, ID_NO, text))


@pytest.mark.parametrize(
    "change",
    [{"v": 2}, {"kid": "no|bars"}, {"nonce": "AAAA"}, {"ct": "A"}, {"aad": {"event": "x", "field": "y"}}, {"z": 1}],
)
def test_the_json_schema_refuses_what_parse_refuses(change: dict[str, Any]) -> None:
    bad = seal(KEY, ID_NO, "x") | change
    assert not jsonschema.Draft202012Validator(JSON_SCHEMA).is_valid(bad)
    with pytest.raises(MalformedField):
        parse(bad)


def test_clear_text_of_an_older_event_is_not_taken_for_a_sealed_field() -> None:
    assert not is_sealed("11010519491231002X") and not is_sealed(None) and not is_sealed({"name": "x"})


def test_a_context_is_an_event_name_and_a_field_path() -> None:
    for bad in [("guidance.GuidanceIssued.v1", "id_no"), ("GuidanceIssued", "Counterpart.id_no"), ("X", "a|b")]:
        with pytest.raises(ValueError):
            FieldContext(*bad)


# --- pseudonyms ---------------------------------------------------------------------------------------------

PSEUDONYMS = Pseudonyms(bytes(range(32, 64)))


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002X",
        "11010519491231002x",
        "110105 19491231 002X",
        "110105-19491231-002X",
        "110105—1949 1231—002x",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and letter
        " 110105\u300019491231\t002X ",  # an ideographic space, a tab
    ],
)
def test_one_id_number_however_typed_is_one_subject(typed: str) -> None:
    assert normalise_identifier(typed) == "11010519491231002X"
    assert PSEUDONYMS.subject_id(typed) == PSEUDONYMS.subject_id("11010519491231002X")


_SEPARATOR = st.sampled_from([" ", "-", "\u3000", "\t", "\u2014", "\uff0d", "·", ""])


@given(st.lists(_SEPARATOR, min_size=17, max_size=17), st.lists(st.booleans(), min_size=18, max_size=18))
def test_any_grouping_and_width_of_an_id_number_is_one_subject(gaps: list[str], wide: list[bool]) -> None:
    """Digits typed full-width or not, with any separator (or none) between any two of them."""
    digits = "11010519491231002X"
    typed = "".join(
        (chr(ord(c) + 0xFEE0) if w else c) + (gaps[i] if i < len(gaps) else "")
        for i, (c, w) in enumerate(zip(digits, wide, strict=True))
    )
    assert PSEUDONYMS.subject_id(typed) == PSEUDONYMS.subject_id(digits)


def test_pseudonyms_differ_by_key_purpose_and_value() -> None:
    subject = PSEUDONYMS.subject_id("11010519491231002X")
    assert re.fullmatch(r"[0-9a-f]{64}", subject)
    assert PSEUDONYMS.of("phone", "11010519491231002X") != subject
    assert PSEUDONYMS.subject_id("110105194912310037") != subject
    assert Pseudonyms(bytes(32)).subject_id("11010519491231002X") != subject


def test_a_pseudonym_key_is_long_and_never_shown() -> None:
    with pytest.raises(KeyConfigurationError):
        Pseudonyms(bytes(16))
    assert bytes(range(32, 64)).hex() not in repr(PSEUDONYMS) and "hidden" in repr(PSEUDONYMS)
    with pytest.raises(ValueError):
        PSEUDONYMS.subject_id(" - ")


# --- the published test vector --------------------------------------------------------------------------


def vector() -> dict[str, Any]:
    """Fixed inputs (never real data) and what this code makes of them."""
    nonce = bytes(range(100, 112))
    plaintext = "湖南省长沙市岳麓区示例路1号"  # not ASCII: the plaintext is the text's UTF-8
    address = FieldContext("CaseOpened", "counterpart.address")
    pseudonym_key = bytes(range(32, 64))
    return {
        "data_key": b64url(KEY.secret),
        "kid": KEY.key_id,
        "event": address.event,
        "field": address.field,
        "plaintext": plaintext,
        "nonce": b64url(nonce),
        "associated_data": f"guidance-pd:1|A256GCM|{KEY.key_id}|{address.event}|{address.field}",
        "sealed": seal_with_nonce(KEY, address, plaintext, nonce),
        "pseudonym_key": b64url(pseudonym_key),
        "pseudonym_input": "guidance-pd:pseudonym:1|subject|11010519491231002X",
        "subject_id": Pseudonyms(pseudonym_key).subject_id("110105 19491231 002x"),
    }


def _published() -> dict[str, Any]:
    found = re.search(r"<!-- test vector -->\s*```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert found, f"{DOC} has no ```json block after <!-- test vector -->"
    published: dict[str, Any] = json.loads(found.group(1))
    return published


def test_the_published_test_vector_is_what_the_code_makes() -> None:
    made = vector()
    assert _published() == made, (
        "docs/personal-data.md's test vector is stale; replace its JSON block with:\n"
        + json.dumps(made, ensure_ascii=False, indent=2)
    )


def test_the_published_vector_opens_by_the_documented_steps_alone() -> None:
    """What a consumer in another language does, from the document only: AES-256-GCM with the documented
    associated data, the tag at the end of ``ct``; and HMAC-SHA256 of the documented input."""
    import hashlib
    import hmac

    v = _published()
    aad = "|".join(["guidance-pd:1", v["sealed"]["alg"], v["sealed"]["kid"], v["event"], v["field"]])
    assert aad == v["associated_data"]
    clear = AESGCM(b64url_decode(v["data_key"])).decrypt(
        b64url_decode(v["sealed"]["nonce"]), b64url_decode(v["sealed"]["ct"]), aad.encode("ascii")
    )
    assert clear.decode("utf-8") == v["plaintext"]
    digest = hmac.new(b64url_decode(v["pseudonym_key"]), v["pseudonym_input"].encode(), hashlib.sha256)
    assert digest.hexdigest() == v["subject_id"]
