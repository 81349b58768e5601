"""A bad URL, an unreachable database or a missing table: one clear line and exit 1 from the
CLI, a StoreError in-process, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest

from caserecord.config import ConfigError, Settings
from caserecord.provision import init_store
from caserecord.store import StoreError, open_records
from tests.stores import require_postgres

CLI = Path(sys.executable).parent / "caserecord"


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_clear_line(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("caserecord: ")
    assert "Traceback" not in done.stderr
    for text in expected:
        assert text in lines[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://db/records", "unsupported database URL 'mysql://db/records'"),
        ("records.db", "use sqlite:///PATH or postgresql://HOST/DB"),
        ("sqlite:///", "names no SQLite file"),
        ("postgresql://127.0.0.1/", "names no PostgreSQL database"),
    ],
)
@pytest.mark.parametrize("command", [["db", "init"], ["verify", str(uuid4())]])
def test_a_bad_database_url_is_one_line(url: str, expected: str, command: list[str]) -> None:
    done = run_cli(*command, CASERECORD_DATABASE_URL=url)

    assert_one_clear_line(done, expected)


def test_a_sqlite_folder_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    done = run_cli("db", "init", CASERECORD_DATABASE_URL=f"sqlite:///{blocker}/sub/x.db")

    assert_one_clear_line(done, "cannot create the folder", str(blocker))


def test_a_bad_setting_value_is_one_line() -> None:
    done = run_cli("verify", str(uuid4()), CASERECORD_AGGREGATE_CACHE_SIZE="lots")

    assert_one_clear_line(done, "invalid setting CASERECORD_AGGREGATE_CACHE_SIZE='lots'")


@pytest.mark.parametrize("command", [["db", "init"], ["verify", str(uuid4())]])
def test_an_unreachable_postgresql_is_one_line(command: list[str]) -> None:
    done = run_cli(*command, CASERECORD_DATABASE_URL="postgresql://postgres@127.0.0.1:1/test")

    assert_one_clear_line(
        done, "cannot connect to the database postgresql://***@127.0.0.1:1/test", "port 1"
    )


def test_an_unknown_postgresql_database_is_one_line() -> None:
    require_postgres()
    url = "postgresql://postgres:secret@127.0.0.1:5432/no_such_db_for_caserecord"

    done = run_cli("db", "init", CASERECORD_DATABASE_URL=url)

    assert_one_clear_line(done, 'database "no_such_db_for_caserecord" does not exist')
    assert "secret" not in done.stderr


def test_a_missing_table_is_one_line_that_says_to_run_db_init(database_url: str) -> None:
    done = run_cli("verify", str(uuid4()), CASERECORD_DATABASE_URL=database_url)

    assert_one_clear_line(done, "is not initialised: run `caserecord db init` first")


def test_after_db_init_the_same_store_opens(database_url: str) -> None:
    init = run_cli("db", "init", CASERECORD_DATABASE_URL=database_url)
    missing = uuid4()
    verify = run_cli("verify", str(missing), CASERECORD_DATABASE_URL=database_url)

    assert (init.returncode, init.stderr) == (0, "")
    assert init.stdout.startswith("initialised ")
    assert (verify.returncode, verify.stdout) == (1, "")
    assert verify.stderr.strip().splitlines() == [f"caserecord: no stream {missing} in this store"]


# ---- in-process ---------------------------------------------------------------------


def test_open_records_raises_a_store_error_for_a_missing_table(sqlite_url: str) -> None:
    with pytest.raises(StoreError, match="not initialised"):
        open_records(Settings(database_url=sqlite_url))


def test_open_records_raises_a_store_error_for_an_unreachable_server() -> None:
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:1/test")

    with pytest.raises(StoreError, match="Connection refused"):
        init_store(settings)


def test_settings_refuse_an_unsupported_url() -> None:
    with pytest.raises(ConfigError, match="unsupported database URL"):
        Settings(database_url="oracle://db/x")


@pytest.mark.parametrize("command", [["serve"], ["db", "init"], ["verify", "--all"]])
def test_production_mode_without_the_integrity_key_does_not_start(
    tmp_path: Path, command: list[str]
) -> None:
    beside = tmp_path / "c.db.key"
    beside.write_text("ab" * 32)  # a key file beside the database is not one production reads

    done = run_cli(
        *command,
        CASERECORD_PRODUCTION="true",
        CASERECORD_DATABASE_URL=f"sqlite:///{tmp_path}/c.db",
        CASERECORD_INTEGRITY_KEY="",
        CASERECORD_INTEGRITY_KEY_FILE="",
    )

    assert_one_clear_line(done, "production mode needs CASERECORD_INTEGRITY_KEY")
    assert not (tmp_path / "c.db").exists()
