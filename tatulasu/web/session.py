"""Who is reading a page: the person whose server-side session the cookie names.

The cookie holds only a random token; the session (`workflow.web_sessions`) is looked up
on every request, so sign-out, deactivation or a new password end it at once in every
process. The cookie is HttpOnly (no script reads it), SameSite=Lax (another site's page
never sends it with a form post; a link from an e-mail still opens the page signed in),
limited to `/web`, and Secure when the request came over HTTPS (behind a proxy, as
`TATULASU_FORWARDED_ALLOW_IPS` lets the server believe). Forms are protected by the
session's CSRF token (`csrf.py`), not by the cookie's attributes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Cookie, Depends, Request, Response

from tatulasu.api.auth import Wired
from tatulasu.errors import NoPages, SignInRequired
from tatulasu.settings import Settings
from workflow import web_sessions
from workflow.users import User
from workflow.web_sessions import Lifetimes, WebSession

COOKIE = "tatulasu_session"
COOKIE_PATH = "/web"
HOME = "/web/cases"
LOGIN = "/web/login"
# Every official: supervisors oversee, coordinators run a centre, mediators and courts
# take their steps (`work_pages`, `event_pages`), the Chamber reads, a bailiff has his
# referrals (`bailiff_pages`, `referral_pages`), admins run the deployment. Parties work
# through the API (or a front-end of their own).
PAGE_ROLES = ("supervisor", "coordinator", "admin", "bailiff", "mediator", "court", "chamber")

SessionCookie = Annotated[str | None, Cookie(alias=COOKIE, max_length=200)]


def lifetimes(settings: Settings) -> Lifetimes:
    return Lifetimes(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
    )


def current_session(request: Request, app: Wired, token: SessionCookie = None) -> WebSession | None:
    """The live session the cookie names, or None; an ended one is deleted on the way.

    Its CSRF token is left on `request.state` for the forms of the page being rendered.
    """
    if not token:
        return None
    now = app.engine.clock.now()
    with app.store.reading() as conn:
        found = web_sessions.find(conn, token)
    if found is None:
        return None
    if found.ended(now, lifetimes(app.settings)):
        with app.store.transaction() as conn:
            web_sessions.end(conn, token)
        return None
    if found.stale(now):
        with app.store.transaction() as conn:
            web_sessions.touch(conn, found.key, now)
    request.state.csrf = found.csrf
    request.state.user = found.user  # an error page keeps the signed-in header (errors.py)
    return found


Session = Annotated[WebSession | None, Depends(current_session)]


def signed_in(session: Session) -> User:
    """The signed-in user, whatever his role (else a redirect to sign in)."""
    if session is None:
        raise SignInRequired("sign in with your user name and password")
    return session.user


def viewer(user: Annotated[User, Depends(signed_in)]) -> User:
    """The signed-in user, allowed on the pages (else a page saying his role has none)."""
    if user.role not in PAGE_ROLES:
        raise NoPages(user, PAGE_ROLES)
    return user


Viewer = Annotated[User, Depends(viewer)]


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, token: str) -> None:
    """The session cookie; it lives as long as the browser, the session at most its end."""
    response.set_cookie(
        COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="lax", secure=is_https(request)
    )


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax", secure=is_https(request)
    )


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of ours, never another site."""
    if (
        target
        and target.startswith("/web/")
        and not target.startswith("/web/login")
        and "\\" not in target
    ):
        return target
    return HOME
