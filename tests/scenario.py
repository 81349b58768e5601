"""The core scenario: one case from intake to reopening, scripted through ``CaseRecords``.

Reused by the integration, projection and HTTP tests.  ``run_core_scenario`` records the case
and returns its ids together with the expected key fields of the case at every version, so a
test can compare ``key_fields(app.get_case(actor, case_id, version=v))`` with
``result.expected[v]`` for each ``v``.
"""

import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from caserecord.application import CaseRecords, CommandResult
from caserecord.domain.recording import Actor

NEW_MANAGER = "worker-2"


@dataclass(frozen=True)
class ScenarioResult:
    client_id: UUID
    case_id: UUID
    plan_id: str
    sobriety_goal_id: str
    housing_goal_id: str
    housing_referral_id: str
    declined_referral_id: str
    kept_note_id: str
    erroneous_note_id: str
    # The case version each named step produced, e.g. steps["closed"].
    steps: dict[str, int]
    # Expected key_fields() of the case at each version, 1..final_version.
    expected: dict[int, dict[str, Any]]
    # Notification positions of the case's events, by case version.
    positions: dict[int, int] = field(default_factory=dict)

    @property
    def final_version(self) -> int:
        return max(self.expected)


def key_fields(case: dict[str, Any]) -> dict[str, Any]:
    """The fields of a ``get_case`` result the scenario's expectations speak about."""
    plan = case["current_plan"]
    return {
        "version": case["version"],
        "status": case["status"],
        "case_manager_id": case["case_manager_id"],
        "assessment_count": len(case["assessments"]),
        "prior_treatment_count": len(case["prior_treatments"]),
        "plan": None
        if plan is None
        else {
            "status": plan["status"],
            "version_number": plan["version_number"],
            "title": plan["title"],
            "activity_count": len(plan["activities"]),
        },
        "goals": {}
        if plan is None
        else {
            g["goal_id"]: {"lifecycle": g["lifecycle"], "achievement": g["achievement"]}
            for g in plan["goals"]
        },
        "referrals": {r["referral_id"]: r["status"] for r in case["referrals"]},
        "note_count": case["note_count"],
        "addendum_count": sum(len(n["addenda"]) for n in case["notes"]),
        "entries_in_error": dict(case["entries_in_error"]),
    }


