"""Notifications that failed for good: who sees them, and an admin's retry.

The dispatcher marks a message `failed` after its last attempt or at a permanent refusal
(`tasks/dispatch.py`), and nothing tries it again by itself: a person has to see it. A
supervisor sees the failures of his region, an admin all of them, through the case scope
(`scopes.case_filter`), so the list never names a case a direct request would refuse. A
party is shown as the others see him elsewhere: his position, his name and his address
masked (`workflow.privacy`), and the sink's error scrubbed of addresses and names, since
relays quote the address they refused. A message waiting for a sink (`tasks/reach.py`)
has not failed and is not listed.

An admin's retry makes failed messages pending and due now, all in one transaction or
none (a message that is not failed is refused, naming it and its status). Attempts are
counted on, not reset: the attempt number fences the dispatcher's settling (a worker
that outlived its lease writes nothing), so it must never repeat. The retry records who
asked, when, and after how many attempts in the row's `retries`; the dispatcher gives
the message a fresh round of attempts from there (`attempts_since_retry`) and, for a
notice to a party, writes `retried_by` and `retried_at` into the receipt of its fate.
The case's history then reads "failed (reason)", later "delivered, after a retry by
root at …": one record for each fate, none for an attempt.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow import scopes
from workflow.audit import canonical_json, format_instant
from workflow.errors import InvalidField, NotFound, NotRetryable
from workflow.privacy import mask_contact, mask_name, scrub_text
from workflow.queries import MAX_PAGE
from workflow.schema import cases, outbox, parties
from workflow.store import utc
from workflow.users import User

READERS = frozenset({"admin", "supervisor"})
RETRIERS = frozenset({"admin"})
FAILED = "failed"
# A failed row is never due again, so its `next_attempt_at` keeps the moment it failed
# (the dispatcher sets it); the list sorts by it, on the index of (status, next_attempt_at).
FAILED_AT = outbox.c.next_attempt_at
# Why a message that is not failed is not retried, by its status.
NOT_FAILED = {
    "pending": "is waiting to be sent already",
    "sending": "is being sent now",
    "sent": "was delivered",
    "void": "is void: the case is closed",
}


@dataclass(frozen=True)
class Retry:
    """One admin's retry: who, when, and how many attempts the message had had."""

    by: str
    at: datetime
    after: int


@dataclass(frozen=True)
class FailedNotice:
    id: int
    case_id: int
    region: str
    event: str
    recipient_kind: str  # party, coordinator, mediator, court, bailiff, supervisor
    position: str | None  # a party's: claimant, respondent, debtor, creditor
    recipient: str  # a party's masked name; an official's id, centre or region
    channel: str  # email, sms; "user" for officials (chosen at send time)
    address: str | None  # masked; officials' are looked up at send time
    attempts: int
    last_error: str
    failed_at: datetime
    retried: Retry | None  # the last retry before this failure


@dataclass(frozen=True)
class Page:
    total: int
    limit: int
    offset: int
    items: list[FailedNotice]


def retries_of(context: str) -> list[Retry]:
    """The retries recorded on an outbox row's context, oldest first."""
    found = json.loads(context).get("retries", [])
    return [Retry(r["by"], datetime.fromisoformat(r["at"]), int(r["after"])) for r in found]


def last_retry(context: str) -> Retry | None:
    """The last retry of an outbox row, if any (most rows have none: not parsed then)."""
    if '"retries"' not in context:
        return None
    done = retries_of(context)
    return done[-1] if done else None


def attempts_since_retry(attempts: int, context: str) -> int:
    """The attempts of the current round: all of them, or those since the last retry."""
    retried = last_retry(context)
    return attempts if retried is None else attempts - retried.after


