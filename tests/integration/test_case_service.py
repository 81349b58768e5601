"""CaseRecords as a service: plain results, unknown ids, tenancy, versions, history."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from caserecord.application import CaseRecords, CommandResult
from caserecord.config import Settings
from caserecord.domain.errors import (
    CaseNotFoundError,
    ClientNotFoundError,
    DomainError,
    GoalNotFoundError,
    InvalidValueError,
    NoteNotFoundError,
    PlanNotFoundError,
    ReferralNotFoundError,
    VersionMismatchError,
)
from caserecord.domain.recording import Actor
from caserecord.history import case_as_of
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.factories import a_client, an_active_plan, an_open_case


def test_a_command_returns_ids_version_and_notification_position(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    client_id = a_client(sqlite_records, worker)

    result = sqlite_records.open_case(
        worker, client_id=client_id, specialty="child", referral_source="school",
        presenting_needs=["truancy"], interview_summary="", case_manager_id="worker-1",
    )  # fmt: skip
    noted = sqlite_records.record_note(
        worker, result.id, text="Met", contact_kind="client", contact_mode="video"
    )

    assert isinstance(result, CommandResult)
    assert (result.version, result.position) == (1, 2)
    assert (noted.id, noted.version, noted.position) == (result.id, 2, 3)
    assert noted.entity_id is not None and UUID(noted.entity_id)


def test_queries_return_plain_data_not_aggregates(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    an_active_plan(sqlite_records, worker, case_id)

    case = sqlite_records.get_case(worker, case_id)

    def plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str | int) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, str | int | float | bool | UUID | date)

    assert plain(case)
    assert case["current_plan"]["status"] == "active"
    assert case["current_plan"]["activities"] == [
        {"activity": "AA meeting", "cadence": "weekly", "time": "19:00"}
    ]


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (lambda app, a, _c: app.get_case(a, uuid4()), CaseNotFoundError),
        (lambda app, a, _c: app.record_note(a, uuid4(), text="x", contact_kind="client",
                                           contact_mode="phone"), CaseNotFoundError),
        (lambda app, a, _c: app.open_case(a, client_id=uuid4(), specialty="child",
                                         referral_source="", presenting_needs=[],
                                         interview_summary="", case_manager_id="w"),
         ClientNotFoundError),
        (lambda app, a, c: app.change_plan_status(a, c, plan_id="nope", action="activate"),
         PlanNotFoundError),
        (lambda app, a, c: app.change_goal_lifecycle(a, c, goal_id="nope", lifecycle="active"),
         GoalNotFoundError),
        (lambda app, a, c: app.accept_referral(a, c, referral_id="nope"), ReferralNotFoundError),
        (lambda app, a, c: app.append_addendum(a, c, note_id="nope", text="x"),
         NoteNotFoundError),
        (lambda app, a, c: app.get_client(a, c), ClientNotFoundError),  # a case id, not a client
    ],
)  # fmt: skip
def test_unknown_ids_are_domain_errors_with_codes(
    sqlite_records: CaseRecords, worker: Actor, command: object, error: type[DomainError]
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    an_active_plan(sqlite_records, worker, case_id)

    with pytest.raises(error) as refused:
        command(sqlite_records, worker, case_id)  # type: ignore[operator]

    assert refused.value.code.endswith("_not_found")
    assert sqlite_records.get_case(worker, case_id)["version"] == 3


def test_another_agency_cannot_see_or_change_a_case(
    sqlite_records: CaseRecords, worker: Actor, outsider: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)

    with pytest.raises(CaseNotFoundError):
        sqlite_records.get_case(outsider, case_id)
    with pytest.raises(CaseNotFoundError):
        sqlite_records.close_case(outsider, case_id, outcome="", reason="mine now")
    with pytest.raises(CaseNotFoundError):
        sqlite_records.case_events(outsider, case_id)
    with pytest.raises(CaseNotFoundError):
        sqlite_records.verify_case(outsider, case_id)

    assert sqlite_records.get_case(worker, case_id)["status"] == "open"


def test_reading_another_agencys_large_case_costs_what_an_unknown_id_costs(
    sqlite_url: str, worker: Actor, outsider: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=sqlite_url, aggregate_cache_size=0)
    init_store(settings)
    app = open_records(settings)
    case_id = an_open_case(app, worker)
    for n in range(120):
        app.record_note(
            worker, case_id, text=f"note {n}", contact_kind="client", contact_mode="phone"
        )
    client_id = app.get_case(worker, case_id)["client_id"]
    reads: list[int] = []
    for recorder in (app.recorder, app.snapshots.recorder):  # type: ignore[union-attr]
        select = recorder.select_events

        def counted(*args: Any, select: Any = select, **kwargs: Any) -> Any:
            found = select(*args, **kwargs)
            reads.append(len(found))
            return found

        monkeypatch.setattr(recorder, "select_events", counted)

    def cost(read: Callable[[], object]) -> list[int]:
        reads.clear()
        with pytest.raises((CaseNotFoundError, ClientNotFoundError)):
            read()
        return list(reads)

    unknown = cost(lambda: app.get_case(outsider, uuid4()))
    foreign = cost(lambda: app.get_case(outsider, case_id))
    foreign_client = cost(lambda: app.get_client(outsider, client_id))
    app.close()

    assert sum(foreign) <= 1 and sum(foreign_client) <= 1  # the first event at most
    assert len(foreign) == len(unknown) == len(foreign_client) == 1  # one query each


def test_a_case_cannot_be_opened_for_another_agencys_client(
    sqlite_records: CaseRecords, worker: Actor, outsider: Actor
) -> None:
    client_id = a_client(sqlite_records, worker)

    with pytest.raises(ClientNotFoundError):
        an_open_case(sqlite_records, outsider, client_id)


def test_an_unknown_plan_action_is_refused_naming_the_allowed_ones(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    plan_id = an_active_plan(sqlite_records, worker, case_id)

    with pytest.raises(InvalidValueError, match="activate, suspend, resume, complete, revoke"):
        sqlite_records.change_plan_status(worker, case_id, plan_id=plan_id, action="pause")


def test_a_stale_expected_version_is_refused(sqlite_records: CaseRecords, worker: Actor) -> None:
    case_id = an_open_case(sqlite_records, worker)
    sqlite_records.record_note(
        worker, case_id, text="a", contact_kind="client", contact_mode="phone", expected_version=1
    )

    with pytest.raises(VersionMismatchError, match="at version 2, not 1") as refused:
        sqlite_records.record_note(
            worker, case_id, text="b", contact_kind="client", contact_mode="phone",
            expected_version=1,
        )  # fmt: skip

    assert refused.value.code == "version_mismatch"
    assert len(sqlite_records.get_case(worker, case_id)["notes"]) == 1


def test_an_idempotency_key_is_stored_with_the_result_it_produced(
    sqlite_records: CaseRecords, worker: Actor, outsider: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)

    result = sqlite_records.record_note(
        worker, case_id, text="a", contact_kind="client", contact_mode="phone",
        idempotency=("key-1", "fp-1"),
    )  # fmt: skip

    found = sqlite_records.find_idempotent_result(worker, "key-1")
    assert found is not None
    assert (found.key, found.fingerprint, found.agency_id) == ("key-1", "fp-1", "agency-a")
    assert found.result == {"id": str(case_id), "version": 2, "entity_id": result.entity_id}
    assert sqlite_records.find_idempotent_result(outsider, "key-1") is None


def test_a_case_reads_back_at_each_earlier_version(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    plan_id = an_active_plan(sqlite_records, worker, case_id)

    assert sqlite_records.get_case(worker, case_id, version=1)["current_plan"] is None
    assert sqlite_records.get_case(worker, case_id, version=2)["current_plan"]["status"] == "draft"
    assert sqlite_records.get_case(worker, case_id, version=3)["current_plan"]["plan_id"] == plan_id


@pytest.mark.parametrize("version", [0, 4, 100])
def test_a_version_the_case_never_had_is_not_found(
    sqlite_records: CaseRecords, worker: Actor, version: int
) -> None:
    case_id = an_open_case(sqlite_records, worker)
    an_active_plan(sqlite_records, worker, case_id)

    with pytest.raises(CaseNotFoundError):
        sqlite_records.get_case(worker, case_id, version=version)


def test_a_case_reads_back_as_it_was_recorded_at_a_moment(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    before = datetime.now(UTC)
    case_id = an_open_case(sqlite_records, worker)
    sqlite_records.record_note(
        worker, case_id, text="a", contact_kind="client", contact_mode="phone"
    )
    between = sqlite_records.case_events(worker, case_id)[-1]["recorded_at"]
    sqlite_records.close_case(worker, case_id, outcome="", reason="done")

    at_note = case_as_of(sqlite_records, worker, case_id, recorded_at=between)
    now = case_as_of(sqlite_records, worker, case_id, recorded_at=datetime.now(UTC))

    assert (at_note["version"], at_note["status"]) == (2, "open")
    assert (now["version"], now["status"]) == (3, "closed")
    with pytest.raises(CaseNotFoundError, match="had not been opened"):
        case_as_of(sqlite_records, worker, case_id, recorded_at=before)


def test_case_events_list_the_client_and_case_events_in_recording_order(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    client_id = a_client(sqlite_records, worker)
    case_id = an_open_case(sqlite_records, worker, client_id)
    sqlite_records.correct_client_details(
        worker, client_id, changes={"phone": "555-0000"}, reason="new phone"
    )

    events = sqlite_records.case_events(worker, case_id)

    assert [(e["type"], e["stream_id"]) for e in events] == [
        ("Registered", client_id),
        ("Opened", case_id),
        ("DetailsCorrected", client_id),
    ]
    assert events[2]["data"]["changes"] == [
        {"field": "phone", "old": "555-0100", "new": "555-0000"}
    ]


def test_a_bare_string_is_not_taken_for_a_list_of_needs_or_people(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    client_id = a_client(sqlite_records, worker)
    case_id = an_open_case(sqlite_records, worker, client_id)

    with pytest.raises(InvalidValueError, match="presenting_needs must be a list of text"):
        sqlite_records.open_case(
            worker, client_id=client_id, specialty="child", referral_source="",
            presenting_needs="truancy", interview_summary="", case_manager_id="w",  # type: ignore[arg-type]
        )  # fmt: skip
    with pytest.raises(InvalidValueError, match="present must be a list of text"):
        sqlite_records.record_note(
            worker, case_id, text="x", contact_kind="client", contact_mode="phone",
            present="client",  # type: ignore[arg-type]
        )  # fmt: skip

    assert sqlite_records.get_case(worker, case_id)["version"] == 1


def test_a_moment_without_a_timezone_is_refused(sqlite_records: CaseRecords, worker: Actor) -> None:
    case_id = an_open_case(sqlite_records, worker)

    with pytest.raises(InvalidValueError, match="timezone"):
        case_as_of(sqlite_records, worker, case_id, recorded_at=datetime(2030, 1, 1))


@pytest.mark.parametrize("version", ["1", 1.0, True])
def test_a_case_version_must_be_a_whole_number(
    sqlite_records: CaseRecords, worker: Actor, version: object
) -> None:
    case_id = an_open_case(sqlite_records, worker)

    with pytest.raises(InvalidValueError, match="whole number"):
        sqlite_records.get_case(worker, case_id, version=version)  # type: ignore[arg-type]


def test_notes_read_back_with_their_dates_after_replay(
    sqlite_records: CaseRecords, worker: Actor
) -> None:
    happened = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    case_id = an_open_case(sqlite_records, worker, effective_at=happened)
    noted = sqlite_records.record_note(
        worker, case_id, text="Visit", contact_kind="client", contact_mode="in_person",
        effective_at=happened,
    )  # fmt: skip
    assert noted.entity_id is not None
    sqlite_records.append_addendum(worker, case_id, note_id=noted.entity_id, text="Later")
    sqlite_records.repository.cache = None  # replay from the store
    events = sqlite_records.case_events(worker, case_id)

    (note,) = sqlite_records.get_case(worker, case_id)["notes"]

    assert (note["effective_at"], note["recorded_at"]) == (happened, events[-2]["recorded_at"])
    assert note["addenda"][0]["recorded_at"] == events[-1]["recorded_at"]
