"""An idempotency key kept with the events it produced, so 'acknowledged' implies 'recorded'.

Each row carries a MAC under the integrity key (``mac.py``), written in the events'
transaction: a retry is answered with the stored result, so a result edited in the database
would point the client at whatever the editor chose.  A row that fails its MAC is refused,
never replayed."""

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from caserecord.persistence.mac import Macs
from caserecord.persistence.sealing import NoIntegrityKeyError

log = logging.getLogger("caserecord.integrity")

IDEMPOTENCY_TABLE = "idempotency_keys"
IDEMPOTENCY_COLUMNS = "agency_id, idem_key, fingerprint, result, created_at, mac"
# The rows without a MAC (a store written before them, until `db init` seals them): the
# service asks this index at start, and it is empty once sealed, as new rows never enter it.
IDEMPOTENCY_UNSEALED = "idempotency_keys_unsealed"


class TamperedIdempotencyError(Exception):
    """The stored row of an idempotency key fails its MAC (changed behind the service):
    the request is neither answered with its result nor run again.  One line."""

    code = "record_unreadable"

    def __init__(self, agency_id: str, key: str) -> None:
        super().__init__(
            "the stored result of this Idempotency-Key fails its integrity check (its row was "
            "changed behind the service): it is not replayed and the request is not run "
            "again; `caserecord verify --all` names the row"
        )
        self.agency_id = agency_id
        self.key = key


@dataclass(frozen=True)
class IdempotencyRecord:
    agency_id: str
    key: str
    fingerprint: str
    result: dict[str, Any]
    created_at: str

    def values(self) -> tuple[str, str, str, str, str]:
        """The row's columns before its MAC (``IDEMPOTENCY_COLUMNS``), the result as JSON."""
        result = json.dumps(self.result, sort_keys=True, default=str)
        return (self.agency_id, self.key, self.fingerprint, result, self.created_at)

    def row(self, macs: Macs | None) -> tuple[str, str, str, str, str, str]:
        """The row to store (``IDEMPOTENCY_COLUMNS``), with its MAC."""
        if macs is None:
            raise NoIntegrityKeyError("the recorder holds no integrity key: nothing was written")
        values = self.values()
        return (*values, macs.idempotency(*values))

    @classmethod
    def from_row(cls, row: Sequence[Any], macs: Macs | None) -> "IdempotencyRecord":
        """The record of a stored row (``IDEMPOTENCY_COLUMNS``), or
        :class:`TamperedIdempotencyError` if it fails its MAC."""
        if macs is None:
            raise NoIntegrityKeyError("the recorder holds no integrity key: nothing is replayed")
        agency_id, key, fingerprint, result, created_at, mac = row
        expected = macs.idempotency(agency_id, key, fingerprint, result, str(created_at))
        if not Macs.same(expected, mac):
            log.error("idempotency key %s of agency %s fails its MAC: refused", key, agency_id)
            raise TamperedIdempotencyError(agency_id, key)
        return cls(agency_id, key, fingerprint, json.loads(result), str(created_at))
