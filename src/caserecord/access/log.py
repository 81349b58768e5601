"""The access log: who read which clients' or cases' records, when and for what purpose.

One entry per read request, naming every client and case its answer held.  It is written
before the data is returned; if the write fails the caller gets
:class:`AccessLogUnavailableError` and must not return the data.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from caserecord.access.db import Tables
from caserecord.persistence.feed import number_gaps
from caserecord.persistence.mac import Macs

log = logging.getLogger("caserecord.integrity")


class AccessLogUnavailableError(Exception):
    """The read could not be recorded, so its data must be withheld."""


@dataclass(frozen=True)
class Reader:
    actor_id: str
    actor_role: str
    agency_id: str
    token_id: str
    purpose: str
    request_id: str | None = None
    actor_name: str | None = None  # the staff member's name, when the token names one


@dataclass(frozen=True)
class Basis:
    """Why a read was allowed (``domain.need_to_know.Relation``), and the reason given for a
    break-glass read."""

    basis: str
    reason: str | None = None


@dataclass(frozen=True)
class Subject:
    client_id: UUID | None
    case_id: UUID | None = None


ADD_ENTRY = (
    "INSERT INTO {t}access_log (agency_id, actor_id, actor_role, token_id, action, purpose, "
    "request_id, accessed_at, actor_name, basis, break_glass_reason) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING entry_id"
)
ADD_SUBJECT = (
    "INSERT INTO {t}access_log_subjects (entry_id, agency_id, client_id, case_id, seq) "
    "VALUES (?,?,?,?,?)"
)
# A subject's last number from its rows: read only when its head is missing (a new subject)
# or not authentic.
LAST_NUMBER = (
    "SELECT COALESCE(MAX(seq), 0) FROM {t}access_log_subjects "
    "WHERE agency_id = ? AND COALESCE(client_id, case_id) = ?"
)
# A subject's head (its last number and the MAC over it), read by the entry's own INSERT: on
# SQLite under the write lock that INSERT takes, on PostgreSQL after LOCK_SUBJECTS, in a
# snapshot taken after the lock.  Without a head, -1 minus the rows' last number (COALESCE
# reads the rows only then).
HEAD_NUMBER = (
    "COALESCE((SELECT last_seq FROM {t}access_log_heads WHERE agency_id = ? AND subject_key = ?), "
    f"-1 - ({LAST_NUMBER}))"
)
HEAD_MAC = "(SELECT mac FROM {t}access_log_heads WHERE agency_id = ? AND subject_key = ?)"
SET_HEAD = (
    "INSERT INTO {t}access_log_heads (agency_id, subject_key, last_seq, mac) VALUES (?,?,?,?) "
    "ON CONFLICT (agency_id, subject_key) DO UPDATE SET last_seq = excluded.last_seq, "
    "mac = excluded.mac"
)
# PostgreSQL: the subject rows, the heads and the entry's MAC in one statement (one round trip).
WRITE_REST = (
    "WITH s AS (INSERT INTO {t}access_log_subjects (entry_id, agency_id, client_id, case_id, "
    "seq) SELECT ?::bigint, * FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[])), "
    "h AS (INSERT INTO {t}access_log_heads (agency_id, subject_key, last_seq, mac) "
    "SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[], ?::text[]) "
    "ON CONFLICT (agency_id, subject_key) DO UPDATE SET last_seq = excluded.last_seq, "
    "mac = excluded.mac) "
    "UPDATE {t}access_log SET mac = ? WHERE entry_id = ?"
)
# PostgreSQL: one writer at a time per subject, in one order, until the transaction ends.
LOCK_SUBJECTS = (
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(?::text[]) AS w(k)"
)


# What an entry's MAC covers, in this order, with its subjects' (agency, client, case) rows.
ACCESS_COLUMNS = (
    "entry_id",
    "agency_id",
    "actor_id",
    "actor_role",
    "token_id",
    "action",
    "purpose",
    "request_id",
    "accessed_at",
    "actor_name",
    "client_id",
    "case_id",
    "basis",
    "break_glass_reason",
)


def text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def subject_key(subject: Sequence[Any]) -> tuple[str, str]:
    """Whose log a subject row is numbered in: its agency's client, or its case if it names
    no client."""
    agency, client, case = subject[:3]
    return str(agency), str(client if client is not None else case)


def listed_subjects(items: Sequence[dict[str, Any]]) -> list[Subject]:
    """The clients and cases a listing's rows reveal, each once, in the order first shown."""
    seen = dict.fromkeys(
        (str(i.get("client_id") or ""), str(i.get("case_id") or "")) for i in items
    )
    return [
        Subject(UUID(client) if client else None, UUID(case) if case else None)
        for client, case in seen
        if client or case
    ]


