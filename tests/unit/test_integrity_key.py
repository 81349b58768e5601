"""The integrity key: made by `db init` outside the database, never in production, and a
production service does not start without one."""

import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from caserecord.config import ConfigError, Settings, load_settings
from caserecord.persistence.mac import Macs


def test_db_init_makes_a_key_beside_a_sqlite_file_readable_by_its_owner(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/c.db")

    key = settings.load_integrity_key(create=True)

    path = tmp_path / "c.db.key"
    assert bytes.fromhex(path.read_text()) == key and len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings.load_integrity_key() == key


def test_without_a_key_the_message_says_where_it_was_looked_for(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/c.db")

    with pytest.raises(
        ConfigError, match=r"no integrity key at .*c\.db\.key: run `caserecord db init`"
    ):
        settings.load_integrity_key()


def test_a_key_from_the_environment_wins_and_a_short_one_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"

    assert Settings(database_url=url, integrity_key="ab" * 32).load_integrity_key() == b"\xab" * 32
    with pytest.raises(ConfigError, match="needs at least 32"):
        Settings(database_url=url, integrity_key="ab" * 8).load_integrity_key()
    with pytest.raises(ConfigError, match="not hexadecimal"):
        Settings(database_url=url, integrity_key="z" * 64).load_integrity_key()


def test_production_does_not_start_without_a_given_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASERECORD_PRODUCTION", "true")

    with pytest.raises(ConfigError, match="production mode needs CASERECORD_INTEGRITY_KEY"):
        load_settings()


def test_production_never_makes_a_key_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/c.db", production=True, integrity_key_file=path
    )

    with pytest.raises(ConfigError, match="no integrity key"):
        settings.load_integrity_key(create=True)
    assert not path.exists()


@pytest.mark.parametrize("size", [32, 64, 65, 100])
def test_the_macs_are_hmac_sha256_of_their_labelled_text(size: int) -> None:
    key = bytes(range(size))
    macs = Macs(key)

    def expected(text: str) -> str:
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()

    assert macs.event("s", 2, 7, "h") == expected("event\x1fs\x1f2\x1f7\x1fh")
    assert macs.feed("agency-a", 7, 3) == expected("feed\x1fagency-a\x1f7\x1f3")
    assert macs.unnumbered_feed("agency-a", 7) == expected("feed\x1fagency-a\x1f7")
    assert macs.token(("t", None)) == expected("token\x1ft\x1f")


def test_a_mac_with_its_prefix_hashed_once_is_the_rows_mac() -> None:
    macs = Macs(b"k" * 32)
    stream = "0b2c1d3e-0000-4000-8000-000000000001"

    event = macs.prefixed(Macs.event_prefix(stream))
    feed = macs.prefixed(Macs.feed_prefix("agency-1"))

    assert event(Macs.event_rest(7, 1234, "ab" * 32)) == macs.event(stream, 7, 1234, "ab" * 32)
    assert event(Macs.event_rest(8, 1235, "cd" * 32)) == macs.event(stream, 8, 1235, "cd" * 32)
    assert feed(Macs.feed_rest(1234, 5)) == macs.feed("agency-1", 1234, 5)
    assert event(Macs.event_rest(7, 1234, "ab" * 32)) != macs.event(stream, 7, 1235, "ab" * 32)
