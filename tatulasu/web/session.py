"""Who is reading a page: the holder of the bearer token kept in the session cookie.

The cookie holds the token itself, looked up on every request exactly as the API's
`Authorization: Bearer` header is (`workflow.users.by_token`, no cache), so deactivating
a user or replacing his token signs him out of the pages at once. It is HttpOnly (no
script reads it) and SameSite=Strict (no other site's page sends it), which, with pages
that change nothing, leaves no cross-site request worth forging.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Cookie, Depends, Request, Response

from tatulasu.api.auth import Wired, require_role
from tatulasu.api.problems import Unauthenticated
from tatulasu.wiring import App
from workflow import users
from workflow.users import User

COOKIE = "tatulasu_session"
COOKIE_PATH = "/web"
HOME = "/web/cases"
LOGIN = "/web/login"
# Supervisors oversee, coordinators run a centre, admins run the deployment: the pages
# are theirs. The other roles work through the API (or a front-end of their own).
PAGE_ROLES = ("supervisor", "coordinator", "admin")


class SignInRequired(Unauthenticated):
    """The page needs a signed-in user."""


def holder(app: App, token: str) -> User | None:
    """The active user holding `token`, or None."""
    if not token:
        return None
    with app.store.reading() as conn:
        return users.by_token(conn, token)


def viewer(
    app: Wired, token: Annotated[str | None, Cookie(alias=COOKIE, max_length=200)] = None
) -> User:
    """The signed-in user, allowed on the pages (else a redirect to sign in, or 403)."""
    user = holder(app, token or "")
    if user is None:
        raise SignInRequired("sign in with your token")
    require_role(user, *PAGE_ROLES)
    return user


Viewer = Annotated[User, Depends(viewer)]


def sign_in(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of ours, never another site."""
    if target and target.startswith("/web/") and not target.startswith("/web/login"):
        return target
    return HOME
