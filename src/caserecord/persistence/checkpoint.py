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
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from caserecord.persistence.chain import Link, Record, Verification, verify
from caserecord.persistence.merkle import (
    leaf_data,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

EXPORT_FORMAT = "caserecord.stream-export/1"
CHECKPOINT_FORMAT = "caserecord.checkpoint/1"


def export_stream(
    stream_id: str,
    records: list[Record],
    links: Mapping[int, Link],
    withheld: Collection[int] = (),
) -> dict[str, Any]:
    """A self-contained copy of one stream as stored: enough to re-check it offline.  A
    ``withheld`` version is a stub: its place, topic and the SHA-256 of its stored state,
    which the chain's link is made of, but not the state."""
    return {
        "format": EXPORT_FORMAT,
        "stream_id": stream_id,
        "records": [record_out(r, r.version in withheld) for r in records],
        "links": {
            str(v): {"prev_hash": link.prev_hash, "hash": link.hash} for v, link in links.items()
        },
    }


def record_out(record: Record, withheld: bool) -> dict[str, Any]:
    found: dict[str, Any] = {"version": record.version, "topic": record.topic}
    if withheld:
        return found | {"withheld": True, "state_sha256": hashlib.sha256(record.state).hexdigest()}
    return found | {"state_b64": base64.b64encode(record.state).decode()}


def verify_export(export: Mapping[str, Any]) -> Verification:
    if export.get("format") != EXPORT_FORMAT:
        raise ValueError(f"not a stream export (expected format {EXPORT_FORMAT})")
    stream_id = str(export["stream_id"])
    records = [record_in(stream_id, r) for r in export["records"]]
    links = {int(v): Link(str(x["prev_hash"]), str(x["hash"])) for v, x in export["links"].items()}
    return verify(stream_id, records, links)


def record_in(stream_id: str, r: Mapping[str, Any]) -> Record:
    version, topic = int(r["version"]), str(r["topic"])
    if r.get("withheld"):
        return Record(stream_id, version, topic, b"", str(r.get("state_sha256", "")))
    return Record(stream_id, version, topic, base64.b64decode(r["state_b64"]))


def withheld_count(export: Mapping[str, Any]) -> int:
    """How many of the export's events are stubs (their content withheld from its
    recipient)."""
    return sum(1 for r in export["records"] if r.get("withheld"))


def canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def sign_checkpoint(
    key: Ed25519PrivateKey,
    heads: Mapping[str, tuple[int, str]],
    issued_at: str,
    tree: tuple[int, bytes] | None = None,
) -> dict[str, Any]:
    """Sign every stream's head and, with ``tree`` (size, root), the Merkle tree's head."""
    payload: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "issued_at": issued_at,
        "heads": {s: {"version": v, "hash": h} for s, (v, h) in sorted(heads.items())},
    }
    if tree is not None:
        payload["tree"] = {"size": tree[0], "root": tree[1].hex()}
    signature = base64.b64encode(key.sign(canonical(payload))).decode()
    return {**payload, "signature": signature}


# Parts of a checkpoint or an export that are proofs, not signed claims: a proof needs no
# signature, it either verifies against a signed root or it does not.
UNSIGNED = ("signature", "consistency")


def checkpoint_is_authentic(checkpoint: Mapping[str, Any], public_key: Ed25519PublicKey) -> bool:
    payload = {k: v for k, v in checkpoint.items() if k not in UNSIGNED}
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
    withheld = withheld_note(export)
    head = checkpoint["heads"].get(result.stream_id)
    if head is None:
        return CheckResult(
            True,
            f"chain ok ({result.versions_checked} events{withheld}); stream not in checkpoint",
        )
    version, signed_hash = int(head["version"]), str(head["hash"])
    link = export["links"].get(str(version))
    if link is None:
        return CheckResult(False, f"version {version} signed at the checkpoint is missing now")
    if link["hash"] != signed_hash:
        return CheckResult(
            False, f"version {version} differs from the one signed at {checkpoint['issued_at']}"
        )
    tree = check_tree(export, checkpoint)
    if not tree.ok:
        return tree
    return CheckResult(
        True,
        f"chain ok ({result.versions_checked} events{withheld}); versions 1..{version} match "
        f"the checkpoint of {checkpoint['issued_at']}{tree.message}",
    )


def withheld_note(export: Mapping[str, Any]) -> str:
    count = withheld_count(export)
    return f", {count} withheld: chained but their content not in the export" if count else ""


