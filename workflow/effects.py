"""What each effect a lifecycle names does to a case: one table, for opening and firing.

An effect (`effects = [...]` on an event or a route) changes case columns beyond the state
and its term: who is on the case, the procedure, the enforcement flag, the term's
suspension and extension. Each entry of `EFFECTS` computes, without I/O, the columns it
changes from the case as it is before the event (`Before`), the event's checked payload
and the instant; `TIMERS` in the result, when present, replaces the case's open timers.
The engine applies every effect of a decision through this table, whether the event
opens the case or fires on it; a unit test holds the table to the vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from states import Term
from workflow import names
from workflow.calendar import BusinessCalendar
from workflow.errors import InvalidField
from workflow.store import utc
from workflow.terms import PlannedTimer, extended_due, plan, resumed_due

OFFICIAL_ID_LENGTH = 80  # cases.mediator / bailiff / court
TIMERS = "_timers"  # the key of a result's new open timers


@dataclass(frozen=True, slots=True)
class Before:
    """What an effect reads: the case before the event, its state's term, the payload."""

    row: Any
    term: Term | None
    payload: Mapping[str, Any]
    now: datetime
    calendar: BusinessCalendar


Effect = Callable[[Before], dict[str, Any]]


def _official(field: str) -> Effect:
    """Put the official named in the payload on the case (`set_mediator`, …)."""

    def put(b: Before) -> dict[str, Any]:
        if field not in b.payload:
            return {}
        value = b.payload[field]
        if len(value) > OFFICIAL_ID_LENGTH:
            raise InvalidField(
                f"payload.{field}", f"is longer than {OFFICIAL_ID_LENGTH} characters"
            )
        names.check(f"payload.{field}", value)
        return {field: value}

    return put


def _procedure(b: Before) -> dict[str, Any]:
    return {"procedure": b.payload["procedure"]} if "procedure" in b.payload else {}


def _enforcement(suspended: bool) -> Effect:
    return lambda _b: {"enforcement_suspended": suspended}


def _suspend_terms(b: Before) -> dict[str, Any]:
    """The term stops; the days left are kept for when it runs again."""
    values: dict[str, Any] = {"suspended_at": b.now, TIMERS: []}
    if b.term is not None and b.row.term_due_at is not None:
        left = b.calendar.days_left(b.now, utc(b.row.term_due_at), b.term.counted_in)
        values.update(term_days_left=left, term_due_at=None)
    return values


def _resume_terms(b: Before) -> dict[str, Any]:
    """The term runs again with the days that were left."""
    values: dict[str, Any] = {"suspended_at": None, TIMERS: []}
    if b.term is not None and b.row.term_days_left is not None:
        due = resumed_due(b.term, b.now, b.row.term_days_left, b.calendar)
        values.update(term_due_at=due, term_days_left=None)
        values[TIMERS] = plan(b.term, due, b.now, b.calendar)
    return values


def _extend_term(b: Before) -> dict[str, Any]:
    """The term's end moves by its extension's days (the guard counts the extensions)."""
    term = b.term
    if term is None or term.extension is None or b.row.term_due_at is None:
        return {}
    due = extended_due(term, utc(b.row.term_due_at), term.extension.days, b.calendar)
    return {
        "term_due_at": due,
        "extensions_used": b.row.extensions_used + 1,
        TIMERS: plan(term, due, b.now, b.calendar),
    }


EFFECTS: Mapping[str, Effect] = {
    "set_mediator": _official("mediator"),
    "set_bailiff": _official("bailiff"),
    "set_court": _official("court"),
    "set_procedure": _procedure,
    "suspend_enforcement": _enforcement(True),
    "resume_enforcement": _enforcement(False),
    "suspend_terms": _suspend_terms,
    "resume_terms": _resume_terms,
    "extend_term": _extend_term,
}


def apply_all(
    names: Iterable[str],
    before: Before,
    values: dict[str, Any],
    timers: list[PlannedTimer] | None,
) -> list[PlannedTimer] | None:
    """Apply each effect of `names` to `values`; the open timers after them (`timers`
    unless an effect replaces them)."""
    for effect in names:
        result = apply(effect, before)
        timers = result.pop(TIMERS, timers)
        values.update(result)
    return timers


def apply(effect: str, before: Before) -> dict[str, Any]:
    """The columns `effect` changes (and, under `TIMERS`, the new open timers)."""
    found = EFFECTS.get(effect)
    if found is None:
        raise AssertionError(f"effect {effect!r} is in the vocabulary but not implemented")
    return found(before)
