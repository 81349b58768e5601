"""The HTTP API."""

from caserecord.api.main import create_app

__all__ = ["create_app"]
