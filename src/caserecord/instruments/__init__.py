"""Standardized assessment instruments: versioned definitions kept as data (the JSON files
beside this module, and definitions an agency adds), checked on load, and the scoring that
turns one administration's responses into a total, a band and flags.

- ``definition``: the pydantic model of a definition and its checks;
- ``scoring``: responses in, a ``Score`` out (refusing incomplete or out-of-range ones);
- ``builtin``: the definitions shipped with caserecord.
"""

from caserecord.instruments.builtin import builtin_definitions
from caserecord.instruments.definition import Definition, parse_definition
from caserecord.instruments.scoring import Score, score

__all__ = ["Definition", "Score", "builtin_definitions", "parse_definition", "score"]
