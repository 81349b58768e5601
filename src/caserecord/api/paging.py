"""The one contract of every list: ``limit`` and an opaque ``cursor`` in, ``items`` and
``next`` out, and a ``Link: <...>; rel="next"`` header while there is more.

A cursor is the keyset value of the last item shown (URL-safe base64 of its JSON), so a
page follows from where the previous one stopped whatever was added meanwhile.  The
service layer only ever sees that value; encoding and checking it stays here.
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response
from pydantic import TypeAdapter, ValidationError

from caserecord.api.deps import MAX_POSITION, get_limit
from caserecord.api.errors import ApiError

T = TypeVar("T")
MAX_CURSOR = 1_000

CursorQuery = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`next` of the previous page; absent for the first page",
    ),
]


def encode(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def bad_cursor() -> ApiError:
    return ApiError(
        422,
        "invalid_cursor",
        "query:cursor: not a cursor of this list: pass `next` of the previous page unchanged",
        errors=[{"path": "query:cursor", "message": "not a cursor of this list", "type": "cursor"}],
    )


def plain(value: Any) -> bool:
    """Values any store can compare: no NUL in text, no integer past 2**53."""
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return abs(value) <= MAX_POSITION
    if isinstance(value, list | tuple):
        return all(plain(v) for v in value)
    return False


def decode(cursor: str, shape: Any) -> Any:
    """The keyset value in ``cursor``, checked against the ``shape`` this list uses."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = TypeAdapter(shape).validate_json(text, strict=True)
    except (binascii.Error, ValueError, ValidationError, RecursionError):
        raise bad_cursor() from None
    if not plain(value):
        raise bad_cursor()
    return value


@dataclass
class Paging:
    request: Request
    response: Response
    limit: int
    cursor: str | None

    def after(self, shape: Any) -> Any:
        """The keyset value to continue after, or None on the first page."""
        return None if self.cursor is None else decode(self.cursor, shape)

    @property
    def fetch(self) -> int:
        """How many to ask for: one more than shown tells whether there is a next page."""
        return self.limit + 1

    def page(self, rows: Sequence[T], key: Callable[[T], Any], **extra: Any) -> dict[str, Any]:
        """The page of ``rows`` (up to ``fetch`` of them, in keyset order), its ``next``
        cursor from the ``key`` of the last one shown, and the Link header."""
        items = list(rows[: self.limit])
        more = len(rows) > self.limit
        cursor = encode(key(items[-1])) if more and items else None
        return self.answer(items, cursor, **extra)

    def answer(self, items: list[Any], cursor: str | None, **extra: Any) -> dict[str, Any]:
        if cursor is not None:
            self.response.headers["Link"] = f'<{self.link(cursor)}>; rel="next"'
        return {"items": items, "next": cursor, **extra}

    def link(self, cursor: str) -> str:
        query = [(k, v) for k, v in self.request.query_params.multi_items() if k != "cursor"]
        return f"{self.request.url.path}?{urlencode([*query, ('cursor', cursor)])}"


async def get_paging(
    request: Request,
    response: Response,
    limit: Annotated[int, Depends(get_limit)],
    cursor: CursorQuery = None,
) -> Paging:
    return Paging(request, response, limit, cursor)


PagingDep = Annotated[Paging, Depends(get_paging)]
