"""Standardized instruments: the definitions in force for an agency (shipped ones and its
own), administering one on a case, its scores, and reviewing a safety flag."""

from typing import Any, Unpack
from uuid import UUID

from caserecord.application.base import CommandResult, Options, RecordsBase, new_version
from caserecord.application.need_to_know import NeedToKnow
from caserecord.domain.errors import (
    EntryNotFoundError,
    InstrumentNotFoundError,
)
from caserecord.domain.instrument_registry import InstrumentRegistry
from caserecord.domain.recording import Actor
from caserecord.instruments import Definition, builtin_definitions, parse_definition, score
from caserecord.presenters import score_to_dict


class InstrumentDefinitions(RecordsBase):
    """The definitions in force for an agency: those shipped and its own."""

    def list_instruments(self, actor: Actor) -> list[dict[str, Any]]:
        """Each instrument in force for the agency, at its latest version, by code."""
        found = self._definitions(actor)
        return [summary(versions) for _, versions in sorted(found.items())]

    def get_instrument(self, actor: Actor, code: str) -> dict[str, Any]:
        """The instrument with every version of its definition, oldest first."""
        versions = self._definitions(actor).get(code)
        if not versions:
            raise InstrumentNotFoundError(f"no instrument {code}")
        return summary(versions) | {
            "versions": [d.model_dump(mode="json") | {"origin": o} for o, d in versions]
        }

    def definition_in_force(self, actor: Actor, code: str) -> Definition:
        versions = self._definitions(actor).get(code)
        if not versions:
            raise InstrumentNotFoundError(f"no instrument {code}")
        return versions[-1][1]

    def _definitions(self, actor: Actor) -> dict[str, list[tuple[str, Definition]]]:
        """Code -> (origin, definition) of every version in force for the agency, oldest
        first."""
        found: dict[str, list[tuple[str, Definition]]] = {}
        for d in builtin_definitions():
            found.setdefault(d.code, []).append(("shipped", d))
        for e in self._events(InstrumentRegistry.create_id(actor.agency_id)):
            if isinstance(e, InstrumentRegistry.DefinitionAdded):
                found.setdefault(e.code, []).append(("agency", parse_definition(e.definition)))
        for versions in found.values():
            versions.sort(key=lambda v: v[1].version)
        return found


class InstrumentCommands(InstrumentDefinitions, NeedToKnow):
    """Adding a definition, administering an instrument on a case, its scores and safety
    flags."""

    def add_instrument(
        self, actor: Actor, *, definition: dict[str, Any], **opts: Unpack[Options]
    ) -> CommandResult:
        """An agency's own definition, or a new version of one in force (shipped ones
        included): checked as a shipped one is, and stored as given."""
        d = parse_definition(definition)
        shipped = max((b.version for b in builtin_definitions() if b.code == d.code), default=0)
        stored = d.model_dump(mode="json")
        registry_id = InstrumentRegistry.create_id(actor.agency_id)
        # A lost race (another process opened the agency's registry first) is retried
        # on the registry that won.
        return self._retrying(
            actor,
            registry_id,
            opts,
            lambda: self._registry(actor, opts),
            lambda r: r.add_definition(d.code, d.version, stored, shipped),
            d.code,
        )

    # ---- administrations -----------------------------------------------------------
    def administer_instrument(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        instrument: str,
        respondent: str,
        responses: dict[str, Any],
        context: dict[str, str] | None = None,
        **opts: Unpack[Options],
    ) -> CommandResult:
        """Scored by the definition version in force now; the event keeps that version,
        the responses and what it computed, so a later version never rescores it."""
        d = self.definition_in_force(actor, instrument)
        given = dict(context or {})
        scored = score(d, responses, given)
        answers = dict(responses)
        return self._update_case(
            actor,
            case_id,
            opts,
            lambda c: c.administer_instrument(
                d.code,
                d.version,
                respondent,
                answers,
                given,
                scored.total,
                scored.band,
                scored.flags,
                scored.safety_flags,
                dict(scored.outcome),
            ),
            new_version,
        )

    def case_scores(
        self,
        actor: Actor,
        case_id: UUID,
        *,
        instrument: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """The case's standing administrations (of one instrument, if named), newest
        first, recorded before version ``before``: from the record's entry index."""
        case = self._case(actor, case_id)
        entries = self.entries(case)
        versions = []
        for version, _ in entries.newest("score", instrument, before):
            versions.append(version)
            if len(versions) == limit:
                break
        events = self.events_at(case.id, versions, entries)
        reading = self.reading(actor, case)
        return [reading.entry(score_to_dict(events[v]), str(events[v].actor_id)) for v in versions]

    def get_score(self, actor: Actor, case_id: UUID, version: int) -> dict[str, Any]:
        case = self._case(actor, case_id)
        entries = self.entries(case)
        found = entries.at([version]).get(version)
        if found is None or found.kind != "score" or version in entries.aside:
            raise EntryNotFoundError(f"no standing administration at version {version}")
        event = self.events_at(case.id, [version], entries)[version]
        score = self.reading(actor, case).entry(score_to_dict(event), str(event.actor_id))
        return score | {"case_version": case.version}

    def review_safety_flag(
        self, actor: Actor, case_id: UUID, *, flag_version: int, note: str, **opts: Unpack[Options]
    ) -> CommandResult:
        return self._update_case(
            actor, case_id, opts, lambda c: c.review_safety_flag(flag_version, note)
        )

    def _registry(self, actor: Actor, opts: Options) -> InstrumentRegistry:
        registry_id = InstrumentRegistry.create_id(actor.agency_id)
        found = self._get(InstrumentRegistry, registry_id, None)
        if found is not None:
            return found
        with self._recording(actor, opts):
            return InstrumentRegistry(agency_id=actor.agency_id)


def summary(versions: list[tuple[str, Definition]]) -> dict[str, Any]:
    origin, latest = versions[-1]
    return {
        "code": latest.code,
        "title": latest.title,
        "version": latest.version,
        "origin": origin,
        "versions_in_force": [d.version for _, d in versions],
    }
