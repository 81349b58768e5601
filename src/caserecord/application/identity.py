"""Duplicate checks before a client is registered or its number changed."""

from datetime import date
from uuid import UUID

from caserecord.application.base import RecordsBase
from caserecord.domain.errors import (
    ClientNumberTakenError,
    PossibleDuplicateError,
)
from caserecord.domain.recording import Actor
from caserecord.persistence.identity import name_key
from caserecord.presenters import client_to_dict


class IdentityChecks(RecordsBase):
    """Refusals before a client is written: a number taken, a possible namesake."""

    def _check_number_free(self, actor: Actor, number: str, client_id: UUID | None = None) -> None:
        """A client number names one client of the agency."""
        if not isinstance(number, str) or not number.strip():
            return
        taken = self.store.client_identities(actor.agency_id, client_number=number.strip())
        others = [c for c in taken if c != str(client_id)]
        if others:
            raise ClientNumberTakenError(
                f"client number {number.strip()!r} is already client {others[0]}'s",
                client_id=others[0],
            )

    def _check_no_namesake(
        self, actor: Actor, given_name: str, family_name: str, date_of_birth: date | None
    ) -> None:
        """Someone of the agency with the same name and date of birth may be this person."""
        if not isinstance(date_of_birth, date) or not isinstance(given_name, str):
            return
        person = (name_key(given_name), name_key(str(family_name)), date_of_birth.isoformat())
        found = self.store.client_identities(actor.agency_id, person=person)
        if not found:
            return
        candidates = [
            {
                key: client[key]
                for key in ("id", "given_name", "family_name", "date_of_birth", "client_number")
            }
            for client in (client_to_dict(self._client(actor, UUID(i))) for i in found)
        ]
        raise PossibleDuplicateError(
            f"{len(candidates)} client(s) of the agency have this name and date of birth: "
            "if this is another person, register again with confirmed_distinct",
            candidates=candidates,
        )
