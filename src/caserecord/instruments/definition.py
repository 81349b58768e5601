"""An instrument definition as data: its items and their response options, how it is
scored, its severity bands and its flags.  Checked when loaded (shipped or added by an
agency), so a scoring never meets a definition that cannot score."""

import itertools
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from caserecord.domain.errors import InvalidDefinitionError

Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Value = int | float | str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(Strict):
    value: Value
    label: Text


class Item(Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")]
    text: Text
    options: Annotated[list[Option], Field(min_length=1, max_length=50)]
    scored: bool = True
    """Counted in the total; an unscored item is recorded (PHQ-9's difficulty item, ASAM's
    level of care) but adds nothing."""
    required: bool = True
    reverse: bool = False
    """Scored as (lowest + highest option) minus the response: DAST-10 item 3."""

    def numbers(self) -> list[float]:
        return [o.value for o in self.options if not isinstance(o.value, str)]

    def value_of(self, response: Value) -> float:
        """What the response adds to the total (the response, reversed if the item is)."""
        assert not isinstance(response, str)
        if not self.reverse:
            return response
        numbers = self.numbers()
        return min(numbers) + max(numbers) - response


class ContextField(Strict):
    """Something about the administration the scoring depends on (AUDIT-C: sex)."""

    name: Code
    label: Text
    options: Annotated[list[Code], Field(min_length=1, max_length=20)]


class Band(Strict):
    label: Text
    min: float
    max: float
    when: dict[str, str] = {}


class Flag(Strict):
    """Raised when any of ``items`` is answered at least ``item_at_least``, or when the
    total is at least ``total_at_least``; ``safety``: a due item for the case manager at
    once."""

    code: Code
    label: Text
    safety: bool = False
    items: list[str] = []
    item_at_least: float | None = None
    total_at_least: float | None = None
    when: dict[str, str] = {}


class Scoring(Strict):
    method: Literal["sum", "none"]
    items: list[str] | None = None
    """The items summed (a subset); None: every scored item."""


class Definition(Strict):
    code: Code
    version: Annotated[int, Field(ge=1, le=10_000)]
    title: Text
    description: Annotated[str, Field(max_length=2000)] = ""
    source: Annotated[str, Field(max_length=1000)] = ""
    notes: Annotated[str, Field(max_length=2000)] = ""
    context: list[ContextField] = []
    items: Annotated[list[Item], Field(min_length=1, max_length=200)]
    scoring: Scoring
    bands: list[Band] = []
    flags: list[Flag] = []
    outcomes: list[str] = []
    """Unscored items whose answer is the result (ASAM: the level of care)."""

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)

    def summed(self) -> list[Item]:
        if self.scoring.method == "none":
            return []
        wanted = self.scoring.items
        return [i for i in self.items if i.scored and (wanted is None or i.id in wanted)]

    def total_range(self) -> tuple[float, float]:
        summed = self.summed()
        return (
            sum(min(i.value_of(v) for v in i.numbers()) for i in summed),
            sum(max(i.value_of(v) for v in i.numbers()) for i in summed),
        )

    def contexts(self) -> Iterator[dict[str, str]]:
        """Every combination of context values an administration can give."""
        names = [c.name for c in self.context]
        for values in itertools.product(*(c.options for c in self.context)):
            yield dict(zip(names, values, strict=True))

    @model_validator(mode="after")
    def _check(self) -> "Definition":
        check_items(self)
        check_conditions(self)
        check_bands(self)
        check_flags(self)
        return self


def applies(when: Mapping[str, str], context: Mapping[str, str]) -> bool:
    return all(context.get(k) == v for k, v in when.items())


def check_items(d: Definition) -> None:
    ids = [i.id for i in d.items]
    if len(set(ids)) != len(ids):
        raise ValueError("item ids must be unique")
    for item in d.items:
        values = [o.value for o in item.options]
        if len(set(values)) != len(values):
            raise ValueError(f"item {item.id}: option values must be unique")
        if any(isinstance(v, bool) for v in values):
            raise ValueError(f"item {item.id}: option values are numbers or codes")
        if item.scored and len(item.numbers()) != len(values):
            raise ValueError(f"item {item.id}: a scored item's options are numbers")
    wanted = d.scoring.items
    if wanted is not None:
        scored = {i.id for i in d.items if i.scored}
        unknown = [i for i in wanted if i not in scored]
        if unknown:
            raise ValueError(f"scoring names {unknown[0]}, which is not a scored item")
    for outcome in d.outcomes:
        if d.item(outcome) is None:
            raise ValueError(f"outcome {outcome} is not an item")


def check_conditions(d: Definition) -> None:
    options = {c.name: c.options for c in d.context}
    rules: list[Band | Flag] = [*d.bands, *d.flags]
    for rule in rules:
        for name, value in rule.when.items():
            if value not in options.get(name, []):
                raise ValueError(f"{rule.label}: when {name}={value} names no context option")


def check_bands(d: Definition) -> None:
    if not d.bands:
        return
    if d.scoring.method != "sum":
        raise ValueError("bands need a total: scoring method sum")
    low, high = d.total_range()
    for context in d.contexts():
        bands = sorted((b for b in d.bands if applies(b.when, context)), key=lambda b: b.min)
        where = f" (when {context})" if context else ""
        if not bands or bands[0].min != low or bands[-1].max != high:
            raise ValueError(f"bands must cover totals {low:g} to {high:g}{where}")
        for below, above in itertools.pairwise(bands):
            if above.min != below.max + 1:
                raise ValueError(
                    f"bands {below.label} and {above.label} must meet without gap or overlap{where}"
                )


def check_flags(d: Definition) -> None:
    keys = [(f.code, tuple(sorted(f.when.items()))) for f in d.flags]
    if len(set(keys)) != len(keys):
        raise ValueError("a flag code is given once for each context it applies in")
    for flag in d.flags:
        by_item = flag.item_at_least is not None
        by_total = flag.total_at_least is not None
        if by_item == by_total:
            raise ValueError(f"flag {flag.code}: give item_at_least or total_at_least")
        if by_item and not flag.items:
            raise ValueError(f"flag {flag.code}: name the items it watches")
        for item_id in flag.items:
            item = d.item(item_id)
            if item is None or not item.numbers():
                raise ValueError(f"flag {flag.code}: {item_id} is not an item with numbers")
        if by_total and d.scoring.method != "sum":
            raise ValueError(f"flag {flag.code}: a total flag needs scoring method sum")


def parse_definition(data: Any) -> Definition:
    """A definition from plain data, or :class:`InvalidDefinitionError` naming the first
    thing wrong with it."""
    try:
        return Definition.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "definition"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidDefinitionError(
            f"invalid instrument definition: {where}: {message}", field=where
        ) from None
