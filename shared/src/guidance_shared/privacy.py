"""Personal data of natural persons: how it is recognised and removed before anything is shown.

Used by public pages and feeds (disclosure), by the logs and by anything else that must never echo
an ID number, a phone number, a bank card number or an address.

Text is matched as people type it, not as a form would hold it:

- **Folded, one character for one**: each character is replaced by its NFKC form when that form is a
  single character, so full-width digits and letters (``１１０１０１``, ``Ｘ``), the ideographic space
  and full-width dashes and dots read as their ASCII selves. A character whose NFKC form is longer
  (``⑩``) is left as it is. Because the folded text has the same length as the original, a span found
  in it is the same span in the original, and everything outside the spans is kept as written.
- **Numbers in groups**: a run of digit groups joined by short separators (spaces, dashes, dots, in
  any mix: ``110101 1990 0307 1234``, ``110101-19900307-1234``, ``138.0013.8000``) is taken apart
  into its groups, and every run of consecutive groups is tried whole against the patterns, so a
  number next to a date or an amount in the same run is still found. A window joined by a dot needs
  three groups or more, so a decimal (``13.800138000`` seconds in a log line) is never a phone.
- **Keyed marks** (``Mark``): a value that has no pattern (an address, a name, a passport number)
  and must be found again later without being kept in clear is kept as its length and an HMAC of
  its folded, compacted form; ``find_marked`` slides a window of that length over a text.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The single patterns as a form holds a number (no separators inside). Look-arounds exclude letters too,
# so hex runs inside UUIDs and hashes are never taken for numbers. Other modules match fields with them.
# 18-digit resident ID (GB 11643) with a plausible birth date, the last character a digit or X.
ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"
    r"(?![0-9A-Za-z])"
)
MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9A-Za-z])")
LANDLINE = re.compile(r"(?<![0-9A-Za-z])0\d{2,3}-?\d{7,8}(?![0-9A-Za-z])")
BANK_CARD = re.compile(r"(?<![0-9A-Za-z])(?:62|4\d|5[1-5])\d{14,17}(?![0-9A-Za-z])")

REDACTED = "［已隐去］"
_SINGLE = (ID_NUMBER, BANK_CARD, MOBILE, LANDLINE)

# The same numbers as bare digits (a window's groups joined), matched whole.
_WHOLE = re.compile(
    r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]"  # resident ID
    r"|(?:86)?1[3-9][0-9]{9}"  # mobile, with or without the country code
    r"|(?:62|4[0-9]|5[1-5])[0-9]{14,17}"  # bank card
)
# A landline is its area code and its number: one group, or two with the area code first (never a window
# that starts inside a date such as 2024-01-15).
_LANDLINE = re.compile(r"0[0-9]{2,3}[0-9]{7,8}")
_AREA_CODE = re.compile(r"0[0-9]{2,3}")
_LONGEST = 19  # digits in the longest number above (a bank card)
_SHORTEST = 10  # digits in the shortest (a landline: 0 + 2 + 7)

# Between two digit groups: one to three spaces, dashes or dots (after folding).
_SEPARATOR_CHARS = " \t-\u2010\u2011\u2012\u2013\u2014\u2015\u2212.\u00b7\u30fb"
_RUN = re.compile(
    r"(?<![0-9A-Za-z])[0-9]+(?:[" + re.escape(_SEPARATOR_CHARS) + r"]{1,3}[0-9]+)*"
    r"(?:[" + re.escape(_SEPARATOR_CHARS) + r"]{0,3}X)?(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_GROUP = re.compile(r"[0-9]+X?|X", re.IGNORECASE)
# The same before folding: any script's digits, any whitespace, the full-width dash, dot and letter X too.
_ANY_CANDIDATE = re.compile(
    r"\d[\d\sXx\uff38\uff58\uff0d\uff0e\uff65" + re.escape(_SEPARATOR_CHARS) + r"]{8,}[\dXx\uff38\uff58]"
)
# A quick necessary condition: the shortest number is ten characters of digits (and separators) in a row.
_CANDIDATE = re.compile(r"[0-9][0-9Xx" + re.escape(_SEPARATOR_CHARS) + r"]{8,}[0-9Xx]")


class _Fold(dict[int, int]):
    """``str.translate`` table: a character to its NFKC form when that is one character, computed once per character."""

    def __missing__(self, code: int) -> int:
        folded = unicodedata.normalize("NFKC", chr(code))
        value = ord(folded) if len(folded) == 1 else code
        self[code] = value
        return value


_FOLD = _Fold()


# What NFKC may change: neither ASCII nor a CJK ideograph (most of a Chinese text), so only these are looked up.
_FOLDABLE = re.compile(r"[^\x00-\x7f\u3400-\u4dbf\u4e00-\u9fff]+")


def _fold_run(match: re.Match[str]) -> str:
    return match.group().translate(_FOLD)


def fold(text: str) -> str:
    """``text`` with each character in its single-character NFKC form: same length, same positions."""
    return text if text.isascii() else _FOLDABLE.sub(_fold_run, text)


def number_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds an ID, phone or bank card number, however grouped or written: (start, end) pairs,
    sorted and merged, in ``text``'s own positions."""
    if _ANY_CANDIDATE.search(text) is None:
        return []
    folded = fold(text)
    if _CANDIDATE.search(folded) is None:
        return []
    found: list[tuple[int, int]] = []
    for run in _RUN.finditer(folded):
        if run.end() - run.start() < _SHORTEST:
            continue  # fewer characters than the shortest number has digits
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in _GROUP.finditer(run.group())]
        for first in range(len(groups)):
            digits = ""
            for last in range(first, len(groups)):
                start, end = groups[last]
                digits += folded[start:end].upper()
                if len(digits) > _LONGEST + 2:  # "86" before a mobile is the longest prefix
                    break
                if len(digits) < _SHORTEST or not _is_number(digits, folded, groups[first : last + 1]):
                    continue
                if last > first and "." in folded[groups[first][1] : start] and last - first < 2:
                    continue  # a decimal, not a number typed in groups
                begin = groups[first][0]
                found.append((begin - 1 if folded[begin - 1 : begin] == "+" else begin, end))
    # The single patterns on the text as written too: a number that touches another script's digits
    # (18 ASCII digits then full-width ones) is one run when folded, but still a number.
    found.extend(match.span() for pattern in _SINGLE for match in pattern.finditer(text))
    return merge(found)


