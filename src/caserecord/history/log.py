"""What every history read starts from: the stream's events from the log, decoded so
that a damaged one is named, never failing the read anonymously, and the checks of
tenancy and times."""

from datetime import datetime
from uuid import UUID

from caserecord.application import CaseRecords
from caserecord.domain.base import RecordAggregate
from caserecord.domain.errors import InvalidValueError
from caserecord.domain.recording import Actor
from caserecord.persistence.decoding import decoded

MARKING = "EntryMarkedInError"


def check_time(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise InvalidValueError(f"{name} must include a timezone offset")


def check_access(records: CaseRecords, actor: Actor, case_id: UUID) -> UUID:
    """Tenancy from the case's first event alone (cheap even for a long case): the case's
    client; another agency's case is not found."""
    return records.client_of_case(actor, case_id)


def decoded_events(
    records: CaseRecords, stream_id: UUID, *, gt: int | None = None, lte: int | None = None
) -> list[RecordAggregate.Event]:
    """The stream's events from the log; one that cannot be decoded is named by its
    stream and version (``UnreadableEventError``: a 500 ``record_unreadable``)."""
    stored = records.recorder.select_events(stream_id, gt=gt, lte=lte)
    events = [decoded(records.mapper, s) for s in stored]
    return [e for e in events if isinstance(e, RecordAggregate.Event)]
