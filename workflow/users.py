"""Users of the HTTP API: who they are, their role and scope, and their bearer tokens.

A token is shown once, when it is issued, and only its sha256 is stored: a copy of the
database lets nobody act as a user. A user's scope is part of the user, not of a
request: a coordinator works for one centre, a supervisor reads one region, a party
reads the cases that list his IIN/BIN. What each scope lets a user see is decided in
`workflow.scopes`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from states.vocabulary import ROLES
from workflow import identifiers, names
from workflow.commands import LANGUAGES
from workflow.contacts import EMAIL, PHONE
from workflow.errors import InvalidField, NotFound
from workflow.regions import REGIONS
from workflow.schema import cases, users, web_sessions

# `system` fires reminders and escalations; no person signs in as it.
USER_ROLES = frozenset(ROLES - {"system"})
TOKEN_PREFIX = "tat_"

# The parts of a scope each role must have: without them "his centre" or "his region"
# would mean nothing, and an empty scope must never read as "everything".
REQUIRED_SCOPE: Mapping[str, tuple[str, ...]] = {
    "coordinator": ("region", "centre"),
    "mediator": ("region", "centre"),
    "bailiff": ("region",),
    "court": ("region",),
    "chamber": ("region",),
    "supervisor": ("region",),
    "party": ("iin_bin",),
    "admin": (),
}


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str
    region: str | None = None
    centre: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str = "kk"
    iin_bin: str | None = None
    active: bool = True


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A bearer token with a recognisable prefix, so a leaked one is easy to spot and revoke."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def check(user: User) -> None:
    """Refuse a user whose role, scope or contacts are wrong, naming the field."""
    _text("id", user.id, 80)
    _text("name", user.name, 200)
    if user.role not in USER_ROLES:
        raise InvalidField("role", f"{user.role!r} is not one of {', '.join(sorted(USER_ROLES))}")
    for part in REQUIRED_SCOPE[user.role]:
        if not getattr(user, part):
            raise InvalidField(part, f"is required for the role {user.role!r}")
    if user.region is not None and user.region not in REGIONS:
        raise InvalidField("region", f"{user.region!r} is not one of {', '.join(REGIONS)}")
    if user.centre is not None:
        _text("centre", user.centre, 80)
    if user.iin_bin is not None:
        identifiers.validate(user.iin_bin, "iin_bin")
    if user.email is not None and not EMAIL.match(user.email):
        raise InvalidField("email", f"{user.email!r} is not an e-mail address")
    if user.phone is not None and not PHONE.match(user.phone):
        raise InvalidField("phone", f"{user.phone!r} must look like +7XXXXXXXXXX")
    if user.language not in LANGUAGES:
        raise InvalidField("language", f"{user.language!r} is not one of kk, ru, en")


def create(conn: Connection, user: User, now: datetime) -> str:
    """Store a new user and return the bearer token (the only time it is seen)."""
    check(user)
    if conn.execute(sa.select(users.c.id).where(users.c.id == user.id)).first() is not None:
        raise InvalidField("id", f"a user {user.id!r} already exists")
    token = new_token()
    conn.execute(users.insert().values(**vars(user), token_hash=hash_token(token), created_at=now))
    return token


def issue_token(conn: Connection, user_id: str) -> str:
    """Replace a user's token: the old one stops working at once."""
    token = new_token()
    done = conn.execute(
        users.update().where(users.c.id == user_id).values(token_hash=hash_token(token))
    )
    if done.rowcount != 1:
        raise NotFound("user", user_id)
    return token


def deactivate(conn: Connection, user_id: str) -> None:
    """Stop a user: his token stops working and his page sessions end."""
    done = conn.execute(
        users.update().where(users.c.id == user_id).values(active=False, token_hash=None)
    )
    if done.rowcount != 1:
        raise NotFound("user", user_id)
    conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))


# Built once: every API request runs it (SQLAlchemy then reuses the compiled form).
_BY_TOKEN = sa.select(users).where(users.c.token_hash == sa.bindparam("token_hash"), users.c.active)


# Who is asking, and the case he asks about, in one statement (the event route's read).
_BY_TOKEN_WITH_CASE = (
    sa.select(*(c.label(f"user_{c.name}") for c in users.c), cases)
    .select_from(users.outerjoin(cases, cases.c.id == sa.bindparam("case_id")))
    .where(users.c.token_hash == sa.bindparam("token_hash"), users.c.active)
)


def by_token_with_case(conn: Connection, token: str, case_id: int) -> tuple[User, Any] | None:
    """The active user holding `token` and the case's row (None when there is no such
    case), read in one statement; None when the token is unknown or deactivated."""
    row = conn.execute(
        _BY_TOKEN_WITH_CASE, {"token_hash": hash_token(token), "case_id": case_id}
    ).first()
    if row is None:
        return None
    return _user(row, prefix="user_"), (row if row.id is not None else None)


def by_token(conn: Connection, token: str) -> User | None:
    """The active user holding this token, or None."""
    row = conn.execute(_BY_TOKEN, {"token_hash": hash_token(token)}).first()
    return None if row is None else _user(row)


def by_id(conn: Connection, user_id: str) -> User | None:
    """The user with this id, active or not, or None."""
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    return None if row is None else _user(row)


def listing(conn: Connection, role: str | None = None) -> list[User]:
    query = sa.select(users).order_by(users.c.role, users.c.id)
    if role is not None:
        query = query.where(users.c.role == role)
    return [_user(r) for r in conn.execute(query)]


_FIELDS = ("id", "name", "role", "region", "centre", "email", "phone", "language", "iin_bin")


def from_row(row: Any, prefix: str = "") -> User:
    """The user in a row of `users` (or of a join, its columns labelled with `prefix`)."""
    return _user(row, prefix)


def _user(row: Any, prefix: str = "") -> User:
    """The user in `row`, whose user columns may carry a prefix (a join with cases)."""
    found = {name: getattr(row, prefix + name) for name in _FIELDS}
    return User(**found, active=bool(getattr(row, prefix + "active")))


def _text(field: str, value: str, limit: int) -> None:
    if not value or not value.strip():
        raise InvalidField(field, "is required")
    if len(value) > limit:
        raise InvalidField(field, f"is longer than {limit} characters")
    names.check(field, value)
