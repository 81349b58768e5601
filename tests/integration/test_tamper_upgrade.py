"""`db init` on a store written before the MACs and the tree (both stores, and the fixture
written by the code of Case class version 4) seals what is there once, after which
`verify --all` and the service hold; a store not yet sealed is refused, and a damaged
one is not sealed."""

import shutil
from pathlib import Path
from uuid import UUID

import pytest

from caserecord.access import AccessLog, Reader, Subject, Tables, TokenStore
from caserecord.access.log import ACCESS_COLUMNS
from caserecord.api.feed import agency_events
from caserecord.application import CaseRecords
from caserecord.audit import UnsealableStoreError, verify_all
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.provision import init_store
from caserecord.store import StoreError, open_records
from tests.factories import a_client, an_open_case
from tests.integration.stored_rows import StoredRows
from tests.scenario import extend_case, run_core_scenario

FIXTURE = Path(__file__).parent.parent / "fixtures" / "v4_store.db"


def keyed_note(records: CaseRecords, worker: Actor, case_id: UUID, key: str) -> None:
    records.record_note(
        worker,
        case_id,
        text="keyed",
        contact_kind="client",
        contact_mode="phone",
        idempotency=(key, "fingerprint"),
    )


def drop_idempotency_numbers(rows: StoredRows) -> None:
    """The idempotency table as the version before its numbers made it."""
    rows._run("DROP INDEX idempotency_keys_seq")
    rows._run("DROP INDEX idempotency_keys_unnumbered")
    rows._run("ALTER TABLE idempotency_keys DROP COLUMN seq")
    rows._run("DROP TABLE idempotency_heads")


def unseal(rows: StoredRows) -> None:
    """What a store written by the version before the MACs holds: no MACs, no tree."""
    for statement in (
        "UPDATE event_chain SET mac=NULL, leaf=NULL",
        "UPDATE event_agency SET mac=NULL, seq=NULL",
        "UPDATE api_tokens SET mac=NULL",
        "UPDATE access_log SET mac=NULL",
        "UPDATE access_log_subjects SET seq=NULL",
        "UPDATE idempotency_keys SET mac=NULL, seq=NULL",
        "DELETE FROM idempotency_heads",
        "DELETE FROM access_log_heads",
        "DELETE FROM token_ledger_head",
        "DELETE FROM snapshot_macs",
        "DELETE FROM merkle_nodes",
        "DELETE FROM merkle_head",
    ):
        rows._run(statement)


@pytest.fixture
def old_store(
    records: CaseRecords, settings: Settings, database_url: str, worker: Actor, supervisor: Actor
) -> tuple[StoredRows, str]:
    scenario = run_core_scenario(records, worker, supervisor)
    extend_case(records, worker, scenario, 110)
    keyed_note(records, worker, an_open_case(records, worker), "note-key")
    tables = Tables(records)
    _, secret = TokenStore(tables).create(agency_id="agency-a", role="caseworker", name="w")
    reader = Reader(worker.id, worker.role, worker.agency_id, "t", "care")
    AccessLog(tables).record(reader, "read_case", [Subject(scenario.client_id, scenario.case_id)])
    rows = StoredRows(database_url)
    unseal(rows)
    return rows, secret


def test_an_unsealed_store_is_refused_until_db_init_seals_it(
    old_store: tuple[StoredRows, str], settings: Settings
) -> None:
    _, secret = old_store
    with pytest.raises(StoreError, match="run `caserecord db init`"):
        open_records(settings)
    seen: list[tuple[int, int]] = []

    sealed = init_store(settings, progress=lambda done, total: seen.append((done, total)))

    app = open_records(settings)
    try:
        report = verify_all(app)
        assert report.ok, report.problems
        assert sealed == report.events == report.tree_size > 110
        assert seen[-1] == (sealed, sealed)
        assert report.snapshots >= 1 and report.tokens == 1 and report.access_entries == 1
        assert report.idempotency_keys == 1
        assert TokenStore(Tables(app)).authenticate(secret) is not None
        assert app.find_idempotent_result(Actor("worker-1", "caseworker", "agency-a"), "note-key")
    finally:
        app.close()
    assert init_store(settings) == 0  # once only


