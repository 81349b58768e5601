"""JSON transcodings for the values the library does not know: dates and the case's parts."""

import dataclasses
from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

from caserecord.domain.client import SupportContact
from caserecord.domain.entities import ENTITY_CLASSES


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def dataclass_transcoding(cls: type) -> Transcoding:
    """Shallow: nested values are transcoded by the transcoder itself.

    Stored as a list of field values in declaration order: a snapshot of a long case holds
    thousands of these, and a list costs the decoder no hook call of its own (a dict does),
    nor the field names.  So the declaration order is the stored format: a new field goes
    last, with a default.  Snapshots taken before stored a dict of fields; they still read.
    """
    names = tuple(f.name for f in dataclasses.fields(cls))

    class AsFields(Transcoding):
        type = cls
        name = cls.__name__

        def encode(self, obj: Any) -> list[Any]:
            return [getattr(obj, n) for n in names]

        def decode(self, data: list[Any] | dict[str, Any]) -> Any:
            if isinstance(data, dict):
                return cls(**data)
            return cls(*data)

    return AsFields()


def all_transcodings() -> list[Transcoding]:
    return [DateAsISO()] + [dataclass_transcoding(c) for c in (*ENTITY_CLASSES, SupportContact)]
