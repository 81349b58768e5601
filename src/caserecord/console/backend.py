"""What the console needs from the running app: the same service, views, tokens and access
log the API routes use (``caserecord.api.runtime.Runtime`` is one; the console does not
import the API, which mounts it)."""

from typing import Protocol

from caserecord.access import AccessLog, TokenStore
from caserecord.application import CaseRecords
from caserecord.config import Settings
from caserecord.projections import ReadModels


class Backend(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def records(self) -> CaseRecords: ...

    @property
    def tokens(self) -> TokenStore: ...

    @property
    def access_log(self) -> AccessLog: ...

    @property
    def views(self) -> ReadModels: ...
