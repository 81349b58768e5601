"""The ledgers a case keeps its growing indexes in: copies share what is sealed and never
see each other's additions."""

import pickle

from caserecord.domain.base import copy_by_pickle
from caserecord.domain.entities import CHUNK, Ledger


def test_a_ledger_reads_as_an_ordered_mapping_with_the_latest_setting_winning() -> None:
    ledger: Ledger[str, int] = Ledger((f"k{i}", i) for i in range(CHUNK * 3 + 5))
    ledger["k0"] = -1

    assert ledger["k1"] == 1 and ledger["k0"] == -1 and ledger.get("nope") is None
    assert "k7" in ledger and "nope" not in ledger
    assert [k for k, _ in reversed(ledger.items())][:2] == ["k0", f"k{CHUNK * 3 + 4}"]
    assert list(ledger)[:2] == ["k0", "k1"]  # the shadowed setting still iterates in place


def test_a_deep_copy_of_a_case_shares_sealed_chunks_and_keeps_its_additions_apart() -> None:
    original: Ledger[int, None] = Ledger((i, None) for i in range(CHUNK * 10 + 3))
    holder = {"progress": original}

    copied = copy_by_pickle(holder)["progress"]
    copied[10**6] = None

    assert copied._sealed is original._sealed
    assert 10**6 in copied and 10**6 not in original
    assert len(copied) == len(original) + 1


def test_a_ledger_pickled_outside_a_copy_is_written_whole() -> None:
    original: Ledger[str, int] = Ledger((str(i), i) for i in range(CHUNK * 2 + 1))

    restored = pickle.loads(pickle.dumps(original))

    assert restored == original and restored._sealed is not original._sealed