def test_a_damaged_stream_is_not_sealed(
    old_store: tuple[StoredRows, str], settings: Settings, records: CaseRecords
) -> None:
    rows, _ = old_store
    (stream,) = rows._run("SELECT originator_id FROM event_chain WHERE originator_version=110")[0]
    rows.flip_byte(UUID(stream), 5)

    with pytest.raises(UnsealableStoreError, match=f"stream {stream} version 5"):
        init_store(settings)


def test_the_fixture_of_case_version_4_is_sealed_and_verifies(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    shutil.copy(FIXTURE, path)
    settings = Settings(database_url=f"sqlite:///{path}")

    sealed = init_store(settings)

    app = open_records(settings)
    try:
        report = verify_all(app)
    finally:
        app.close()
    assert report.ok, report.problems
    assert sealed == report.events > 0 and report.snapshots > 0


def unnumber(rows: StoredRows, records: CaseRecords) -> None:
    """What a store sealed by the version before the feed's numbers holds: feed rows whose
    MAC covers agency and position only, and no numbers."""
    macs = records.integrity_macs
    for agency, position in rows._run("SELECT agency_id, notification_id FROM event_agency"):
        rows._run(
            "UPDATE event_agency SET seq=NULL, mac=? WHERE agency_id=? AND notification_id=?",
            macs.unnumbered_feed(agency, position),
            agency,
            position,
        )


def test_a_store_sealed_before_the_feed_numbers_is_numbered_once_by_db_init(
    records: CaseRecords, settings: Settings, database_url: str, worker: Actor, supervisor: Actor
) -> None:
    run_core_scenario(records, worker, supervisor)
    rows = StoredRows(database_url)
    unnumber(rows, records)
    with pytest.raises(StoreError, match="run `caserecord db init`"):
        open_records(settings)

    init_store(settings)

    app = open_records(settings)
    try:
        app.register_client(worker, given_name="Ana", family_name="After")
        report = verify_all(app)
        *_, integrity = agency_events(app, "agency-a", after=0, limit=1000)
    finally:
        app.close()
    assert report.ok, report.problems
    assert integrity.intact
    numbers = [
        n
        for (n,) in rows._run(
            "SELECT seq FROM event_agency WHERE agency_id='agency-a' ORDER BY notification_id"
        )
    ]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) > 3


def test_a_feed_row_moved_before_the_numbers_is_not_numbered(
    records: CaseRecords, settings: Settings, database_url: str, worker: Actor, supervisor: Actor
) -> None:
    run_core_scenario(records, worker, supervisor)
    rows = StoredRows(database_url)
    unnumber(rows, records)
    ((position,),) = rows._run(
        "SELECT MIN(notification_id) FROM event_agency WHERE agency_id='agency-a'"
    )
    rows._run("UPDATE event_agency SET agency_id='agency-b' WHERE notification_id=?", position)

    with pytest.raises(UnsealableStoreError, match=f"agency agency-b at position {position}"):
        init_store(settings)


def unnumber_access_log(rows: StoredRows, records: CaseRecords) -> None:
    """What a store sealed by the version before the access log's numbers holds: subject
    rows without numbers, entries whose MAC covers their subjects without them, no heads."""
    macs = records.integrity_macs
    rows._run("UPDATE access_log_subjects SET seq=NULL")
    rows._run("DELETE FROM access_log_heads")
    columns = ", ".join(ACCESS_COLUMNS)
    for entry in rows._run(f"SELECT {columns} FROM access_log"):
        named = rows._run(
            "SELECT agency_id, client_id, case_id FROM access_log_subjects WHERE entry_id=?",
            entry[0],
        )
        rows._run(
            "UPDATE access_log SET mac=? WHERE entry_id=?",
            macs.access_entry(entry, named),
            entry[0],
        )


