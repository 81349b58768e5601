"""Referrals: make one and follow it to an outcome (closed loop); the tracker listing."""

from functools import partial
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Query
from fastapi.responses import JSONResponse

from caserecord.access import listed_subjects
from caserecord.api.deps import (
    AtQuery,
    Caller,
    ReaderDep,
    RuntimeDep,
    ViewsDep,
    part_of_case,
    reveal,
    reveal_case,
)
from caserecord.api.openapi import LIST, created, read, written
from caserecord.api.pages import Version, case_page
from caserecord.api.paging import Paging, PagingDep
from caserecord.api.routing import Router
from caserecord.api.schemas.common import CommandOut
from caserecord.api.schemas.provider import ProviderStatusIn
from caserecord.api.schemas.referrals import (
    NeedStatsOut,
    OutcomePage,
    ReferralCompletionIn,
    ReferralDeclineIn,
    ReferralIn,
    ReferralMadeOut,
    ReferralPage,
    ReferralPageOut,
    ReferralRowPage,
    ReferralStepIn,
    ReferralWithdrawalIn,
    ServiceStatsOut,
)
from caserecord.api.writes import Write, WriteDep, extended
from caserecord.domain.values import ReferralStatus
from caserecord.history import reading_day
from caserecord.projections.queries import ReadModels
from caserecord.projections.referrals import open_key, outcome_key, referral_key, stats_key

router = Router(tags=["referrals"])
CASE = "/v1/cases/{case_id}/referrals"


@router.get(
    CASE, response_model=ReferralPage, responses=read("A page of referrals", versioned=True)
)
def list_case_referrals(
    case_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    as_of: AtQuery = None,
    effective_at: AtQuery = None,
) -> dict[str, Any]:
    """The case's referrals, latest made first, each as it stands. `as_of` and
    `effective_at` ask for the referrals standing then, as for the case itself (`/as-of`)."""
    records, limit, before = runtime.records, paging.limit, paging.after(Version)
    return case_page(
        runtime, caller, case_id, "read_referrals", paging,
        now=partial(records.case_referrals, caller.actor, case_id, limit=limit, before=before),
        then=partial(
            records.referral_page, limit=limit, before=before,
            on=reading_day(as_of, effective_at),
        ),
        as_of=as_of, effective_at=effective_at,
    )  # fmt: skip


@router.post(
    CASE,
    status_code=201,
    response_model=ReferralMadeOut,
    responses=created("Made", within=True),
)
def make_referral(case_id: UUID, body: ReferralIn, write: WriteDep) -> JSONResponse:
    """A referral to an outside organisation discloses the case: it is refused with 409
    `consent_required` (and nothing is recorded) when the case's labelled data needs
    consent and none in force covers the organisation, purpose and classes. The answer
    names the disclosure and the redisclosure notice to send with Part 2 data."""
    command = partial(write.records.make_referral, write.actor, case_id, **body.values())
    location = f"/v1/cases/{case_id}/referrals/{{entity_id}}"
    answer = write.run(body, command, status=201, location=location)
    return extended(answer, disclosure=referral_disclosure(write, case_id, answer, body))


def referral_disclosure(
    write: Write, case_id: UUID, answer: JSONResponse, body: ReferralIn
) -> dict[str, Any] | None:
    if body.internal:
        return None
    records, actor = write.records, write.actor
    referral_id = answer.headers["Location"].rsplit("/", 1)[-1]
    client_id = records.client_of_case(actor, case_id)
    return records.get_disclosure(actor, client_id, referral_id=referral_id)


@router.get(
    CASE + "/{referral_id}",
    response_model=ReferralPageOut,
    responses=read("The referral with its status history", versioned=True),
)
def read_referral(
    case_id: UUID, referral_id: str, caller: ReaderDep, runtime: RuntimeDep
) -> JSONResponse:
    """The referral with its status history and the latest 20 notes about it; `expired` is
    worked out as of now for a referral past its deadline."""
    referral = runtime.records.get_referral(caller.actor, case_id, referral_id)
    reveal_case(runtime, caller, "read_referral", case_id)
    return part_of_case(ReferralPageOut, referral)


@router.post(CASE + "/{referral_id}/acceptance", response_model=CommandOut, responses=written())
def accept_referral(
    case_id: UUID, referral_id: str, body: ReferralStepIn, write: WriteDep
) -> JSONResponse:
    """Record that the provider accepted the referral, as staff heard it."""
    command = partial(write.records.accept_referral, write.actor, case_id, referral_id=referral_id)
    return write.run(body, command)


@router.post(CASE + "/{referral_id}/decline", response_model=CommandOut, responses=written())
def decline_referral(
    case_id: UUID, referral_id: str, body: ReferralDeclineIn, write: WriteDep
) -> JSONResponse:
    """Declined by the provider or the client; a reason is required."""
    command = partial(
        write.records.decline_referral,
        write.actor,
        case_id,
        referral_id=referral_id,
        **body.values(),
    )
    return write.run(body, command)


