"""Waking the runners in another process: SQLite has no notifications, so a process that
waits for a position (read-your-writes) but does not run the views rings the process that
does, which then looks at once instead of at its next poll."""

import contextlib
import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable

from caserecord.projections.runner_lock import FileLock, runner_lock

log = logging.getLogger(__name__)


def doorbell_address(env: dict[str, str]) -> str | None:
    """Where the runner process of a SQLite file listens for "look now" (see Doorbell);
    None where the store wakes its runners itself (PostgreSQL's NOTIFY) or there is one
    process only."""
    lock = runner_lock(env)
    if not isinstance(lock, FileLock):
        return None
    digest = hashlib.sha256(os.path.realpath(lock.path).encode()).hexdigest()[:32]
    return f"\0caserecord-projections-{digest}"  # Linux abstract namespace: no file


class Doorbell:
    """SQLite has no notifications and the runners poll it.  A process that waits for a
    position (read-your-writes) but does not run the views itself rings the runner process
    so it looks at once instead of at its next poll.  A datagram that goes nowhere (no
    runner process, or a system without abstract sockets) costs nothing: polling still
    finds the events."""

    def __init__(self, address: str, on_ring: Callable[[], None]) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._sock.bind(address)
        except OSError:
            self._sock.close()
            raise
        self._sock.settimeout(0.5)  # how soon close() is noticed
        self._on_ring = on_ring
        self._closed = threading.Event()
        self._thread = threading.Thread(
            target=self._listen, name="caserecord-projection-doorbell", daemon=True
        )
        self._thread.start()

    @classmethod
    def listen(cls, address: str | None, on_ring: Callable[[], None]) -> "Doorbell | None":
        if address is None:
            return None
        try:
            return cls(address, on_ring)
        except OSError as e:
            log.info("no doorbell for the runners (they still poll): %s", e)
            return None

    def _listen(self) -> None:
        while not self._closed.is_set():
            try:
                self._sock.recv(16)
            except TimeoutError:
                continue
            except OSError:
                return
            self._on_ring()

    def close(self) -> None:
        self._closed.set()
        self._thread.join()
        self._sock.close()


def ring(address: str | None) -> None:
    if address is None:
        return
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.setblocking(False)
        s.sendto(b"!", address)
