"""An idempotency key kept with the events it produced, so 'acknowledged' implies 'recorded'.

Each row carries a MAC under the integrity key (``mac.py``), written in the events'
transaction: a retry is answered with the stored result, so a result edited in the database
would point the client at whatever the editor chose.  A row that fails its MAC is refused,
never replayed.

Each agency's rows are numbered 1, 2, 3, ... (``seq``, under the row's MAC) and the agency
has a MAC'd head naming its last number (``idempotency_heads``), both written in the rows'
own transaction under the lock every writer of the rows holds (SQLite's write lock, the
events table's lock on PostgreSQL): a row deleted leaves a gap, its newest rows deleted
leave the head ahead, and `verify --all` names either.  A retry whose row was deleted still
runs its command again: only the audit finds it."""

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from caserecord.persistence.mac import Macs
from caserecord.persistence.sealing import NoIntegrityKeyError

log = logging.getLogger("caserecord.integrity")

IDEMPOTENCY_TABLE = "idempotency_keys"
IDEMPOTENCY_COLUMNS = "agency_id, idem_key, fingerprint, result, created_at, seq, mac"
# The rows without a MAC (a store written before them, until `db init` seals them): the
# service asks this index at start, and it is empty once sealed, as new rows never enter it.
IDEMPOTENCY_UNSEALED = "idempotency_keys_unsealed"
# Likewise the rows without a number, until `db init` numbers them.
IDEMPOTENCY_UNNUMBERED = "idempotency_keys_unnumbered"
# An agency's rows by number: its last number is read from the top (only when its head is
# missing or not authentic), and two writers can never give one agency the same number.
IDEMPOTENCY_NUMBERS = "idempotency_keys_seq"
IDEMPOTENCY_HEADS = "idempotency_heads"
HEADS_DDL = (
    "CREATE TABLE IF NOT EXISTS {t}idempotency_heads (agency_id TEXT PRIMARY KEY, "
    "last_seq BIGINT NOT NULL, mac TEXT)"
)
INDEXES_DDL = (
    "CREATE UNIQUE INDEX IF NOT EXISTS idempotency_keys_seq ON {t}idempotency_keys "
    "(agency_id, seq)",
    "CREATE INDEX IF NOT EXISTS idempotency_keys_unnumbered ON {t}idempotency_keys "
    "(agency_id) WHERE seq IS NULL",
)
# An agency's last number from its rows: read only when its head is missing or not authentic.
LAST_NUMBER = "SELECT COALESCE(MAX(seq), 0) FROM {t}idempotency_keys WHERE agency_id = ?"
# An agency's head (its last number and the MAC over it); without a head, -1 minus the
# rows' last number (COALESCE reads the rows only then).
HEAD_NUMBER = (
    "SELECT COALESCE((SELECT last_seq FROM {t}idempotency_heads WHERE agency_id = ?), "
    "-1 - (" + LAST_NUMBER + ")), (SELECT mac FROM {t}idempotency_heads WHERE agency_id = ?)"
)
ADD_ROW = f"INSERT INTO {{t}}idempotency_keys ({IDEMPOTENCY_COLUMNS}) VALUES (?,?,?,?,?,?,?)"
SET_HEAD = (
    "INSERT INTO {t}idempotency_heads (agency_id, last_seq, mac) VALUES (?,?,?) "
    "ON CONFLICT (agency_id) DO UPDATE SET last_seq = excluded.last_seq, mac = excluded.mac"
)
# Whether the rows are not yet sealed and numbered by `db init`: rows without a MAC or a
# number (each through its partial index, empty once done), or rows and no head at all.
NOT_SEALED = (
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM {t}idempotency_keys WHERE mac IS NULL) "
    "OR EXISTS (SELECT 1 FROM {t}idempotency_keys WHERE seq IS NULL) "
    "OR (EXISTS (SELECT 1 FROM {t}idempotency_keys) "
    "AND NOT EXISTS (SELECT 1 FROM {t}idempotency_heads)) THEN 1 ELSE 0 END"
)


class TamperedIdempotencyError(Exception):
    """The stored row of an idempotency key fails its MAC (changed behind the service):
    the request is neither answered with its result nor run again.  One line."""

    code = "record_unreadable"

    def __init__(self, agency_id: str, key: str) -> None:
        super().__init__(
            "the stored result of this Idempotency-Key fails its integrity check (its row was "
            "changed behind the service): it is not replayed and the request is not run "
            "again; `caserecord verify --all` names the row"
        )
        self.agency_id = agency_id
        self.key = key


