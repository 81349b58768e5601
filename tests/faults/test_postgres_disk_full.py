"""PostgreSQL out of space: a clean 507, an intact store, and recovery once space returns.

The store gets a database of its own whose tables and indexes live in a tablespace on a small
tmpfs that the test mounts (so it needs root). A filler file beside the tablespace takes all
but a little of the space; deleting it is "space returns", without a restart. Only table and
index files run out: the server's WAL and catalogs stay in its data directory, so the shared
server itself is never short of space.
"""

import contextlib
import os
import random
import string
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.provision import init_store
from caserecord.store import is_storage_full, open_records
from tests.factories import all_notes_over_http, an_open_case
from tests.faults.service import Service, make_token
from tests.faults.support import assert_store_whole
from tests.stores import PG_ADMIN_DSN, require_postgres

DISK_BYTES = 16 * 1024 * 1024
# Room left beside the filler: a few notes fit before the disk is full, far fewer than the
# 100 events after which a snapshot of the whole case is written.
ROOM_LEFT = 256 * 1024
NOTE_CHARS = 15_000
MAX_NOTES = 60
NEEDS_ROOT = "a fault test that mounts a tmpfs; skipped without it, even under CI"


@dataclass
class SmallDisk:
    """A tmpfs the database server can write to, and a filler file that takes its space."""

    path: Path

    @property
    def filler(self) -> Path:
        return self.path / "filler"

    def fill(self, leave: int) -> None:
        stat = os.statvfs(self.path)
        free = stat.f_bavail * stat.f_frsize
        assert free > leave, f"the disk is already full before the filler: {free} bytes free"
        with self.filler.open("wb") as f:
            os.posix_fallocate(f.fileno(), 0, free - leave)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)


def server_owner() -> tuple[int, int]:
    """The user and group the local database server runs as, from its data directory."""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        if not (row and row[0]):
            pytest.skip("CREATE TABLESPACE needs a PostgreSQL superuser")
        data = conn.execute("SELECT current_setting('data_directory')").fetchone()
    data_dir = Path(str(data[0] if data else ""))
    if not data_dir.is_dir():
        pytest.skip(f"the PostgreSQL server's data directory is not on this machine: {data_dir}")
    stat = data_dir.stat()
    return stat.st_uid, stat.st_gid


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture
def small_disk() -> Iterator[SmallDisk]:
    if os.geteuid() != 0:
        pytest.skip(f"needs root ({NEEDS_ROOT})")
    require_postgres()
    uid, gid = server_owner()
    # Not under pytest's tmp_path: the server's user must be able to reach the folder.
    path = Path(tempfile.mkdtemp(prefix="caserecord-pgfull-"))
    options = f"size={DISK_BYTES},mode=0700,uid={uid},gid={gid}"
    try:
        mounted = run("mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path))
    except OSError as e:
        mounted = subprocess.CompletedProcess(["mount"], 1, "", str(e))
    if mounted.returncode != 0:
        path.rmdir()
        reason = (mounted.stderr.strip() or f"exit {mounted.returncode}").splitlines()[0]
        pytest.skip(f"cannot mount a tmpfs, needs CAP_SYS_ADMIN ({NEEDS_ROOT}): {reason}")
    try:
        yield SmallDisk(path)
    finally:
        if run("umount", str(path)).returncode != 0:
            run("umount", "--lazy", str(path))  # still busy: detach it now, freed when idle
        with contextlib.suppress(OSError):
            path.rmdir()


@pytest.fixture
def postgres_on_small_disk(small_disk: SmallDisk) -> Iterator[str]:
    """A database of its own whose tables and indexes are created on the small disk."""
    name = f"caserecord_full_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE TABLESPACE {name} LOCATION '{small_disk.path}'")
        try:
            # The database's catalogs stay in the default tablespace; what it creates goes
            # to the small disk, whichever client connects and however.
            conn.execute(f"CREATE DATABASE {name}")
            conn.execute(f"ALTER DATABASE {name} SET default_tablespace = {name}")
        except psycopg.Error:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"DROP TABLESPACE {name}")
            raise
    try:
        yield urlunsplit(urlsplit(PG_ADMIN_DSN)._replace(path=f"/{name}", query=""))
    finally:
        small_disk.free()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            try:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            finally:
                conn.execute(f"DROP TABLESPACE IF EXISTS {name}")


def note(text: str) -> dict[str, Any]:
    return {"text": text, "contact_kind": "client", "contact_mode": "phone"}


def incompressible(rng: random.Random) -> str:
    """Text the server's TOAST compression cannot shrink, so every note takes real space."""
    return "".join(rng.choices(string.ascii_letters + string.digits, k=NOTE_CHARS))


def test_postgresql_disk_full_is_known_by_its_sqlstate_in_any_server_language() -> None:
    try:
        try:
            raise psycopg.errors.DiskFull("impossible d'étendre le fichier « base/1/2 »")
        except psycopg.OperationalError as e:
            raise OperationalError(str(e)) from e  # as the library wraps it
    except OperationalError as wrapped:
        error = wrapped

    assert is_storage_full(error)


@pytest.mark.postgres
@pytest.mark.slow
def test_a_full_tablespace_is_a_507_problem_and_writes_resume_when_space_returns(
    postgres_on_small_disk: str, small_disk: SmallDisk, worker: Actor, tmp_path: Path
) -> None:
    settings = Settings(database_url=postgres_on_small_disk)
    init_store(settings)
    records = open_records(settings)
    try:
        case_id = an_open_case(records, worker)
        client_id = UUID(str(records.get_case(worker, case_id)["client_id"]))
    finally:
        records.close()
    token = make_token(settings, worker.id)
    rng = random.Random(7)
    path = f"/v1/cases/{case_id}/notes"

    with Service(postgres_on_small_disk, tmp_path) as service, service.client(token) as http:
        small_disk.fill(leave=ROOM_LEFT)
        acknowledged = []
        for _ in range(MAX_NOTES):
            response = http.post(path, json=note(incompressible(rng)))
            if response.status_code != 201:
                break
            acknowledged.append(response.json()["entity_id"])
        again = http.post(path, json=note(incompressible(rng)))
        alive_while_full = service.process is not None and service.process.poll() is None

        small_disk.free()
        started = time.monotonic()
        resumed = http.post(path, json=note("space is back"))
        resumed_in = time.monotonic() - started
        recorded = [n["note_id"] for n in all_notes_over_http(http, case_id)]
        # The views were starved too; they catch up once space returns.
        caseload = http.get("/v1/caseloads")
        log = service.log()

    assert acknowledged, "no note fitted in the room left: the test filled too much"
    for refused in (response, again):
        assert refused.status_code == 507, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "storage_full"
        assert int(refused.headers["Retry-After"]) > 0
    assert alive_while_full, log
    assert resumed.status_code == 201, resumed.text
    assert resumed_in < 10, f"the first write after space returned took {resumed_in:.1f}s"
    assert recorded == [*acknowledged, resumed.json()["entity_id"]]
    assert caseload.status_code == 200, caseload.text
    records = open_records(settings)
    try:
        assert_store_whole(records, [case_id, client_id])
    finally:
        records.close()