def check_tree(export: Mapping[str, Any], checkpoint: Mapping[str, Any]) -> CheckResult:
    """The export's events are in the log's Merkle tree, those before the checkpoint in the
    tree it signed, and today's tree extends the signed one."""
    signed = checkpoint.get("tree")
    if signed is None:  # a checkpoint made before the tree: only the chain heads
        return CheckResult(True, "")
    tree = export.get("tree")
    if tree is None:
        return CheckResult(False, "the export carries no tree proofs (export it again)")
    old_size, old_root = int(signed["size"]), bytes.fromhex(signed["root"])
    size, root = int(tree["size"]), bytes.fromhex(tree["root"])
    if size < old_size:
        return CheckResult(
            False,
            f"the log's tree has {size} events, fewer than the {old_size} signed at "
            f"{checkpoint['issued_at']}: the store was rolled back or cut",
        )
    since = tree.get("since") or {}
    if not since and (size, root) == (old_size, old_root):
        since = {"size": old_size, "consistency": []}  # the very tree that was signed
    if int(since.get("size", -1)) != old_size:
        return CheckResult(
            False,
            "the export carries no consistency proof from this checkpoint: export it with "
            "`chain export --checkpoint`",
        )
    proof = [bytes.fromhex(h) for h in since.get("consistency", [])]
    if not verify_consistency(old_size, size, old_root, root, proof):
        return CheckResult(
            False,
            f"the log's tree is not an extension of the one signed at {checkpoint['issued_at']}:"
            " events before it were removed, reordered or rewritten",
        )
    stream_id = str(export["stream_id"])
    for r in export["records"]:
        version = int(r["version"])
        link = export["links"].get(str(version))
        inclusion = r.get("inclusion")
        if link is None or inclusion is None:
            return CheckResult(False, f"version {version} has no proof that it is in the log")
        leaf = leaf_hash(leaf_data(int(r["position"]), stream_id, version, str(link["hash"])))
        index, proof_size = int(inclusion["leaf"]), int(inclusion["size"])
        against = old_root if proof_size == old_size and index < old_size else root
        if proof_size not in (old_size, size) or (index < old_size) != (proof_size == old_size):
            return CheckResult(False, f"version {version}'s proof is against the wrong tree")
        path = [bytes.fromhex(h) for h in inclusion["path"]]
        if not verify_inclusion(leaf, index, proof_size, path, against):
            return CheckResult(
                False,
                f"version {version} is not in the log's tree where the export says"
                + (" (the signed part)" if index < old_size else ""),
            )
    return CheckResult(
        True, f"; in the log's tree of {size} events, which extends the signed {old_size}"
    )


def check_checkpoints(
    new: Mapping[str, Any], old: Mapping[str, Any], public_key: Ed25519PublicKey
) -> CheckResult:
    """Is the newer checkpoint's tree an extension of the older one's?"""
    for which, checkpoint in (("new", new), ("old", old)):
        if not checkpoint_is_authentic(checkpoint, public_key):
            return CheckResult(False, f"the {which} checkpoint's signature does not verify")
    if "tree" not in new or "tree" not in old:
        return CheckResult(False, "a checkpoint made before the tree cannot be compared")
    old_size, new_size = int(old["tree"]["size"]), int(new["tree"]["size"])
    if new_size < old_size:
        return CheckResult(
            False,
            f"the tree went backwards: {new_size} events at {new['issued_at']}, {old_size} at "
            f"{old['issued_at']}: the store was rolled back or cut",
        )
    consistency = new.get("consistency") or {}
    if int(consistency.get("size", -1)) != old_size:
        return CheckResult(
            False, "the new checkpoint carries no consistency proof from the old one's size"
        )
    proof = [bytes.fromhex(h) for h in consistency.get("proof", [])]
    ok = verify_consistency(
        old_size,
        new_size,
        bytes.fromhex(old["tree"]["root"]),
        bytes.fromhex(new["tree"]["root"]),
        proof,
    )
    if not ok:
        return CheckResult(
            False,
            f"the tree of {new['issued_at']} is not an extension of the one of "
            f"{old['issued_at']}: events before it were removed, reordered or rewritten",
        )
    return CheckResult(
        True, f"the tree of {new_size} events extends the {old_size} signed at {old['issued_at']}"
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


@dataclass(frozen=True)
class Signed:
    """The newest authentic checkpoint of a directory, and how many there were that did
    not verify with the key (kept, not trusted: a forged or damaged file)."""

    name: str
    checkpoint: dict[str, Any]
    rejected: int


def newest_checkpoint(directory: Path, public_key: Ed25519PublicKey) -> Signed | None:
    """The checkpoint with the latest ``issued_at`` among the directory's ``*.json`` files
    whose signature verifies with the key; None when there is none."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    rejected = 0
    for path in sorted(directory.glob("*.json")):
        try:
            document = json.loads(path.read_bytes())
        except (OSError, ValueError):
            rejected += 1
            continue
        if not isinstance(document, dict) or document.get("format") != CHECKPOINT_FORMAT:
            continue  # an export or another file kept beside the checkpoints
        if not checkpoint_is_authentic(document, public_key):
            rejected += 1
            continue
        found.append((str(document.get("issued_at", "")), path.name, document))
    if not found:
        return None
    _, name, document = max(found, key=lambda f: (f[0], f[1]))
    return Signed(name, document, rejected)
