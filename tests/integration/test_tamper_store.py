"""A database insider's edits to a store of several agencies and streams, on both stores:
each is found by `verify --all` (the MACs under a key the database never holds, and the
Merkle tree), those before a signed checkpoint also by `chain check` offline, and the
service does not serve what was changed as intact."""

import json
import subprocess
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from caserecord.access import AccessLog, Reader, Subject, Tables, TokenStore
from caserecord.api.feed import agency_events
from caserecord.application import CaseRecords
from caserecord.audit import Report, verify_all
from caserecord.audit_indexes import verify_indexes
from caserecord.config import Settings
from caserecord.domain.errors import CaseNotFoundError
from caserecord.domain.recording import Actor
from caserecord.persistence.chain import (
    GENESIS,
    MissingEventsError,
    Record,
    Verification,
    chain,
    stream_key,
)
from caserecord.persistence.checkpoint import (
    CheckResult,
    check_against_checkpoint,
    check_checkpoints,
    sign_checkpoint,
)
from caserecord.persistence.idempotency import TamperedIdempotencyError
from caserecord.provision import init_store
from caserecord.store import StoreError, open_records
from tests.factories import a_client, an_open_case
from tests.integration.processes import CASERECORD, env_for
from tests.integration.stored_rows import StoredRows
from tests.scenario import ScenarioResult, extend_case, run_core_scenario

KEY = Ed25519PrivateKey.generate()


@dataclass
class Store:
    records: CaseRecords
    rows: StoredRows
    case_a: UUID  # agency-a's long case (a snapshot at version 100)
    other_a: UUID  # another case of agency-a
    case_b: UUID  # agency-b's case
    tokens: TokenStore
    secrets: dict[str, str]  # token id -> secret
    checkpoint: dict[str, Any]  # signed after all of the above
    client_a: UUID  # case_a's client, whom the access log's entries name
    goal_a: str = ""  # a goal and a referral of case_a, for a note to concern
    referral_a: str = ""

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.rows._run(query, *params)

    @property
    def position(self) -> str:
        return "notification_id" if self.rows.postgres else "rowid"

    def verify(self) -> Report:
        self.records.repository.cache = None
        return verify_all(self.records)

    def served(self, stream: UUID, agency: str = "agency-a") -> Verification:
        """What `GET /v1/cases/{id}/verification` says of the stream (its first check)."""
        reviewer = Actor("reviewer", "compliance_reviewer", agency)
        return self.records.verify_case(reviewer, stream)[0]

    def offline(self, stream: UUID) -> CheckResult:
        """`chain export --checkpoint` now, then `chain check` against the checkpoint."""
        export = self.records.export_stream(stream, int(self.checkpoint["tree"]["size"]))
        return check_against_checkpoint(export, self.checkpoint, KEY.public_key())


def parts(report: Report) -> set[str]:
    return {p.part for p in report.problems}


