"""A demo agency with a few realistic cases, loaded idempotently.

Every step carries an idempotency key, so running the demo again (or after an interruption)
records nothing twice and picks up the ids recorded the first time.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from caserecord.access import Tables, TokenStore
from caserecord.application import CaseRecords, CommandResult
from caserecord.domain.recording import Actor
from caserecord.domain.values import Role

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
    recovery(demo)
    geriatric(demo)
    child_welfare(demo)
    return demo


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
            recipient="Harbor Housing Trust",
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
            organisation="Harbor Housing Trust",
            service_name="Sober living residence",
            urgency="urgent",
            respond_by=date.today() + timedelta(7),
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
            organisation="Meals on Wheels",
            service_name="Daily hot meal",
            **o,
        ),
    )
    d.step(
        "geriatric/meals-accepted", lambda **o: r.accept_referral(w, case, referral_id=meals, **o)
    )
    d.step(
        "geriatric/meals-completed",
        lambda **o: r.complete_referral(
            w, case, referral_id=meals, outcome="meals delivered daily", **o
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


@dataclass(frozen=True)
class DemoTokens:
    secrets: dict[str, str]
    """The new token of each role, by role."""
    revoked: list[str]
    """The ids of the earlier demo tokens this run revoked."""


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
        role.value: store.create(agency_id=agency_id, role=role.value, name=f"demo-{role.value}")[1]
        for role in Role
    }
    return DemoTokens(made, [t.token_id for t in earlier])
