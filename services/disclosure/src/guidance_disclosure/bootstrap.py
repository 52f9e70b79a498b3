"""What disclosure is to the kernel, and everything it is built from: ``SPEC``, ``wire`` and ``create_app``.

disclosure consumes intake's and revisit's events and publishes on disclosure.events. Each guidance
act, case decision and revisit result becomes a disclosure item (``entrypoints/consumer.py``);
requests for disclosure (依申请公开) live in the same store. Two periodic checks flag what ran late
(``entrypoints/worker.py``).

``wire`` builds the handlers' dependencies once per runtime, from the kernel's parts and disclosure's
own settings (``settings.py``); everything below takes them by parameter.
"""

from __future__ import annotations

import structlog
from flask import Flask

from guidance_disclosure.adapters import migrations, read_model, subject_keys
from guidance_disclosure.adapters.applicants import Applicants
from guidance_disclosure.adapters.files import load_publication_rules, load_scrub_key
from guidance_disclosure.adapters.read_model import ITEMS_MODEL, REQUESTS_MODEL
from guidance_disclosure.adapters.sealed_fields import SealedFields
from guidance_disclosure.domain.item import DisclosureItem
from guidance_disclosure.domain.request import DisclosureRequest
from guidance_disclosure.entrypoints.app import build_app
from guidance_disclosure.entrypoints.consumer import DisclosureProjection
from guidance_disclosure.entrypoints.worker import (
    deadline_recount,
    item_overdue_check,
    recount_deadlines,
    request_overdue_check,
    segmenter_load,
)
from guidance_disclosure.handlers import DisclosureDeps
from guidance_disclosure.handlers.items import STREAM as ITEM_STREAM
from guidance_disclosure.handlers.items import Items
from guidance_disclosure.handlers.requests import STREAM as REQUEST_STREAM
from guidance_disclosure.handlers.requests import Requests
from guidance_disclosure.settings import DisclosureSettings
from guidance_shared.access_log import ACCESS_LOG_METADATA
from guidance_shared.auth import AuthSettings
from guidance_shared.calendar_file import load_calendar
from guidance_shared.dates import china_today
from guidance_shared.metrics import OverdueCollector
from guidance_shared.repository import Repository
from guidance_shared.runtime import ReadModel, Runtime, ServiceSpec

log = structlog.get_logger(__name__)


def wire(runtime: Runtime[DisclosureDeps]) -> DisclosureDeps:
    """The store's repositories, the publication rules, the holiday calendar, the public address, the scrub key
    and the key API that opens sealed fields."""
    assert runtime.store is not None, "disclosure publishes, so its runtime has an event store"
    settings = DisclosureSettings.from_env(runtime.settings.env)
    calendar = load_calendar(runtime.settings.calendar_overrides)
    items = Items(
        repository=Repository(
            runtime.store, DisclosureItem, ITEM_STREAM, "disclosure item", "公开事项", project=read_model.apply_items
        ),
        registry=runtime.registry,
        rules=load_publication_rules(settings.publication_rules),
        calendar=calendar,
        public_base_url=settings.public_base_url,
    )
    requests = Requests(
        repository=Repository(
            runtime.store,
            DisclosureRequest,
            REQUEST_STREAM,
            "request",
            "政府信息公开申请",
            project=read_model.apply_requests,
        ),
        registry=runtime.registry,
        calendar=calendar,
        applicants=applicants(settings),
    )
    register_overdue_gauges(runtime)
    scrub_key = load_scrub_key(settings.scrub_key, runtime.settings.var_dir)
    return DisclosureDeps(
        items=items, requests=requests, settings=settings, scrub_key=scrub_key, sealed=sealed_fields(settings)
    )


def sealed_fields(settings: DisclosureSettings) -> SealedFields:
    """What opens persons' sealed fields: intake's key API behind an in-memory cache, when its address is set."""
    if settings.key_api_url is None:
        return SealedFields(None, settings.pseudonyms)
    token = subject_keys.token_reader(settings.key_api_token, settings.key_api_token_file)
    keys = subject_keys.keys(settings.key_api_url, token, timeout_s=settings.key_api_timeout_s)
    return SealedFields(keys, settings.pseudonyms)


def applicants(settings: DisclosureSettings) -> Applicants:
    """What seals requests' applicants (``GUIDANCE_SEAL_PERSONAL_DATA``, settings.py) and opens them for officers:
    intake's key API with the purpose ``request``, without a cache, so an erasure holds at the next read. Whether
    applicants are sealed is said once at start (no personal data in it)."""
    log.info("disclosure.applicants", sealed=settings.seal_applicants)
    if settings.key_api_url is None:
        return Applicants(None, settings.pseudonyms, sealing=False)
    token = subject_keys.token_reader(settings.key_api_token, settings.key_api_token_file)
    keys = subject_keys.IntakeKeys(
        settings.key_api_url, token, timeout_s=settings.key_api_timeout_s, open_purpose=subject_keys.SEAL_PURPOSE
    )
    return Applicants(keys, settings.pseudonyms, sealing=settings.seal_applicants)


def register_overdue_gauges(runtime: Runtime[DisclosureDeps]) -> None:
    """``guidance_overdue`` and ``guidance_overdue_unflagged`` on the runtime's /metrics (web and worker)."""

    def read() -> dict[str, tuple[int, int]]:
        with runtime.engine.connect() as conn:
            return read_model.overdue_counts(conn, china_today())

    runtime.metrics_registry.register(OverdueCollector(read))


SPEC: ServiceSpec[DisclosureDeps] = ServiceSpec(
    name="disclosure",
    publishes="disclosure.events",
    consumes=("intake.events", "revisit.events"),
    wire=wire,
    projection=DisclosureProjection,
    migrations=migrations.LOCATION,
    extra_metadata=(REQUESTS_MODEL, ITEMS_MODEL, ACCESS_LOG_METADATA),
    read_models=(
        ReadModel(ITEMS_MODEL, read_model.apply_items, (ITEM_STREAM,)),
        ReadModel(REQUESTS_MODEL, read_model.apply_requests, (REQUEST_STREAM,)),
    ),
    tasks=(item_overdue_check, request_overdue_check, deadline_recount, segmenter_load),
    recount_deadlines=recount_deadlines,
)


def create_app(
    runtime: Runtime[DisclosureDeps],
    *,
    testing: bool = False,
    auth: AuthSettings | None = None,
    public_rate_limit: int | None = None,
) -> Flask:
    """disclosure's Flask app on ``runtime``; ``public_rate_limit``: requests per minute per client on
    ``/public/`` (0 = off; default: GUIDANCE_PUBLIC_RATE_LIMIT)."""
    return build_app(runtime, testing=testing, auth=auth, public_rate_limit=public_rate_limit)
