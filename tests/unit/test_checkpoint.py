import base64
import copy
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from caserecord.persistence.chain import GENESIS, Link, Record, chain
from caserecord.persistence.checkpoint import (
    check_against_checkpoint,
    export_stream,
    load_private_key,
    load_public_key,
    new_private_key_pem,
    sign_checkpoint,
    verify_export,
)

STREAM = "0b6f7c8e-3c1a-4f7e-9d7e-2f4a5b6c7d8e"


def a_stream(n: int, text: str = "note") -> tuple[list[Record], dict[int, Link]]:
    records = [
        Record(STREAM, v, "t:Case.Noted", f'{{"text":"{text}{v}"}}'.encode())
        for v in range(1, n + 1)
    ]
    links = {r.version: link for r, link in chain(GENESIS, records)}
    return records, links


def keys() -> tuple[Ed25519PrivateKey, Ed25519PublicKey]:
    private_pem, public_pem = new_private_key_pem()
    return load_private_key(private_pem), load_public_key(public_pem)


def test_an_export_of_an_untouched_stream_verifies_offline() -> None:
    records, links = a_stream(5)

    result = verify_export(export_stream(STREAM, records, links))

    assert result.ok
    assert result.versions_checked == 5


def test_an_export_with_one_changed_byte_names_the_version() -> None:
    records, links = a_stream(5)
    export = export_stream(STREAM, records, links)
    export["records"][2]["state_b64"] = export_stream(
        STREAM, [Record(STREAM, 3, "t:Case.Noted", b'{"text":"note9"}')], {}
    )["records"][0]["state_b64"]

    result = verify_export(export)

    assert not result.ok
    assert result.first_bad_version == 3


def test_history_rewritten_with_a_recomputed_chain_fails_against_an_earlier_checkpoint() -> None:
    private, public = keys()
    _, links = a_stream(4)
    heads = {STREAM: (4, links[4].hash)}
    checkpoint = sign_checkpoint(private, heads, "2026-11-27T08:00:00+00:00")
    forged_records, forged_links = a_stream(6, text="forged")  # consistent chain, other content

    result = check_against_checkpoint(
        export_stream(STREAM, forged_records, forged_links),
        checkpoint,
        public,
    )

    assert verify_export(export_stream(STREAM, forged_records, forged_links)).ok
    assert not result.ok
    assert "differs from the one signed" in result.message


def test_a_stream_that_grew_after_the_checkpoint_is_consistent_with_it() -> None:
    private, public = keys()
    records, links = a_stream(6)
    checkpoint = sign_checkpoint(private, {STREAM: (4, links[4].hash)}, "t0")

    result = check_against_checkpoint(
        export_stream(STREAM, records, links),
        checkpoint,
        public,
    )

    assert result.ok, result.message
    assert "versions 1..4 match" in result.message


def test_a_checkpoint_altered_after_signing_is_rejected() -> None:
    private, public = keys()
    records, links = a_stream(3)
    checkpoint = sign_checkpoint(private, {STREAM: (3, links[3].hash)}, "t0")
    altered = copy.deepcopy(checkpoint)
    altered["heads"][STREAM]["version"] = 2

    result = check_against_checkpoint(
        export_stream(STREAM, records, links),
        altered,
        public,
    )

    assert not result.ok
    assert "signature" in result.message


def test_a_checkpoint_signed_by_another_key_is_rejected() -> None:
    private, _ = keys()
    _, other_public = keys()
    records, links = a_stream(2)
    checkpoint = sign_checkpoint(private, {STREAM: (2, links[2].hash)}, "t0")

    result = check_against_checkpoint(
        export_stream(STREAM, records, links),
        checkpoint,
        other_public,
    )

    assert not result.ok


def test_an_export_with_withheld_events_verifies_from_their_stubs_and_counts_them() -> None:
    private, public = keys()
    records, links = a_stream(5)
    checkpoint = sign_checkpoint(private, {STREAM: (5, links[5].hash)}, "t0")

    export = export_stream(STREAM, records, links, withheld={2, 4})
    result = check_against_checkpoint(export, checkpoint, public)

    assert result.ok, result.message
    assert "5 events, 2 withheld" in result.message
    stubs = [r for r in export["records"] if r.get("withheld")]
    assert [r["version"] for r in stubs] == [2, 4]
    assert all("state_b64" not in r for r in stubs)
    assert "note2" not in str(export) and "note3" in str(base64_states(export))


def test_a_stub_with_a_malformed_hash_fails_at_its_version() -> None:
    records, links = a_stream(3)
    export = export_stream(STREAM, records, links, withheld={2})
    export["records"][1]["state_sha256"] = '"injected"'

    result = verify_export(export)

    assert not result.ok and result.first_bad_version == 2


def base64_states(export: dict[str, Any]) -> list[bytes]:
    return [base64.b64decode(r["state_b64"]) for r in export["records"] if "state_b64" in r]
