"""Count the SQL statements and network round trips of one command on PostgreSQL.

The service talks to PostgreSQL through a proxy on 127.0.0.1 that reads the wire protocol
the client sends: every simple query (``Q``) and every ``Execute`` of the extended protocol
is a statement; a round trip is a burst of client messages answered by the server (the
client sending again after it has read a reply).  The proxy holds each reply back for a few
milliseconds, so that a client sending several statements without waiting (psycopg's
pipeline mode) is not taken for one that waited for each.  Counting on the wire, not in Python,
sees what psycopg's pipeline and prepared statements really send, and the pool's own
checks.

    PYTHONPATH=src python -m benchmarks.count_statements [--notes N] [--idempotency] [--http]

``--http`` counts a whole server instead (``caserecord serve``, 1 worker, read models
running): everything it sends per POST note, the read models' runners included, less what
it sends idle over as long.

The same proxy (:class:`WireCounter`) is what ``tests/integration/test_write_transaction.py``
uses to pin the counts.
"""

import argparse
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

SSL_REQUEST = 80877103
CANCEL_REQUEST = 80877102


@dataclass
class Tally:
    statements: int = 0
    round_trips: int = 0
    by_text: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)


class WireCounter:
    """A TCP proxy in front of PostgreSQL that tallies what clients send through it."""

    def __init__(self, host: str, port: int, delay: float = 0.003) -> None:
        self.target = (host, port)
        self.delay = delay
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port: int = self.listener.getsockname()[1]
        self.tally = Tally()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> Tally:
        with self.lock:
            done, self.tally = self.tally, Tally()
        return done

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            state = {"awaiting_reply": False}
            threading.Thread(
                target=self._client_side, args=(client, upstream, state), daemon=True
            ).start()
            threading.Thread(
                target=self._server_side, args=(upstream, client, state), daemon=True
            ).start()

    def _client_side(self, src: socket.socket, dst: socket.socket, state: dict[str, bool]) -> None:
        buffer, startup = b"", True
        names: dict[bytes, str] = {}
        try:
            while data := src.recv(65536):
                with self.lock:
                    if not state["awaiting_reply"]:
                        self.tally.round_trips += 1
                        state["awaiting_reply"] = True
                buffer += data
                buffer, startup = self._parse(buffer, startup, names)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src, dst)

    def _server_side(self, src: socket.socket, dst: socket.socket, state: dict[str, bool]) -> None:
        try:
            while data := src.recv(65536):
                time.sleep(self.delay)
                with self.lock:
                    state["awaiting_reply"] = False
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src, dst)

    def _parse(self, buffer: bytes, startup: bool, names: dict[bytes, str]) -> tuple[bytes, bool]:
        while True:
            if startup:
                if len(buffer) < 8:
                    return buffer, startup
                length, code = struct.unpack("!II", buffer[:8])
                if len(buffer) < length:
                    return buffer, startup
                buffer = buffer[length:]
                startup = code in (SSL_REQUEST, CANCEL_REQUEST)
                continue
            if len(buffer) < 5:
                return buffer, startup
            kind, length = buffer[:1], struct.unpack("!I", buffer[1:5])[0]
            if len(buffer) < 1 + length:
                return buffer, startup
            body, buffer = buffer[5 : 1 + length], buffer[1 + length :]
            self._message(kind, body, names)

    def _message(self, kind: bytes, body: bytes, names: dict[bytes, str]) -> None:
        with self.lock:
            self.tally.kinds[kind.decode(errors="replace")] += 1
            if kind == b"Q":
                self.tally.statements += 1
                self.tally.by_text[_short(body.split(b"\0")[0])] += 1
            elif kind == b"P":
                name, rest = body.split(b"\0", 1)
                names[name] = _short(rest.split(b"\0")[0])
                names[b"\0last"] = names[name]
            elif kind == b"B":
                statement = body.split(b"\0", 2)[1]
                names[b"\0bound"] = names.get(statement, "?")
            elif kind == b"E":
                self.tally.statements += 1
                self.tally.by_text[names.get(b"\0bound", "?")] += 1


def _short(sql: bytes) -> str:
    text = " ".join(sql.decode(errors="replace").split())
    return text if len(text) <= 90 else text[:87] + "..."


def _close(*socks: socket.socket) -> None:
    for sock in socks:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


@contextmanager
def counting(database_url: str) -> Iterator[tuple[WireCounter, str]]:
    """A counter in front of the URL's server, and the URL that goes through it."""
    parts = urlsplit(database_url)
    counter = WireCounter(parts.hostname or "127.0.0.1", parts.port or 5432)
    auth = f"{parts.username}@" if parts.username else ""
    proxied = urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{counter.port}"))
    try:
        yield counter, proxied
    finally:
        counter.close()


