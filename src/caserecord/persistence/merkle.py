"""A global append-only Merkle tree over every event in log order (RFC 6962 / RFC 9162).

Leaf ``i`` is the ``i``-th event of the notification log; its data names the event's log
position, stream, version and chain hash (which covers the topic and the stored bytes), so
a leaf commits to what was stored where.  Leaf hash ``SHA-256(0x00 || data)``, node
``SHA-256(0x01 || left || right)``, and a tree of ``n > 1`` leaves splits at the largest
power of two smaller than ``n``.

The recorders keep the tree in the events' own transaction: the leaves and every *complete*
subtree's root (a node at ``(level, index)`` covers leaves ``index * 2**level`` onwards) are
stored, and the right edge (the "frontier", at most log2 n hashes) is kept with the head,
so an append costs a hash per leaf, a hash per completed node and one head row.  Proofs are
made from stored nodes in O(log n) of them.  Standard library only: a reviewer checks proofs
with this module alone.
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_data(position: int, stream_id: str, version: int, chain_hash: str) -> bytes:
    return f"{position}\n{stream_id}\n{version}\n{chain_hash}".encode()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def frontier_levels(size: int) -> list[int]:
    """Levels of the perfect subtrees on the right edge of a tree of ``size`` leaves,
    largest (leftmost) first."""
    return [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]


def root_of_frontier(frontier: Sequence[bytes]) -> bytes:
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root


@dataclass(frozen=True)
class Appended:
    size: int
    frontier: list[bytes]
    nodes: list[tuple[int, int, bytes]]  # (level, index, hash), leaves at level 0

    @cached_property
    def root(self) -> bytes:
        # Asked for twice per write (the head's MAC and its row), a hash per frontier node.
        return root_of_frontier(self.frontier)


def append(size: int, frontier: Sequence[bytes], leaves: Iterable[bytes]) -> Appended:
    """The tree after appending ``leaves`` to a tree of ``size`` leaves whose right edge is
    ``frontier``, and every node made complete by them."""
    stack = list(frontier)
    nodes: list[tuple[int, int, bytes]] = []
    for leaf in leaves:
        nodes.append((0, size, leaf))
        stack.append(leaf)
        size += 1
        level, count = 0, size
        while count % 2 == 0:  # each trailing zero bit of the new size completes a node
            right, left = stack.pop(), stack.pop()
            parent = node_hash(left, right)
            level, count = level + 1, count // 2
            nodes.append((level, count - 1, parent))
            stack.append(parent)
    return Appended(size, stack, nodes)


def pack(frontier: Sequence[bytes]) -> bytes:
    return b"".join(frontier)


def unpack(blob: bytes | None) -> list[bytes]:
    blob = bytes(blob or b"")
    return [blob[i : i + 32] for i in range(0, len(blob), 32)]


class Accumulator:
    """Recomputes a tree's root leaf by leaf, holding only its right edge."""

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[bytes] = []

    def add(self, leaf: bytes) -> None:
        stack = self.stack
        stack.append(leaf)
        self.size += 1
        count = self.size
        while count % 2 == 0:
            right = stack.pop()
            stack[-1] = node_hash(stack[-1], right)
            count //= 2

    @property
    def root(self) -> bytes:
        return root_of_frontier(self.stack)


# ---- proofs (RFC 9162 §2.1.3 and §2.1.4) -----------------------------------------------
NodeGetter = Callable[[int, int], bytes]


def subtree_root(get: NodeGetter, start: int, end: int) -> bytes:
    """MTH of leaves [start, end) from stored complete nodes (``start`` is aligned to the
    largest power of two below ``end - start``, as every range RFC 9162 asks for is)."""
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        return get(n.bit_length() - 1, start // n)
    k = largest_power_of_two_below(n)
    return node_hash(subtree_root(get, start, start + k), subtree_root(get, start + k, end))


def inclusion_proof(get: NodeGetter, index: int, size: int, start: int = 0) -> list[bytes]:
    """PATH(m, D[start:start+size]) for leaf ``index`` (relative to ``start``)."""
    if size <= 1:
        return []
    k = largest_power_of_two_below(size)
    if index < k:
        return [
            *inclusion_proof(get, index, k, start),
            subtree_root(get, start + k, start + size),
        ]
    return [
        *inclusion_proof(get, index - k, size - k, start + k),
        subtree_root(get, start, start + k),
    ]


def consistency_proof(get: NodeGetter, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[0:new])."""
    if old == 0 or old == new:
        return []
    return _subproof(get, old, 0, new, True)


def _subproof(get: NodeGetter, m: int, start: int, n: int, complete: bool) -> list[bytes]:
    if m == n:
        return [] if complete else [subtree_root(get, start, start + n)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [
            *_subproof(get, m, start, k, complete),
            subtree_root(get, start + k, start + n),
        ]
    return [*_subproof(get, m - k, start + k, n - k, False), subtree_root(get, start, start + k)]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2; the empty tree is a prefix of every tree."""
    if old > new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node of the path
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


def root_of_leaves(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, straight from the definition (for tests)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = largest_power_of_two_below(len(leaves))
    return node_hash(root_of_leaves(leaves[:k]), root_of_leaves(leaves[k:]))