def test_an_access_log_from_before_its_numbers_is_numbered_once_by_db_init(
    records: CaseRecords, settings: Settings, database_url: str, worker: Actor, supervisor: Actor
) -> None:
    scenario = run_core_scenario(records, worker, supervisor)
    other = a_client(records, worker)
    log = AccessLog(Tables(records))
    reader = Reader(worker.id, worker.role, worker.agency_id, "t", "care", "r")
    for subjects in (
        [Subject(scenario.client_id)],
        [Subject(scenario.client_id, scenario.case_id), Subject(other)],
        [Subject(other)],
        [Subject(scenario.client_id)],
    ):
        log.record(reader, "read", subjects)
    rows = StoredRows(database_url)
    unnumber_access_log(rows, records)
    assert not verify_all(records).problems  # an unnumbered log is as sealed before
    with pytest.raises(RuntimeError, match="not numbered"):  # the API starts without it
        AccessLog(Tables(records)).check_numbered()

    init_store(settings)
    init_store(settings)  # once: a second run finds nothing to number

    app = open_records(settings)
    try:
        AccessLog(Tables(app)).check_numbered()
        AccessLog(Tables(app)).record(reader, "read", [Subject(scenario.client_id)])
        report = verify_all(app)
        served = AccessLog(Tables(app)).for_client("agency-a", scenario.client_id)
        integrity = AccessLog(Tables(app)).integrity(
            "agency-a", scenario.client_id, served, after=0
        )
    finally:
        app.close()
    assert report.ok, report.problems
    assert integrity == {"intact": True, "missing": []}
    assert [e["numbers"] for e in served] == [[1], [2], [3], [4]]
    assert all(e["intact"] for e in served)


def test_an_access_log_entry_edited_before_the_numbers_is_not_numbered(
    records: CaseRecords, settings: Settings, database_url: str, worker: Actor
) -> None:
    client = a_client(records, worker)
    reader = Reader(worker.id, worker.role, worker.agency_id, "t", "care", "r")
    AccessLog(Tables(records)).record(reader, "read", [Subject(client)])
    rows = StoredRows(database_url)
    unnumber_access_log(rows, records)
    ((entry_id,),) = rows._run("SELECT MAX(entry_id) FROM access_log")
    rows._run("UPDATE access_log SET purpose='audit' WHERE entry_id=?", entry_id)

    with pytest.raises(UnsealableStoreError, match=f"access-log entry {entry_id} fails its MAC"):
        init_store(settings)


