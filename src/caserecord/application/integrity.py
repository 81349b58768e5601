"""Tamper evidence: a stream checked against its hash chain, its snapshots against its events,
and its records exported for an offline check."""

import dataclasses
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from caserecord.application.base import RecordsBase
from caserecord.domain.case import Case
from caserecord.domain.errors import CaseNotFoundError
from caserecord.domain.recording import Actor
from caserecord.persistence.chain import (
    GENESIS,
    Link,
    Record,
    Verification,
    stream_key,
    verify,
)
from caserecord.persistence.checkpoint import (
    check_against_checkpoint,
    export_stream,
    load_public_key,
    newest_checkpoint,
)
from caserecord.persistence.entries import ENTRY_KINDS, entry_of, links_of
from caserecord.persistence.mac import Macs
from caserecord.persistence.merkle import consistency_proof, inclusion_proof
from caserecord.persistence.quarantine import Quarantined
from caserecord.persistence.sealing import TreeHead, head_is_authentic


class TreeHeadError(Exception):
    """The tree cannot vouch for the log (its head fails its MAC, or went backwards)."""

    code = "tree_head_rejected"


def as_bytes(state: object) -> bytes:
    # A tampered row can come back as text (SQLite keeps whatever type was written).
    if isinstance(state, bytes | bytearray | memoryview):
        return bytes(state)
    return str(state).encode()


def snapshot_state(aggregate: Aggregate) -> dict[str, Any]:
    """What the library's Snapshot.take() keeps of an aggregate, as the current class
    version reads it."""
    state = dict(vars(aggregate))
    for internal in ("_id", "_version", "_pending_events"):
        state.pop(internal, None)
    return state


def upcast_state(cls: type, stored: dict[str, Any]) -> dict[str, Any]:
    """A stored snapshot's state as the current class reads it (what Snapshot.mutate does
    before it builds the aggregate), so a snapshot of an older shape is still checked."""
    state = dict(stored)
    version = state.pop("class_version", 1)
    while version < getattr(cls, "class_version", 1):
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    return state


def compare_snapshot(snapshot: Any, aggregate: Aggregate) -> str:
    """What is wrong with a decoded snapshot, given the aggregate replayed to its version."""
    try:
        same = snapshot.topic == get_topic(type(aggregate)) and upcast_state(
            type(aggregate), snapshot.state
        ) == snapshot_state(aggregate)
    except Exception:  # a part restored unmade (Referrals) is made, and fails, only here
        return "the stored snapshot cannot be read"
    return "" if same else "the stored snapshot does not match the events"


