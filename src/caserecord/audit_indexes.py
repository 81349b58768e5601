"""`caserecord verify --all --views`: the tables the mapper derives from each event's
content, which the flat pass (``audit.py``) cannot recompute without decoding: the entry
index's entity ids, the note links (``case_entry_links``) and who each client is
(``client_identity``).

The events they come from are decoded through the application's mapper (a state may be
encrypted) a page at a time in log order, and the rows they make are looked up by key.
Rows no event accounts for are counted, and only when a table holds more than the walk
matched are they looked for: links a case stream at a time, identity rows a page at a
time.  Nothing larger than a page, or one stream's links, is held.  Events logged after
the run began are left to the next run.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from caserecord.application import CaseRecords
from caserecord.audit import PAGE, Problem, Raw, Report, entry_column
from caserecord.persistence.chain import stream_key
from caserecord.persistence.entries import ENTRY_KINDS, LINK_TABLE, entry_of, links_of
from caserecord.persistence.identity import (
    COLUMNS,
    CORRECTED,
    IDENTITY_TABLE,
    REGISTERED,
    identity_of,
)
from caserecord.store import first_line

CHUNK = 250  # keys per lookup: four parameters each stays under SQLite's oldest limit
IDENTITY_COLUMNS = ("agency_id", *COLUMNS)


@dataclass
class Walk:
    """What one run has read so far."""

    records: CaseRecords
    raw: Raw
    report: Report
    last: int  # the log's last position when the run began
    links_matched: int = 0
    clients_matched: int = 0
    undecodable: int = 0
    first_undecodable: str = ""

    @property
    def position(self) -> str:
        return "notification_id" if self.raw.postgres else "rowid"

    def stored_id(self, key: str) -> Any:
        """A stream key as the events table holds it, or None for a key no stream has (a
        row's id edited into something else)."""
        try:
            return UUID(key) if self.raw.postgres else UUID(key).hex
        except ValueError:
            return None

    def decoded(self, stored: StoredEvent) -> Any:
        """The event, or None (counted) when the mapper cannot make one of it: whatever a
        damaged row makes the decoder raise, which the flat pass already names."""
        try:
            return self.records.mapper.to_domain_event(stored)
        except Exception as e:
            if not self.undecodable:
                where = f"stream {stream_key(stored.originator_id)} version "
                self.first_undecodable = f"{where}{stored.originator_version}: {first_line(e)}"
            self.undecodable += 1
            return None


def verify_indexes(records: CaseRecords, report: Report) -> None:
    """Each derived row that is not what its event makes, or that no event accounts for,
    as a problem of the report."""
    raw = Raw(records)
    position = "notification_id" if raw.postgres else "rowid"
    (last,) = raw.rows(f"SELECT COALESCE(MAX({position}), 0) FROM {raw.events}")[0]
    walk = Walk(records, raw, report, int(last))
    topics = [*ENTRY_KINDS, REGISTERED]
    start = 1
    while page := records.recorder.select_notifications(start, PAGE, walk.last, topics):
        entries: list[tuple[str, int, str]] = []
        links: list[tuple[str, int, str, str]] = []
        clients: list[str] = []
        for notification in page:
            key, version = stream_key(notification.originator_id), notification.originator_version
            if notification.topic == REGISTERED:
                clients.append(key)
                continue
            event = walk.decoded(notification)
            if event is None:
                continue
            entry = entry_of(event)
            if entry is not None:
                entries.append((key, version, entry[1]))
            links.extend((key, version, kind, entity) for kind, entity in links_of(event))
        _check_entity_ids(walk, entries)
        _check_links(walk, links)
        _check_clients(walk, clients)
        start = page[-1].id + 1
    _check_link_rows(walk)
    _check_identity_rows(walk)
    if walk.undecodable:
        report.unchecked.append(
            f"indexes: {walk.undecodable} events could not be decoded, so their rows were "
            f"not checked (the first at {walk.first_undecodable})"
        )


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _check_entity_ids(walk: Walk, entries: list[tuple[str, int, str]]) -> None:
    """The entity id of each entry-index row against its event's (a row missing, or of
    another kind, is the flat pass's to name)."""
    raw = walk.raw
    for chunk in _chunks(entries):
        found = entry_column(raw, "entity_id", [(key, version) for key, version, _ in chunk])
        for key, version, entity in chunk:
            row = found.get((key, version))
            if row is not None and row != entity:
                problem = f"the entry-index row names entity {row}, the event {entity}"
                where = f"stream {key} version {version}"
                walk.report.add(Problem("entry_index", where, problem, key, version))


def _check_links(walk: Walk, links: list[tuple[str, int, str, str]]) -> None:
    """The link row of each goal or referral a page's notes concern, by its key."""
    raw = walk.raw
    for chunk in _chunks(links):
        rows = ", ".join(["(?, ?, ?, ?)"] * len(chunk))
        found = {
            (str(stream), int(version), str(kind), str(entity))
            for stream, version, kind, entity in raw.rows(
                f"SELECT l.stream_id, l.version, l.kind, l.entity_id FROM (VALUES {rows}) AS v "
                f"JOIN {raw.t(LINK_TABLE)} l ON l.stream_id = v.column1 AND l.kind = v.column3 "
                "AND l.entity_id = v.column4 AND l.version = v.column2",
                [value for link in chunk for value in link],
            )
        }
        for link in chunk:
            if link in found:
                walk.links_matched += 1
                continue
            key, version, kind, entity = link
            problem = f"the note's link to {kind} {entity} has no row (left out of its page)"
            where = f"stream {key} version {version}"
            walk.report.add(Problem("entry_links", where, problem, key, version))


def _check_link_rows(walk: Walk) -> None:
    """Link rows no note of the log accounts for (made up, moved or edited), looked for
    only when there are more rows than the walk matched, one case stream at a time."""
    raw = walk.raw
    (count,) = raw.rows(f"SELECT COUNT(*) FROM {raw.t(LINK_TABLE)}")[0]
    if int(count) <= walk.links_matched:
        return
    stream_rows: list[tuple[str, int, str, str]] = []
    for row in raw.keyset(
        raw.t(LINK_TABLE),
        "stream_id, version, kind, entity_id",
        ("stream_id", "kind", "entity_id", "version"),
    ):
        link = (str(row[0]), int(row[1]), str(row[2]), str(row[3]))
        if stream_rows and stream_rows[0][0] != link[0]:
            _unaccounted_links(walk, stream_rows)
            stream_rows = []
        stream_rows.append(link)
    if stream_rows:
        _unaccounted_links(walk, stream_rows)


def _unaccounted_links(walk: Walk, rows: list[tuple[str, int, str, str]]) -> None:
    key = rows[0][0]
    expected: set[tuple[str, int, str, str]] = set()
    later: set[int] = set()  # versions logged after the run began
    stored_id = walk.stored_id(key)
    if stored_id is not None:
        kinds = ", ".join("?" * len(ENTRY_KINDS))
        for version, topic, state, position in walk.raw.rows(
            f"SELECT originator_version, topic, state, {walk.position} FROM {walk.raw.events} "
            f"WHERE originator_id = ? AND topic IN ({kinds})",
            (stored_id, *ENTRY_KINDS),
        ):
            if int(position) > walk.last:
                later.add(int(version))
                continue
            stored = StoredEvent(UUID(key), int(version), str(topic), bytes(state))
            event = walk.decoded(stored)
            if event is None:
                later.add(int(version))  # not a verdict on its rows: counted as unchecked
                continue
            expected.update((key, int(version), k, e) for k, e in links_of(event))
    for link in rows:
        if link in expected or link[1] in later:
            continue
        _, version, kind, entity = link
        problem = f"a link row ({kind} {entity}) no note accounts for: made up, moved or edited"
        where = f"stream {key} version {version}"
        walk.report.add(Problem("entry_links", where, problem, key, version))


def _check_clients(walk: Walk, clients: list[str]) -> None:
    """The identity row of each client a page registered: the registration and its
    corrections, folded, against the stored row."""
    for chunk in _chunks(clients):
        expected = _identities(walk, chunk)
        stored = _stored_identities(walk, list(expected))
        for client, row in expected.items():
            found = stored.get(client)
            if found is not None:
                walk.clients_matched += 1
            if found == row or _corrected_later(walk, client):
                continue
            if found is None:
                if _left_out_at_upgrade(walk, client, row):
                    continue
                problem = "the client has no identity row (the duplicate checks miss them)"
            else:
                differ = [c for c, a, b in zip(IDENTITY_COLUMNS, found, row, strict=True) if a != b]
                problem = f"the identity row's {', '.join(differ)} do not match the events"
            walk.report.add(Problem("client_identity", f"client {client}", problem, client))


def _identities(walk: Walk, clients: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """(agency, number, given, family, date of birth) of each client as its events make
    it, as far as the run reads."""
    raw = walk.raw
    made: dict[str, list[Any]] = {}
    for stored_id, version, topic, state in raw.rows(
        f"SELECT originator_id, originator_version, topic, state FROM {raw.events} "
        f"WHERE originator_id IN ({', '.join('?' * len(clients))}) AND topic IN (?, ?) "
        f"AND {walk.position} <= ? ORDER BY originator_id, originator_version",
        [*map(walk.stored_id, clients), REGISTERED, CORRECTED, walk.last],
    ):
        key = stream_key(UUID(str(stored_id)))
        event = walk.decoded(StoredEvent(UUID(key), int(version), str(topic), bytes(state)))
        change = identity_of(event) if event is not None else None
        if change is None:
            continue
        if change.registered:
            made[key] = list(change.insert_row()[1:])
        elif key in made:
            for column, value in change.values:
                made[key][1 + COLUMNS.index(column)] = value
    return {key: tuple(row) for key, row in made.items()}


def _stored_identities(walk: Walk, clients: list[str]) -> dict[str, tuple[Any, ...]]:
    if not clients:
        return {}
    raw = walk.raw
    return {
        str(row[0]): tuple(row[1:])
        for row in raw.rows(
            f"SELECT client_id, {', '.join(IDENTITY_COLUMNS)} FROM {raw.t(IDENTITY_TABLE)} "
            f"WHERE client_id IN ({', '.join('?' * len(clients))})",
            clients,
        )
    }


def _corrected_later(walk: Walk, client: str) -> bool:
    """Whether a correction logged after the run began may have changed the row."""
    raw = walk.raw
    return bool(
        raw.rows(
            f"SELECT 1 FROM {raw.events} WHERE originator_id = ? AND topic = ? "
            f"AND {walk.position} > ? LIMIT 1",
            (walk.stored_id(client), CORRECTED, walk.last),
        )
    )


def _left_out_at_upgrade(walk: Walk, client: str, row: tuple[Any, ...]) -> bool:
    """Whether a client of the agency registered earlier holds the number: filling the
    table on an upgraded store keeps the first of two clients sharing a number and leaves
    the later out, and the service never records a second one, so only the upgrade
    explains it (a row whose id was edited holds it for no registered client, and a
    number taken again after a row was deleted is held by a later one)."""
    agency, number = row[0], row[1]
    mine = _registered_at(walk, client)
    if number is None or mine is None:
        return False
    raw = walk.raw
    holders = raw.rows(
        f"SELECT client_id FROM {raw.t(IDENTITY_TABLE)} WHERE agency_id = ? AND client_number = ?",
        (agency, number),
    )
    return any(
        (theirs := _registered_at(walk, str(holder))) is not None and theirs < mine
        for (holder,) in holders
    )


def _registered_at(walk: Walk, client: str) -> int | None:
    stored_id = walk.stored_id(client)
    if stored_id is None:
        return None
    found = walk.raw.rows(
        f"SELECT {walk.position} FROM {walk.raw.events} WHERE originator_id = ? AND topic = ?",
        (stored_id, REGISTERED),
    )
    return int(found[0][0]) if found else None


def _check_identity_rows(walk: Walk) -> None:
    """Identity rows of no registered client (made up, or their client id edited), looked
    for only when there are more rows than the walk matched."""
    raw = walk.raw
    (count,) = raw.rows(f"SELECT COUNT(*) FROM {raw.t(IDENTITY_TABLE)}")[0]
    if int(count) <= walk.clients_matched:
        return
    page: list[str] = []
    for (client,) in raw.keyset(raw.t(IDENTITY_TABLE), "client_id", ("client_id",)):
        page.append(str(client))
        if len(page) == CHUNK:
            _unregistered(walk, page)
            page = []
    _unregistered(walk, page)


def _unregistered(walk: Walk, clients: list[str]) -> None:
    raw = walk.raw
    valid = {walk.stored_id(c): c for c in clients}
    valid.pop(None, None)
    registered: set[str] = set()
    if valid:
        registered = {
            valid[UUID(str(stored_id)) if raw.postgres else str(stored_id)]
            for (stored_id,) in raw.rows(
                f"SELECT originator_id FROM {raw.events} "
                f"WHERE originator_id IN ({', '.join('?' * len(valid))}) AND topic = ?",
                [*valid, REGISTERED],
            )
        }
    for client in clients:
        if client not in registered:
            problem = "an identity row names no registered client: made up, or its id edited"
            walk.report.add(Problem("client_identity", f"client {client}", problem, client))