class _Script:
    """Applies each command and writes down what the case should look like afterwards."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self.expected: dict[int, dict[str, Any]] = {}
        self.steps: dict[str, int] = {}
        self.positions: dict[int, int] = {}

    def step(self, name: str, result: CommandResult, **changes: Any) -> CommandResult:
        version = len(self.expected) + 1
        if result.version != version:
            raise AssertionError(f"step {name!r} made version {result.version}, not {version}")
        self.state.update(changes)
        self.state["version"] = version
        self.expected[version] = copy.deepcopy(self.state)
        self.steps[name] = version
        self.positions[version] = result.position
        return result

    def goal(self, goal_id: str, **changes: Any) -> dict[str, Any]:
        goals: dict[str, Any] = copy.deepcopy(self.state["goals"])
        goals[goal_id] = goals.get(goal_id, {}) | changes
        return goals

    def referral(self, referral_id: str, status: str) -> dict[str, str]:
        referrals: dict[str, str] = self.state["referrals"]
        return referrals | {referral_id: status}


def entity(result: CommandResult) -> str:
    if result.entity_id is None:
        raise AssertionError("the command should have returned the new entity's id")
    return result.entity_id


def run_core_scenario(app: CaseRecords, actor: Actor, supervisor: Actor) -> ScenarioResult:
    """Record the whole scenario; ``actor`` does the casework, ``supervisor`` the transfer,
    the correction, the closure and the reopening.  Both must belong to the same agency."""
    s = _Script()
    client_id = app.register_client(
        actor,
        given_name="Maria",
        family_name="Lopez",
        date_of_birth=date(1984, 5, 17),
        client_number="C-2001",
        preferred_language="es",
    ).id

    # A late entry: the intake interview happened two days before it was typed in.
    opened = app.open_case(
        actor,
        client_id=client_id,
        specialty="social_work",
        referral_source="county court",
        presenting_needs=["alcohol use", "housing instability"],
        interview_summary="Requests help with sobriety and stable housing.",
        case_manager_id=actor.id,
        effective_at=datetime.now(UTC) - timedelta(days=2),
    )
    case_id = opened.id
    s.step(
        "opened",
        opened,
        status="open",
        case_manager_id=actor.id,
        assessment_count=0,
        prior_treatment_count=0,
        plan=None,
        goals={},
        referrals={},
        note_count=0,
        addendum_count=0,
        entries_in_error={},
    )

    s.step(
        "needs_assessed",
        app.assess_needs(
            actor,
            case_id,
            assessments=[
                {"domain": "therapeutic", "level": "high", "notes": "daily drinking"},
                {
                    "domain": "psycho_social",
                    "level": "moderate",
                    "instrument": "AUDIT",
                    "score": 24,
                },
            ],
        ),
        assessment_count=2,
    )
    s.step(
        "prior_treatment_reviewed",
        app.review_prior_treatment(
            actor,
            case_id,
            treatment="Outpatient detox",
            provider="St. Mary's",
            started_on=date(2022, 1, 10),
            ended_on=date(2022, 3, 1),
            outcome="relapsed after six weeks",
            effectiveness=2,
        ),
        prior_treatment_count=1,
    )

    routines = [
        {"activity": "AA meeting", "cadence": "weekly", "time": "19:00"},
        {"activity": "Breathalyser check-in", "cadence": "daily", "time": "08:00"},
    ]
    drafted = app.draft_plan(
        actor,
        case_id,
        title="Recovery plan",
        activities=routines,
        next_review_on=date(2027, 3, 1),
    )
    plan_id = entity(drafted)
    plan = {
        "status": "draft",
        "version_number": 1,
        "title": "Recovery plan",
        "activity_count": 2,
    }
    s.step("plan_drafted", drafted, plan=plan)

    added = app.add_goal(
        actor,
        case_id,
        plan_id=plan_id,
        description="Stay sober",
        need_domain="therapeutic",
        target_measure="90 days without alcohol",
        due_on=date(2027, 6, 1),
    )
    sobriety = entity(added)
    s.step(
        "sobriety_goal_added",
        added,
        goals=s.goal(sobriety, lifecycle="proposed", achievement=None),
    )
    added = app.add_goal(
        actor,
        case_id,
        plan_id=plan_id,
        description="Find stable housing",
        need_domain="psycho_social",
        target_measure="signed lease",
    )
    housing = entity(added)
    s.step(
        "housing_goal_added",
        added,
        goals=s.goal(housing, lifecycle="proposed", achievement=None),
    )

    s.step(
        "plan_activated",
        app.change_plan_status(actor, case_id, plan_id=plan_id, action="activate"),
        plan=plan | {"status": "active"},
    )
    for goal_id, name in ((sobriety, "sobriety_goal_active"), (housing, "housing_goal_active")):
        s.step(
            name,
            app.change_goal_lifecycle(actor, case_id, goal_id=goal_id, lifecycle="active"),
            goals=s.goal(goal_id, lifecycle="active"),
        )
    s.step(
        "sobriety_progress",
        app.record_goal_progress(
            actor,
            case_id,
            goal_id=sobriety,
            achievement="improving",
            measured_value="21 days",
            note="two meetings a week",
        ),
        goals=s.goal(sobriety, achievement="improving"),
    )

    made = app.make_referral(
        actor,
        case_id,
        resource_kind="housing",
        organisation="City Housing Trust",
        service_name="Supported tenancy",
        referral_reason="homeless since March",
        urgency="urgent",
        respond_by=date(2027, 1, 15),
    )
    housing_referral = entity(made)
    s.step(
        "housing_referral_made",
        made,
        referrals=s.referral(housing_referral, "sent"),
    )
    s.step(
        "housing_referral_accepted",
        app.accept_referral(actor, case_id, referral_id=housing_referral),
        referrals=s.referral(housing_referral, "accepted"),
    )
    made = app.make_referral(
        actor,
        case_id,
        resource_kind="support_group",
        organisation="Harbour Recovery",
        service_name="Women's peer group",
    )
    declined_referral = entity(made)
    s.step(
        "support_referral_made",
        made,
        referrals=s.referral(declined_referral, "sent"),
    )
    s.step(
        "support_referral_declined",
        app.decline_referral(
            actor,
            case_id,
            referral_id=declined_referral,
            declined_by="client",
            reason="prefers a group nearer home",
        ),
        referrals=s.referral(declined_referral, "declined"),
    )

    noted = app.record_note(
        actor,
        case_id,
        text="Home visit: client sober, flat cold and damp.",
        contact_kind="client",
        contact_mode="in_person",
        present=["client", "sister"],
    )
    kept_note = entity(noted)
    s.step("note_recorded", noted, note_count=1)
    s.step(
        "addendum_appended",
        app.append_addendum(
            actor, case_id, note_id=kept_note, text="Sister agreed to help with the move."
        ),
        addendum_count=1,
    )
    noted = app.record_note(
        actor,
        case_id,
        text="Phoned about court date.",
        contact_kind="client",
        contact_mode="phone",
    )
    erroneous_note = entity(noted)
    s.step("wrong_note_recorded", noted, note_count=2)
    wrong = s.steps["wrong_note_recorded"]
    s.step(
        "note_marked_in_error",
        app.mark_entry_in_error(
            supervisor, case_id, target_version=wrong, reason="recorded on the wrong case"
        ),
        note_count=1,
        entries_in_error={wrong: wrong + 1},
    )

    s.step(
        "housing_referral_completed",
        app.complete_referral(
            actor,
            case_id,
            referral_id=housing_referral,
            outcome="need_met",
            note="tenancy offered",
        ),
        referrals=s.referral(housing_referral, "completed"),
    )
    revised = {"version_number": 2, "title": "Recovery and tenancy plan", "activity_count": 3}
    s.step(
        "plan_revised",
        app.revise_plan(
            actor,
            case_id,
            plan_id=plan_id,
            title="Recovery and tenancy plan",
            activities=[*routines, {"activity": "Tenancy support visit", "cadence": "monthly"}],
            next_review_on=date(2027, 6, 1),
            reason="housing secured: add tenancy support",
        ),
        plan=s.state["plan"] | revised,
    )

    s.step(
        "housing_progress",
        app.record_goal_progress(
            actor, case_id, goal_id=housing, achievement="achieved", measured_value="lease"
        ),
        goals=s.goal(housing, achievement="achieved"),
    )
    s.step(
        "housing_goal_completed",
        app.change_goal_lifecycle(actor, case_id, goal_id=housing, lifecycle="completed"),
        goals=s.goal(housing, lifecycle="completed"),
    )

    s.step(
        "transferred",
        app.assign_case_manager(
            supervisor, case_id, case_manager_id=NEW_MANAGER, reason="caseload balancing"
        ),
        case_manager_id=NEW_MANAGER,
    )
    s.step(
        "closed",
        app.close_case(supervisor, case_id, outcome="goals partly met", reason="client moved away"),
        status="closed",
    )
    s.step(
        "reopened",
        app.reopen_case(supervisor, case_id, reason="client returned to the area"),
        status="open",
    )

    return ScenarioResult(
        client_id=client_id,
        case_id=case_id,
        plan_id=plan_id,
        sobriety_goal_id=sobriety,
        housing_goal_id=housing,
        housing_referral_id=housing_referral,
        declined_referral_id=declined_referral,
        kept_note_id=kept_note,
        erroneous_note_id=erroneous_note,
        steps=s.steps,
        expected=s.expected,
        positions=s.positions,
    )


def extend_case(
    app: CaseRecords,
    actor: Actor,
    s: ScenarioResult,
    until: int,
    *,
    mark_in_error: int | None = None,
) -> None:
    """Grow the scenario's case with a mix of notes, addenda, goal progress and referrals
    until it has ``until`` events (for snapshot and long-case tests); the entry recorded as
    version ``mark_in_error``, if given, is then marked in error.  A caseworker ``actor``
    writes as the case's manager (the scenario hands the case over: a caseworker writes
    only to their own cases)."""
    case = app.get_case(actor, s.case_id)
    version = case["version"]
    if actor.role == "caseworker":
        actor = Actor(case["case_manager_id"], actor.role, actor.agency_id)
    n = 0
    while version < until:
        n += 1
        match n % 4:
            case 0:
                r = app.record_note(
                    actor, s.case_id, text=f"note {n}", contact_kind="client", contact_mode="phone"
                )
            case 1:
                r = app.append_addendum(actor, s.case_id, note_id=s.kept_note_id, text=f"add {n}")
            case 2:
                r = app.record_goal_progress(
                    actor, s.case_id, goal_id=s.sobriety_goal_id, achievement="improving",
                    measured_value=f"{n} days",
                )  # fmt: skip
            case _:
                r = app.make_referral(
                    actor, s.case_id, resource_kind="other", organisation="Org",
                    service_name=f"service {n}",
                )  # fmt: skip
        version = r.version
        if version == mark_in_error:
            version = app.mark_entry_in_error(
                actor, s.case_id, target_version=version, reason="typo"
            ).version
