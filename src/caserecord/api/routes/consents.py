"""Consent and disclosures: a client's consents, what left the agency and on what basis
(the accounting of disclosures, also as CSV), and the break-glass list for review."""

import csv
import io
import json
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from caserecord.access import Subject
from caserecord.api.deps import AtQuery, AuditorDep, ReaderDep, RuntimeDep, ViewsDep, reveal
from caserecord.api.openapi import LIST, created, ok, read, written
from caserecord.api.paging import PagingDep
from caserecord.api.routing import Router
from caserecord.api.schemas.cases import CaseExportOut, CaseOut
from caserecord.api.schemas.common import CommandOut, Moment
from caserecord.api.schemas.consents import (
    AccountingIn,
    AccountingOut,
    BreakGlassPage,
    BreakGlassReadPage,
    ConsentIn,
    ConsentOut,
    ConsentPage,
    DisclosureIn,
    DisclosureMadeOut,
    DisclosureOut,
    DisclosurePage,
    ExportIn,
    RevocationIn,
    RevocationOut,
)
from caserecord.api.writes import WriteDep, extended
from caserecord.application.exports import WITHHELD, disclosed_versions

router = Router(prefix="/v1/clients/{client_id}", tags=["consent"])
review = Router(tags=["consent"])
exports = Router(prefix="/v1/cases/{case_id}", tags=["consent"])

CSV = "text/csv"
CSV_COLUMNS = (
    "disclosed_at",
    "recipient",
    "recipient_kind",
    "purpose",
    "channel",
    "data_classes",
    "entries",
    "basis",
    "consent_id",
    "consent_version",
    "consent_status_then",
    "order_reference",
    "notice_sent",
    "recorded_by",
)


@router.post(
    "/consents",
    status_code=201,
    response_model=CommandOut,
    responses=created("Granted", within=True),
)
def grant_consent(client_id: UUID, body: ConsentIn, write: WriteDep) -> JSONResponse:
    """Record a consent the client signed (the form itself is kept elsewhere; its SHA-256
    is recorded)."""
    command = partial(write.records.grant_consent, write.actor, client_id, **body.values())
    location = f"/v1/clients/{client_id}/consents/{{entity_id}}"
    return write.run(body, command, status=201, location=location)


@router.get("/consents", response_model=ConsentPage, responses=read("The consents in force"))
def list_consents(
    client_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    as_of: AtQuery = None,
    effective_at: AtQuery = None,
    every: Annotated[bool, Query(description="Every consent, whatever its status")] = False,
) -> dict[str, Any]:
    """The consents in force at `effective_at` (or `as_of`, or now), as the agency knew
    them at `as_of` (or now), oldest first."""
    found = runtime.records.consents(
        caller.actor, client_id, as_of=as_of, effective_at=effective_at, every=every
    )
    after = paging.after(int) or 0
    reveal(runtime, caller, "read_consents", [Subject(client_id)])
    rows = [c for c in found if c["granted_in"] > after]
    at = effective_at or as_of or datetime.now(UTC)
    return paging.page(rows, lambda c: c["granted_in"], client_id=client_id, at=at)


