"""Standardized instruments: the definitions in force, administering one on a case, its
scores, a client's trend, and the safety flags due."""

from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import Path, Query
from fastapi.responses import JSONResponse

from caserecord.access import Subject, listed_subjects
from caserecord.api.deps import (
    CatalogueReaderDep,
    ReaderDep,
    RuntimeDep,
    VersionPath,
    ViewsDep,
    part_of_case,
    reveal,
    reveal_case,
)
from caserecord.api.openapi import LIST, created, read, written
from caserecord.api.pages import Version
from caserecord.api.paging import PagingDep
from caserecord.api.routing import Router
from caserecord.api.schemas.common import CommandOut
from caserecord.api.schemas.instruments import (
    AdministrationIn,
    InstrumentIn,
    InstrumentOut,
    InstrumentPage,
    SafetyFlagPage,
    SafetyFlagReviewIn,
    ScoreOut,
    ScorePage,
    ScoreTrendPage,
)
from caserecord.api.writes import RegisterWriteDep, WriteDep
from caserecord.projections.scores import score_key

router = Router(tags=["instruments"])
CASE = "/v1/cases/{case_id}/scored-assessments"
Code = Annotated[str, Path(max_length=40, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
CodeQuery = Annotated[str | None, Query(max_length=40, description="An instrument's code")]


@router.get("/v1/instruments", response_model=InstrumentPage, responses=LIST)
def list_instruments(
    caller: CatalogueReaderDep, runtime: RuntimeDep, paging: PagingDep
) -> dict[str, Any]:
    """The instruments in force for the agency (shipped and its own), by code, each at the
    version new administrations use."""
    after = paging.after(str)
    found = runtime.records.list_instruments(caller.actor)
    rows = [i for i in found if after is None or i["code"] > after][: paging.fetch]
    return paging.page(rows, lambda i: i["code"])


@router.get(
    "/v1/instruments/{code}",
    response_model=InstrumentOut,
    responses=read("The instrument with every version of its definition"),
)
def read_instrument(code: Code, caller: CatalogueReaderDep, runtime: RuntimeDep) -> dict[str, Any]:
    """An instrument with every version of its definition: items, options, scoring and
    bands."""
    return runtime.records.get_instrument(caller.actor, code)


@router.post(
    "/v1/instruments", status_code=201, response_model=CommandOut, responses=created("Added")
)
def add_instrument(body: InstrumentIn, write: RegisterWriteDep) -> JSONResponse:
    """Add an agency definition, or a new version of one in force (admins)."""
    command = partial(write.records.add_instrument, write.actor, definition=body.definition)
    return write.run(body, command, status=201, location="/v1/instruments/{entity_id}")


@router.post(
    CASE, status_code=201, response_model=CommandOut, responses=created("Scored", within=True)
)
def administer_instrument(case_id: UUID, body: AdministrationIn, write: WriteDep) -> JSONResponse:
    """Scored by the definition version in force; incomplete or out-of-range responses are
    refused (422) naming the `item`. A safety flag is due on the case at once."""
    command = partial(write.records.administer_instrument, write.actor, case_id, **body.values())
    return write.run(
        body, command, status=201, location=f"{CASE.format(case_id=case_id)}/{{entity_id}}"
    )


@router.get(CASE, response_model=ScorePage, responses=read("A page of administrations"))
def list_case_scores(
    case_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    instrument: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """The case's administrations (of one instrument, if named), newest first."""
    scores = runtime.records.case_scores(
        caller.actor, case_id, instrument=instrument, before=paging.after(Version),
        limit=paging.fetch,
    )  # fmt: skip
    reveal_case(runtime, caller, "read_scores", case_id)
    return paging.page(scores, lambda s: s["version"], case_id=case_id)


@router.get(
    CASE + "/{score_id}",
    response_model=ScoreOut,
    responses=read("One administration with its responses and score", versioned=True),
)
def read_score(
    case_id: UUID, score_id: VersionPath, caller: ReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """A scored assessment, known by the case version that recorded it: responses, total,
    band and flags."""
    score = runtime.records.get_score(caller.actor, case_id, score_id)
    reveal_case(runtime, caller, "read_score", case_id)
    return part_of_case(ScoreOut, score)


@router.post(
    "/v1/cases/{case_id}/safety-flags/{flag_version}/review",
    response_model=CommandOut,
    responses=written("Reviewed"),
)
def review_safety_flag(
    case_id: UUID, flag_version: VersionPath, body: SafetyFlagReviewIn, write: WriteDep
) -> JSONResponse:
    """Record what was done about a safety flag: it is no longer due."""
    command = partial(
        write.records.review_safety_flag, write.actor, case_id, flag_version=flag_version,
        note=body.note,
    )  # fmt: skip
    return write.run(body, command)


@router.get(
    "/v1/clients/{client_id}/scores",
    response_model=ScoreTrendPage,
    responses=read("A page of the client's scores"),
)
def client_scores(
    client_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    views: ViewsDep,
    paging: PagingDep,
    instrument: CodeQuery = None,
) -> dict[str, Any]:
    """The client's scores across all its cases (on one `instrument`: its trend), in the
    order they were given."""
    runtime.records.get_client(caller.actor, client_id)  # 404 outside the caller's agency
    rows = views.client_scores(
        caller.agency_id, client_id, instrument,
        after=paging.after(tuple[str, str, int]), limit=paging.fetch,
    )  # fmt: skip
    rows = runtime.records.scores_as_read(caller.actor, rows, client_id)
    page = paging.page(rows, score_key, client_id=client_id, instrument=instrument)
    subjects = [Subject(client_id, r["case_id"]) for r in page["items"]] or [Subject(client_id)]
    reveal(runtime, caller, "read_client_scores", subjects)
    return page


@router.get("/v1/safety-flags", response_model=SafetyFlagPage, responses=LIST)
def list_safety_flags(
    caller: ReaderDep,
    views: ViewsDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    case_manager_id: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Safety flags not yet reviewed in the agency (or of one case manager), oldest first:
    the case managers' due items."""
    rows = views.safety_flags(
        caller.agency_id, case_manager_id=case_manager_id,
        after=paging.after(tuple[str, str, int]), limit=paging.fetch,
    )  # fmt: skip
    page = paging.page(runtime.records.scores_as_read(caller.actor, rows), score_key)
    reveal(runtime, caller, "list_safety_flags", listed_subjects(page["items"]))
    return page
