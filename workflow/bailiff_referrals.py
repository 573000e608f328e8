"""A bailiff's own referrals and what became of them, for his pages and his download.

His referrals are the cases he referred (origin `bailiff`) that are still his (the
bailiff scope of `workflow.scopes`). Those returned to him (`returned_to_bailiff`:
enforcement resumes) come first, being the ones he must act on; then the newest. The
outcome of a closed case is the reason its closing event gave (a reason code of the
lifecycle, titled where it is shown), read from the history in one query per page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import states
from workflow import scopes
from workflow.schema import audit_events, cases
from workflow.store import utc
from workflow.summary import terminal_states
from workflow.users import User

# The state in which a case comes back to the bailiff (kind "returned_to_bailiff").
RETURNED = states.states_of_kind("returned")
Status = Literal["all", "open", "closed"]
STATUSES: tuple[Status, ...] = ("all", "open", "closed")
_EXPORT_BATCH = 1000


@dataclass(frozen=True)
class Referral:
    """One of the bailiff's referrals as his enforcement system needs it."""

    case_id: int
    enforcement_proceeding: str | None
    state: str
    opened_at: datetime
    closed_at: datetime | None
    agreed_at: datetime | None
    outcome: str | None  # the closing event's reason code, if it gave one

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def returned(self) -> bool:
        """It came back to the bailiff: reconciliation failed, enforcement resumes."""
        return self.state in RETURNED


@dataclass(frozen=True)
class Listing:
    total: int
    items: list[Referral]


def condition(user: User, status: Status = "all") -> sa.ColumnElement[bool]:
    """His referrals (origin bailiff, in his scope), open or closed as asked."""
    mine = sa.and_(scopes.case_filter(user), cases.c.origin == "bailiff")
    if status == "open":
        return sa.and_(mine, cases.c.closed_at.is_(None))
    if status == "closed":
        return sa.and_(mine, cases.c.closed_at.is_not(None))
    return mine


def _query(where: sa.ColumnElement[bool]) -> sa.Select[tuple[object, ...]]:
    returned_first = sa.case((cases.c.state.in_(RETURNED), 0), else_=1)
    return (
        sa.select(
            cases.c.id,
            cases.c.enforcement_proceeding,
            cases.c.state,
            cases.c.opened_at,
            cases.c.closed_at,
            cases.c.agreed_at,
        )
        .where(where)
        .order_by(returned_first, cases.c.id.desc())
    )


def listing(
    conn: Connection, user: User, status: Status = "all", *, limit: int, offset: int
) -> Listing:
    """One page of his referrals, returned ones first, and how many there are in all."""
    where = condition(user, status)
    total = conn.execute(sa.select(sa.func.count()).select_from(cases).where(where)).scalar_one()
    rows = list(conn.execute(_query(where).limit(limit).offset(offset)))
    return Listing(int(total), _referrals(conn, rows))


def every(conn: Connection, user: User, status: Status = "all") -> Iterator[Referral]:
    """All his referrals in the listing's order, a batch at a time (the download)."""
    where = condition(user, status)
    offset = 0
    while True:
        rows = list(conn.execute(_query(where).limit(_EXPORT_BATCH).offset(offset)))
        yield from _referrals(conn, rows)
        if len(rows) < _EXPORT_BATCH:
            return
        offset += _EXPORT_BATCH


def _referrals(conn: Connection, rows: list[sa.Row[tuple[object, ...]]]) -> list[Referral]:
    outcomes = closing_reasons(conn, [int(r.id) for r in rows if r.closed_at is not None])
    return [
        Referral(
            case_id=int(r.id),
            enforcement_proceeding=r.enforcement_proceeding,
            state=r.state,
            opened_at=utc(r.opened_at),
            closed_at=utc(r.closed_at) if r.closed_at is not None else None,
            agreed_at=utc(r.agreed_at) if r.agreed_at is not None else None,
            outcome=outcomes.get(int(r.id)),
        )
        for r in rows
    ]


def closing_reasons(conn: Connection, case_ids: list[int]) -> dict[int, str]:
    """The reason code of the event that closed each case (those that gave one)."""
    if not case_ids:
        return {}
    terminal = sorted(terminal_states())
    query = sa.select(audit_events.c.case_id, audit_events.c.payload).where(
        audit_events.c.case_id.in_(case_ids),
        audit_events.c.to_state.in_(terminal),
        audit_events.c.from_state.not_in(terminal),
    )
    reasons: dict[int, str] = {}
    for case_id, payload in conn.execute(query):
        try:
            reason = json.loads(payload).get("reason")
        except (ValueError, AttributeError):
            continue
        if isinstance(reason, str) and reason:
            reasons[int(case_id)] = reason
    return reasons
