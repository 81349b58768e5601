"""Who a request acts for: the staff member its token belongs to, the one a service
account names in ``X-On-Behalf-Of``, or (before the agency has a staff directory, and for
an admin's own token) the token itself.

Once an agency has a staff directory, every event and every access-log entry of its
non-admin requests names a staff member: a token that names none is refused, and an
inactive member's token stops working at once (docs/decisions/0014; with a token cache, a
change made by another process within its time, as a revocation is)."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from caserecord.access import TokenInfo
from caserecord.api.errors import ApiError
from caserecord.application import CaseRecords
from caserecord.domain.recording import Actor
from caserecord.domain.values import Role

ON_BEHALF_OF = "X-On-Behalf-Of"


@dataclass(frozen=True)
class Identity:
    actor: Actor
    staff: dict[str, Any] | None  # the staff member acted for, as the directory has them


def header_problem(code: str, message: str) -> ApiError:
    errors = [{"path": f"header:{ON_BEHALF_OF}", "message": message, "type": code}]
    return ApiError(422, code, message, errors=errors)


def refused(code: str, message: str) -> ApiError:
    return ApiError(403, code, message)


def identify(records: CaseRecords, token: TokenInfo, on_behalf_of: str | None) -> Identity:
    if token.service_account:
        if on_behalf_of is None:
            raise header_problem(
                "on_behalf_of_required",
                f"a service account names the staff member it acts for in {ON_BEHALF_OF}",
            )
        return acting_for(records, token, on_behalf_of, "the staff member named")
    if on_behalf_of is not None:
        raise header_problem(
            "on_behalf_of_not_allowed",
            f"only a service account's token may name another staff member in {ON_BEHALF_OF}",
        )
    if token.staff_id is not None:
        return acting_for(records, token, token.staff_id, "the token's staff member")
    if token.role == Role.PROVIDER:  # an outside organisation: not in the staff directory
        return Identity(Actor(provider_actor_id(token), token.role, token.agency_id), None)
    if token.role != Role.ADMIN and records.has_directory(token.agency_id):
        raise refused(
            "token_not_bound",
            "the agency has a staff directory and this token names no staff member: "
            "an admin issues one for a staff member (or a service account)",
        )
    return Identity(Actor(token.name, token.role, token.agency_id), None)


def acting_for(records: CaseRecords, token: TokenInfo, staff_id: str, who: str) -> Identity:
    staff = records.find_staff(token.agency_id, staff_id)
    if staff is None:
        raise refused("staff_not_found", f"{who}, {staff_id!r}, is not in the staff directory")
    if not staff["active"]:
        raise refused("staff_inactive", f"{who}, {staff_id}, is inactive")
    return Identity(Actor(staff_id, token.role, token.agency_id), staff)


def provider_actor_id(token: TokenInfo) -> str:
    """Who a provider's events say answered: its organisation and the token's name."""
    return f"{token.organization_id}:{token.name}"


class IdentityCache:
    """Who a cached token acts for, kept as long as a token is trusted without asking the
    store (``CASERECORD_TOKEN_CACHE_SECONDS``): the directory's answer was a query and a
    hop to a thread on every request.  A change to the staff directory made through this
    process forgets every answer at once; one made by another process (another worker,
    the CLI) is honoured here within the cache time, as a revocation is.  Only the answers
    that let a request through are kept: a refusal is asked again every time."""

    MAX_KEPT = 10_000

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._kept: dict[tuple[str, str | None], tuple[Identity, float]] = {}
        self._changes = 0  # directory changes seen, so a lookup begun before one is not kept
        self._lock = threading.Lock()

    def get(self, token_id: str, on_behalf_of: str | None) -> Identity | None:
        entry = self._kept.get((token_id, on_behalf_of))
        if entry is None or self.clock() >= entry[1]:
            return None
        return entry[0]

    def changes(self) -> int:
        return self._changes

    def keep(
        self, token_id: str, on_behalf_of: str | None, identity: Identity, changes: int
    ) -> None:
        """``changes``: ``changes()`` as it was before the directory was asked."""
        if self.seconds <= 0:
            return
        with self._lock:
            if changes != self._changes:
                return
            if len(self._kept) >= self.MAX_KEPT:
                self._kept.clear()
            self._kept[(token_id, on_behalf_of)] = (identity, self.clock() + self.seconds)

    def forget(self) -> None:
        with self._lock:
            self._changes += 1
            self._kept.clear()
