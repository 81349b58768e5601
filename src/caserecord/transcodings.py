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
    """Shallow: nested values are transcoded by the transcoder itself."""

    class AsDict(Transcoding):
        type = cls
        name = cls.__name__

        def encode(self, obj: Any) -> dict[str, Any]:
            return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

        def decode(self, data: dict[str, Any]) -> Any:
            return cls(**data)

    return AsDict()


def all_transcodings() -> list[Transcoding]:
    return [DateAsISO()] + [dataclass_transcoding(c) for c in (*ENTITY_CLASSES, SupportContact)]
