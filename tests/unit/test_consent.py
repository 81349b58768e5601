"""Consent and disclosure rules on the client, and sensitivity labels on case entries."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caserecord.application import snapshot_state, upcast_state
from caserecord.domain.case import Case
from caserecord.domain.client import DISCLOSURES, Basis, Client
from caserecord.domain.consent import EXCEPTIONS, NEEDS_CONSENT, REDISCLOSURE_NOTICE
from caserecord.domain.errors import (
    ConsentRequiredError,
    DomainError,
    InvalidTransitionError,
    InvalidValueError,
    NothingToCorrectError,
    ReasonRequiredError,
)
from caserecord.domain.recording import Recording
from tests.unit.case_builders import as_actor, opened_case

T0 = datetime(2020, 1, 1, tzinfo=UTC)
FORM = "c" * 64
CASE = "9d7a2b4e-0000-4000-8000-000000000001"


def a_client() -> Client:
    return Client(
        agency_id="agency-a",
        given_name="Ana",
        family_name="Silva",
        date_of_birth=date(1990, 1, 2),
        client_number="",
        preferred_language="",
        phone="",
        email="",
        address="",
    )


def grant(client: Client, consent_id: str = "c1", **overrides: Any) -> None:
    values: dict[str, Any] = {
        "consent_id": consent_id,
        "recipient_kind": "organisation",
        "recipient": "Bayview Clinic",
        "purpose": "treatment",
        "data": ["substance_use"],
        "effective_from": T0,
        "expires_on": None,
        "expires_on_event": "end_of_treatment",
        "form_sha256": FORM,
        "obtained_by": "worker-1",
        "expires_with_case": CASE,
    } | overrides
    client.grant_consent(**values)


def basis_for(client: Client, recipient: str = "Bayview Clinic", **kw: Any) -> Basis:
    values: dict[str, Any] = {
        "purpose": "treatment",
        "classes": ["substance_use"],
        "at": T0 + timedelta(days=1),
        "basis": None,
        "consent_id": "",
        "order_reference": "",
        "reason": "",
    } | kw
    return client.decide_basis(recipient, **values)


# ---- consent guards ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"expires_on_event": ""}, "expires on a date or on an event"),
        ({"expires_with_case": ""}, "names the case it happens to"),
        ({"expires_on_event": "end of treatment"}, "expires_on_event"),
        ({"form_sha256": "ABC"}, "SHA-256"),
        ({"data": []}, "names the data"),
        ({"data": ["all", "hiv"]}, "'all' stands alone"),
        ({"data": ["gossip"]}, "data must be one of"),
        ({"recipient": "  "}, "names its recipient"),
        ({"purpose": "fun"}, "purpose must be one of"),
        ({"obtained_by": ""}, "who obtained it"),
        ({"expires_on": date(2019, 1, 1)}, "cannot expire before"),
        (
            {"recipient_kind": "general_designation", "data": ["hiv"]},
            "general designation of recipients is for Part 2",
        ),
    ],
)
def test_a_consent_without_the_elements_part_2_asks_for_is_refused(
    as_worker: Recording, overrides: dict[str, Any], message: str
) -> None:
    client = a_client()

    with pytest.raises(InvalidValueError, match=message):
        grant(client, **overrides)

    assert client.consents == {}


def test_a_consent_is_version_1_when_granted_and_2_once_revoked(as_worker: Recording) -> None:
    client = a_client()
    grant(client)
    client.revoke_consent("c1", T0 + timedelta(days=3), "worker-1")

    consent = client.consents["c1"]

    assert (consent.version, consent.revoked_by) == (2, "worker-1")
    assert consent.in_force(T0 + timedelta(days=2)) and not consent.in_force(T0 + timedelta(days=3))
    with pytest.raises(InvalidTransitionError, match="already revoked"):
        client.revoke_consent("c1", T0 + timedelta(days=4), "worker-1")


def test_a_consent_expires_after_its_last_day_without_anyone_recording_it(
    as_worker: Recording,
) -> None:
    client = a_client()
    grant(client, expires_on=date(2020, 1, 10))
    consent = client.consents["c1"]

    assert consent.status(datetime(2020, 1, 10, 23, 59, tzinfo=UTC)) == "active"
    assert consent.status(datetime(2020, 1, 11, tzinfo=UTC)) == "expired"
    with pytest.raises(ConsentRequiredError):
        basis_for(client, at=datetime(2020, 1, 11, tzinfo=UTC))


# ---- the basis of a disclosure ----------------------------------------------------------
def test_a_covering_consent_is_cited_with_its_version_and_part_2_data_carries_the_notice(
    as_worker: Recording,
) -> None:
    client = a_client()
    grant(client)

    decided = basis_for(client, recipient="bayview  CLINIC")

    assert decided == Basis("consent", "c1", 1, REDISCLOSURE_NOTICE)


@pytest.mark.parametrize(
    ("kw", "gap"),
    [
        ({"recipient": "Housing First"}, "recipient 'Housing First'"),
        ({"purpose": "housing"}, "purpose housing"),
        ({"classes": ["substance_use", "hiv"]}, "class hiv"),
        ({"at": T0 - timedelta(days=1)}, "not_yet_effective"),
    ],
)
def test_a_disclosure_no_consent_covers_is_refused_naming_the_gap(
    as_worker: Recording, kw: dict[str, Any], gap: str
) -> None:
    client = a_client()
    grant(client)

    with pytest.raises(ConsentRequiredError) as refused:
        basis_for(client, **kw)

    considered = refused.value.details["consents_considered"]
    assert any(gap in g for g in considered[0]["not_covered"])


def test_unlabelled_data_needs_no_consent_and_carries_no_notice(as_worker: Recording) -> None:
    assert basis_for(a_client(), classes=[]) == Basis("not_required")


def test_an_exception_needs_a_reason_and_a_court_order_its_reference(
    as_worker: Recording,
) -> None:
    client = a_client()

    with pytest.raises(ReasonRequiredError):
        basis_for(client, basis="medical_emergency")
    with pytest.raises(InvalidValueError, match="names the order"):
        basis_for(client, basis="court_order", reason="subpoena")
    decided = basis_for(client, basis="court_order", reason="order", order_reference="2026-CV-1")
    assert decided.basis == "court_order" and decided.consent_id == ""
    with pytest.raises(InvalidValueError, match="basis must be one of"):
        basis_for(client, basis="because")


def test_a_general_designation_covers_a_recipient_only_when_cited(as_worker: Recording) -> None:
    client = a_client()
    grant(client, recipient_kind="general_designation", recipient="my treating providers")

    with pytest.raises(ConsentRequiredError):
        basis_for(client, recipient="Dr Okafor")
    assert basis_for(client, recipient="Dr Okafor", consent_id="c1").consent_id == "c1"


def test_an_emergency_disclosure_is_an_event_of_its_own_type(as_worker: Recording) -> None:
    client = a_client()
    decided = basis_for(client, basis="medical_emergency", reason="overdose")

    client.record_disclosure(
        "d1", "organisation", "County ER", "treatment", "phone", ["substance_use"], [],
        decided, "", T0,
    )  # fmt: skip

    event = client.collect_events()[-1]
    assert isinstance(event, Client.EmergencyDisclosureRecorded)
    assert (event.basis, event.notice) == ("medical_emergency", REDISCLOSURE_NOTICE)


# ---- labels -----------------------------------------------------------------------------
def test_a_substance_use_case_labels_every_entry_part_2_and_a_note_adds_its_own(
    as_worker: Recording,
) -> None:
    case = opened_case(specialty="substance_abuse")
    case.record_note("n1", "talked", "client", "phone", [], None, labels=["psychotherapy_notes"])

    assert case.labels_of(1) == ["substance_use"]
    assert case.labels_of(2) == ["substance_use", "psychotherapy_notes"]
    assert case.labelled_classes() == ["substance_use", "psychotherapy_notes"]


def test_relabelling_changes_what_the_case_discloses_and_a_set_aside_entry_drops_out(
    as_worker: Recording,
) -> None:
    case = opened_case(specialty="geriatric")
    case.assess_needs([{"domain": "medical", "level": "low"}])
    case.relabel_entry(2, ["hiv"], "the assessment mentions the diagnosis")

    assert case.labelled_classes() == ["hiv"]
    with pytest.raises(NothingToCorrectError):
        case.relabel_entry(2, ["hiv"], "again")
    case.mark_entry_in_error(2, "wrong client")
    assert case.labelled_classes() == []


def test_a_relabelled_case_reads_back_from_its_events(as_worker: Recording) -> None:
    case = opened_case(specialty="mental_health")
    case.record_note("n1", "talked", "client", "phone", [], None, labels=["hiv"])
    events = case.collect_events()

    replayed: Case | None = None
    for e in events:
        replayed = e.mutate(replayed)

    assert replayed is not None and replayed.entry_labels == {"2": ["mental_health", "hiv"]}


# ---- the property: no disclosure without a covering consent or an exception --------------
RECIPIENTS = ["Bayview Clinic", "Housing First"]
PURPOSES = ["treatment", "housing"]
CLASSES = [[], ["substance_use"], ["hiv"], ["substance_use", "hiv"]]

step = st.one_of(
    st.tuples(
        st.just("grant"),
        st.sampled_from(RECIPIENTS),
        st.sampled_from(PURPOSES),
        st.sampled_from([["all"], ["substance_use"], ["hiv"]]),
        st.one_of(st.none(), st.integers(0, 20)),
    ),
    st.tuples(st.just("revoke"), st.integers(0, 5)),
    st.tuples(st.just("wait"), st.integers(1, 10)),
    st.tuples(
        st.just("disclose"),
        st.sampled_from(RECIPIENTS),
        st.sampled_from(PURPOSES),
        st.sampled_from(CLASSES),
        st.sampled_from([None, None, None, "medical_emergency", "court_order"]),
    ),
)


def run(steps: list[tuple[Any, ...]]) -> tuple[Client, list[bool]]:
    """Apply the steps on a simulated clock; (the client, for each attempted disclosure
    whether it was refused for want of consent)."""
    with as_actor():
        client = a_client()
    clock, granted, refusals = T0, 0, list[bool]()
    for kind, *args in steps:
        if kind == "wait":
            clock += timedelta(days=args[0])
            continue
        with as_actor(effective_at=clock, reason="logged"):
            try:
                if kind == "grant":
                    recipient, purpose, data, days = args
                    expiry = None if days is None else (clock + timedelta(days=days)).date()
                    grant(client, f"c{granted}", recipient=recipient, purpose=purpose,
                          data=data, effective_from=clock, expires_on=expiry)  # fmt: skip
                    granted += 1
                elif kind == "revoke":
                    client.revoke_consent(f"c{args[0]}", clock, "worker-1")
                else:
                    recipient, purpose, classes, exception = args
                    order = "ORDER-1" if exception == "court_order" else ""
                    decided = client.decide_basis(
                        recipient, purpose, classes, clock, exception, "", order, "logged"
                    )
                    client.record_disclosure(
                        f"d{len(refusals)}", "organisation", recipient, purpose, "phone",
                        classes, [], decided, order, clock,
                    )  # fmt: skip
                    refusals.append(False)
            except ConsentRequiredError:
                refusals.append(True)
            except DomainError:
                pass
    return client, refusals


def consents_then(events: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """The consents the events before a disclosure recorded, folded independently of the
    aggregate: id -> the grant's fields and when it was revoked."""
    found: dict[str, dict[str, Any]] = {}
    for e in events:
        if isinstance(e, Client.ConsentGranted):
            found[e.consent_id] = vars(e) | {"revoked_from": None, "version": 1}
        elif isinstance(e, Client.ConsentRevoked):
            found[e.consent_id] |= {"revoked_from": e.revoked_from, "version": 2}
    return found


