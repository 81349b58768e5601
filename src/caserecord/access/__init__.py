"""Who may use the API (tokens) and who has read what (the access log)."""

from caserecord.access.db import Tables, create_access_tables
from caserecord.access.log import (
    AccessLog,
    AccessLogUnavailableError,
    Basis,
    Reader,
    Subject,
    listed_subjects,
)
from caserecord.access.tokens import TokenInfo, TokenNotFoundError, TokenStore

__all__ = [
    "AccessLog",
    "AccessLogUnavailableError",
    "Basis",
    "Reader",
    "Subject",
    "Tables",
    "TokenInfo",
    "TokenNotFoundError",
    "TokenStore",
    "create_access_tables",
    "listed_subjects",
]
