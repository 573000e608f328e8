"""Every form posted to the pages must come from one of our pages: CSRF tokens.

A signed-in page's forms carry the session's synchronizer token (`web_sessions.csrf`);
the sign-in form (and any other form shown without a session) carries a random token
that also sits in a short-lived, SameSite=Strict cookie (double submit), so another
site can neither post it nor make a browser sign in as someone else. The check runs
for every POST under `/web` (a dependency of the pages' router, so a new form cannot
forget it), before the route does anything; a browser that says the post is
cross-site is refused outright.
A refused post changes nothing and is a 403 page.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from fastapi import Cookie, Depends, Request, Response

from tatulasu.errors import CsrfRefused
from tatulasu.web.session import COOKIE_PATH, LOGIN, Session, is_https

FIELD = "csrf"
LOGIN_COOKIE = "tatulasu_login"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
REFUSED = (
    "This form was not sent from a page of this site, or it has expired. Nothing was "
    "changed. Go back, reload the page and send the form again."
)

LoginCookie = Annotated[str | None, Cookie(alias=LOGIN_COOKIE, max_length=200)]


async def posted_token(request: Request) -> str:
    """The form's token (empty when none): read here, where awaiting the body is allowed."""
    if request.method != "POST":
        return ""
    form = await request.form()
    value = form.get(FIELD)
    return value if isinstance(value, str) else ""


def guard(
    request: Request,
    session: Session,
    posted: Annotated[str, Depends(posted_token)],
    login_cookie: LoginCookie = None,
) -> None:
    """Refuse a POST whose token does not match the session's (or, to sign in, the cookie's)."""
    if request.method != "POST":
        return
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfRefused(REFUSED)
    # The sign-in form (signed in or not) and any form without a session: the pre-session
    # cookie's token; any other form: the session's.
    expected = (
        session.csrf if session is not None and request.url.path != LOGIN else login_cookie or ""
    )
    if not (expected and posted and secrets.compare_digest(expected, posted)):
        raise CsrfRefused(REFUSED)


def login_token(login_cookie: str | None) -> str:
    """The sign-in form's token: the browser's own when it has a well-formed one, else new
    (so two sign-in tabs both work)."""
    if login_cookie and _TOKEN.fullmatch(login_cookie):
        return login_cookie
    return secrets.token_urlsafe(32)


def set_login_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE, token, path=COOKIE_PATH, max_age=3600, httponly=True,
        samesite="strict", secure=is_https(request),
    )  # fmt: skip


def clear_login_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        LOGIN_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=is_https(request)
    )
