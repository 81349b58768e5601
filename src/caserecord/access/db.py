"""Plain SQL tables kept in the same database as the events (SQLite file or PostgreSQL schema).

The tables go through the event store's own datastore so they share its connection settings,
its schema and its lock timeouts; only the parameter style and table qualification differ.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.postgres import PostgresDatastore

from caserecord.persistence.mac import Macs
from caserecord.persistence.recorder import HasStore
from caserecord.persistence.sqlite_file import check_file

# The web console's sessions: a hash of the cookie's random id (never the id itself), the
# token it stands for (never its secret) and the session's own CSRF token.
CONSOLE_SESSIONS = (
    "CREATE TABLE IF NOT EXISTS {t}console_sessions ("
    "session_hash TEXT PRIMARY KEY, token_id TEXT NOT NULL, csrf_token TEXT NOT NULL, "
    "purpose TEXT NOT NULL, created_at TEXT NOT NULL, seen_at TEXT NOT NULL, ended_at TEXT)"
)

# A subject's rows by their number in its log: the next number is read from its top, and two
# writers can never give one subject the same number.
SUBJECT_NUMBERS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS access_log_subjects_seq "
    "ON {t}access_log_subjects (agency_id, (COALESCE(client_id, case_id)), seq)"
)

UNNUMBERED_SUBJECTS = (
    "CREATE INDEX IF NOT EXISTS access_log_subjects_unnumbered "
    "ON {t}access_log_subjects (entry_id) WHERE seq IS NULL"
)

# Each subject's last number in its access log, and the token ledger's last entry id, under a
# MAC, written in the same transaction as the rows they count: the newest rows deleted leave
# the head ahead of them, whatever the ids' sequence did.
HEADS = (
    "CREATE TABLE IF NOT EXISTS {t}access_log_heads (agency_id TEXT NOT NULL, "
    "subject_key TEXT NOT NULL, last_seq BIGINT NOT NULL, mac TEXT, "
    "PRIMARY KEY (agency_id, subject_key))",
    "CREATE TABLE IF NOT EXISTS {t}token_ledger_head ("
    "id INTEGER PRIMARY KEY, last_entry BIGINT NOT NULL, mac TEXT)",
)

SQLITE_TABLES = (
    "CREATE TABLE IF NOT EXISTS api_tokens ("
    "token_id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL, "
    "agency_id TEXT NOT NULL, role TEXT NOT NULL, created_at TEXT NOT NULL, "
    "revoked_at TEXT, staff_id TEXT, service_account INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS access_log ("
    "entry_id INTEGER PRIMARY KEY AUTOINCREMENT, agency_id TEXT NOT NULL, "
    "actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, token_id TEXT NOT NULL, "
    "action TEXT NOT NULL, purpose TEXT NOT NULL, client_id TEXT, case_id TEXT, "
    "accessed_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS access_log_client ON access_log (agency_id, client_id, entry_id)",
    "CREATE TABLE IF NOT EXISTS access_log_subjects ("
    "entry_id BIGINT NOT NULL, agency_id TEXT NOT NULL, client_id TEXT, case_id TEXT)",
    "CREATE INDEX IF NOT EXISTS access_log_subjects_client "
    "ON access_log_subjects (agency_id, client_id, entry_id)",
    "CREATE INDEX IF NOT EXISTS access_log_subjects_entry ON access_log_subjects (entry_id)",
    CONSOLE_SESSIONS.format(t=""),
    "CREATE TABLE IF NOT EXISTS token_ledger ("
    "entry_id INTEGER PRIMARY KEY AUTOINCREMENT, token_id TEXT NOT NULL, "
    "action TEXT NOT NULL, at TEXT NOT NULL, mac TEXT)",
    "CREATE INDEX IF NOT EXISTS token_ledger_token ON token_ledger (token_id)",
    *(h.format(t="") for h in HEADS),
)

# Columns added after their tables were first created: a store made before gains them at
# `caserecord db init`.  Tokens made before a staff directory name no staff member.
SQLITE_LATER_COLUMNS = (
    ("access_log", "request_id", "TEXT"),
    ("access_log", "actor_name", "TEXT"),
    ("api_tokens", "staff_id", "TEXT"),
    ("api_tokens", "service_account", "INTEGER NOT NULL DEFAULT 0"),
    ("access_log", "mac", "TEXT"),
    ("api_tokens", "mac", "TEXT"),
    ("access_log", "basis", "TEXT"),
    ("access_log", "break_glass_reason", "TEXT"),
    ("api_tokens", "organization_id", "TEXT"),
    ("console_sessions", "mac", "TEXT"),
    ("access_log_subjects", "seq", "INTEGER"),
)

POSTGRES_TABLES = (
    "CREATE TABLE IF NOT EXISTS {schema}.api_tokens ("
    "token_id text PRIMARY KEY, token_hash text NOT NULL UNIQUE, name text NOT NULL, "
    "agency_id text NOT NULL, role text NOT NULL, created_at text NOT NULL, "
    "revoked_at text, staff_id text, service_account integer NOT NULL DEFAULT 0)",
    "ALTER TABLE {schema}.api_tokens ADD COLUMN IF NOT EXISTS staff_id text",
    "ALTER TABLE {schema}.api_tokens ADD COLUMN IF NOT EXISTS "
    "service_account integer NOT NULL DEFAULT 0",
    "CREATE TABLE IF NOT EXISTS {schema}.access_log ("
    "entry_id bigserial PRIMARY KEY, agency_id text NOT NULL, "
    "actor_id text NOT NULL, actor_role text NOT NULL, token_id text NOT NULL, "
    "action text NOT NULL, purpose text NOT NULL, client_id text, case_id text, "
    "accessed_at text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS access_log_client "
    "ON {schema}.access_log (agency_id, client_id, entry_id)",
    "ALTER TABLE {schema}.access_log ADD COLUMN IF NOT EXISTS request_id text",
    "ALTER TABLE {schema}.access_log ADD COLUMN IF NOT EXISTS actor_name text",
    "CREATE TABLE IF NOT EXISTS {schema}.access_log_subjects ("
    "entry_id bigint NOT NULL, agency_id text NOT NULL, client_id text, case_id text)",
    "CREATE INDEX IF NOT EXISTS access_log_subjects_client "
    "ON {schema}.access_log_subjects (agency_id, client_id, entry_id)",
    "CREATE INDEX IF NOT EXISTS access_log_subjects_entry "
    "ON {schema}.access_log_subjects (entry_id)",
    CONSOLE_SESSIONS.format(t="{schema}."),
    "ALTER TABLE {schema}.api_tokens ADD COLUMN IF NOT EXISTS mac text",
    "ALTER TABLE {schema}.access_log ADD COLUMN IF NOT EXISTS mac text",
    "CREATE TABLE IF NOT EXISTS {schema}.token_ledger ("
    "entry_id bigserial PRIMARY KEY, token_id text NOT NULL, "
    "action text NOT NULL, at text NOT NULL, mac text)",
    "ALTER TABLE {schema}.access_log ADD COLUMN IF NOT EXISTS basis text",
    "ALTER TABLE {schema}.access_log ADD COLUMN IF NOT EXISTS break_glass_reason text",
    "ALTER TABLE {schema}.api_tokens ADD COLUMN IF NOT EXISTS organization_id text",
    "ALTER TABLE {schema}.console_sessions ADD COLUMN IF NOT EXISTS mac text",
    # Every authentication asks the ledger whether it revoked the token.
    "CREATE INDEX IF NOT EXISTS token_ledger_token ON {schema}.token_ledger (token_id)",
    "ALTER TABLE {schema}.access_log_subjects ADD COLUMN IF NOT EXISTS seq bigint",
    SUBJECT_NUMBERS.format(t="{schema}."),
    UNNUMBERED_SUBJECTS.format(t="{schema}."),
    *(h.format(t="{schema}.") for h in HEADS),
)


class Tables:
    """Runs SQL written with ``?`` placeholders and ``{t}`` table prefixes on either store."""

    def __init__(self, records: HasStore) -> None:
        # Holding the application keeps its datastore open (closing happens when it is freed).
        self.records = records
        datastore = records.store.datastore
        self.postgres = isinstance(datastore, PostgresDatastore)
        self.prefix = f'"{datastore.schema}".' if isinstance(datastore, PostgresDatastore) else ""
        self.datastore: Any = datastore  # the two stores' cursors are used alike here
        self.macs: Macs | None = getattr(records, "macs", None)

    def mac_key(self) -> Macs:
        if self.macs is None:
            raise RuntimeError("the access tables are used without the integrity key")
        return self.macs

    def lock_writers(self) -> str:
        """PostgreSQL: the statement taking the lock an event save holds (the library's,
        on the events table), for rows numbered beside the events written outside a save."""
        recorder: Any = self.records.store
        return f"LOCK TABLE {self.prefix}{recorder.events_table_name} IN EXCLUSIVE MODE"

    def sql(self, statement: str) -> str:
        statement = statement.replace("{t}", self.prefix)
        return statement.replace("?", "%s") if self.postgres else statement

    @contextmanager
    def cursor(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as c:
            if commit:
                check_file(self.datastore)
            yield c

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        with self.cursor(commit=True) as c:
            c.execute(self.sql(statement), tuple(params))

    def execute_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Several statements in one transaction: all or nothing."""
        with self.cursor(commit=True) as c:
            for statement, params in statements:
                c.execute(self.sql(statement), tuple(params))

    def insert_returning(
        self, statement: str, params: Sequence[Any], then: str, rows: Sequence[Sequence[Any]]
    ) -> Any:
        """Insert one row (``statement`` ends with RETURNING one column), then ``rows`` of
        ``then`` whose first parameter is that value, in one transaction."""
        with self.cursor(commit=True) as c:
            c.execute(self.sql(statement), tuple(params))
            found = c.fetchone()
            value = next(iter(found.values())) if isinstance(found, dict) else found[0]
            if rows:
                c.executemany(self.sql(then), [(value, *r) for r in rows])
            return value

    def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.cursor(commit=True) as c:
            c.executemany(self.sql(statement), [tuple(r) for r in rows])

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.cursor(commit=False) as c:
            c.execute(self.sql(statement), tuple(params))
            return [dict(row) for row in c.fetchall()]

    def create(self) -> None:
        if self.postgres:
            schema = f'"{self.datastore.schema}"'
            statements = [s.format(schema=schema) for s in POSTGRES_TABLES]
        else:
            statements = list(SQLITE_TABLES)
        with self.cursor(commit=True) as c:
            for statement in statements:
                c.execute(statement)
            if not self.postgres:  # SQLite has no ADD COLUMN IF NOT EXISTS
                for table, column, declared in SQLITE_LATER_COLUMNS:
                    c.execute(f"PRAGMA table_info({table})")
                    if column not in {row[1] for row in c.fetchall()}:
                        c.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declared}")
                c.execute(SUBJECT_NUMBERS.format(t=""))
                c.execute(UNNUMBERED_SUBJECTS.format(t=""))


def create_access_tables(records: HasStore) -> None:
    """Called by ``init_store``: workers never run DDL."""
    Tables(records).create()
