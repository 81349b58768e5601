"""Pages of a case's notes, referrals and goal progress, cut by version (keyset)."""

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from caserecord.application.need_to_know import NeedToKnow, Reading
from caserecord.domain.case import Case
from caserecord.domain.errors import (
    GoalNotFoundError,
    InvalidValueError,
)
from caserecord.domain.recording import Actor
from caserecord.presenters import (
    progress_to_dict,
    referral_to_dict,
    utc_today,
)

T = TypeVar("T")


class Pages(NeedToKnow):
    """Pages of what a case accumulates, newest first."""

    def case_notes(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        limit: int,
        before: int | None = None,
        version: int | None = None,
        concerning: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """A page of the case's notes, newest first, each with its addenda (``concerning``:
        only those about that ("goal" or "referral", id))."""
        case = self._case(actor, case_id, version)
        reading = self.reading(actor, case if version is None else self._case(actor, case_id))
        page = self.note_page(
            case, limit=limit, before=before, concerning=concerning, reading=reading
        )
        return page | {"read_basis": reading.basis, "case_version": case.version}

    def case_referrals(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        limit: int,
        before: int | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """A page of the case's referrals, latest made first, each as it stands."""
        case = self._case(actor, case_id, version)
        reading = self.reading(actor, case if version is None else self._case(actor, case_id))
        page = self.referral_page(case, limit=limit, before=before, reading=reading)
        return page | {"case_version": case.version}

    def goal_progress(
        self,
        actor: Actor,
        case_id: UUID,
        goal_id: str,
        *,
        limit: int,
        before: int | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """A page of the progress recorded on a goal, newest first."""
        case = self._case(actor, case_id, version)
        reading = self.reading(actor, case if version is None else self._case(actor, case_id))
        page = self.progress_page(case, goal_id, limit=limit, before=before, reading=reading)
        return page | {"case_version": case.version}

    def note_page(
        self,
        case: Case,
        *,
        limit: int,
        before: int | None = None,
        concerning: tuple[str, str] | None = None,
        reading: Reading | None = None,
    ) -> dict[str, Any]:
        """Notes recorded before version ``before`` (all when None), newest first; with
        ``concerning`` ("goal" or "referral", id), only those about it.

        The record's entry index says which notes the case holds; their text is read from
        its events, so a page costs the same however long the case."""
        entries = self.entries(case)
        # Lazily from the newest: a page of a long case stops after limit + 1 notes.
        found = (
            entries.newest("note", before=before)
            if concerning is None
            else entries.newest_concerning(*concerning, before=before)
        )
        newest = ((i, v) for v, i in found)
        page, next_before = keyset_page(newest, lambda item: item[1], limit, before)
        return {
            "items": self.notes_of(case, [note_id for note_id, _ in page], reading),
            "note_count": entries.note_count(case),
            "next_before": next_before,
        }

    def referral_page(
        self,
        case: Case,
        *,
        limit: int,
        before: int | None = None,
        reading: Reading | None = None,
        on: date | None = None,
    ) -> dict[str, Any]:
        """Referrals made before version ``before`` (all when None), latest first, each as
        it stands on day ``on`` (today unless given: whether it has expired);
        ``reading``: the reader's, whose need to know redacts them (none: read whole)."""
        standing = case.standing_referral_versions(case.set_aside_versions())
        newest = reversed(standing.items())
        page, next_before = keyset_page(newest, lambda item: item[1], limit, before)
        events = self.events_at(case.id, [v for _, v in page])
        day = on or utc_today()
        items = [referral_to_dict(case.referrals[i], events, day) for i, _ in page]
        if reading is not None:
            items = [
                reading.entry(r, str(events[v].actor_id))
                for r, (_, v) in zip(items, page, strict=True)
            ]
        return {
            "items": items,
            "referral_count": len(standing),
            "next_before": next_before,
        }

    def progress_page(
        self,
        case: Case,
        goal_id: str,
        *,
        limit: int,
        before: int | None = None,
        reading: Reading | None = None,
    ) -> dict[str, Any]:
        """Progress on the goal recorded before version ``before``, newest first;
        ``reading``: the reader's, whose need to know redacts it (none: read whole)."""
        goal = case.goals.get(goal_id)
        if goal is None or goal.in_error:
            raise GoalNotFoundError(f"no goal {goal_id} on this case")
        entries = self.entries(case)
        newest = (v for v, _ in entries.newest("progress", goal_id, before))
        page, next_before = keyset_page(newest, lambda v: v, limit, before)
        events = self.events_at(case.id, page, entries)
        items = [progress_to_dict(events[v]) for v in page]
        if reading is not None:
            items = [
                reading.entry(p, str(events[v].actor_id)) for p, v in zip(items, page, strict=True)
            ]
        return {
            "goal_id": goal_id,
            "items": items,
            "progress_count": entries.progress_count(goal),
            "next_before": next_before,
        }


def keyset_page(
    newest_first: Iterable[T], version_of: Callable[[T], int], limit: int, before: int | None
) -> tuple[list[T], int | None]:
    """Newest first, those recorded before version ``before``, and the ``before`` of the
    next page (None on the last): stable while entries are added, since a page is cut by
    version, not by offset."""
    if limit < 1:
        raise InvalidValueError(f"limit must be at least 1 (got {limit})")
    chosen: list[T] = []
    for item in newest_first:
        if before is not None and version_of(item) >= before:
            continue
        chosen.append(item)
        if len(chosen) > limit:  # one more than asked says whether a page follows
            break
    page = chosen[:limit]
    return page, version_of(page[-1]) if len(chosen) > limit else None
