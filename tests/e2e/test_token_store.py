"""API tokens in the store itself (both stores): hashed, listed per agency, revoked."""

import hmac
from typing import Any

import pytest

from caserecord.access import Tables, TokenInfo, TokenNotFoundError, TokenStore
from caserecord.application import CaseRecords
from caserecord.domain.errors import InvalidValueError


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

    # The second comparison is the row's MAC, checked whether a row was found or not.
    assert taken == {name: ["query", "compare", "compare"] for name in taken}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_token_revoked_by_another_process_is_refused_once_the_cache_time_passes(
    records: CaseRecords,
) -> None:
    clock = Clock()
    api = TokenStore(Tables(records), cache_seconds=1.0, clock=clock)
    cli = TokenStore(Tables(records))  # another process: the CLI, another worker
    info, secret = cli.create(agency_id="agency-a", role="caseworker", name="c")
    assert api.authenticate(secret) == info

    cli.revoke(info.token_id)
    clock.now += 0.5
    within = api.authenticate(secret)
    clock.now += 0.5

    assert within == info
    assert api.authenticate(secret) is None


def test_a_token_revoked_through_the_caching_store_is_refused_at_once(
    records: CaseRecords,
) -> None:
    store = TokenStore(Tables(records), cache_seconds=60.0, clock=Clock())
    info, secret = store.create(agency_id="agency-a", role="caseworker", name="c")
    assert store.authenticate(secret) == info
    assert store.cached(secret) == info

    store.revoke(info.token_id)

    assert store.cached(secret) is None
    assert store.authenticate(secret) is None


def test_a_lookup_that_began_before_a_revocation_does_not_cache_the_revoked_token(
    records: CaseRecords,
) -> None:
    tables = Tables(records)
    store = TokenStore(tables, cache_seconds=60.0, clock=Clock())
    info, secret = store.create(agency_id="agency-a", role="caseworker", name="c")
    query = tables.query
    revoked_meanwhile: list[TokenInfo] = []

    def revoke_during_the_first_lookup(sql: str, params: object = ()) -> object:
        rows = query(sql, params)  # type: ignore[arg-type]
        if "token_hash" in sql and not revoked_meanwhile:
            revoked_meanwhile.append(store.revoke(info.token_id))
        return rows

    tables.query = revoke_during_the_first_lookup  # type: ignore[assignment,method-assign]
    first = store.authenticate(secret)
    tables.query = query  # type: ignore[method-assign]

    assert first == info  # it was active when it was read
    assert revoked_meanwhile
    assert store.cached(secret) is None
    assert store.authenticate(secret) is None


def test_unknown_and_revoked_tokens_are_not_cached(records: CaseRecords) -> None:
    store = TokenStore(Tables(records), cache_seconds=60.0, clock=Clock())
    info, secret = store.create(agency_id="agency-a", role="caseworker", name="c")
    store.revoke(info.token_id)

    assert store.authenticate(secret) is None
    assert store.authenticate(secret[:-1]) is None
    assert store.cached(secret) is None
    assert store.cached(secret[:-1]) is None


def test_without_a_cache_time_every_lookup_asks_the_store(records: CaseRecords) -> None:
    store = TokenStore(Tables(records))
    cli = TokenStore(Tables(records))
    info, secret = cli.create(agency_id="agency-a", role="caseworker", name="c")
    assert store.authenticate(secret) == info

    cli.revoke(info.token_id)

    assert store.cached(secret) is None
    assert store.authenticate(secret) is None


def test_a_provider_token_names_its_organisation_and_only_a_provider_token_does(
    records: CaseRecords,
) -> None:
    store = TokenStore(Tables(records))

    info, secret = store.create(
        agency_id="agency-a", role="provider", name="desk", organization_id="org-food"
    )

    assert store.authenticate(secret) == info
    assert info.organization_id == "org-food"
    with pytest.raises(InvalidValueError, match="names the organisation"):
        store.create(agency_id="agency-a", role="provider", name="desk")
    with pytest.raises(InvalidValueError, match="only a provider token"):
        store.create(agency_id="agency-a", role="caseworker", name="x", organization_id="org")
    with pytest.raises(InvalidValueError, match="not to a staff member"):
        store.create(
            agency_id="agency-a", role="provider", name="x", organization_id="o", staff_id="s"
        )


def test_a_provider_token_moved_to_another_organisation_in_the_database_is_refused(
    records: CaseRecords,
) -> None:
    store = TokenStore(Tables(records))
    info, secret = store.create(
        agency_id="agency-a", role="provider", name="desk", organization_id="org-food"
    )
    store.tables.execute_all(
        [
            (
                "UPDATE {t}api_tokens SET organization_id = ? WHERE token_id = ?",
                ("org-x", info.token_id),
            )
        ]
    )

    assert store.authenticate(secret) is None
