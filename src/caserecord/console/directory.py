"""The resource directory: the organisations, services and locations the agency (or its
network of agencies) refers clients to, searched by words, need, service kind and area."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from caserecord.console.web import PREFIX, ConsoleDep, ConsoleRoute, PageError, Viewer, ViewerDep

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Text = Annotated[str, Query(max_length=200)]


def directory_reader(viewer: ViewerDep) -> Viewer:
    if not viewer.reads_directory:
        raise PageError(403, "Not for your role", "The directory is for the agency's staff.")
    return viewer


DirectoryReaderDep = Annotated[Viewer, Depends(directory_reader)]


@router.get("/directory")
def directory(
    request: Request,
    console: ConsoleDep,
    viewer: DirectoryReaderDep,
    q: Text = "",
    need: Text = "",
    kind: Text = "",
    area: Text = "",
    inactive: Annotated[str, Query(max_length=3)] = "",
) -> HTMLResponse:
    """Every service of the viewer's directory until a filter is chosen, then those that
    match them all; the choices of need, kind and area are those the directory has."""
    records, actor = console.backend.records, viewer.actor
    every = records.directory_services(actor)
    found = records.directory_services(
        actor,
        q=q.strip() or None,
        need=need or None,
        kind=kind or None,
        area=area or None,
        active=None if inactive else True,
    )
    return console.render(
        request,
        "directory.html",
        viewer,
        services=found,
        total=len(every),
        filtered=bool(q.strip() or need or kind or area),
        form={"q": q, "need": need, "kind": kind, "area": area, "inactive": bool(inactive)},
        choices={
            "need": codes(every, "needs"),
            "kind": codes(every, "kinds"),
            "area": codes(every, "areas"),
        },
        directory_id=records.directory_of(actor.agency_id),
    )


def codes(services: list[dict[str, Any]], field: str) -> list[str]:
    return sorted({code for s in services for code in s["details"][field]}, key=str.casefold)
