"""Who is asking: the bearer token's user, and the checks every route shares.

A request carries `Authorization: Bearer <token>`; the token's sha256 is looked up on
each request (no cache), so a deactivated user or a replaced token stops working at
once. The user's role and scope come from his record, never from the request: the actor
of every event is the authenticated user.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection

from tatulasu.errors import Forbidden, Unauthenticated
from tatulasu.wiring import App
from workflow import scopes, users
from workflow.errors import NotFound
from workflow.users import User

UNKNOWN_TOKEN = "the bearer token is unknown, replaced or deactivated"
_bearer = HTTPBearer(auto_error=False, description="A token from `tatulasu users create`.")


def app_of(request: Request) -> App:
    """The application's store and engine, set by `create_app`."""
    app: App = request.app.state.tatulasu
    return app


async def wired(request: Request) -> App:
    return app_of(request)


Wired = Annotated[App, Depends(wired)]


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The request's bearer token, not yet checked (no database work on the event loop)."""
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("send `Authorization: Bearer <token>`")
    return credentials.credentials


Token = Annotated[str, Depends(bearer_token)]


def authenticate(conn: Connection, token: str) -> User:
    """The active user holding `token`, read in the caller's transaction."""
    user = users.by_token(conn, token)
    if user is None:
        raise Unauthenticated(UNKNOWN_TOKEN)
    return user


def current_user(app: Wired, token: Token) -> User:
    with app.store.reading() as conn:
        return authenticate(conn, token)


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise Forbidden(f"the role {user.role!r} may not do this; allowed: {', '.join(roles)}")


def require_case(conn: Connection, user: User, case_id: int) -> None:
    """404 for a case that does not exist, 403 for one outside the user's scope."""
    allowed = scopes.may_read(conn, user, case_id)
    if allowed is None:
        raise NotFound("case", case_id)
    if not allowed:
        raise Forbidden(f"case {case_id} is outside the scope of {user.role} {user.id!r}")


def require_writer(user: User) -> None:
    if user.role in scopes.READ_ONLY:
        raise Forbidden(f"the role {user.role!r} is read-only")
