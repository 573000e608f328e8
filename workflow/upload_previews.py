"""A bailiff's referral file between "check it" and "open it": kept in the database.

The pages check an uploaded file without opening anything and show what they found;
the bailiff then confirms, or not. The file must wait somewhere every process of the
deployment can read, and must not be sent twice by the browser, so it waits here: the
preview page's address holds a random token (`secrets.token_urlsafe`), the row its
sha256, the user it belongs to and its end (`LIFETIME`). Another user's token, or a
copy of the database, confirms nothing. Confirming `take`s the row (deleting it) in the
transaction that queues the import job, so a file is queued at most once. Ended rows
are deleted whenever a new one is kept.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.schema import upload_previews
from workflow.store import utc

LIFETIME = timedelta(minutes=30)


@dataclass(frozen=True)
class Preview:
    """A kept file, what its check found (`summary`), and when it stops being confirmable."""

    user_id: str
    filename: str
    partial: bool
    data: bytes
    summary: dict[str, Any]
    created_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def key_of(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def keep(
    conn: Connection,
    user_id: str,
    data: bytes,
    summary: dict[str, Any],
    *,
    filename: str,
    partial: bool,
    now: datetime,
) -> str:
    """Store a checked file for `user_id`; the token for the preview's address (shown once)."""
    conn.execute(upload_previews.delete().where(upload_previews.c.expires_at <= now))
    token = secrets.token_urlsafe(32)
    conn.execute(
        upload_previews.insert().values(
            id=key_of(token), user_id=user_id, created_at=now, expires_at=now + LIFETIME,
            filename=filename[:200], partial=partial, data=data, summary=json.dumps(summary),
        )
    )  # fmt: skip
    return token


def find(conn: Connection, token: str, user_id: str) -> Preview | None:
    """The preview `token` names, if it is `user_id`'s (ended or not: the caller says which)."""
    row = conn.execute(
        sa.select(upload_previews).where(
            upload_previews.c.id == key_of(token), upload_previews.c.user_id == user_id
        )
    ).first()
    if row is None:
        return None
    return Preview(
        user_id=row.user_id,
        filename=row.filename,
        partial=bool(row.partial),
        data=bytes(row.data),
        summary=json.loads(row.summary),
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at),
    )


def take(conn: Connection, token: str, user_id: str) -> Preview | None:
    """`find`, and delete the row in the same transaction (a confirmation happens once)."""
    found = find(conn, token, user_id)
    if found is not None:
        deleted = conn.execute(
            upload_previews.delete().where(
                upload_previews.c.id == key_of(token), upload_previews.c.user_id == user_id
            )
        )
        if deleted.rowcount != 1:  # another request took it first
            return None
    return found


def drop(conn: Connection, token: str, user_id: str) -> None:
    """Forget a preview the bailiff cancelled."""
    conn.execute(
        upload_previews.delete().where(
            upload_previews.c.id == key_of(token), upload_previews.c.user_id == user_id
        )
    )
