"""Commands on a client's record."""

from datetime import date
from typing import Any, Unpack
from uuid import UUID

from caserecord.application.base import CommandResult, Options, new_id
from caserecord.application.identity import IdentityChecks
from caserecord.application.writes import WritePath
from caserecord.domain.client import Client
from caserecord.domain.errors import ConcurrencyConflictError
from caserecord.domain.recording import Actor


class ClientCommands(IdentityChecks, WritePath):
    """Registering a client and changing its details and support contacts."""

    def register_client(
        self,
        actor: Actor,
        *,
        given_name: str,
        family_name: str,
        date_of_birth: date | None = None,
        client_number: str = "",
        preferred_language: str = "",
        phone: str = "",
        email: str = "",
        address: str = "",
        confirmed_distinct: bool = False,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """``confirmed_distinct``: the caller says the person is not an existing client of
        the same name and date of birth (a number already taken is refused regardless)."""
        self._check_number_free(actor, client_number)
        if not confirmed_distinct:
            self._check_no_namesake(actor, given_name, family_name, date_of_birth)
        with self._recording(actor, opts):
            client = Client.register(
                agency_id=actor.agency_id,
                given_name=given_name,
                family_name=family_name,
                date_of_birth=date_of_birth,
                client_number=client_number,
                preferred_language=preferred_language,
                phone=phone,
                email=email,
                address=address,
            )
        try:
            return self._save(actor, client, opts)
        except ConcurrencyConflictError:
            # A new client conflicts only on its number: another registration took it first.
            self._check_number_free(actor, client_number)
            raise

    def correct_client_details(
        self, actor: Actor, client_id: UUID, *, changes: dict[str, Any], **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        if "client_number" in changes:
            self._check_number_free(actor, changes["client_number"], client_id)
        return self._update_client(
            actor, client_id, opts, lambda c: c.correct_details(changes, reason)
        )

    def add_support_contact(
        self,
        actor: Actor,
        client_id: UUID,
        *,
        name: str,
        relationship: str,
        phone: str = "",
        email: str = "",
        may_contact: bool = True,
        **opts: Unpack[Options],
    ) -> CommandResult:
        contact_id = new_id()
        return self._update_client(
            actor,
            client_id,
            opts,
            lambda c: c.add_support_contact(
                contact_id, name, relationship, phone, email, may_contact
            ),
            contact_id,
        )

    def remove_support_contact(
        self, actor: Actor, client_id: UUID, *, contact_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_client(
            actor, client_id, opts, lambda c: c.remove_support_contact(contact_id, reason)
        )
