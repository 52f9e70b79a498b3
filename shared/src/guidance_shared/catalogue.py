"""The names of the v1 catalogue: every event type and topic, as constants importable without the schemas.

Aggregates record these types, projections dispatch on them (``dispatch.EventHandlers``), and the
schemas in ``guidance_shared.events`` declare them; a test holds this list equal to the registry's.
Pure data: importing it loads no marshmallow, SQLAlchemy or Kafka.
"""

from __future__ import annotations

INTAKE_EVENTS = "intake.events"
REVISIT_EVENTS = "revisit.events"
DISCLOSURE_EVENTS = "disclosure.events"
ASSESSMENT_EVENTS = "assessment.events"

# intake.events: guidance acts (行政指导), enforcement cases, their archive packages (归档), and erasures of persons
GUIDANCE_ISSUED = "guidance.GuidanceIssued.v1"
GUIDANCE_RESPONDED = "guidance.GuidanceResponded.v1"
CORRECTION_VERIFIED = "guidance.CorrectionVerified.v1"
GUIDANCE_SUSPENDED = "guidance.GuidanceSuspended.v1"
GUIDANCE_WITHDRAWN = "guidance.GuidanceWithdrawn.v1"
CASE_OPENED = "guidance.CaseOpened.v1"
CASE_LEGAL_REVIEWED = "guidance.CaseLegalReviewed.v1"
CASE_DECIDED = "guidance.CaseDecided.v1"
CASE_DECISION_REVOKED = "guidance.CaseDecisionRevoked.v1"
CASE_CLOSED = "guidance.CaseClosed.v1"
ARCHIVE_PACKAGE_PRODUCED = "guidance.ArchivePackageProduced.v1"
PERSONAL_DATA_ERASED = "guidance.PersonalDataErased.v1"

# revisit.events: revisits (回访) and enforcement reminders (执法事项提示)
REVISIT_SCHEDULED = "guidance.RevisitScheduled.v1"
REVISIT_COMPLETED = "guidance.RevisitCompleted.v1"
REVISIT_OVERDUE = "guidance.RevisitOverdue.v1"
REVISIT_CANCELLED = "guidance.RevisitCancelled.v1"
REVISIT_RESCHEDULED = "guidance.RevisitRescheduled.v1"
REVISIT_DEADLINE_RECOMPUTED = "guidance.RevisitDeadlineRecomputed.v1"
REMINDER_PLANNED = "guidance.ReminderPlanned.v1"
REMINDER_PLAN_ACCEPTED = "guidance.ReminderPlanAccepted.v1"
REMINDER_PLAN_ADJUSTED = "guidance.ReminderPlanAdjusted.v1"
REMINDER_PLAN_DISMISSED = "guidance.ReminderPlanDismissed.v1"

# disclosure.events: publication (政务公开) and requests for government information (依申请公开)
ITEM_DISCLOSED = "guidance.ItemDisclosed.v1"
DISCLOSURE_REVIEW_REQUESTED = "guidance.DisclosureReviewRequested.v1"
DISCLOSURE_WITHHELD = "guidance.DisclosureWithheld.v1"
DISCLOSURE_WITHDRAWN = "guidance.DisclosureWithdrawn.v1"
DISCLOSURE_OVERDUE = "guidance.DisclosureOverdue.v1"
DISCLOSURE_DEADLINE_RECOMPUTED = "guidance.DisclosureDeadlineRecomputed.v1"
DISCLOSURE_REQUEST_RECEIVED = "guidance.DisclosureRequestReceived.v1"
DISCLOSURE_REQUEST_ANSWERED = "guidance.DisclosureRequestAnswered.v1"
DISCLOSURE_REQUEST_EXTENDED = "guidance.DisclosureRequestExtended.v1"
DISCLOSURE_REQUEST_SUPPLEMENT_REQUESTED = "guidance.DisclosureRequestSupplementRequested.v1"
DISCLOSURE_REQUEST_SUPPLEMENTED = "guidance.DisclosureRequestSupplemented.v1"
DISCLOSURE_REQUEST_CONSULTATION_STARTED = "guidance.DisclosureRequestConsultationStarted.v1"
DISCLOSURE_REQUEST_CONSULTATION_ENDED = "guidance.DisclosureRequestConsultationEnded.v1"
DISCLOSURE_REQUEST_OVERDUE = "guidance.DisclosureRequestOverdue.v1"
DISCLOSURE_REQUEST_DEADLINE_RECOMPUTED = "guidance.DisclosureRequestDeadlineRecomputed.v1"

