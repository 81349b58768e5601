"""A demo agency with a few realistic cases, loaded idempotently.

Every step carries an idempotency key, so running the demo again (or after an interruption)
records nothing twice and picks up the ids recorded the first time.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from caserecord.access import Tables, TokenStore
from caserecord.application import CaseRecords, CommandResult
from caserecord.domain.recording import Actor
from caserecord.domain.values import Role
from caserecord.hsds import import_rows, read_page, sample_directory

DEMO_AGENCY = "demo-agency"


@dataclass
class Demo:
    records: CaseRecords
    agency_id: str = DEMO_AGENCY
    recorded: int = 0
    skipped: int = 0
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def worker(self) -> Actor:
        return Actor("demo-caseworker", "caseworker", self.agency_id)

    @property
    def supervisor(self) -> Actor:
        return Actor("demo-supervisor", "supervisor", self.agency_id)

    def step(self, key: str, command: Callable[..., CommandResult], **values: Any) -> Any:
        """Run ``command`` once per key; the entity (or record) id, now or from before."""
        found = self.records.find_idempotent_result(self.worker, f"demo:{key}")
        if found is not None:
            self.skipped += 1
            result = found.result
        else:
            fingerprint = hashlib.sha256(key.encode()).hexdigest()
            done = command(idempotency=(f"demo:{key}", fingerprint), **values)
            self.recorded += 1
            result = {"id": str(done.id), "entity_id": done.entity_id}
        self.ids[key] = result["entity_id"] or UUID(str(result["id"]))
        return self.ids[key]


def days_ago(n: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=n)


def load_demo(records: CaseRecords, agency_id: str = DEMO_AGENCY) -> Demo:
    demo = Demo(records, agency_id)
    staff(demo)
    directory(demo)
    recovery(demo)
    geriatric(demo)
    child_welfare(demo)
    recovery_contacts(demo)
    waitlisted(demo)
    on_hold_and_discharged(demo)
    worklist(demo)
    teams_and_transfers(demo)
    benefits(demo)
    return demo


# The staff directory: one member for each role's demo token (named as the token is), and
# colleagues to assign and transfer cases to.
STAFF = (
    ("demo-caseworker", "Dana Whitfield", "case_manager", 30),
    ("demo-supervisor", "Sol Okafor", "supervisor", 10),
    ("demo-compliance_reviewer", "Rae Lindqvist", "compliance", None),
    ("cm-alice", "Alice Moreno", "case_manager", 25),
    ("rn-sam", "Sam Kowalski", "nurse", None),
)
# Services of the sample directory the demo refers to; the demo provider token answers for
# the organisation of the recovery case's housing referral.
SHELTER = "c2a61a59-fcd2-597c-a68b-df8b4587c22f"
DEMO_PROVIDER_ORG = "d7ada15f-9355-56d1-8756-9afc0fc3dd7d"
FOOD_PANTRY = "28f54bb4-5472-592f-b546-fcedb74049ab"
TOKEN_STAFF = {role: f"demo-{role}" for role in ("caseworker", "supervisor", "compliance_reviewer")}


def staff(d: Demo) -> None:
    admin = Actor("demo-admin", "admin", d.agency_id)
    for staff_id, name, role, limit in STAFF:
        add = partial(d.records.add_staff_member, admin, staff_id=staff_id, name=name, role=role)
        d.step(f"staff/{staff_id}", partial(add, caseload_limit=limit))


def directory(d: Demo) -> None:
    """The sample resource directory (an import of the same file again records nothing)."""
    supervisor = Actor("demo-supervisor", "supervisor", d.agency_id)
    page = read_page(sample_directory())
    summary = d.records.import_directory(supervisor, import_rows(page))
    d.recorded += len(summary["listed"]) + len(summary["updated"])
    d.skipped += len(summary["unchanged"])


def recovery(d: Demo) -> None:
    r, w = d.records, d.worker
    client = d.step(
        "recovery/client",
        lambda **o: r.register_client(
            w,
            given_name="Daniel",
            family_name="Reyes",
            date_of_birth=date(1987, 3, 9),
            client_number="DEMO-001",
            preferred_language="en",
            phone="555-0142",
            **o,
        ),
    )
    case = d.step(
        "recovery/case",
        lambda **o: r.open_case(
            w,
            client_id=client,
            specialty="substance_abuse",
            referral_source="county drug court",
            presenting_needs=["alcohol use", "housing instability", "unemployment"],
            interview_summary="Wants to stay sober after a second DUI; sleeping at a friend's.",
            case_manager_id=w.id,
            effective_at=days_ago(30),
            **o,
        ),
    )
    d.step(
        "recovery/assessment",
        lambda **o: r.assess_needs(
            w,
            case,
            assessments=[
                {"domain": "psycho_social", "level": "high", "instrument": "ASI", "score": 0.62},
                {"domain": "medical", "level": "moderate", "notes": "elevated liver enzymes"},
            ],
            effective_at=days_ago(28),
            **o,
        ),
    )
    d.step(
        "recovery/prior",
        lambda **o: r.review_prior_treatment(
            w,
            case,
            treatment="Outpatient detox",
            provider="St. Luke's",
            outcome="relapsed",
            started_on=date(2022, 1, 10),
            ended_on=date(2022, 3, 1),
            effectiveness=2,
            **o,
        ),
    )
    plan = d.step(
        "recovery/plan",
        lambda **o: r.draft_plan(
            w,
            case,
            title="Recovery and housing plan",
            next_review_on=date.today() + timedelta(30),
            activities=[
                {"activity": "AA meeting", "cadence": "weekly", "time": "19:00"},
                {"activity": "Counselling session", "cadence": "fortnightly", "time": "10:00"},
            ],
            **o,
        ),
    )
    d.step(
        "recovery/activate",
        lambda **o: r.change_plan_status(w, case, plan_id=plan, action="activate", **o),
    )
    goal = d.step(
        "recovery/goal",
        lambda **o: r.add_goal(
            w,
            case,
            plan_id=plan,
            description="90 days without alcohol",
            need_domain="therapeutic",
            target_measure="days sober",
            **o,
        ),
    )
    d.step(
        "recovery/goal-active",
        lambda **o: r.change_goal_lifecycle(w, case, goal_id=goal, lifecycle="active", **o),
    )
    d.step(
        "recovery/progress",
        lambda **o: r.record_goal_progress(
            w,
            case,
            goal_id=goal,
            achievement="improving",
            measured_value="21",
            note="21 days",
            **o,
        ),
    )
    d.step(
        "recovery/consent",
        lambda **o: r.grant_consent(
            w,
            client,
            recipient_kind="organisation",
            recipient="Bayview Housing Partnership",
            purpose="housing",
            data=["substance_use"],
            form_sha256=hashlib.sha256(b"DEMO-001 release of information").hexdigest(),
            expires_on=date.today() + timedelta(365),
            **o,
        ),
    )
    referral = d.step(
        "recovery/referral",
        lambda **o: r.make_referral(
            w,
            case,
            resource_kind="housing",
            urgency="urgent",
            respond_by=date.today() + timedelta(7),
            service_id=SHELTER,
            need="housing",
            **o,
        ),
    )
    d.step(
        "recovery/referral-accepted",
        lambda **o: r.accept_referral(w, case, referral_id=referral, **o),
    )
    d.step(
        "recovery/emergency-disclosure",
        lambda **o: r.record_disclosure(
            d.supervisor,
            client,
            recipient_kind="organisation",
            recipient="St. Mary's Emergency Department",
            purpose="treatment",
            channel="phone",
            data_classes=["substance_use"],
            basis="medical_emergency",
            **o | {"reason": "suspected overdose at the drop-in; ER asked what he takes"},
        ),
    )
    d.step(
        "recovery/note",
        lambda **o: r.record_note(
            w,
            case,
            text="Attended two AA meetings; sponsor identified.",
            contact_kind="client",
            contact_mode="in_person",
            present=["client"],
            **o,
        ),
    )
    recovery_revisions(d, client, case, plan, goal)


def recovery_revisions(d: Demo, client: UUID, case: UUID, plan: str, goal: str) -> None:
    """What a reviewer looks for: more progress over time, a plan revised with its
    rationale, a note set aside as recorded in error, and a client detail corrected."""
    r, w = d.records, d.worker
    for key, days, value in (("progress-2", 14, "7"), ("progress-3", 7, "14")):
        d.step(
            f"recovery/{key}",
            lambda days=days, value=value, **o: r.record_goal_progress(
                w,
                case,
                goal_id=goal,
                achievement="improving",
                measured_value=value,
                note=f"{value} days",
                effective_at=days_ago(days),
                **o,
            ),
        )
    d.step(
        "recovery/plan-revised",
        lambda **o: r.revise_plan(
            w,
            case,
            plan_id=plan,
            title="Recovery, housing and work plan",
            activities=[
                {"activity": "AA meeting", "cadence": "weekly", "time": "19:00"},
                {"activity": "Counselling session", "cadence": "fortnightly", "time": "10:00"},
                {"activity": "Job club", "cadence": "weekly", "time": "14:00"},
            ],
            reason="Housing place secured; work readiness added at review",
            **o,
        ),
    )
    wrong = d.step(
        "recovery/wrong-note",
        lambda **o: r.record_note(
            w,
            case,
            text="Missed appointment; no answer by phone.",
            contact_kind="client",
            contact_mode="phone",
            present=["client"],
            **o,
        ),
    )
    d.step(
        "recovery/wrong-note-in-error",
        lambda **o: r.mark_entry_in_error(
            d.supervisor,
            case,
            target_version=r.get_note(w, case, wrong)["version"],
            reason="Recorded on the wrong client's case",
            **o,
        ),
    )
    d.step(
        "recovery/phone-corrected",
        lambda **o: r.correct_client_details(
            w, client, changes={"phone": "555-0143"}, reason="Client gave a new number", **o
        ),
    )
    recovery_scores(d, case, plan)


def phq9(*values: int) -> dict[str, Any]:
    return {str(i + 1): v for i, v in enumerate(values)}


def recovery_scores(d: Demo, case: UUID, plan: str) -> None:
    """PHQ-9 twice with a falling score towards a goal of below 10 (the first answered item
    9, so it raised a safety flag, since reviewed), and an AUDIT-C."""
    r, w = d.records, d.worker
    d.step(
        "recovery/mood-goal",
        lambda **o: r.add_goal(
            w, case, plan_id=plan, description="Depression eases (PHQ-9 below 10)",
            need_domain="psychiatric", target_instrument="phq-9", target_score=10,
            direction="below", **o,
        ),
    )  # fmt: skip
    first = d.step(
        "recovery/phq9-intake",
        lambda **o: r.administer_instrument(
            w, case, instrument="phq-9", respondent="client",
            responses=phq9(2, 3, 2, 2, 1, 2, 1, 1, 1) | {"difficulty": 2},
            effective_at=days_ago(27), **o,
        ),
    )  # fmt: skip
    d.step(
        "recovery/phq9-flag-reviewed",
        lambda **o: r.review_safety_flag(
            w, case, flag_version=int(first),
            note="No plan or intent; safety plan agreed, crisis line number given.",
            effective_at=days_ago(27), **o,
        ),
    )  # fmt: skip
    d.step(
        "recovery/audit-c",
        lambda **o: r.administer_instrument(
            w, case, instrument="audit-c", respondent="client", responses={"1": 4, "2": 3, "3": 3},
            context={"sex": "male"}, effective_at=days_ago(27), **o,
        ),
    )  # fmt: skip
    d.step(
        "recovery/phq9-review",
        lambda **o: r.administer_instrument(
            w, case, instrument="phq-9", respondent="client",
            responses=phq9(1, 1, 1, 1, 0, 1, 0, 0, 0) | {"difficulty": 1},
            effective_at=days_ago(3), **o,
        ),
    )  # fmt: skip


def geriatric(d: Demo) -> None:
    r, w = d.records, d.worker
    client = d.step(
        "geriatric/client",
        lambda **o: r.register_client(
            w,
            given_name="Eleanor",
            family_name="Whitfield",
            date_of_birth=date(1941, 11, 2),
            client_number="DEMO-002",
            preferred_language="en",
            phone="555-0199",
            address="14 Elm Row",
            **o,
        ),
    )
    d.step(
        "geriatric/daughter",
        lambda **o: r.add_support_contact(
            w,
            client,
            name="Ruth Whitfield",
            relationship="family",
            phone="555-0123",
            **o,
        ),
    )
    case = d.step(
        "geriatric/case",
        lambda **o: r.open_case(
            w,
            client_id=client,
            specialty="geriatric",
            referral_source="GP practice",
            presenting_needs=["falls at home", "medication management"],
            interview_summary="Two falls this winter; lives alone; daughter visits weekly.",
            case_manager_id=w.id,
            **o,
        ),
    )
    d.step(
        "geriatric/assessment",
        lambda **o: r.assess_needs(
            w, case, assessments=[{"domain": "medical", "level": "high"}], **o
        ),
    )
    plan = d.step(
        "geriatric/plan",
        lambda **o: r.draft_plan(
            w,
            case,
            title="Home safety and medication",
            activities=[
                {"activity": "Medication review call", "cadence": "weekly", "time": "09:30"},
            ],
            next_review_on=date.today() - timedelta(3),
            **o,
        ),
    )
    d.step(
        "geriatric/activate",
        lambda **o: r.change_plan_status(w, case, plan_id=plan, action="activate", **o),
    )
    meals = d.step(
        "geriatric/meals",
        lambda **o: r.make_referral(
            w,
            case,
            resource_kind="community_resource",
            service_id=FOOD_PANTRY,
            need="food",
            **o,
        ),
    )
    d.step(
        "geriatric/meals-accepted", lambda **o: r.accept_referral(w, case, referral_id=meals, **o)
    )
    adl = dict.fromkeys(("bathing", "dressing", "toileting", "transferring"), 1)
    d.step(
        "geriatric/katz",
        lambda **o: r.administer_instrument(
            w, case, instrument="katz-adl", respondent="clinician",
            responses=adl | {"continence": 0, "feeding": 1}, **o,
        ),
    )  # fmt: skip
    iadl = dict.fromkeys(("telephone", "medications", "finances", "laundry"), 1)
    d.step(
        "geriatric/lawton",
        lambda **o: r.administer_instrument(
            w, case, instrument="lawton-iadl", respondent="caregiver",
            responses=iadl | dict.fromkeys(("shopping", "food_preparation", "housekeeping",
                                            "transportation"), 0), **o,
        ),
    )  # fmt: skip
    d.step(
        "geriatric/meals-completed",
        lambda **o: r.complete_referral(
            w, case, referral_id=meals, outcome="need_met", note="meals delivered daily", **o
        ),
    )


def child_welfare(d: Demo) -> None:
    r, w = d.records, d.worker
    client = d.step(
        "child/client",
        lambda **o: r.register_client(
            w,
            given_name="Jayden",
            family_name="Morris",
            date_of_birth=date(2014, 6, 21),
            client_number="DEMO-003",
            **o,
        ),
    )
    d.step(
        "child/guardian",
        lambda **o: r.add_support_contact(
            w,
            client,
            name="Angela Morris",
            relationship="guardian",
            phone="555-0177",
            **o,
        ),
    )
    case = d.step(
        "child/case",
        lambda **o: r.open_case(
            w,
            client_id=client,
            specialty="child",
            referral_source="school nurse",
            presenting_needs=["school absence", "behavioural concerns"],
            interview_summary="Missed 20 school days this term; grandmother is guardian.",
            case_manager_id=w.id,
            effective_at=days_ago(2),
            **o,
        ),
    )
    d.step(
        "child/referral",
        lambda **o: r.make_referral(
            w,
            case,
            resource_kind="support_group",
            organisation="Northside Family Centre",
            service_name="School counselling",
            respond_by=date.today() - timedelta(2),
            **o,
        ),
    )
    note = d.step(
        "child/note",
        lambda **o: r.record_note(
            w,
            case,
            text="Home visit: guardian engaged, asks for help with school routine.",
            contact_kind="support_network",
            contact_mode="in_person",
            present=["client", "guardian"],
            effective_at=days_ago(1),
            **o,
        ),
    )
    d.step(
        "child/addendum",
        lambda **o: r.append_addendum(
            w, case, note_id=note, text="School agreed to a meeting.", **o
        ),
    )
    d.step(
        "child/transfer",
        lambda **o: r.assign_case_manager(
            d.supervisor,
            case,
            case_manager_id="demo-supervisor",
            reason="caseworker on leave; supervisor covers",
            **o,
        ),
    )


def recovery_contacts(d: Demo) -> None:
    """A meeting with the client, his sponsor, the housing provider and a nurse about the
    goal and the referral; then a no-show."""
    r, w = d.records, d.worker
    client, case = d.ids["recovery/client"], d.ids["recovery/case"]
    sponsor = d.step(
        "recovery/sponsor",
        lambda **o: r.add_support_contact(
            w, client, name="Mike Alvarez", relationship="sponsor", phone="555-0163", **o
        ),
    )
    d.step(
        "recovery/ex-partner",
        lambda **o: r.add_support_contact(
            w, client, name="Carla Reyes", relationship="family", may_contact=False, **o
        ),
    )
    d.step(
        "recovery/meeting",
        lambda **o: r.record_note(
            w,
            case,
            text="Planning meeting: move-in date agreed; sponsor will drive him to AA.",
            contact_mode="in_person",
            participants={
                "client": True,
                "support_contact_ids": [sponsor],
                "providers": [{"name": "Tom Price", "organisation": "Bayview Housing Partnership"}],
                "staff_ids": ["rn-sam"],
            },
            location="Bayview Housing Partnership office",
            duration_minutes=60,
            goal_ids=[d.ids["recovery/goal"]],
            referral_ids=[d.ids["recovery/referral"]],
            effective_at=days_ago(3),
            **o,
        ),
    )
    d.step(
        "recovery/no-show",
        lambda **o: r.record_note(
            w,
            case,
            text="Did not attend the counselling session; left a voicemail.",
            contact_mode="in_person",
            participants={"client": True},
            contact_status="no_show",
            location="Clinic room 2",
            effective_at=days_ago(1),
            **o,
        ),
    )


def waitlisted(d: Demo) -> None:
    """An intake done while the program is full."""
    r, w = d.records, d.worker
    client = d.step(
        "waitlist/client",
        lambda **o: r.register_client(
            w,
            given_name="Priya",
            family_name="Shah",
            date_of_birth=date(1995, 8, 14),
            client_number="DEMO-004",
            preferred_language="en",
            **o,
        ),
    )
    case = d.step(
        "waitlist/case",
        lambda **o: r.open_case(
            w,
            client_id=client,
            specialty="mental_health",
            referral_source="self-referral",
            presenting_needs=["anxiety", "isolation"],
            interview_summary="Panic attacks at work; the group program has a six-week wait.",
            case_manager_id=w.id,
            waitlisted=True,
            effective_at=days_ago(10),
            **o,
        ),
    )
    d.step(
        "waitlist/check-in",
        lambda **o: r.record_note(
            w,
            case,
            text="Waitlist check-in call: coping, no crisis; reminded of the crisis line.",
            contact_mode="phone",
            duration_minutes=10,
            effective_at=days_ago(3),
            **o,
        ),
    )


def on_hold_and_discharged(d: Demo) -> None:
    """A case on hold during a hospital stay, and one closed with a discharge reason and an
    aftercare plan."""
    r, w = d.records, d.worker
    client = d.step(
        "hold/client",
        lambda **o: r.register_client(
            w,
            given_name="Walter",
            family_name="Brooks",
            date_of_birth=date(1958, 1, 30),
            client_number="DEMO-005",
            **o,
        ),
    )
    held = d.step(
        "hold/case",
        lambda **o: r.open_case(
            w,
            client_id=client,
            specialty="medical",
            referral_source="hospital discharge team",
            presenting_needs=["diabetes management"],
            interview_summary="Missed insulin doses after his wife's death.",
            case_manager_id=w.id,
            effective_at=days_ago(40),
            **o,
        ),
    )
    d.step(
        "hold/hold",
        lambda **o: r.put_case_on_hold(
            w,
            held,
            until=date.today() + timedelta(14),
            reason="inpatient stay for a foot ulcer",
            effective_at=days_ago(5),
            **o,
        ),
    )
    client = d.step(
        "discharge/client",
        lambda **o: r.register_client(
            w,
            given_name="Keisha",
            family_name="Grant",
            date_of_birth=date(1990, 4, 2),
            client_number="DEMO-006",
            **o,
        ),
    )
    closed = d.step(
        "discharge/case",
        lambda **o: r.open_case(
            w,
            client_id=client,
            specialty="social_work",
            referral_source="food bank",
            presenting_needs=["rent arrears"],
            interview_summary="Two months behind on rent after losing shifts.",
            case_manager_id=w.id,
            effective_at=days_ago(90),
            **o,
        ),
    )
    d.step(
        "discharge/closure",
        lambda **o: r.close_case(
            d.supervisor,
            closed,
            outcome="Arrears cleared with a hardship grant; full-time job since last month.",
            discharge_reason="goals_met",
            aftercare_plan="Budgeting check-in call; food bank referral kept open.",
            follow_up_on=date.today() + timedelta(30),
            reason="goals met",
            **o,
        ),
    )


def worklist(d: Demo) -> None:
    """Work due for the demo caseworker (its token's name is the staff id): a measured goal
    due tomorrow, a task due today and one overdue, a referral whose answer is overdue, and
    a review that continued a plan (the geriatric plan's review is already overdue)."""
    r, w = d.records, d.worker
    case, plan = d.ids["recovery/case"], d.ids["recovery/plan"]
    goal = d.step(
        "worklist/goal",
        lambda **o: r.add_goal(
            w,
            case,
            plan_id=plan,
            description="Attend 12 AA meetings",
            need_domain="therapeutic",
            due_on=date.today() + timedelta(1),
            priority="high",
            need="alcohol use",
            measure={"kind": "value", "baseline": 2, "target": 12, "unit": "meetings"},
            **o,
        ),
    )
    d.step(
        "worklist/goal-active",
        lambda **o: r.change_goal_lifecycle(w, case, goal_id=goal, lifecycle="active", **o),
    )
    d.step(
        "worklist/review",
        lambda **o: r.review_plan(
            w,
            case,
            plan_id=plan,
            outcome="continue",
            attendees=[w.id, "client", "sponsor"],
            client_participated=True,
            client_agreed=True,
            next_review_on=date.today() + timedelta(60),
            summary="On track; the plan stays as it is.",
            **o,
        ),
    )
    d.step(
        "worklist/task",
        lambda **o: r.create_task(
            w,
            case,
            title="Confirm the move-in date with Bayview Housing",
            owner_id=w.id,
            due_on=date.today(),
            concerns="referral",
            concerns_id=d.ids["recovery/referral"],
            **o,
        ),
    )
    elder = d.ids["geriatric/case"]
    d.step(
        "worklist/overdue-task",
        lambda **o: r.create_task(
            w,
            elder,
            title="Send the pharmacy the new medication list",
            owner_id=w.id,
            due_on=date.today() - timedelta(2),
            concerns="plan",
            concerns_id=d.ids["geriatric/plan"],
            **o,
        ),
    )
    d.step(
        "worklist/referral",
        lambda **o: r.make_referral(
            w,
            elder,
            resource_kind="medical",
            organisation="Valley Home Care",
            service_name="Home nursing visits",
            respond_by=date.today() - timedelta(1),
            **o,
        ),
    )


def teams_and_transfers(d: Demo) -> None:
    """A care team on the recovery case, the case on hold handed over to another case
    manager, and a transfer of the child welfare case awaiting its answer."""
    r, w = d.records, d.worker
    recovery, held = d.ids["recovery/case"], d.ids["hold/case"]
    child = d.ids["child/case"]
    d.step(
        "team/nurse",
        partial(
            r.add_care_team_member, w, recovery, role="nurse", staff_id="rn-sam",
            effective_at=days_ago(20),
        ),
    )  # fmt: skip
    d.step(
        "team/probation",
        partial(
            r.add_care_team_member, w, recovery, role="probation_officer", name="Pat Doyle",
            organisation="County Probation", contact="555-0199", effective_at=days_ago(20),
        ),
    )  # fmt: skip
    summary = "Lives alone; daughter visits Sundays; medication review overdue; fall risk."
    transfer = d.step(
        "transfer/held",
        partial(r.request_transfer, w, held, to_staff_id="cm-alice", handoff_summary=summary),
    )
    alice = Actor("cm-alice", "caseworker", d.agency_id)
    d.step(
        "transfer/held/accepted",
        partial(r.accept_transfer, alice, held, transfer_id=transfer),
    )
    d.step(
        "transfer/child",
        partial(
            r.request_transfer, d.supervisor, child, to_staff_id="cm-alice",
            handoff_summary="School meeting pending; guardian prefers phone calls.",
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class DemoTokens:
    secrets: dict[str, str]
    """The new token of each role, by role."""
    revoked: list[str]
    """The ids of the earlier demo tokens this run revoked."""


def benefits(d: Demo) -> None:
    """Benefits on the recovery case: SNAP documented, approved and due for renewal in
    three months; Medicaid submitted 50 days ago and still undecided (a worklist item)."""
    r, w = d.records, d.worker
    case = d.ids["recovery/case"]
    snap = d.step(
        "benefits/snap",
        lambda **o: r.start_benefit_application(
            w, case, program="snap", agency_name="County Department of Social Services",
            submitted_on=date.today() - timedelta(25), effective_at=days_ago(25), **o,
        ),
    )  # fmt: skip
    request = d.step(
        "benefits/snap-documents",
        lambda **o: r.request_benefit_documents(
            w, case, application_id=snap, documents=["pay stubs", "lease"],
            due_on=date.today() - timedelta(10), effective_at=days_ago(20), **o,
        ),
    )  # fmt: skip
    d.step(
        "benefits/snap-provided",
        lambda **o: r.provide_benefit_documents(
            w, case, application_id=snap, request_id=request,
            provided_on=date.today() - timedelta(12), effective_at=days_ago(12), **o,
        ),
    )  # fmt: skip
    d.step(
        "benefits/snap-approved",
        lambda **o: r.decide_benefit_application(
            w, case, application_id=snap, decision="approved", amount=291.0,
            frequency="monthly", starts_on=date.today() - timedelta(5),
            ends_on=date.today() + timedelta(175), renews_on=date.today() + timedelta(90),
            effective_at=days_ago(5), **o,
        ),
    )  # fmt: skip
    d.step(
        "benefits/medicaid",
        lambda **o: r.start_benefit_application(
            w, case, program="medicaid", agency_name="State Medicaid office",
            submitted_on=date.today() - timedelta(50), effective_at=days_ago(29), **o,
        ),
    )  # fmt: skip


def demo_tokens(records: CaseRecords, agency_id: str = DEMO_AGENCY) -> DemoTokens:
    """A fresh token per role, revoking the demo tokens of earlier runs: their secrets
    cannot be shown again, so reusing them would leave the caller without a usable token,
    and keeping them would pile up live tokens nobody holds."""
    store = TokenStore(Tables(records))
    names = {f"demo-{role.value}" for role in Role}
    earlier = [t for t in store.list(agency_id) if t.active and t.name in names]
    for token in earlier:
        store.revoke(token.token_id, agency_id)
    made = {
        role.value: store.create(
            agency_id=agency_id,
            role=role.value,
            name=f"demo-{role.value}",
            staff_id=TOKEN_STAFF.get(role.value),  # the admin's token bootstraps the directory
            organization_id=DEMO_PROVIDER_ORG if role == Role.PROVIDER else None,
        )[1]
        for role in Role
    }
    return DemoTokens(made, [t.token_id for t in earlier])
