"""What every console page shares: the signed-in viewer, templates, the access log entry of
a page view, forms with their CSRF token, and errors shown as pages."""

import hmac
import logging
import re
import secrets
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from importlib.resources import files
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from eventsourcing.domain import OriginatorVersionError
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from caserecord.access import AccessLogUnavailableError, Reader, Subject
from caserecord.console.backend import Backend
from caserecord.console.sessions import SessionStore
from caserecord.domain.errors import DomainError, NotFoundError
from caserecord.domain.recording import Actor
from caserecord.domain.values import Role
from caserecord.persistence.chain import MissingEventsError, UnreadableEventError
from caserecord.persistence.quarantine import RecordQuarantinedError

log = logging.getLogger("caserecord.console")

PREFIX = "/console"
STATIC = f"{PREFIX}/static"
SESSION_COOKIE = "caserecord_session"
SIGN_IN_COOKIE = "caserecord_sign_in"
ASSETS = files("caserecord.console").joinpath("static")

READERS = frozenset({Role.CASEWORKER, Role.SUPERVISOR, Role.COMPLIANCE_REVIEWER})
AUDITORS = frozenset({Role.SUPERVISOR, Role.COMPLIANCE_REVIEWER})
# The resource directory holds no client's data: admins, who keep it, read it too, as the
# API lets them.
DIRECTORY_READERS = READERS | {Role.ADMIN}

# The purpose of use a page view is logged with, unless the viewer chose another at sign-in.
PURPOSES = {
    Role.CASEWORKER: "case_management",
    Role.SUPERVISOR: "supervision",
    Role.COMPLIANCE_REVIEWER: "compliance_review",
    Role.ADMIN: "administration",
}
# A consent's status as a reader says it.
CONSENT_STATUS = {
    "active": "in force",
    "not_yet_effective": "not yet in force",
    "expired": "expired",
    "revoked": "revoked",
}
# Column headings of the parts of a case shown as plain rows (records.CASE_SECTIONS); any
# other key is shown with its underscores as spaces.
COLUMNS = {
    "staff_id": "Staff id",
    "starts_on": "From",
    "ends_on": "Until",
    "from_staff_id": "From",
    "to_staff_id": "To",
    "owner_id": "Owner",
    "due_on": "Due",
    "agency_name": "Applied to",
    "submitted_on": "Submitted",
    "expected_decision_on": "Decision expected",
    "renews_on": "Renews",
    "hearing_on": "Hearing",
    "version": "Record version",
}
PURPOSE_CHOICES = ("case_management", "supervision", "compliance_review", "quality_assurance")


class SignInRequiredError(Exception):
    """No live session: the viewer is sent to the sign-in page."""


