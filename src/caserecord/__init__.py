"""caserecord: an event-sourced case record system for case management agencies."""

__version__ = "0.1.0"
