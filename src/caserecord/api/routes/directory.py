"""The resource directory (admins and supervisors keep it; everyone reads it) and its
Open Referral HSDS import and export."""

from functools import partial
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from caserecord.api.deps import READERS, Caller, RuntimeDep, allow, etag
from caserecord.api.deps import DirectoryKeeperDep as KeeperDep
from caserecord.api.openapi import BASE, WRITE, Responses, created, ok, read, written
from caserecord.api.paging import PagingDep, bad_cursor
from caserecord.api.routing import Router
from caserecord.api.schemas.common import CommandOut
from caserecord.api.schemas.directory import (
    ImportOut,
    ServiceDetailsIn,
    ServiceIn,
    ServiceOut,
    ServicePage,
    ServiceStatusIn,
)
from caserecord.api.writes import DirectoryListingDep, DirectoryWriteDep
from caserecord.domain.values import Role
from caserecord.hsds import Page, datapackage, hsds_page, import_rows

router = Router(prefix="/v1/directory", tags=["directory"])

# The directory holds no client's data: admins, who keep it, read it too.
DirectoryReaderDep = Annotated[Caller, Depends(allow(*READERS, Role.ADMIN))]
ServicePath = Annotated[
    str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]
CodeQuery = Annotated[str | None, Query(max_length=60, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


@router.get("/services", response_model=ServicePage, responses=BASE)
def list_services(
    caller: DirectoryReaderDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    q: Annotated[str | None, Query(max_length=200, description="Words all found")] = None,
    need: CodeQuery = None,
    kind: CodeQuery = None,
    area: Annotated[str | None, Query(max_length=200, description="An area served")] = None,
    active: Annotated[bool | None, Query(description="Active or inactive only")] = None,
) -> dict[str, Any]:
    """The services of the caller's directory (its agency's, or its network's) in the order
    they were listed, those matching every filter given: `q`, words all found in the names,
    description, eligibility notes, needs, kinds and areas; `need`, `kind`: a code it has;
    `area`: an area it serves (any case)."""
    after = paging.after(int) or 0
    if after < 0:
        raise bad_cursor()
    found = runtime.records.directory_services(
        caller.actor, q=q, need=need, kind=kind, area=area, active=active
    )
    rows = [(i, s) for i, s in enumerate(found, 1)][after : after + paging.fetch]
    page = paging.page(rows, lambda row: row[0])
    page["items"] = [ServiceOut.of(s) for _, s in page["items"]]
    return page


@router.post("/services", status_code=201, response_model=CommandOut, responses=created("Listed"))
def add_service(body: ServiceIn, write: DirectoryListingDep) -> JSONResponse:
    """Admins and supervisors: a new service in the directory."""
    command = partial(
        write.records.list_directory_service,
        write.actor,
        service_id=body.service_id,
        details=body.details(),
    )
    return write.run(body, command, status=201, location="/v1/directory/services/{entity_id}")


@router.get(
    "/services/{service_id}",
    response_model=ServiceOut,
    responses=read("The service", versioned=True),
)
def read_service(
    service_id: ServicePath, caller: DirectoryReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """One service of the resource directory, with its version as ETag."""
    service = runtime.records.directory_service(caller.actor, service_id)
    return JSONResponse(ServiceOut.of(service), headers=etag(service["version"]))


@router.post("/services/{service_id}", response_model=CommandOut, responses=written("Updated"))
def update_service(
    service_id: ServicePath, body: ServiceDetailsIn, write: DirectoryWriteDep
) -> JSONResponse:
    """Admins and supervisors: the service as it is now; its Updated event records the
    fields that changed (409 if none did)."""
    command = partial(
        write.records.update_directory_service, write.actor, service_id, details=body.details()
    )
    return write.run(body, command)


@router.post(
    "/services/{service_id}/deactivation",
    response_model=CommandOut,
    responses=written("Deactivated"),
)
def deactivate_service(
    service_id: ServicePath, body: ServiceStatusIn, write: DirectoryWriteDep
) -> JSONResponse:
    """Admins and supervisors; a reason is required. No new referral goes to it."""
    command = partial(write.records.deactivate_directory_service, write.actor, service_id)
    return write.run(body, command)


@router.post(
    "/services/{service_id}/reactivation",
    response_model=CommandOut,
    responses=written("Reactivated"),
)
def reactivate_service(
    service_id: ServicePath, body: ServiceStatusIn, write: DirectoryWriteDep
) -> JSONResponse:
    """Admins and supervisors; a reason is required."""
    command = partial(write.records.reactivate_directory_service, write.actor, service_id)
    return write.run(body, command)


IMPORTED: Responses = {200: ok("What the import did to each service")}


@router.post("/imports", response_model=ImportOut, responses=IMPORTED | WRITE)
def import_directory(body: Page, caller: KeeperDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Admins and supervisors: an Open Referral HSDS 3.0 page of services (`contents`, as
    `GET /services` of an HSDS API answers). A file that does not match the format is
    refused whole (422, naming the path). Each service is then listed, updated (its
    Updated event names what changed), left as it is (importing the same file again records
    nothing) or refused with its reason; one refused does not stop the others."""
    summary = runtime.records.import_directory(caller.actor, import_rows(body))
    return ImportOut.model_validate(summary).model_dump(mode="json")


DATAPACKAGE = "application/zip"


@router.get(
    "/export",
    responses=BASE
    | {
        200: {
            "description": "The directory in Open Referral HSDS 3.0",
            "content": {"application/json": {}, DATAPACKAGE: {}},
        }
    },
)
def export_directory(
    caller: DirectoryReaderDep,
    runtime: RuntimeDep,
    format: Annotated[
        Literal["json", "datapackage"],
        Query(description="`json`: one HSDS page of services; `datapackage`: CSV files, zipped"),
    ] = "json",
) -> Response:
    """The caller's whole directory, inactive services too (their HSDS status says so)."""
    services = runtime.records.directory_services(caller.actor)
    if format == "json":
        return JSONResponse(hsds_page(services))
    return Response(
        datapackage(services),
        media_type=DATAPACKAGE,
        headers={"Content-Disposition": 'attachment; filename="directory-datapackage.zip"'},
    )
