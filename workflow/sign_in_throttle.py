"""Limits on failed sign-ins: per account name typed and per client address.

A name with `per_account` failures within `window` is refused until the oldest of
those leaves the window, and likewise an address with `per_address` failures, so
guessing one person's password, or many people's from one machine, stays slow. The
count is kept per name typed, whether or not such a user exists, so a refusal tells
nothing about which names are real. The failures are rows in the database: every
process of a deployment counts the same ones. Two attempts racing past the last free
slot may both be checked; the limit can be passed by the number of processes at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.schema import sign_in_failures as failures
from workflow.store import utc


@dataclass(frozen=True)
class Limits:
    window: timedelta
    per_account: int
    per_address: int


def account_key(name: str) -> str:
    """The name as counted: case and surrounding blanks do not make a new account."""
    return name.strip().casefold()[:80]


def blocked_until(
    conn: Connection, account: str, address: str, now: datetime, limits: Limits
) -> datetime | None:
    """When sign-in may be tried again for this name from this address (None: now)."""
    ends = [
        _freed_at(conn, failures.c.account, account_key(account), now, limits, limits.per_account),
        _freed_at(conn, failures.c.address, address[:45], now, limits, limits.per_address),
    ]
    found = [e for e in ends if e is not None]
    return max(found) if found else None


def _freed_at(
    conn: Connection,
    column: sa.Column[str],
    value: str,
    now: datetime,
    limits: Limits,
    limit: int,
) -> datetime | None:
    """The moment the `limit`-th newest failure of `value` leaves the window, if in it."""
    query = (
        sa.select(failures.c.at)
        .where(column == value, failures.c.at > utc(now - limits.window))
        .order_by(failures.c.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    at = conn.execute(query).scalar()
    return None if at is None else utc(at) + limits.window


def record_failure(
    conn: Connection, account: str, address: str, now: datetime, limits: Limits
) -> None:
    """Count a failure, and forget those that have left the window."""
    conn.execute(failures.delete().where(failures.c.at <= utc(now - limits.window)))
    conn.execute(
        failures.insert().values(at=now, account=account_key(account), address=address[:45])
    )


def forget_account(conn: Connection, account: str) -> None:
    """A successful sign-in (or a new password) clears the name's failures."""
    conn.execute(failures.delete().where(failures.c.account == account_key(account)))
