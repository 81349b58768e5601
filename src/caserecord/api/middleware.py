"""Refuse oversized request bodies before anything parses them; put the read position on
reads; answer an unexpected error as a problem without dropping the connection."""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caserecord.api.errors import PROBLEM_JSON, log, problem_body


class BodyLimitMiddleware:
    """413 when Content-Length says too much, or when the streamed bytes pass the limit.

    The body is read (at most ``limit`` bytes of it) before the app runs, so a chunked upload
    that would pass the limit never reaches the JSON parser or the route.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self.refuse(send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self.refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def refuse(self, send: Send) -> None:
        body = json.dumps(
            problem_body(
                413, "content_too_large", f"the request body is larger than {self.limit} bytes"
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


# Scripts and styles only from the app's own files, never inline; no framing, no plugins.
# /docs and /redoc answer a policy of their own (api/docs.py): their bundles inject styles.
CONTENT_SECURITY_POLICY = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    """Client and case data must not be kept by browsers or shared caches, nor sniffed,
    framed, or leaked in a Referer; pages run only the app's own scripts. A response that
    sets one of these itself keeps its own."""

    HEADERS = (
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        (b"content-security-policy", CONTENT_SECURITY_POLICY),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.HEADERS if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PositionHeaderMiddleware:
    """`X-Position` on a read: the log position its answer reflects, which a route's
    dependencies leave in the request state (they cannot set headers on a response the
    route builds itself)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, object] = scope.setdefault("state", {})

        async def send_with_position(message: Message) -> None:
            position = state.get("position")
            if message["type"] == "http.response.start" and position is not None:
                header = (b"x-position", str(position).encode())
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        await self.app(scope, receive, send_with_position)


class UnexpectedErrorMiddleware:
    """An error no handler knows becomes a 500 problem+json, and the connection stays open.

    Starlette's outermost middleware answers it too, but then re-raises it to the server,
    and uvicorn closes the keep-alive connection without saying ``Connection: close``: the
    client's next request on it fails with a reset.  Here it ends as a normal response; only
    an error after the response has started (nothing can be said any more) goes on up."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as error:
            if started:
                raise
            # Logged in full on the server; the caller never sees a trace, SQL or a path.
            log.error(
                "unexpected error on %s %s", scope.get("method"), scope.get("path"), exc_info=error
            )
            body = json.dumps(
                problem_body(500, "internal_error", "an unexpected error occurred")
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", PROBLEM_JSON.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
