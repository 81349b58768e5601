"""The provider's side of a referral: an outside organisation's inbox of the referrals sent
to it, and its answers (received, accepted, waitlisted, declined, in progress, completed).
A provider token is bound to its organisation; every other route refuses it."""

from functools import partial
from typing import Any

from fastapi.responses import JSONResponse

from caserecord.access import listed_subjects
from caserecord.api.deps import Caller, CurrentViewsDep, ProviderDep, RuntimeDep, reveal
from caserecord.api.openapi import LIST, read, written
from caserecord.api.paging import PagingDep
from caserecord.api.routing import Router
from caserecord.api.schemas.common import CommandOut
from caserecord.api.schemas.provider import (
    ProviderReferralOut,
    ProviderReferralPage,
    ProviderStatusIn,
)
from caserecord.api.writes import ProviderWriteDep
from caserecord.domain.errors import ReferralNotFoundError
from caserecord.projections.queries import ReadModels
from caserecord.projections.referrals import PROVIDER_FIELDS, referral_key

router = Router(prefix="/v1/provider/referrals", tags=["provider"])


def organisation_of(caller: Caller) -> str:
    organization_id = caller.token.organization_id
    assert organization_id, "a provider token always names its organisation"
    return organization_id


def shared(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in PROVIDER_FIELDS}


def sent_to(views: ReadModels, caller: Caller, referral_id: str) -> dict[str, Any]:
    row = views.provider_referral(caller.agency_id, organisation_of(caller), referral_id)
    if row is None:  # another organisation's referral looks like none at all
        raise ReferralNotFoundError(f"no referral {referral_id} sent to you")
    return row


@router.get("", response_model=ProviderReferralPage, responses=LIST)
def provider_inbox(
    caller: ProviderDep, views: CurrentViewsDep, runtime: RuntimeDep, paging: PagingDep
) -> dict[str, Any]:
    """The referrals sent to the token's organisation, in the order they were made: only
    what each referral shares (the service, need, urgency, deadline and status)."""
    rows = views.provider_referrals(
        caller.agency_id,
        organisation_of(caller),
        after=paging.after(tuple[str, str]),
        limit=paging.fetch,
    )
    page = paging.page(rows, referral_key)
    reveal(runtime, caller, "provider_inbox", listed_subjects(page["items"]))
    page["items"] = [shared(r) for r in page["items"]]
    return page


@router.get(
    "/{referral_id}",
    response_model=ProviderReferralOut,
    responses=read("The referral as it is shared with the provider"),
)
def provider_referral(
    referral_id: str, caller: ProviderDep, views: CurrentViewsDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """One referral sent to the token's organisation, with only what it shares (another
    organisation's is 404)."""
    row = sent_to(views, caller, referral_id)
    reveal(runtime, caller, "provider_read_referral", listed_subjects([row]))
    return shared(row)


@router.post(
    "/{referral_id}/status", response_model=CommandOut, responses=written(reads_views=True)
)
def answer_referral(
    referral_id: str, body: ProviderStatusIn, write: ProviderWriteDep, views: CurrentViewsDep
) -> JSONResponse:
    """The provider's answer, recorded on the case with the provider as its actor. Only
    the next steps a referral allows are taken (409 `invalid_transition` otherwise);
    `completed` names an `outcome`, `declined` a `reason_code`."""
    row = sent_to(views, write.caller, referral_id)
    command = partial(
        write.records.answer_referral,
        write.actor,
        row["case_id"],
        organization_id=organisation_of(write.caller),
        referral_id=referral_id,
        status=body.status,
        outcome=body.outcome or "",
        reason_code=body.reason_code or "",
        note=body.note,
    )
    return write.run(body, command)
