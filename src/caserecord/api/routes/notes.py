"""Progress notes and their addenda."""

from functools import partial
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from caserecord.api.commands import WriteDep
from caserecord.api.deps import AtQuery, ReaderDep, RuntimeDep
from caserecord.api.openapi import read, written
from caserecord.api.pages import Version, case_page
from caserecord.api.paging import PagingDep
from caserecord.api.schemas import AddendumIn, CommandOut, NoteIn, NotePage

router = APIRouter(prefix="/v1/cases/{case_id}/notes", tags=["notes"])


@router.get("", response_model=NotePage, responses=read("A page of notes"))
def list_notes(
    case_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    as_of: AtQuery = None,
    effective_at: AtQuery = None,
) -> dict[str, Any]:
    """The case's notes, newest first, each with the addenda still standing. `as_of` and
    `effective_at` ask for the notes standing then, as for the case itself (`/as-of`)."""
    records, limit, before = runtime.records, paging.limit, paging.after(Version)
    return case_page(
        runtime, caller, case_id, "read_notes", paging,
        now=partial(records.case_notes, caller.actor, case_id, limit=limit, before=before),
        then=partial(records.note_page, limit=limit, before=before),
        as_of=as_of, effective_at=effective_at,
    )  # fmt: skip


@router.post("", response_model=CommandOut, responses=written())
def record_note(case_id: UUID, body: NoteIn, write: WriteDep) -> JSONResponse:
    command = partial(write.records.record_note, write.actor, case_id, **body.values())
    return write.run(body, command)


@router.post("/{note_id}/addenda", response_model=CommandOut, responses=written())
def append_addendum(case_id: UUID, note_id: str, body: AddendumIn, write: WriteDep) -> JSONResponse:
    """Notes are never edited: an addendum adds to one."""
    command = partial(
        write.records.append_addendum, write.actor, case_id, note_id=note_id, **body.values()
    )
    return write.run(body, command)
