"""Notices that lost their point: the terms of a case that has since been closed.

A reminder or an escalation tells people a term is running out; once the case has
reached a terminal state there is no term left to keep, and sending it would only
confuse the parties. Such messages are marked `void` (reason "the case is closed")
instead of being sent, and leave no trace in the case's history. A term's notice is a
message of an event the terms fire (the reminder event, an expiry step) that leaves the
case where it is: an expiry that moves the case (e.g. to court, or closing it) is a
legal step in itself, and its notice is sent like any other, as are those of the
events that close a case.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa

import states
from workflow.schema import cases, outbox

VOID = "void"
CASE_CLOSED = "the case is closed"


@functools.cache
def term_notice_events() -> frozenset[str]:
    """Events that report a term without moving the case, in any lifecycle version."""
    found = set()
    for version in states.versions():
        lc = states.get(version)
        fired = {*lc.events_of_kind("reminder")} | {
            step.event
            for spec in lc.states.values()
            if spec.term is not None
            for step in spec.term.on_expiry
        }
        for name in fired:
            event = lc.events.get(name)
            if event is not None and all(r.target is None for r in event.routes):
                found.add(name)
    return frozenset(found)


def is_moot() -> sa.ColumnElement[bool]:
    """An outbox row about a term of a case that is closed now."""
    closed = sa.exists().where(cases.c.id == outbox.c.case_id, cases.c.closed_at.is_not(None))
    return sa.and_(outbox.c.event.in_(sorted(term_notice_events())), closed)
