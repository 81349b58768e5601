"""API tokens in the store itself (both stores): hashed, listed per agency, revoked."""

import hmac
from typing import Any

import pytest

from caserecord.access import Tables, TokenNotFoundError, TokenStore
from caserecord.application import CaseRecords


def test_a_token_authenticates_until_it_is_revoked(records: CaseRecords) -> None:
    store = TokenStore(Tables(records))
    info, secret = store.create(agency_id="agency-a", role="supervisor", name="s.jones")

    found = store.authenticate(secret)
    revoked = store.revoke(info.token_id, "agency-a")

    assert found == info
    assert revoked.revoked_at is not None
    assert store.authenticate(secret) is None
    assert store.revoke(info.token_id).revoked_at == revoked.revoked_at


def test_tokens_are_listed_and_revoked_only_within_their_agency(records: CaseRecords) -> None:
    store = TokenStore(Tables(records))
    mine, _ = store.create(agency_id="agency-a", role="caseworker", name="a")
    theirs, _ = store.create(agency_id="agency-b", role="caseworker", name="b")

    assert [t.token_id for t in store.list("agency-a")] == [mine.token_id]
    with pytest.raises(TokenNotFoundError):
        store.revoke(theirs.token_id, "agency-a")
    assert store.get(theirs.token_id).active


def test_a_made_up_or_mistyped_secret_is_refused(records: CaseRecords) -> None:
    store = TokenStore(Tables(records))
    _, secret = store.create(agency_id="agency-a", role="admin", name="root")

    assert store.authenticate(secret[:-1]) is None
    assert store.authenticate("not-even-prefixed") is None


def test_a_token_check_takes_the_same_steps_whether_the_token_exists_or_not(
    sqlite_records: CaseRecords, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(Tables(sqlite_records))
    revoked, revoked_secret = store.create(agency_id="agency-a", role="admin", name="old")
    store.revoke(revoked.token_id)
    _, secret = store.create(agency_id="agency-a", role="admin", name="root")
    steps: list[str] = []
    query, compare = store.tables.query, hmac.compare_digest

    def counted_query(*args: Any) -> Any:
        steps.append("query")
        return query(*args)

    def counted_compare(a: str, b: str) -> bool:
        steps.append("compare")
        return compare(a, b)

    monkeypatch.setattr(store.tables, "query", counted_query)
    monkeypatch.setattr(hmac, "compare_digest", counted_compare)
    taken = {}

    for name, presented in [
        ("valid", secret),
        ("unknown", secret[:-1] + ("A" if secret[-1] != "A" else "B")),
        ("unprefixed", "not-even-prefixed"),
        ("revoked", revoked_secret),
    ]:
        steps.clear()
        store.authenticate(presented)
        taken[name] = list(steps)

    assert taken == {name: ["query", "compare"] for name in taken}
