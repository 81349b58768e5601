"""Standardized instruments through the service, on both stores: the registry in force,
administering with the definition version in force, scores, goals that target a score,
and safety flags."""

from typing import Any
from uuid import UUID

import pytest

from caserecord.application import CaseRecords
from caserecord.domain.errors import (
    CaseNotFoundError,
    DuplicateIdError,
    EntryNotFoundError,
    InstrumentNotFoundError,
    InvalidDefinitionError,
    InvalidResponseError,
    InvalidValueError,
    SafetyFlagNotFoundError,
)
from caserecord.domain.recording import Actor
from tests.factories import an_active_plan, an_open_case


def phq9(*values: int) -> dict[str, int]:
    return {str(i + 1): v for i, v in enumerate(values)}


LOW = phq9(1, 1, 1, 0, 0, 0, 0, 0, 0)  # 3: minimal
HIGH = phq9(2, 2, 2, 2, 2, 1, 1, 0, 0)  # 12: moderate
FLAGGED = phq9(1, 1, 0, 0, 0, 0, 0, 0, 1)  # 3, item 9 answered 1


def mood_definition(version: int, cut: int) -> dict[str, Any]:
    return {
        "code": "mood-2",
        "version": version,
        "title": "Two mood questions",
        "items": [
            {"id": i, "text": i, "options": [{"value": v, "label": str(v)} for v in (0, 1, 2)]}
            for i in ("a", "b")
        ],
        "scoring": {"method": "sum"},
        "bands": [
            {"label": "low", "min": 0, "max": cut - 1},
            {"label": "high", "min": cut, "max": 4},
        ],
    }


def test_the_shipped_instruments_are_in_force_for_every_agency(
    records: CaseRecords, worker: Actor
) -> None:
    listed = {i["code"]: i for i in records.list_instruments(worker)}

    assert {"phq-9", "gad-7", "audit-c", "dast-10", "asam", "katz-adl", "lawton-iadl"} <= set(
        listed
    )
    assert listed["phq-9"] | {"title": ""} == {
        "code": "phq-9", "title": "", "version": 1, "origin": "shipped", "versions_in_force": [1],
    }  # fmt: skip


def test_administering_records_responses_respondent_and_the_computed_score(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)

    made = records.administer_instrument(
        worker, case_id, instrument="phq-9", respondent="client", responses=HIGH
    )
    score = records.get_score(worker, case_id, made.version)

    assert made.entity_id == str(made.version)
    assert (score["instrument"], score["definition_version"]) == ("phq-9", 1)
    assert (score["total"], score["band"], score["flags"]) == (12, "moderate", [])
    assert score["respondent"] == "client"
    assert score["responses"] == HIGH
    assert records.get_case(worker, case_id)["safety_flags"] == []


