"""Versions of one case by time: the audit trail view's (stream, version, recorded_at,
effective_at) rows when they are there, and the log for anything the view has not
reached yet, so a lagging or empty view makes a replay slower, never wrong."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from caserecord.application import CaseRecords
from caserecord.domain.base import RecordAggregate
from caserecord.domain.case import Case
from caserecord.history.log import MARKING, decoded_events
from caserecord.projections.audit_trail import StreamTimes
from caserecord.projections.base import envelope, iso


@dataclass(frozen=True)
class Entry:
    """Where one event of a case sits on both time axes."""

    version: int
    recorded_at: str
    effective_at: str
    event_type: str
    target_version: int | None


class StreamIndex:
    """Versions of one case by time: audit-trail rows first, the log for the rest."""

    def __init__(self, records: CaseRecords, case_id: UUID) -> None:
        self.records = records
        self.case_id = case_id
        self.times = StreamTimes(records.store.datastore, case_id)
        self._indexed: int | None = None
        self._tail: list[Entry] | None = None

    @property
    def indexed(self) -> int:
        """The highest version the view holds."""
        if self._indexed is None:
            self._indexed = self.times.top()
        return self._indexed

    @property
    def tail(self) -> list[Entry]:
        """The events the view has not reached yet, from the log."""
        if self._tail is None:
            after = self.indexed or None
            self._tail = [entry(e) for e in decoded_events(self.records, self.case_id, gt=after)]
        return self._tail

    def top(self) -> int:
        return self.tail[-1].version if self.tail else self.indexed

    def version_recorded_by(self, at: datetime) -> int:
        cut = iso(at)
        # The view's top comes in the same query: a version below it was recorded by the
        # cut while the top was not, so no later event can have been either, and the log
        # need not be read for the tail.
        found_top = self.times.recorded_by(cut)
        found = 0
        if found_top is not None:
            found, self._indexed = found_top
            if found < self._indexed:
                return found
        in_tail = [e.version for e in self.tail if e.recorded_at <= cut]
        return in_tail[-1] if in_tail else found

    def effective_prefix(self, known: int, cut: str) -> int:
        """The highest version v such that every event up to v took effect by the cut."""
        first_after = self.times.first_effective_after(min(known, self.indexed), cut)
        if first_after is None:
            first_after = next(
                (e.version for e in self.tail if e.version <= known and e.effective_at > cut),
                None,
            )
        return known if first_after is None else first_after - 1

    def entries(self, after: int, upto: int, cut: str) -> list[Entry]:
        """Entries after ``after`` up to ``upto`` that may apply at the cut: those in
        effect by then and every marking (the rest cannot apply, and a long case has
        thousands of them)."""
        found = [
            Entry(*times)
            for times in self.times.in_effect(after, min(upto, self.indexed), cut, MARKING)
        ]
        return found + [e for e in self.tail if after < e.version <= upto]


def entry(event: RecordAggregate.Event) -> Entry:
    target = event.target_version if isinstance(event, Case.EntryMarkedInError) else None
    return Entry(
        event.originator_version,
        iso(event.timestamp),
        iso(envelope(event)["effective_at"]),
        type(event).__name__,
        target,
    )
