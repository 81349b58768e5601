"""The write path: run a command on the loaded record, save it, retry a lost race."""

import copy
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from caserecord.application.base import (
    A,
    CommandResult,
    Options,
    RecordsBase,
    new_id,
    outside_one_read,
)
from caserecord.domain.case import Case
from caserecord.domain.client import Client
from caserecord.domain.errors import (
    CaseNotFoundError,
    ConcurrencyConflictError,
    DomainError,
    EffectiveBeforeOpeningError,
    NotOnTheCaseError,
    VersionMismatchError,
)
from caserecord.domain.need_to_know import ReaderFacts, may_write
from caserecord.domain.recording import Actor, Recording, recording
from caserecord.persistence.idempotency import IdempotencyRecord

SAVE_ATTEMPTS = 64
"""How often at most a command that named no version is run on the fresh state after
losing the race to the store, before the conflict is reported."""
RETRY_SECONDS = 5.0
"""How long at most such a command keeps retrying: with several worker processes on one
busy record, a count alone runs out for the process that keeps losing to another whose
cache is warm."""
EAGER_RETRIES = 3
"""Retries run at once: the loser has just read the winner's event, and a pause would let
the other processes' next commands overtake it again and again."""
RETRY_JITTER = 0.002
"""Seconds: the longest first pause before a later retry (doubling each time), random so
that writers from other processes that keep colliding spread out."""
STALE_LIMIT = 0.25
"""Above this share of commands whose cached record turned out behind the store (other
processes writing the same records), commands load through the store first: a lost first
attempt costs more than the read it saved."""
STALE_PROBE = 16
"""While above the limit, one command in this many still starts from the cache, so the
share is measured again."""


