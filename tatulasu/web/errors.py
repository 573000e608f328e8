"""Errors on the pages are pages: a person reads them, not a client program.

The API answers problem documents; a route of the pages instead catches the same errors
and shows them, as `PAGES` says for each branch of the tree (the nearest class of the
error's MRO deciding, `tatulasu.errors.nearest`), with the API's status
(`tatulasu.api.problems.status_of`): a missing or ended session goes to the sign-in page
(303), a role or scope refusal or a refused form (CSRF) is a 403 page, a signed-in role
without pages gets a 403 page saying so (with the header, to sign out; never a loop back
to sign-in), a bad input a 422 page naming the field and the reason. Anything else is
left to the application's handler, which logs it and answers 500 without internals.

An error page keeps the header of the signed-in reader (his menu, his name, the way to
sign out), and an address under `/web` that no page answers is a 404 page in the
reader's language (`install`); the API's own addresses keep their problem documents.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse

from tatulasu.api.problems import SERVER_SIDE, status_of
from tatulasu.errors import CsrfRefused, Forbidden, NoPages, Unauthenticated, nearest
from tatulasu.web import i18n, session
from tatulasu.web.i18n import N_
from tatulasu.web.session import LOGIN
from tatulasu.web.templating import language, render
from workflow.errors import (
    Conflict,
    InvalidField,
    InvalidInput,
    NotAllowed,
    NotFound,
    RoleNotAllowed,
    TatulasuError,
    Unavailable,
)
from workflow.users import User

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Page = Callable[[Request, TatulasuError], Response]


class PageRoute(APIRoute):
    """A route whose errors are rendered as pages."""

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handle(request)
            except TatulasuError as error:
                return nearest(PAGES, error)(request, error)
            except RequestValidationError as error:
                return invalid_page(request, error)

        return page


def to_sign_in(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(f"{LOGIN}?{urlencode({'next': target})}", status_code=303)


# Translated where shown (error.html); the detail is the engine's own message.
TITLES = {
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Refused"),
    422: N_("The request is not valid"),
    503: N_("The database is unavailable; try again shortly"),
}


def error_page(request: Request, error: TatulasuError, title: str) -> Response:
    """The error's page under `title`, with the API's status; a bad field is named."""
    fields = [(error.field, error.reason)] if isinstance(error, InvalidField) else []
    status = status_of(error)
    response = render(
        request, "error.html", reader(request), status=status,
        title=title, detail=str(error), fields=fields,
    )  # fmt: skip
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def titled(title: str) -> Page:
    """An error page under `title` (an English msgid, translated where shown)."""

    def show(request: Request, error: TatulasuError) -> Response:
        return error_page(request, error, title)

    return show


def _sign_in(request: Request, _error: TatulasuError) -> Response:
    return to_sign_in(request)


def _no_pages(request: Request, error: TatulasuError) -> Response:
    assert isinstance(error, NoPages)
    return render(request, "no_pages.html", error.user, status=403)


# What a page shows for each branch of the error tree.
PAGES: dict[type[TatulasuError], Page] = {
    TatulasuError: titled(N_("Error")),  # a class under none of the branches below: a bug
    **dict.fromkeys(SERVER_SIDE, titled(N_("Error"))),  # 500, never a request's answer
    Unauthenticated: _sign_in,
    InvalidInput: titled(TITLES[422]),
    NotAllowed: titled(TITLES[409]),
    RoleNotAllowed: titled(TITLES[403]),
    Forbidden: titled(TITLES[403]),
    NoPages: _no_pages,
    CsrfRefused: titled(N_("This form was refused")),
    Conflict: titled(TITLES[409]),
    NotFound: titled(TITLES[404]),
    Unavailable: titled(TITLES[503]),
}


def invalid_page(request: Request, error: RequestValidationError) -> Response:
    """A parameter of the wrong type or out of range: each named as the form names it."""
    fields = [
        (".".join(str(p) for p in e.get("loc", ())[1:]) or "request", str(e.get("msg", "")))
        for e in error.errors()
    ]
    detail = "; ".join(f"{field}: {reason}" for field, reason in fields)
    return render(
        request, "error.html", reader(request), status=422,
        title=TITLES[422], detail=detail, fields=fields,
    )  # fmt: skip


def reader(request: Request) -> User | None:
    """The signed-in user whose request failed, if his session was read (`session.py`)."""
    user: User | None = getattr(request.state, "user", None)
    return user


def under_web(path: str) -> bool:
    return path == "/web" or path.startswith("/web/")


def not_found_page(request: Request) -> Response:
    """An address under /web that no page answers, said in the reader's language."""
    token = request.cookies.get(session.COOKIE)
    found = session.current_session(request, request.app.state.tatulasu, token)
    user = found.user if found else None
    _ = i18n.translations(language(request, user)).gettext
    return render(
        request, "error.html", user, status=404,
        title=TITLES[404], detail=_("There is no page at this address."), fields=[],
    )  # fmt: skip


def install(api: FastAPI) -> None:
    """Let a 404 under /web be a page; every other HTTP error keeps the API's handler."""
    fallback = api.exception_handlers[HTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        missing = isinstance(exc, HTTPException) and exc.status_code == 404
        if missing and under_web(request.url.path):
            return not_found_page(request)
        answer = fallback(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    api.add_exception_handler(HTTPException, http_error)
