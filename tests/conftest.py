"""Shared fixtures: stores (SQLite file, PostgreSQL schema), the service, actors."""

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.domain.recording import Actor
from caserecord.projections import ProjectionService
from caserecord.provision import init_store
from caserecord.store import open_records
from tests.stores import PG_ADMIN_DSN, require_postgres


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/caserecord.db"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A schema of its own in the `test` database, dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_ADMIN_DSN}?schema={schema}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Both stores: every test using it runs once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
def records(settings: Settings) -> Iterator[CaseRecords]:
    init_store(settings)
    app = open_records(settings)
    yield app
    app.close()


@pytest.fixture
def sqlite_records(sqlite_url: str) -> Iterator[CaseRecords]:
    """The service on SQLite only, for the bulk of application-level tests."""
    s = Settings(database_url=sqlite_url)
    init_store(s)
    app = open_records(s)
    yield app
    app.close()


@pytest.fixture
def worker() -> Actor:
    return Actor("worker-1", "caseworker", "agency-a")


@pytest.fixture
def supervisor() -> Actor:
    return Actor("super-1", "supervisor", "agency-a")


@pytest.fixture
def outsider() -> Actor:
    return Actor("worker-b", "caseworker", "agency-b")


@pytest.fixture
def projections(settings: Settings, records: CaseRecords) -> Iterator[ProjectionService]:
    """The read models over the ``records`` store, not started: tests call ``start()`` or
    ``catch_up()`` themselves."""
    service = ProjectionService(settings)
    yield service
    service.close()