def test_incomplete_responses_are_refused_naming_the_item_and_nothing_is_recorded(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    missing = {k: v for k, v in HIGH.items() if k != "7"}

    with pytest.raises(InvalidResponseError, match="item 7") as refused:
        records.administer_instrument(
            worker, case_id, instrument="phq-9", respondent="client", responses=missing
        )

    assert refused.value.details == {"item": "7"}
    assert records.get_case(worker, case_id)["version"] == 1


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"instrument": "phq-99"}, InstrumentNotFoundError),
        ({"respondent": "neighbour"}, InvalidValueError),
        ({"responses": HIGH | {"3": 7}}, InvalidResponseError),
    ],
)
def test_an_unknown_instrument_respondent_or_answer_is_refused(
    sqlite_records: CaseRecords, worker: Actor, changes: dict[str, Any], error: type
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    values: dict[str, Any] = {"instrument": "phq-9", "respondent": "client", "responses": HIGH}

    with pytest.raises(error):
        sqlite_records.administer_instrument(worker, case_id, **(values | changes))


def test_another_agency_cannot_administer_on_or_read_scores_of_a_case(
    sqlite_records: CaseRecords, worker: Actor, outsider: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)

    with pytest.raises(CaseNotFoundError):
        sqlite_records.administer_instrument(
            outsider, case_id, instrument="phq-9", respondent="client", responses=HIGH
        )
    with pytest.raises(CaseNotFoundError):
        sqlite_records.case_scores(outsider, case_id)


def test_an_agency_definition_is_validated_versioned_and_used_for_new_scores_only(
    records: CaseRecords, worker: Actor, outsider: Actor
) -> None:
    case_id = an_open_case(records, worker)
    records.add_instrument(worker, definition=mood_definition(1, 3))
    first = records.administer_instrument(
        worker, case_id, instrument="mood-2", respondent="clinician", responses={"a": 1, "b": 1}
    )

    records.add_instrument(worker, definition=mood_definition(2, 2))
    second = records.administer_instrument(
        worker, case_id, instrument="mood-2", respondent="clinician", responses={"a": 1, "b": 1}
    )

    old, new = (records.get_score(worker, case_id, r.version) for r in (first, second))
    assert (old["definition_version"], old["band"]) == (1, "low")
    assert (new["definition_version"], new["band"]) == (2, "high")
    assert [v["version"] for v in records.get_instrument(worker, "mood-2")["versions"]] == [1, 2]
    assert "mood-2" not in {i["code"] for i in records.list_instruments(outsider)}


def test_a_definition_that_cannot_score_or_does_not_move_the_version_on_is_refused(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    broken = mood_definition(1, 3) | {"bands": [{"label": "low", "min": 0, "max": 1}]}

    with pytest.raises(InvalidDefinitionError, match="bands must cover"):
        sqlite_records.add_instrument(worker, definition=broken)
    with pytest.raises(DuplicateIdError, match="phq-9 is at version 1"):
        phq = sqlite_records.get_instrument(worker, "phq-9")["versions"][0]
        sqlite_records.add_instrument(
            worker, definition={k: v for k, v in phq.items() if k != "origin"}
        )


def test_an_agency_can_put_a_new_version_of_a_shipped_instrument_in_force(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    phq = sqlite_records.get_instrument(worker, "phq-9")["versions"][0]
    newer = {k: v for k, v in phq.items() if k != "origin"} | {"version": 2}

    sqlite_records.add_instrument(worker, definition=newer)

    found = sqlite_records.get_instrument(worker, "phq-9")
    assert (found["version"], found["origin"], found["versions_in_force"]) == (2, "agency", [1, 2])


def test_case_scores_list_newest_first_per_instrument_and_leave_out_those_in_error(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    gave = [
        records.administer_instrument(
            worker, case_id, instrument=code, respondent="client", responses=answers
        ).version
        for code, answers in (("phq-9", HIGH), ("gad-7", {str(i): 1 for i in range(1, 8)}),
                              ("phq-9", LOW), ("phq-9", HIGH))
    ]  # fmt: skip
    records.mark_entry_in_error(worker, case_id, target_version=gave[3], reason="wrong client")

    phq = records.case_scores(worker, case_id, instrument="phq-9")
    every = records.case_scores(worker, case_id, limit=2)

    assert [s["version"] for s in phq] == [gave[2], gave[0]]
    assert [s["version"] for s in every] == [gave[2], gave[1]]
    with pytest.raises(EntryNotFoundError):
        records.get_score(worker, case_id, gave[3])


def test_a_safety_flag_is_due_at_once_and_closes_when_reviewed(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)

    flagged = records.administer_instrument(
        worker, case_id, instrument="phq-9", respondent="client", responses=FLAGGED
    )
    due = records.get_case(worker, case_id)["safety_flags"]
    records.review_safety_flag(
        worker, case_id, flag_version=flagged.version, note="Safety plan made with client."
    )

    assert due == [
        {"version": flagged.version, "instrument": "phq-9", "flags": ["self-harm-thoughts"],
         "reviewed_in": None, "in_error": False, "labels": [], "restricted": False}
    ]  # fmt: skip
    assert records.get_case(worker, case_id)["safety_flags"] == []
    with pytest.raises(SafetyFlagNotFoundError):
        records.review_safety_flag(worker, case_id, flag_version=flagged.version, note="again")


def test_an_administration_marked_in_error_takes_its_safety_flag_with_it(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    flagged = sqlite_records.administer_instrument(
        worker, case_id, instrument="phq-9", respondent="client", responses=FLAGGED
    )

    sqlite_records.mark_entry_in_error(
        worker, case_id, target_version=flagged.version, reason="another client's form"
    )

    assert sqlite_records.get_case(worker, case_id)["safety_flags"] == []
    assert sqlite_records.verify_stream(case_id).ok


def a_goal_below(records: CaseRecords, worker: Actor, case_id: UUID, score: int) -> str:
    plan_id = an_active_plan(records, worker, case_id)
    goal_id = records.add_goal(
        worker, case_id, plan_id=plan_id, description="Less depressed",
        need_domain="psychiatric", target_instrument="phq-9", target_score=score,
        direction="below",
    ).entity_id  # fmt: skip
    assert goal_id is not None
    return goal_id


def test_a_goal_targeting_a_score_shows_progress_from_the_administrations(
    records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    goal_id = a_goal_below(records, worker, case_id, 10)
    for answers in (HIGH, LOW):
        records.administer_instrument(
            worker, case_id, instrument="phq-9", respondent="client", responses=answers
        )

    goal = records.get_goal(worker, case_id, goal_id)

    assert goal["score_target"] == {"instrument": "phq-9", "score": 10, "direction": "below"}
    assert [(s["total"], s["band"], s["met"]) for s in goal["scores"]] == [
        (12, "moderate", False),
        (3, "minimal", True),
    ]


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ({"target_instrument": "nope", "target_score": 1, "direction": "below"},
         InstrumentNotFoundError),
        ({"target_instrument": "phq-9", "direction": "below"}, InvalidValueError),
        ({"target_instrument": "phq-9", "target_score": 5, "direction": "sideways"},
         InvalidValueError),
        ({"target_score": 5}, InvalidValueError),
    ],
)  # fmt: skip
def test_a_score_target_must_name_a_known_instrument_a_score_and_a_direction(
    sqlite_records: CaseRecords, worker: Actor, target: dict[str, Any], error: type
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    plan_id = an_active_plan(sqlite_records, worker, case_id)

    with pytest.raises(error):
        sqlite_records.add_goal(
            worker, case_id, plan_id=plan_id, description="x", need_domain="psychiatric",
            **target,
        )  # fmt: skip
