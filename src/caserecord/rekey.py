"""`caserecord db rotate-key`: every MAC in the store re-made under a new integrity key, in
one transaction.

Each row's MAC is checked under the old key before it is re-made under the new one, inside
the same transaction, so a row changed behind the service's back is never laundered into
one the new key vouches for: the first that fails stops the rotation and nothing is
written.  The caller runs `verify --all` first (the chain, the tree and the ledgers, which a
MAC alone does not show) and keeps the service stopped meanwhile: the transaction holds the
store's write lock, and a writer still holding the old key would be refused afterwards.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from caserecord.access.log import ACCESS_COLUMNS
from caserecord.access.tokens import MAC_READ_COLUMNS, covered
from caserecord.application import CaseRecords
from caserecord.audit import PAGE, Raw, _key_of
from caserecord.persistence.feed import FEED_TABLE
from caserecord.persistence.idempotency import (
    IDEMPOTENCY_COLUMNS,
    IDEMPOTENCY_HEADS,
    IDEMPOTENCY_TABLE,
)
from caserecord.persistence.mac import Macs
from caserecord.persistence.sealing import SNAPSHOT_MACS, TREE_HEAD
from caserecord.store import StoreError


class RotationRefusedError(StoreError):
    """A row fails its MAC under the old key: nothing was re-made.  One line."""


@dataclass
class Rotated:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows re-MACed

    @property
    def total(self) -> int:
        return sum(self.rows.values())


Progress = Callable[[int, int], None]


def rotate_key(records: CaseRecords, new: Macs, *, progress: Progress | None = None) -> Rotated:
    """Re-make every MAC under ``new``; ``records`` holds the old key."""
    raw, old = Raw(records), records.integrity_macs
    done = Rotated()
    mark = "%s" if raw.postgres else "?"
    with raw.datastore.transaction(commit=True) as c:

        def update(table: str, where: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
            if rows:
                condition = " AND ".join(f"{column}={mark}" for column in where)
                c.executemany(f"UPDATE {raw.t(table)} SET mac={mark} WHERE {condition}", rows)
            done.rows[table] = done.rows.get(table, 0) + len(rows)

        def refuse_unless(ok: bool, where: str) -> None:
            if not ok:
                raise RotationRefusedError(
                    f"{where} fails its MAC under the current key: nothing was rotated "
                    "(run `caserecord verify --all`)"
                )

        total = int(raw.rows(f"SELECT COUNT(*) FROM {raw.events}", cursor=c)[0][0])
        after, events = 0, 0
        while page := raw.event_page(after, PAGE, cursor=c):
            links = []
            for position, stored_id, version, _, _, _, digest, mac in page:
                key = _key_of(stored_id)
                refuse_unless(
                    digest is not None
                    and Macs.same(old.event(key, version, position, digest), mac),
                    f"the link of stream {key} version {version}",
                )
                links.append((new.event(key, version, position, digest), key, version))
            update("event_chain", ("originator_id", "originator_version"), links)
            events += len(page)
            after = page[-1][0]
            if progress is not None:
                progress(events, total)

        feed = []
        for agency, position, mac, number in _all(
            raw,
            c,
            FEED_TABLE,
            "agency_id, notification_id, mac, seq",
            ("agency_id", "notification_id"),
        ):
            refuse_unless(
                isinstance(number, int) and Macs.same(old.feed(agency, position, number), mac),
                f"feed row {agency}/{position}",
            )
            feed.append((new.feed(agency, position, number), agency, position))
        update(FEED_TABLE, ("agency_id", "notification_id"), feed)

        _rotate_snapshots(raw, c, old, new, refuse_unless, update)

        tokens = []
        for row in _all(raw, c, "api_tokens", ", ".join([*MAC_READ_COLUMNS, "mac"]), ("token_id",)):
            refuse_unless(Macs.same(old.token(covered(row[:-1])), row[-1]), f"token {row[0]}")
            tokens.append((new.token(covered(row[:-1])), row[0]))
        update("api_tokens", ("token_id",), tokens)

        ledger = []
        for entry_id, token_id, action, at, mac in _all(
            raw, c, "token_ledger", "entry_id, token_id, action, at, mac", ("entry_id",)
        ):
            refuse_unless(
                Macs.same(old.token_ledger(int(entry_id), token_id, action, at), mac),
                f"token-ledger entry {entry_id}",
            )
            ledger.append((new.token_ledger(int(entry_id), token_id, action, at), entry_id))
        update("token_ledger", ("entry_id",), ledger)
        ledger_heads = []
        for id_, last, mac in _all(raw, c, "token_ledger_head", "id, last_entry, mac", ("id",)):
            refuse_unless(Macs.same(old.ledger_head(int(last)), mac), "the token ledger's head")
            ledger_heads.append((new.ledger_head(int(last)), id_))
        update("token_ledger_head", ("id",), ledger_heads)

        subjects: dict[int, list[tuple[Any, ...]]] = {}
        for entry, *subject in raw.rows(
            f"SELECT entry_id, agency_id, client_id, case_id, seq "
            f"FROM {raw.t('access_log_subjects')}",
            cursor=c,
        ):
            subjects.setdefault(int(entry), []).append(tuple(subject))
        entries = []
        for row in _all(raw, c, "access_log", ", ".join([*ACCESS_COLUMNS, "mac"]), ("entry_id",)):
            named = subjects.get(int(row[0]), [])
            refuse_unless(
                Macs.same(old.access_entry(row[:-1], named), row[-1]), f"access-log entry {row[0]}"
            )
            entries.append((new.access_entry(row[:-1], named), row[0]))
        update("access_log", ("entry_id",), entries)
        subject_heads = []
        for agency, key, last, mac in _all(
            raw,
            c,
            "access_log_heads",
            "agency_id, subject_key, last_seq, mac",
            ("agency_id", "subject_key"),
        ):
            refuse_unless(
                Macs.same(old.access_head(agency, key, int(last)), mac),
                f"the access-log head of {agency}/{key}",
            )
            subject_heads.append((new.access_head(agency, key, int(last)), agency, key))
        update("access_log_heads", ("agency_id", "subject_key"), subject_heads)

        kept = []
        for agency, key, fingerprint, result, created_at, seq, mac in _all(
            raw, c, IDEMPOTENCY_TABLE, IDEMPOTENCY_COLUMNS, ("agency_id", "idem_key")
        ):
            values = (agency, key, fingerprint, result, str(created_at))
            refuse_unless(
                seq is not None and Macs.same(old.idempotency(*values, int(seq)), mac),
                f"idempotency key {key} of {agency}",
            )
            kept.append((new.idempotency(*values, int(seq)), agency, key))
        update(IDEMPOTENCY_TABLE, ("agency_id", "idem_key"), kept)
        keyed_heads = []
        for agency, last, mac in _all(
            raw, c, IDEMPOTENCY_HEADS, "agency_id, last_seq, mac", ("agency_id",)
        ):
            refuse_unless(
                Macs.same(old.idempotency_head(agency, int(last)), mac),
                f"the idempotency head of agency {agency}",
            )
            keyed_heads.append((new.idempotency_head(agency, int(last)), agency))
        update(IDEMPOTENCY_HEADS, ("agency_id",), keyed_heads)

        heads = []
        for size, root, mac in raw.rows(
            f"SELECT size, root, mac FROM {raw.t(TREE_HEAD)}", cursor=c
        ):
            refuse_unless(Macs.same(old.tree_head(int(size), bytes(root)), mac), "the tree head")
            heads.append((new.tree_head(int(size), bytes(root)), 1))
        update(TREE_HEAD, ("id",), heads)

        # Sessions are short-lived: the console's users sign in again rather than have
        # their sessions re-MACed (the service is stopped while the key is rotated).
        c.execute(
            f"UPDATE {raw.t('console_sessions')} SET ended_at={mark} WHERE ended_at IS NULL",
            (datetime.now(UTC).isoformat(),),
        )
    return done


def _all(
    raw: Raw, c: Any, table: str, columns: str, key: Sequence[str]
) -> Iterator[tuple[Any, ...]]:
    return raw.keyset(raw.t(table), columns, key, cursor=c)


def _rotate_snapshots(
    raw: Raw,
    c: Any,
    old: Macs,
    new: Macs,
    refuse_unless: Callable[[bool, str], None],
    update: Callable[[str, Sequence[str], list[tuple[Any, ...]]], None],
) -> None:
    if raw.snapshots is None:
        return
    stored = {
        (str(s), int(v)): mac
        for s, v, mac in raw.rows(
            f"SELECT originator_id, originator_version, mac FROM {raw.t(SNAPSHOT_MACS)}", cursor=c
        )
    }
    id_column = "originator_id::text" if raw.postgres else "originator_id"
    rows = []
    for stored_id, version, topic, state in raw.keyset(
        raw.snapshots,
        f"{id_column}, originator_version, topic, state",
        ("originator_id", "originator_version"),
        cursor=c,
    ):
        key = _key_of(stored_id)
        where = f"the snapshot of stream {key} at version {version}"
        refuse_unless(
            Macs.same(
                old.snapshot(key, int(version), topic, bytes(state)),
                stored.get((key, int(version))),
            ),
            where,
        )
        rows.append((new.snapshot(key, int(version), topic, bytes(state)), key, int(version)))
    update(SNAPSHOT_MACS, ("originator_id", "originator_version"), rows)
