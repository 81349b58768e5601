"""A case given to someone outside the agency (an export): what leaves is the entries
within the classes it shares that the exporting user reads in full; the disclosure lists
exactly those, and the record handed over (the case as plain data, or its stored stream
for an offline check) is rebuilt from the disclosure, so the two cannot differ."""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Unpack
from uuid import UUID

from caserecord.application.base import CommandResult, Options, new_id
from caserecord.application.case_view import CaseView
from caserecord.application.disclosures import (
    Disclosing,
    DisclosureCommands,
    merged,
    moment,
)
from caserecord.application.integrity import Integrity
from caserecord.application.need_to_know import INTAKE_FIELDS, blank, entry_version
from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.consent import Channel, data_classes
from caserecord.domain.errors import NoNeedToKnowError
from caserecord.domain.need_to_know import Access
from caserecord.domain.recording import Actor
from caserecord.presenters import event_to_dict

WHOLE = "case"
"""An entry of a disclosure that is the whole case through its version."""
ENTRY = "case_entry"
"""An entry of a disclosure that is the one event its version recorded."""
WITHHELD = "withheld"
"""An entry of a disclosure that is only the place of a version withheld (in a chain
export its stub: topic and stored state's hash), never what it recorded."""


@dataclass(frozen=True)
class Narrowed:
    """What an export of a case at ``version`` carries: the versions that leave, those
    withheld, and the classes of what leaves."""

    case_id: UUID
    version: int
    kept: tuple[int, ...]
    withheld: tuple[int, ...]
    classes: list[str]

    def entries(self) -> list[dict[str, Any]]:
        """The disclosure's entries: the whole case when nothing is withheld, else each
        version, as what leaves or as withheld."""
        stream = str(self.case_id)
        if not self.withheld:
            return [{"stream_id": stream, "version": self.version, "kind": WHOLE}]
        return [
            {"stream_id": stream, "version": v, "kind": WITHHELD if v in self.withheld else ENTRY}
            for v in range(1, self.version + 1)
        ]


def narrowed(
    case: Case,
    events: Iterable[tuple[int, str]],
    about: Mapping[int, int],
    allowed: Collection[str],
    readable: Mapping[int, bool],
) -> Narrowed:
    """What leaves of ``case``: each version (``events``: version and author) whose labels
    are all ``allowed`` and which the exporter reads in full (``readable``); an event about
    another entry (``about``: an addendum's note, a marking's or relabelling's target)
    leaves only with that entry.  The classes are the case's own labels (the export shows
    the program it is from) and those of the versions that leave."""
    withheld: set[int] = set()
    versions = []
    for version, _ in events:
        versions.append(version)
        if not set(case.labels_of(version)) <= set(allowed) or not readable.get(version, True):
            withheld.add(version)
    for version, target in sorted(about.items()):
        if target in withheld:
            withheld.add(version)
    kept = tuple(v for v in versions if v not in withheld)
    classes = merged(case.default_labels, (c for v in kept for c in case.labels_of(v)))
    return Narrowed(case.id, case.version, kept, tuple(sorted(withheld)), classes)


def disclosed_versions(disclosure: Mapping[str, Any]) -> tuple[int, frozenset[int]]:
    """The case version an export's disclosure goes up to and the versions it withheld."""
    entries = disclosure["entries_disclosed"]
    last = max((int(e["version"]) for e in entries), default=0)
    return last, frozenset(int(e["version"]) for e in entries if e["kind"] == WITHHELD)


