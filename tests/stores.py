"""The stores tests run on: where the PostgreSQL server is, and whether it can be reached."""

import os

import psycopg
import pytest

PG_ADMIN_DSN = os.environ.get(
    "CASERECORD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


def postgres_unavailable() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return None
    except psycopg.Error as e:
        return str(e).strip().splitlines()[0]


def require_postgres() -> None:
    problem = postgres_unavailable()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL must be reachable under CI ({PG_ADMIN_DSN}): {problem}")
    pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {problem}")