class PageError(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


@dataclass(frozen=True)
class Viewer:
    """Who is looking, on which session, and the id of this page view."""

    actor: Actor
    token_id: str
    purpose: str
    csrf_token: str
    page_view: str

    @property
    def role(self) -> Role:
        return Role(self.actor.role)

    @property
    def reader(self) -> Reader:
        return Reader(
            self.actor.id,
            self.actor.role,
            self.actor.agency_id,
            self.token_id,
            self.purpose,
            self.page_view,
        )

    @property
    def reads_records(self) -> bool:
        return self.role in READERS

    @property
    def audits(self) -> bool:
        return self.role in AUDITORS

    @property
    def reads_directory(self) -> bool:
        return self.role in DIRECTORY_READERS


class Console:
    """The console's parts, kept in ``app.state.console``."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.templates = Environment(
            loader=PackageLoader("caserecord.console", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["when"] = when
        self.templates.filters["when_ms"] = when_ms
        self.templates.filters["short"] = short
        # The slider's moments, in the one shape console.js reads and the date-time field
        # takes: an ISO time leaves out a zero fraction of a second.
        self.templates.filters["local_input"] = local_input
        self.templates.filters["shown"] = shown
        self.templates.globals["static"] = STATIC
        self.templates.globals["prefix"] = PREFIX
        self.templates.globals["CONSENT_STATUS"] = CONSENT_STATUS
        self.templates.globals["COLUMNS"] = COLUMNS

    @cached_property
    def sessions(self) -> SessionStore:
        settings = self.backend.settings
        return SessionStore(
            self.backend.tokens,
            idle=timedelta(minutes=settings.console_idle_minutes),
            lifetime=timedelta(hours=settings.console_session_hours),
        )

    def render(
        self,
        request: Request,
        template: str,
        viewer: Viewer | None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        page = self.templates.get_template(template)
        html = page.render(viewer=viewer, path=request.url.path, **context)
        return HTMLResponse(html, status_code=status)


def get_console(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


ConsoleDep = Annotated[Console, Depends(get_console)]


def secure(request: Request, console: Console) -> bool:
    return console.backend.settings.console_secure_cookie or request.url.scheme == "https"


def set_cookie(
    response: Response, request: Request, console: Console, name: str, value: str
) -> None:
    response.set_cookie(
        name,
        value,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure(request, console),
    )


def get_viewer(request: Request, console: ConsoleDep) -> Viewer:
    session_id = request.cookies.get(SESSION_COOKIE)
    session = console.sessions.find(session_id) if session_id else None
    if session is None:
        raise SignInRequiredError
    token = session.token
    # The staff member the token belongs to, as the API acts for them: need to know
    # follows the person, not the token.
    actor = Actor(token.staff_id or token.name, token.role, token.agency_id)
    viewer = Viewer(actor, token.token_id, session.purpose, session.csrf_token, uuid.uuid4().hex)
    request.state.viewer = viewer  # an error page still shows who is signed in
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def reader_of_records(viewer: ViewerDep) -> Viewer:
    if not viewer.reads_records:
        raise PageError(
            403,
            "Not for your role",
            f"The {viewer.actor.role} role manages tokens; it cannot read client records.",
        )
    return viewer


def auditor(viewer: ViewerDep) -> Viewer:
    if not viewer.audits:
        raise PageError(
            403,
            "Not for your role",
            "The audit trail, access logs and verification are for supervisors and "
            "compliance reviewers.",
        )
    return viewer


ReaderDep = Annotated[Viewer, Depends(reader_of_records)]
AuditorDep = Annotated[Viewer, Depends(auditor)]


def reveal(console: Console, viewer: Viewer, action: str, subjects: Sequence[Subject]) -> None:
    """The page view's access log entry, written before the page is rendered."""
    console.backend.access_log.record(viewer.reader, f"console_{action}", subjects)


async def form_of(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (the first value of each)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def same_origin(request: Request) -> bool:
    """A form post naming another site as its origin is refused. Under the pages'
    ``Referrer-Policy: no-referrer`` browsers send ``Origin: null``, so the form's token is
    what proves a post came from a console page; this only turns away the obvious."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    return origin == f"{request.url.scheme}://{request.url.netloc}"


def check_csrf(request: Request, form: dict[str, str], expected: str) -> None:
    given = form.get("csrf_token", "")
    if not expected or not same_origin(request) or not hmac.compare_digest(given, expected):
        raise PageError(
            403,
            "The form has expired",
            "The form was not sent from this session's page. Reload the page and try again.",
        )


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def to_sign_in(request: Request, console: Console, *, ended: bool = False) -> Response:
    """``ended``: the browser held a session that is over, and the sign-in page says so:
    without it a reviewer left idle finds the sign-in page with no reason given."""
    target = f"{PREFIX}/sign-in"
    if ended:
        asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        # Back to the page asked for once signed in again: a reviewer mid-review
        # should not have to find the case again.
        after = {"next": asked} if request.method == "GET" else {}
        target += "?" + urlencode({"ended": 1} | after)
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path=PREFIX,
        secure=secure(request, console),
        httponly=True,
        samesite="strict",
    )
    return response


def console_address(text: str) -> str:
    """``text`` if it is the address of a console page of this site, else the start page:
    a link that signs a person in must not send them on to another site."""
    parts = urlsplit(text)
    inside = parts.path == PREFIX or parts.path.startswith(PREFIX + "/")
    odd = "\\" in text or any(ord(c) < 32 for c in text)
    return text if inside and not (parts.scheme or parts.netloc or odd) else PREFIX


class ConsoleRoute(APIRoute):
    """Errors become pages: the console never answers with JSON or a stack trace."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequiredError:
                ended = SESSION_COOKIE in request.cookies
                return to_sign_in(request, get_console(request), ended=ended)
            except Exception as error:
                return error_page(request, error)

        return handle


# A stored event of the record is changed, missing or set aside by the views: the page is
# refused, as the API refuses the read, and the verification says where.
DAMAGED = (UnreadableEventError, MissingEventsError, OriginatorVersionError, RecordQuarantinedError)
CASE_PAGE = re.compile(rf"^{PREFIX}/cases/([0-9a-fA-F-]{{36}})(/|$)")


def error_page(request: Request, error: Exception) -> Response:
    status, title, detail = described(error)
    if status >= 500 and not isinstance(error, AccessLogUnavailableError | PageError):
        log.error("console error on %s", request.url.path, exc_info=error)
    console = get_console(request)
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    damaged, verification = isinstance(error, DAMAGED), ""
    case = CASE_PAGE.match(request.url.path)
    if damaged and case and viewer is not None and viewer.audits:
        verification = f"{PREFIX}/cases/{case.group(1)}/verification"
    return console.render(
        request,
        "error.html",
        viewer,
        status,
        title=title,
        detail=detail,
        damaged=damaged,
        verification=verification,
    )


def described(error: Exception) -> tuple[int, str, str]:
    if isinstance(error, PageError):
        return error.status, error.title, error.detail
    if isinstance(error, NotFoundError):
        return 404, "Not found", "There is no such record in your agency's records."
    if isinstance(error, DAMAGED):
        return (
            500,
            "The record cannot be read",
            "A stored event of this record cannot be read or is missing, so the record is "
            "not shown rather than shown wrong. It has been logged.",
        )
    if isinstance(error, DomainError):
        return 400, "Cannot show that", error.message
    if isinstance(error, RequestValidationError):
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) for e in error.errors())
        return 400, "Cannot show that", f"Check the value of: {fields}."
    if isinstance(error, AccessLogUnavailableError):
        return (
            503,
            "Unavailable",
            "The view could not be recorded in the access log, so it is not shown.",
        )
    status = getattr(error, "status", None)
    if isinstance(status, int):  # an error of the app's own (the views not running...)
        return status, "Unavailable" if status == 503 else "Cannot show that", str(error)
    return 500, "Something went wrong", "An unexpected error occurred; it has been logged."


