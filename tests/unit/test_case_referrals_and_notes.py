"""Closed-loop service referrals and progress notes with addenda."""

from collections.abc import Callable
from datetime import date

import pytest

from caserecord.domain.case import Case
from caserecord.domain.entities import Recorded
from caserecord.domain.errors import (
    DuplicateIdError,
    InvalidTransitionError,
    InvalidValueError,
    NoteNotFoundError,
    ReasonRequiredError,
    ReferralNotFoundError,
)
from tests.unit.case_builders import (
    add_addendum,
    last_event,
    note_entry,
    opened_case,
    recorded_entries,
    with_note,
    with_referral,
)

pytestmark = pytest.mark.usefixtures("as_worker")


@pytest.mark.parametrize(
    "kind",
    [
        "government_benefit",
        "support_group",
        "community_resource",
        "medical",
        "housing",
        "legal",
        "employment",
        "other",
    ],
)
def test_a_referral_is_made_to_any_kind_of_resource_and_starts_sent(kind: str) -> None:
    case = opened_case()
    case.collect_events()

    case.make_referral("ref-1", kind, "Org", "Service", "needs help", "urgent", date(2027, 1, 5))

    event = last_event(case)
    assert isinstance(event, Case.ReferralMade)
    assert (event.referral_id, event.resource_kind, event.organisation) == ("ref-1", kind, "Org")
    assert (event.service_name, event.referral_reason) == ("Service", "needs help")
    assert (event.urgency, event.respond_by) == ("urgent", date(2027, 1, 5))
    assert case.referrals["ref-1"].status == "sent"


@pytest.mark.parametrize(
    ("kind", "urgency", "org", "message"),
    [
        ("spa", "routine", "Org", "resource_kind must be one of"),
        ("housing", "whenever", "Org", "urgency must be one of"),
        ("housing", "routine", "", "names the organisation and the service"),
    ],
)
def test_an_invalid_referral_is_refused(kind: str, urgency: str, org: str, message: str) -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError, match=message):
        case.make_referral("ref-1", kind, org, "Service", "", urgency, None)

    assert case.referrals == {}


def test_a_referral_id_cannot_be_reused() -> None:
    case = opened_case()
    referral_id = with_referral(case)

    with pytest.raises(DuplicateIdError):
        case.make_referral(referral_id, "other", "Org", "Svc", "", "routine", None)


def test_an_accepted_referral_is_completed_with_its_outcome() -> None:
    case = opened_case()
    referral_id = with_referral(case)
    case.collect_events()

    case.accept_referral(referral_id)
    case.complete_referral(referral_id, "need_met", "attended 6 sessions")

    accepted, completed = case.collect_events()
    assert isinstance(accepted, Case.ReferralAccepted)
    assert accepted.referral_id == referral_id
    assert isinstance(completed, Case.ReferralCompleted)
    assert (completed.outcome, completed.note) == ("need_met", "attended 6 sessions")
    assert [c.value for c in case.referrals[referral_id].statuses] == [
        "sent",
        "accepted",
        "completed",
    ]


def test_a_completion_without_an_outcome_is_refused() -> None:
    case = opened_case()
    referral_id = with_referral(case, accepted=True)

    with pytest.raises(InvalidValueError, match="outcome must be one of"):
        case.complete_referral(referral_id, "")
    with pytest.raises(InvalidValueError, match="outcome must be one of"):
        case.complete_referral(referral_id, "attended")


@pytest.mark.parametrize("by", ["provider", "client"])
def test_a_referral_is_declined_by_provider_or_client_with_a_reason(by: str) -> None:
    case = opened_case()
    referral_id = with_referral(case)
    case.collect_events()

    case.decline_referral(referral_id, by, "no capacity")

    event = last_event(case)
    assert isinstance(event, Case.ReferralDeclined)
    assert (event.referral_id, event.declined_by, event.reason) == (referral_id, by, "no capacity")
    assert case.referrals[referral_id].status == "declined"


def test_a_decline_without_a_reason_is_refused() -> None:
    case = opened_case()
    referral_id = with_referral(case)

    with pytest.raises(ReasonRequiredError, match="decline a referral"):
        case.decline_referral(referral_id, "client", "  ")

    assert case.referrals[referral_id].status == "sent"


def test_a_decline_by_someone_else_is_refused() -> None:
    case = opened_case()
    referral_id = with_referral(case)

    with pytest.raises(InvalidValueError, match="declined_by must be one of: provider, client"):
        case.decline_referral(referral_id, "judge", "ordered")


def test_a_referral_is_withdrawn_with_a_reason() -> None:
    case = opened_case()
    referral_id = with_referral(case, accepted=True)
    case.collect_events()

    case.withdraw_referral(referral_id, "client moved away")

    event = last_event(case)
    assert isinstance(event, Case.ReferralWithdrawn)
    assert (event.referral_id, event.reason) == (referral_id, "client moved away")


def test_a_withdrawal_without_a_reason_is_refused() -> None:
    case = opened_case()
    referral_id = with_referral(case)

    with pytest.raises(ReasonRequiredError):
        case.withdraw_referral(referral_id, "")


FINALS: dict[str, Callable[[Case, str], None]] = {
    "declined": lambda c, r: c.decline_referral(r, "provider", "full"),
    "withdrawn": lambda c, r: c.withdraw_referral(r, "not needed"),
    "completed": lambda c, r: c.complete_referral(r, "need_met"),
}
MOVES: dict[str, Callable[[Case, str], None]] = {
    "accept": lambda c, r: c.accept_referral(r),
    **FINALS,
}