def _is_number(digits: str, folded: str, groups: Sequence[tuple[int, int]]) -> bool:
    if _WHOLE.fullmatch(digits):
        return True
    if not _LANDLINE.fullmatch(digits):
        return False
    if len(groups) == 1:
        return True
    return len(groups) == 2 and _AREA_CODE.fullmatch(folded[groups[0][0] : groups[0][1]]) is not None


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans as one."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def replace_spans(text: str, spans: Sequence[tuple[int, int]], replacement: str) -> str:
    """``text`` with each (merged, sorted) span replaced, the rest as written."""
    if not spans:
        return text
    parts: list[str] = []
    at = 0
    for start, end in spans:
        parts.append(text[at:start])
        parts.append(replacement)
        at = end
    parts.append(text[at:])
    return "".join(parts)


def scrub_text(text: str, replacement: str = REDACTED) -> str:
    """Remove ID numbers, phone numbers and bank card numbers from free text, however typed."""
    return replace_spans(text, number_spans(text), replacement)


def mask_name(name: str) -> str:
    """Keep the first character (the surname, usually), mask the rest: 张三 → 张*, 李小明 → 李**."""
    name = name.strip()
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)


# -- finding a known value again: in clear, or by its keyed mark ---------------------------------------------
_IGNORED = re.compile(r"[\s" + re.escape(_SEPARATOR_CHARS) + r"]+")