# ---- values in pages and query strings -----------------------------------------------
def when(value: Any) -> str:
    moment = as_datetime(value)
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def when_ms(value: Any) -> str:
    moment = as_datetime(value)
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"


def as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC)


def short(value: Any) -> str:
    """An id as a reader can compare it at a glance."""
    return str(value)[:8]


def shown(value: Any) -> str:
    """A value of a record in a page: plain text, lists joined, nothing as a dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(shown(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {shown(v)}" for k, v in value.items())
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def local_input(value: Any) -> str:
    """A moment as the date-time fields show it: UTC, ISO 8601, to the millisecond."""
    moment = as_datetime(value)
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


# What the date-time fields take: ISO 8601 in UTC, seconds and their fraction optional; a
# `Z` or an offset typed (or pasted from the API) is read as written, never as the browser's.
TYPED_MOMENT = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|z|[+-]\d{2}:\d{2})?"
)


def moment_through(text: str) -> datetime:
    """A typed date and time read as UTC (unless it says otherwise) and through the end of
    what it names: 10:30 is up to 10:30:59.999999, 10:30:05.123 up to 10:30:05.123999, so
    the event shown at a moment is in the record as of that moment."""
    found = TYPED_MOMENT.fullmatch(text.strip())
    try:
        if found is None:
            raise ValueError(text)
        day, clock, offset = found.groups()
        zone = "+00:00" if offset in (None, "Z", "z") else offset
        start = datetime.fromisoformat(f"{day}T{clock}{zone}").astimezone(UTC)
    except ValueError:
        raise PageError(400, "Cannot show that", f"{text!r} is not a date and time") from None
    seconds = clock.split(":")[2] if clock.count(":") == 2 else None
    if seconds is None:
        span = timedelta(minutes=1)
    elif "." not in seconds:
        span = timedelta(seconds=1)
    else:
        span = timedelta(microseconds=10 ** (6 - len(seconds.split(".")[1])))
    return start + span - timedelta(microseconds=1)


def day_start(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    except ValueError:
        raise PageError(400, "Cannot show that", f"{text!r} is not a date") from None


def query(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})
