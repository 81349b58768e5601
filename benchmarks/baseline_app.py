"""The HTTP baseline: a bare FastAPI endpoint that inserts one row with sqlite3.

Served by uvicorn exactly like the service (same host, workers and log level), so the ratio
shows what the service's own work costs: authentication, the domain, the event store.
"""

import os
import sqlite3
import threading

from fastapi import FastAPI
from pydantic import BaseModel

DB = os.environ.get("BASELINE_DB", "var/bench/baseline.db")


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
