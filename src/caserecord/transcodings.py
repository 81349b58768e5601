"""JSON transcodings for the values the library does not know: dates and the case's parts."""

import dataclasses
from datetime import date
from typing import Any, get_args, get_origin

from eventsourcing.persistence import Transcoding

from caserecord.domain.benefits import Appointment, BenefitApplication, DocumentRequest
from caserecord.domain.client import SupportContact
from caserecord.domain.consent import Consent
from caserecord.domain.entities import ENTITY_CLASSES, Ledger, Referral, Referrals
from caserecord.domain.need_to_know import BreakGlassWindow


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def dataclass_transcoding(cls: type) -> Transcoding:
    """Stored as a list of field values in declaration order, without the trailing values
    that equal their defaults: a snapshot of a long case holds thousands of these, and a
    list costs the decoder no hook call of its own (a dict does, even an empty one), nor
    the field names.  A field holding a list of such parts (a status history) stores each
    part the same way inline, so it costs no hook call either.  The declaration order is
    the stored format: a new field goes last, with a default.

    Snapshots taken before stored a dict of fields, nested parts as their own objects, or
    (for a class that has since shed fields) a longer list; they still read.
    """
    layout = Layout(cls)
    inline = {
        i: Layout(part)
        for i, f in enumerate(dataclasses.fields(cls))
        if (part := part_of_list(f.type)) is not None
    }
    legacy = getattr(cls, "from_version_2", None)

    class AsFields(Transcoding):
        type = cls
        name = cls.__name__

        def encode(self, obj: Any) -> list[Any]:
            values = layout.values(obj)
            for i, part in inline.items():
                if i < len(values):
                    values[i] = [part.values(item) for item in values[i]]
            return values

        def decode(self, data: list[Any] | dict[str, Any]) -> Any:
            if isinstance(data, dict):
                return cls(**{k: v for k, v in data.items() if k in layout.names})
            values = legacy(data) if len(data) > len(layout.names) and legacy else data
            for i, part in inline.items():
                if i < len(values):
                    # Parts stored before they went inline were decoded by their own hook.
                    make = part.cls
                    values[i] = [make(*v) if type(v) is list else v for v in values[i]]
            return cls(*values)

    return AsFields()


class Layout:
    """A dataclass as a list of its field values, trailing defaults left out."""

    def __init__(self, cls: type) -> None:
        fields = dataclasses.fields(cls)
        self.cls = cls
        self.names = tuple(f.name for f in fields)
        self.defaults = tuple(default_of(f) for f in fields)

    def values(self, obj: Any) -> list[Any]:
        values = [getattr(obj, n) for n in self.names]
        while values and values[-1] == self.defaults[len(values) - 1]:
            values.pop()
        return values


def part_of_list(declared: Any) -> type | None:
    """X when a field is declared ``list[X]`` and X is a part of a case."""
    if get_origin(declared) is not list:
        return None
    (item,) = get_args(declared)
    return item if item in ENTITY_CLASSES else None


class NoDefault:
    """Stands for a field without a default: equal to no stored value."""


def default_of(f: "dataclasses.Field[Any]") -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return NoDefault()


REFERRAL = dataclass_transcoding(Referral)
ID, VERSION = (Layout(Referral).names.index(n) for n in ("referral_id", "version"))


def referral_from_stored(values: list[Any]) -> Referral:
    """A referral from the field values ``ReferralsAsRows`` stored (what ``Referrals``
    calls on first use of one)."""
    referral: Referral = REFERRAL.decode(values)
    return referral


class ReferralsAsRows(Transcoding):
    """A case's referrals as one list of their field values (as a Referral part stores
    them), in the order they were made.  One decoder hook for them all, and none is made a
    Referral until it is used: a snapshot of a long case holds hundreds.  Snapshots taken
    before stored a dict of parts (Case class version 3 and earlier)."""

    type = Referrals
    name = "referrals"

    def encode(self, obj: Referrals) -> list[Any]:
        rows = []
        for referral_id in obj:
            found = obj.stored_or_part(referral_id)
            rows.append(REFERRAL.encode(found) if type(found) is Referral else found)
        return rows

    def decode(self, data: list[list[Any]]) -> Referrals:
        made = {row[ID]: row[VERSION] for row in data}
        stored = {row[ID]: row for row in data}
        return Referrals.restored(made, stored, referral_from_stored)


class LedgerAsPairs(Transcoding):
    """A ledger as its [key, value] pairs in order (a value of several versions, as a
    note's addenda, as a list)."""

    type = Ledger
    name = "ledger"

    def encode(self, obj: Ledger[Any, Any]) -> list[list[Any]]:
        return [[k, list(v) if type(v) is tuple else v] for k, v in obj.items()]

    def decode(self, data: list[list[Any]]) -> Ledger[Any, Any]:
        return Ledger((k, tuple(v) if type(v) is list else v) for k, v in data)


BENEFIT_PARTS = (DocumentRequest, Appointment, BenefitApplication)


def all_transcodings() -> list[Transcoding]:
    classes = (*ENTITY_CLASSES, *BENEFIT_PARTS, SupportContact, Consent, BreakGlassWindow)
    parts = [dataclass_transcoding(c) for c in classes]
    return [DateAsISO(), ReferralsAsRows(), LedgerAsPairs(), *parts]
