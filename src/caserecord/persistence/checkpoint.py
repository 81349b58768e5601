"""Verification a reviewer can run without trusting the server.

The hash chain alone shows that stored events agree with their links; someone with write
access to the database could still rewrite an event and recompute every link after it.  A
*checkpoint* closes that gap: the heads of all streams (stream, version, hash) at a moment,
signed with an Ed25519 key kept away from the database host.  A reviewer who holds an earlier
checkpoint and the public key checks an *export* of a stream (its stored records and links,
taken from the database now): the export's own chain must verify, and its link at the
checkpoint's version must carry the hash that was signed then.  History before the checkpoint
cannot be rewritten without breaking a signature the server cannot forge.
"""

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from caserecord.persistence.chain import Link, Record, Verification, verify

EXPORT_FORMAT = "caserecord.stream-export/1"
CHECKPOINT_FORMAT = "caserecord.checkpoint/1"


def export_stream(
    stream_id: str, records: list[Record], links: Mapping[int, Link]
) -> dict[str, Any]:
    """A self-contained copy of one stream as stored: enough to re-check it offline."""
    return {
        "format": EXPORT_FORMAT,
        "stream_id": stream_id,
        "records": [
            {
                "version": r.version,
                "topic": r.topic,
                "state_b64": base64.b64encode(r.state).decode(),
            }
            for r in records
        ],
        "links": {
            str(v): {"prev_hash": link.prev_hash, "hash": link.hash} for v, link in links.items()
        },
    }


def verify_export(export: Mapping[str, Any]) -> Verification:
    if export.get("format") != EXPORT_FORMAT:
        raise ValueError(f"not a stream export (expected format {EXPORT_FORMAT})")
    stream_id = str(export["stream_id"])
    records = [
        Record(stream_id, int(r["version"]), str(r["topic"]), base64.b64decode(r["state_b64"]))
        for r in export["records"]
    ]
    links = {int(v): Link(str(x["prev_hash"]), str(x["hash"])) for v, x in export["links"].items()}
    return verify(stream_id, records, links)


def canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def sign_checkpoint(
    key: Ed25519PrivateKey, heads: Mapping[str, tuple[int, str]], issued_at: str
) -> dict[str, Any]:
    payload = {
        "format": CHECKPOINT_FORMAT,
        "issued_at": issued_at,
        "heads": {s: {"version": v, "hash": h} for s, (v, h) in sorted(heads.items())},
    }
    signature = base64.b64encode(key.sign(canonical(payload))).decode()
    return {**payload, "signature": signature}


def checkpoint_is_authentic(checkpoint: Mapping[str, Any], public_key: Ed25519PublicKey) -> bool:
    payload = {k: v for k, v in checkpoint.items() if k != "signature"}
    try:
        public_key.verify(base64.b64decode(str(checkpoint["signature"])), canonical(payload))
    except (InvalidSignature, KeyError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


def check_against_checkpoint(
    export: Mapping[str, Any], checkpoint: Mapping[str, Any], public_key: Ed25519PublicKey
) -> CheckResult:
    """Is this export consistent with what was signed at the checkpoint?"""
    if not checkpoint_is_authentic(checkpoint, public_key):
        return CheckResult(False, "the checkpoint's signature does not verify with this key")
    result = verify_export(export)
    if not result.ok:
        return CheckResult(
            False,
            f"stream {result.stream_id} version {result.first_bad_version}: {result.problem}",
        )
    head = checkpoint["heads"].get(result.stream_id)
    if head is None:
        return CheckResult(
            True, f"chain ok ({result.versions_checked} events); stream not in checkpoint"
        )
    version, signed_hash = int(head["version"]), str(head["hash"])
    link = export["links"].get(str(version))
    if link is None:
        return CheckResult(False, f"version {version} signed at the checkpoint is missing now")
    if link["hash"] != signed_hash:
        return CheckResult(
            False, f"version {version} differs from the one signed at {checkpoint['issued_at']}"
        )
    return CheckResult(
        True,
        f"chain ok ({result.versions_checked} events); versions 1..{version} match the "
        f"checkpoint of {checkpoint['issued_at']}",
    )


def new_private_key_pem() -> tuple[bytes, bytes]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key is not an Ed25519 private key")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the key is not an Ed25519 public key")
    return key
