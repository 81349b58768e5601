"""Opening the record store with errors a person can act on, instead of tracebacks."""

from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.persistence import OperationalError, PersistenceError, ProgrammingError
from eventsourcing.utils import get_topic

from caserecord.application import CaseRecords
from caserecord.config import ConfigError, Settings
from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.persistence.entries import entry_of
from caserecord.persistence.feed import agency_of
from caserecord.persistence.identity import COLUMNS, identity_of


class StoreError(Exception):
    """The store cannot be used; the message is one line."""


# SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100) and the operating system's ENOSPC.
STORAGE_FULL_SIGNS = ("database or disk is full", "could not extend file", "no space left")
# PostgreSQL's disk_full, raised as 'could not extend file "...": No space left on device'
# when a table or index file cannot grow; the code holds whatever the server's lc_messages.
DISK_FULL_SQLSTATE = "53100"


def is_storage_full(error: BaseException) -> bool:
    """The store refused a write for want of space (its transaction was rolled back)."""
    if getattr(error.__cause__, "sqlstate", None) == DISK_FULL_SQLSTATE:
        return True
    text = f"{error} {error.__cause__ or ''}".lower()
    return any(sign in text for sign in STORAGE_FULL_SIGNS)


def describe(settings: Settings) -> str:
    url = settings.database_url
    if "@" in url:  # never echo a password
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def open_records(
    settings: Settings,
    *,
    create_table: bool = False,
    sealed: bool = True,
    verifying: bool = False,
) -> CaseRecords:
    """A ready CaseRecords, or a StoreError naming what is wrong; ``sealed``: refuse a
    store whose rows are not yet sealed (only ``db init``, which seals them, opens one);
    ``verifying``: open a sealed store whose log has events its tree lacks, or idempotency
    keys without a MAC, for `verify` to report them."""
    try:
        env = settings.eventsourcing_env(create_table=create_table)
    except ConfigError as e:
        raise StoreError(str(e)) from None
    probe_postgres(settings, env)
    try:
        app = CaseRecords(env=env)
    except (PersistenceError, OSError) as e:
        raise StoreError(
            f"cannot open the database {describe(settings)}: {first_line(e)}"
        ) from None
    uninitialised = "is not initialised: run `caserecord db init` first"
    probe(app, settings, app.recorder.max_notification_id, uninitialised)
    no_feed_index = (
        "has no event feed index (made by an earlier version): run `caserecord db init` to add it"
    )
    probe(app, settings, app.store.probe_feed_index, no_feed_index)
    no_entries = (
        "has no entry index (made by an earlier version): run `caserecord db init` to add it"
    )
    probe(app, settings, app.store.probe_entries, no_entries)
    no_quarantine = (
        "has no quarantine table for the read models (made by an earlier version): "
        "run `caserecord db init` to add it"
    )
    probe(app, settings, app.store.quarantined, no_quarantine)
    unsealed = (
        "has no integrity MACs and Merkle tree, no numbers in its feed index, or idempotency "
        "keys without MACs, numbers or heads (made by an earlier version): run "
        "`caserecord db init` to add them"
    )
    if app.macs is None:
        app.close()
        raise StoreError(app.key_problem)
    if sealed:
        try:
            probe(app, settings, lambda: check_sealed(app, verifying), unsealed)
        except EventsBehindTreeError as e:
            app.close()
            raise EventsBehindTreeError(f"the database {describe(settings)}: {e}") from None
    return app


class EventsBehindTreeError(StoreError):
    """A sealed store's log holds events its tree does not: written behind the service."""


def check_sealed(app: CaseRecords, verifying: bool = False) -> None:
    """The tree covers every logged event: a store whose rows were never sealed must not
    take new events, which the tree would place wrongly.  Once sealed, every event joins
    the tree in its own transaction (and `db init` seals in one), so events beyond a tree
    that exists were added behind the service: refused, for `verify --all` (``verifying``
    opens it) to name them, never sent to `db init`, which would seal them.  A tree larger
    than the log means events were deleted behind the service's back: that is for `verify
    --all` and the views' quarantine to report, not a reason to stop serving every other
    record."""
    # The log is counted before the head is read: other processes may be writing, and each
    # write grows both in one transaction, so a head read later is never behind this count.
    events, _ = app.store.feed_index_counts()
    head = app.store.tree_head()
    if head.size < events and not verifying:
        if head.size == 0:
            raise ProgrammingError("no such table: the tree does not cover the log")
        raise EventsBehindTreeError(
            f"the log holds {events - head.size} events its Merkle tree lacks, written behind "
            "the service: run `caserecord verify --all`, which names them"
        )
    if app.store.unnumbered_feed_rows():
        raise ProgrammingError("no such table: the feed index is not numbered")
    # A row without a MAC would be refused at every retry with its key, and the service's
    # new rows beside it would make `db init` take the store for one sealed already; a row
    # without a number, or rows without heads, likewise for the numbers.  `verify` opens it
    # (the query still fails without the column or the heads): such a row is one it names.
    if app.store.unsealed_idempotency_rows() and not verifying:
        raise ProgrammingError("no such table: the idempotency keys are not sealed or numbered")


