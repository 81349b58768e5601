"""A case state's notes, addenda and goal progress, read from the record's entry index
(``persistence/entries.py``) rather than kept in the aggregate: those recorded up to the
state's version, less what the state leaves out (``Case.outside``), each standing unless
one of the state's corrections sets it aside."""

from collections.abc import Iterable, Iterator
from uuid import UUID

from caserecord.domain.case import Case
from caserecord.domain.entities import Goal, Recorded
from caserecord.persistence.recorder import CaseRecorder

FIRST_BATCH = 64
LARGEST_BATCH = 2000


class Entries:
    def __init__(
        self,
        recorder: CaseRecorder,
        stream_id: UUID,
        upto: int,
        outside: frozenset[int] = frozenset(),
        aside: Iterable[int] = (),
    ) -> None:
        self.recorder = recorder
        self.stream_id = stream_id
        self.upto = upto
        self.outside = outside
        self.aside = set(aside)
        self._aside_entries: dict[int, Recorded] | None = None
        # Version -> (kind, entity id) of every row handed out: the event read for it must
        # say the same (``RecordsBase.events_at``), or the index was changed behind the
        # service.
        self.indexed: dict[int, tuple[str, str]] = {}

    @classmethod
    def of(cls, recorder: CaseRecorder, case: Case) -> "Entries":
        return cls(recorder, case.id, case.version, case.outside, case.set_aside_versions())

    def newest(
        self, kind: str, entity_id: str | None = None, before: int | None = None
    ) -> Iterator[tuple[int, str]]:
        """(version, entity id) of the standing entries of the kind (on the entity, if
        given) recorded before ``before``, newest first, read lazily: a page of a long
        case stops after the entries it shows."""
        below = self.upto + 1 if before is None else min(before, self.upto + 1)
        batch = FIRST_BATCH
        while below > 1:
            rows = self.recorder.entries_newest(self.stream_id, kind, entity_id, below, batch)
            for version, found, entity in rows:
                if found == kind and version not in self.outside and version not in self.aside:
                    self.indexed[version] = (found, entity)
                    yield version, entity
            if entity_id is None:  # a window of versions, whatever it held
                below -= batch
            elif len(rows) < batch:
                return
            else:
                below = rows[-1][0]
            batch = min(batch * 4, LARGEST_BATCH)

    def notes(self, note_ids: list[str]) -> dict[str, int]:
        """Note id -> the version that recorded it, for those of the ids the state holds
        (standing or set aside)."""
        rows = self.recorder.entries_of(self.stream_id, "note", note_ids, self.upto)
        self.indexed.update((v, ("note", e)) for v, e in rows)
        return {e: v for v, e in rows if v not in self.outside}

    def note(self, note_id: str) -> Recorded | None:
        version = self.notes([note_id]).get(note_id)
        return None if version is None else Recorded(version, "note", note_id)

    def addenda(self, note_ids: list[str]) -> dict[str, list[int]]:
        """Note id -> the versions of its addenda standing, oldest first."""
        found: dict[str, list[int]] = {i: [] for i in note_ids}
        if not note_ids:  # a read transaction with nothing to ask in it
            return found
        for version, note_id in self.recorder.entries_of(
            self.stream_id, "addendum", note_ids, self.upto
        ):
            self.indexed[version] = ("addendum", note_id)
            if version not in self.outside and version not in self.aside:
                found[note_id].append(version)
        return found

    def at(self, versions: Iterable[int]) -> dict[int, Recorded]:
        """The entries at the given versions the state holds (without ``note_version``)."""
        wanted = [v for v in versions if v <= self.upto and v not in self.outside]
        rows = self.recorder.entries_at(self.stream_id, wanted) if wanted else []
        self.indexed.update((v, (kind, entity)) for v, kind, entity in rows)
        return {v: Recorded(v, kind, entity) for v, kind, entity in rows}

    def entry(self, version: int) -> Recorded | None:
        """The entry at ``version`` as a marking needs it: an addendum with its note."""
        if isinstance(version, bool) or not isinstance(version, int):
            return None
        found = self.at([version]).get(version)
        if found is None or found.kind != "addendum":
            return found
        note = self.note(found.entity_id)
        return Recorded(
            version, "addendum", found.entity_id, None if note is None else note.version
        )

    def aside_entries(self) -> dict[int, Recorded]:
        """The entries the state's corrections set aside."""
        if self._aside_entries is None:
            self._aside_entries = self.at(self.aside)
        return self._aside_entries

    def note_count(self, case: Case) -> int:
        """Notes standing."""
        aside = sum(1 for e in self.aside_entries().values() if e.kind == "note")
        return case.notes_recorded - aside

    def progress_count(self, goal: Goal) -> int:
        """Progress entries standing on the goal."""
        aside = self.aside_entries().values()
        return goal.progress - sum(
            1 for e in aside if e.kind == "progress" and e.entity_id == goal.goal_id
        )

    def latest(self, kind: str, count: int | None, entity_id: str | None = None) -> list[int]:
        """Versions of the latest ``count`` (all when None) standing entries, oldest
        first."""
        found: list[int] = []
        for version, _ in self.newest(kind, entity_id):
            found.append(version)
            if count is not None and len(found) == count:
                break
        return found[::-1]

    def concerning(self, kind: str, entity_id: str, count: int) -> dict[str, int]:
        """The latest ``count`` notes standing that concern the goal or referral (``kind``),
        newest first: id -> version."""
        found: dict[str, int] = {}
        for version, note_id in self.newest_concerning(kind, entity_id):
            if len(found) == count:
                break
            found[note_id] = version
        return found

    def newest_concerning(
        self, kind: str, entity_id: str, before: int | None = None
    ) -> Iterator[tuple[int, str]]:
        """(version, note id) of the standing notes that concern the goal or referral,
        recorded before ``before``, newest first, read lazily by the links' key in growing
        batches: notes set aside or outside the state cost a little more, never a scan."""
        upto = self.upto if before is None else min(before - 1, self.upto)
        batch = FIRST_BATCH
        while upto >= 1:
            versions = self.recorder.links_newest(self.stream_id, kind, entity_id, upto, batch)
            wanted = [v for v in versions if v not in self.outside and v not in self.aside]
            notes = self.at(wanted)
            for v in wanted:
                if v in notes:
                    yield v, notes[v].entity_id
            if len(versions) < batch:
                return
            upto, batch = versions[-1] - 1, min(batch * 4, LARGEST_BATCH)

    def latest_notes(self, count: int | None) -> dict[str, int]:
        """The latest ``count`` (all when None) notes standing, oldest first: id -> version."""
        found: list[tuple[str, int]] = []
        for version, note_id in self.newest("note"):
            found.append((note_id, version))
            if count is not None and len(found) == count:
                break
        return dict(reversed(found))