class WritePath(RecordsBase):
    """Every command's way to the store: load, check, run, save, retry."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        # One lock per record being written, dropped once no command holds it.
        self._turns: weakref.WeakValueDictionary[UUID, Any] = weakref.WeakValueDictionary()
        self._turns_lock = threading.Lock()
        # The records that ``_get`` answers from the process cache as they stand, in the
        # thread running a command's first attempt (see ``_retry``).
        self._cache_first = threading.local()
        self._stale = 0.0  # moving share of first attempts that lost to another process
        self._commands = 0
        # Record -> its state as saved by a command whose save is queued but not yet
        # recorded: the next command on it starts from there (see ``_hand_over``).
        self._saving: dict[UUID, Aggregate] = {}

    @contextmanager
    def _recording(self, actor: Actor, opts: Options) -> Iterator[Recording]:
        rec = Recording(
            actor=actor,
            effective_at=opts.get("effective_at"),
            reason=opts.get("reason") or "",
            correlation_id=opts.get("correlation_id") or new_id(),
        )
        with recording(rec):
            yield rec

    def _check_not_before_opening(self, actor: Actor, case_id: UUID, opts: Options) -> None:
        """An entry cannot have happened before its case was opened (the intake itself may
        be backdated)."""
        effective_at = opts.get("effective_at")
        if not isinstance(effective_at, datetime) or effective_at.utcoffset() is None:
            return  # nothing said, or refused with its own message when recorded
        missing = CaseNotFoundError(f"no case {case_id}")
        opened_at = self._check_owner(actor, Case.Opened, case_id, missing).opened_at
        if effective_at < opened_at:
            raise EffectiveBeforeOpeningError(
                f"effective_at {effective_at.isoformat()} is before the case was opened "
                f"({opened_at.isoformat()}): an entry cannot precede its case"
            )

    def _update_case(
        self,
        actor: Actor,
        case_id: UUID,
        opts: Options,
        command: Callable[[Case], None],
        entity_id: str | Callable[[Case], str] | None = None,
        *,
        by_anyone: bool = False,
    ) -> CommandResult:
        """``by_anyone``: a command any role allowed to call it may run on the case (a
        break-glass read, an answer to a transfer), without a need to know."""
        self._check_not_before_opening(actor, case_id, opts)
        if not by_anyone:
            command = self._by_a_writer(actor, command)
        return self._retrying(
            actor, case_id, opts, lambda: self._case(actor, case_id), command, entity_id
        )

    def _by_a_writer(self, actor: Actor, command: Callable[[Case], None]) -> Callable[[Case], None]:
        """``command``, run only if the actor may write to the case as it stands (the
        fresh state decides on a retry, like any other check)."""

        def checked(case: Case) -> None:
            now = datetime.now(UTC)
            reader = ReaderFacts(actor.role, actor.id)
            if not may_write(reader, case.need_to_know_facts(now.date()), now):
                raise NotOnTheCaseError(
                    f"{actor.id} neither manages case {case.id} nor is on its care team: "
                    "a caseworker writes to such a case only after breaking the glass"
                )
            command(case)

        return checked

    def _update_case_and_client(
        self,
        actor: Actor,
        case_id: UUID,
        opts: Options,
        command: Callable[[Case, Client], None],
        entity_id: str,
    ) -> CommandResult:
        """A command on a case that also records on its client (a disclosure beside the
        referral that makes it), saved in one transaction: both or neither.  Each record's
        version is checked by the store, so a change to either (a consent revoked) that
        won the race makes the command run again on the fresh pair."""
        self._check_not_before_opening(actor, case_id, opts)
        client_id = self.client_of_case(actor, case_id)

        def attempt() -> CommandResult:
            with self._turn(case_id), self._turn(client_id):
                case, client = self._case(actor, case_id), self._client(actor, client_id)
                self._check_expected(case, opts)
                with self._recording(actor, opts):
                    self._by_a_writer(actor, lambda c: command(c, client))(case)
                return self._save(actor, case, opts, entity_id, also=[client])

        return self._retry(opts, actor, attempt, (case_id, client_id))

    def _update_client(
        self,
        actor: Actor,
        client_id: UUID,
        opts: Options,
        command: Callable[[Client], None],
        entity_id: str | None = None,
    ) -> CommandResult:
        return self._retrying(
            actor, client_id, opts, lambda: self._client(actor, client_id), command, entity_id
        )

    def _retrying(
        self,
        actor: Actor,
        aggregate_id: UUID,
        opts: Options,
        load: Callable[[], A],
        command: Callable[[A], None],
        entity_id: str | Callable[[A], str] | None,
    ) -> CommandResult:
        """Load, run and save the command; a command that named no version and lost the
        race to the store is run again on the state that won (the cached aggregate is
        fast-forwarded on each load), so two people adding notes to a case at once both
        succeed, and only what the fresh state refuses fails, with the domain's own error.
        Commands of this process on one record take turns: they would only conflict.
        The command's ids are made once, before, so a retry records the same ones."""

        def attempt() -> CommandResult:
            with self._turn(aggregate_id) as turn:
                # From the cache, the next command on the record need not wait for this
                # save to be recorded: it starts from the state saved, and fails with it.
                chained = aggregate_id in getattr(self._cache_first, "ids", ())
                hand_over = turn if chained else None
                return self._update(actor, load(), opts, command, entity_id, hand_over)

        return self._retry(opts, actor, attempt, (aggregate_id,))

    def _retry(
        self,
        opts: Options,
        actor: Actor,
        attempt: Callable[[], CommandResult],
        saved: Sequence[UUID],
    ) -> CommandResult:
        """``saved``: the records the command saves.  A command that named no version
        first runs on them as the process cache holds them, without asking the store for
        later events: the save checks their versions anyway, and a record another process
        changed meanwhile makes it lose the race and run again on the fresh state.  Only
        what the store says decides: an error on the cached state is not reported before
        the fresh state gives it too."""
        tries, deadline = 0, time.monotonic() + RETRY_SECONDS
        cached = opts.get("expected_version") is None and self._cache_worth_trying()
        while True:
            try:
                with self._answering_from_cache(saved if cached else ()), outside_one_read():
                    result = attempt()
                if cached:
                    self._note_staleness(stale=False)
                return result
            except ConcurrencyConflictError:
                if cached:
                    self._note_staleness(stale=True)
                    cached = False
                    continue
                tries += 1
                if (
                    opts.get("expected_version") is not None
                    or tries >= SAVE_ATTEMPTS
                    or time.monotonic() > deadline
                ):
                    raise
                idempotency = opts.get("idempotency")
                if idempotency and self.find_idempotent_result(actor, idempotency[0]):
                    raise  # a duplicate of this request won: the caller answers with its result
                if tries > EAGER_RETRIES:
                    pause = RETRY_JITTER * 2 ** min(tries - EAGER_RETRIES, 6)
                    time.sleep(random.uniform(0, pause))
            except DomainError:
                if not cached:
                    raise
                cached = False  # the cached state may be behind: the fresh one decides

    def _cache_worth_trying(self) -> bool:
        self._commands += 1
        return self._stale < STALE_LIMIT or self._commands % STALE_PROBE == 0

    def _note_staleness(self, *, stale: bool) -> None:
        self._stale = 0.9 * self._stale + (0.1 if stale else 0.0)

    @contextmanager
    def _answering_from_cache(self, ids: Sequence[UUID]) -> Iterator[None]:
        self._cache_first.ids = frozenset(ids)
        try:
            yield
        finally:
            self._cache_first.ids = frozenset()

    def _get(self, kind: type[A], aggregate_id: UUID, version: int | None) -> A | None:
        if version is None and aggregate_id in getattr(self._cache_first, "ids", ()):
            saving = self._saving.get(aggregate_id)
            cached = copy.deepcopy(saving) if saving is not None else None
            cached = cached if cached is not None else self._cached_copy(aggregate_id)
            if cached is not None:
                return cached if isinstance(cached, kind) else None
        return super()._get(kind, aggregate_id, version)

    def _cached_copy(self, aggregate_id: UUID) -> Any:
        """A copy of the record as the process cache holds it, if it does (commands never
        change the cached object itself)."""
        cache = self.repository.cache
        if cache is None:
            return None
        try:
            held = cache.get(aggregate_id)
        except KeyError:
            return None
        try:
            return copy.deepcopy(held)
        except RuntimeError:  # a read fast-forwarding the cached object at this moment
            return None

    def _keep(self, *saved: Aggregate) -> None:
        """Hand the saved records to the process cache, so the next command starts from
        them; a newer version already there (fast-forwarded by a read) stays."""
        cache = self.repository.cache
        if cache is None:
            return
        for aggregate in saved:
            try:
                held_version = cache.get(aggregate.id).version
            except KeyError:
                held_version = 0
            if held_version < aggregate.version:
                cache.put(aggregate.id, aggregate)

    @contextmanager
    def _turn(self, aggregate_id: UUID) -> Iterator["Turn"]:
        with self._turns_lock:
            lock = self._turns.get(aggregate_id)
            if lock is None:
                lock = self._turns[aggregate_id] = threading.RLock()
        turn = Turn(lock)
        lock.acquire()
        try:
            yield turn
        finally:
            turn.end()

    def _hand_over(self, aggregate: Aggregate, turn: "Turn") -> None:
        with self._turns_lock:
            self._saving[aggregate.id] = aggregate
        turn.end()

    def _update(
        self,
        actor: Actor,
        aggregate: A,
        opts: Options,
        command: Callable[[A], None],
        entity_id: str | Callable[[A], str] | None,
        hand_over: "Turn | None" = None,
    ) -> CommandResult:
        """``entity_id``: the id of the part the command adds, or how to find it in the
        changed aggregate (an entry known by its version, a plan version by its number)."""
        self._check_expected(aggregate, opts)
        with self._recording(actor, opts):
            command(aggregate)
        made = entity_id(aggregate) if callable(entity_id) else entity_id
        return self._save(actor, aggregate, opts, made, hand_over=hand_over)

    def _check_expected(self, aggregate: Aggregate, opts: Options) -> None:
        expected = opts.get("expected_version")
        if expected is not None and expected != aggregate.version:
            raise VersionMismatchError(
                f"the record is at version {aggregate.version}, not {expected}"
            )

    def _save(
        self,
        actor: Actor,
        aggregate: Aggregate,
        opts: Options,
        entity_id: str | None = None,
        also: Sequence[Aggregate] = (),
        hand_over: "Turn | None" = None,
    ) -> CommandResult:
        """``also``: other records changed by the same command, saved in one transaction
        (the result names ``aggregate``).  ``hand_over``: the record's turn, ended as soon
        as the save is queued (stores that group saves, ``persistence/postgres_group.py``)
        with the saved state left for the next command; without it the turn ends after."""
        version = aggregate.version
        kwargs: dict[str, Any] = {}
        if hand_over is not None:
            kwargs["queued"] = lambda: self._hand_over(aggregate, hand_over)
        idempotency = opts.get("idempotency")
        if idempotency is not None:
            key, fingerprint = idempotency
            result = {"id": str(aggregate.id), "version": version, "entity_id": entity_id}
            created = datetime.now(UTC).isoformat()
            kwargs["idempotency"] = IdempotencyRecord(
                actor.agency_id, key, fingerprint, result, created
            )
        try:
            recordings = self.save(aggregate, *also, **kwargs)
        except IntegrityError:
            raise ConcurrencyConflictError(
                "another change was saved to this record first: reload and retry"
            ) from None
        else:
            self._keep(aggregate, *also)
        finally:
            if hand_over is not None:
                with self._turns_lock:
                    if self._saving.get(aggregate.id) is aggregate:
                        del self._saving[aggregate.id]
        return CommandResult(aggregate.id, version, recordings[-1].notification.id, entity_id)


class Turn:
    """A command's turn on a record: a lock held once, which its save may end early."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self._held = True

    def end(self) -> None:
        if self._held:
            self._held = False
            self._lock.release()
