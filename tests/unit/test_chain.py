"""The hash chain verifier, on plain records (no database)."""

import hashlib
import json
from dataclasses import replace
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from caserecord.persistence.chain import (
    GENESIS,
    Link,
    Record,
    chain,
    link_digest,
    link_hash,
    stream_key,
    verify,
)

STREAM = "0b7a3c4e-58d7-4d7e-9a51-1c2f0f1e2d3c"


def records(n: int) -> list[Record]:
    return [
        Record(STREAM, v, f"caserecord.domain.case:Case.E{v}", f'{{"n":{v}}}'.encode())
        for v in range(1, n + 1)
    ]


def links_for(rs: list[Record]) -> dict[int, Link]:
    return {r.version: link for r, link in chain(GENESIS, rs)}


def test_an_intact_stream_verifies_up_to_its_head() -> None:
    rs = records(5)
    links = links_for(rs)

    result = verify(STREAM, rs, links)

    assert result.ok
    assert (result.stream_id, result.versions_checked) == (STREAM, 5)
    assert result.head_hash == links[5].hash
    assert result.first_bad_version is None


def test_each_link_points_at_the_previous_hash_starting_from_genesis() -> None:
    links = links_for(records(3))

    assert links[1].prev_hash == GENESIS
    assert links[2].prev_hash == links[1].hash
    assert links[3].prev_hash == links[2].hash
    assert len({link.hash for link in links.values()}) == 3


def test_a_link_hashes_a_canonical_json_of_the_stored_record() -> None:
    state = b"\x00\xffstate"
    record = Record(STREAM, 1, "t:T", state)
    digest = hashlib.sha256(state).hexdigest()
    # Keys sorted, no spaces: what an external checker must rebuild byte for byte.
    canonical = (
        f'{{"prev":"{GENESIS}","state_sha256":"{digest}",'
        f'"stream":"{STREAM}","topic":"t:T","version":1}}'
    )

    assert link_hash(GENESIS, record) == hashlib.sha256(canonical.encode()).hexdigest()


def test_an_empty_stream_verifies_with_nothing_checked() -> None:
    result = verify(STREAM, [], {})

    assert (result.ok, result.versions_checked, result.head_hash) == (True, 0, GENESIS)


def test_a_changed_state_is_reported_at_its_version() -> None:
    rs = records(4)
    links = links_for(rs)
    rs[2] = replace(rs[2], state=b'{"n":33}')

    result = verify(STREAM, rs, links)

    assert not result.ok
    assert (result.first_bad_version, result.versions_checked) == (3, 2)
    assert result.problem == "the stored event does not match its hash"


def test_a_changed_topic_is_reported_at_its_version() -> None:
    rs = records(3)
    links = links_for(rs)
    rs[0] = replace(rs[0], topic="caserecord.domain.case:Case.Closed")

    assert verify(STREAM, rs, links).first_bad_version == 1


def test_a_record_moved_to_another_stream_does_not_verify_there() -> None:
    rs = records(2)
    links = links_for(rs)
    other = "7f1e0000-0000-4000-8000-000000000000"
    moved = [replace(r, stream_id=other) for r in rs]

    assert verify(other, moved, links).first_bad_version == 1


def test_a_changed_link_hash_is_reported_at_its_version() -> None:
    rs = records(3)
    links = links_for(rs)
    links[2] = Link(links[2].prev_hash, "f" * 64)

    result = verify(STREAM, rs, links)

    assert (result.ok, result.first_bad_version) == (False, 2)


def test_a_changed_previous_hash_is_reported_at_its_version() -> None:
    rs = records(3)
    links = links_for(rs)
    links[3] = Link("0" * 63 + "1", links[3].hash)

    result = verify(STREAM, rs, links)

    assert (result.first_bad_version, result.problem) == (
        3,
        "the link does not point at the previous event's hash",
    )


def test_a_missing_middle_event_is_reported_at_its_version() -> None:
    rs = records(4)
    links = links_for(rs)

    result = verify(STREAM, [rs[0], rs[2], rs[3]], links)

    assert (result.first_bad_version, result.problem) == (2, "version 2 is missing from the stream")


def test_a_deleted_last_event_is_reported_at_its_version() -> None:
    rs = records(4)
    links = links_for(rs)

    result = verify(STREAM, rs[:3], links)

    assert (result.ok, result.first_bad_version, result.versions_checked) == (False, 4, 3)
    assert result.problem == "a chained event is missing"


def test_an_event_without_a_link_is_reported() -> None:
    rs = records(3)
    links = links_for(rs[:2])

    result = verify(STREAM, rs, links)

    assert (result.first_bad_version, result.problem) == (3, "the event has no hash-chain link")


def test_swapped_states_are_reported_at_the_first_of_the_two() -> None:
    rs = records(5)
    links = links_for(rs)
    rs[1], rs[3] = replace(rs[1], state=rs[3].state), replace(rs[3], state=rs[1].state)

    assert verify(STREAM, rs, links).first_bad_version == 2


def test_stream_keys_are_the_canonical_uuid_text() -> None:
    uuid = UUID(STREAM)

    assert stream_key(uuid) == STREAM
    assert stream_key(uuid.hex) == STREAM
    assert stream_key(STREAM.upper()) == STREAM
    assert stream_key("not-a-uuid") == "not-a-uuid"


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_single_byte_change_is_found_at_its_version(data: st.DataObject) -> None:
    states = data.draw(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=8))
    rs = [Record(STREAM, v, "t:T", s) for v, s in enumerate(states, start=1)]
    links = links_for(rs)
    target = data.draw(st.integers(0, len(rs) - 1))
    position = data.draw(st.integers(0, len(rs[target].state) - 1))
    flip = data.draw(st.integers(1, 255))
    state = bytearray(rs[target].state)
    state[position] ^= flip
    rs[target] = replace(rs[target], state=bytes(state))

    result = verify(STREAM, rs, links)

    assert not result.ok
    assert result.first_bad_version == target + 1


@given(
    prev=st.text(max_size=70),
    stream=st.text(max_size=40),
    topic=st.text(max_size=60),
    version=st.integers(min_value=0, max_value=10**9),
    state=st.binary(max_size=64),
)
def test_a_links_hash_is_that_of_its_canonical_json_whatever_the_text(
    prev: str, stream: str, topic: str, version: int, state: bytes
) -> None:
    canonical = json.dumps(
        {
            "prev": prev,
            "stream": stream,
            "version": version,
            "topic": topic,
            "state_sha256": hashlib.sha256(state).hexdigest(),
        },
        sort_keys=True,
        separators=(",", ":"),
    )

    assert link_digest(prev, stream, version, topic, state) == (
        hashlib.sha256(canonical.encode()).hexdigest()
    )
