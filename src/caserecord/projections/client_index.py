"""Read model 5: clients by name, date of birth or client number (the duplicate check)."""

from datetime import date
from typing import Any
from uuid import UUID

from caserecord.domain.client import Client
from caserecord.domain.errors import InvalidValueError
from caserecord.projections.base import ViewProjection, from_iso, iso, iso_date
from caserecord.projections.sql import Database, Statement, ViewSchema


class ClientIndexSchema(ViewSchema):
    name = "client_index"
    tables = ("view_clients",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {s}view_clients ("
        "client_id TEXT PRIMARY KEY, agency_id TEXT NOT NULL, given_name TEXT NOT NULL, "
        "family_name TEXT NOT NULL, name_key TEXT NOT NULL, date_of_birth TEXT, "
        "client_number TEXT NOT NULL, registered_at TEXT NOT NULL, client_version BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS view_clients_number "
        "ON {s}view_clients (agency_id, client_number)",
        "CREATE INDEX IF NOT EXISTS view_clients_birth "
        "ON {s}view_clients (agency_id, date_of_birth)",
    )
    digest_queries = ("SELECT * FROM {s}view_clients ORDER BY client_id",)


UPSERT = (
    "INSERT INTO {s}view_clients VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (client_id) "
    "DO UPDATE SET given_name=excluded.given_name, family_name=excluded.family_name, "
    "name_key=excluded.name_key, date_of_birth=excluded.date_of_birth, "
    "client_number=excluded.client_number, client_version=excluded.client_version"
)


def name_key(*names: str) -> str:
    # casefold in Python, not LOWER() in SQL: SQLite lowers ASCII only.
    return " ".join(" ".join(names).casefold().split())


class ClientIndexProjection(ViewProjection):
    name = "client_index"
    schema = ClientIndexSchema

    def writes_for(self, event: Any, position: int) -> list[Statement]:
        if not isinstance(event, Client.Event):
            return []
        client = self.folder.fold(event)
        assert isinstance(client, Client)
        if not isinstance(event, Client.Registered | Client.DetailsCorrected):
            return []
        row = (
            str(client.id),
            client.agency_id,
            client.given_name,
            client.family_name,
            name_key(client.given_name, client.family_name),
            iso_date(client.date_of_birth),
            client.client_number,
            iso(client.created_on),
            client.version,
        )
        return [(UPSERT, row)]


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clients(
    db: Database,
    agency_id: str,
    *,
    name: str | None = None,
    date_of_birth: date | None = None,
    client_number: str | None = None,
    after: tuple[str, str, str] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Matching clients by family name, given name and id; ``after``: the
    :func:`client_key` of the last one already shown."""
    if limit < 1:
        raise InvalidValueError("limit must be at least 1")
    where = ["agency_id=?"]
    params: list[Any] = [agency_id]
    tokens = name_key(name).split() if name else []
    if name is not None and not tokens:
        raise InvalidValueError("a name search needs at least one letter")
    for token in tokens:
        where.append("name_key LIKE ? ESCAPE '\\'")
        params.append(f"%{like_escape(token)}%")
    if date_of_birth is not None:
        where.append("date_of_birth=?")
        params.append(date_of_birth.isoformat())
    if client_number is not None:
        where.append("client_number=?")
        params.append(client_number.strip())
    if after is not None:
        where.append("(family_name, given_name, client_id) > (?, ?, ?)")
        params.extend(after)
    rows = db.query(
        f"SELECT * FROM {{s}}view_clients WHERE {' AND '.join(where)} "
        "ORDER BY family_name, given_name, client_id LIMIT ?",
        [*params, limit],
    )
    return [
        {
            "client_id": UUID(r["client_id"]),
            "agency_id": r["agency_id"],
            "given_name": r["given_name"],
            "family_name": r["family_name"],
            "date_of_birth": date.fromisoformat(r["date_of_birth"]) if r["date_of_birth"] else None,
            "client_number": r["client_number"],
            "registered_at": from_iso(r["registered_at"]),
            "client_version": r["client_version"],
        }
        for r in rows
    ]


def client_key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row["family_name"], row["given_name"], str(row["client_id"]))
