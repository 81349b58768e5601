"""The definitions shipped with caserecord: one JSON file each in ``definitions/``, read
and checked once."""

import json
from functools import cache
from importlib import resources

from caserecord.instruments.definition import Definition, parse_definition


@cache
def builtin_definitions() -> tuple[Definition, ...]:
    folder = resources.files(__package__).joinpath("definitions")
    found = [
        parse_definition(json.loads(f.read_text(encoding="utf-8")))
        for f in sorted(folder.iterdir(), key=lambda f: f.name)
        if f.name.endswith(".json")
    ]
    return tuple(found)