def listing(
    conn: Connection, user: User, *, case_id: int | None = None, limit: int = 50, offset: int = 0
) -> Page:
    """The failed messages in `user`'s scope (of one case if asked), newest failure first."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidField("limit", f"must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise InvalidField("offset", "must not be negative")
    where = [outbox.c.status == FAILED, scopes.case_filter(user)]
    if case_id is not None:
        where.append(outbox.c.case_id == case_id)
    joined = outbox.join(cases, cases.c.id == outbox.c.case_id)
    total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(*where)).scalar()
    rows = conn.execute(
        sa.select(outbox, cases.c.region)
        .select_from(joined)
        .where(*where)
        .order_by(FAILED_AT.desc(), outbox.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    people = _parties(conn, {r.case_id for r in rows})
    return Page(int(total or 0), limit, offset, [_notice(r, people) for r in rows])


def _parties(conn: Connection, case_ids: Iterable[int]) -> dict[int, Any]:
    """The parties of these cases by id (position, name, case), in one query."""
    wanted = sorted(case_ids)
    if not wanted:
        return {}
    query = sa.select(parties.c.id, parties.c.case_id, parties.c.role, parties.c.name)
    return {p.id: p for p in conn.execute(query.where(parties.c.case_id.in_(wanted)))}


def _notice(row: Any, people: dict[int, Any]) -> FailedNotice:
    kind, _, ident = row.recipient.partition(":")
    names = [p.name for p in people.values() if p.case_id == row.case_id]
    shown, position, address = ident, None, None
    if kind == "party":
        party = people.get(int(ident)) if ident.isdigit() else None
        shown = mask_name(party.name) if party is not None else ""
        position = party.role if party is not None else None
        address = mask_contact(row.address)
    return FailedNotice(
        id=row.id,
        case_id=row.case_id,
        region=row.region,
        event=row.event,
        recipient_kind=kind,
        position=position,
        recipient=shown,
        channel=row.channel,
        address=address,
        attempts=row.attempts,
        last_error=scrub_text(row.last_error or "", names),
        failed_at=utc(row.next_attempt_at),
        retried=last_retry(row.context),
    )


def retry(conn: Connection, ids: Sequence[int], actor: str, now: datetime) -> list[int]:
    """Make these failed messages pending, due now; all of them or, on any error, none.

    The caller has checked that `actor` may (`RETRIERS`; an admin's scope is every case).
    Unknown id: `NotFound`; a message that is not failed: `NotRetryable`, naming why.
    """
    wanted = sorted(set(ids))
    if not wanted:
        raise InvalidField("ids", "name at least one notification")
    if len(wanted) > MAX_PAGE:
        raise InvalidField("ids", f"at most {MAX_PAGE} notifications at once")
    query = sa.select(outbox.c.id, outbox.c.status, outbox.c.attempts, outbox.c.context)
    found = {r.id: r for r in conn.execute(query.where(outbox.c.id.in_(wanted)).with_for_update())}
    for notice_id in wanted:
        row = found.get(notice_id)
        if row is None:
            raise NotFound("notification", notice_id)
        if row.status != FAILED:
            raise NotRetryable(notice_id, row.status, NOT_FAILED.get(row.status, row.status))
    for notice_id in wanted:
        _make_pending(conn, found[notice_id], actor, now)
    return wanted


def retry_case(conn: Connection, case_id: int, actor: str, now: datetime) -> list[int]:
    """Retry every failed message of a case (`NotFound` when it has none)."""
    query = sa.select(outbox.c.id).where(outbox.c.case_id == case_id, outbox.c.status == FAILED)
    ids = list(conn.execute(query).scalars())
    if not ids:
        raise NotFound("failed notification of case", case_id)
    return retry(conn, ids, actor, now)


def _make_pending(conn: Connection, row: Any, actor: str, now: datetime) -> None:
    context = json.loads(row.context)
    entry = {"by": actor, "at": format_instant(now), "after": row.attempts}
    context["retries"] = [*context.get("retries", []), entry]
    done = conn.execute(
        outbox.update()
        .where(outbox.c.id == row.id, outbox.c.status == FAILED, outbox.c.attempts == row.attempts)
        .values(status="pending", next_attempt_at=now, context=canonical_json(context))
    )
    if done.rowcount != 1:  # another retry, between our read and our write
        raise NotRetryable(row.id, "pending", NOT_FAILED["pending"])
