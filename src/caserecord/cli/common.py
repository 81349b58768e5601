"""Shared pieces of the CLI commands."""

from caserecord.config import Settings, load_settings
from caserecord.domain.recording import Actor

# Commands run from the CLI are recorded as this actor; the agency comes from the option.
CLI_ACTOR_ID = "cli"


def settings() -> Settings:
    return load_settings()


def cli_actor(agency_id: str, role: str = "admin") -> Actor:
    return Actor(CLI_ACTOR_ID, role, agency_id)
