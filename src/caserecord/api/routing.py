"""The API's routers: FastAPI tries every route of every included router in turn, a regular
expression and a few dictionary writes each, until one matches. With some 160 routes that
was a fifth of a POST's time on the event loop (py-spy); a router that can answer no path
of the request is now passed over with one regular expression."""

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from caserecord.api import deferred
from caserecord.application import one_read

GROUP = re.compile(r"\(\?P<\w+>")


def any_path(routes: list[BaseRoute]) -> re.Pattern[str] | None:
    """One expression that matches the paths any of ``routes`` matches (their methods
    aside), or None if a route has no path expression of its own (it then decides)."""
    patterns = []
    for route in routes:
        compiled = getattr(route, "path_regex", None)
        if not isinstance(compiled, re.Pattern):
            return None
        patterns.append(GROUP.sub("(?:", compiled.pattern))
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


class Router(APIRouter):
    """An APIRouter that turns a request away at once when none of its routes' paths match
    it. Its routes' paths are the ones served: include it without a prefix."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._paths: tuple[int, re.Pattern[str] | None] = (-1, None)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = set(kwargs.get("methods") or ())
        if inspect.iscoroutinefunction(endpoint):
            endpoint = settled_on_a_thread(endpoint)
        else:
            reading = bool(methods) and methods <= {"GET", "HEAD"}
            endpoint = settled_first(as_one_read(endpoint) if reading else endpoint)
        super().add_api_route(path, endpoint, **kwargs)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        count, paths = self._paths
        if count != len(self.routes):  # routes are added at import; found once after that
            paths = any_path(self.routes)
            self._paths = (len(self.routes), paths)
        if paths is not None and paths.match(get_route_path(scope)) is None:
            return Match.NONE, {}
        return super().matches(scope)


def as_one_read(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A read route's body loads each record once (``one_read``): it runs in one thread
    of the pool, from its first check to the access log's entry. FastAPI reads the
    parameters through ``__wrapped__``, so the route is described as before."""

    @functools.wraps(endpoint)
    def read(*args: Any, **kwargs: Any) -> Any:
        with one_read():
            return endpoint(*args, **kwargs)

    return read


def settled_first(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """The route's body after the checks its dependencies put off (``deferred``), in the
    same thread of the pool: a request hops to a thread once."""

    @functools.wraps(endpoint)
    def route(*args: Any, **kwargs: Any) -> Any:
        deferred.settle()
        return endpoint(*args, **kwargs)

    return route


def settled_on_a_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """An ``async def`` route's body runs on the event loop: the checks put off are made
    in the pool first."""

    @functools.wraps(endpoint)
    async def route(*args: Any, **kwargs: Any) -> Any:
        await run_in_threadpool(deferred.settle)
        return await endpoint(*args, **kwargs)

    return route
