"""The resource directory: listing, changing, searching, importing and exporting the
services a case manager refers clients to (docs/directory.md, docs/decisions/0022)."""

import time
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any, Unpack
from uuid import uuid4

from caserecord.application.base import CommandResult, Options
from caserecord.application.writes import RETRY_SECONDS, WritePath
from caserecord.domain.directory import (
    DirectoryIndex,
    DirectoryService,
    check_service_id,
    directory_index_id,
    directory_service_id,
)
from caserecord.domain.errors import (
    ConcurrencyConflictError,
    DirectoryServiceInactiveError,
    DirectoryServiceNotFoundError,
    DomainError,
    DuplicateIdError,
    InvalidValueError,
    UnknownDirectoryServiceError,
)
from caserecord.domain.recording import Actor

IMPORT_REASON = "imported from an HSDS directory"


def parse_networks(text: str) -> dict[str, str]:
    """``"north:agency-a,agency-b;south:agency-c"`` -> the network of each agency named."""
    networks: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, members = part.partition(":")
        agencies = [a.strip() for a in members.split(",") if a.strip()]
        if not name.strip() or not agencies:
            raise InvalidValueError(
                f"DIRECTORY_NETWORKS: {part!r} is not network:agency,agency (networks "
                "separated by ;)"
            )
        for agency in agencies:
            if agency in networks:
                raise InvalidValueError(f"DIRECTORY_NETWORKS: {agency} is in two networks")
            networks[agency] = name.strip()
    return networks


def service_to_dict(service: DirectoryService) -> dict[str, Any]:
    return {
        "service_id": service.service_id,
        "directory_id": service.directory_id,
        "active": service.active,
        "details": dict(service.details),
        "version": service.version,
        "listed_at": service.created_on,
        "updated_at": service.modified_on,
    }


def matches(
    service: dict[str, Any],
    q: str | None,
    need: str | None,
    kind: str | None,
    area: str | None,
    active: bool | None,
) -> bool:
    d = service["details"]
    if active is not None and service["active"] != active:
        return False
    if need and need not in d["needs"]:
        return False
    if kind and kind not in d["kinds"]:
        return False
    if area and area.casefold() not in (a.casefold() for a in d["areas"]):
        return False
    if q:
        texts = [d[f] for f in ("name", "organization_name", "description", "eligibility")]
        texts += d["needs"] + d["kinds"] + d["areas"]
        haystack = " ".join(texts).casefold()
        return all(word in haystack for word in q.casefold().split())
    return True


