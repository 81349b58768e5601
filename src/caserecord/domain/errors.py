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


class TaskNotFoundError(NotFoundError):
    code = "task_not_found"


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


class CaseNotInServiceError(DomainError):
    """The case is waitlisted or on hold, and the command needs service under way."""

    code = "case_not_in_service"


class ContactNotPermittedError(DomainError):
    """A support contact the client has not allowed to be contacted (``contact_id``,
    ``name``) was named in a contact."""

    code = "contact_not_permitted"


class UnknownReferenceError(InvalidValueError):
    """A command names something the record does not hold (``kind``, ``id``)."""

    code = "unknown_reference"


class InvalidTransitionError(DomainError):
    code = "invalid_transition"


class PlanAlreadyCurrentError(DomainError):
    code = "plan_already_current"


class GoalNotOnCurrentPlanError(DomainError):
    code = "goal_not_on_current_plan"


class GoalsNotSettledError(DomainError):
    """A plan ends only once each of its open goals is settled (``goal_ids``)."""

    code = "goals_not_settled"


class OpenItemsOnClosingError(DomainError):
    """A case closes only once its open referrals and tasks are settled
    (``referral_ids``, ``task_ids``)."""

    code = "open_items_on_closing"


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


class InstrumentNotFoundError(NotFoundError):
    code = "instrument_not_found"


class InvalidDefinitionError(InvalidValueError):
    """An instrument definition that cannot score (``field``: where)."""

    code = "invalid_instrument_definition"


class InvalidResponseError(InvalidValueError):
    """An administration's responses are incomplete or out of range (``item``: which)."""

    code = "invalid_response"


class SafetyFlagNotFoundError(NotFoundError):
    code = "safety_flag_not_found"


class StaffNotFoundError(NotFoundError):
    """The staff member the request's path names is not in the agency's directory."""

    code = "staff_not_found"


class UnknownStaffError(DomainError):
    """A staff member the request's body or headers name is not in the agency's directory:
    the request is refused as it stands (422), the path it was sent to exists."""

    code = "staff_not_found"


class StaffInactiveError(DomainError):
    """The staff member is in the directory but deactivated."""

    code = "staff_inactive"


class NotTheReceiverError(DomainError):
    """Only the staff member a transfer is addressed to, or a supervisor, answers it."""

    code = "not_the_receiver"


class NotOnTheCaseError(DomainError):
    """A caseworker writes only to a case they manage, are on the care team of, or broke
    the glass on."""

    code = "not_on_case"


class TransferPendingError(DomainError):
    """The case has a transfer waiting for an answer: answer or cancel it first."""

    code = "transfer_pending"


class TransferNotFoundError(NotFoundError):
    code = "transfer_not_found"


class CareTeamMemberNotFoundError(NotFoundError):
    code = "care_team_member_not_found"


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


class NoNeedToKnowError(DomainError):
    """The caller would hand over a case whose intake they do not read in full (a
    caseworker outside a labelled case): nobody discloses what they may not read."""

    code = "no_need_to_know"


class BenefitApplicationNotFoundError(NotFoundError):
    """No such benefits application on the case, or no such request or appointment on it."""

    code = "benefit_application_not_found"


class DirectoryServiceNotFoundError(NotFoundError):
    """The directory service the request's path names is not in the caller's directory."""

    code = "directory_service_not_found"


class UnknownDirectoryServiceError(DomainError):
    """A directory service the request's body names is not in the caller's directory: the
    request is refused as it stands (422), the path it was sent to exists."""

    code = "directory_service_not_found"


class DirectoryServiceInactiveError(DomainError):
    """The directory service is listed but deactivated: nothing new is sent to it."""

    code = "directory_service_inactive"
