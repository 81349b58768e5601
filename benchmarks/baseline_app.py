"""The HTTP baselines: a bare FastAPI endpoint that inserts one row, with the driver the
service uses on that store.

- ``app``: sqlite3, one connection per thread of the pool that runs ``def`` routes (WAL).
- ``postgres_app``: psycopg 3 (the service's driver), through a ``psycopg_pool`` pool as a
  bare app would keep one, each insert autocommitted.

Both are served by uvicorn exactly like the service (same host, workers and log level), so
the ratio shows what the service's own work costs: authentication, the domain, the event
store.
"""

import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI
from psycopg_pool import ConnectionPool
from pydantic import BaseModel

DB = os.environ.get("BASELINE_DB", "var/bench/baseline.db")
# A libpq connection string; the table is created in the schema given by BASELINE_SCHEMA.
POSTGRES = os.environ.get("BASELINE_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = os.environ.get("BASELINE_SCHEMA", "public")
POOL_SIZE = 10


class NoteIn(BaseModel):
    text: str
    contact_kind: str
    contact_mode: str


app = FastAPI()
_local = threading.local()


def connection() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB, isolation_level=None, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        _local.conn = conn
    return conn


def create_table(path: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)")


@app.post("/notes", status_code=201)
def record_note(note: NoteIn) -> dict[str, int | None]:
    cursor = connection().execute("INSERT INTO notes (body) VALUES (?)", (note.model_dump_json(),))
    return {"id": cursor.lastrowid}


def create_postgres_table(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".notes (id bigserial PRIMARY KEY, body text)'
        )


pool = ConnectionPool(
    POSTGRES,
    min_size=POOL_SIZE,
    max_size=POOL_SIZE,
    kwargs={"autocommit": True, "options": f"-c search_path={SCHEMA}"},
    open=False,
)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    pool.open(wait=True)
    try:
        yield
    finally:
        pool.close()


postgres_app = FastAPI(lifespan=lifespan)


@postgres_app.post("/notes", status_code=201)
def record_note_postgres(note: NoteIn) -> dict[str, int | None]:
    with pool.connection() as conn:
        row = conn.execute(
            "INSERT INTO notes (body) VALUES (%s) RETURNING id", (note.model_dump_json(),)
        ).fetchone()
    return {"id": row[0] if row else None}
