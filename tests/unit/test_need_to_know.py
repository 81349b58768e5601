from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder

from caserecord.domain.case import Case
from caserecord.domain.need_to_know import (
    Access,
    BreakGlassWindow,
    CaseFacts,
    ReaderFacts,
    Relation,
    entry_access,
    may_write,
    on_team,
    relation,
)
from caserecord.transcodings import all_transcodings

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
WINDOW = BreakGlassWindow("dana", NOW - timedelta(minutes=5), NOW + timedelta(minutes=25), "crisis")
CASE = CaseFacts("ana", frozenset({"ben"}), (WINDOW,))


@pytest.mark.parametrize(
    ("role", "staff_id", "expected"),
    [
        ("caseworker", "ana", Relation.OWN_CASE),
        ("caseworker", "ben", Relation.CARE_TEAM),
        ("supervisor", "sam", Relation.SUPERVISOR),
        ("supervisor", "ana", Relation.OWN_CASE),
        ("compliance_reviewer", "rita", Relation.REVIEWER),
        ("caseworker", "dana", Relation.BREAK_GLASS),
        ("caseworker", "carl", Relation.OTHER),
        ("caseworker", "", Relation.OTHER),
    ],
)
def test_a_readers_relation_to_a_case_follows_its_role_and_the_case(
    role: str, staff_id: str, expected: Relation
) -> None:
    assert relation(ReaderFacts(role, staff_id), CASE, NOW) is expected


@pytest.mark.parametrize(
    "moment", [NOW - timedelta(minutes=6), NOW + timedelta(minutes=25), NOW + timedelta(days=1)]
)
def test_a_break_glass_window_grants_nothing_outside_its_minutes(moment: datetime) -> None:
    assert relation(ReaderFacts("caseworker", "dana"), CASE, moment) is Relation.OTHER


@pytest.mark.parametrize(
    ("role", "staff_id", "expected"),
    [
        ("caseworker", "ana", True),
        ("caseworker", "ben", True),
        ("caseworker", "dana", True),
        ("caseworker", "carl", False),
        ("caseworker", "", False),
        ("supervisor", "sam", True),
    ],
)
def test_a_caseworker_writes_to_a_case_only_in_a_relation_with_a_need_to_know(
    role: str, staff_id: str, expected: bool
) -> None:
    assert may_write(ReaderFacts(role, staff_id), CASE, NOW) is expected


def test_a_caseworkers_write_through_a_break_glass_window_ends_with_it() -> None:
    later = NOW + timedelta(minutes=26)

    assert may_write(ReaderFacts("caseworker", "dana"), CASE, later) is False


PART2 = ["substance_use"]
PSY = ["psychotherapy_notes"]


@pytest.mark.parametrize(
    ("related", "labels", "author", "by_id", "expected"),
    [
        (Relation.OWN_CASE, [], "x", False, Access.FULL),
        (Relation.OTHER, [], "x", False, Access.FULL),
        (Relation.OWN_CASE, PART2, "x", False, Access.FULL),
        (Relation.CARE_TEAM, PART2, "x", False, Access.FULL),
        (Relation.SUPERVISOR, PART2, "x", False, Access.FULL),
        (Relation.REVIEWER, PART2, "x", False, Access.FULL),
        (Relation.BREAK_GLASS, PART2, "x", False, Access.FULL),
        (Relation.OTHER, PART2, "x", False, Access.PLACEHOLDER),
        (Relation.OTHER, PART2, "x", True, Access.PLACEHOLDER),
        (Relation.OWN_CASE, PSY, "x", False, Access.PLACEHOLDER),
        (Relation.OWN_CASE, PSY, "x", True, Access.HIDDEN),
        (Relation.SUPERVISOR, PSY, "x", True, Access.HIDDEN),
        (Relation.REVIEWER, PSY, "x", False, Access.PLACEHOLDER),
        (Relation.BREAK_GLASS, PSY, "x", True, Access.HIDDEN),
        (Relation.OWN_CASE, PSY, "me", True, Access.FULL),
        (Relation.OTHER, [*PSY, *PART2], "me", False, Access.PLACEHOLDER),
    ],
)
def test_an_entry_is_read_in_full_as_a_placeholder_or_not_at_all(
    related: Relation, labels: list[str], author: str, by_id: bool, expected: Access
) -> None:
    reader = ReaderFacts("caseworker", "me")
    assert entry_access(reader, related, labels, author, by_id=by_id) is expected


def test_a_consent_naming_the_reader_opens_psychotherapy_notes_to_them() -> None:
    reader = ReaderFacts("caseworker", "me", psychotherapy_consent=True)
    assert entry_access(reader, Relation.CARE_TEAM, PSY, "someone", by_id=True) is Access.FULL


def test_the_care_team_on_a_day_is_those_whose_period_covers_it() -> None:
    day = NOW.date()
    periods = [
        ("ben", day - timedelta(days=3), None),
        ("old", day - timedelta(days=9), day - timedelta(days=1)),
        ("new", day + timedelta(days=1), None),
        ("", day, None),
    ]
    assert on_team(periods, day) == {"ben"}


def test_a_break_glass_window_survives_a_snapshot() -> None:
    transcoder = JSONTranscoder()
    transcoder.register(DatetimeAsISO())
    for transcoding in all_transcodings():
        transcoder.register(transcoding)

    assert transcoder.decode(transcoder.encode([WINDOW])) == [WINDOW]


def test_a_case_snapshot_of_class_version_11_gains_no_break_glass_reads() -> None:
    state: dict[str, object] = {"entry_labels": {}}
    Case.upcast_v11_v12(state)

    assert Case.class_version == 12
    assert state["break_glass_reads"] == []
