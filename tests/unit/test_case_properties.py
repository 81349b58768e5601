"""Random command sequences on a case: every refusal is a DomainError, and the events
recorded rebuild the same case, also after a round trip through storage encoding and a
snapshot."""

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_statistic
from hypothesis import strategies as st

from caserecord.application import snapshot_state
from caserecord.domain.case import Case
from caserecord.domain.errors import DomainError
from caserecord.domain.replay import apply_next
from caserecord.domain.values import Achievement, GoalLifecycle
from tests.unit.case_builders import (
    add_addendum,
    as_actor,
    mapper,
    mark_in_error,
    note_entry,
    opened_case,
    with_goal,
    with_note,
    with_plan,
    with_referral,
)

REASONS = st.sampled_from(["", "because", "because", "because"])
DATES = st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 1, 1)))


class Ids:
    """Ids the sequence has made, plus one nobody made."""

    def __init__(self) -> None:
        self.made: dict[str, list[str]] = {"plan": [], "goal": [], "referral": [], "note": []}
        self.counter = 0

    def new(self, kind: str) -> str:
        self.counter += 1
        new = f"{kind}-{self.counter}"
        self.made[kind].append(new)
        return new

    def pick(self, data: st.DataObject, kind: str) -> str:
        made = self.made[kind]
        # Mostly the latest one made, sometimes an older one, rarely one nobody made.
        choices = [*made[-1:] * 6, *made, f"{kind}-unknown"]
        return data.draw(st.sampled_from(choices))


def a_command(case: Case, data: st.DataObject, ids: Ids) -> None:
    """Draw one command with plausible (and sometimes wrong) arguments and run it."""
    # Weighted towards the commands that move items along, so sequences reach deep states.
    name = data.draw(
        st.sampled_from(
            [
                "assess", "prior", "assign", "draft", "draft", "revise_plan", "add_goal",
                "add_goal", "revise_goal", "refer", "refer", "note", "addendum", "mark", "mark",
                "close", "reopen", "reopen",
                *["plan_move", "goal_lifecycle", "goal_progress", "referral_move"] * 4,
            ]
        )
    )  # fmt: skip
    reason = data.draw(REASONS)
    if name == "assess":
        case.assess_needs(
            [{"domain": data.draw(st.sampled_from(["medical", "psychiatric", "x"])),
              "level": data.draw(st.sampled_from(["low", "critical"])),
              "score": data.draw(st.one_of(st.none(), st.integers(0, 30)))}]
        )  # fmt: skip
    elif name == "prior":
        case.review_prior_treatment(
            "Detox", "Clinic", data.draw(DATES), data.draw(DATES), "", data.draw(st.integers(0, 6)),
            "",
        )  # fmt: skip
    elif name == "assign":
        case.assign_case_manager(data.draw(st.sampled_from(["worker-1", "worker-2"])), reason)
    elif name == "draft":
        case.draft_plan(ids.new("plan"), "Plan", [{"activity": "Walk", "cadence": "daily"}],
                        data.draw(DATES))  # fmt: skip
    elif name == "revise_plan":
        case.revise_plan(ids.pick(data, "plan"), "Plan v2", [], data.draw(DATES), reason)
    elif name == "plan_move":
        plan_id = ids.pick(data, "plan")
        move = data.draw(st.sampled_from(["activate", "suspend", "resume", "complete", "revoke"]))
        if move in ("suspend", "revoke"):
            getattr(case, f"{move}_plan")(plan_id, reason)
        else:
            getattr(case, f"{move}_plan")(plan_id)
    elif name == "add_goal":
        case.add_goal(
            ids.new("goal"), ids.pick(data, "plan"), "Goal", "medical", "", data.draw(DATES)
        )
    elif name == "revise_goal":
        case.revise_goal(ids.pick(data, "goal"), "Goal v2", "psychiatric", "m", None)
    elif name == "goal_lifecycle":
        target = data.draw(st.sampled_from([*GoalLifecycle, "paused"]))
        case.change_goal_lifecycle(ids.pick(data, "goal"), target)
    elif name == "goal_progress":
        achievement = data.draw(st.sampled_from([*Achievement, "great"]))
        case.record_goal_progress(ids.pick(data, "goal"), achievement, "1", "")
    elif name == "refer":
        case.make_referral(ids.new("referral"), "legal", "Org", "Service", "", "routine",
                           data.draw(DATES))  # fmt: skip
    elif name == "referral_move":
        referral_id = ids.pick(data, "referral")
        move = data.draw(st.sampled_from(["accept", "decline", "complete", "withdraw"]))
        if move == "accept":
            case.accept_referral(referral_id)
        elif move == "decline":
            case.decline_referral(referral_id, data.draw(st.sampled_from(["client", "x"])), reason)
        elif move == "complete":
            case.complete_referral(referral_id, data.draw(st.sampled_from(["", "need_met"])))
        else:
            case.withdraw_referral(referral_id, reason)
    elif name == "note":
        note_id = ids.pick(data, "note") if data.draw(st.integers(0, 9)) == 0 else ids.new("note")
        case.record_note(note_id, "Seen", "client", "phone", ["client"], note_entry(case, note_id))
    elif name == "addendum":
        add_addendum(case, ids.pick(data, "note"), "More")
    elif name == "mark":
        mark_in_error(case, data.draw(st.integers(0, case.version + 1)), reason)
    elif name == "close":
        case.close(reason, "outcome")
    else:
        case.reopen(reason)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_commands_are_refused_only_with_domain_errors_and_replay_to_the_same_case(
    data: st.DataObject,
) -> None:
    ids = Ids()
    refused: dict[str, int] = {}
    with as_actor():
        case = opened_case()
        # A rich start, so random commands reach goals, referrals and notes quickly.
        if data.draw(st.booleans()):
            plan_id = with_plan(case)
            ids.made["plan"].append(plan_id)
            ids.made["goal"].append(with_goal(case, plan_id))
            ids.made["referral"].append(with_referral(case))
            ids.made["note"].append(with_note(case))
        for _ in range(data.draw(st.integers(1, 60))):
            version = case.version
            try:
                a_command(case, data, ids)
            except DomainError as e:
                refused[e.code] = refused.get(e.code, 0) + 1
                assert case.version == version, "a refused command must not change the case"
    events: list[Any] = list(case.collect_events())
    for shown in {type(e).__name__ for e in events} | {f"refused: {c}" for c in refused}:
        note_statistic(shown)  # see --hypothesis-show-statistics

    assert [e.originator_version for e in events] == list(range(1, case.version + 1))
    replayed: Any = None
    for event in events:
        replayed = event.mutate(replayed)
    assert snapshot_state(replayed) == snapshot_state(case)

    stored = mapper()
    decoded: Any = None
    fast: Any = None  # the replay views and "as of" reads use
    for event in events:
        decoded_event: Any = stored.to_domain_event(stored.to_stored_event(event))
        decoded = decoded_event.mutate(decoded)
        fast = apply_next(fast, decoded_event)
    assert snapshot_state(decoded) == snapshot_state(case)
    assert snapshot_state(fast) == snapshot_state(case)
    assert (fast.version, fast.modified_on) == (case.version, case.modified_on)

    snapshot: Any = stored.to_domain_event(stored.to_stored_event(Case.Snapshot.take(case)))
    restored = snapshot.mutate(None)
    assert snapshot_state(restored) == snapshot_state(case)
    assert restored.version == case.version
