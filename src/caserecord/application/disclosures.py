"""Consents and disclosures: granting and revoking consent, recording what leaves the
agency (checked against the consents in force, in the same transaction as the act), and
the accounting of disclosures replayed from the client's log."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Unpack
from uuid import UUID

from caserecord.application.base import CommandResult, Options, new_id
from caserecord.application.directory import DirectoryCommands
from caserecord.domain.base import RecordAggregate
from caserecord.domain.case import Case
from caserecord.domain.client import DISCLOSURES, Basis, Client, Disclosure
from caserecord.domain.consent import (
    NO_ENDS,
    PART2,
    Channel,
    Consent,
    LegalBasis,
    Purpose,
    consent_to_dict,
    data_classes,
)
from caserecord.domain.errors import (
    DisclosureNotFoundError,
    EntryNotFoundError,
    InvalidValueError,
    OverrideNotAllowedError,
)
from caserecord.domain.recording import Actor
from caserecord.domain.replay import apply_next
from caserecord.domain.values import ResourceKind, Role

ACCOUNTING_YEARS = 6
"""HIPAA 45 CFR 164.528: an accounting covers the six years before the request."""
PART2_YEARS = 3
"""42 CFR 2.25: the list of Part 2 disclosures covers three years."""
EVER = datetime(1900, 1, 1, tzinfo=UTC)

REFERRAL_PURPOSES: dict[str, str] = {
    ResourceKind.MEDICAL: Purpose.TREATMENT,
    ResourceKind.SUPPORT_GROUP: Purpose.TREATMENT,
    ResourceKind.HOUSING: Purpose.HOUSING,
    ResourceKind.GOVERNMENT_BENEFIT: Purpose.BENEFITS,
    ResourceKind.LEGAL: Purpose.LEGAL,
    ResourceKind.EMPLOYMENT: Purpose.EMPLOYMENT,
}
"""A referral's purpose when it names none: from the kind of resource it is to."""