class AccessLog:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def record(
        self,
        reader: Reader,
        action: str,
        subjects: Sequence[Subject],
        basis: Basis | None = None,
    ) -> None:
        if not subjects:
            return
        entry = (
            reader.agency_id,
            reader.actor_id,
            reader.actor_role,
            reader.token_id,
            action,
            reader.purpose,
            reader.request_id,
            datetime.now(UTC).isoformat(),
            reader.actor_name,
        )
        why = (None, None) if basis is None else (basis.basis, basis.reason)
        named = list(
            dict.fromkeys((reader.agency_id, text(s.client_id), text(s.case_id)) for s in subjects)
        )
        keys = sorted({subject_key(n) for n in named})
        insert = ADD_ENTRY + "".join(
            f", {HEAD_NUMBER} AS n{i}, {HEAD_MAC} AS m{i}" for i in range(len(keys))
        )
        try:
            tables = self.tables
            macs = tables.mac_key()
            with tables.cursor(commit=True) as c:
                if tables.postgres:
                    locks = [f"{agency}\x1f{k}" for agency, k in keys]
                    c.execute(tables.sql(LOCK_SUBJECTS), (locks,))
                c.execute(tables.sql(insert), (*entry, *why, *(v for key in keys for v in key * 3)))
                found = c.fetchone()
                values = list(found.values()) if isinstance(found, dict) else list(found)
                entry_id = values[0]
                last: dict[tuple[str, str], int] = {}
                vouched: dict[tuple[str, str], bool] = {}
                for i, key in enumerate(keys):
                    number, mac = int(values[1 + 2 * i]), values[2 + 2 * i]
                    head = number if number >= 0 else None
                    if head is not None and Macs.same(macs.access_head(*key, head), mac):
                        last[key], vouched[key] = head, True
                    else:
                        last[key] = (
                            number_from_rows(c, tables, key) if head is not None else -1 - number
                        )
                        vouched[key] = head is None and last[key] == 0  # a new subject
                        if not vouched[key]:
                            log.error(
                                "the access-log head of %s/%s is %s: numbered from its rows, "
                                "its head left without a MAC",
                                *key,
                                "missing" if head is None else "not authentic",
                            )
                rows: list[tuple[Any, ...]] = []
                for n in named:
                    last[subject_key(n)] += 1
                    rows.append((*n, last[subject_key(n)]))
                entry_mac = macs.access_entry((entry_id, *entry, None, None, *why), rows)
                # A head the writer did not find authentic is not vouched for: a newest entry
                # deleted with its head edited stays found.
                heads = [
                    (*key, n, macs.access_head(*key, n) if vouched[key] else None)
                    for key, n in last.items()
                ]
                if tables.postgres:
                    c.execute(
                        tables.sql(WRITE_REST),
                        (
                            entry_id,
                            *map(list, zip(*rows, strict=True)),
                            *map(list, zip(*heads, strict=True)),
                            entry_mac,
                            entry_id,
                        ),
                    )
                else:
                    c.executemany(tables.sql(ADD_SUBJECT), [(entry_id, *n) for n in rows])
                    c.execute(
                        tables.sql("UPDATE {t}access_log SET mac = ? WHERE entry_id = ?"),
                        (entry_mac, entry_id),
                    )
                    c.executemany(tables.sql(SET_HEAD), heads)
        except Exception as e:
            raise AccessLogUnavailableError(
                "the read could not be recorded in the access log"
            ) from e

    def check_numbered(self) -> None:
        """Raises unless ``db init`` numbered the subject rows and gave the subjects and the
        token ledger their heads (a store of an earlier version lacks the column or the
        tables, or holds rows without a number or no heads): entries written beside
        unnumbered rows would take numbers the upgrade then gives again, and a writer finding
        no head would take a subject's numbers from the start.  Reads a partial index that is
        empty once numbered, and the first row of four tables."""
        if self.tables.query("SELECT 1 FROM {t}access_log_subjects WHERE seq IS NULL LIMIT 1"):
            raise RuntimeError("the access log's subject rows are not numbered")
        for rows, head in (
            ("access_log_subjects", "access_log_heads"),
            ("token_ledger", "token_ledger_head"),
        ):
            found = self.tables.query(
                f"SELECT EXISTS (SELECT 1 FROM {{t}}{rows}) AS has_rows, "
                f"EXISTS (SELECT 1 FROM {{t}}{head}) AS has_head"
            )[0]
            if found["has_rows"] and not found["has_head"]:
                raise RuntimeError(f"the {rows} table has rows but no heads")

    def for_client(
        self, agency_id: str, client_id: UUID, *, after: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Entries whose answer named the client (or one of its cases), oldest first, after
        entry ``after``.  Entries written before there was one per request name their one
        subject in the entry itself."""
        entries = self.tables.query(
            "SELECT * FROM {t}access_log l WHERE l.agency_id = ? AND l.entry_id > ? AND "
            "(l.client_id = ? OR l.entry_id IN (SELECT s.entry_id FROM {t}access_log_subjects s "
            "WHERE s.agency_id = ? AND s.client_id = ? AND s.entry_id > ?)) "
            "ORDER BY l.entry_id LIMIT ?",
            (agency_id, after, str(client_id), agency_id, str(client_id), after, limit),
        )
        subjects: dict[int, list[dict[str, Any]]] = {}
        named: dict[int, list[tuple[Any, ...]]] = {}
        ids = [e["entry_id"] for e in entries]
        if ids:
            rows = self.tables.query(
                "SELECT entry_id, agency_id, client_id, case_id, seq FROM {t}access_log_subjects "
                f"WHERE entry_id IN ({', '.join('?' * len(ids))}) ORDER BY client_id, case_id",
                ids,
            )
            for row in rows:
                subjects.setdefault(row["entry_id"], []).append(
                    {"client_id": row["client_id"], "case_id": row["case_id"]}
                )
                named.setdefault(row["entry_id"], []).append(
                    (row["agency_id"], row["client_id"], row["case_id"], row["seq"])
                )
        return [
            {
                **entry_row(
                    e, subjects.get(e["entry_id"]), self.intact(e, named.get(e["entry_id"], []))
                ),
                "numbers": sorted(
                    n[3]
                    for n in named.get(e["entry_id"], [])
                    if n[3] is not None and subject_key(n) == (agency_id, str(client_id))
                ),
            }
            for e in entries
        ]

    def integrity(
        self, agency_id: str, client_id: UUID, entries: Sequence[dict[str, Any]], *, after: int
    ) -> dict[str, Any]:
        """Whether entries naming the client are missing from the client's log between the
        entry before ``after`` and the last of ``entries`` (their numbers in the client's log
        run without a gap): an entry deleted behind the service is flagged, not passed over.
        ``missing`` holds runs of numbers with the entry ids around them."""
        previous = (0, None)
        if after > 0:
            found = self.tables.query(
                "SELECT entry_id, MAX(seq) AS seq FROM {t}access_log_subjects WHERE entry_id = "
                "(SELECT MAX(entry_id) FROM {t}access_log_subjects WHERE agency_id = ? "
                "AND client_id = ? AND entry_id <= ?) AND agency_id = ? AND client_id = ? "
                "GROUP BY entry_id",
                (agency_id, str(client_id), after, agency_id, str(client_id)),
            )
            if found and found[0]["seq"] is not None:
                previous = (int(found[0]["seq"]), found[0]["entry_id"])
        last, last_entry = previous
        numbered = [(e["entry_id"], n) for e in entries for n in e.get("numbers", [])]
        missing = [
            {
                "first": gap.first,
                "last": gap.last,
                "after_entry": gap.after_position,
                "before_entry": gap.before_position,
            }
            for gap in number_gaps((last_entry, last) if last_entry is not None else None, numbered)
        ]
        if missing:
            log.error(
                "access log of client %s lacks numbers %s: served marked as not intact",
                client_id,
                ", ".join(f"{m['first']}..{m['last']}" for m in missing),
            )
        return {"intact": not missing, "missing": missing}

    def intact(self, entry: dict[str, Any], subjects: list[tuple[Any, ...]]) -> bool:
        """The entry and its subjects are as the service wrote them (its MAC holds): an
        entry edited or made up in the database is shown, and marked, not passed off."""
        expected = self.tables.mac_key().access_entry([entry[c] for c in ACCESS_COLUMNS], subjects)
        intact = Macs.same(expected, entry.get("mac"))
        if not intact:
            log.error(
                "access-log entry %s fails its MAC: served marked as not intact", entry["entry_id"]
            )
        return intact


def number_from_rows(c: Any, tables: Tables, key: tuple[str, str]) -> int:
    c.execute(tables.sql(LAST_NUMBER), key)
    found = c.fetchone()
    return int(next(iter(found.values())) if isinstance(found, dict) else found[0])


def entry_row(
    entry: dict[str, Any], subjects: list[dict[str, Any]] | None, intact: bool
) -> dict[str, Any]:
    return {
        "entry_id": entry["entry_id"],
        "intact": intact,
        "request_id": entry["request_id"],
        "action": entry["action"],
        "purpose": entry["purpose"],
        "actor": {
            "id": entry["actor_id"],
            "role": entry["actor_role"],
            "agency_id": entry["agency_id"],
            "name": entry.get("actor_name"),
        },
        "token_id": entry["token_id"],
        "basis": entry.get("basis"),
        "break_glass_reason": entry.get("break_glass_reason"),
        "accessed_at": datetime.fromisoformat(entry["accessed_at"]),
        "subjects": subjects
        if subjects is not None
        else [{"client_id": entry["client_id"], "case_id": entry["case_id"]}],
    }