def count_notes(app: Any, actor: Any, case_ids: list[UUID], idempotency: bool) -> None:
    for n, case_id in enumerate(case_ids):
        opts: dict[str, Any] = {}
        if idempotency:
            opts["idempotency"] = (f"key-{case_id}-{n}", "fingerprint")
        app.record_note(
            actor, case_id, text="Phoned the client.", contact_kind="client",
            contact_mode="phone", **opts,
        )  # fmt: skip


def count_service(database_url: str, notes: int, idempotency: bool = False) -> Tally:
    """What ``notes`` notes on distinct warm cases send through the counter."""
    from benchmarks.bench_commands import ACTOR, open_case
    from caserecord.config import Settings
    from caserecord.store import open_records

    with counting(database_url) as (counter, url):
        app = open_records(Settings(database_url=url))
        try:
            cases = [open_case(app) for _ in range(notes)]
            count_notes(app, ACTOR, cases, idempotency)  # warm: cache, prepared
            counter.reset()
            count_notes(app, ACTOR, cases, idempotency)
            return counter.reset()
        finally:
            app.close()


def count_bare_library(database_url: str, notes: int) -> Tally:
    """The same for the bare library's get + one event + save (``bench_commands``)."""
    from benchmarks.bench_commands import CASES, bare_library_op
    from caserecord.config import Settings

    with (
        counting(database_url) as (counter, url),
        bare_library_op(Settings(database_url=url)) as op,
    ):
        for _ in range(CASES):  # warm: every ledger in the cache
            op()
        counter.reset()
        for _ in range(notes):
            op()
        return counter.reset()


def count_http(database_url: str, notes: int) -> tuple[Tally, Tally]:
    """What a served POST note sends, every thread of the server counted; and what the
    server sends idle over as long (the runners' periodic pulls), to subtract."""
    import urllib.request

    from benchmarks.bench_http import BODY, SERVICE_ENV, seed
    from benchmarks.servers import service
    from caserecord.config import Settings

    token, cases = seed(Settings(database_url=database_url))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(port: int, case: str) -> None:
        url = f"http://127.0.0.1:{port}/v1/cases/{case}/notes"
        request = urllib.request.Request(url, data=BODY, headers=headers, method="POST")
        with urllib.request.urlopen(request) as answer:
            answer.read()

    spread = 3.0  # seconds over which the notes are sent, one at a time
    with counting(database_url) as (counter, url), service(url, 1, **SERVICE_ENV) as server:
        for case in cases:  # warm: every case in the cache
            post(server.port, case)
        time.sleep(1.5)
        counter.reset()
        time.sleep(spread)
        idle = counter.reset()
        for n in range(notes):
            post(server.port, cases[n % len(cases)])
            time.sleep(spread / notes)
        return counter.reset(), idle


def run(kind: str, *, quick: bool) -> list[Any]:
    """Rows for ``benchmarks/run.py``: statements and round trips of a note against the
    bare library's, on PostgreSQL (SQLite has no round trips)."""
    from benchmarks.common import Row, temp_store

    assert kind == "postgres", kind
    notes = 10 if quick else 50
    with temp_store(kind, "count") as settings:
        ours = count_service(settings.database_url, notes)
    with temp_store(kind, "count", init=False) as settings:
        bare = count_bare_library(settings.database_url, notes)
    how = f"counted on the wire; {notes} notes on distinct warm cases"
    return [
        Row("write path", f"{what} per note (record_note)", kind, getattr(ours, attr) / notes,
            what, "bare library get+event+save", getattr(bare, attr) / notes, note=how)
        for what, attr in (("statements", "statements"), ("round trips", "round_trips"))
    ]  # fmt: skip


def main() -> None:
    from benchmarks.common import temp_store

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=20)
    parser.add_argument("--idempotency", action="store_true", help="each note with a key")
    parser.add_argument("--http", action="store_true", help="a served POST note, runners included")
    args = parser.parse_args()
    if args.http:
        with temp_store("postgres", "count") as settings:
            served, idle = count_http(settings.database_url, args.notes)
        per = args.notes
        print(f"POST note on PostgreSQL, 1 worker, {per} notes on distinct warm cases")
        print(f"statements per note:  {(served.statements - idle.statements) / per:.2f}")
        print(f"round trips per note: {(served.round_trips - idle.round_trips) / per:.2f}")
        for text, n in served.by_text.most_common():
            print(f"  {n / per:5.2f}  {text}")
        return
    with temp_store("postgres", "count") as settings:
        tally = count_service(settings.database_url, args.notes, args.idempotency)
    per = args.notes
    print(f"record_note on PostgreSQL, {per} notes on distinct warm cases")
    print(f"statements per note:  {tally.statements / per:.2f}")
    print(f"round trips per note: {tally.round_trips / per:.2f}")
    print("messages:", {k: n / per for k, n in tally.kinds.items()})
    for text, n in tally.by_text.most_common():
        print(f"  {n / per:5.2f}  {text}")


if __name__ == "__main__":
    main()
