"""Pages of a case's long lists (notes, referrals, a goal's progress, tasks, benefits
applications), now or as of a moment."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from caserecord.access import Subject
from caserecord.api.deps import Caller, etag, reveal
from caserecord.api.paging import Paging, encode
from caserecord.api.runtime import Runtime
from caserecord.domain.case import Case
from caserecord.history import page_as_of

PageBody = dict[str, Any]
# A page of a case continues before a version of the case.
Version = Annotated[int, Field(ge=1)]


def case_page(
    runtime: Runtime,
    caller: Caller,
    case_id: UUID,
    action: str,
    paging: Paging,
    *,
    now: Callable[[], PageBody],
    then: Callable[..., PageBody],
    as_of: datetime | None,
    effective_at: datetime | None,
) -> PageBody:
    """``now`` reads the page as the case stands; with a moment on either axis, ``then``
    reads it from the case replayed to that moment, as the caller's reading of the case as
    it stands now (its ``reading``) allows.  The read is logged before it leaves.  Both take
    the version to continue before (from the cursor) and answer ``next_before``."""
    records = runtime.records
    if as_of is None and effective_at is None:
        page = now()
    else:
        reading = records.read_basis(caller.actor, case_id)

        def replayed(case: Case) -> PageBody:
            return then(case, reading=reading)

        page = page_as_of(
            records, caller.actor, case_id, replayed, recorded_at=as_of, effective_at=effective_at
        )
    reveal(
        runtime, caller, action, [Subject(records.client_of_case(caller.actor, case_id), case_id)]
    )
    # Read as the case stands, the page is of one version of the case: its ETag, as a part's
    # own read answers, for If-Match on a write to an item listed. A page as of a moment
    # shows no version a write could go on from.
    version = page.pop("case_version", None)
    if version is not None:
        paging.response.headers.update(etag(version))
    next_before = page.pop("next_before")
    items = page.pop("items")
    cursor = None if next_before is None else encode(next_before)
    return paging.answer(items, cursor, case_id=case_id, **page)