@dataclass(frozen=True)
class IdempotencyRecord:
    agency_id: str
    key: str
    fingerprint: str
    result: dict[str, Any]
    created_at: str

    def values(self) -> tuple[str, str, str, str, str]:
        """The row's columns before its MAC (``IDEMPOTENCY_COLUMNS``), the result as JSON."""
        result = json.dumps(self.result, sort_keys=True, default=str)
        return (self.agency_id, self.key, self.fingerprint, result, self.created_at)

    def row(self, macs: Macs | None, seq: int) -> tuple[str, str, str, str, str, int, str]:
        """The row to store (``IDEMPOTENCY_COLUMNS``) as its agency's number ``seq``, with
        its MAC."""
        if macs is None:
            raise NoIntegrityKeyError("the recorder holds no integrity key: nothing was written")
        values = self.values()
        return (*values, seq, macs.idempotency(*values, seq))

    @classmethod
    def from_row(cls, row: Sequence[Any], macs: Macs | None) -> "IdempotencyRecord":
        """The record of a stored row (``IDEMPOTENCY_COLUMNS``), or
        :class:`TamperedIdempotencyError` if it fails its MAC."""
        if macs is None:
            raise NoIntegrityKeyError("the recorder holds no integrity key: nothing is replayed")
        agency_id, key, fingerprint, result, created_at, seq, mac = row
        authentic = seq is not None and Macs.same(
            macs.idempotency(agency_id, key, fingerprint, result, str(created_at), int(seq)), mac
        )
        if not authentic:
            log.error("idempotency key %s of agency %s fails its MAC: refused", key, agency_id)
            raise TamperedIdempotencyError(agency_id, key)
        return cls(agency_id, key, fingerprint, json.loads(result), str(created_at))


def idempotency_records(kwargs: dict[str, Any]) -> list[IdempotencyRecord]:
    """A save's idempotency records: a group's (``idempotencies``), or a lone save's."""
    records: list[IdempotencyRecord] = list(kwargs.get("idempotencies", ()))
    if kwargs.get("idempotency") is not None:
        records.append(kwargs["idempotency"])
    return records


Head = tuple[int, Any]  # an agency's head as read: HEAD_NUMBER's number, and its MAC


def numbered(
    records: Sequence[IdempotencyRecord],
    heads: dict[str, Head],
    macs: Macs,
    rows_last: Callable[[str], int],
) -> tuple[list[tuple[Any, ...]], list[tuple[str, int, str | None]]]:
    """The rows of ``records`` (``IDEMPOTENCY_COLUMNS``), each numbered after its agency's
    last number, and the agencies' new heads (agency, last number, MAC).

    ``heads``: each agency's head as read under the writers' lock (``HEAD_NUMBER``).  A head
    missing while the agency has rows, or failing its MAC, is numbered past from the rows
    (``rows_last``, read only then) and written back without a MAC, with an error logged: a
    writer never vouches for a head it did not find authentic, or the next write would
    launder an edited head over deleted rows."""
    last: dict[str, int] = {}
    vouched: dict[str, bool] = {}
    for agency in sorted({r.agency_id for r in records}):
        number, mac = heads.get(agency, (-1, None))
        number = int(number)
        head = number if number >= 0 else None
        if head is not None and Macs.same(macs.idempotency_head(agency, head), mac):
            last[agency], vouched[agency] = head, True
            continue
        last[agency] = rows_last(agency) if head is not None else -1 - number
        vouched[agency] = head is None and last[agency] == 0  # an agency's first key
        if not vouched[agency]:
            log.error(
                "the idempotency head of agency %s is %s: numbered from its rows, its head "
                "left without a MAC",
                agency,
                "missing" if head is None else "not authentic",
            )
    rows = []
    for record in records:
        last[record.agency_id] += 1
        rows.append(record.row(macs, last[record.agency_id]))
    new_heads = [
        (agency, n, macs.idempotency_head(agency, n) if vouched[agency] else None)
        for agency, n in last.items()
    ]
    return rows, new_heads


def first_value(found: Any) -> Any:
    return next(iter(found.values())) if isinstance(found, dict) else found[0]


def write_numbered(
    c: Any, sql: Callable[[str], str], macs: Macs, records: Sequence[IdempotencyRecord]
) -> None:
    """Write ``records`` numbered, and their agencies' heads, on cursor ``c`` inside the
    caller's transaction, which holds the lock every writer of these rows takes (``sql``
    makes a statement of this module's, ``{t}`` and ``?``, one for ``c``'s store)."""
    heads: dict[str, Head] = {}
    for agency in sorted({r.agency_id for r in records}):
        c.execute(sql(HEAD_NUMBER), (agency, agency, agency))
        found = c.fetchone()
        values = list(found.values()) if isinstance(found, dict) else list(found)
        heads[agency] = (int(values[0]), values[1])

    def rows_last(agency: str) -> int:
        c.execute(sql(LAST_NUMBER), (agency,))
        return int(first_value(c.fetchone()))

    rows, new_heads = numbered(records, heads, macs, rows_last)
    c.executemany(sql(ADD_ROW), rows)
    c.executemany(sql(SET_HEAD), new_heads)
