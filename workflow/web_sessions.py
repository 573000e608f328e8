"""Sessions of people signed in to the pages, kept in the database.

The browser holds a random token; the row is keyed by its sha256, so a copy of the
database signs nobody in. A session ends when it has been idle for `idle`, at
`absolute` after it began whatever the activity, at sign-out, or when its user is
deactivated or his password is set (those delete the rows). Every process of a
deployment reads the same rows, so ending a session ends it everywhere at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.schema import users, web_sessions
from workflow.store import utc
from workflow.users import User, from_row

# `last_seen_at` is written at most this often: a page view is not a write each time,
# and the idle end is still exact to within this much.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Lifetimes:
    """How long a session may stay idle, and how long it may last at all."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class Started:
    """A new session: the token for the cookie (shown once) and its CSRF token."""

    token: str
    csrf: str


@dataclass(frozen=True)
class WebSession:
    """A live session as read on a request."""

    key: str  # sha256 of the cookie's token
    user: User
    csrf: str
    last_seen_at: datetime
    expires_at: datetime

    def ended(self, now: datetime, lives: Lifetimes) -> bool:
        return now >= self.expires_at or now >= self.last_seen_at + lives.idle

    def stale(self, now: datetime) -> bool:
        """Whether `last_seen_at` is old enough to be written again."""
        return now >= self.last_seen_at + TOUCH_EVERY


def key_of(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(
    conn: Connection,
    user_id: str,
    now: datetime,
    lives: Lifetimes,
    *,
    address: str | None = None,
    user_agent: str | None = None,
) -> Started:
    """Begin a session with a fresh token (never one the browser offered: no fixation)."""
    started = Started(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
    conn.execute(
        web_sessions.insert().values(
            id=key_of(started.token), user_id=user_id, created_at=now, last_seen_at=now,
            expires_at=now + lives.absolute, csrf=started.csrf,
            address=(address or None) and address[:45],
            user_agent=(user_agent or None) and user_agent[:200],
        )
    )  # fmt: skip
    purge(conn, now, lives)
    return started


_BY_KEY = (
    sa.select(web_sessions, *(c.label(f"person_{c.name}") for c in users.c))
    .select_from(web_sessions.join(users, users.c.id == web_sessions.c.user_id))
    .where(web_sessions.c.id == sa.bindparam("key"), users.c.active)
)


def find(conn: Connection, token: str) -> WebSession | None:
    """The session of `token` whose user is active, ended or not (the caller decides)."""
    if not token:
        return None
    row = conn.execute(_BY_KEY, {"key": key_of(token)}).first()
    if row is None:
        return None
    return WebSession(
        key=row.id, user=from_row(row, prefix="person_"), csrf=row.csrf,
        last_seen_at=utc(row.last_seen_at), expires_at=utc(row.expires_at),
    )  # fmt: skip


def touch(conn: Connection, key: str, now: datetime) -> None:
    conn.execute(web_sessions.update().where(web_sessions.c.id == key).values(last_seen_at=now))


def end(conn: Connection, token: str) -> None:
    """End the session of `token` (nothing happens for an unknown one)."""
    if token:
        conn.execute(web_sessions.delete().where(web_sessions.c.id == key_of(token)))


def end_all(conn: Connection, user_id: str) -> None:
    conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))


def purge(conn: Connection, now: datetime, lives: Lifetimes) -> None:
    """Delete the sessions that have ended, so the table holds live ones only."""
    conn.execute(
        web_sessions.delete().where(
            sa.or_(
                web_sessions.c.expires_at <= utc(now),
                web_sessions.c.last_seen_at <= utc(now - lives.idle),
            )
        )
    )
