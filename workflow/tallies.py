"""Running counts on the case row, kept in the same transaction as the event they count.

The supervisor report needs, per case, how many consultations, sessions, reminders and
escalations it had, how many of its terms ran out, and when it first reached an
agreement. Counting those in the history at report time means reading every event ever
stored; keeping them on the case row costs nothing extra on the write path (the event
already updates that row, with a version check, so `row.n + 1` cannot lose a count), and
turns the report into one scan of the cases in scope.

The history stays the source of truth: `recount` computes the same figures from it, the
migration that added the columns filled them with it, and the tests compare the two.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import states
from states import Lifecycle
from states.vocabulary import EVENT_KINDS
from workflow.schema import audit_events, cases
from workflow.store import utc

SYSTEM = "system"
# The counting columns of a case (besides agreed_at and agreement_days); which event
# each counts is the lifecycle's to say, by the event's kind (`Lifecycle.tally_columns`).
COUNTS = (*(column for column in EVENT_KINDS.values() if column), "terms_missed")


def tally(
    lc: Lifecycle, row: Any, event: str, actor: str, role: str, now: datetime
) -> dict[str, Any]:
    """The case columns that change when `event` of `lc` is applied to the case `row`.

    A term that runs out counts once as missed: when the system fires the move its
    expiry asks for, or at its first escalation (a term may escalate twice, first to the
    coordinator, then to the supervisor; both concern the same running term and due date,
    which `escalated_due_at` remembers).
    """
    values: dict[str, Any] = {}
    column = lc.tally_columns.get(event)
    if column is not None:
        values[column] = getattr(row, column) + 1
    if event in lc.events_of_kind("agreement_signed") and row.agreed_at is None:
        values["agreed_at"] = now
        values["agreement_days"] = days_between(row.opened_at, now)
    if actor == SYSTEM and role == SYSTEM:
        if event in lc.expiry_moves:
            values["terms_missed"] = row.terms_missed + 1
        elif event in lc.events_of_kind("escalation") and row.term_due_at != row.escalated_due_at:
            values["terms_missed"] = row.terms_missed + 1
            values["escalated_due_at"] = row.term_due_at
    return values


def days_between(start: datetime, end: datetime) -> float:
    """Days (with their fraction) from `start` to `end`, read back from either store."""
    return (utc(end) - utc(start)).total_seconds() / 86400


def recount(conn: Connection, case_id: int) -> dict[str, Any]:
    """The same figures as the maintained columns, computed from the case's history."""
    version = conn.execute(
        sa.select(cases.c.definition_version).where(cases.c.id == case_id)
    ).scalar_one()
    lc = states.get(version)
    history = conn.execute(
        sa.select(
            audit_events.c.event, audit_events.c.actor, audit_events.c.role,
            audit_events.c.at, audit_events.c.payload,
        )
        .where(audit_events.c.case_id == case_id)
        .order_by(audit_events.c.seq)
    ).all()  # fmt: skip
    figures: dict[str, Any] = {**dict.fromkeys(COUNTS, 0), "agreed_at": None}
    escalated: set[str] = set()
    for event, actor, role, at, payload in history:
        column = lc.tally_columns.get(event)
        if column is not None:
            figures[column] += 1
        if event in lc.events_of_kind("agreement_signed") and figures["agreed_at"] is None:
            figures["agreed_at"] = at
        if actor == SYSTEM and role == SYSTEM:
            if event in lc.expiry_moves:
                figures["terms_missed"] += 1
            elif event in lc.events_of_kind("escalation") and payload not in escalated:
                escalated.add(payload)
                figures["terms_missed"] += 1
    return figures