# assessment.events: yearly assessment (考核) periods and scorecards
ASSESSMENT_PERIOD_OPENED = "guidance.AssessmentPeriodOpened.v1"
SCORECARD_PUBLISHED = "guidance.ScorecardPublished.v1"
EXTERNAL_EVALUATION_RECORDED = "guidance.ExternalEvaluationRecorded.v1"
ROLLOUT_DELIVERABLE_RECORDED = "guidance.RolloutDeliverableRecorded.v1"
SCORECARD_REVISED = "guidance.ScorecardRevised.v1"

TYPES_ON: dict[str, tuple[str, ...]] = {
    INTAKE_EVENTS: (
        GUIDANCE_ISSUED,
        GUIDANCE_RESPONDED,
        CORRECTION_VERIFIED,
        GUIDANCE_SUSPENDED,
        GUIDANCE_WITHDRAWN,
        CASE_OPENED,
        CASE_LEGAL_REVIEWED,
        CASE_DECIDED,
        CASE_DECISION_REVOKED,
        CASE_CLOSED,
        ARCHIVE_PACKAGE_PRODUCED,
        PERSONAL_DATA_ERASED,
    ),
    REVISIT_EVENTS: (
        REVISIT_SCHEDULED,
        REVISIT_COMPLETED,
        REVISIT_OVERDUE,
        REVISIT_CANCELLED,
        REVISIT_RESCHEDULED,
        REVISIT_DEADLINE_RECOMPUTED,
        REMINDER_PLANNED,
        REMINDER_PLAN_ACCEPTED,
        REMINDER_PLAN_ADJUSTED,
        REMINDER_PLAN_DISMISSED,
    ),
    DISCLOSURE_EVENTS: (
        ITEM_DISCLOSED,
        DISCLOSURE_REVIEW_REQUESTED,
        DISCLOSURE_WITHHELD,
        DISCLOSURE_WITHDRAWN,
        DISCLOSURE_OVERDUE,
        DISCLOSURE_DEADLINE_RECOMPUTED,
        DISCLOSURE_REQUEST_RECEIVED,
        DISCLOSURE_REQUEST_ANSWERED,
        DISCLOSURE_REQUEST_EXTENDED,
        DISCLOSURE_REQUEST_SUPPLEMENT_REQUESTED,
        DISCLOSURE_REQUEST_SUPPLEMENTED,
        DISCLOSURE_REQUEST_CONSULTATION_STARTED,
        DISCLOSURE_REQUEST_CONSULTATION_ENDED,
        DISCLOSURE_REQUEST_OVERDUE,
        DISCLOSURE_REQUEST_DEADLINE_RECOMPUTED,
    ),
    ASSESSMENT_EVENTS: (
        ASSESSMENT_PERIOD_OPENED,
        SCORECARD_PUBLISHED,
        EXTERNAL_EVALUATION_RECORDED,
        ROLLOUT_DELIVERABLE_RECORDED,
        SCORECARD_REVISED,
    ),
}
"""Each topic's event types, in catalogue order."""


def types_on(*topics: str) -> tuple[str, ...]:
    """Every event type published on the given topics."""
    return tuple(ce_type for topic in topics for ce_type in TYPES_ON[topic])