@router.post(CASE + "/{referral_id}/completion", response_model=CommandOut, responses=written())
def complete_referral(
    case_id: UUID, referral_id: str, body: ReferralCompletionIn, write: WriteDep
) -> JSONResponse:
    """Record that the referral was completed, with its coded `outcome`."""
    command = partial(
        write.records.complete_referral,
        write.actor,
        case_id,
        referral_id=referral_id,
        **body.values(),
    )
    return write.run(body, command)


@router.post(CASE + "/{referral_id}/status", response_model=CommandOut, responses=written())
def record_referral_status(
    case_id: UUID, referral_id: str, body: ProviderStatusIn, write: WriteDep
) -> JSONResponse:
    """The provider's answer as the agency heard it (by phone, by letter), for a provider
    without a token of its own: the body of `POST /v1/provider/referrals/{id}/status`."""
    command = partial(
        write.records.record_referral_status,
        write.actor,
        case_id,
        referral_id=referral_id,
        status=body.status,
        outcome=body.outcome or "",
        reason_code=body.reason_code or "",
        note=body.note,
    )
    return write.run(body, command)


@router.post(CASE + "/{referral_id}/withdrawal", response_model=CommandOut, responses=written())
def withdraw_referral(
    case_id: UUID, referral_id: str, body: ReferralWithdrawalIn, write: WriteDep
) -> JSONResponse:
    """Withdraw the referral (a reason is required); a withdrawn referral takes no further
    status."""
    command = partial(
        write.records.withdraw_referral, write.actor, case_id, referral_id=referral_id
    )
    return write.run(body, command)


@router.get("/v1/referrals", response_model=ReferralRowPage, responses=LIST)
def referral_tracker(
    caller: ReaderDep,
    views: ViewsDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    status: ReferralStatus | Literal["expired"] | None = None,
    overdue: bool | None = None,
    organisation: Annotated[str | None, Query(max_length=200)] = None,
    case_id: UUID | None = None,
) -> dict[str, Any]:
    """Referrals of the caller's agency in the order they were made: by status (`expired`:
    awaiting an answer past `respond_by`, as `overdue`), organisation or case."""
    rows = views.referrals(
        caller.agency_id,
        status=status,
        overdue=overdue,
        organisation=organisation,
        case_id=case_id,
        after=paging.after(tuple[str, str]),
        limit=paging.fetch,
    )
    page = paging.page(rows, referral_key)
    reveal(runtime, caller, "list_referrals", listed_subjects(page["items"]))
    return page | {"items": runtime.records.readable_rows(caller.actor, "referral", page["items"])}


@router.get("/v1/referrals/outcomes", response_model=OutcomePage, responses=LIST)
def referral_outcomes(caller: ReaderDep, views: ViewsDep, paging: PagingDep) -> dict[str, Any]:
    """Referrals counted by written status per organisation and resource kind; no client
    data. Referrals marked in error are not counted."""
    rows = views.referral_outcomes(
        caller.agency_id, after=paging.after(tuple[str, str]), limit=paging.fetch
    )
    return paging.page(rows, outcome_key)


@router.get("/v1/referrals/open", response_model=ReferralRowPage, responses=LIST)
def list_open_referrals(
    caller: ReaderDep, views: ViewsDep, runtime: RuntimeDep, paging: PagingDep
) -> dict[str, Any]:
    """Referrals still open (sent, received, waitlisted, accepted, in progress; expired
    ones too, until re-routed), the nearest response deadline first, those without one
    last."""
    rows = views.open_referrals(
        caller.agency_id, after=paging.after(tuple[str, str]), limit=paging.fetch
    )
    page = paging.page(rows, open_key)
    reveal(runtime, caller, "list_open_referrals", listed_subjects(page["items"]))
    return page | {"items": runtime.records.readable_rows(caller.actor, "referral", page["items"])}


@router.get("/v1/referrals/stats/services", response_model=ServiceStatsOut, responses=LIST)
def referral_stats_by_service(
    caller: ReaderDep, views: ViewsDep, paging: PagingDep
) -> dict[str, Any]:
    """Per directory organisation and service: referrals, the median days to accept and
    to complete (over effective times: an entry recorded late counts when it happened),
    and completions by outcome; no client data."""
    return stats_page(views, caller, paging, "service", tuple[str, str, str, str])


@router.get("/v1/referrals/stats/needs", response_model=NeedStatsOut, responses=LIST)
def referral_stats_by_need(caller: ReaderDep, views: ViewsDep, paging: PagingDep) -> dict[str, Any]:
    """As `/v1/referrals/stats/services`, per need served ("" for referrals naming none)."""
    return stats_page(views, caller, paging, "need", tuple[str])


def stats_page(
    views: ReadModels, caller: Caller, paging: Paging, by: str, shape: Any
) -> dict[str, Any]:
    rows = views.referral_stats(caller.agency_id, by, after=paging.after(shape), limit=paging.fetch)
    return paging.page(rows, stats_key(by))
