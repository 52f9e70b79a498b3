"""Personal data of natural persons: how it is recognised and removed before anything is shown.

Used by public pages and feeds (disclosure) and by anything else that must
never echo an ID number, a phone number or an address.
"""

from __future__ import annotations

import re

# Look-arounds exclude letters too, so hex runs inside UUIDs and hashes are never taken for numbers.
# 18-digit resident ID (GB 11643) with a plausible birth date, the last character a digit or X.
ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"
    r"(?![0-9A-Za-z])"
)
MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9A-Za-z])")
LANDLINE = re.compile(r"(?<![0-9A-Za-z])0\d{2,3}-?\d{7,8}(?![0-9A-Za-z])")
BANK_CARD = re.compile(r"(?<![0-9A-Za-z])(?:62|4\d|5[1-5])\d{14,17}(?![0-9A-Za-z])")

REDACTED = "［已隐去］"


_PATTERNS = (ID_NUMBER, BANK_CARD, MOBILE, LANDLINE)
# Quick necessary conditions, so most text is scanned once or twice instead of substituted four times:
# every pattern needs three digits in a row, all but MOBILE need seven (ID_NUMBER 18, BANK_CARD 16,
# LANDLINE's "\d{7,8}"), and MOBILE needs its "1[3-9]\d". The replacement has no digits, so a
# substitution never makes a run that was not there.
_DIGITS_3 = re.compile(r"\d{3}")
_DIGITS_7 = re.compile(r"\d{7}")
_MOBILE_CORE = re.compile(r"1[3-9]\d")


def scrub_text(text: str, replacement: str = REDACTED) -> str:
    """Remove ID numbers, phone numbers and bank card numbers from free text."""
    if _DIGITS_3.search(text) is None:
        return text
    if _DIGITS_7.search(text) is None:
        return text if _MOBILE_CORE.search(text) is None else MOBILE.sub(replacement, text)
    for pattern in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def mask_name(name: str) -> str:
    """Keep the first character (the surname, usually), mask the rest: 张三 → 张*, 李小明 → 李**."""
    name = name.strip()
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)


def redact_own(text: str, *, name: str | None = None, secrets: tuple[str | None, ...] = ()) -> str:
    """Free text about one natural person as the public may read it.

    Their own ID number, address and contact, wherever typed in exactly, are removed first (an address
    has no pattern to find it by); then every ID, phone and card number; then their name is masked.
    """
    for secret in secrets:
        secret = (secret or "").strip()
        if len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = scrub_text(text)
    name = (name or "").strip()
    if len(name) >= 2:
        text = text.replace(name, mask_name(name))
    return text
