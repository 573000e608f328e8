"""People's passwords for the pages: Argon2id hashes, checked in constant-looking time.

Only the hash is stored (argon2-cffi's PHC string, which names its own parameters), so a
copy of the database gives nobody a password. A hash made with older parameters is
replaced at the next successful sign-in. Checking a name that has no password still
spends one verification, against a dummy hash, so the answer's timing does not tell
which names exist. Setting a password ends the user's sessions: whoever knew the old one
is out.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass

import argon2
import sqlalchemy as sa
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from workflow.errors import InvalidField, NotFound
from workflow.schema import users, web_sessions
from workflow.users import User, from_row

MIN_LENGTH = 12
MAX_LENGTH = 1024
# RFC 9106's second recommended option (t=3, 64 MiB, p=4), argon2-cffi's default.
_HASHER = argon2.PasswordHasher()


@dataclass(frozen=True)
class Checked:
    """The outcome of checking a password: whether it matched, and a fresher hash to store."""

    ok: bool
    rehash: str | None = None


def check_strength(password: str) -> None:
    """Refuse a password too short to resist guessing (or absurdly long), naming the field."""
    if len(password) < MIN_LENGTH:
        raise InvalidField("password", f"must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise InvalidField("password", f"must be at most {MAX_LENGTH} characters long")


def hash_password(password: str) -> str:
    check_strength(password)
    return _HASHER.hash(password)


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash("no such user: this hash only spends the same time")


def verify(stored: str | None, password: str) -> Checked:
    """Whether `password` matches `stored` (None: no password; a dummy check is spent)."""
    if stored is None or len(password) > MAX_LENGTH:
        _spend(password[:MAX_LENGTH])
        return Checked(False)
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return Checked(False)
    return Checked(True, _HASHER.hash(password) if _HASHER.check_needs_rehash(stored) else None)


def _spend(password: str) -> None:
    with contextlib.suppress(VerificationError):
        _HASHER.verify(_dummy_hash(), password)


def credentials(conn: Connection, user_id: str) -> tuple[User, str | None] | None:
    """The active user `user_id` and his password hash (None: no password), or None."""
    row = conn.execute(sa.select(users).where(users.c.id == user_id, users.c.active)).first()
    return None if row is None else (from_row(row), row.password_hash)


def with_password(conn: Connection) -> set[str]:
    """The ids of the users who have a password (and so may sign in to the pages)."""
    return set(conn.scalars(sa.select(users.c.id).where(users.c.password_hash.is_not(None))))


def set_password(conn: Connection, user_id: str, password: str) -> None:
    """Give a user a new password and end every session he has."""
    done = conn.execute(
        users.update().where(users.c.id == user_id).values(password_hash=hash_password(password))
    )
    if done.rowcount != 1:
        raise NotFound("user", user_id)
    conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))


def store_rehash(conn: Connection, user_id: str, rehash: str) -> None:
    """Replace a hash made with older parameters (the password itself is unchanged)."""
    conn.execute(sa.update(users).where(users.c.id == user_id).values(password_hash=rehash))
