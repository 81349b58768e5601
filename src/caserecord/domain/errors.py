"""Domain errors: each has a stable machine-readable ``code`` and a clear message."""

from typing import Any


class DomainError(Exception):
    """Base class for every rule the case record refuses to break."""

    code = "domain_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details  # plain data a caller can act on (shown with the message)


class NotFoundError(DomainError):
    code = "not_found"


class ClientNotFoundError(NotFoundError):
    code = "client_not_found"


class CaseNotFoundError(NotFoundError):
    code = "case_not_found"


class PlanNotFoundError(NotFoundError):
    code = "plan_not_found"


class GoalNotFoundError(NotFoundError):
    code = "goal_not_found"


class ReferralNotFoundError(NotFoundError):
    code = "referral_not_found"


class NoteNotFoundError(NotFoundError):
    code = "note_not_found"


class SupportContactNotFoundError(NotFoundError):
    code = "support_contact_not_found"


class EntryNotFoundError(NotFoundError):
    code = "entry_not_found"


class InvalidValueError(DomainError):
    code = "invalid_value"


class ReasonRequiredError(DomainError):
    code = "reason_required"


class EffectiveTimeInFutureError(DomainError):
    code = "effective_time_in_future"


class EffectiveBeforeOpeningError(DomainError):
    """An entry said to have happened before its case was opened."""

    code = "effective_before_case_opened"


class CaseClosedError(DomainError):
    code = "case_closed"


class CaseNotClosedError(DomainError):
    code = "case_not_closed"


class InvalidTransitionError(DomainError):
    code = "invalid_transition"


class PlanAlreadyCurrentError(DomainError):
    code = "plan_already_current"


class GoalNotOnCurrentPlanError(DomainError):
    code = "goal_not_on_current_plan"


class EntryNotCorrectableError(DomainError):
    code = "entry_not_correctable"


class AlreadyInErrorError(DomainError):
    code = "already_in_error"


class NothingToCorrectError(DomainError):
    code = "nothing_to_correct"


class DuplicateIdError(DomainError):
    code = "duplicate_id"


class ClientNumberTakenError(DomainError):
    """Another client of the agency already has this client number (``client_id``)."""

    code = "client_number_taken"


class PossibleDuplicateError(DomainError):
    """Clients of the agency with the same name and date of birth (``candidates``)."""

    code = "possible_duplicate"


class MissingActorError(DomainError):
    code = "missing_actor"


class VersionMismatchError(DomainError):
    """The caller's expected version (If-Match) is not the current one."""

    code = "version_mismatch"


class ConcurrencyConflictError(DomainError):
    """Another writer saved the same version first."""

    code = "concurrency_conflict"


class ConsentNotFoundError(NotFoundError):
    code = "consent_not_found"


class DisclosureNotFoundError(NotFoundError):
    code = "disclosure_not_found"


class ConsentRequiredError(DomainError):
    """The data's classes need consent and none in force covers the disclosure
    (``missing``: what is not covered)."""

    code = "consent_required"


class OverrideNotAllowedError(DomainError):
    """The caller's role may not break the glass (disclose without consent in an
    emergency)."""

    code = "override_not_allowed"