def covers(c: dict[str, Any], recipient: str, purpose: str, classes: list[str], at: Any) -> bool:
    in_force = (
        c["effective_from"] <= at
        and (c["expires_on"] is None or at.date() <= c["expires_on"])
        and (c["revoked_from"] is None or at < c["revoked_from"])
    )
    data_ok = "all" in c["data"] or set(classes) <= set(c["data"])
    named = c["recipient"].casefold() == recipient.casefold()
    return in_force and named and c["purpose"] == purpose and data_ok


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=30))
def test_no_disclosure_is_recorded_when_no_consent_in_force_or_exception_covered_it(
    steps: list[tuple[Any, ...]],
) -> None:
    client, _ = run(steps)
    events = client.collect_events()

    for i, event in enumerate(events):
        if not isinstance(event, DISCLOSURES):
            continue
        known = consents_then(events[:i])
        if event.basis == "consent":
            cited = known[event.consent_id]
            assert cited["version"] == event.consent_version
            args = (event.recipient, event.purpose, event.data_classes, event.disclosed_at)
            assert covers(cited, *args)
        elif event.basis == "not_required":
            assert not set(event.data_classes) & NEEDS_CONSENT
        else:
            assert event.basis in EXCEPTIONS and event.reason
    for i, event in enumerate(events):
        if not isinstance(event, DISCLOSURES) or event.basis != "not_required":
            continue
        args = (event.recipient, event.purpose, event.data_classes, event.disclosed_at)
        assert not any(covers(c, *args) for c in consents_then(events[:i]).values())


