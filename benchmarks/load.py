"""A small, bounded HTTP/1.1 load client on asyncio streams (keep-alive, fixed concurrency).

Lighter than an HTTP library so that, on a two-core machine, the client takes as little CPU
from the server under test as it can; the same client drives subject and baseline alike.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.common import percentile

# request number -> method, path, headers, body
Request = Callable[[int], tuple[str, str, dict[str, str], bytes]]


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000 if self.latencies else 0.0

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000 if self.latencies else 0.0


def encode(
    host: str, port: int, method: str, path: str, headers: dict[str, str], body: bytes
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Status code, and whether the server will close the connection."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed by the server")
    status = int(status_line.split()[1])
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    if length:
        await reader.readexactly(length)
    return status, close


async def _worker(
    host: str, port: int, make: Request, counter: list[int], deadline: float, result: LoadResult
) -> None:
    reader = writer = None
    while time.perf_counter() < deadline:
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                result.failures += 1
                await asyncio.sleep(0.05)
                continue
        assert reader is not None
        counter[0] += 1
        method, path, headers, body = make(counter[0])
        started = time.perf_counter()
        try:
            writer.write(encode(host, port, method, path, headers, body))
            await writer.drain()
            status, close = await read_response(reader)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
            result.failures += 1
            writer.close()
            writer = None
            continue
        result.latencies.append(time.perf_counter() - started)
        result.statuses[status] += 1
        if close:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def run_load(
    host: str, port: int, make: Request, *, concurrency: int, seconds: float
) -> LoadResult:
    """``concurrency`` connections each sending requests back to back for ``seconds``."""

    async def main() -> LoadResult:
        result = LoadResult(seconds)
        deadline = time.perf_counter() + seconds
        counter = [0]
        started = time.perf_counter()
        await asyncio.gather(
            *(_worker(host, port, make, counter, deadline, result) for _ in range(concurrency))
        )
        result.seconds = time.perf_counter() - started
        return result

    return asyncio.run(main())
