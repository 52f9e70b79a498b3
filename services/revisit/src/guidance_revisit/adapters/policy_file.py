"""The scheduling policy file (``GUIDANCE_REVISIT_POLICY``): YAML read into ``domain.policy.Policies``.

``{default: {...}, departments: {<uuid>: {...}}}``; no file means the defaults of ``Policy``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from guidance_revisit.domain.policy import Policies


def load_policies(path: Path | None) -> Policies:
    """The policies of the YAML file at ``path``; the defaults when there is none."""
    if path is None:
        return Policies()
    return Policies.from_mapping(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
