"""What an officer asks disclosure to do: one frozen dataclass per command, built once from the validated request.

The officer API's schemas (``entrypoints/http``) build them; the handlers (``handlers/``) take them
and turn them into event data, which the event contract validates again as the producer's check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from guidance_shared.officers import Officer


@dataclass(frozen=True)
class Provision:
    """One provision relied on: the instrument and its article."""

    instrument: str
    article: str

    def as_data(self) -> Mapping[str, str]:
        return {"instrument": self.instrument, "article": self.article}


# -- disclosure items ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PublishItem:
    """A reviewer publishes an item from the review queue (or one withheld on a relative exemption)."""

    reviewed_by: Officer
    note: str | None = None


@dataclass(frozen=True)
class WithholdItem:
    """A reviewer withholds an item, naming the exemption; no provisions means the rules' own for it."""

    exemption: str
    reason: str
    decided_by: Officer
    legal_basis: tuple[Provision, ...] = ()


# -- requests for disclosure (依申请公开) ------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterRequest:
    department_id: str
    #: The applicant as the wire schema validated them (the contract's ``Counterpart``), carried into the event.
    applicant: Mapping[str, Any]
    description: str
    channel: str
    received_on: date


@dataclass(frozen=True)
class RequestSupplement:
    """The one-time notice to complete the request (补正)."""

    items: str
    notice_on: date
    notified_by: Officer
    supplement_by: date | None = None


@dataclass(frozen=True)
class RecordSupplement:
    supplemented_on: date


@dataclass(frozen=True)
class StartConsultation:
    reason: str
    started_on: date


@dataclass(frozen=True)
class EndConsultation:
    ended_on: date


@dataclass(frozen=True)
class ExtendAnswerPeriod:
    extension_working_days: int
    approved_by: Officer
    reason: str
    approved_on: date | None = None  # the day the extension was approved; None: today


@dataclass(frozen=True)
class AnswerRequest:
    answer: str
    answered_on: date
    exemption: str | None = None
    legal_basis: tuple[Provision, ...] = ()
    reply_doc_no: str | None = None