def years_before(moment: datetime, years: int) -> datetime:
    return moment - timedelta(days=365 * years + years // 4)


@dataclass(frozen=True)
class Disclosing:
    """What an act of disclosure names before its command decides what leaves."""

    disclosure_id: str
    recipient_kind: str
    recipient: str
    purpose: str
    basis: str | None
    consent_id: str
    order_reference: str
    reason: str


class DisclosureCommands(DirectoryCommands):
    """Consent and disclosure commands, and the reads of consents and disclosures (a
    referral is checked against the directory it names a service of)."""

    @property
    def referral_response_days(self) -> int:
        """How long a referral that names no ``respond_by`` gives the provider to answer
        (``CASERECORD_REFERRAL_RESPONSE_DAYS``; 14 by default)."""
        configured = self.env.get("REFERRAL_RESPONSE_DAYS") or "14"
        try:
            days = int(configured)
        except ValueError:
            days = 0
        if days < 1:
            raise InvalidValueError(
                "CASERECORD_REFERRAL_RESPONSE_DAYS must be a whole number of days, "
                f"not {configured!r}"
            )
        return days

    @property
    def break_glass_roles(self) -> frozenset[str]:
        """Roles that may disclose without consent in a medical emergency
        (``CASERECORD_BREAK_GLASS_ROLES``, comma separated; supervisors by default)."""
        configured = self.env.get("BREAK_GLASS_ROLES") or Role.SUPERVISOR
        return frozenset(r.strip() for r in configured.split(",") if r.strip())

    # ---- consent ---------------------------------------------------------------------
    def grant_consent(
        self,
        actor: Actor,
        client_id: UUID,
        *,
        recipient_kind: str,
        recipient: str,
        purpose: str,
        data: list[str],
        form_sha256: str,
        effective_from: datetime | None = None,
        expires_on: date | None = None,
        expires_on_event: str = "",
        expires_with_case: UUID | None = None,
        obtained_by: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        """``effective_from``: when the consent takes effect (the grant's effective time
        by default); ``obtained_by``: who obtained it (the actor by default);
        ``expires_on_event`` of the client's case ``expires_with_case``."""
        consent_id = new_id()
        named = expires_with_case
        if named is not None and self.client_of_case(actor, named) != client_id:
            raise InvalidValueError(f"case {named} is not a case of client {client_id}")
        return self._update_client(
            actor,
            client_id,
            opts,
            lambda c: c.grant_consent(
                consent_id,
                recipient_kind,
                recipient,
                purpose,
                data,
                effective_from or moment(opts),
                expires_on,
                expires_on_event,
                form_sha256,
                obtained_by or actor.id,
                str(expires_with_case) if expires_with_case else "",
            ),
            consent_id,
        )

    def revoke_consent(
        self, actor: Actor, client_id: UUID, *, consent_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        """Revoked from the command's effective time: no disclosure under it from then."""
        return self._update_client(
            actor,
            client_id,
            opts,
            lambda c: c.revoke_consent(consent_id, moment(opts), actor.id),
            consent_id,
        )

    def consent_recipients(
        self, actor: Actor, client_id: UUID, consent_id: str
    ) -> list[dict[str, Any]]:
        """Who received data under the consent: each disclosure made under it."""
        consent = self._client(actor, client_id).consent(consent_id)
        return [
            {"disclosure_id": d, "recipient": r, "disclosed_at": at}
            for d, r, at in consent.disclosed_to
        ]

    def consents(
        self,
        actor: Actor,
        client_id: UUID,
        *,
        as_of: datetime | None = None,
        effective_at: datetime | None = None,
        every: bool = False,
    ) -> list[dict[str, Any]]:
        """The consents in force at ``effective_at`` (now, or ``as_of``) as the agency
        knew them at ``as_of`` (now); ``every``: all of them, whatever their status."""
        self._client(actor, client_id)
        client = self.client_as_of(client_id, as_of)
        at = effective_at or as_of or datetime.now(UTC)
        found = [] if client is None else list(client.consents.values())
        ends = {} if client is None else self.consent_ends(client, as_of)
        return [
            consent_to_dict(c, at, ends)
            for c in sorted(found, key=lambda c: c.granted_in)
            if every or c.in_force(at, ends)
        ]

    def consent_ends(self, client: Client, as_of: datetime | None = None) -> dict[str, datetime]:
        """When the event each of the client's consents expires on happened, by the case
        it names (as recorded up to ``as_of``): the effective time of the case's first
        closure. Derived from the case's own events, never written by a person."""
        named = {c.expires_with_case for c in client.consents.values() if c.expires_with_case}
        ends: dict[str, datetime] = {}
        for case_id in named:
            for event in self._events(UUID(case_id)):
                if as_of is not None and event.timestamp > as_of:
                    break
                if isinstance(event, Case.Closed):
                    ends[case_id] = event.effective_at
                    break
        return ends

    def client_as_of(self, client_id: UUID, as_of: datetime | None) -> Client | None:
        """The client as recorded up to ``as_of`` (None: not yet registered then)."""
        client: Client | None = None
        for event in self._events(client_id):
            if as_of is not None and event.timestamp > as_of:
                break
            client = apply_next(client, event)
        return client

    # ---- disclosures ---------------------------------------------------------------
    def record_disclosure(
        self,
        actor: Actor,
        client_id: UUID,
        *,
        recipient_kind: str,
        recipient: str,
        purpose: str,
        channel: str,
        data_classes: list[str],
        entries: list[dict[str, Any]] | None = None,
        basis: str | None = None,
        consent_id: str = "",
        order_reference: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        """A disclosure made outside the system (by phone, letter, in person...): what
        left, by class and by the case entries it came from (their labels are added)."""
        disclosure_id = new_id()
        reason = opts.get("reason") or ""
        named = self._named_entries(actor, client_id, entries or [])
        classes = merged(data_classes, (c for _, labels in named for c in labels))
        if channel == Channel.REFERRAL:
            raise InvalidValueError("a referral records its own disclosure: make the referral")
        self._check_override(actor, basis)

        disclosing = Disclosing(
            disclosure_id, recipient_kind, recipient, purpose, basis, consent_id,
            order_reference, reason,
        )  # fmt: skip

        def command(client: Client) -> None:
            entries = [entry for entry, _ in named]
            self._disclose(client, disclosing, channel, classes, entries, moment(opts))

        return self._update_client(actor, client_id, opts, command, disclosure_id)

    def _disclose(
        self,
        client: Client,
        disclosing: Disclosing,
        channel: str,
        classes: list[str],
        entries: list[dict[str, Any]],
        at: datetime,
        *about: str,
    ) -> None:
        """The consent decision and the disclosure it allows, inside the act's command (a
        refused basis raises before anything is recorded).  ``about``: the case id, and
        the referral's id for a referral."""
        d = disclosing
        decided = client.decide_basis(
            d.recipient, d.purpose, classes, at, d.basis, d.consent_id, d.order_reference,
            d.reason, self.consent_ends(client),
        )  # fmt: skip
        client.record_disclosure(
            d.disclosure_id, d.recipient_kind, d.recipient, d.purpose, channel, classes,
            entries, decided, d.order_reference, at, *about,
        )  # fmt: skip

    def make_referral(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        resource_kind: str,
        organisation: str = "",
        service_name: str = "",
        referral_reason: str = "",
        urgency: str = "routine",
        respond_by: date | None = None,
        internal: bool = False,
        purpose: str | None = None,
        shares: list[str] | None = None,
        basis: str | None = None,
        consent_id: str = "",
        order_reference: str = "",
        organization_id: str = "",
        service_id: str = "",
        need: str = "",
        goal_id: str = "",
        rerouted_from: str = "",
        share_contact: list[str] | None = None,
        preferred_contact: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        """A referral to an outside organisation discloses the case: the classes its
        entries are labelled with (``shares`` narrows them, never below the case's own
        labels), recorded on the client in the same transaction, and refused with
        everything else when no consent in force covers it.  ``internal``: the
        organisation is part of the agency, nothing leaves.  ``respond_by``: the
        directory service's standard, else the agency's default (``referral_response_days``
        after it takes effect) if not given.  ``service_id``: once the agency's directory
        lists a service, it must name an active one, whose names fill in those left empty.
        ``rerouted_from``: a declined or expired referral this one takes the place of.
        ``share_contact`` ("phone", "email") and ``preferred_contact`` (how the client
        prefers to be reached): what of the client's contact the provider is given, only
        as the case manager chooses; the disclosure lists them, and rests on the same basis
        as the rest of the referral (refused with it when no consent covers it)."""
        referral_id = new_id()
        if service_id and self.has_service_directory(actor):
            listed = self.directory_referral(
                actor, service_id, referred_on=moment(opts).date(), respond_by=respond_by
            )
            organisation = organisation or listed["organisation"]
            service_name = service_name or listed["service_name"]
            organization_id = organization_id or listed["organization_id"]
            respond_by = listed["respond_by"]

        def refer(case: Case, contact: dict[str, str]) -> None:
            at = moment(opts)
            deadline = respond_by or at.date() + timedelta(days=self.referral_response_days)
            referral: dict[str, Any] = {
                "referral_id": referral_id,
                "resource_kind": resource_kind,
                "organisation": organisation,
                "service_name": service_name,
                "referral_reason": referral_reason,
                "urgency": urgency,
                "respond_by": deadline,
                "organization_id": organization_id,
                "service_id": service_id,
                "need": need,
                "goal_id": goal_id,
                "contact": contact or None,
            }
            if rerouted_from:
                case.reroute_referral(rerouted_from, at.date(), **referral)
            else:
                case.make_referral(**referral)

        if internal:
            client = self._client(actor, self.client_of_case(actor, case_id))
            contact = shared_contact(client, share_contact or [], preferred_contact)
            return self._update_case(
                actor, case_id, opts, partial(refer, contact=contact), referral_id
            )
        disclosure_id = new_id()
        reason = opts.get("reason") or ""
        purpose = purpose or REFERRAL_PURPOSES.get(resource_kind, Purpose.CARE_COORDINATION)
        self._check_override(actor, basis)
        disclosing = Disclosing(
            disclosure_id, "organisation", organisation, purpose, basis, consent_id,
            order_reference, reason,
        )  # fmt: skip

        def command(case: Case, client: Client) -> None:
            at = moment(opts)
            contact = shared_contact(client, share_contact or [], preferred_contact)
            refer(case, contact)
            classes = referral_classes(case, shares)
            entries: list[dict[str, Any]] = [
                {"stream_id": str(case.id), "version": case.version, "kind": "case"}
            ]
            if contact:  # the client's details at the version that holds them
                entries.append(
                    {
                        "stream_id": str(client.id),
                        "version": client.version,
                        "kind": "contact_details",
                        "fields": list(contact),
                    }
                )
            self._disclose(
                client, disclosing, Channel.REFERRAL, classes, entries, at, str(case.id),
                referral_id,
            )  # fmt: skip

        return self._update_case_and_client(actor, case_id, opts, command, referral_id)

    def _check_override(self, actor: Actor, basis: str | None) -> None:
        if basis == LegalBasis.MEDICAL_EMERGENCY and actor.role not in self.break_glass_roles:
            allowed = ", ".join(sorted(self.break_glass_roles))
            raise OverrideNotAllowedError(
                f"the {actor.role} role may not disclose without consent in an emergency "
                f"(allowed: {allowed})"
            )

    def _named_entries(
        self, actor: Actor, client_id: UUID, entries: list[dict[str, Any]]
    ) -> list[tuple[dict[str, Any], list[str]]]:
        """Each named case entry (a case of this client, a version it has) with its labels."""
        self._client(actor, client_id)
        found = []
        for i, entry in enumerate(entries):
            try:
                case_id, version = UUID(str(entry["case_id"])), entry["version"]
            except (KeyError, ValueError, TypeError):
                raise InvalidValueError(f"entries[{i}] names a case_id and a version") from None
            case = self._case(actor, case_id)
            if case.client_id != client_id:
                raise EntryNotFoundError(f"case {case_id} is not a case of this client")
            if isinstance(version, bool) or not isinstance(version, int):
                raise InvalidValueError(f"entries[{i}].version must be a whole number")
            if not 1 <= version <= case.version:
                raise EntryNotFoundError(f"case {case_id} has no version {version}")
            plain = {"stream_id": str(case_id), "version": version, "kind": "case_entry"}
            found.append((plain, case.labels_of(version)))
        return found

    # ---- the accounting of disclosures ----------------------------------------------
    def disclosures(
        self,
        actor: Actor,
        client_id: UUID,
        *,
        since: datetime | None = None,
        part2: bool = False,
        emergency_only: bool = False,
    ) -> list[dict[str, Any]]:
        """Disclosures of the client's records since ``since`` (six years back, three for
        the Part 2 list), oldest first, each with the consent it rested on as it stood
        then, replayed from the log (not as it stands now)."""
        self._client(actor, client_id)
        now = datetime.now(UTC)
        since = since or years_before(now, PART2_YEARS if part2 else ACCOUNTING_YEARS)
        client: Client | None = None
        rows = []
        for event in self._events(client_id):
            if isinstance(event, DISCLOSURES) and client is not None:
                consent = client.consents.get(event.consent_id)
                ends = self.consent_ends(client, event.timestamp) if consent else {}
                row = disclosure_to_dict(event, consent, ends)
                wanted = event.disclosed_at >= since and (not part2 or PART2 in row["data_classes"])
                if wanted and (row["emergency"] or not emergency_only):
                    rows.append(row)
            client = apply_next(client, event)
        return rows

    def get_disclosure(
        self,
        actor: Actor,
        client_id: UUID,
        disclosure_id: str = "",
        *,
        referral_id: str = "",
    ) -> dict[str, Any]:
        """One disclosure, by its id or by the referral that made it."""
        for row in self.disclosures(actor, client_id, since=EVER):
            if disclosure_id and row["disclosure_id"] == disclosure_id:
                return row
            if referral_id and row["referral_id"] == referral_id:
                return row
        raise DisclosureNotFoundError(f"no disclosure {disclosure_id or referral_id}")

    def get_consent(self, actor: Actor, client_id: UUID, consent_id: str) -> dict[str, Any]:
        client = self._client(actor, client_id)
        consent = client.consent(consent_id)
        return consent_to_dict(consent, datetime.now(UTC), self.consent_ends(client))

    def accounting_start(self, part2: bool) -> datetime:
        """Where an accounting asked for now starts when the request names no date."""
        return years_before(datetime.now(UTC), PART2_YEARS if part2 else ACCOUNTING_YEARS)

    def disclosure_events(self, refs: Iterable[tuple[UUID, int]]) -> list[dict[str, Any]]:
        """Disclosures by (client stream, version), each with its consent as it stood."""
        rows = []
        for stream_id, version in refs:
            event = self.events_at(stream_id, [version])[version]
            if isinstance(event, DISCLOSURES):
                rows.append(disclosure_to_dict(event, None) | {"client_id": stream_id})
        return rows

    def request_accounting(
        self,
        actor: Actor,
        client_id: UUID,
        *,
        since: datetime,
        part2: bool,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """The client's request for the accounting, on the record (the law sets a time
        to answer it)."""
        return self._update_client(
            actor, client_id, opts, lambda c: c.request_accounting(since, part2)
        )


def moment(opts: Options) -> datetime:
    """When the command takes effect: the time it names, else now.  Taken on each attempt
    of the command, never before: a command run again after losing the race to a
    revocation must be checked at a moment the revocation has reached."""
    return opts.get("effective_at") or datetime.now(UTC)


def merged(given: list[str], more: Iterable[str]) -> list[str]:
    found = data_classes(given, "data_classes")
    return found + [c for c in dict.fromkeys(more) if c not in found]


def shared_contact(client: Client, chosen: list[str], preferred: str) -> dict[str, str]:
    """The client's contact details a referral shares: those chosen, as the record holds
    them now (one it does not hold is refused), and how the client prefers to be reached."""
    found: dict[str, str] = {}
    for name in chosen:
        if name not in ("phone", "email"):
            raise InvalidValueError("share_contact names phone or email")
        value = str(getattr(client, name)).strip()
        if not value:
            raise InvalidValueError(f"the client has no {name} to share")
        found[name] = value
    if preferred.strip():
        found["preferred_contact"] = preferred.strip()
    return found


def referral_classes(case: Case, shares: list[str] | None) -> list[str]:
    """What a referral discloses: the case's labelled classes, or those it says it
    shares; the case's own labels always (the referral reveals the program it is from)."""
    if shares is None:
        return case.labelled_classes()
    return merged(case.default_labels, data_classes(shares, "shares"))


def disclosure_to_dict(
    event: Disclosure, consent: Consent | None, ends: Mapping[str, datetime] = NO_ENDS
) -> dict[str, Any]:
    envelope: RecordAggregate.Event = event
    return {
        "disclosure_id": event.disclosure_id,
        "version": event.originator_version,
        "disclosed_at": event.disclosed_at,
        "recorded_at": event.timestamp,
        "recipient_kind": event.recipient_kind,
        "recipient": event.recipient,
        "purpose": event.purpose,
        "channel": event.channel,
        "data_classes": list(event.data_classes),
        "entries_disclosed": list(event.entries),
        "basis": event.basis,
        "emergency": isinstance(event, Client.EmergencyDisclosureRecorded),
        "consent_id": event.consent_id or None,
        "consent_version": event.consent_version or None,
        "consent": None if consent is None else consent_to_dict(consent, event.disclosed_at, ends),
        "order_reference": event.order_reference,
        "notice": event.notice,
        "case_id": event.case_id or None,
        "referral_id": event.referral_id or None,
        "actor": {
            "id": envelope.actor_id,
            "role": envelope.actor_role,
            "agency_id": envelope.actor_agency_id,
        },
        "reason": envelope.reason,
    }


__all__ = ["Basis", "DisclosureCommands"]