@pytest.mark.parametrize(
    ("final", "move"),
    # A declined referral is withdrawn to close its need without re-routing it.
    [(f, m) for f in sorted(FINALS) for m in sorted(MOVES) if (f, m) != ("declined", "withdrawn")],
)
def test_nothing_moves_a_referral_out_of_a_final_state(final: str, move: str) -> None:
    case = opened_case()
    referral_id = with_referral(case, accepted=True)
    FINALS[final](case, referral_id)

    with pytest.raises(InvalidTransitionError) as refused:
        MOVES[move](case, referral_id)

    assert refused.value.code == "invalid_transition"
    assert case.referrals[referral_id].status == final


def test_a_declined_referral_is_withdrawn_to_close_its_need_keeping_the_decline() -> None:
    case = opened_case()
    referral_id = with_referral(case)
    case.decline_referral(referral_id, "provider", "", "not_eligible")

    case.withdraw_referral(referral_id, "the client found work: the need is met")

    withdrawn = case.referrals[referral_id].statuses[-1]
    assert withdrawn.value == "withdrawn"
    assert withdrawn.details == {
        "declined_by": "provider",
        "reason_code": "not_eligible",
        "reason": "the client found work: the need is met",
    }


def test_a_sent_referral_cannot_be_completed_nor_accepted_twice() -> None:
    case = opened_case()
    referral_id = with_referral(case)

    with pytest.raises(InvalidTransitionError, match="from sent to completed"):
        case.complete_referral(referral_id, "need_met")
    case.accept_referral(referral_id)
    with pytest.raises(InvalidTransitionError, match="from accepted to accepted"):
        case.accept_referral(referral_id)


def test_an_unknown_referral_is_a_domain_error() -> None:
    with pytest.raises(ReferralNotFoundError) as refused:
        opened_case().accept_referral("ref-x")

    assert refused.value.code == "referral_not_found"


# ---- notes -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["client", "support_network", "provider", "internal"])
@pytest.mark.parametrize("mode", ["in_person", "phone", "video", "message"])
def test_a_progress_note_records_observation_contact_and_who_was_present(
    kind: str, mode: str
) -> None:
    case = opened_case()
    case.collect_events()

    case.record_note("note-1", "Calmer today.", kind, mode, ["client", "mother"])

    event = last_event(case)
    assert isinstance(event, Case.ProgressNoteRecorded)
    assert (event.note_id, event.text) == ("note-1", "Calmer today.")
    assert (event.contact_kind, event.contact_mode, event.present) == (
        kind,
        mode,
        ["client", "mother"],
    )


@pytest.mark.parametrize(
    ("text", "kind", "mode", "message"),
    [
        ("", "client", "phone", "needs an observation"),
        ("Hi", "neighbour", "phone", "contact_kind must be one of"),
        ("Hi", "client", "telepathy", "contact_mode must be one of"),
    ],
)
def test_an_invalid_note_is_refused(text: str, kind: str, mode: str, message: str) -> None:
    case = opened_case()

    with pytest.raises(InvalidValueError, match=message):
        case.record_note("note-1", text, kind, mode, [])

    assert case.notes_recorded == 0


def test_a_note_id_cannot_be_reused() -> None:
    case = opened_case()
    note_id = with_note(case)

    with pytest.raises(DuplicateIdError):
        case.record_note(note_id, "Again", "client", "phone", [], note_entry(case, note_id))


def test_an_addendum_is_appended_without_changing_the_note() -> None:
    case = opened_case()
    note_id = with_note(case)

    add_addendum(case, note_id, "Client later phoned to say thanks.")

    event = last_event(case)
    assert isinstance(event, Case.AddendumAppended)
    assert (event.note_id, event.text) == (note_id, "Client later phoned to say thanks.")
    assert recorded_entries(case) == {  # the note's own event is untouched
        2: Recorded(2, "note", note_id),
        3: Recorded(3, "addendum", note_id, 2),
    }
    assert case.notes_recorded == 1


def test_an_addendum_needs_text_and_a_known_note() -> None:
    case = opened_case()
    note_id = with_note(case)

    with pytest.raises(InvalidValueError, match="needs text"):
        add_addendum(case, note_id, " ")
    with pytest.raises(NoteNotFoundError) as refused:
        add_addendum(case, "note-x", "text")
    with pytest.raises(NoteNotFoundError):  # an entry that is not a note
        case.append_addendum(note_id, "text", Recorded(2, "addendum", note_id, 2))

    assert refused.value.code == "note_not_found"
    assert case.version == 2


def test_a_referral_respond_by_must_be_a_date() -> None:
    with pytest.raises(InvalidValueError, match="respond_by must be a date"):
        opened_case().make_referral("r", "legal", "O", "S", "", "routine", "tomorrow")  # type: ignore[arg-type]


def test_who_was_present_must_be_a_list_of_names() -> None:
    with pytest.raises(InvalidValueError, match="present must be a list of text"):
        opened_case().record_note("n", "Hi", "client", "phone", "client")  # type: ignore[arg-type]


def test_a_case_keeps_only_the_count_of_its_notes() -> None:
    case = opened_case()
    case.record_note("note-1", "First.", "client", "phone", [])
    case.record_note("note-2", "Second.", "client", "phone", [])
    add_addendum(case, "note-1", "More on the first.")

    assert case.notes_recorded == 2
    assert not any(
        "note" in name or "addend" in name for name in vars(case) if name != "notes_recorded"
    )
