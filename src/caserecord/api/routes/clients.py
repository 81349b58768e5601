"""Clients: register, read, correct, support contacts, search, and who has read them."""

from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query
from fastapi.responses import JSONResponse

from caserecord.access import Subject
from caserecord.api.deps import AuditorDep, ReaderDep, RuntimeDep, ViewsDep, etag, reveal
from caserecord.api.openapi import LIST, READ, created, read, written
from caserecord.api.paging import PagingDep
from caserecord.api.routing import Router
from caserecord.api.schemas.clients import (
    AccessLogPage,
    ClientCorrection,
    ClientOut,
    ClientPage,
    ClientRegistration,
    SupportContactIn,
    SupportContactOut,
    SupportContactRemoval,
)
from caserecord.api.schemas.common import CommandOut, IsoDate
from caserecord.api.writes import CreateDep, WriteDep
from caserecord.projections.client_index import client_key

router = Router(prefix="/v1/clients", tags=["clients"])


@router.post(
    "",
    status_code=201,
    response_model=CommandOut,
    responses=created("Registered"),
)
def register_client(body: ClientRegistration, write: CreateDep) -> JSONResponse:
    """Register a client. A client number is unique in the agency (409 `client_number_taken`);
    another client with the same name and date of birth is 409 `possible_duplicate` unless
    `confirmed_distinct` is true."""
    command = partial(write.records.register_client, write.actor, **body.values())
    return write.run(body, command, status=201, location="/v1/clients/{id}")


@router.get("", response_model=ClientPage, responses=LIST)
def search_clients(
    caller: ReaderDep,
    views: ViewsDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
    date_of_birth: IsoDate | None = None,
    client_number: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    """Find clients of the caller's agency (also the duplicate check before registering),
    by family name, given name."""
    rows = views.search_clients(
        caller.agency_id,
        name=name,
        date_of_birth=date_of_birth,
        client_number=client_number,
        after=paging.after(tuple[str, str, str]),
        limit=paging.fetch,
    )
    page = paging.page(rows, client_key)
    subjects = [Subject(UUID(str(i["client_id"]))) for i in page["items"]]
    reveal(runtime, caller, "search_clients", subjects)
    return page


@router.get(
    "/{client_id}",
    response_model=ClientOut,
    responses=read("The client", versioned=True),
)
def read_client(client_id: UUID, caller: ReaderDep, runtime: RuntimeDep) -> JSONResponse:
    """The client's details and support contacts as they stand, with the client's version as
    ETag (send it as If-Match to correct them)."""
    client = runtime.records.get_client(caller.actor, client_id)
    reveal(runtime, caller, "read_client", [Subject(client_id)])
    body = ClientOut.model_validate(client).model_dump(mode="json")
    return JSONResponse(body, headers=etag(client["version"]))


@router.post("/{client_id}/detail-corrections", response_model=CommandOut, responses=written())
def correct_client_details(
    client_id: UUID, body: ClientCorrection, write: WriteDep
) -> JSONResponse:
    """Correct the client's details (only the fields named in `changes`)."""
    changes = body.changes.model_dump(exclude_unset=True)
    command = partial(write.records.correct_client_details, write.actor, client_id, changes=changes)
    return write.run(body, command)


@router.post(
    "/{client_id}/corrections",
    response_model=CommandOut,
    responses=written(),
    deprecated=True,
)
def correct_client(client_id: UUID, body: ClientCorrection, write: WriteDep) -> JSONResponse:
    """Deprecated name of `POST /v1/clients/{client_id}/detail-corrections`."""
    answer = correct_client_details(client_id, body, write)
    answer.headers["Deprecation"] = "true"
    successor = f"/v1/clients/{client_id}/detail-corrections"
    answer.headers["Link"] = f'<{successor}>; rel="successor-version"'
    return answer


@router.post(
    "/{client_id}/support-contacts",
    status_code=201,
    response_model=CommandOut,
    responses=created("Added", within=True),
)
def add_support_contact(client_id: UUID, body: SupportContactIn, write: WriteDep) -> JSONResponse:
    """Add a person from the client's support network; `may_contact: false` makes a note of a
    contact with them refused (409 `contact_not_permitted`)."""
    command = partial(write.records.add_support_contact, write.actor, client_id, **body.values())
    location = f"/v1/clients/{client_id}/support-contacts/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get(
    "/{client_id}/support-contacts/{contact_id}",
    response_model=SupportContactOut,
    responses=read("The support contact (404 once removed)"),
)
def read_support_contact(
    client_id: UUID, contact_id: str, caller: ReaderDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """One support contact of the client."""
    contact = runtime.records.get_support_contact(caller.actor, client_id, contact_id)
    reveal(runtime, caller, "read_support_contact", [Subject(client_id)])
    return contact


@router.post(
    "/{client_id}/support-contacts/{contact_id}/removal",
    response_model=CommandOut,
    responses=written(),
)
def remove_support_contact(
    client_id: UUID, contact_id: str, body: SupportContactRemoval, write: WriteDep
) -> JSONResponse:
    """Remove a support contact from the client's record (a reason is required)."""
    command = partial(
        write.records.remove_support_contact, write.actor, client_id, contact_id=contact_id
    )
    return write.run(body, command)


@router.get("/{client_id}/access-log", response_model=AccessLogPage, responses=READ)
def client_access_log(
    client_id: UUID, caller: AuditorDep, runtime: RuntimeDep, paging: PagingDep
) -> dict[str, Any]:
    """Who has read this client's records (and its cases'), oldest first: one entry per
    read request, naming every client and case its answer held."""
    runtime.records.get_client(caller.actor, client_id)  # 404 outside the caller's agency
    after = paging.after(int) or 0
    log = runtime.access_log
    entries = log.for_client(caller.agency_id, client_id, after=after, limit=paging.fetch)
    integrity = log.integrity(caller.agency_id, client_id, entries, after=after)
    return paging.page(entries, lambda e: e["entry_id"], client_id=client_id, integrity=integrity)