def test_idempotency_keys_stored_before_their_macs_are_sealed_by_db_init_and_replayed(
    records: CaseRecords, settings: Settings, database_url: str, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    keyed_note(records, worker, case_id, "note-1")
    keyed_note(records, worker, case_id, "note-2")
    rows = StoredRows(database_url)
    # The table as the version before the MACs made it: without the columns or the heads.
    drop_idempotency_numbers(rows)
    rows._run("DROP INDEX idempotency_keys_unsealed")
    rows._run("ALTER TABLE idempotency_keys DROP COLUMN mac")
    with pytest.raises(StoreError, match="run `caserecord db init`"):
        open_records(settings)

    init_store(settings)
    init_store(settings)  # once: a second run finds nothing to seal

    app = open_records(settings)
    try:
        report = verify_all(app)
        found = app.find_idempotent_result(worker, "note-2")
    finally:
        app.close()
    assert report.ok, report.problems
    assert report.idempotency_keys == 2
    assert found is not None and found.result["id"] == str(case_id)


def test_an_idempotency_key_without_a_mac_in_a_sealed_store_is_not_sealed_by_db_init(
    records: CaseRecords, settings: Settings, database_url: str, worker: Actor
) -> None:
    case_id = an_open_case(records, worker)
    keyed_note(records, worker, case_id, "note-1")
    keyed_note(records, worker, case_id, "note-2")
    rows = StoredRows(database_url)
    rows._run("UPDATE idempotency_keys SET result='{}', mac=NULL WHERE idem_key='note-2'")
    with pytest.raises(StoreError, match="run `caserecord db init`"):
        open_records(settings)

    with pytest.raises(UnsealableStoreError, match="idempotency key note-2 of agency agency-a"):
        init_store(settings)

    app = open_records(settings, verifying=True)
    try:
        report = verify_all(app)
    finally:
        app.close()
    assert [p.where for p in report.problems] == ["idempotency key note-2 of agency agency-a"]


def test_a_store_from_before_the_heads_is_given_them_by_db_init(
    records: CaseRecords, settings: Settings, database_url: str, worker: Actor
) -> None:
    client, other = a_client(records, worker), a_client(records, worker)
    log = AccessLog(Tables(records))
    reader = Reader(worker.id, worker.role, worker.agency_id, "t", "care", "r")
    for subjects in ([Subject(client)], [Subject(client), Subject(other)], [Subject(client)]):
        log.record(reader, "read", subjects)
    tokens = TokenStore(Tables(records))
    tokens.create(agency_id="agency-a", role="caseworker", name="w")
    rows = StoredRows(database_url)
    rows._run("DROP TABLE access_log_heads")  # as the version before the heads made it
    rows._run("DROP TABLE token_ledger_head")
    with pytest.raises(Exception, match="access_log_heads"):  # the API starts without it
        AccessLog(Tables(records)).check_numbered()

    init_store(settings)
    init_store(settings)  # once: a second run finds the heads made

    app = open_records(settings)
    try:
        AccessLog(Tables(app)).check_numbered()
        AccessLog(Tables(app)).record(reader, "read", [Subject(client)])
        TokenStore(Tables(app)).create(agency_id="agency-a", role="caseworker", name="x")
        intact = verify_all(app)
        heads = rows._run("SELECT subject_key, last_seq FROM access_log_heads")
        ledger = rows._run("SELECT last_entry FROM token_ledger_head")
        newest = rows._run(
            "SELECT MAX(entry_id) FROM access_log_subjects WHERE client_id=?", str(client)
        )[0][0]
        rows._run("DELETE FROM access_log WHERE entry_id=?", newest)
        gone = verify_all(app)
    finally:
        app.close()
    assert intact.ok, intact.problems
    assert sorted(heads) == sorted([(str(client), 4), (str(other), 1)])
    assert ledger == [(2,)]
    assert (
        f"access-log head agency-a/{client}",
        "the subject's entries numbered 4..4 are missing (its newest)",
    ) in [(p.where, p.problem) for p in gone.problems]


def test_a_head_deleted_from_a_store_given_heads_is_not_made_again_by_db_init(
    records: CaseRecords, settings: Settings, database_url: str, worker: Actor
) -> None:
    client, other = a_client(records, worker), a_client(records, worker)
    reader = Reader(worker.id, worker.role, worker.agency_id, "t", "care", "r")
    AccessLog(Tables(records)).record(reader, "read", [Subject(client), Subject(other)])
    TokenStore(Tables(records)).create(agency_id="agency-a", role="caseworker", name="w")
    rows = StoredRows(database_url)
    rows._run("DELETE FROM access_log_heads WHERE subject_key=?", str(client))

    with pytest.raises(UnsealableStoreError, match=f"agency-a/{client} has entries but no head"):
        init_store(settings)
    rows._run("DELETE FROM access_log_heads")
    rows._run("DELETE FROM token_ledger_head")
    init_store(settings)  # a store without any head is one from before them
    rows._run("DELETE FROM token_ledger_head")
    with pytest.raises(UnsealableStoreError, match="token ledger has entries but no head"):
        init_store(settings)
