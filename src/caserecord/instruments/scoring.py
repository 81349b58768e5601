"""One administration's responses scored by the definition version in force: refused when
incomplete or out of range, with the item named.  No definition here allows prorating."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from caserecord.domain.errors import InvalidResponseError
from caserecord.instruments.definition import Definition, Item, Value, applies


@dataclass(frozen=True)
class Score:
    total: float | None
    band: str | None
    flags: list[str] = field(default_factory=list)
    safety_flags: list[str] = field(default_factory=list)
    outcome: dict[str, Value] = field(default_factory=dict)


def score(d: Definition, responses: Mapping[str, Any], context: Mapping[str, Any]) -> Score:
    name = f"{d.code} version {d.version}"
    check_context(d, context, name)
    answered = check_responses(d, responses, name)
    if d.scoring.method == "none":
        total: float | None = None
    else:
        total = sum(i.value_of(answered[i.id]) for i in d.summed() if i.id in answered)
        if float(total).is_integer():
            total = int(total)
    band = next(
        (
            b.label
            for b in d.bands
            if total is not None and applies(b.when, context) and b.min <= total <= b.max
        ),
        None,
    )
    raised = [
        f
        for f in d.flags
        if applies(f.when, context)
        and (
            (f.total_at_least is not None and total is not None and total >= f.total_at_least)
            or (
                f.item_at_least is not None
                and any(number(answered.get(i)) >= f.item_at_least for i in f.items)
            )
        )
    ]
    return Score(
        total,
        band,
        [f.code for f in raised],
        [f.code for f in raised if f.safety],
        {o: answered[o] for o in d.outcomes if o in answered},
    )


def number(value: Value | None) -> float:
    return value if isinstance(value, int | float) else float("-inf")


def check_context(d: Definition, context: Mapping[str, Any], name: str) -> None:
    known = {c.name for c in d.context}
    unknown = sorted(set(context) - known)
    if unknown:
        raise InvalidResponseError(f"{name} takes no context {unknown[0]}", item=unknown[0])
    for c in d.context:
        if context.get(c.name) not in c.options:
            raise InvalidResponseError(
                f"{name} is scored by {c.name}: give one of {', '.join(c.options)}",
                item=c.name,
            )


def check_responses(d: Definition, responses: Mapping[str, Any], name: str) -> dict[str, Value]:
    unknown = [k for k in responses if d.item(k) is None]
    if unknown:
        raise InvalidResponseError(f"{name} has no item {unknown[0]}", item=unknown[0])
    answered: dict[str, Value] = {}
    for item in d.items:
        value = responses.get(item.id)
        if value is None:
            if item.required:
                raise InvalidResponseError(
                    f"item {item.id} ({item.text}) of {name} is not answered: "
                    "every item is required (no prorating)",
                    item=item.id,
                )
            continue
        answered[item.id] = check_value(item, value, name)
    return answered


def check_value(item: Item, value: Any, name: str) -> Value:
    for option in item.options:
        same_kind = isinstance(value, str) == isinstance(option.value, str)
        if same_kind and not isinstance(value, bool) and value == option.value:
            return option.value
    allowed = ", ".join(f"{o.value}" for o in item.options)
    raise InvalidResponseError(
        f"item {item.id} ({item.text}) of {name} is answered {value!r}: one of {allowed}",
        item=item.id,
    )
