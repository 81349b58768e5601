"""Signing in (a token exchanged once for a session), signing out, the start page, and the
page of an address the console does not have."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import HTMLResponse, RedirectResponse, Response

from caserecord.console.web import (
    PREFIX,
    PURPOSE_CHOICES,
    PURPOSES,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    ConsoleDep,
    ConsoleRoute,
    PageError,
    ViewerDep,
    check_csrf,
    console_address,
    form_of,
    get_viewer,
    new_csrf_token,
    secure,
    set_cookie,
    to_sign_in,
)
from caserecord.domain.values import Role

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


@router.get("")
def start(viewer: ViewerDep) -> Response:
    target = "clients" if viewer.reads_records else "about"
    return RedirectResponse(f"{PREFIX}/{target}", status_code=303)


@router.get("/about")
def about(request: Request, console: ConsoleDep, viewer: ViewerDep) -> HTMLResponse:
    return console.render(request, "about.html", viewer)


def sign_in_form(
    request: Request,
    console: ConsoleDep,
    status: int = 200,
    problem: str = "",
    purpose: str = "",
    notice: str = "",
    after: str = "",
) -> HTMLResponse:
    """The form, with a CSRF token of its own (there is no session yet) kept in a cookie;
    ``purpose``: the one chosen before a refusal, kept (the token is not: it is a secret)."""
    token = new_csrf_token()
    response = console.render(
        request,
        "sign_in.html",
        None,
        status,
        csrf_token=token,
        problem=problem,
        notice=notice,
        purposes=PURPOSE_CHOICES,
        chosen=purpose,
        after=console_address(after) if after else "",
    )
    set_cookie(response, request, console, SIGN_IN_COOKIE, token)
    return response


@router.get("/sign-in")
def sign_in_page(
    request: Request,
    console: ConsoleDep,
    ended: bool = False,
    after: Annotated[str, Query(alias="next", max_length=2000)] = "",
) -> HTMLResponse:
    settings = console.backend.settings
    notice = (
        f"Your session has ended: {settings.console_idle_minutes:g} minutes without a page "
        f"view or {settings.console_session_hours:g} hours since signing in went by, or your "
        "token was revoked. Sign in again to go on."
        if ended
        else ""
    )
    return sign_in_form(request, console, notice=notice, after=after)


@router.post("/sign-in")
async def sign_in(request: Request, console: ConsoleDep) -> Response:
    form = await form_of(request)
    check_csrf(request, form, request.cookies.get(SIGN_IN_COOKIE, ""))
    secret = form.get("token", "").strip()
    tokens = console.backend.tokens
    purpose, after = form.get("purpose", ""), form.get("next", "")
    token = await run_in_threadpool(tokens.authenticate, secret) if secret else None
    if token is None:
        message = "That token is unknown or revoked."
        return sign_in_form(request, console, 401, message, purpose, after=after)
    if token.role == Role.PROVIDER:  # an outside organisation: its inbox is the API's
        message = "A provider token answers its referral inbox over the API, not here."
        return sign_in_form(request, console, 403, message, purpose, after=after)
    if purpose not in PURPOSE_CHOICES:
        purpose = PURPOSES[Role(token.role)]
    session_id = await run_in_threadpool(console.sessions.begin, token, purpose)
    target = console_address(after) if after else PREFIX
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, request, console, SESSION_COOKIE, session_id)
    response.delete_cookie(
        SIGN_IN_COOKIE,
        path=PREFIX,
        secure=secure(request, console),
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/sign-out")
async def sign_out(request: Request, console: ConsoleDep, viewer: ViewerDep) -> Response:
    form = await form_of(request)
    check_csrf(request, form, viewer.csrf_token)
    session_id = request.cookies.get(SESSION_COOKIE, "")
    await run_in_threadpool(console.sessions.end, session_id)
    return to_sign_in(request, console)


class PagePath(Convertor[str]):
    """A path under the console not ending in a slash: one that does is left to the app,
    which redirects it to the address without the slash."""

    regex = ".*[^/]"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("console_page", PagePath())

# Included after every other page: an address under the console that none of them has (a
# mistyped or stale link) gets a page with the console's navigation, not the API's JSON.
fallback = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


# Signed in first: a viewer's page has the console's navigation to go on from.
@fallback.get("/{rest:console_page}", dependencies=[Depends(get_viewer)])
def not_a_page() -> Response:
    raise PageError(404, "Not found", "The console has no page at this address.")
