"""The statistics a supervisor asks for ("107 of 134 disputes reconciled"), by SQL aggregates.

The figures are about a cohort: the cases opened in the period (and region/centre), and
everything that has happened to them since. That keeps the share reconciled honest —
numerator and denominator are the same cases — at the price that an event of January
about a case opened in December counts in December's report.

Counting happens in the database (GROUP BY on the case's state and origin, COUNT on the
indexed event column of the history), so a report over a million cases does not load a
million rows into Python. Only the per-case durations to the first agreement are
fetched, one number a case, to compute the median and the 90th percentile.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import states
from workflow.schema import audit_events, cases
from workflow.store import utc

# The terminal state that counts as reconciled. Every other terminal state is an outcome
# without a reconciliation (a judgment, a return to the bailiff, a withdrawal, a decline).
RECONCILED = "settled"
AGREEMENT_EVENT = "reach_agreement"
CONSULTATION_EVENT = "record_consultation"
SESSION_EVENT = "record_session"
REMINDER_EVENT = "remind"
ESCALATION_EVENT = "escalate"
SYSTEM = "system"


@dataclass(frozen=True)
class Durations:
    """Days from opening to the first agreement, over the cases that reached one."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Summary:
    cases: int
    open: int
    closed: int
    by_origin: dict[str, int]
    by_state: dict[str, int]
    outcomes: dict[str, int]
    reconciled: int
    reconciled_share: float | None
    consultations: int
    sessions: int
    days_to_agreement: Durations
    terms_missed: int
    escalations: int
    reminders_sent: int
    scope: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@functools.cache
def terminal_states() -> frozenset[str]:
    """Terminal in any lifecycle version: old cases keep the version they were opened with."""
    return frozenset(
        name
        for version in states.versions()
        for name, spec in states.get(version).states.items()
        if spec.terminal
    )


@functools.cache
def expiry_events() -> frozenset[str]:
    """Events a term's expiry fires (fail, no_consent, escalate in version 1)."""
    return frozenset(
        step.event
        for version in states.versions()
        for spec in states.get(version).states.values()
        if spec.term is not None
        for step in spec.term.on_expiry
    )


def summary(
    conn: Connection,
    since: datetime | None = None,
    until: datetime | None = None,
    region: str | None = None,
    centre: str | None = None,
) -> Summary:
    """Statistics of the cases opened in [since, until) in the region and centre given."""
    scope = _scope(since, until, region, centre)
    by_origin = _count_by(conn, cases.c.origin, scope)
    by_state = _count_by(conn, cases.c.state, scope)
    terminal = terminal_states()
    outcomes = {s: n for s, n in by_state.items() if s in terminal}
    closed = sum(outcomes.values())
    total = sum(by_state.values())
    reconciled = outcomes.get(RECONCILED, 0)
    events = _count_events(conn, scope)
    escalated_terms = _escalated_terms(conn, scope)
    missed_by_system = _system_expiries(conn, scope)
    return Summary(
        cases=total,
        open=total - closed,
        closed=closed,
        by_origin=by_origin,
        by_state=by_state,
        outcomes=outcomes,
        reconciled=reconciled,
        reconciled_share=reconciled / closed if closed else None,
        consultations=events.get(CONSULTATION_EVENT, 0),
        sessions=events.get(SESSION_EVENT, 0),
        days_to_agreement=_durations(_days_to_agreement(conn, scope)),
        terms_missed=missed_by_system + escalated_terms,
        escalations=events.get(ESCALATION_EVENT, 0),
        reminders_sent=events.get(REMINDER_EVENT, 0),
        scope={
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "region": region,
            "centre": centre,
        },
    )


def _scope(
    since: datetime | None, until: datetime | None, region: str | None, centre: str | None
) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if since is not None:
        conditions.append(cases.c.opened_at >= utc(since))
    if until is not None:
        conditions.append(cases.c.opened_at < utc(until))
    if region is not None:
        conditions.append(cases.c.region == region)
    if centre is not None:
        conditions.append(cases.c.centre == centre)
    return conditions


def _count_by(
    conn: Connection, column: sa.ColumnElement[Any], scope: list[sa.ColumnElement[bool]]
) -> dict[str, int]:
    query = sa.select(column, sa.func.count()).where(*scope).group_by(column).order_by(column)
    return {str(key): int(n) for key, n in conn.execute(query)}


_HISTORY = audit_events.join(cases, cases.c.id == audit_events.c.case_id)


def _count_events(conn: Connection, scope: list[sa.ColumnElement[bool]]) -> dict[str, int]:
    wanted = [CONSULTATION_EVENT, SESSION_EVENT, REMINDER_EVENT, ESCALATION_EVENT]
    query = (
        sa.select(audit_events.c.event, sa.func.count())
        .select_from(_HISTORY)
        .where(audit_events.c.event.in_(wanted), *scope)
        .group_by(audit_events.c.event)
    )
    return {str(event): int(n) for event, n in conn.execute(query)}


def _by_system() -> list[sa.ColumnElement[bool]]:
    return [audit_events.c.role == SYSTEM, audit_events.c.actor == SYSTEM]


def _system_expiries(conn: Connection, scope: list[sa.ColumnElement[bool]]) -> int:
    """Terms that ran out and moved the case (fail, no_consent fired by the system)."""
    moving = sorted(expiry_events() - {ESCALATION_EVENT})
    query = (
        sa.select(sa.func.count())
        .select_from(_HISTORY)
        .where(audit_events.c.event.in_(moving), *_by_system(), *scope)
    )
    return int(conn.execute(query).scalar_one())


def _escalated_terms(conn: Connection, scope: list[sa.ColumnElement[bool]]) -> int:
    """Terms that ran out and were escalated, each counted once.

    A term may escalate twice (to the coordinator, then to the supervisor); both records
    carry the term's name and due date in their payload, so one term is one distinct
    (case, payload) pair.
    """
    distinct = (
        sa.select(audit_events.c.case_id, audit_events.c.payload)
        .select_from(_HISTORY)
        .where(audit_events.c.event == ESCALATION_EVENT, *_by_system(), *scope)
        .distinct()
        .subquery()
    )
    return int(conn.execute(sa.select(sa.func.count()).select_from(distinct)).scalar_one())


def _days_to_agreement(conn: Connection, scope: list[sa.ColumnElement[bool]]) -> list[float]:
    first = sa.func.min(audit_events.c.at)
    query = (
        sa.select(cases.c.opened_at, first)
        .select_from(_HISTORY)
        .where(audit_events.c.event == AGREEMENT_EVENT, *scope)
        .group_by(cases.c.id, cases.c.opened_at)
    )
    return [
        (_instant(agreed) - utc(opened)).total_seconds() / 86400
        for opened, agreed in conn.execute(query)
    ]


def _instant(value: datetime | str) -> datetime:
    """MIN() over a SQLite datetime column comes back as text, not as a datetime."""
    return utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _durations(days: Sequence[float]) -> Durations:
    ordered = sorted(days)
    return Durations(
        count=len(ordered),
        median=_round(percentile(ordered, 0.5)),
        p90=_round(percentile(ordered, 0.9)),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no data.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.5)
    2.5
    >>> percentile([5.0], 0.9)
    5.0
    """
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
