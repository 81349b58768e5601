"""An agency's own instrument definitions: each version as it was added, never changed, so
a score stays readable by the definition version that computed it."""

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from caserecord.domain.base import RecordAggregate
from caserecord.domain.errors import DuplicateIdError, InvalidValueError


class InstrumentRegistry(RecordAggregate):
    """One per agency, its id derived from the agency's (``create_id``)."""

    class Opened(RecordAggregate.Created):
        agency_id: str

    @staticmethod
    def create_id(agency_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"caserecord:instrument-registry:{agency_id}")

    @event(Opened)
    def __init__(self, agency_id: str) -> None:
        if not agency_id.strip():
            raise InvalidValueError("an instrument registry belongs to an agency")
        self.agency_id = agency_id
        self.versions: dict[str, list[int]] = {}

    class DefinitionAdded(RecordAggregate.Event):
        code: str
        version: int
        definition: dict[str, Any]

    def add_definition(
        self, code: str, version: int, definition: dict[str, Any], shipped: int
    ) -> None:
        """``shipped``: the highest version of the code caserecord ships (0: none); a new
        version of a code comes after every version in force."""
        latest = max([shipped, *self.versions.get(code, [])])
        if version <= latest:
            raise DuplicateIdError(
                f"instrument {code} is at version {latest}: a new definition needs a higher version"
            )
        self._add_definition(code, version, definition)

    @event(DefinitionAdded)
    def _add_definition(self, code: str, version: int, definition: dict[str, Any]) -> None:
        self.versions.setdefault(code, []).append(version)
