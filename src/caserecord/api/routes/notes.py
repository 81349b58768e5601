"""Progress notes and their addenda."""

from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query
from fastapi.responses import JSONResponse

from caserecord.api.deps import (
    AtQuery,
    ReaderDep,
    RuntimeDep,
    VersionPath,
    part_of_case,
    reveal_case,
)
from caserecord.api.openapi import created, read
from caserecord.api.pages import Version, case_page
from caserecord.api.paging import PagingDep
from caserecord.api.routing import Router
from caserecord.api.schemas.common import CommandOut
from caserecord.api.schemas.notes import AddendumIn, AddendumOut, NoteIn, NoteOut, NotePage
from caserecord.api.writes import WriteDep
from caserecord.domain.errors import InvalidValueError

router = Router(prefix="/v1/cases/{case_id}/notes", tags=["notes"])


@router.get("", response_model=NotePage, responses=read("A page of notes", versioned=True))
def list_notes(
    case_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    as_of: AtQuery = None,
    effective_at: AtQuery = None,
    goal_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    referral_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> dict[str, Any]:
    """The case's notes, newest first, each with the addenda still standing; `goal_id` or
    `referral_id`: only the notes that concern it. `as_of` and `effective_at` ask for the
    notes standing then, as for the case itself (`/as-of`)."""
    records, limit, before = runtime.records, paging.limit, paging.after(Version)
    about = concerning(goal_id, referral_id)
    return case_page(
        runtime, caller, case_id, "read_notes", paging,
        now=partial(
            records.case_notes, caller.actor, case_id, limit=limit, before=before,
            concerning=about,
        ),
        then=partial(records.note_page, limit=limit, before=before, concerning=about),
        as_of=as_of, effective_at=effective_at,
    )  # fmt: skip


def concerning(goal_id: str | None, referral_id: str | None) -> tuple[str, str] | None:
    if goal_id is not None and referral_id is not None:
        raise InvalidValueError("notes are filtered by a goal or by a referral, not both")
    if goal_id is not None:
        return ("goal", goal_id)
    return None if referral_id is None else ("referral", referral_id)


@router.post(
    "", status_code=201, response_model=CommandOut, responses=created("Recorded", within=True)
)
def record_note(case_id: UUID, body: NoteIn, write: WriteDep) -> JSONResponse:
    """Record a progress note of a contact (or an attempt) with the client, their support
    network, a provider or within the agency; `goal_ids` and `referral_ids` name what it
    concerns. A correction is an addendum or a marking in error, never an edit."""
    command = partial(write.records.record_note, write.actor, case_id, **body.values())
    location = f"/v1/cases/{case_id}/notes/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get(
    "/{note_id}",
    response_model=NoteOut,
    responses=read("The note with its addenda", versioned=True),
)
def read_note(case_id: UUID, note_id: str, caller: ReaderDep, runtime: RuntimeDep) -> JSONResponse:
    """The note with the addenda still standing (404 once marked in error)."""
    note = runtime.records.get_note(caller.actor, case_id, note_id)
    reveal_case(runtime, caller, "read_note", case_id)
    return part_of_case(NoteOut, note)


@router.post(
    "/{note_id}/addenda",
    status_code=201,
    response_model=CommandOut,
    responses=created("Appended", within=True),
)
def append_addendum(case_id: UUID, note_id: str, body: AddendumIn, write: WriteDep) -> JSONResponse:
    """Notes are never edited: an addendum adds to one. It is known by the case version that
    recorded it (`entity_id`)."""
    command = partial(
        write.records.append_addendum, write.actor, case_id, note_id=note_id, **body.values()
    )
    location = f"/v1/cases/{case_id}/notes/{note_id}/addenda/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get(
    "/{note_id}/addenda/{addendum_id}",
    response_model=AddendumOut,
    responses=read("The addendum", versioned=True),
)
def read_addendum(
    case_id: UUID, note_id: str, addendum_id: VersionPath, caller: ReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """An addendum to a note, known by the case version that recorded it."""
    addendum = runtime.records.get_addendum(caller.actor, case_id, note_id, addendum_id)
    reveal_case(runtime, caller, "read_note", case_id)
    return part_of_case(AddendumOut, addendum)
