"""One process at a time runs the view runners.

Every API worker (and ``caserecord projections run``) asks for the same lock; the one that
gets it runs the runners and the others stand by, asking again now and then.  The lock is
one the operating system or the database server releases by itself when its holder dies,
so a standby takes over after a crash without anyone cleaning up:

* PostgreSQL: a session-level advisory lock, held on a connection of its own for as long
  as the runners run.  The server drops it with the session (process killed, connection
  cut).
* SQLite: an exclusive ``flock`` on a file next to the database file.  The kernel drops it
  with the last descriptor of the open file (process killed).
* In-memory SQLite: one process only, so nothing to share.

Two holders at once can still happen for a moment (a leader that lost its connection
notices at its next check), which costs only duplicated work: each view update commits
with its position.
"""

import contextlib
import fcntl
import hashlib
import logging
import os
import socket
from pathlib import Path
from typing import Protocol

import psycopg

log = logging.getLogger(__name__)

LOCK_NAME = "caserecord-projections"


class RunnerLock(Protocol):
    def acquire(self) -> bool:
        """Take the lock if it is free; never waits.  False also when the store cannot
        be reached: the caller asks again later."""

    def held(self) -> bool:
        """Whether the lock taken is still this process's (PostgreSQL: its session is
        still alive)."""

    def release(self) -> None: ...

    def holder(self) -> str:
        """Who holds the lock, as far as can be told, for messages ("pid 12 on host")."""


def whoami() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def runner_lock(env: dict[str, str]) -> RunnerLock:
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        return AdvisoryLock(env)
    path = env.get("SQLITE_DBNAME", "")
    if path == ":memory:" or path.startswith("file::memory:") or "mode=memory" in path:
        return ProcessLock()
    return FileLock(Path(path.removeprefix("file:").split("?", 1)[0] + ".projections.lock"))


class ProcessLock:
    """A database only this process can see needs no lock between processes."""

    def __init__(self) -> None:
        self._held = False

    def acquire(self) -> bool:
        self._held = True
        return True

    def held(self) -> bool:
        return self._held

    def release(self) -> None:
        self._held = False

    def holder(self) -> str:
        return whoami()


class FileLock:
    """``flock`` on ``<database>.projections.lock``.  The file is never removed: removing it
    while held would let a second process lock a new file of the same name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return self.held()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            log.warning("cannot open the projection lock file %s: %s", self.path, e)
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        if not self._same_file():  # removed or replaced between open and flock
            self.release()
            return False
        with contextlib.suppress(OSError):  # only for messages to the other processes
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{whoami()}\n".encode(), 0)
        return True

    def held(self) -> bool:
        if self._fd is None:
            return False
        try:
            # Asking again for a lock already held is a no-op; it fails only when the
            # descriptor is gone.
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fd = None
            return False
        if not self._same_file():
            log.warning("the projection lock file %s was removed or replaced", self.path)
            self.release()
            return False
        return True

    def _same_file(self) -> bool:
        assert self._fd is not None
        try:
            return os.stat(self.path).st_ino == os.fstat(self._fd).st_ino
        except OSError:
            return False

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def holder(self) -> str:
        try:
            text = self.path.read_text().strip()
        except OSError:
            text = ""
        return text or "another process"


def advisory_key(schema: str) -> int:
    """A stable signed 64-bit key per schema, so stores in other schemas of the same
    database do not share one lock."""
    digest = hashlib.sha256(f"{schema}:{LOCK_NAME}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLock:
    """``pg_try_advisory_lock`` on a connection of its own, outside the library's pools,
    so the session (and with it the lock) lives exactly as long as this object holds it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.key = advisory_key(env.get("POSTGRES_SCHEMA", "").strip() or "public")
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._held = False

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                host=self.env["POSTGRES_HOST"],
                port=self.env["POSTGRES_PORT"],
                dbname=self.env["POSTGRES_DBNAME"],
                user=self.env["POSTGRES_USER"],
                password=self.env["POSTGRES_PASSWORD"],
                connect_timeout=int(float(self.env.get("POSTGRES_CONNECT_TIMEOUT", "5"))),
                application_name=f"caserecord projections ({whoami()})"[:63],
                autocommit=True,
            )
        return self._conn

    def acquire(self) -> bool:
        if self._held:
            return self.held()
        try:
            row = self._connection().execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
            got = row.fetchone()
        except psycopg.Error as e:
            log.warning("cannot ask for the projection lock: %s", str(e).strip().splitlines()[0])
            self._drop()
            return False
        self._held = bool(got and got[0])
        return self._held

    def held(self) -> bool:
        if not self._held or self._conn is None:
            return False
        try:
            # The session is the lock: while it answers, the lock is still ours.
            self._conn.execute("SELECT 1")
        except psycopg.Error as e:
            log.warning(
                "lost the projection lock with its connection: %s",
                str(e).strip().splitlines()[0],
            )
            self._drop()
            return False
        return True

    def release(self) -> None:
        # Unlocked before the session closes: the server ends a closed session (and its
        # locks) only once it notices, so another service asking at once would be refused.
        if self._held and self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        self._drop()

    def _drop(self) -> None:
        conn, self._conn, self._held = self._conn, None, False
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()

    def holder(self) -> str:
        # A bigint key appears in pg_locks as its high and low halves.
        high, low = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        try:
            row = (
                self._connection()
                .execute(
                    "SELECT a.application_name FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                    "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid "
                    "AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())",
                    (high, low),
                )
                .fetchone()
            )
        except psycopg.Error:
            row = None
        name = str(row[0]) if row else ""
        prefix = "caserecord projections ("
        if name.startswith(prefix):
            return name.removeprefix(prefix).removesuffix(")")
        return "another process"