def sign(records: CaseRecords, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    head = records.tree_head()
    signed = sign_checkpoint(KEY, records.chain_heads(), "now", (head.size, head.root))
    if previous is not None:
        old = int(previous["tree"]["size"])
        proof = records.tree_consistency(old) if old <= head.size else []
        signed["consistency"] = {"size": old, "proof": [h.hex() for h in proof]}
    return signed


@pytest.fixture
def store(
    records: CaseRecords, database_url: str, worker: Actor, supervisor: Actor, outsider: Actor
) -> Store:
    scenario: ScenarioResult = run_core_scenario(records, worker, supervisor)
    extend_case(records, worker, scenario, 120)
    other_a = an_open_case(records, worker)
    records.record_note(worker, other_a, text="first", contact_kind="client", contact_mode="phone")
    records.record_note(
        worker,
        other_a,
        text="keyed",
        contact_kind="client",
        contact_mode="phone",
        idempotency=("note-key", "fingerprint"),
    )
    case_b = an_open_case(records, outsider, a_client(records, outsider))
    records.record_note(
        outsider, case_b, text="b note", contact_kind="client", contact_mode="phone"
    )
    tables = Tables(records)
    tokens = TokenStore(tables)
    secrets = {}
    for agency, role in (
        ("agency-a", "caseworker"),
        ("agency-b", "caseworker"),
        ("agency-a", "supervisor"),
    ):
        info, secret = tokens.create(agency_id=agency, role=role, name=f"{agency} {role}")
        secrets[info.token_id] = secret
    revoked, revoked_secret = tokens.create(
        agency_id="agency-a", role="admin", name="left", idempotency=("token-key", "fp")
    )
    tokens.revoke(revoked.token_id)
    secrets[revoked.token_id] = revoked_secret
    log = AccessLog(tables)
    for n in range(4):
        reader = Reader(worker.id, worker.role, worker.agency_id, "t", "care", f"r{n}")
        log.record(reader, "read_case", [Subject(scenario.client_id, scenario.case_id)])
    store = Store(
        records,
        StoredRows(database_url),
        scenario.case_id,
        other_a,
        case_b,
        tokens,
        secrets,
        sign(records),
        scenario.client_id,
        scenario.sobriety_goal_id,
        scenario.housing_referral_id,
    )
    assert store.verify().ok, store.verify().problems
    return store


def stored(store: Store, stream: UUID) -> list[Record]:
    return [
        Record(stream_key(s.originator_id), s.originator_version, s.topic, bytes(s.state))
        for s in store.records.recorder.select_events(stream)
    ]


def recompute_chain(store: Store, stream: UUID) -> None:
    """What an insider who knows the chain's algorithm does after an edit: every link
    rewritten to match; the links that come out as before keep their MACs, the others get
    MACs the insider cannot compute."""
    kept = {
        version: (digest, mac, leaf)
        for version, digest, mac, leaf in store.sql(
            "SELECT originator_version, hash, mac, leaf FROM event_chain WHERE originator_id=?",
            str(stream),
        )
    }
    store.sql("DELETE FROM event_chain WHERE originator_id=?", str(stream))
    for record, link in chain(GENESIS, stored(store, stream)):
        _, mac, leaf = kept.get(record.version, ("", "0" * 64, 0))
        if kept.get(record.version, ("",))[0] != link.hash:
            mac, leaf = "0" * 64, 0
        store.sql(
            "INSERT INTO event_chain (originator_id, originator_version, prev_hash, hash, mac, "
            "leaf) VALUES (?,?,?,?,?,?)",
            record.stream_id,
            record.version,
            link.prev_hash,
            link.hash,
            mac,
            leaf,
        )


def last_version(store: Store, stream: UUID) -> int:
    return max(r.version for r in stored(store, stream))


# ---- the events ------------------------------------------------------------------------


def verify_all_command(settings: Settings) -> subprocess.CompletedProcess[str]:
    """`caserecord verify --all --json` on the store, as a reviewer runs it."""
    env = env_for(settings) | {"CASERECORD_INTEGRITY_KEY_FILE": str(settings.integrity_key_path())}
    return subprocess.run(
        [CASERECORD, "verify", "--all", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_untouched_store_verifies_whole_and_against_its_checkpoint(store: Store) -> None:
    report = store.verify()

    assert report.ok
    assert report.streams == 6 and report.snapshots >= 1 and report.tokens == 4
    assert report.access_entries == 4 and report.idempotency_keys == 2
    assert report.tree_size == report.events
    assert store.offline(store.case_a).ok


def test_a_flipped_byte_is_found_by_both(store: Store) -> None:
    store.rows.flip_byte(store.case_a, 7)

    assert "events" in parts(store.verify())
    assert not store.offline(store.case_a).ok
    assert store.served(store.case_a).first_bad_version == 7


def test_a_field_edited_with_the_chain_recomputed_is_found_by_both(store: Store) -> None:
    state = store.rows.state(store.case_a, 1)
    assert b"sobriety" in state
    store.rows.set_state(store.case_a, 1, state.replace(b"sobriety", b"sobriaty"))
    recompute_chain(store, store.case_a)

    report = store.verify()

    assert {"events", "tree"} <= parts(report)
    assert any("MAC" in p.problem for p in report.problems)
    assert not store.offline(store.case_a).ok
    served = store.served(store.case_a)
    assert (served.ok, served.first_bad_version) == (False, 1) and "MAC" in served.problem


def test_an_event_deleted_in_the_middle_with_its_link_is_found_by_both(store: Store) -> None:
    store.rows.delete_event(store.case_a, 50)
    store.sql(
        "DELETE FROM event_chain WHERE originator_id=? AND originator_version=50", str(store.case_a)
    )

    assert {"events", "tree"} <= parts(store.verify())
    assert not store.offline(store.case_a).ok
    assert store.served(store.case_a).first_bad_version == 50


def test_a_cut_tail_is_found_by_both_and_named(store: Store, worker: Actor) -> None:
    last = last_version(store, store.case_a)
    for version in (last, last - 1):
        store.rows.delete_event(store.case_a, version)
        store.sql(
            "DELETE FROM event_chain WHERE originator_id=? AND originator_version=?",
            str(store.case_a),
            version,
        )

    report = store.verify()

    assert "tree" in parts(report)
    assert any("removed" in p.problem for p in report.problems)
    (named,) = [p for p in report.problems if p.stream_id == str(store.case_a)]
    assert named.version == last - 1 and f"{last - 1}..{last}" in named.problem
    result = store.offline(store.case_a)
    assert not result.ok and f"version {last}" in result.message
    served = store.served(store.case_a)
    assert (served.ok, served.first_bad_version) == (False, last - 1)
    assert f"versions {last - 1}..{last} are missing" in served.problem
    with pytest.raises(MissingEventsError) as refused:  # after a restart: nothing cached
        store.records.get_case(worker, store.case_a)
    assert refused.value.versions == [last - 1, last]


def test_a_whole_stream_removed_with_its_links_is_named(store: Store) -> None:
    store.sql("DELETE FROM stored_events WHERE originator_id=?", store.rows.event_id(store.case_b))
    store.sql("DELETE FROM event_chain WHERE originator_id=?", str(store.case_b))

    report = store.verify()

    assert any(
        p.stream_id == str(store.case_b) and p.version == 1 and "not in the log" in p.problem
        for p in report.problems
    ), report.problems
    assert not store.offline(store.case_b).ok  # the checkpoint signed its head
    with pytest.raises(CaseNotFoundError):  # nothing left says whose it was
        store.served(store.case_b, "agency-b")


def test_two_events_swapped_are_found_by_both(store: Store) -> None:
    five, six = store.rows.state(store.case_a, 5), store.rows.state(store.case_a, 6)
    store.rows.set_state(store.case_a, 5, six)
    store.rows.set_state(store.case_a, 6, five)
    store.sql(
        "UPDATE stored_events SET topic = CASE originator_version WHEN 5 THEN ? ELSE ? END "
        "WHERE originator_id=? AND originator_version IN (5, 6)",
        stored(store, store.case_a)[5].topic,
        stored(store, store.case_a)[4].topic,
        store.rows.event_id(store.case_a),
    )
    recompute_chain(store, store.case_a)

    assert {"events", "tree"} <= parts(store.verify())
    assert not store.offline(store.case_a).ok
    assert store.served(store.case_a).first_bad_version == 5


def test_an_event_inserted_in_the_middle_is_found_by_both(store: Store) -> None:
    last = last_version(store, store.case_a)
    for version in range(last, 59, -1):  # make room at version 60
        store.sql(
            "UPDATE stored_events SET originator_version=? WHERE originator_id=? "
            "AND originator_version=?",
            version + 1,
            store.rows.event_id(store.case_a),
            version,
        )
    store.rows.append_event(
        store.case_a, 60, stored(store, store.case_a)[60].topic, store.rows.state(store.case_a, 61)
    )
    recompute_chain(store, store.case_a)

    assert {"events", "tree"} <= parts(store.verify())
    assert not store.offline(store.case_a).ok
    assert store.served(store.case_a).first_bad_version == 60


def test_an_event_appended_with_a_valid_link_fails_its_mac(store: Store) -> None:
    last = last_version(store, store.case_a)
    record = stored(store, store.case_a)[-1]
    store.rows.append_event(store.case_a, last + 1, record.topic, record.state)
    prev = store.rows.link(store.case_a, last)[1]
    appended = Record(record.stream_id, last + 1, record.topic, record.state)
    ((_, link),) = chain(prev, [appended])
    store.sql(
        "INSERT INTO event_chain VALUES (?,?,?,?,?,?)",
        str(store.case_a), last + 1, link.prev_hash, link.hash, "f" * 64, 10**6,
    )  # fmt: skip

    report = store.verify()

    assert any(p.version == last + 1 and "MAC" in p.problem for p in report.problems)
    assert "tree" in parts(report)
    served = store.served(store.case_a)
    assert (served.ok, served.first_bad_version) == (False, last + 1)
    assert "MAC" in served.problem


def test_a_whole_new_stream_fails_its_macs(store: Store) -> None:
    forged = uuid4()
    for record in stored(store, store.case_b):
        store.rows.append_event(forged, record.version, record.topic, record.state)
    recompute_chain(store, forged)

    report = store.verify()

    assert {p.stream_id for p in report.problems if p.part == "events"} == {str(forged)}
    assert "tree" in parts(report)
    served = store.served(forged, "agency-b")
    assert (served.ok, served.first_bad_version) == (False, 1) and "MAC" in served.problem


@pytest.mark.parametrize("head", ["kept", "deleted"])
def test_an_event_added_without_a_mac_is_named_by_verify_all_and_never_sealed_by_db_init(
    store: Store, settings: Settings, head: str
) -> None:
    last = last_version(store, store.case_b)
    record = stored(store, store.case_b)[-1]
    store.rows.append_event(store.case_b, last + 1, record.topic, record.state)
    recompute_chain(store, store.case_b)
    store.sql(  # as a store from before the MACs has it, which `db init` would seal
        "UPDATE event_chain SET mac=NULL, leaf=NULL WHERE originator_id=? AND originator_version=?",
        str(store.case_b),
        last + 1,
    )
    if head == "deleted":
        store.sql("DELETE FROM merkle_head")

    with pytest.raises(StoreError, match="added behind the service"):
        init_store(settings)
    with pytest.raises(StoreError):
        open_records(settings)
    command = verify_all_command(settings)

    assert command.returncode == 2, command.stderr
    named = json.loads(command.stdout)["problems"]
    assert ("events", str(store.case_b), last + 1) in {
        (p["part"], p["stream_id"], p["version"]) for p in named
    }


def test_the_command_exits_2_with_a_json_report_naming_what_was_changed(
    store: Store, settings: Settings
) -> None:
    intact = verify_all_command(settings)
    store.rows.flip_byte(store.case_b, 2)
    tampered = verify_all_command(settings)

    assert intact.returncode == 0, intact.stderr
    assert json.loads(intact.stdout)["ok"] is True
    assert tampered.returncode == 2, tampered.stderr
    report = json.loads(tampered.stdout)
    assert report["ok"] is False
    assert {(p["part"], p["stream_id"], p["version"]) for p in report["problems"]} >= {
        ("events", str(store.case_b), 2)
    }


@pytest.mark.parametrize(
    "edit",
    ["link='" + "f" * 64 + "'", "version=version+1000", "position=position+1", "stream_id='x'"],
)
def test_a_leaf_rows_naming_columns_edited_are_found_by_verify_all(store: Store, edit: str) -> None:
    store.sql(f"UPDATE merkle_nodes SET {edit} WHERE level=0 AND idx=5")

    report = store.verify()

    assert "leaf 5" in {p.where for p in report.problems if p.part == "tree"}, report.problems


# ---- the entry index -------------------------------------------------------------------

NOTE = "caserecord.domain.case:Case.ProgressNoteRecorded"


@pytest.mark.parametrize("edit", ["deleted", "kind_changed", "moved", "made_up"])
def test_entry_index_rows_deleted_edited_moved_or_made_up_are_found_by_verify_all(
    store: Store, edit: str
) -> None:
    note = next(r.version for r in stored(store, store.case_a) if r.topic == NOTE)
    first_of_other = min(r.version for r in stored(store, store.other_a))
    where = f"stream {store.case_a} version {note}"
    if edit == "deleted":  # the note is left out of the case's pages
        store.sql(
            "DELETE FROM case_entries WHERE stream_id=? AND version=?", str(store.case_a), note
        )
    elif edit == "kind_changed":
        store.sql(
            "UPDATE case_entries SET kind='progress' WHERE stream_id=? AND version=?",
            str(store.case_a),
            note,
        )
    elif edit == "moved":
        store.sql(
            "UPDATE case_entries SET stream_id=?, version=? WHERE stream_id=? AND version=?",
            str(store.other_a),
            first_of_other,
            str(store.case_a),
            note,
        )
    else:
        where = f"stream {store.other_a} version {first_of_other}"
        store.sql(
            "INSERT INTO case_entries (stream_id, version, kind, entity_id) VALUES (?,?,?,?)",
            str(store.other_a),
            first_of_other,
            "note",
            str(uuid4()),
        )

    report = store.verify()
    served = store.served(store.other_a if edit == "made_up" else store.case_a)

    assert parts(report) == {"entry_index"}, report.problems
    assert where in {p.where for p in report.problems}, report.problems
    assert (served.ok, served.first_bad_version) == (
        False,
        first_of_other if edit == "made_up" else note,
    )
    assert "entry index" in served.problem or "entry-index" in served.problem


# ---- snapshots -------------------------------------------------------------------------


def test_a_snapshot_moved_to_another_agency_is_found_and_not_served(
    store: Store, worker: Actor, outsider: Actor
) -> None:
    state = store.rows.snapshot(store.case_a, 100)
    assert b"agency-a" in state
    store.rows.set_snapshot(store.case_a, 100, state.replace(b"agency-a", b"agency-b"))
    store.records.repository.cache = None

    assert "snapshots" in parts(store.verify())
    assert store.records.get_case(worker, store.case_a)["version"] == last_version(
        store, store.case_a
    )
    with pytest.raises(CaseNotFoundError):
        store.records.get_case(outsider, store.case_a)


def test_an_edited_snapshot_falls_back_to_the_events(store: Store, worker: Actor) -> None:
    state = store.rows.snapshot(store.case_a, 100)
    store.rows.set_snapshot(store.case_a, 100, state.replace(b"sobriety", b"sobriaty"))
    store.records.repository.cache = None

    served = store.records.get_case(worker, store.case_a)

    assert "sobriety" in served["interview_summary"]
    assert "snapshots" in parts(store.verify())


# ---- the access log, the feed index, the tokens ------------------------------------------


@pytest.mark.parametrize("edit", ["edit", "delete_middle", "delete_last", "insert"])
def test_access_log_edits_are_found_and_an_entry_changed_is_served_marked(
    store: Store, edit: str
) -> None:
    ids = [r[0] for r in store.sql("SELECT entry_id FROM access_log ORDER BY entry_id")]
    if edit == "edit":
        store.sql("UPDATE access_log SET purpose='audit' WHERE entry_id=?", ids[1])
    elif edit == "delete_middle":
        store.sql("DELETE FROM access_log WHERE entry_id=?", ids[1])
    elif edit == "delete_last":
        store.sql("DELETE FROM access_log WHERE entry_id=?", ids[-1])
    else:
        store.sql(
            "INSERT INTO access_log (agency_id, actor_id, actor_role, token_id, action, "
            "purpose, client_id, accessed_at) VALUES ('agency-a','x','caseworker','t',"
            "'read_case','care',?,'2026-01-01T00:00:00+00:00')",
            str(store.client_a),
        )

    served = AccessLog(Tables(store.records)).for_client("agency-a", store.client_a)

    integrity = AccessLog(Tables(store.records)).integrity(
        "agency-a", store.client_a, served, after=0
    )

    assert parts(store.verify()) == {"access_log"}
    marked = [e["purpose"] for e in served if not e["intact"]]
    assert marked == {"edit": ["audit"], "insert": ["care"]}.get(edit, [])
    # The listing cannot see its last entry deleted (no entry after it); verify --all can.
    assert integrity["intact"] is (edit != "delete_middle")


def test_verify_all_exits_2_naming_an_access_log_entry_deleted_from_a_clients_log(
    store: Store, settings: Settings
) -> None:
    ids = [r[0] for r in store.sql("SELECT entry_id FROM access_log ORDER BY entry_id")]
    store.sql("DELETE FROM access_log WHERE entry_id=?", ids[1])
    store.sql("DELETE FROM access_log_subjects WHERE entry_id=?", ids[1])

    done = verify_all_command(settings)

    assert done.returncode == 2, done.stderr
    found = {(p["where"], p["problem"]) for p in json.loads(done.stdout)["problems"]}
    # Entry ids are checked on SQLite only: PostgreSQL's have gaps from rolled-back writes.
    id_gap = (f"access-log entry {ids[2]}", f"entries {ids[1]}..{ids[1]} are missing")
    assert (id_gap in found) is not store.rows.postgres
    assert (
        f"access-log entry {ids[2]}",
        f"the access log of client {store.client_a} lacks numbers 2..2 before it (entries deleted)",
    ) in found


@pytest.mark.parametrize("edit", ["move", "delete", "insert"])
def test_feed_index_edits_are_found_and_a_moved_row_is_not_served(store: Store, edit: str) -> None:
    (position,) = store.sql(
        "SELECT notification_id FROM event_agency WHERE agency_id='agency-a' "
        "ORDER BY notification_id LIMIT 1"
    )[0]
    if edit == "move":
        store.sql("UPDATE event_agency SET agency_id='agency-b' WHERE notification_id=?", position)
    elif edit == "delete":
        store.sql("DELETE FROM event_agency WHERE notification_id=?", position)
    else:
        store.sql(
            "INSERT INTO event_agency (agency_id, notification_id, mac, seq) "
            "VALUES ('agency-b', ?, NULL, 1)",
            position,
        )

    feed_b = store.records.store.agency_notifications("agency-b", after=0, limit=1000)
    *_, integrity_a = agency_events(store.records, "agency-a", after=0, limit=1000)
    *_, integrity_b = agency_events(store.records, "agency-b", after=0, limit=1000)

    assert parts(store.verify()) == {"feed_index"}
    assert position not in [n.id for n, _ in feed_b.rows]
    # agency-a's first row is gone from its feed (moved or deleted): its number 1 is missing
    assert integrity_a.intact is (edit == "insert")
    assert [(g.first, g.last) for g in integrity_a.missing] == (
        [] if edit == "insert" else [(1, 1)]
    )
    assert integrity_b.left_out == (0 if edit == "delete" else 1)


@pytest.mark.parametrize("where", ["middle", "first_of_a_page"])
def test_a_feed_row_deleted_in_the_middle_is_flagged_by_the_feed_and_named_by_verify_all(
    store: Store, settings: Settings, where: str
) -> None:
    positions = [
        int(r[0])
        for r in store.sql(
            "SELECT notification_id FROM event_agency WHERE agency_id='agency-a' "
            "ORDER BY notification_id"
        )
    ]
    gone = len(positions) // 2
    store.sql("DELETE FROM event_agency WHERE notification_id=?", positions[gone])
    # a page that starts right at the hole, its cursor the row before it
    after = positions[gone - 1] if where == "first_of_a_page" else 0

    events, _, _, integrity = agency_events(store.records, "agency-a", after=after, limit=1000)
    report = store.verify()

    assert positions[gone] not in [e["position"] for e in events]
    assert not integrity.intact
    (gap,) = integrity.missing
    assert (gap.first, gap.last) == (gone + 1, gone + 1)
    assert (gap.after_position, gap.before_position) == (positions[gone - 1], positions[gone + 1])
    assert not report.ok
    assert any(
        p.part == "feed_index" and f"feed numbers {gone + 1} are missing" in p.problem
        for p in report.problems
    ), report.problems
    if where == "middle":  # and as the command: exit 2, the gap named in its report
        command = verify_all_command(settings)
        assert command.returncode == 2, command.stderr
        named = json.loads(command.stdout)["problems"]
        assert {
            "part": "feed_index",
            "where": f"agency agency-a, positions {positions[gone - 1]} to {positions[gone + 1]}",
            "problem": f"feed numbers {gone + 1} are missing (rows deleted)",
        }.items() <= next(p for p in named if "feed numbers" in p["problem"]).items()


@pytest.mark.parametrize("edit", ["raise_role", "unrevoke", "move_agency"])
def test_token_edits_are_found_and_the_token_refused(store: Store, edit: str) -> None:
    token_id = next(iter(store.secrets))
    if edit == "raise_role":
        store.sql("UPDATE api_tokens SET role='admin' WHERE token_id=?", token_id)
    elif edit == "move_agency":
        store.sql("UPDATE api_tokens SET agency_id='agency-b' WHERE token_id=?", token_id)
    else:
        token_id = next(t.token_id for t in store.tokens.list() if not t.active)
        store.sql("UPDATE api_tokens SET revoked_at=NULL WHERE token_id=?", token_id)

    assert parts(store.verify()) == {"tokens"}
    assert store.tokens.authenticate(store.secrets[token_id]) is None
    assert store.tokens.active(token_id) is None  # nor trusted for a console session


def test_a_provider_tokens_organisation_edited_is_found_and_the_token_refused(
    store: Store,
) -> None:
    info, secret = store.tokens.create(
        agency_id="agency-a", role="provider", name="shelter", organization_id="org-1"
    )
    untouched = store.verify()

    store.sql("UPDATE api_tokens SET organization_id='org-2' WHERE token_id=?", info.token_id)

    assert untouched.ok, untouched.problems
    report = store.verify()
    assert parts(report) == {"tokens"}
    assert [p.where for p in report.problems] == [f"token {info.token_id}"]
    assert store.tokens.authenticate(secret) is None


def test_a_token_made_up_in_the_database_is_found_and_refused(store: Store) -> None:
    secret = "crt_" + "x" * 43
    from caserecord.access.tokens import hash_token

    store.sql(
        "INSERT INTO api_tokens (token_id, token_hash, name, agency_id, role, created_at) "
        "VALUES ('forged', ?, 'f', 'agency-a', 'admin', '2026-01-01')",
        hash_token(secret),
    )

    assert parts(store.verify()) == {"tokens"}
    assert store.tokens.authenticate(secret) is None


def test_a_deleted_token_is_found_by_its_ledger(store: Store) -> None:
    token_id, secret = next(iter(store.secrets.items()))
    store.sql("DELETE FROM api_tokens WHERE token_id=?", token_id)

    report = store.verify()

    assert parts(report) == {"tokens"}
    assert any(p.where == f"token {token_id}" and "lacks it" in p.problem for p in report.problems)
    assert store.tokens.authenticate(secret) is None


def restore_before_revocation(store: Store, tokens: TokenStore) -> tuple[str, str]:
    """A token issued, its row copied (with its then valid MAC), revoked through
    ``tokens``, and the copy restored over the revoked row: (token id, secret)."""
    info, secret = store.tokens.create(agency_id="agency-a", role="admin", name="leaver")
    (before,) = store.sql("SELECT revoked_at, mac FROM api_tokens WHERE token_id=?", info.token_id)
    tokens.revoke(info.token_id)
    store.sql("UPDATE api_tokens SET revoked_at=?, mac=? WHERE token_id=?", *before, info.token_id)
    return info.token_id, secret


def test_a_token_row_restored_from_before_its_revocation_is_found_and_refused(
    store: Store,
) -> None:
    token_id, secret = restore_before_revocation(store, store.tokens)

    report = store.verify()

    assert parts(report) == {"tokens"}
    assert any("ledger has it revoked" in p.problem for p in report.problems)
    assert store.tokens.get(token_id).active  # the row says active, with a MAC that holds
    assert store.tokens.authenticate(secret) is None
    assert store.tokens.active(token_id) is None


def test_a_restored_token_trusted_from_the_cache_is_refused_once_its_entry_expires(
    store: Store,
) -> None:
    now = [0.0]
    cached = TokenStore(store.tokens.tables, cache_seconds=30, clock=lambda: now[0])
    info, secret = store.tokens.create(agency_id="agency-a", role="admin", name="leaver")
    assert cached.authenticate(secret) == info
    (before,) = store.sql("SELECT revoked_at, mac FROM api_tokens WHERE token_id=?", info.token_id)
    store.tokens.revoke(info.token_id)  # by another process: this cache does not hear of it
    store.sql("UPDATE api_tokens SET revoked_at=?, mac=? WHERE token_id=?", *before, info.token_id)

    within = cached.authenticate(secret)
    now[0] = 31.0
    after = cached.authenticate(secret)

    assert within == info  # as for any revocation by another process: CACHE_SECONDS at most
    assert after is None


def test_a_token_whose_issue_the_ledger_lacks_still_authenticates_and_is_found(
    store: Store,
) -> None:
    """Only a revocation in the ledger refuses a token; a missing issue row is a finding of
    `verify --all`."""
    token_id, secret = next(iter(store.secrets.items()))
    store.sql("DELETE FROM token_ledger WHERE token_id=? AND action='issued'", token_id)

    assert store.tokens.authenticate(secret) is not None
    assert parts(store.verify()) == {"tokens"}


@pytest.mark.parametrize("which", ["first", "last"])
def test_token_ledger_rows_deleted_are_found(store: Store, which: str) -> None:
    order = "ASC" if which == "first" else "DESC"
    (entry,) = store.sql("SELECT MIN(entry_id), MAX(entry_id) FROM token_ledger")
    store.sql("DELETE FROM token_ledger WHERE entry_id=?", entry[0] if order == "ASC" else entry[1])

    report = store.verify()

    assert parts(report) == {"tokens"}
    assert any("missing" in p.problem for p in report.problems)


# ---- time: an older backup restored over a newer store -----------------------------------


def test_an_older_backup_restored_verifies_alone_but_not_against_a_later_checkpoint(
    store: Store, worker: Actor
) -> None:
    records = store.records
    backup_position = store.sql(f"SELECT MAX({store.position}) FROM stored_events")[0][0]
    old_head = store.sql("SELECT size, root, frontier, mac FROM merkle_head")[0]
    old_nodes = store.sql("SELECT COUNT(*) FROM merkle_nodes")[0][0]
    for n in range(3):
        records.record_note(
            worker, store.other_a, text=f"later {n}", contact_kind="client", contact_mode="phone"
        )
    later = sign(records, store.checkpoint)
    assert check_checkpoints(later, store.checkpoint, KEY.public_key()).ok

    # The backup taken before those writes, restored row for row.
    streams = {str(store.other_a)}
    store.sql(f"DELETE FROM stored_events WHERE {store.position} > ?", backup_position)
    store.sql("DELETE FROM event_agency WHERE notification_id > ?", backup_position)
    for stream in streams:
        top = last_version(store, UUID(stream))
        store.sql(
            "DELETE FROM event_chain WHERE originator_id=? AND originator_version>?", stream, top
        )
        store.sql("DELETE FROM case_entries WHERE stream_id=? AND version>?", stream, top)
    for level, index in store.sql("SELECT level, idx FROM merkle_nodes"):
        if (index + 1) << level > old_head[0]:
            store.sql("DELETE FROM merkle_nodes WHERE level=? AND idx=?", level, index)
    store.sql("DELETE FROM merkle_head")
    store.sql("INSERT INTO merkle_head VALUES (1,?,?,?,?)", *old_head)
    records.repository.cache = None
    assert store.sql("SELECT COUNT(*) FROM merkle_nodes")[0][0] == old_nodes

    assert store.verify().ok  # consistent with itself: only time shows the rollback
    rolled_back = sign(records, later)
    result = check_checkpoints(rolled_back, later, KEY.public_key())
    assert not result.ok and "rolled back" in result.message


# ---- idempotency keys ----------------------------------------------------------------------


def test_an_untouched_idempotency_row_is_replayed(store: Store, worker: Actor) -> None:
    found = store.records.find_idempotent_result(worker, "note-key")

    assert found is not None
    assert found.result["id"] == str(store.other_a) and found.fingerprint == "fingerprint"


@pytest.mark.parametrize("edit", ["result", "created_at", "moved", "made_up", "mac_removed"])
def test_idempotency_rows_edited_moved_or_made_up_are_named_by_verify_all_and_refused(
    store: Store, worker: Actor, edit: str
) -> None:
    key = "note-key"
    if edit == "result":
        store.sql("UPDATE idempotency_keys SET result=? WHERE idem_key=?", '{"id": "x"}', key)
    elif edit == "created_at":
        store.sql("UPDATE idempotency_keys SET created_at='2020-01-01' WHERE idem_key=?", key)
    elif edit == "moved":
        key = "token-key"
        store.sql("DELETE FROM idempotency_keys WHERE idem_key=?", key)
        store.sql("UPDATE idempotency_keys SET idem_key=? WHERE idem_key='note-key'", key)
    elif edit == "made_up":
        key = "made-up"
        store.sql(
            "INSERT INTO idempotency_keys (agency_id, idem_key, fingerprint, result, "
            "created_at, mac) SELECT agency_id, ?, fingerprint, result, created_at, mac "
            "FROM idempotency_keys WHERE idem_key='note-key'",
            key,
        )
    else:
        store.sql("UPDATE idempotency_keys SET mac=NULL WHERE idem_key=?", key)

    report = store.verify()

    # Moving note-key over token-key deleted the newest row (number 2): the head names it.
    deleted = {("idempotency", "idempotency head of agency agency-a")} if edit == "moved" else set()
    assert {(p.part, p.where) for p in report.problems} == {
        ("idempotency", f"idempotency key {key} of agency agency-a"),
        *deleted,
    }
    with pytest.raises(TamperedIdempotencyError):
        store.records.find_idempotent_result(worker, key)


def test_verify_all_exits_2_naming_an_idempotency_row_whose_result_was_edited(
    store: Store, settings: Settings
) -> None:
    store.sql("UPDATE idempotency_keys SET result=? WHERE idem_key='note-key'", '{"id": "x"}')

    tampered = verify_all_command(settings)

    assert tampered.returncode == 2, tampered.stderr
    report = json.loads(tampered.stdout)
    assert report["idempotency_keys"] == 2
    assert [(p["part"], p["where"]) for p in report["problems"]] == [
        ("idempotency", "idempotency key note-key of agency agency-a")
    ]


# ---- the tables derived from the events' content (`verify --all --views`) --------------


def linked_note(store: Store, worker: Actor) -> int:
    """A note of case_a that concerns its goal and its referral; its version."""
    manager = store.records.get_case(worker, store.case_a)["case_manager_id"]
    store.records.record_note(
        Actor(manager, worker.role, worker.agency_id),
        store.case_a,
        text="about the goal and the referral",
        contact_kind="client",
        contact_mode="phone",
        goal_ids=[store.goal_a],
        referral_ids=[store.referral_a],
    )
    return max(r.version for r in stored(store, store.case_a))


def decoded_check(store: Store) -> Report:
    """What `verify --all --views` adds: the derived tables against the decoded log."""
    report = Report()
    verify_indexes(store.records, report)
    return report


def test_the_derived_tables_of_an_intact_store_match_the_decoded_log(
    store: Store, worker: Actor
) -> None:
    linked_note(store, worker)

    report = decoded_check(store)

    assert (report.problems, report.unchecked) == ([], [])


@pytest.mark.parametrize("edit", ["entity_id", "link_edited", "link_deleted", "link_made_up"])
def test_an_entry_rows_entity_id_or_a_note_link_changed_is_named_with_views_and_by_the_case(
    store: Store, worker: Actor, edit: str
) -> None:
    note = linked_note(store, worker)
    case = str(store.case_a)
    where = f"stream {case} version {note}"
    if edit == "entity_id":
        store.sql(
            "UPDATE case_entries SET entity_id=? WHERE stream_id=? AND version=?",
            str(uuid4()),
            case,
            note,
        )
    elif edit == "link_edited":  # the note moves from its goal's page to another's
        store.sql(
            "UPDATE case_entry_links SET entity_id=? WHERE stream_id=? AND version=? "
            "AND kind='goal'",
            str(uuid4()),
            case,
            note,
        )
    elif edit == "link_deleted":
        store.sql(
            "DELETE FROM case_entry_links WHERE stream_id=? AND version=? AND kind='referral'",
            case,
            note,
        )
    else:
        where = f"stream {case} version {note - 1}"
        store.sql(
            "INSERT INTO case_entry_links (stream_id, kind, entity_id, version) VALUES (?,?,?,?)",
            case,
            "goal",
            store.goal_a,
            note - 1,
        )

    report = decoded_check(store)
    served = store.served(store.case_a)

    assert store.verify().ok  # the flat pass decodes nothing
    assert (served.ok, served.first_bad_version) == (False, int(where.rsplit(" ", 1)[1]))
    assert ("entry-index" if edit == "entity_id" else "link row") in served.problem
    expected = {"entity_id": {"entry_index"}, "link_edited": {"entry_links"}}
    assert parts(report) == expected.get(edit, {"entry_links"}), report.problems
    assert {p.where for p in report.problems} == {where}, report.problems
    if edit == "link_edited":  # the row the note lost, and the row it gained
        assert len(report.problems) == 2, report.problems


@pytest.mark.parametrize("edit", ["edited", "deleted", "made_up", "id_edited"])
def test_a_client_identity_row_changed_is_named_with_views(store: Store, edit: str) -> None:
    client = str(store.client_a)
    named = {f"client {client}"}
    if edit == "edited":
        store.sql("UPDATE client_identity SET family_key='someone else' WHERE client_id=?", client)
    elif edit == "deleted":
        store.sql("DELETE FROM client_identity WHERE client_id=?", client)
    else:
        forged = str(uuid4())
        named = {f"client {forged}"} | (named if edit == "id_edited" else set())
        if edit == "id_edited":
            store.sql("UPDATE client_identity SET client_id=? WHERE client_id=?", forged, client)
        else:
            store.sql(
                "INSERT INTO client_identity VALUES (?,?,?,?,?,?)",
                forged,
                "agency-a",
                "forged-number",
                "nobody",
                "nobody",
                "2000-01-01",
            )

    report = decoded_check(store)

    assert store.verify().ok
    assert parts(report) == {"client_identity"}, report.problems
    assert {p.where for p in report.problems} == named, report.problems
    if edit == "edited":
        assert "family_key" in report.problems[0].problem


@pytest.mark.parametrize("kept", ["first", "later"])
def test_a_number_two_clients_share_explains_a_missing_row_only_as_an_upgrade_fills_it(
    store: Store, worker: Actor, kept: str
) -> None:
    """Filling the table on an upgraded store keeps the first of two clients sharing a
    number; a row deleted and its number taken again by a later client is tampering."""
    first = a_client(store.records, worker, client_number="SHARED-1")
    (row,) = store.sql("SELECT * FROM client_identity WHERE client_id=?", str(first))
    store.sql("DELETE FROM client_identity WHERE client_id=?", str(first))
    later = a_client(store.records, worker, client_number="SHARED-1")
    if kept == "first":  # as `db init` fills the table of an upgraded store
        store.sql("DELETE FROM client_identity WHERE client_id=?", str(later))
        store.sql("INSERT INTO client_identity VALUES (?,?,?,?,?,?)", *row)

    report = decoded_check(store)

    assert [p.where for p in report.problems] == ([] if kept == "first" else [f"client {first}"])
