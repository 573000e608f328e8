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

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import states
from workflow.schema import audit_events
from workflow.store import utc

SYSTEM = "system"
AGREEMENT_EVENT = "reach_agreement"
ESCALATION_EVENT = "escalate"

# event -> the case column that counts it
COUNTED: Mapping[str, str] = {
    "record_consultation": "consultations",
    "record_session": "sessions",
    "remind": "reminders",
    ESCALATION_EVENT: "escalations",
}
# The counting columns of a case (besides agreed_at and agreement_days).
COUNTS = (*COUNTED.values(), "terms_missed")


@functools.cache
def expiry_moves() -> frozenset[str]:
    """Events a term's expiry fires that move the case (fail, no_consent in version 1)."""
    return frozenset(
        step.event
        for version in states.versions()
        for spec in states.get(version).states.values()
        if spec.term is not None
        for step in spec.term.on_expiry
        if step.event != ESCALATION_EVENT
    )


def tally(row: Any, event: str, actor: str, role: str, now: datetime) -> dict[str, Any]:
    """The case columns that change when `event` is applied to the case `row`.

    A term that runs out counts once as missed: when the system fires the move its
    expiry asks for, or at its first escalation (a term may escalate twice, first to the
    coordinator, then to the supervisor; both concern the same running term and due date,
    which `escalated_due_at` remembers).
    """
    values: dict[str, Any] = {}
    column = COUNTED.get(event)
    if column is not None:
        values[column] = getattr(row, column) + 1
    if event == AGREEMENT_EVENT and row.agreed_at is None:
        values["agreed_at"] = now
        values["agreement_days"] = days_between(row.opened_at, now)
    if actor == SYSTEM and role == SYSTEM:
        if event in expiry_moves():
            values["terms_missed"] = row.terms_missed + 1
        elif event == ESCALATION_EVENT and row.term_due_at != row.escalated_due_at:
            values["terms_missed"] = row.terms_missed + 1
            values["escalated_due_at"] = row.term_due_at
    return values


def days_between(start: datetime, end: datetime) -> float:
    """Days (with their fraction) from `start` to `end`, read back from either store."""
    return (utc(end) - utc(start)).total_seconds() / 86400


def recount(conn: Connection, case_id: int) -> dict[str, Any]:
    """The same figures as the maintained columns, computed from the case's history."""
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
        column = COUNTED.get(event)
        if column is not None:
            figures[column] += 1
        if event == AGREEMENT_EVENT and figures["agreed_at"] is None:
            figures["agreed_at"] = at
        if actor == SYSTEM and role == SYSTEM:
            if event in expiry_moves():
                figures["terms_missed"] += 1
            elif event == ESCALATION_EVENT and payload not in escalated:
                escalated.add(payload)
                figures["terms_missed"] += 1
    return figures
