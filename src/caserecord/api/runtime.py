"""What the app holds while it runs: the record service, the access tables and the views."""

import contextlib
import logging
import threading
import time

from caserecord.access import AccessLog, Tables, TokenInfo, TokenStore
from caserecord.api.errors import unavailable
from caserecord.api.identity import Identity, IdentityCache, identify
from caserecord.application import CaseRecords
from caserecord.config import ConfigError, Settings
from caserecord.projections import ProjectionService, ReadModels, ReadModelTimeoutError
from caserecord.projections.worklist import contact_standards
from caserecord.store import StoreError, open_records

log = logging.getLogger("caserecord.api")
RETRY_SECONDS = 5.0


class Runtime:
    """Opened lazily and reopened after a failure, so the API answers 503 while the store is
    down and recovers without a restart."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        try:
            self.contact_standards = contact_standards(settings.contact_standard_days)
        except ValueError as e:
            raise ConfigError(f"invalid setting CASERECORD_CONTACT_STANDARD_DAYS: {e}") from None
        self._lock = threading.Lock()
        self._records: CaseRecords | None = None
        self._tokens: TokenStore | None = None
        self._access_log: AccessLog | None = None
        self._projections: ProjectionService | None = None
        self._written: dict[str, int] = {}
        self.identities = IdentityCache(settings.token_cache_seconds)
        self._last_attempt = float("-inf")

    # ---- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        try:
            self._open()
        except StoreError as e:
            log.warning("starting without the record store: %s", e)
        self._start_projections()

    def close(self) -> None:
        with self._lock:
            if self._projections is not None:
                self._projections.close()  # also closes the read models' own connections
                self._projections = None
            if self._records is not None:
                self._records.close()
                self._records = None

    def _open(self) -> CaseRecords:
        with self._lock:
            if self._records is None:
                records = open_records(self.settings)
                tables = Tables(records)
                access_log = AccessLog(tables)
                try:
                    access_log.check_numbered()
                except Exception as e:
                    records.close()
                    raise StoreError(
                        "has an access log without numbers or heads (made by an earlier version): "
                        "run `caserecord db init` to add them"
                    ) from e
                self._tokens = TokenStore(tables, cache_seconds=self.settings.token_cache_seconds)
                self._access_log = access_log
                self._records = records
            return self._records

    def _start_projections(self) -> None:
        """Open the read models, and run them unless told not to (then another process,
        `caserecord projections run`, runs them and this one only reads them)."""
        self._last_attempt = time.monotonic()
        service: ProjectionService | None = None
        try:
            service = ProjectionService(self.settings)
            leading = service.start() if self.settings.run_projections else False
        except Exception as e:  # the write side and record reads still work without views
            log.warning("read models not started: %s: %s", type(e).__name__, e)
            if service is not None:
                with contextlib.suppress(Exception):
                    service.close()
            return
        if self.settings.run_projections and not leading:
            # Another worker (or `caserecord projections run`) runs them; this one reads the
            # views and takes over if that process stops.
            log.info("read models run by %s; this process stands by", service.holder())
        self._projections = service

    # ---- parts ---------------------------------------------------------------------
    @property
    def records(self) -> CaseRecords:
        return self._records or self._open()

    @property
    def tokens(self) -> TokenStore:
        if self._tokens is None:
            self._open()
        assert self._tokens is not None
        return self._tokens

    def cached_token(self, secret: str) -> TokenInfo | None:
        """The token if this process trusts it without asking the store (see TokenStore);
        None if it must be looked up. Does no I/O, so the event loop may call it."""
        tokens = self._tokens
        return tokens.cached(secret) if tokens is not None else None

    def cached_identity(self, token: TokenInfo, on_behalf_of: str | None) -> Identity | None:
        """Who a token this process trusts acts for, if known within the token cache's
        time; None if the directory must be asked. Does no I/O."""
        return self.identities.get(token.token_id, on_behalf_of)

    def identify(self, token: TokenInfo, on_behalf_of: str | None) -> Identity:
        """Who the token acts for, from the staff directory (kept for ``cached_identity``)."""
        changes = self.identities.changes()
        identity = identify(self.records, token, on_behalf_of)
        self.identities.keep(token.token_id, on_behalf_of, identity, changes)
        return identity

    def staff_changed(self) -> None:
        """The staff directory changed through this process: who tokens act for is asked
        again (a deactivated member's token stops at once here)."""
        self.identities.forget()

    @property
    def access_log(self) -> AccessLog:
        if self._access_log is None:
            self._open()
        assert self._access_log is not None
        return self._access_log

    @property
    def views(self) -> ReadModels:
        """The read models; opened here if they could not be opened with the app (at most
        every few seconds), else 503."""
        if self._projections is None:
            with self._lock:
                if time.monotonic() - self._last_attempt > RETRY_SECONDS:
                    self._start_projections()  # they could not start earlier; try again
        service = self._projections
        if service is None:
            raise unavailable("the read models are not available on this server")
        return service.queries

    def open_views(self) -> ReadModels | None:
        """The read models if they are open, else None (``views`` opens them or answers
        503). Does no I/O, so the event loop may call it."""
        service = self._projections
        return None if service is None else service.queries

    def wrote(self, token_id: str, position: int) -> None:
        """Remember the caller's (token's) last write, for its next reads."""
        with self._lock:
            self._written[token_id] = max(position, self._written.get(token_id, 0))

    def head(self) -> int:
        """The position of the last event in the log (0 when it is empty)."""
        return self.records.recorder.max_notification_id() or 0

    def catch_up(self, token_id: str, at_least: int | None = None) -> int | None:
        """Read-your-writes for view routes: wait until the views have seen this token's
        last write through this process, or ``at_least`` (a position another worker
        reported in ``X-Record-Position``; the caller checked it is not past the log's
        end). Writes themselves never wait. Answers the position the views reflect."""
        service = self._projections
        position = max(self._written.get(token_id, 0), at_least or 0)
        if service is None:
            return None
        if not position:
            return min(service.positions().values(), default=0)
        try:
            found = service.wait(position, timeout=self.settings.read_your_writes_timeout)
        except ReadModelTimeoutError:
            raise unavailable("the read models are behind: retry shortly") from None
        return min(found.values(), default=0)
