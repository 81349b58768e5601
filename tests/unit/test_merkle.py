"""The Merkle tree (RFC 6962 / 9162 hashing): roots kept from the right edge match the
definition, and inclusion and consistency proofs made from stored nodes verify, and fail
for anything else."""

import hashlib

import pytest

from caserecord.persistence.merkle import (
    EMPTY_ROOT,
    append,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of_leaves,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [leaf_hash(f"event {i}".encode()) for i in range(40)]


def tree(size: int, split: int) -> tuple[bytes, dict[tuple[int, int], bytes]]:
    """The tree of ``size`` leaves, appended in two transactions; its root and its nodes."""
    first = append(0, [], LEAVES[:split])
    second = append(first.size, first.frontier, LEAVES[split:size])
    return second.root, {(level, i): h for level, i, h in first.nodes + second.nodes}


def test_the_empty_tree_is_the_hash_of_nothing() -> None:
    assert EMPTY_ROOT == hashlib.sha256(b"").digest() == append(0, [], []).root


def test_leaves_and_nodes_are_hashed_apart() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert root_of_leaves(LEAVES[:2]) == hashlib.sha256(b"\x01" + LEAVES[0] + LEAVES[1]).digest()


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 31, 40])
def test_the_root_kept_from_the_right_edge_is_the_defined_root(size: int) -> None:
    for split in (0, size // 3, size):
        assert tree(size, split)[0] == root_of_leaves(LEAVES[:size])


@pytest.mark.parametrize("size", [1, 2, 5, 8, 13, 40])
def test_every_leaf_has_an_inclusion_proof_that_no_other_leaf_passes(size: int) -> None:
    root, nodes = tree(size, size // 2)
    get = lambda level, i: nodes[(level, i)]  # noqa: E731

    for index in range(size):
        proof = inclusion_proof(get, index, size)
        assert verify_inclusion(LEAVES[index], index, size, proof, root)
        if size > 1:  # the same leaf claimed at another index
            assert not verify_inclusion(LEAVES[index], (index + 1) % size, size, proof, root)
        assert not verify_inclusion(leaf_hash(b"forged"), index, size, proof, root)


@pytest.mark.parametrize("new", [1, 2, 6, 8, 17, 40])
def test_every_earlier_tree_is_proved_a_prefix_and_a_rewritten_one_is_not(new: int) -> None:
    root, nodes = tree(new, 3 if new > 3 else 0)
    get = lambda level, i: nodes[(level, i)]  # noqa: E731

    for old in range(0, new + 1):
        proof = consistency_proof(get, old, new)
        old_root = root_of_leaves(LEAVES[:old])
        assert verify_consistency(old, new, old_root, root, proof)
        if old > 0:
            rewritten = root_of_leaves([leaf_hash(b"rewritten"), *LEAVES[1:old]])
            assert not verify_consistency(old, new, rewritten, root, proof)


def test_a_tree_that_went_backwards_is_no_extension() -> None:
    assert not verify_consistency(8, 5, root_of_leaves(LEAVES[:8]), root_of_leaves(LEAVES[:5]), [])
