"""Reads of a record as plain data: the client, the case, and one part of it by its id."""

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from caserecord.application.need_to_know import NeedToKnow, Reading, blank, placeholder
from caserecord.domain.case import Case
from caserecord.domain.entities import Goal, Plan
from caserecord.domain.errors import (
    EntryNotFoundError,
    GoalNotFoundError,
    NoteNotFoundError,
    PlanNotFoundError,
    ReferralNotFoundError,
    SupportContactNotFoundError,
)
from caserecord.domain.need_to_know import PSYCHOTHERAPY, Access
from caserecord.domain.recording import Actor
from caserecord.persistence.chain import MissingEventsError
from caserecord.presenters import (
    RECENT,
    Contents,
    case_to_dict,
    client_to_dict,
    contents_of,
    event_to_dict,
    goal_to_dict,
    plain,
    plan_to_dict,
    progress_to_dict,
    referral_to_dict,
    score_progress,
    score_target,
    score_to_dict,
    shown_versions,
    utc_today,
)


class CaseView(NeedToKnow):
    """A client, a case, or one part of a case, as plain data. A part names the version
    of the case it was read from (``case_version``), which its read answers as ETag."""

    def get_client(self, actor: Actor, client_id: UUID) -> dict[str, Any]:
        return client_to_dict(self._client(actor, client_id))

    def get_case(self, actor: Actor, case_id: UUID, version: int | None = None) -> dict[str, Any]:
        """The case as plain data; refused as incomplete when its hash chain links events
        the store no longer has (a tail cut behind the service), or while the views have
        quarantined its stream at or before the version read."""
        # The chain first: a write landing meanwhile makes the case newer, never older.
        chained = self.store.chain_head(case_id) if version is None else 0
        case = self._case(actor, case_id, version)
        if case.version < chained:
            raise MissingEventsError(case_id, list(range(case.version + 1, chained + 1)))
        self.refuse_quarantined(case_id, case.version)
        reading = self.reading(actor, case if version is None else self._case(actor, case_id))
        return self.case_state(case, reading=reading)

    # ---- one part of a record, by its id (where a creating POST's Location points) ------
    def get_support_contact(self, actor: Actor, client_id: UUID, contact_id: str) -> dict[str, Any]:
        contact = self._client(actor, client_id).support_contacts.get(contact_id)
        if contact is None or contact.removed_in is not None:
            raise SupportContactNotFoundError(f"no current support contact {contact_id}")
        data: dict[str, Any] = plain(contact)
        return data

    def get_assessment(self, actor: Actor, case_id: UUID, version: int) -> dict[str, Any]:
        """The needs rated by the assessment recorded in that case version."""
        case = self._case(actor, case_id)
        rated = [plain(a) for a in case.assessments if a.version == version and not a.in_error]
        if not rated:
            raise EntryNotFoundError(f"no standing assessment at version {version} of the case")
        reading = self.reading(actor, case)
        found = {"version": version, "assessments": [reading.entry(a) for a in rated]}
        return found | {"case_version": case.version}

    def get_prior_treatment(self, actor: Actor, case_id: UUID, version: int) -> dict[str, Any]:
        case = self._case(actor, case_id)
        found = [plain(t) for t in case.prior_treatments if t.version == version and not t.in_error]
        if not found:
            raise EntryNotFoundError(f"no standing prior treatment at version {version}")
        return self.reading(actor, case).entry(found[0]) | {"case_version": case.version}

    def get_plan(self, actor: Actor, case_id: UUID, plan_id: str) -> dict[str, Any]:
        """The plan with its versions, status history and goals (each goal's latest
        progress)."""
        case = self._case(actor, case_id)
        plan = standing_plan(case, plan_id)
        entries = self.entries(case)
        goals = [g for g in case.goals.values() if g.plan_id == plan_id and not g.in_error]
        progress = {g.goal_id: entries.latest("progress", RECENT, g.goal_id) for g in goals}
        contents = Contents(
            {}, {}, 0, progress, {g.goal_id: entries.progress_count(g) for g in goals}
        )
        shown = [v for versions in progress.values() for v in versions]
        found = plan_to_dict(case, plan, self.events_at(case.id, shown), contents, False)
        return self.reading(actor, case).plan(found) | {"case_version": case.version}

    def readable_current_plan(
        self, actor: Actor, case_id: UUID, plan: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The current plan as its read model holds it, as the reader's need to know
        allows: what it says as the version of it the row holds, each goal as the
        versions that set it, its latest progress as its own."""
        if plan is None:
            return None
        case = self._case(actor, case_id)
        reading = self.reading(actor, case)
        versions = {
            v.number: v.version
            for p in case.plans
            if p.plan_id == plan["plan_id"]
            for v in p.versions
        }
        shown = dict(plan)
        made_in = versions.get(plan["version_number"])
        if made_in is None or reading.access(made_in, None) is not Access.FULL:
            shown |= {k: blank(plan[k]) for k in ("title", "activities", "rationale")}
        goals = []
        for goal in plan["goals"]:
            found = case.goals.get(goal["goal_id"])
            set_in = [] if found is None else [r.version for r in found.revisions]
            if not set_in or any(reading.access(v, None) is not Access.FULL for v in set_in):
                goals.append(placeholder(goal) | {"latest_progress": None})
            elif goal.get("latest_progress"):
                goals.append(goal | {"latest_progress": reading.entry(goal["latest_progress"])})
            else:
                goals.append(goal)
        return shown | {"goals": goals}

    def get_plan_version(
        self, actor: Actor, case_id: UUID, plan_id: str, number: int
    ) -> dict[str, Any]:
        case = self._case(actor, case_id)
        plan = standing_plan(case, plan_id)
        for version in plan.versions:
            if version.number == number and not version.in_error:
                found = self.reading(actor, case).entry(plain(version))
                return found | {"case_version": case.version}
        raise EntryNotFoundError(f"plan {plan_id} has no standing version {number}")

    def get_goal(self, actor: Actor, case_id: UUID, goal_id: str) -> dict[str, Any]:
        """The goal with its revisions and its latest progress (pages hold the rest)."""
        case = self._case(actor, case_id)
        goal = standing_goal(case, goal_id)
        entries = self.entries(case)
        progress = entries.latest("progress", RECENT, goal_id)
        events = self.events_at(case.id, progress, entries)
        target = score_target([r for r in goal.revisions if not r.in_error][-1])
        scores = self.goal_scores(case, target) if target else []
        reading = self.reading(actor, case)
        found = goal_to_dict(goal, progress, entries.progress_count(goal), events, scores)
        notes = list(entries.concerning("goal", goal_id, RECENT))
        notes_of = self.notes_of(case, notes, reading)
        return reading.goal(found) | {"notes": notes_of, "case_version": case.version}

    def goal_scores(self, case: Case, target: dict[str, Any]) -> list[dict[str, Any]]:
        """The latest administrations of the instrument a goal targets, oldest first, each
        as progress towards the target."""
        entries = self.entries(case)
        versions = entries.latest("score", RECENT, target["instrument"])
        events = self.events_at(case.id, versions, entries)
        return [score_progress(target, score_to_dict(events[v])) for v in versions]

    def get_progress(
        self, actor: Actor, case_id: UUID, goal_id: str, version: int
    ) -> dict[str, Any]:
        case = self._case(actor, case_id)
        standing_goal(case, goal_id)
        entries = self.entries(case)
        found = entries.at([version]).get(version)
        if (
            found is None
            or found.kind != "progress"
            or found.entity_id != goal_id
            or version in entries.aside
        ):
            raise EntryNotFoundError(f"goal {goal_id} has no standing progress at {version}")
        event = self.events_at(case.id, [version], entries)[version]
        entry = self.reading(actor, case).entry(progress_to_dict(event), str(event.actor_id))
        return entry | {"case_version": case.version}

    def get_referral(self, actor: Actor, case_id: UUID, referral_id: str) -> dict[str, Any]:
        """The referral as made, with its status history and the latest notes that concern
        it."""
        case = self._case(actor, case_id)
        version = case.standing_referral_versions(case.set_aside_versions()).get(referral_id)
        if version is None:
            raise ReferralNotFoundError(f"no referral {referral_id} on this case")
        events = self.events_at(case.id, [version])
        reading = self.reading(actor, case)
        found = reading.entry(
            referral_to_dict(case.referrals[referral_id], events, utc_today()),
            str(events[version].actor_id),
        )
        concerning = self.entries(case).concerning("referral", referral_id, RECENT)
        notes = self.notes_of(case, list(concerning), reading)
        return found | {"notes": notes, "case_version": case.version}

    def get_note(self, actor: Actor, case_id: UUID, note_id: str) -> dict[str, Any]:
        """The note with its addenda still standing."""
        case = self._case(actor, case_id)
        found = self.entries(case).note(note_id)
        if found is None or found.version in case.set_aside_versions():
            raise NoteNotFoundError(f"no note {note_id} on this case")
        note = self.notes_of(case, [note_id])[0]
        author = self._author(case, found.version)
        shown = self.readable_note(self.reading(actor, case), note, author)
        return shown | {"case_version": case.version}

    def get_addendum(
        self, actor: Actor, case_id: UUID, note_id: str, version: int
    ) -> dict[str, Any]:
        note = self.get_note(actor, case_id, note_id)
        for addendum in note["addenda"]:
            if addendum["version"] == version:
                return dict(addendum) | {"case_version": note["case_version"]}
        raise EntryNotFoundError(f"note {note_id} has no standing addendum at version {version}")

    def case_state(
        self,
        case: Case,
        *,
        every: bool = False,
        read: Mapping[int, Any] | None = None,
        reading: Reading | None = None,
        on: date | None = None,
    ) -> dict[str, Any]:
        """A case as plain data with its latest notes, referrals and goal progress (pages
        hold the rest; ``every`` shows all referrals and progress, as a diff needs).
        ``on``: the day the read is about (an "as of" read's), today unless given.
        ``read``: events of the case already read, by version, not read again;
        ``reading``: the reader's, whose need to know redacts it (none: read whole)."""
        read = read or {}
        entries = self.entries(case)
        contents = contents_of(case, entries, every=every)
        wanted = shown_versions(case, contents, every=every)
        events = {v: read[v] for v in wanted if v in read}
        events |= self.events_at(case.id, [v for v in wanted if v not in events], entries)
        data = case_to_dict(case, events, contents, every=every, on=on)
        if reading is None:
            return data
        authors = {v: str(e.actor_id) for v, e in events.items()}
        return reading.case(data, authors | self._authors(case, reading))

    def _authors(self, case: Case, reading: Reading) -> dict[int, str]:
        """Who recorded the intake: a psychotherapy label on it needs its author."""
        return {1: self._author(case, 1)} if PSYCHOTHERAPY in reading.labels_of(1) else {}

    def _author(self, case: Case, version: int) -> str:
        return str(self.events_at(case.id, [version])[version].actor_id)

    def standing_notes(self, case: Case) -> dict[str, tuple[int, ...]]:
        """Each note standing in the state -> its addenda standing (every one: a diff
        compares them)."""
        entries = self.entries(case)
        notes = entries.latest_notes(None)
        addenda = entries.addenda(list(notes))
        return {i: tuple(addenda[i]) for i in notes}

    def latest_progress(self, case: Case, goal_id: str) -> int | None:
        """The version of the goal's latest progress standing in the state, if any."""
        return next((v for v, _ in self.entries(case).newest("progress", goal_id)), None)

    def case_events(self, actor: Actor, case_id: UUID) -> list[dict[str, Any]]:
        """Every event of the case and of its client, in recording order."""
        case = self._case(actor, case_id)
        reading = self.reading(actor, case)
        events = [*self._events(case.client_id), *self._events(case_id)]
        timeline = [event_to_dict(e) for e in sorted(events, key=lambda e: e.timestamp)]
        # An event about another entry (an addendum, a task on a note, a marking, a
        # relabelling) is read as that entry is too.
        about = self._subjects(case, [e for e in timeline if e["stream_id"] == case_id])
        return [
            reading.event(e, about.get(int(e["version"]))) if e["stream_id"] == case_id else e
            for e in timeline
        ]


def standing_plan(case: Case, plan_id: str) -> Plan:
    for plan in case.plans:
        if plan.plan_id == plan_id and not plan.in_error:
            return plan
    raise PlanNotFoundError(f"no plan {plan_id} on this case")


def standing_goal(case: Case, goal_id: str) -> Goal:
    goal = case.goals.get(goal_id)
    plans = {p.plan_id for p in case.plans if not p.in_error}
    if goal is None or goal.in_error or goal.plan_id not in plans:
        raise GoalNotFoundError(f"no goal {goal_id} on this case")
    return goal
