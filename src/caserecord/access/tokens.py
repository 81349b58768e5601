"""API tokens: shown once when created, kept only as a SHA-256 hash."""

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from caserecord.access.db import Tables
from caserecord.domain.errors import InvalidValueError, NotFoundError
from caserecord.domain.values import Role, parse
from caserecord.persistence.idempotency import IdempotencyRecord, write_numbered
from caserecord.persistence.mac import Macs

log = logging.getLogger("caserecord.integrity")

TOKEN_PREFIX = "crt_"
# Each token issued or revoked gets a row in the append-only ledger (MACed, numbered without
# gaps), written in the token's own transaction: a token deleted from ``api_tokens``, or an
# older copy of its row restored over a revocation, disagrees with the ledger.
ISSUED, REVOKED = "issued", "revoked"
# The entry id comes from the ledger's head, advanced in the entry's transaction (its row
# lock makes ledger writers wait on each other until commit), not from a sequence: an id
# taken by a write that rolls back is taken again, so the ids run without a gap.
ADVANCE_LEDGER = (
    "INSERT INTO {t}token_ledger_head AS h (id, last_entry) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET last_entry = h.last_entry + 1 RETURNING last_entry, mac"
)
ADD_TO_LEDGER = (
    "INSERT INTO {t}token_ledger (entry_id, token_id, action, at, mac) VALUES (?,?,?,?,?)"
)
SET_LEDGER_HEAD = "UPDATE {t}token_ledger_head SET last_entry = ?, mac = ? WHERE id = 1"
# A token's row with whether the ledger revoked it, in the lookup's one query: an older copy
# of the row restored over its revocation carries its then valid MAC, and only the ledger
# (which the service never changes) still says the token was revoked.
TOKEN_WITH_LEDGER = (
    "SELECT t.*, EXISTS (SELECT 1 FROM {t}token_ledger AS l WHERE l.token_id = t.token_id "
    "AND l.action = ?) AS ledger_revoked FROM {t}api_tokens AS t WHERE t."
)


class TokenNotFoundError(NotFoundError):
    code = "token_not_found"


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    name: str
    agency_id: str
    role: str
    created_at: str
    revoked_at: str | None = None
    staff_id: str | None = None
    """The staff member the token belongs to; None for a service account, and for a
    token made before its agency had a staff directory."""
    service_account: bool = False
    """A service account acts for the staff member each request names (X-On-Behalf-Of)."""
    organization_id: str | None = None
    """A provider token's organisation: it sees and answers the referrals sent to it."""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "TokenInfo":
        return cls(
            str(row["token_id"]),
            str(row["name"]),
            str(row["agency_id"]),
            str(row["role"]),
            str(row["created_at"]),
            None if row["revoked_at"] is None else str(row["revoked_at"]),
            None if row.get("staff_id") is None else str(row["staff_id"]),
            bool(row.get("service_account")),
            None if row.get("organization_id") is None else str(row["organization_id"]),
        )

    @property
    def active(self) -> bool:
        return self.revoked_at is None


# Stands in for the row when nothing matches, so a miss takes the path a hit takes.
UNKNOWN_TOKEN: dict[str, Any] = {
    "token_id": "",
    "token_hash": "0" * 64,
    "name": "",
    "agency_id": "",
    "role": "",
    "created_at": "",
    "revoked_at": None,
    "mac": None,
    "staff_id": None,
    "service_account": 0,
    "organization_id": None,
    "ledger_revoked": False,
}


# What a token's MAC covers, in this order.
# The MAC covers who the token acts for as well as its role: a staff binding moved in the
# database would let one person's token act as another.
TOKEN_COLUMNS = (
    "token_id",
    "token_hash",
    "name",
    "agency_id",
    "role",
    "created_at",
    "revoked_at",
    "staff_id",
    "service_account",
)


# The columns read to check a token's MAC (``covered`` turns them into what it covers).
MAC_READ_COLUMNS = (*TOKEN_COLUMNS, "organization_id")