def compact(text: str) -> tuple[str, list[int]]:
    """``text`` folded, without whitespace or separators, and where each kept character was in ``text``."""
    folded = fold(text).upper()
    if _IGNORED.search(folded) is None:
        return folded, list(range(len(folded)))
    positions: list[int] = []
    at = 0
    for gap in _IGNORED.finditer(folded):
        positions.extend(range(at, gap.start()))
        at = gap.end()
    positions.extend(range(at, len(folded)))
    return "".join(folded[i] for i in positions), positions


def occurrences(text: str, values: Iterable[str]) -> list[tuple[int, int]]:
    """Where each value occurs in ``text``, compared folded and ignoring spaces and separators on both sides."""
    wanted = {compact(v)[0] for v in values}
    wanted.discard("")
    if not wanted:
        return []
    folded = fold(text).upper()
    # A value whose first or last character is not in the text at all cannot be there (most texts, most values).
    wanted = {v for v in wanted if v[0] in folded and v[-1] in folded}
    if not wanted:
        return []
    squeezed, positions = compact(text)
    spans = []
    for value in wanted:
        at = squeezed.find(value)
        while at >= 0:
            spans.append((positions[at], positions[at + len(value) - 1] + 1))
            at = squeezed.find(value, at + 1)
    return merge(spans)


@dataclass(frozen=True)
class Mark:
    """A value kept only as its compacted length and an HMAC-SHA256 under a key that is not stored with it."""

    length: int
    mac: str

    def as_data(self) -> dict[str, object]:
        return {"length": self.length, "mac": self.mac}

    @classmethod
    def from_data(cls, data: dict[str, object]) -> Mark:
        return cls(int(str(data["length"])), str(data["mac"]))


def _mac(key: bytes, value: str) -> str:
    return hmac.digest(key, value.encode("utf-8"), hashlib.sha256).hex()


def mark(key: bytes, value: str) -> Mark | None:
    """The keyed mark of ``value`` (None for an empty one)."""
    squeezed = compact(value)[0]
    return Mark(len(squeezed), _mac(key, squeezed)) if squeezed else None


def find_marked(text: str, key: bytes, marks: Iterable[Mark]) -> list[tuple[int, int]]:
    """Where a value whose mark is in ``marks`` occurs in ``text``: every window of each mark's length is
    compacted, hashed under ``key`` and compared, so the value itself is never needed."""
    by_length: dict[int, set[str]] = {}
    for m in marks:
        by_length.setdefault(m.length, set()).add(m.mac)
    if not by_length:
        return []
    squeezed, positions = compact(text)
    spans = []
    for length, macs in by_length.items():
        for at in range(len(squeezed) - length + 1):
            if _mac(key, squeezed[at : at + length]) in macs:
                spans.append((positions[at], positions[at + length - 1] + 1))
    return merge(spans)


def redact_own(text: str, *, name: str | None = None, secrets: tuple[str | None, ...] = ()) -> str:
    """Free text about one natural person as the public may read it.

    Their own ID number, address and contact, wherever typed in (folded, spaces and separators ignored),
    are removed first (an address has no pattern to find it by); then every ID, phone and card number;
    then their name is masked.
    """
    own = [s.strip() for s in secrets if s and len(s.strip()) >= 4]
    text = replace_spans(text, merge([*occurrences(text, own), *number_spans(text)]), REDACTED)
    name = (name or "").strip()
    if len(name) >= 2:
        text = mask_spans(text, occurrences(text, [name]))
    return text


def mask_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with each span's first character kept and the rest masked (a name found in it)."""
    if not spans:
        return text
    parts: list[str] = []
    at = 0
    for start, end in spans:
        parts.append(text[at:start])
        parts.append(mask_name(text[start:end]))
        at = end
    parts.append(text[at:])
    return "".join(parts)
