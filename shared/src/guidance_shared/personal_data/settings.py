"""Personal-data secrets from the environment, for a service other than intake that holds some of them.

disclosure holds the pseudonym key (to hash the ID numbers it finds in text, docs/decisions/0007) and the
service token that grants it keys from intake's key API. Each is given as the variable itself or, in
production, as a file ``<name>_FILE`` names (a mounted Secret). What cannot be used is a ``KeyConfigurationError``
naming the variable, never the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from guidance_shared.personal_data.errors import KeyConfigurationError
from guidance_shared.personal_data.local_keks import decode_key
from guidance_shared.personal_data.pseudonym import Pseudonyms

PSEUDONYM_KEY = "GUIDANCE_PSEUDONYM_KEY"


def secret(env: Mapping[str, str], name: str) -> str | None:
    """``name`` itself, or the whole file ``name``_FILE names, surrounding whitespace removed; not both."""
    value, path = env.get(name) or None, env.get(f"{name}_FILE") or None
    if value is not None and path is not None:
        raise KeyConfigurationError(f"set {name} or {name}_FILE, not both")
    if path is None:
        return None if value is None else value.strip()
    try:
        content = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise KeyConfigurationError(f"{name}_FILE: cannot read {path} ({exc.strerror or exc})") from None
    if not content:
        raise KeyConfigurationError(f"{name}_FILE: {path} is empty")
    return content


def pseudonyms(env: Mapping[str, str]) -> Pseudonyms | None:
    """The pseudonym key of ``GUIDANCE_PSEUDONYM_KEY[_FILE]`` (base64 of 32 bytes), or None when unset."""
    text = secret(env, PSEUDONYM_KEY)
    if text is None:
        return None
    return Pseudonyms(decode_key(text, PSEUDONYM_KEY))
