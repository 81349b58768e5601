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

    Stored as a list of field values in declaration order, without the trailing values
    that equal their defaults: a snapshot of a long case holds thousands of these, and a
    list costs the decoder no hook call of its own (a dict does, even an empty one), nor
    the field names.  So the declaration order is the stored format: a new field goes
    last, with a default.  Snapshots taken before stored a dict of fields, or (for a class
    that has since shed fields) a longer list; they still read.
    """
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields)
    defaults = tuple(default_of(f) for f in fields)
    legacy = getattr(cls, "from_version_2", None)

    class AsFields(Transcoding):
        type = cls
        name = cls.__name__

        def encode(self, obj: Any) -> list[Any]:
            values = [getattr(obj, n) for n in names]
            while values and values[-1] == defaults[len(values) - 1]:
                values.pop()
            return values

        def decode(self, data: list[Any] | dict[str, Any]) -> Any:
            if isinstance(data, dict):
                return cls(**{k: v for k, v in data.items() if k in names})
            if len(data) > len(names) and legacy is not None:
                data = legacy(data)
            return cls(*data)

    return AsFields()


class NoDefault:
    """Stands for a field without a default: equal to no stored value."""


def default_of(f: "dataclasses.Field[Any]") -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return NoDefault()


def all_transcodings() -> list[Transcoding]:
    return [DateAsISO()] + [dataclass_transcoding(c) for c in (*ENTITY_CLASSES, SupportContact)]
