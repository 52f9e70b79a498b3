"""disclosure's handlers: the officers' commands on items and requests, and the reactions to consumed events.

``items`` and ``requests`` hold one function per command; ``publications`` the reactions that open
and withdraw items. Each takes its dependencies by parameter; ``DisclosureDeps`` is all of them,
built once per runtime by ``bootstrap.wire``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from guidance_disclosure.adapters.sealed_fields import SealedFields
from guidance_disclosure.handlers.items import Items
from guidance_disclosure.handlers.requests import Requests
from guidance_disclosure.settings import DisclosureSettings


@dataclass(frozen=True)
class DisclosureDeps:
    items: Items
    requests: Requests
    settings: DisclosureSettings
    #: the HMAC key of ``case_person_names``' marks (``adapters/files.py``: ``load_scrub_key``); never logged
    scrub_key: bytes = field(repr=False)
    #: opens consumed events' sealed personal fields with keys from intake's key API (``adapters/sealed_fields.py``)
    sealed: SealedFields = field(default_factory=lambda: SealedFields(None))