@settings(max_examples=150, deadline=None)
@given(st.lists(step, max_size=30))
def test_a_disclosure_is_refused_only_when_no_consent_in_force_covers_it(
    steps: list[tuple[Any, ...]],
) -> None:
    """The other half: the check refuses nothing a consent in force covered."""
    refused_steps = []
    done: list[tuple[Any, ...]] = []
    for s in steps:
        before = len(run(done)[1])
        done.append(s)
        client, refusals = run(done)
        if s[0] == "disclose" and len(refusals) > before and refusals[-1]:
            refused_steps.append((client, s, done_clock(done)))
    for client, (_, recipient, purpose, classes, _exception), at in refused_steps:
        known = consents_then(client.collect_events())
        assert not any(covers(c, recipient, purpose, classes, at) for c in known.values())


def done_clock(steps: list[tuple[Any, ...]]) -> datetime:
    return T0 + timedelta(days=sum(s[1] for s in steps if s[0] == "wait"))


def test_snapshots_taken_before_consents_and_labels_read_with_none(as_worker: Recording) -> None:
    client, case = a_client(), opened_case()
    old_client = snapshot_state(client)
    del old_client["consents"], old_client["disclosures_recorded"]
    old_case = snapshot_state(case) | {"class_version": 6}
    del old_case["entry_labels"]

    assert upcast_state(Client, old_client) == snapshot_state(client)
    assert upcast_state(Case, old_case) == snapshot_state(case)