class CaseExports(DisclosureCommands, CaseView, Integrity):
    """Exports of a case for someone outside the agency, narrowed to what they need."""

    def export_case(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        recipient_kind: str,
        recipient: str,
        purpose: str,
        shares: list[str] | None = None,
        basis: str | None = None,
        consent_id: str = "",
        order_reference: str = "",
        **opts: Unpack[Options],
    ) -> CommandResult:
        """The case record given to someone outside the agency: a disclosure of the case
        at its current version, recorded on the client before the record is handed over;
        ``entity_id`` is the disclosure's id.  ``shares``: the classes it discloses (the
        case's labelled classes if absent; the case's own labels always, as a referral);
        an entry labelled otherwise, or one the exporting user does not read in full (a
        psychotherapy note by someone else), is withheld, and so is an event about it.
        The consent check covers the classes of what leaves."""
        disclosure_id = new_id()
        reason = opts.get("reason") or ""
        client_id = self.client_of_case(actor, case_id)
        self._check_override(actor, basis)
        wanted = None if shares is None else data_classes(shares, "shares")

        disclosing = Disclosing(
            disclosure_id, recipient_kind, recipient, purpose, basis, consent_id,
            order_reference, reason,
        )  # fmt: skip

        def command(client: Client) -> None:
            at, case = moment(opts), self._case(actor, case_id)
            leaving = self.narrowing(actor, case, wanted, at)
            self._disclose(
                client, disclosing, Channel.EXPORT, leaving.classes, leaving.entries(), at,
                str(case_id),
            )  # fmt: skip

        return self._update_client(actor, client_id, opts, command, disclosure_id)

    def narrowing(
        self, actor: Actor, case: Case, shares: list[str] | None, now: datetime
    ) -> Narrowed:
        """What an export of ``case`` by ``actor`` sharing ``shares`` carries."""
        allowed = case.labelled_classes() if shares is None else merged(case.default_labels, shares)
        reading = self.reading(actor, case, now)
        events = [
            event_to_dict(e) for e in self._events(case.id) if e.originator_version <= case.version
        ]
        authored = [(int(e["version"]), str(e["actor"]["id"])) for e in events]
        readable = {v: reading.access(v, author) is Access.FULL for v, author in authored}
        if not readable.get(1, True):
            raise NoNeedToKnowError(
                f"the {actor.role} {actor.id} does not read this case's intake "
                f"(read basis {reading.basis}): its case manager, care team, a supervisor or "
                "a compliance reviewer exports it"
            )
        return narrowed(case, authored, self._subjects(case, events), allowed, readable)

    def exported_case(
        self, actor: Actor, case_id: UUID, disclosure: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The case as an export's disclosure disclosed it: at the version it names,
        without the entries it withheld (nor their labels), whole otherwise."""
        version, withheld = disclosed_versions(disclosure)
        case = self._case(actor, case_id, version)
        data = without(self.case_state(case), withheld, disclosure["data_classes"])
        if withheld:
            # The counts are of every standing note and referral, not only those shown.
            notes = self.entries(case).latest_notes(None).values()
            referrals = case.standing_referral_versions(case.set_aside_versions()).values()
            data["note_count"] -= sum(1 for v in notes if v in withheld)
            data["referral_count"] -= sum(1 for v in referrals if v in withheld)
            tasks = [t for t in case.tasks.values() if not t.in_error]
            data["task_count"] -= sum(1 for t in tasks if t.version in withheld)
        return data

    def exported_stream(
        self, actor: Actor, case_id: UUID, disclosure: Mapping[str, Any], since: int | None
    ) -> dict[str, Any]:
        """The case's stored stream as an export's disclosure disclosed it, for an offline
        check: up to the version it names, each withheld event a stub (still chained and
        proved in the log's tree)."""
        self._case(actor, case_id)
        version, withheld = disclosed_versions(disclosure)
        return self.export_stream(case_id, since, withheld=withheld, upto=version)


def without(data: dict[str, Any], withheld: Collection[int], classes: list[str]) -> dict[str, Any]:
    """A case's plain data without what the withheld versions recorded: the entries they
    made (an addendum in a note too), their labels and markings, and the intake and plans
    when the intake is withheld."""
    if not withheld:
        return data
    found: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
            value = [i for i in value if not made_by(i, withheld)]
        found[key] = value
    found["notes"] = [
        n | {"addenda": [a for a in n["addenda"] if int(a["version"]) not in withheld]}
        for n in found["notes"]
    ]
    if 1 in withheld:
        for field in INTAKE_FIELDS:
            found[field] = blank(data[field])
        found["plans"], found["current_plan"] = [], None
    found["labels"] = list(classes)
    found["entry_labels"] = {
        v: labels for v, labels in data["entry_labels"].items() if int(v) not in withheld
    }
    found["entries_in_error"] = {
        v: by
        for v, by in data["entries_in_error"].items()
        if int(v) not in withheld and int(by) not in withheld
    }
    return found


# Where a part of a case names the version that made it, besides an entry's own fields.
MADE_IN = ("created_in_version", "started_in_version")


def made_by(item: Mapping[str, Any], withheld: Collection[int]) -> bool:
    if "version" in item or "made_in_version" in item:
        return entry_version(item) in withheld
    return any(int(item[k]) in withheld for k in MADE_IN if k in item)