def probe(app: CaseRecords, settings: Settings, query: Callable[[], object], missing: str) -> None:
    """Run one cheap query; a missing table means ``missing``, anything else is reported."""
    try:
        query()
    except (ProgrammingError, OperationalError) as e:
        app.close()
        message = first_line(e)
        # A column an earlier version lacked: SQLite says "no such column".
        if any(sign in message for sign in ("no such table", "no such column", "does not exist")):
            raise StoreError(f"the database {describe(settings)} {missing}") from None
        raise StoreError(f"cannot use the database {describe(settings)}: {message}") from None


def probe_postgres(settings: Settings, env: dict[str, str]) -> None:
    """Connect once directly: the library's pool only reports that it timed out, after
    waiting, whereas the server's own refusal (wrong port, unknown database, bad password)
    is immediate and says what to fix."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        return
    try:
        psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            dbname=env["POSTGRES_DBNAME"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", "5")),
        ).close()
    except psycopg.Error as e:
        raise StoreError(
            f"cannot connect to the database {describe(settings)}: {first_line(e)}"
        ) from None


FEED_INDEX_PAGE = 2000


def index_feed(app: CaseRecords) -> int:
    """Index for the event feed the events logged before the index existed (an upgraded
    store); returns how many events it read.  The recorders index every new event in its own
    transaction, so a complete index is one with a row per event, and an interrupted run
    is simply run again."""
    events, indexed = app.store.feed_index_counts()
    if events == indexed:
        return 0
    read, start = 0, 1
    while batch := app.recorder.select_notifications(start=start, limit=FEED_INDEX_PAGE):
        rows = []
        for notification in batch:
            try:
                event = app.mapper.to_domain_event(notification)
            except Exception as e:  # whatever a damaged row makes the decoder raise
                raise StoreError(
                    f"cannot index the event at position {notification.id} for the feed: "
                    f"{first_line(e)}"
                ) from None
            rows.append((agency_of(event), notification.id))
        app.store.add_to_feed_index(rows)
        read += len(rows)
        start = batch[-1].id + 1
    return read


def index_clients(app: CaseRecords) -> int:
    """Fill the client identity table (the duplicate checks) from the clients registered
    before it existed; returns how many clients it added.  New events keep it up to date in
    their own transaction, so it is filled only while empty."""
    recorder = app.store
    if recorder.count_client_identities():
        return 0
    topics = [get_topic(Client.Registered), get_topic(Client.DetailsCorrected)]
    rows: dict[str, list[Any]] = {}
    start = 1
    while batch := app.recorder.select_notifications(
        start=start, limit=FEED_INDEX_PAGE, topics=topics
    ):
        for notification in batch:
            change = identity_of(app.mapper.to_domain_event(notification))
            if change is None:
                continue
            if change.registered:
                rows[change.client_id] = list(change.insert_row())
            elif change.client_id in rows:
                for column, value in change.values:
                    rows[change.client_id][2 + COLUMNS.index(column)] = value
        start = batch[-1].id + 1
    recorder.add_client_identities([tuple(r) for r in rows.values()])
    return len(rows)


ENTRY_TOPICS = tuple(
    get_topic(c)
    for c in (
        Case.ProgressNoteRecorded,
        Case.AddendumAppended,
        Case.GoalProgressRecorded,
        Case.InstrumentAdministered,
    )
)


def index_entries(app: CaseRecords) -> int:
    """Index the notes, addenda and goal progress logged before the entry index existed
    (an upgraded store); returns how many events it read.  As with the feed's index, the
    recorders index every new one in its own transaction, so a complete index has a row
    per such event, and an interrupted run is simply run again."""
    recorder = app.store
    events, indexed = recorder.entry_counts(ENTRY_TOPICS)
    if events == indexed:
        return 0
    read, start = 0, 1
    while batch := app.recorder.select_notifications(
        start=start, limit=FEED_INDEX_PAGE, topics=ENTRY_TOPICS
    ):
        rows = []
        for notification in batch:
            try:
                event = app.mapper.to_domain_event(notification)
            except Exception as e:  # whatever a damaged row makes the decoder raise
                raise StoreError(
                    f"cannot index the event at position {notification.id}: {first_line(e)}"
                ) from None
            entry = entry_of(event)
            if entry is not None:
                stream = str(notification.originator_id)
                rows.append((stream, notification.originator_version, *entry))
        recorder.add_entries(rows)
        read += len(rows)
        start = batch[-1].id + 1
    return read


def first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
