"""Who each client is, for the duplicate checks at registration: a table kept in the
events' own transaction (as the feed's index is), so a check reads what is recorded, not a
view that may lag, and a client number is unique per agency by a constraint of the store:
two registrations racing for one number cannot both commit.

The values come from the event while it is still an object (the mapper attaches them, as
it attaches the agency for the feed): a registration inserts a row, a correction updates
the columns it changes."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from eventsourcing.utils import get_topic

IDENTITY_TABLE = "client_identity"
# Known by their stored topics, which never change, so that storage needs no domain import.
REGISTERED = "caserecord.domain.client:Client.Registered"
CORRECTED = "caserecord.domain.client:Client.DetailsCorrected"
COLUMNS = ("client_number", "given_key", "family_key", "date_of_birth")


def name_key(name: str) -> str:
    """Names compare without case and surrounding or repeated spaces."""
    return " ".join(without_nul(name).casefold().split())


def without_nul(text: str) -> str:
    # PostgreSQL text cannot hold NUL; the API refuses it, an older writer may not have.
    return text.replace("\x00", "")


@dataclass(frozen=True)
class IdentityChange:
    client_id: str
    agency_id: str
    registered: bool
    values: tuple[tuple[str, str | None], ...]  # (column, value) pairs

    def insert_row(self) -> tuple[Any, ...]:
        values = dict(self.values)
        return (self.client_id, self.agency_id, *(values.get(c) for c in COLUMNS))


def column_value(field: str, value: Any) -> tuple[str, str | None] | None:
    if field == "client_number":
        number = without_nul(str(value or "")).strip()
        return ("client_number", number or None)  # blanks are not numbers: many may lack one
    if field in ("given_name", "family_name"):
        return (f"{field.split('_')[0]}_key", name_key(str(value)))
    if field == "date_of_birth":
        return ("date_of_birth", value.isoformat() if isinstance(value, date) else None)
    return None


def identity_of(event: Any) -> IdentityChange | None:
    """What a client event changes of who the client is, or None."""
    topic = get_topic(type(event))
    if topic == REGISTERED:
        fields = {
            f: getattr(event, f)
            for f in ("client_number", "given_name", "family_name", "date_of_birth")
        }
        registered = True
    elif topic == CORRECTED:
        fields = {c["field"]: c["new"] for c in event.changes}
        registered = False
    else:
        return None
    values = tuple(v for f, x in fields.items() if (v := column_value(f, x)) is not None)
    if not registered and not values:
        return None
    return IdentityChange(
        str(event.originator_id), str(getattr(event, "agency_id", "")), registered, values
    )


def update_statement(change: IdentityChange, table: str, mark: str) -> tuple[str, list[Any]]:
    sets = ", ".join(f"{column}={mark}" for column, _ in change.values)
    params = [value for _, value in change.values] + [change.client_id]
    return f"UPDATE {table} SET {sets} WHERE client_id={mark}", params


SQLITE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {IDENTITY_TABLE} ("
    "client_id TEXT PRIMARY KEY, agency_id TEXT NOT NULL, client_number TEXT, "
    "given_key TEXT, family_key TEXT, date_of_birth TEXT, "
    "UNIQUE (agency_id, client_number))",
    f"CREATE INDEX IF NOT EXISTS {IDENTITY_TABLE}_person "
    f"ON {IDENTITY_TABLE} (agency_id, family_key, date_of_birth)",
)
