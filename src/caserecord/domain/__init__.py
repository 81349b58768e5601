"""The case record itself: aggregates, their events, values and errors; no I/O.

Module paths here are part of the stored format (event topics): see
docs/decisions/0001-nested-layout.md before moving a class."""