class Integrity(RecordsBase):
    """Checks of the stored records (not of the aggregate the mapper makes of them)."""

    def verify_stream(self, stream_id: UUID) -> Verification:
        """Check the stored records of one aggregate against its hash chain, each link's
        MAC and the versions the tree's leaves name, then its snapshots against the
        events."""
        head = self.store.chain_head(stream_id)
        return self._verified(stream_id, *self._stored_stream(stream_id, head), head)

    def _verified(
        self, stream_id: UUID, records: list[Record], links: dict[int, Link], head: int
    ) -> Verification:
        """``head``: the stream's last version by its chain and its leaves, read before the
        records, so that a write landing meanwhile only makes the records newer."""
        result = verify(stream_key(stream_id), records, links)
        if result.ok:
            result = self._verify_link_macs(stream_id, links, result)
        if result.ok and head > result.versions_checked:
            result = dataclasses.replace(
                result,
                ok=False,
                first_bad_version=result.versions_checked + 1,
                problem=f"versions {result.versions_checked + 1}..{head} are missing "
                "(the Merkle tree's leaves name them)",
            )
        if result.ok:
            result = self._verify_entries(stream_id, records, result)
        return self._verify_snapshots(stream_id, result) if result.ok else result

    def _verify_entries(
        self, stream_id: UUID, records: list[Record], result: Verification
    ) -> Verification:
        """The entry index's row of each note, addendum, goal progress entry and score, of
        the kind its stored topic says, and no row at another event: the case's pages are
        read from the index, so a row deleted leaves a note out of them."""
        wanted = {r.version: ENTRY_KINDS[r.topic] for r in records if r.topic in ENTRY_KINDS}
        rows = self.store.entries_at(stream_id, [r.version for r in records])
        found = {version: kind for version, kind, _ in rows}
        for version in sorted(wanted.keys() | found.keys()):
            if wanted.get(version) != found.get(version):
                problem = (
                    "the event has no entry-index row: the case's pages leave it out"
                    if version not in found
                    else f"the entry index names a {found[version]} the event does not record"
                )
                return dataclasses.replace(
                    result, ok=False, first_bad_version=version, problem=problem
                )
        return self._verify_entry_content(stream_id, records, rows, result)

    def _verify_entry_content(
        self,
        stream_id: UUID,
        records: list[Record],
        rows: list[tuple[int, str, str]],
        result: Verification,
    ) -> Verification:
        """Each indexed event, decoded, against the entity id its entry-index row names and
        the link rows of the goals and referrals it concerns: a link row edited or deleted
        leaves a note out of a goal's or a referral's page."""
        entities = {version: entity for version, _, entity in rows}
        links: set[tuple[int, str, str]] = set()
        unread: set[int] = set()
        problems: dict[int, str] = {}
        for record in records:
            if record.topic not in ENTRY_KINDS:
                continue
            try:
                event = self._decode_record(record)
            except Exception:  # the chain vouches for its bytes; a read of it says why
                unread.add(record.version)
                continue
            entry = entry_of(event)
            if entry is not None and entities.get(record.version) != entry[1]:
                problems[record.version] = "the entry-index row names another entity"
            links.update((record.version, kind, entity) for kind, entity in links_of(event))
        stored = set(self.store.links_upto(stream_id, records[-1].version if records else 0))
        for version, kind, _ in sorted(links - stored):
            problems.setdefault(
                version, f"the note's {kind} has no link row: its page leaves it out"
            )
        for version, kind, _ in sorted(stored - links):
            if version not in unread:
                problems.setdefault(version, f"a link row names a {kind} the event does not")
        if not problems:
            return result
        first = min(problems)
        return dataclasses.replace(
            result, ok=False, first_bad_version=first, problem=problems[first]
        )

    def _verify_link_macs(
        self, stream_id: UUID, links: dict[int, Link], result: Verification
    ) -> Verification:
        """Whoever writes the database can recompute a chain after an edit, a swap, an
        insertion, an append or a whole new stream, but not a link's MAC under the
        integrity key, which also covers the event's log position."""
        key, macs = stream_key(stream_id), self.integrity_macs
        stored = self.store.link_macs(stream_id)
        previous = GENESIS
        for version in range(1, result.versions_checked + 1):
            position, mac = stored.get(version, (0, None))
            if not Macs.same(macs.event(key, version, position, links[version].hash), mac):
                return Verification(
                    result.stream_id,
                    False,
                    version - 1,
                    previous,
                    version,
                    "the event's link fails its MAC: the service did not write it",
                )
            previous = links[version].hash
        return result

    def export_stream(
        self,
        stream_id: UUID,
        since: int | None = None,
        *,
        withheld: Collection[int] = (),
        upto: int | None = None,
    ) -> dict[str, Any]:
        """The stream's stored records and links, for a reviewer to check offline, with a
        proof that each event is in the log's Merkle tree and, with ``since`` (the tree
        size of the reviewer's checkpoint), that today's tree extends that one; events
        before it are proved in the tree of that size, which the checkpoint signed.
        ``withheld`` versions are stubs (no content, still chained and proved); ``upto``:
        the last version exported (a disclosure names the version it disclosed)."""
        records, links = self._stored_stream(stream_id, self.store.chain_head(stream_id))
        if upto is not None:
            records = [r for r in records if r.version <= upto]
            links = {v: link for v, link in links.items() if v <= upto}
        document = export_stream(stream_key(stream_id), records, links, withheld)
        head = self.tree_head()
        node = lru_cache(maxsize=None)(self.store.tree_node)
        positions = self.store.tree_positions(stream_id)
        old = since if since is not None and since <= head.size else None
        for record in document["records"]:
            found = positions.get(record["version"])
            if found is None:
                continue
            position, leaf = found
            size = old if old is not None and leaf < old else head.size
            record["position"] = position
            record["inclusion"] = {
                "leaf": leaf,
                "size": size,
                "path": [h.hex() for h in inclusion_proof(node, leaf, size)],
            }
        tree: dict[str, Any] = {"size": head.size, "root": head.root.hex()}
        if since is not None:
            tree["since"] = {
                "size": since,
                "consistency": [h.hex() for h in consistency_proof(node, old, head.size)]
                if old is not None
                else [],
            }
        document["tree"] = tree
        return document

    def checkpoint_coverage(
        self, streams: list[Verification], directory: Path | None, public_key: Path | None
    ) -> dict[str, Any]:
        """Which signed tree head covers these streams (those :meth:`verify_case` checked):
        the newest checkpoint in ``directory`` that verifies with ``public_key``, each
        stream's export checked against it as ``caserecord chain check`` would, and the
        versions recorded since, which no checkpoint vouches for yet."""
        if directory is None or public_key is None:
            return coverage(
                "not_configured",
                "No checkpoints are configured: set CASERECORD_CHECKPOINT_DIR and "
                "CASERECORD_CHECKPOINT_PUBLIC_KEY.",
            )
        try:
            key = load_public_key(public_key.expanduser().read_bytes())
        except (OSError, ValueError) as e:
            return coverage("unavailable", f"The checkpoints' public key cannot be read: {e}")
        if not directory.expanduser().is_dir():
            return coverage("unavailable", f"The checkpoint directory {directory} is missing.")
        signed = newest_checkpoint(directory.expanduser(), key)
        if signed is None:
            return coverage("none", "No checkpoint in the directory verifies with the key.")
        checkpoint = signed.checkpoint
        tree = checkpoint.get("tree")
        since = int(tree["size"]) if tree else None
        rows = []
        for stream in streams:
            head = checkpoint["heads"].get(stream.stream_id)
            try:
                export = self.export_stream(UUID(stream.stream_id), since)
            except TreeHeadError as e:
                return coverage("mismatch", str(e), checkpoint=signed.name)
            result = check_against_checkpoint(export, checkpoint, key)
            rows.append(
                {
                    "stream_id": stream.stream_id,
                    "signed_version": int(head["version"]) if head else None,
                    "versions": stream.versions_checked,
                    "ok": result.ok,
                    "message": result.message,
                }
            )
        if not all(r["ok"] for r in rows):
            status = "mismatch"
        elif all(r["signed_version"] == r["versions"] for r in rows):
            status = "covered"
        elif any(r["signed_version"] for r in rows):
            status = "partly_covered"
        else:
            status = "not_covered"
        return coverage(
            status,
            COVERAGE_MESSAGES[status],
            checkpoint=signed.name,
            issued_at=checkpoint.get("issued_at"),
            tree_size=since,
            rejected=signed.rejected,
            streams=rows,
        )

    def tree_head(self) -> TreeHead:
        """The Merkle tree's head, if its MAC holds (an :class:`UnreadableEventError`
        naming the tree otherwise: a head the service did not write is not signed)."""
        head: TreeHead = self.store.tree_head()
        if not head_is_authentic(self.integrity_macs, head):
            raise TreeHeadError(
                "the Merkle tree's head fails its MAC: run `caserecord verify --all`"
            )
        return head

    def tree_consistency(self, old: int) -> list[bytes]:
        """Proof that today's tree extends the tree of its first ``old`` events."""
        head = self.tree_head()
        if old > head.size:
            raise TreeHeadError(
                f"the tree has {head.size} events, fewer than {old}: the store was rolled back"
            )
        return consistency_proof(lru_cache(maxsize=None)(self.store.tree_node), old, head.size)

    def _stored_stream(self, stream_id: UUID, head: int) -> tuple[list[Record], dict[int, Link]]:
        """As stored, not as the aggregate sees it: verification must not trust the mapper.

        The links are read after the records, so a save landing in between adds links
        whose events were not read: those past both the records and ``head`` (read before
        them) are left for the next check, while a link whose event is gone stays."""
        records = [
            Record(stream_key(s.originator_id), s.originator_version, s.topic, as_bytes(s.state))
            for s in self.recorder.select_events(stream_id)
        ]
        last = max(head, records[-1].version if records else 0)
        links = {v: link for v, link in self.store.chain_links(stream_id).items() if v <= last}
        return records, links

    def quarantined_streams(self, agency_id: str | None = None) -> list[Quarantined]:
        """The streams the views stopped applying at a damaged event (one row per view and
        stream: where, why, when), in log order; an agency's alone when given.  A stream
        no readable event of which says whose it is has agency "" and is listed only
        without ``agency_id`` (a full check, not an agency's reviewer)."""
        return self.store.quarantined(agency_id=agency_id)

    def chain_heads(self) -> dict[str, tuple[int, str]]:
        heads: dict[str, tuple[int, str]] = self.store.chain_heads()
        return heads

    def _verify_snapshots(self, stream_id: UUID, result: Verification) -> Verification:
        """Reads start from the latest snapshot, so a snapshot changed in the database would
        change what is served without touching the chained events: each stored snapshot must
        equal the state replayed from the verified events up to its version."""
        if self.snapshots is None:
            return result
        recorder: Any = self.snapshots.recorder
        # As stored, not only those whose MAC holds (which is all a read would use).
        select = getattr(recorder, "select_stored", recorder.select_events)
        stored = list(select(stream_id))
        if not stored:
            return result
        macs = recorder.snapshot_macs(stream_id) if hasattr(recorder, "snapshot_macs") else None
        events = iter(self.recorder.select_events(stream_id))
        aggregate: Any = None
        for row in stored:
            version = row.originator_version
            problem = ""
            try:
                snapshot: Any = self.snapshots.mapper.to_domain_event(row)
            except Exception:  # whatever a damaged row makes the decoder raise
                snapshot, problem = None, "the stored snapshot cannot be read"
            while aggregate is None or aggregate.version < version:
                stored_event = next(events, None)
                if stored_event is None:
                    break
                try:
                    event: Any = self.mapper.to_domain_event(stored_event)
                    aggregate = event.mutate(aggregate)
                except Exception:  # chained as written, yet not an event this code reads
                    return dataclasses.replace(
                        result,
                        ok=False,
                        first_bad_version=stored_event.originator_version,
                        problem="the stored event cannot be read",
                    )
            if not problem and (aggregate is None or aggregate.version != version):
                problem = "the stored snapshot is ahead of the events"
            elif not problem:
                problem = compare_snapshot(snapshot, aggregate)
            if not problem and macs is not None:
                expected = self.integrity_macs.snapshot(
                    stream_key(stream_id), version, row.topic, as_bytes(row.state)
                )
                if not Macs.same(expected, macs.get(version)):
                    problem = "the stored snapshot fails its MAC"
            if problem:
                return dataclasses.replace(
                    result, ok=False, first_bad_version=version, problem=f"snapshot: {problem}"
                )
        return result

    def verify_case(self, actor: Actor, case_id: UUID) -> list[Verification]:
        """Check a case's stream and its client's from the stored records alone: nothing
        is loaded through the aggregate, so a tampered case is reported, not refused.

        Whose case it is comes from its first stored event when that event matches its
        chain link.  When it does not (changed, deleted, unreadable), the first event
        cannot be trusted to say so, and any agency a stored event of the stream names
        (its first event, or the agency of the actor who recorded a later one) sees the
        check, which then reports the stream as tampered.  A stream no stored event of
        which names the caller's agency is not found."""
        head = self.store.chain_head(case_id)
        records, links = self._stored_stream(case_id, head)
        checked = self._verified(case_id, records, links, head)
        opened = self._stored_first(records) if checked.first_bad_version != 1 else None
        if opened is not None:
            if not isinstance(opened, Case.Opened) or opened.agency_id != actor.agency_id:
                raise CaseNotFoundError(f"no case {case_id}")
            return [checked, self.verify_stream(opened.client_id)]
        if not self._names_agency(records, actor.agency_id):
            raise CaseNotFoundError(f"no case {case_id}")
        return [checked]

    def _stored_first(self, records: list[Record]) -> Any:
        """The stream's decoded first event, or None when it is missing or unreadable."""
        if not records or records[0].version != 1:
            return None
        try:
            return self._decode_record(records[0])
        except Exception:  # whatever a damaged row makes the decoder raise
            return None

    def _names_agency(self, records: list[Record], agency_id: str) -> bool:
        for record in records:
            try:
                event = self._decode_record(record)
            except Exception:  # whatever a damaged row makes the decoder raise
                continue
            named = {getattr(event, "agency_id", None), getattr(event, "actor_agency_id", None)}
            if agency_id in named:
                return True
        return False

    def _decode_record(self, record: Record) -> Any:
        stored = StoredEvent(UUID(record.stream_id), record.version, record.topic, record.state)
        return self.mapper.to_domain_event(stored)


COVERAGE_MESSAGES = {
    "covered": "Every event of the case and its client is covered by the checkpoint.",
    "partly_covered": "Events up to the signed versions are covered; those recorded since "
    "are covered by the next checkpoint.",
    "not_covered": "The case was opened after the newest checkpoint; the next one covers it.",
    "mismatch": "The stored records do not match what the checkpoint signed: see each stream.",
}


def coverage(status: str, message: str, **found: Any) -> dict[str, Any]:
    return {
        "status": status,
        "ok": status != "mismatch",
        "message": message,
        "checkpoint": None,
        "issued_at": None,
        "tree_size": None,
        "rejected": 0,
        "streams": [],
    } | found
