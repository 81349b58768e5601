"""Each agency's idempotency rows are numbered 1, 2, 3, ... under their MACs, with a MAC'd
head per agency, both written in the rows' own transaction: a row deleted in the middle
leaves a gap and the newest deleted leave the head ahead, both named by `verify --all`; a
head edited or deleted is found and never vouched for by the next write; concurrent,
grouped and rolled-back writes leave the numbers without a gap; `db init` numbers a store
from before them and `db rotate-key` re-MACs the heads.  On both stores."""

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import pytest

from caserecord.access import Tables, TokenStore
from caserecord.application import CaseRecords
from caserecord.audit import Report, UnsealableStoreError, verify_all
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.persistence.group_commit import GroupCommit
from caserecord.persistence.mac import Macs
from caserecord.provision import init_store
from caserecord.store import StoreError, open_records
from tests.factories import an_open_case
from tests.integration.stored_rows import StoredRows
from tests.integration.test_tamper_upgrade import drop_idempotency_numbers

WHERE_ROWS = "idempotency keys of agency agency-a"
WHERE_HEAD = "idempotency head of agency agency-a"


def problems(report: Report) -> list[tuple[str, str]]:
    return [(p.where, p.problem) for p in report.problems]


def keyed_note(records: CaseRecords, worker: Actor, case_id: UUID, key: str) -> None:
    records.record_note(
        worker,
        case_id,
        text=f"note {key}",
        contact_kind="client",
        contact_mode="phone",
        idempotency=(key, f"fp-{key}"),
    )


def numbers(rows: StoredRows, agency: str = "agency-a") -> list[int]:
    return [
        int(n)
        for (n,) in rows._run(
            "SELECT seq FROM idempotency_keys WHERE agency_id=? ORDER BY seq", agency
        )
    ]


def head(rows: StoredRows, agency: str = "agency-a") -> int | None:
    found = rows._run("SELECT last_seq FROM idempotency_heads WHERE agency_id=?", agency)
    return int(found[0][0]) if found else None


@pytest.fixture
def three_keys(records: CaseRecords, worker: Actor, database_url: str) -> UUID:
    case_id = an_open_case(records, worker)
    for key in ("k1", "k2", "k3"):
        keyed_note(records, worker, case_id, key)
    return case_id


def test_keyed_writes_are_numbered_and_an_untouched_store_verifies(
    records: CaseRecords, database_url: str, three_keys: UUID
) -> None:
    rows = StoredRows(database_url)

    report = verify_all(records)

    assert report.ok, problems(report)
    assert numbers(rows) == [1, 2, 3] and head(rows) == 3


def test_a_row_deleted_in_the_middle_is_named_and_its_retry_runs_again(
    records: CaseRecords, worker: Actor, database_url: str, three_keys: UUID
) -> None:
    StoredRows(database_url)._run("DELETE FROM idempotency_keys WHERE idem_key='k2'")

    found = problems(verify_all(records))

    assert found == [(WHERE_ROWS, "keys numbered 2..2 are missing (rows deleted)")]
    # At retry time nothing tells: the command runs again (a duplicate).
    assert records.find_idempotent_result(worker, "k2") is None


def test_the_newest_rows_deleted_leave_the_head_ahead_and_stay_found_after_the_next_write(
    records: CaseRecords, worker: Actor, database_url: str, three_keys: UUID
) -> None:
    rows = StoredRows(database_url)
    rows._run("DELETE FROM idempotency_keys WHERE idem_key IN ('k2', 'k3')")

    found = problems(verify_all(records))
    keyed_note(records, worker, three_keys, "k4")
    after = problems(verify_all(records))

    assert found == [(WHERE_HEAD, "the agency's keys numbered 2..3 are missing (its newest)")]
    assert after == [(WHERE_ROWS, "keys numbered 2..3 are missing (rows deleted)")]
    assert numbers(rows) == [1, 4]


