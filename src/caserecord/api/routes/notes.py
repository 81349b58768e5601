"""Progress notes and their addenda."""

from functools import partial
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from caserecord.api.commands import WriteDep
from caserecord.api.openapi import written
from caserecord.api.schemas import AddendumIn, CommandOut, NoteIn

router = APIRouter(prefix="/v1/cases/{case_id}/notes", tags=["notes"])


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
