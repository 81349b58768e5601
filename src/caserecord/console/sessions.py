"""Console sessions: a token pasted once is exchanged for a random session id kept in an
``HttpOnly`` cookie; the server keeps only a hash of that id, the token's id (never its
secret) and a CSRF token of the session's own.

A session ends when it is signed out, after ``idle`` without use, ``lifetime`` after it
began, or as soon as its token is revoked.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from caserecord.access import TokenInfo, TokenStore
from caserecord.persistence.mac import Macs

log = logging.getLogger("caserecord.integrity")

# A page view moves the idle clock; writing that on every view would be one more write per
# page for a few seconds' precision.
SEEN_PRECISION = timedelta(seconds=30)


@dataclass(frozen=True)
class Session:
    token: TokenInfo
    csrf_token: str
    purpose: str
    created_at: datetime


def hashed(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)


class SessionStore:
    def __init__(
        self,
        tokens: TokenStore,
        *,
        idle: timedelta,
        lifetime: timedelta,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.tokens = tokens
        self.tables = tokens.tables
        self.idle = idle
        self.lifetime = lifetime
        self.clock = clock

    def begin(self, token: TokenInfo, purpose: str) -> str:
        """A new session for the token; its id, to be given to the browser only."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock().isoformat()
        row = (hashed(session_id), token.token_id, secrets.token_urlsafe(32), purpose, now)
        self.tables.execute(
            "INSERT INTO {t}console_sessions (session_hash, token_id, csrf_token, purpose, "
            "created_at, seen_at, mac) VALUES (?,?,?,?,?,?,?)",
            (*row, now, self.tables.mac_key().console_session(*row)),
        )
        return session_id

    def find(self, session_id: str) -> Session | None:
        """The live session with this id, or None (unknown, ended, expired, or its token
        revoked); an expired one is ended here."""
        key = hashed(session_id)
        rows = self.tables.query(
            "SELECT * FROM {t}console_sessions WHERE session_hash = ? AND ended_at IS NULL",
            (key,),
        )
        if not rows:
            return None
        row = rows[0]
        if not self._authentic(row):
            return None
        now = self.clock()
        created = datetime.fromisoformat(row["created_at"])
        seen = datetime.fromisoformat(row["seen_at"])
        token = self._active_token(str(row["token_id"]))
        if token is None or now - seen > self.idle or now - created > self.lifetime:
            self._end(key)
            return None
        if now - seen > SEEN_PRECISION:
            self.tables.execute(
                "UPDATE {t}console_sessions SET seen_at = ? WHERE session_hash = ?",
                (now.isoformat(), key),
            )
        return Session(token, str(row["csrf_token"]), str(row["purpose"]), created)

    def _authentic(self, row: dict[str, Any]) -> bool:
        """The session is one the service began: a row put in the database would let a
        browser act as any token whose id the insider knows."""
        expected = self.tables.mac_key().console_session(
            str(row["session_hash"]),
            str(row["token_id"]),
            str(row["csrf_token"]),
            str(row["purpose"]),
            str(row["created_at"]),
        )
        if Macs.same(expected, row.get("mac")):
            return True
        log.error("console session for token %s fails its MAC: refused", row["token_id"])
        return False

    def end(self, session_id: str) -> None:
        self._end(hashed(session_id))

    def _end(self, key: str) -> None:
        self.tables.execute(
            "UPDATE {t}console_sessions SET ended_at = ? WHERE session_hash = ? "
            "AND ended_at IS NULL",
            (self.clock().isoformat(), key),
        )

    def _active_token(self, token_id: str) -> TokenInfo | None:
        # Trusted as the API trusts a bearer token: its row's MAC and the token ledger.
        return self.tokens.active(token_id)