@router.get(
    "/consents/{consent_id}",
    response_model=ConsentOut,
    responses=read("The consent as it stands"),
)
def read_consent(
    client_id: UUID, consent_id: str, caller: ReaderDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """One consent of the client: its terms, its status and, once revoked, by whom and when."""
    consent = runtime.records.get_consent(caller.actor, client_id, consent_id)
    reveal(runtime, caller, "read_consent", [Subject(client_id)])
    return consent


@router.post(
    "/consents/{consent_id}/revocation",
    response_model=RevocationOut,
    responses=written("Revoked: no disclosure under it from its effective time"),
)
def revoke_consent(
    client_id: UUID, consent_id: str, body: RevocationIn, write: WriteDep
) -> JSONResponse:
    """Revoke the consent at once (or from `effective_at`); the answer lists who received
    data under it, so they can be told."""
    command = partial(write.records.revoke_consent, write.actor, client_id, consent_id=consent_id)
    answer = write.run(body, command)
    recipients = write.records.consent_recipients(write.actor, client_id, consent_id)
    return extended(answer, disclosed_to=recipients)


@router.post(
    "/disclosures",
    status_code=201,
    response_model=DisclosureMadeOut,
    responses=created("Recorded", within=True),
)
def record_disclosure(client_id: UUID, body: DisclosureIn, write: WriteDep) -> JSONResponse:
    """Record what left the agency outside the system (by phone, letter, in person...).
    Refused with 409 `consent_required` when the data needs consent and none in force
    covers it; the answer carries the redisclosure notice to send with Part 2 data."""
    command = partial(write.records.record_disclosure, write.actor, client_id, **body.values())
    location = f"/v1/clients/{client_id}/disclosures/{{entity_id}}"
    answer = write.run(body, command, status=201, location=location)
    made = answer.headers["Location"].rsplit("/", 1)[-1]
    disclosure = write.records.get_disclosure(write.actor, client_id, made)
    return extended(answer, disclosure=disclosure)


@router.get(
    "/disclosures",
    response_model=DisclosurePage,
    responses=read("The accounting of disclosures")
    | {200: ok("The accounting of disclosures") | {"content": {CSV: {}}}},
)
def list_disclosures(
    request: Request,
    client_id: UUID,
    caller: ReaderDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    since: Annotated[
        Moment | None, Query(description="From; six years back (three with `part2`)")
    ] = None,
    part2: Annotated[bool, Query(description="Only disclosures of Part 2 data")] = False,
    format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
) -> Any:
    """The accounting of disclosures, oldest first: date, recipient, purpose, what, the
    legal basis and the consent as it stood then. As CSV with `format=csv` or
    `Accept: text/csv`."""
    start = since or runtime.records.accounting_start(part2)
    rows = runtime.records.disclosures(caller.actor, client_id, since=start, part2=part2)
    after = paging.after(int) or 0
    reveal(runtime, caller, "read_disclosures", [Subject(client_id)])
    page = paging.page(
        [r for r in rows if r["version"] > after],
        lambda r: r["version"],
        client_id=client_id,
        since=start,
        part2=part2,
    )
    wants_csv = format == "csv" or (format is None and CSV in request.headers.get("accept", ""))
    if wants_csv:
        headers = {k: v for k, v in paging.response.headers.items() if k != "content-length"}
        return Response(as_csv(page["items"]), media_type=CSV, headers=headers)
    return page


@router.get(
    "/disclosures/{disclosure_id}",
    response_model=DisclosureOut,
    responses=read("The disclosure, with the consent as it stood then"),
)
def read_disclosure(
    client_id: UUID, disclosure_id: str, caller: ReaderDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """One disclosure of the client's data: to whom, why, on what basis and what it carried."""
    disclosure = runtime.records.get_disclosure(caller.actor, client_id, disclosure_id)
    reveal(runtime, caller, "read_disclosure", [Subject(client_id)])
    return disclosure


@router.post(
    "/accounting-requests",
    response_model=AccountingOut,
    responses=written("The request recorded, and the accounting it asked for"),
)
def request_accounting(client_id: UUID, body: AccountingIn, write: WriteDep) -> JSONResponse:
    """The client (or someone on their behalf) asks for the accounting of disclosures:
    the request is recorded on the client, and the accounting answered."""
    records, actor = write.records, write.actor
    since = body.since or records.accounting_start(body.part2)
    command = partial(records.request_accounting, actor, client_id, since=since, part2=body.part2)
    answer = write.run(body, command)
    rows = records.disclosures(actor, client_id, since=since, part2=body.part2)
    reveal(write.runtime, write.caller, "read_disclosures", [Subject(client_id)])
    return extended(answer, since=since, part2=body.part2, disclosures=rows)


@exports.post(
    "/exports",
    response_model=CaseExportOut,
    responses=written("The disclosure recorded, and the case as disclosed"),
)
def export_case(case_id: UUID, body: ExportIn, write: WriteDep) -> JSONResponse:
    """The case record for someone outside the agency (a court, another provider),
    narrowed to the classes it `shares`: the disclosure is recorded on the client first,
    checked against the consents in force as a referral is (409 `consent_required`, and
    nothing is handed over), then the case is answered as the disclosure lists it: an
    entry labelled outside `shares`, or one the exporting user does not read in full, is
    withheld from both."""
    records, actor = write.records, write.actor
    command = partial(records.export_case, actor, case_id, **body.values())
    answer = write.run(body, command)
    client_id = records.client_of_case(actor, case_id)
    made = json.loads(bytes(answer.body))["entity_id"]
    disclosure = records.get_disclosure(actor, client_id, made)
    case = records.exported_case(actor, case_id, disclosure)
    reveal(write.runtime, write.caller, "export_case", [Subject(client_id, case_id)])
    withheld = sorted(disclosed_versions(disclosure)[1])
    return extended(
        answer, disclosure=disclosure, case=CaseOut.model_validate(case), withheld=withheld
    )


@review.get("/v1/break-glass", response_model=BreakGlassPage, responses=LIST)
def list_break_glass_disclosures(
    caller: AuditorDep, views: ViewsDep, runtime: RuntimeDep, paging: PagingDep
) -> dict[str, Any]:
    """Every disclosure made without consent in an emergency ("break the glass"), across
    the agency in recording order, for compliance review."""
    rows = views.audit_trail(
        caller.agency_id,
        event_type="EmergencyDisclosureRecorded",
        after=paging.after(int),
        limit=paging.fetch,
    )
    refs = [(UUID(str(r["stream_id"])), int(r["version"])) for r in rows]
    found = runtime.records.disclosure_events(refs)
    items = [d | {"position": r["position"]} for d, r in zip(found, rows, strict=True)]
    page = paging.page(items, lambda d: d["position"])
    reveal(runtime, caller, "read_break_glass", [Subject(d["client_id"]) for d in page["items"]])
    return page


@review.get("/v1/break-glass/reads", response_model=BreakGlassReadPage, responses=LIST)
def list_break_glass_reads(
    caller: AuditorDep, views: ViewsDep, runtime: RuntimeDep, paging: PagingDep
) -> dict[str, Any]:
    """Every break-glass read of a case (`POST /v1/cases/{id}/break-glass`): who, why and
    for how long, across the agency in recording order, for compliance review; what was
    read in each window is in the access log, under basis `break_glass`."""
    rows = views.audit_trail(
        caller.agency_id,
        event_type="BreakGlassOpened",
        after=paging.after(int),
        limit=paging.fetch,
    )
    refs = [(UUID(str(r["stream_id"])), int(r["version"])) for r in rows]
    found = runtime.records.break_glass_events(refs)
    items = [
        d | {"position": r["position"], "client_id": r["client_id"]}
        for d, r in zip(found, rows, strict=True)
    ]
    page = paging.page(items, lambda d: d["position"])
    subjects = [Subject(d["client_id"], d["case_id"]) for d in page["items"]]
    reveal(runtime, caller, "read_break_glass_reads", subjects)
    return page


def as_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        consent = r["consent"] or {}
        writer.writerow(
            [
                r["disclosed_at"].isoformat(),
                r["recipient"],
                r["recipient_kind"],
                r["purpose"],
                r["channel"],
                " ".join(r["data_classes"]),
                " ".join(
                    f"{e['stream_id']}@{e['version']}"
                    for e in r["entries_disclosed"]
                    if e["kind"] != WITHHELD
                ),
                r["basis"],
                r["consent_id"] or "",
                r["consent_version"] or "",
                consent.get("status", ""),
                r["order_reference"],
                "yes" if r["notice"] else "no",
                r["actor"]["id"],
            ]
        )
    return out.getvalue()
