"""An idempotency key kept with the events it produced, so 'acknowledged' implies 'recorded'."""

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class IdempotencyRecord:
    agency_id: str
    key: str
    fingerprint: str
    result: dict[str, Any]
    created_at: str

    def row(self) -> tuple[str, str, str, str, str]:
        result = json.dumps(self.result, sort_keys=True, default=str)
        return (self.agency_id, self.key, self.fingerprint, result, self.created_at)

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> "IdempotencyRecord":
        agency_id, key, fingerprint, result, created_at = row
        return cls(agency_id, key, fingerprint, json.loads(result), str(created_at))
