"""Signing in with a user name and password, and out again (by POST only).

Bearer tokens stay the API's (machines); people sign in here. The answer to a wrong
password and to an unknown name is the same page, after the same work (a dummy hash is
verified for a name without a password), so neither the text nor the timing tells which
names exist. Failures are limited per name and per address (`workflow.sign_in_throttle`);
a refused attempt is not checked at all and says when to try again.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from starlette.responses import RedirectResponse

from tatulasu.api.auth import Wired
from tatulasu.web import csrf, session
from tatulasu.web.errors import PageRoute
from tatulasu.web.templating import render
from tatulasu.wiring import App
from workflow import passwords, web_sessions
from workflow import sign_in_throttle as throttle
from workflow.users import User

router = APIRouter(route_class=PageRoute)
Next = Annotated[str | None, Query(max_length=500)]


@router.get("/")
def home() -> Response:
    return RedirectResponse(session.HOME, status_code=303)


@router.get("/login")
def login_form(
    request: Request, next: Next = None, login_cookie: csrf.LoginCookie = None
) -> Response:
    return login_page(request, csrf.login_token(login_cookie), session.safe_next(next))


def login_page(
    request: Request, token: str, next: str, *, status: int = 200, message: str | None = None,
    username: str = "", retry_at: str = "",
) -> Response:  # fmt: skip
    """The sign-in form with its CSRF token, which is set (again) as the cookie to match.

    `message` is `wrong` (name or password) or `throttled` (with `retry_at`)."""
    response = render(
        request, "login.html", None, status=status,
        next=next, message=message, username=username, retry_at=retry_at, csrf=token,
    )  # fmt: skip
    csrf.set_login_cookie(response, request, token)
    return response


@router.post("/login")
def login(
    request: Request,
    app: Wired,
    username: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=passwords.MAX_LENGTH)] = "",
    next: Annotated[str | None, Form(max_length=500)] = None,
    login_cookie: csrf.LoginCookie = None,
    old: session.SessionCookie = None,
) -> Response:
    """A known name and its password: a new session, and on to the page asked for."""
    username = username.strip()
    target = session.safe_next(next)
    token = csrf.login_token(login_cookie)  # the guard has checked it matches the form
    now = app.engine.clock.now()
    address = request.client.host if request.client else "unknown"
    limits = throttle_limits(app)
    with app.store.reading() as conn:
        until = throttle.blocked_until(conn, username, address, now, limits)
    if until is not None:
        return throttled(request, app, token, target, username, now, until)
    user = check_password(app, username, password)
    if user is None:
        with app.store.transaction() as conn:
            throttle.record_failure(conn, username, address, now, limits)
        return login_page(request, token, target, status=401, message="wrong", username=username)
    with app.store.transaction() as conn:
        throttle.forget_account(conn, username)
        web_sessions.end(conn, old or "")  # a new session id at every sign-in
        started = web_sessions.start(
            conn, user.id, now, session.lifetimes(app.settings),
            address=address, user_agent=request.headers.get("user-agent"),
        )  # fmt: skip
    response = RedirectResponse(target, status_code=303)
    session.set_cookie(response, request, started.token)
    csrf.clear_login_cookie(response, request)
    return response


def throttle_limits(app: App) -> throttle.Limits:
    settings = app.settings
    return throttle.Limits(
        window=timedelta(minutes=settings.sign_in_window_minutes),
        per_account=settings.sign_in_failures_per_account,
        per_address=settings.sign_in_failures_per_address,
    )


def check_password(app: App, username: str, password: str) -> User | None:
    """The active user `username` when `password` is his (an old hash is refreshed)."""
    with app.store.reading() as conn:
        found = passwords.credentials(conn, username) if username else None
    checked = passwords.verify(found[1] if found else None, password)
    if found is None or not checked.ok:
        return None
    if checked.rehash is not None:
        with app.store.transaction() as conn:
            passwords.store_rehash(conn, found[0].id, checked.rehash)
    return found[0]


def throttled(
    request: Request, app: App, token: str, target: str, username: str,
    now: datetime, until: datetime,
) -> Response:  # fmt: skip
    """429: the sign-in form again, saying when (local time, to the minute after) to retry."""
    shown = until.astimezone(app.calendar.tz) + timedelta(seconds=59)
    response = login_page(
        request, token, target, status=429, message="throttled", username=username,
        retry_at=f"{shown:%H:%M}",
    )  # fmt: skip
    response.headers["Retry-After"] = str(max(1, math.ceil((until - now).total_seconds())))
    return response


@router.get("/logout")
def logout_form(request: Request, current: session.Session) -> Response:
    """Signing out changes something, so it is a form (POST), never a link."""
    if current is None:
        return RedirectResponse(session.LOGIN, status_code=303)
    return render(request, "logout.html", current.user)


@router.post("/logout")
def logout(request: Request, app: Wired, token: session.SessionCookie = None) -> Response:
    """End the session in the database (its cookie is worthless from now on) and forget it."""
    with app.store.transaction() as conn:
        web_sessions.end(conn, token or "")
    response = RedirectResponse(session.LOGIN, status_code=303)
    session.clear_cookie(response, request)
    return response