@pytest.mark.parametrize("edit", ["lowered", "raised", "deleted"])
def test_a_head_edited_or_deleted_is_found_and_not_vouched_for_by_the_next_write(
    records: CaseRecords,
    worker: Actor,
    database_url: str,
    three_keys: UUID,
    edit: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows = StoredRows(database_url)
    if edit == "deleted":
        rows._run("DELETE FROM idempotency_heads")
    else:
        if edit == "lowered":  # the newest row deleted, the head set back over it
            rows._run("DELETE FROM idempotency_keys WHERE idem_key='k3'")
        rows._run("UPDATE idempotency_heads SET last_seq=?", 2 if edit == "lowered" else 5)

    found = problems(verify_all(records))
    with caplog.at_level(logging.ERROR, logger="caserecord.integrity"):
        keyed_note(records, worker, three_keys, "k4")
    after = problems(verify_all(records))

    expected = {
        "lowered": "the head fails its MAC",
        "raised": "the head fails its MAC",
        "deleted": "the agency has keys numbered up to 3 but no head (deleted)",
    }[edit]
    assert found == [(WHERE_HEAD, expected)]
    # Numbered past the rows, its head written back without a MAC: still found.
    assert (WHERE_HEAD, "the head fails its MAC") in after
    assert numbers(rows)[-1] == (3 if edit == "lowered" else 4)
    assert "idempotency head of agency agency-a is" in caplog.text


def test_a_rolled_back_keyed_save_leaves_no_gap(
    records: CaseRecords, worker: Actor, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = an_open_case(records, worker)
    keyed_note(records, worker, case_id, "k1")
    original: Callable[..., str] = Macs.idempotency_head

    def fail(self: Macs, *args: Any) -> str:
        monkeypatch.setattr(Macs, "idempotency_head", original)
        raise RuntimeError("the connection was lost")

    monkeypatch.setattr(Macs, "idempotency_head", fail)
    with pytest.raises(RuntimeError):
        keyed_note(records, worker, case_id, "lost")
    keyed_note(records, worker, case_id, "k2")

    report = verify_all(records)

    assert report.ok, problems(report)
    assert numbers(StoredRows(database_url)) == [1, 2]


def test_concurrent_keyed_writes_of_two_processes_and_a_token_are_numbered_without_a_gap(
    records: CaseRecords, settings: Settings, worker: Actor, database_url: str
) -> None:
    other = open_records(settings)  # another process's recorder, connections and groups
    try:
        cases = [an_open_case(records, worker) for _ in range(8)]
        tokens = TokenStore(Tables(other))

        def write(n: int) -> None:
            app = records if n % 2 else other
            for round_ in range(4):
                keyed_note(app, worker, cases[n], f"k{n}-{round_}")
            tokens.create(
                agency_id="agency-a", role="caseworker", name=f"t{n}", idempotency=(f"t{n}", "fp")
            )

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(write, range(8)))
        report = verify_all(records)
    finally:
        other.close()

    assert report.ok, problems(report)
    rows = StoredRows(database_url)
    assert numbers(rows) == list(range(1, 8 * 5 + 1)) and head(rows) == 40


def hold_first_flight(app: CaseRecords, queued: int) -> None:
    """The first flight waits until ``queued`` saves queue behind it, so they form a group."""
    recorder: Any = app.recorder
    group: GroupCommit = recorder.group_commit
    flight = group.flight
    held: list[bool] = []

    def held_flight(events: Sequence[Any], records: list[Any]) -> Sequence[int]:
        if not held:
            held.append(True)
            deadline = time.monotonic() + 30
            while len(group._queue) < queued and time.monotonic() < deadline:
                time.sleep(0.005)
        return flight(events, records)

    group.flight = held_flight


@pytest.mark.parametrize("refused", [False, True])
def test_a_groups_keyed_saves_are_numbered_in_order_also_when_resent_save_by_save(
    records: CaseRecords, worker: Actor, database_url: str, refused: bool
) -> None:
    """``refused``: one save of the group reuses a stored key, so the store refuses the group
    as a whole and it is sent again save by save."""
    first = an_open_case(records, worker)
    keyed_note(records, worker, first, "taken")
    cases = [an_open_case(records, worker) for _ in range(6)]
    group: Any = records.recorder.group_commit  # type: ignore[attr-defined]
    before = group.groups
    hold_first_flight(records, queued=6)

    def note(n: int) -> Exception | None:
        key = "taken" if refused and n == 3 else f"g{n}"
        try:
            records.record_note(
                worker, cases[n], text="grouped", contact_kind="client", contact_mode="phone",
                idempotency=(key, f"fp-{key}" if key != "taken" else "other"),
            )  # fmt: skip
        except Exception as e:  # the refused save's own error
            return e
        return None

    with ThreadPoolExecutor(7) as pool:
        lead = pool.submit(keyed_note, records, worker, first, "lead")
        while not group._flying and not lead.done():
            time.sleep(0.001)
        outcomes = list(pool.map(note, range(6)))
        lead.result()

    report = verify_all(records)
    rows = StoredRows(database_url)

    assert report.ok, problems(report)
    failed = [n for n, e in enumerate(outcomes) if e is not None]
    assert failed == ([3] if refused else [])
    assert numbers(rows) == list(range(1, 8 - len(failed) + 1))
    assert head(rows) == 8 - len(failed)
    assert group.groups - before <= (7 if refused else 2)


def test_db_init_numbers_a_store_from_before_the_numbers_and_the_service_waits_for_it(
    records: CaseRecords, settings: Settings, worker: Actor, outsider: Actor, database_url: str
) -> None:
    case_a = an_open_case(records, worker)
    for key in ("a1", "a2", "a3"):
        keyed_note(records, worker, case_a, key)
    case_b = an_open_case(records, outsider)
    keyed_note(records, outsider, case_b, "b1")
    TokenStore(Tables(records)).create(
        agency_id="agency-a", role="caseworker", name="w", idempotency=("a4", "fp")
    )
    rows = StoredRows(database_url)
    drop_idempotency_numbers(rows)
    # The rows as sealed before the numbers: their MACs without one.
    macs = records.integrity_macs
    for agency, key, fingerprint, result, created_at in rows._run(
        "SELECT agency_id, idem_key, fingerprint, result, created_at FROM idempotency_keys"
    ):
        rows._run(
            "UPDATE idempotency_keys SET mac=? WHERE agency_id=? AND idem_key=?",
            macs.unnumbered_idempotency(agency, key, fingerprint, result, str(created_at)),
            agency,
            key,
        )
    with pytest.raises(StoreError, match="run `caserecord db init`"):
        open_records(settings)

    init_store(settings)
    init_store(settings)  # once: a second run finds them numbered

    app = open_records(settings)
    try:
        keyed_note(app, worker, case_a, "a5")
        intact = verify_all(app)
        replayed = app.find_idempotent_result(worker, "a2")
        order = [
            k
            for (k,) in rows._run(
                "SELECT idem_key FROM idempotency_keys WHERE agency_id='agency-a' ORDER BY seq"
            )
        ]
        rows._run("DELETE FROM idempotency_keys WHERE idem_key='a5'")
        gone = problems(verify_all(app))
    finally:
        app.close()
    assert intact.ok, problems(intact)
    assert replayed is not None and replayed.result["id"] == str(case_a)
    assert order == ["a1", "a2", "a3", "a4", "a5"]
    assert numbers(rows, "agency-b") == [1] and head(rows, "agency-b") == 1
    assert gone == [(WHERE_HEAD, "the agency's keys numbered 5..5 are missing (its newest)")]


def test_a_head_deleted_from_a_numbered_store_is_not_made_again_by_db_init(
    records: CaseRecords,
    settings: Settings,
    worker: Actor,
    outsider: Actor,
    database_url: str,
    three_keys: UUID,
) -> None:
    keyed_note(records, outsider, an_open_case(records, outsider), "b1")
    rows = StoredRows(database_url)
    rows._run("DELETE FROM idempotency_heads WHERE agency_id='agency-a'")

    with pytest.raises(UnsealableStoreError, match="agency agency-a have no head"):
        init_store(settings)
    rows._run("DELETE FROM idempotency_heads")
    with pytest.raises(StoreError, match="run `caserecord db init`"):
        open_records(settings)  # rows and no head at all: the service does not start
    with pytest.raises(UnsealableStoreError, match="have no head"):
        init_store(settings)  # numbered rows: a store given heads, not one from before
    app = open_records(settings, verifying=True)
    try:
        found = problems(verify_all(app))
    finally:
        app.close()
    assert (WHERE_HEAD, "the agency has keys numbered up to 3 but no head (deleted)") in found


def test_a_row_written_unnumbered_into_a_numbered_store_is_not_numbered_by_db_init(
    records: CaseRecords, settings: Settings, database_url: str, three_keys: UUID
) -> None:
    StoredRows(database_url)._run("UPDATE idempotency_keys SET seq=NULL WHERE idem_key='k3'")

    with pytest.raises(UnsealableStoreError, match="idempotency key k3 of agency agency-a"):
        init_store(settings)


def test_a_large_keyed_save_is_numbered_too(
    records: CaseRecords, worker: Actor, database_url: str, three_keys: UUID
) -> None:
    """A save too large for two flights (PostgreSQL's plain save) reads the heads itself."""
    StoredRows(database_url)._run("DELETE FROM idempotency_heads")  # and vouches for none
    records.record_note(
        worker, three_keys, text="x" * 40_000, contact_kind="client", contact_mode="phone",
        idempotency=("large", "fp"),
    )  # fmt: skip
    keyed_note(records, worker, three_keys, "after")

    found = problems(verify_all(records))

    assert numbers(StoredRows(database_url)) == [1, 2, 3, 4, 5]
    assert found == [(WHERE_HEAD, "the head fails its MAC")]
