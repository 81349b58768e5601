"""Keyed MACs (HMAC-SHA256) over the rows that decide what is served.

The key never enters the database (``config.py`` finds it: a key file, an environment
variable or a secrets file), so someone who can write to the database but does not hold
the key cannot make a row the service will accept: an event appended with a recomputed
chain link, a new stream, a snapshot moved to another agency, a token with a higher role,
a feed-index row pointing an event at another agency, a made-up access-log entry, an
idempotency key's stored result pointing a retry at another record.

Each MAC covers a row's content *and* its position (stream and version, log position,
entry id), under a label per kind of row, so a valid row cannot be moved or reused as
another kind.  Standard library only.
"""

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence

KEY_BYTES = 32


class Macs:
    """The MAC of each kind of row, under one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_BYTES:
            raise ValueError(f"the integrity key needs at least {KEY_BYTES} bytes")
        # HMAC (RFC 2104) from two prepared SHA-256 states: copying a hash state is far
        # cheaper than OpenSSL's per-call HMAC set-up, and a full verify makes two per event.
        block = 64
        padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def _digest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def prefixed(self, prefix: str) -> Callable[[bytes], str]:
        """The MAC of ``prefix`` followed by the bytes it is called with, with ``prefix``
        hashed once: a full verify MACs a million messages that share a few prefixes (a
        stream's ``event`` messages, an agency's ``feed`` messages)."""
        inner = self._inner.copy()
        inner.update(prefix.encode())
        inner_copy, outer_copy = inner.copy, self._outer.copy

        def mac(rest: bytes) -> str:
            i = inner_copy()
            i.update(rest)
            o = outer_copy()
            o.update(i.digest())
            return o.hexdigest()

        return mac

    def _mac(self, *parts: object) -> str:
        text = "\x1f".join("" if p is None else str(p) for p in parts)
        return self._digest(text.encode())

    def event(self, stream_id: str, version: int, position: int, chain_hash: str) -> str:
        # The bytes ``_mac`` would make, formatted directly; ``event_prefix`` and
        # ``event_rest`` split them for ``prefixed``.
        text = f"event\x1f{stream_id}\x1f{version}\x1f{position}\x1f{chain_hash}"
        return self._digest(text.encode())

    @staticmethod
    def event_prefix(stream_id: str) -> str:
        return f"event\x1f{stream_id}\x1f"

    @staticmethod
    def event_rest(version: int, position: int, chain_hash: str) -> bytes:
        return f"{version}\x1f{position}\x1f{chain_hash}".encode()

    def snapshot(self, stream_id: str, version: int, topic: str, state: bytes) -> str:
        return self._mac("snapshot", stream_id, version, topic, hashlib.sha256(state).hexdigest())

    def feed(self, agency_id: str, position: int, sequence: int) -> str:
        """A feed-index row: its agency, its event's log position, and its number in the
        agency's feed (1, 2, 3, ... in log order), so a deleted row leaves a gap."""
        text = f"feed\x1f{agency_id}\x1f{position}\x1f{sequence}"
        return self._digest(text.encode())

    @staticmethod
    def feed_prefix(agency_id: str) -> str:
        return f"feed\x1f{agency_id}\x1f"

    @staticmethod
    def feed_rest(position: int, sequence: int) -> bytes:
        return f"{position}\x1f{sequence}".encode()

    def unnumbered_feed(self, agency_id: str, position: int) -> str:
        """The MAC of a feed-index row sealed before the rows were numbered: `db init`
        checks it once before it numbers the row and gives it :meth:`feed`."""
        text = f"feed\x1f{agency_id}\x1f{position}"
        return self._digest(text.encode())

    def tree_head(self, size: int, root: bytes) -> str:
        return self._mac("tree-head", size, root.hex())

    def token(self, row: Sequence[object]) -> str:
        """``row``: what ``access.tokens.covered`` gives (``TOKEN_COLUMNS`` in that order,
        then the organisation of a provider token)."""
        return self._mac("token", *row)

    def token_ledger(self, entry_id: int, token_id: str, action: str, at: str) -> str:
        """A row of the append-only token ledger: a token issued or revoked."""
        return self._mac("token-ledger", entry_id, token_id, action, at)

    def ledger_head(self, last_entry: int) -> str:
        """The token ledger's last entry id: entries deleted at its end leave it ahead."""
        return self._mac("token-ledger-head", last_entry)

    def access_head(self, agency_id: str, subject_key: str, last: int) -> str:
        """A subject's last number in its access log (client, or case naming no client):
        its newest entries deleted leave it ahead of them."""
        return self._mac("access-head", agency_id, subject_key, last)

    def console_session(
        self, session_hash: str, token_id: str, csrf_token: str, purpose: str, created_at: str
    ) -> str:
        """A console session: which token a browser's cookie acts as, for what purpose,
        since when (its last-seen time and its end change, and only shorten it)."""
        return self._mac("console-session", session_hash, token_id, csrf_token, purpose, created_at)

    def access_entry(self, entry: Sequence[object], subjects: Iterable[Sequence[object]]) -> str:
        """``entry``: the columns of ``access.log.ACCESS_COLUMNS``; ``subjects``: its
        (agency_id, client_id, case_id) rows, in any order."""
        named = sorted("|".join("" if v is None else str(v) for v in numbered(s)) for s in subjects)
        columns = list(entry)
        # Columns added later (a read's basis, a break-glass reason) count only once set,
        # so an entry written before them keeps the MAC it was given.
        while len(columns) > ACCESS_COLUMNS_FIRST and columns[-1] is None:
            columns.pop()
        return self._mac("access", *columns, *named)

    def idempotency(
        self, agency_id: str, key: str, fingerprint: str, result: str, created_at: str, seq: int
    ) -> str:
        """An idempotency key's row: whose key it is, the request it is bound to, the
        stored result (its JSON text) a retry is answered with, and its number among the
        agency's keys (1, 2, 3, ... in the order written), so a deleted row leaves a gap."""
        return self._mac("idempotency", agency_id, key, fingerprint, result, created_at, seq)

    def unnumbered_idempotency(
        self, agency_id: str, key: str, fingerprint: str, result: str, created_at: str
    ) -> str:
        """The MAC of an idempotency row sealed before the rows were numbered: `db init`
        checks it once before it numbers the row and gives it :meth:`idempotency`."""
        return self._mac("idempotency", agency_id, key, fingerprint, result, created_at)

    def idempotency_head(self, agency_id: str, last: int) -> str:
        """An agency's last idempotency-key number: its newest rows deleted leave it ahead."""
        return self._mac("idempotency-head", agency_id, last)

    @staticmethod
    def same(expected: str, found: object) -> bool:
        # Compared even when nothing was stored, so a missing MAC takes the steps of a
        # wrong one.
        return hmac.compare_digest(expected, found if isinstance(found, str) else "")


ACCESS_COLUMNS_FIRST = 12  # the access log's columns before a read's basis was recorded


def numbered(subject: Sequence[object]) -> Sequence[object]:
    """A subject row (agency, client, case[, number]): its number in its subject's log counts
    only once set, so a row written before the numbers keeps its entry's MAC until db init."""
    return subject[:3] if len(subject) > 3 and subject[3] is None else subject


def key_fingerprint(key: bytes) -> str:
    """Names a key without revealing it (a stored value tells which key made the MACs)."""
    return hashlib.sha256(b"caserecord-integrity-key\x00" + key).hexdigest()[:16]