def covered(values: Sequence[Any]) -> list[Any]:
    """What a token's MAC covers of its ``MAC_READ_COLUMNS``: ``TOKEN_COLUMNS``, then its
    organisation when it has one (so the MACs of tokens made before stay valid, and a
    provider token moved to another organisation fails its MAC)."""
    *columns, organization_id = values
    return columns if organization_id is None else [*columns, organization_id]


def mac_columns(row: dict[str, Any]) -> list[Any]:
    """What a token's MAC covers, from a row read by name."""
    return covered([*(row[c] for c in TOKEN_COLUMNS), row.get("organization_id")])


def append_to_ledger(
    c: Any, sql: Callable[[str], str], macs: Macs, token_id: str, action: str, at: str
) -> int:
    """Add a ledger entry on ``c`` (inside the caller's transaction) and move the head to it.
    A head not found authentic is not vouched for: the entry takes the id after the ledger's
    last, and the head keeps no MAC, so ledger rows deleted with the head edited stay found."""

    def one(statement: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        c.execute(sql(statement), tuple(params))
        found = c.fetchone()
        return tuple(found.values()) if isinstance(found, dict) else tuple(found)

    entry_id, mac = one(ADVANCE_LEDGER)
    entry_id = int(entry_id)
    vouched = Macs.same(macs.ledger_head(entry_id - 1), mac)
    if not vouched:
        (top,) = one("SELECT COALESCE(MAX(entry_id), 0) FROM {t}token_ledger")
        vouched = entry_id == 1 and mac is None and int(top) == 0  # the ledger's first entry
        if not vouched:
            log.error("the token ledger's head is not authentic: left without a MAC")
            entry_id = int(top) + 1
    c.execute(
        sql(ADD_TO_LEDGER),
        (entry_id, token_id, action, at, macs.token_ledger(entry_id, token_id, action, at)),
    )
    c.execute(sql(SET_LEDGER_HEAD), (entry_id, macs.ledger_head(entry_id) if vouched else None))
    return entry_id


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    """Tokens in the access tables.

    With ``cache_seconds`` > 0, a token found active is trusted for that long without asking
    the store again (every request authenticates, and the lookup was a query and a hop to a
    thread). Revoking through this store forgets the token at once; a revocation made by
    another process (another worker, the CLI) is honoured here within ``cache_seconds``.
    Unknown and revoked tokens are never cached: they are looked up every time.
    """

    MAX_CACHED = 10_000

    def __init__(
        self,
        tables: Tables,
        *,
        cache_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tables = tables
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[str, tuple[TokenInfo, float]] = {}
        # Counts revocations through this store, so that a lookup that began before one
        # does not put back into the cache the token it just revoked.
        self._revocations = 0
        self._cache_lock = threading.Lock()

    def create(
        self,
        *,
        agency_id: str,
        role: str,
        name: str,
        staff_id: str | None = None,
        service_account: bool = False,
        organization_id: str | None = None,
        idempotency: tuple[str, str] | None = None,
    ) -> tuple[TokenInfo, str]:
        """A new token and its secret; the secret is not stored and cannot be shown again.

        ``staff_id``: the staff member it belongs to (the caller checks the directory);
        ``service_account``: it belongs to no one and names a staff member per request;
        ``organization_id``: a provider token's organisation (required for, and only for,
        the provider role).

        ``idempotency`` (key, fingerprint) is kept with the token in one transaction, as the
        event store keeps it with events, so a retry can be recognised."""
        parse(Role, role, "role")
        if not agency_id.strip() or not name.strip():
            raise InvalidValueError("a token needs an agency and a name")
        if service_account and staff_id is not None:
            raise InvalidValueError(
                "a service account acts for the staff member each request names: "
                "it belongs to no staff member itself"
            )
        check_provider(role, organization_id, staff_id, service_account)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        info = TokenInfo(
            token_id=secrets.token_hex(8),
            name=name.strip(),
            agency_id=agency_id.strip(),
            role=role,
            created_at=datetime.now(UTC).isoformat(),
            staff_id=staff_id,
            service_account=service_account,
            organization_id=organization_id,
        )
        row = (info.token_id, hash_token(secret), info.name, info.agency_id, role, info.created_at)
        statements: list[tuple[str, tuple[Any, ...]]] = [
            (
                "INSERT INTO {t}api_tokens "
                "(token_id, token_hash, name, agency_id, role, created_at, staff_id, "
                "service_account, organization_id, mac) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    *row,
                    staff_id,
                    int(service_account),
                    organization_id,
                    self.tables.mac_key().token(
                        (*row, None, staff_id, int(service_account))
                        + (() if organization_id is None else (organization_id,))
                    ),
                ),
            )
        ]
        with self.tables.cursor(commit=True) as c:
            if idempotency is not None and self.tables.postgres:
                # The lock every writer of idempotency rows holds (an event save's), taken
                # first: the key is numbered among its agency's under it.
                c.execute(self.tables.lock_writers())
            for statement, params in statements:
                c.execute(self.tables.sql(statement), params)
            if idempotency is not None:
                key, fingerprint = idempotency
                record = IdempotencyRecord(
                    info.agency_id, key, fingerprint, {"token_id": info.token_id}, info.created_at
                )
                write_numbered(c, self.tables.sql, self.tables.mac_key(), [record])
            self._ledger(c, info.token_id, ISSUED, info.created_at)
        return info, secret

    def _ledger(self, c: Any, token_id: str, action: str, at: str) -> None:
        append_to_ledger(c, self.tables.sql, self.tables.mac_key(), token_id, action, at)

    def authenticate(self, secret: str) -> TokenInfo | None:
        """The active token with this secret, or None (unknown and revoked look the same).

        The same steps run whatever the secret: one hash, one indexed lookup by that hash,
        one constant-time comparison, so a timer cannot tell a known prefix, an unknown
        token or a revoked one apart.  Only a token that was just found active may be
        answered from the cache (``cache_seconds``), which a wrong secret never reaches."""
        presented = hash_token(secret)
        found = self._cached(presented)
        if found is not None:
            return found
        revocations = self._revocations
        rows = self._rows("token_hash", presented)
        row = rows[0] if rows else UNKNOWN_TOKEN
        info = TokenInfo.from_row(row)
        same = hmac.compare_digest(str(row["token_hash"]), presented)
        # Checked whatever was found, so a miss still takes the steps a hit takes.
        trusted = self.trusted(row)
        known = same & secret.startswith(TOKEN_PREFIX) & info.active
        if not (known and trusted):
            return None
        if self.cache_seconds > 0:
            with self._cache_lock:
                if self._revocations == revocations:
                    if len(self._cache) >= self.MAX_CACHED:
                        self._cache.clear()
                    self._cache[presented] = (info, self.clock() + self.cache_seconds)
        return info

    def active(self, token_id: str) -> TokenInfo | None:
        """The token with this id if it is active and its row is one the service wrote
        and the ledger has not revoked (a console session's token, looked up by id)."""
        rows = self._rows("token_id", token_id)
        if not rows:
            return None
        info = TokenInfo.from_row(rows[0])
        return info if info.active and self.trusted(rows[0]) else None

    def _rows(self, column: str, value: str) -> list[dict[str, Any]]:
        return self.tables.query(f"{TOKEN_WITH_LEDGER}{column} = ?", (REVOKED, value))

    def trusted(self, row: dict[str, Any]) -> bool:
        """The row passes its MAC and, if active, the ledger has not revoked it; a row
        that fails is logged (never for the stand-in of a miss)."""
        authentic = self.authentic(row)
        restored = row["revoked_at"] is None and bool(row.get("ledger_revoked"))
        if row["token_id"] and not authentic:  # a role raised, a token made up
            log.error("token %s fails its MAC: refused", row["token_id"])
        elif row["token_id"] and restored:
            log.error(
                "token %s is active but the token ledger revoked it (an older copy of its "
                "row restored?): refused",
                row["token_id"],
            )
        return authentic and not restored

    def authentic(self, row: dict[str, Any]) -> bool:
        """The row is one this service wrote (its role, agency and revocation included)."""
        expected = self.tables.mac_key().token(mac_columns(row))
        return Macs.same(expected, row.get("mac"))

    def cached(self, secret: str) -> TokenInfo | None:
        """The token if it is in the cache and still fresh; never asks the store."""
        if not self.cache_seconds or not secret.startswith(TOKEN_PREFIX):
            return None
        return self._cached(hash_token(secret))

    def _cached(self, digest: str) -> TokenInfo | None:
        entry = self._cache.get(digest)
        if entry is None:
            return None
        info, fresh_until = entry
        if self.clock() >= fresh_until:
            self._cache.pop(digest, None)
            return None
        return info

    def list(
        self,
        agency_id: str | None = None,
        *,
        after: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> list[TokenInfo]:
        """Tokens in the order they were created; ``after``: (created_at, token_id) of the
        last one already shown."""
        where: list[str] = ["1=1"]
        params: list[Any] = []
        if agency_id is not None:
            where.append("agency_id = ?")
            params.append(agency_id)
        if after is not None:
            where.append("(created_at, token_id) > (?, ?)")
            params.extend(after)
        bound = ""
        if limit is not None:
            bound = " LIMIT ?"
            params.append(limit)
        rows = self.tables.query(
            f"SELECT * FROM {{t}}api_tokens WHERE {' AND '.join(where)} "
            f"ORDER BY created_at, token_id{bound}",
            params,
        )
        return [TokenInfo.from_row(r) for r in rows]

    def get(self, token_id: str, agency_id: str | None = None) -> TokenInfo:
        rows = self.tables.query("SELECT * FROM {t}api_tokens WHERE token_id = ?", (token_id,))
        if not rows or (agency_id is not None and rows[0]["agency_id"] != agency_id):
            raise TokenNotFoundError(f"no token {token_id}")
        return TokenInfo.from_row(rows[0])

    def revoke(self, token_id: str, agency_id: str | None = None) -> TokenInfo:
        """Revoke a token (revoking twice keeps the first revocation time)."""
        self.get(token_id, agency_id)
        with self.tables.cursor(commit=True) as c:
            c.execute(
                self.tables.sql("SELECT * FROM {t}api_tokens WHERE token_id = ? FOR UPDATE")
                if self.tables.postgres
                else "SELECT * FROM api_tokens WHERE token_id = ?",
                (token_id,),
            )
            row = dict(c.fetchone())
            if row["revoked_at"] is None:
                revoked_at = row["revoked_at"] = datetime.now(UTC).isoformat()
                c.execute(
                    self.tables.sql(
                        "UPDATE {t}api_tokens SET revoked_at = ?, mac = ? WHERE token_id = ?"
                    ),
                    (
                        row["revoked_at"],
                        self.tables.mac_key().token(mac_columns(row)),
                        token_id,
                    ),
                )
                self._ledger(c, token_id, REVOKED, revoked_at)
        self.forget(token_id)
        return self.get(token_id, agency_id)

    def forget(self, token_id: str) -> None:
        """Drop a token from the cache, so its next use is looked up in the store."""
        with self._cache_lock:
            self._revocations += 1
            for digest, (info, _) in list(self._cache.items()):
                if info.token_id == token_id:
                    del self._cache[digest]


def check_provider(
    role: str, organization_id: str | None, staff_id: str | None, service_account: bool
) -> None:
    if role != Role.PROVIDER:
        if organization_id is not None:
            raise InvalidValueError("only a provider token names an organisation")
        return
    if organization_id is None or not organization_id.strip():
        raise InvalidValueError("a provider token names the organisation it answers for")
    if staff_id is not None or service_account:
        raise InvalidValueError(
            "a provider token belongs to an outside organisation, not to a staff member"
        )
