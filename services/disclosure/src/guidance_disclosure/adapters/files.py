"""The publication rules file: ``config/publication.yaml`` in the package, or the file settings name.

Reading and parsing happen here; what the rules mean, and the legal bounds they are checked against,
is the domain's (``PublicationRules.from_mapping``).
"""

from __future__ import annotations

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