class DirectoryCommands(WritePath):
    """The directory of the caller's agency, or of the network of agencies it belongs to
    (``DIRECTORY_NETWORKS``): every member agency reads and writes the same one."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._networks = parse_networks(self.env.get("DIRECTORY_NETWORKS") or "")

    def directory_of(self, agency_id: str) -> str:
        """The id of the directory the agency uses."""
        network = self._networks.get(agency_id)
        return f"network:{network}" if network else f"agency:{agency_id}"

    # ---- commands ------------------------------------------------------------------
    def list_directory_service(
        self,
        actor: Actor,
        *,
        details: dict[str, Any],
        service_id: str | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """A new service in the directory (its id made here unless given)."""
        service_id = check_service_id(service_id or str(uuid4()))
        directory_id = self.directory_of(actor.agency_id)

        def make() -> DirectoryService:
            if self._service(directory_id, service_id) is not None:
                raise DuplicateIdError(f"directory service {service_id} already exists")
            return DirectoryService.listed(directory_id, service_id, details)

        return self._listing(actor, directory_id, make, opts)

    def update_directory_service(
        self,
        actor: Actor,
        service_id: str,
        *,
        details: dict[str, Any],
        **opts: Unpack[Options],
    ) -> CommandResult:
        return self._update_service(actor, service_id, opts, lambda s: s.update(details))

    def deactivate_directory_service(
        self, actor: Actor, service_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_service(actor, service_id, opts, lambda s: s.deactivate(reason))

    def reactivate_directory_service(
        self, actor: Actor, service_id: str, **opts: Unpack[Options]
    ) -> CommandResult:
        reason = opts.get("reason") or ""
        return self._update_service(actor, service_id, opts, lambda s: s.reactivate(reason))

    def import_directory(
        self, actor: Actor, services: list[tuple[str, dict[str, Any], bool]]
    ) -> dict[str, Any]:
        """``services``: (id, details, active) of each service of an HSDS file.  Each is
        listed, updated (its Updated event names the fields that changed), left as it is,
        or refused with the reason; one refused does not stop the others.  A service the
        file lists twice is refused the second time."""
        summary: dict[str, Any] = {"listed": [], "updated": [], "unchanged": [], "refused": []}
        seen: set[str] = set()
        for service_id, details, active in services:
            if service_id in seen:
                refusal = {"service_id": service_id, "reason": "listed twice in the file"}
                summary["refused"].append(refusal)
                continue
            seen.add(service_id)
            try:
                outcome, changed = self._import_one(actor, service_id, details, active)
            except DomainError as e:
                refusal = {"service_id": service_id, "reason": e.message, "code": e.code}
                summary["refused"].append(refusal)
                continue
            row: dict[str, Any] = {"service_id": service_id}
            if outcome == "updated":
                row["changed"] = changed
            summary[outcome].append(row)
        return summary

    # ---- queries -------------------------------------------------------------------
    def directory_service(self, actor: Actor, service_id: str) -> dict[str, Any]:
        """A service of the caller's directory (:class:`DirectoryServiceNotFoundError`)."""
        return service_to_dict(self._known_service(actor, service_id))

    def directory_services(
        self,
        actor: Actor,
        *,
        q: str | None = None,
        need: str | None = None,
        kind: str | None = None,
        area: str | None = None,
        active: bool | None = None,
    ) -> list[dict[str, Any]]:
        """The caller's directory in the order its services were listed, those matching
        every filter given: ``q``, words all found in the names, description, eligibility
        notes, needs, kinds and areas (any case); ``need``, ``kind``: a code it has;
        ``area``: an area it serves."""
        directory_id = self.directory_of(actor.agency_id)
        index = self._index(directory_id)
        found = (self._service(directory_id, i) for i in (index.service_ids if index else []))
        shown = (service_to_dict(s) for s in found if s is not None)
        return [s for s in shown if matches(s, q, need, kind, area, active)]

    def check_directory_service(self, actor: Actor, service_id: str, field: str) -> dict[str, Any]:
        """The active service a command names in ``field`` (a referral's ``service_id``):
        refused if the caller's directory has no such service (422) or it is inactive
        (409).  What a referral takes from it: ``details["response_days"]``."""
        service = self._service(self.directory_of(actor.agency_id), service_id)
        if service is None:
            raise UnknownDirectoryServiceError(
                f"{field}: {service_id!r} is not a service of the agency's directory",
                service_id=service_id,
            )
        if not service.active:
            raise DirectoryServiceInactiveError(
                f"{field}: directory service {service_id} is inactive: refer elsewhere",
                service_id=service_id,
            )
        return service_to_dict(service)

    def has_service_directory(self, actor: Actor) -> bool:
        """Whether the caller's directory lists any service: referrals are checked against
        it from its first service on (as the staff directory is, ADR 0014)."""
        index = self._index(self.directory_of(actor.agency_id))
        return index is not None and bool(index.service_ids)

    def directory_referral(
        self,
        actor: Actor,
        service_id: str,
        *,
        referred_on: date,
        respond_by: date | None = None,
        field: str = "service_id",
    ) -> dict[str, Any]:
        """What a referral to a directory service takes from it: the organisation and
        service names, and its deadline, ``respond_by`` if given, else ``referred_on`` plus
        the service's response standard (None if it has none: the agency's default then
        applies).  Refused as :meth:`check_directory_service` refuses."""
        service = self.check_directory_service(actor, service_id, field)
        details = service["details"]
        days = details["response_days"]
        if respond_by is None and days is not None:
            respond_by = referred_on + timedelta(days=days)
        return {
            "service_id": service_id,
            "organization_id": details["organization_id"],
            "organisation": details["organization_name"],
            "service_name": details["name"],
            "needs": list(details["needs"]),
            "respond_by": respond_by,
        }

    # ---- internals -----------------------------------------------------------------
    def _import_one(
        self, actor: Actor, service_id: str, details: dict[str, Any], active: bool
    ) -> tuple[str, list[str]]:
        check_service_id(service_id)
        directory_id = self.directory_of(actor.agency_id)
        record_id = directory_service_id(directory_id, service_id)
        opts: Options = {"reason": IMPORT_REASON}
        if self._service(directory_id, service_id) is None:

            def make() -> DirectoryService:
                if self._service(directory_id, service_id) is not None:
                    raise DuplicateIdError(f"directory service {service_id} already exists")
                return DirectoryService.listed(directory_id, service_id, details)

            def listed(service: DirectoryService) -> None:
                if not active:
                    service.deactivate(IMPORT_REASON)

            self._listing(actor, directory_id, make, opts, then=listed)
            return "listed", []
        changed: list[str] = []

        def command(service: DirectoryService) -> None:
            changes = service.changes_to(details)
            changed[:] = sorted(changes)
            if changes:
                service.update(details)
            if active != service.active:
                changed.append("active")
                (service.reactivate if active else service.deactivate)(IMPORT_REASON)

        def load() -> DirectoryService:
            return self._known_service(actor, service_id)

        # Nothing to change is found before saving: no event, no write.
        service = load()
        if not service.changes_to(details) and service.active == active:
            return "unchanged", []
        self._retrying(actor, record_id, opts, load, command, service_id)
        return "updated", changed

    def _listing(
        self,
        actor: Actor,
        directory_id: str,
        make: Callable[[], DirectoryService],
        opts: Options,
        then: Callable[[DirectoryService], None] | None = None,
    ) -> CommandResult:
        """Save a new service with the directory's index in one transaction, retrying
        while other services are listed first."""
        deadline = time.monotonic() + RETRY_SECONDS
        with self._turn(directory_index_id(directory_id)):
            while True:
                try:
                    index = self._index(directory_id)
                    with self._recording(actor, opts):
                        service = make()
                        if then is not None:
                            then(service)
                        if index is None:
                            index = DirectoryIndex(directory_id=directory_id)
                        index.list_service(service.service_id)
                    return self._save(actor, service, opts, service.service_id, also=(index,))
                except ConcurrencyConflictError:
                    if time.monotonic() > deadline:
                        raise

    def _service(self, directory_id: str, service_id: str) -> DirectoryService | None:
        if not isinstance(service_id, str) or not service_id.strip():
            return None
        record_id = directory_service_id(directory_id, service_id)
        service = self._get(DirectoryService, record_id, None)
        if service is None or service.directory_id != directory_id:
            return None
        return service if service.service_id == service_id else None

    def _index(self, directory_id: str) -> DirectoryIndex | None:
        index = self._get(DirectoryIndex, directory_index_id(directory_id), None)
        return index if index is not None and index.directory_id == directory_id else None

    def _known_service(self, actor: Actor, service_id: str) -> DirectoryService:
        service = self._service(self.directory_of(actor.agency_id), service_id)
        if service is None:
            raise DirectoryServiceNotFoundError(f"no directory service {service_id}")
        return service

    def _update_service(
        self,
        actor: Actor,
        service_id: str,
        opts: Options,
        command: Callable[[DirectoryService], None],
    ) -> CommandResult:
        record_id = directory_service_id(self.directory_of(actor.agency_id), service_id)
        return self._retrying(
            actor,
            record_id,
            opts,
            lambda: self._known_service(actor, service_id),
            command,
            service_id,
        )