# ---- expiry on an event of a named case ----------------------------------------------------
def test_a_consent_expiring_on_a_case_event_is_in_force_until_that_case_event_happened(
    as_worker: Recording,
) -> None:
    client = a_client()
    grant(client)
    closed = T0 + timedelta(days=3)
    consent = client.consent("c1")

    before = consent.status(closed - timedelta(seconds=1), {CASE: closed})
    after = consent.status(closed, {CASE: closed})
    unclosed = consent.status(closed + timedelta(days=30), {})

    assert (before, after, unclosed) == ("active", "expired", "active")


def test_a_disclosure_after_the_named_case_closed_is_refused_naming_the_expiry(
    as_worker: Recording,
) -> None:
    client = a_client()
    grant(client)

    with pytest.raises(ConsentRequiredError) as refused:
        basis_for(client, at=T0 + timedelta(days=2), ends={CASE: T0 + timedelta(days=1)})

    (considered,) = refused.value.details["consents_considered"]
    assert "(expired)" in considered["not_covered"][0]


def test_a_version_1_grant_reads_with_its_event_in_words_and_no_case() -> None:
    state = {"consent_id": "c1", "expires_on_event": "end of treatment"}

    Client.ConsentGranted.upcast_v1_v2(state)

    assert state["expires_with_case"] == ""
