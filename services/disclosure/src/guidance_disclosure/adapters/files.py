"""disclosure's files: the publication rules and the development scrub key.

The rules: ``config/publication.yaml`` in the package, or the file settings name. Reading and parsing
happen here; what the rules mean, and the legal bounds they are checked against, is the domain's
(``PublicationRules.from_mapping``).

The scrub key (the HMAC key of ``case_person_names``' marks) comes from settings in production
(``GUIDANCE_SCRUB_KEY[_FILE]``). Without it, a random one is made once and kept in
``<var>/disclosure-scrub.key`` (owner-only), as the development signing keys are: the same database
must always be read with the same key, or the marks it keeps find nothing.
"""

from __future__ import annotations

import os
import secrets
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml

from guidance_disclosure.domain.publication import PublicationConfigError, PublicationRules

DEFAULT_RULES = files("guidance_disclosure") / "config" / "publication.yaml"


def load_publication_rules(path: Path | Traversable | None = None) -> PublicationRules:
    """The rules in ``path``, or the packaged defaults when it is None; a bad file names itself and the key."""
    source = DEFAULT_RULES if path is None else path
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PublicationConfigError(f"{source}: cannot read the publication rules: {exc}") from exc
    return PublicationRules.from_mapping(data, source=str(source))


SCRUB_KEY_FILE = "disclosure-scrub.key"


def load_scrub_key(configured: bytes | None, var_dir: Path) -> bytes:
    """The configured key, or the one kept in ``var_dir`` (made on first use, whole or not at all: it is
    written aside and linked into place, so a process starting beside another never reads half a key)."""
    if configured is not None:
        return configured
    path = var_dir / SCRUB_KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        aside = var_dir / f".{SCRUB_KEY_FILE}.{secrets.token_hex(8)}"
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process linked its key first: everyone reads that one
        finally:
            aside.unlink()
    return path.read_text(encoding="utf-8").strip().encode("utf-8")
