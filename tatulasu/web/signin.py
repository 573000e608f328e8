"""Signing in with a bearer token (from `tatulasu users create`) and out again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from starlette.responses import RedirectResponse

from tatulasu.api.auth import Wired, require_role
from tatulasu.web import session
from tatulasu.web.errors import PageRoute
from tatulasu.web.templating import render

router = APIRouter(route_class=PageRoute)
Next = Annotated[str | None, Query(max_length=500)]


@router.get("/")
def home() -> Response:
    return RedirectResponse(session.HOME, status_code=303)


@router.get("/login")
def login_form(request: Request, next: Next = None) -> Response:
    return render(request, "login.html", None, next=session.safe_next(next), message=None)


@router.post("/login")
def login(
    request: Request,
    app: Wired,
    token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    """A known token of a page role: the session cookie, and on to the page asked for."""
    token = token.strip()
    user = session.holder(app, token)
    if user is None:
        message = "This token is unknown, replaced or deactivated. Check it and try again."
        return render(
            request, "login.html", None, status=401,
            next=session.safe_next(next), message=message,
        )  # fmt: skip
    require_role(user, *session.PAGE_ROLES)
    response = RedirectResponse(session.safe_next(next), status_code=303)
    session.sign_in(response, request, token)
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    response = RedirectResponse(session.LOGIN, status_code=303)
    session.sign_out(response)
    return response
