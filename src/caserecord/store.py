"""Opening the record store with errors a person can act on, instead of tracebacks."""

from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.persistence import OperationalError, PersistenceError, ProgrammingError
from eventsourcing.utils import get_topic

from caserecord.access.db import create_access_tables
from caserecord.application import CaseRecords
from caserecord.config import ConfigError, Settings
from caserecord.domain.case import Case
from caserecord.persistence.entries import entry_of
from caserecord.persistence.feed import agency_of


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


def open_records(settings: Settings, *, create_table: bool = False) -> CaseRecords:
    """A ready CaseRecords, or a StoreError naming what is wrong."""
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
    probe(app, settings, app.recorder.probe_feed_index, no_feed_index)  # type: ignore[attr-defined]
    no_entries = (
        "has no entry index (made by an earlier version): run `caserecord db init` to add it"
    )
    probe(app, settings, app.recorder.probe_entries, no_entries)  # type: ignore[attr-defined]
    return app


def probe(app: CaseRecords, settings: Settings, query: Callable[[], object], missing: str) -> None:
    """Run one cheap query; a missing table means ``missing``, anything else is reported."""
    try:
        query()
    except (ProgrammingError, OperationalError) as e:
        app.close()
        message = first_line(e)
        if "no such table" in message or "does not exist" in message:
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


def init_store(settings: Settings) -> None:
    """Create every table once, before any worker starts (workers never run DDL)."""
    app = open_records(settings, create_table=True)
    try:
        create_access_tables(app)  # the API's tokens and access log
        index_feed(app)
        index_entries(app)
    finally:
        app.close()
    # Imported here: the projections package itself opens records through this module.
    from caserecord.projections.runner import create_views

    create_views(settings.eventsourcing_env(create_table=True))  # the read models


FEED_INDEX_PAGE = 2000


def index_feed(app: CaseRecords) -> int:
    """Index for the event feed the events logged before the index existed (an upgraded
    store); returns how many events it read.  The recorders index every new event in its own
    transaction, so a complete index is one with a row per event, and an interrupted run
    is simply run again."""
    recorder: Any = app.recorder
    events, indexed = recorder.feed_index_counts()
    if events == indexed:
        return 0
    read, start = 0, 1
    while batch := recorder.select_notifications(start=start, limit=FEED_INDEX_PAGE):
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
        recorder.add_to_feed_index(rows)
        read += len(rows)
        start = batch[-1].id + 1
    return read


ENTRY_TOPICS = tuple(
    get_topic(c)
    for c in (Case.ProgressNoteRecorded, Case.AddendumAppended, Case.GoalProgressRecorded)
)


def index_entries(app: CaseRecords) -> int:
    """Index the notes, addenda and goal progress logged before the entry index existed
    (an upgraded store); returns how many events it read.  As with the feed's index, the
    recorders index every new one in its own transaction, so a complete index has a row
    per such event, and an interrupted run is simply run again."""
    recorder: Any = app.recorder
    events, indexed = recorder.entry_counts(ENTRY_TOPICS)
    if events == indexed:
        return 0
    read, start = 0, 1
    while batch := recorder.select_notifications(
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
