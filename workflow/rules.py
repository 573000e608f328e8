"""Deciding whether an event may fire, through one shared `transitions` Machine per version.

A Machine per case costs tens of kilobytes and milliseconds to build; instead each
lifecycle version has one Machine bound to one reusable model. To decide, the model is
given the case's state and facts, the event is triggered, and the state it lands in is
read back; the answer is remembered per (state, event, outcome of the guards involved),
so each distinct question reaches the machine once. The cost does not depend on how many
cases exist. A lock makes the shared model safe for threads; the critical section is a
few microseconds.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from transitions import MachineError

from states import EventSpec, Lifecycle, Route
from states.definition import build_machine
from states.vocabulary import PROCEDURES
from workflow.errors import (
    CaseSuspended,
    EventNotAllowed,
    GuardFailed,
    InvalidField,
    RoleNotAllowed,
    UnknownEvent,
)

MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class Facts:
    """What guards may look at: the case as it is before the event."""

    state: str
    origin: str
    mediator: str | None
    bailiff: str | None
    extensions_used: int
    extensions_allowed: int
    suspended: bool


GUARDS: Mapping[str, Callable[[Facts], bool]] = {
    "has_mediator": lambda f: f.mediator is not None,
    "extension_available": lambda f: f.extensions_used < f.extensions_allowed,
    "from_enforcement": lambda f: f.origin == "bailiff",
    "not_from_enforcement": lambda f: f.origin != "bailiff",
    # A case a court opened or sent: only such a case goes back to the court on failure.
    "from_court": lambda f: f.origin == "court",
    "not_from_court": lambda f: f.origin != "court",
    "is_suspended": lambda f: f.suspended,
}


@dataclass(frozen=True, slots=True)
class Decision:
    event: EventSpec
    route: Route
    from_state: str
    to_state: str
    effects: tuple[str, ...]

    @property
    def moves(self) -> bool:
        return self.to_state != self.from_state


class _BoundModel:
    """The one model the shared machine drives; guards read the facts set before a trigger."""

    trigger: Callable[[str], bool]  # added by the machine

    def __init__(self) -> None:
        self.state = ""
        self.facts: Facts | None = None
        self.taken: Route | None = None
        for name, guard in GUARDS.items():
            setattr(self, f"guard_{name}", self._guard(guard))

    def _guard(self, guard: Callable[[Facts], bool]) -> Callable[[], bool]:
        def check() -> bool:
            assert self.facts is not None
            return guard(self.facts)

        return check

    def took(self, route: Route) -> None:
        self.taken = route


class Rules:
    """The decisions of one lifecycle version."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self._model = _BoundModel()
        self._machine = build_machine(lifecycle, model=self._model, on_route=self._model.took)
        self._lock = threading.Lock()
        self._guards_of: dict[tuple[str, str], tuple[str, ...]] = {}
        self._answers: dict[tuple[str, str, tuple[bool, ...]], Route | None] = {}

    def allowed_events(self, facts: Facts, role: str | None = None) -> list[str]:
        """Events that could fire now (by state, suspension, role and guards)."""
        found = []
        for name in self.lifecycle.events_from(facts.state):
            spec = self.lifecycle.events[name]
            if role is not None and role not in spec.roles:
                continue
            if facts.suspended and not spec.while_suspended:
                continue
            routes = self.lifecycle.table[(facts.state, name)]
            route = next((r for r in routes if self._guards_hold(r, facts)), None)
            if route is not None and (role is None or route.allows(role)):
                found.append(name)
        return found

    def decide(self, facts: Facts, event: str, role: str) -> Decision:
        """The route `event` takes for this case and role, or the reason it may not fire."""
        lc = self.lifecycle
        spec = lc.events.get(event)
        if spec is None:
            close = difflib.get_close_matches(event, list(lc.events), n=3, cutoff=0.6)
            raise UnknownEvent(event, close, self.allowed_events(facts, role))
        if (facts.state, event) not in lc.table:
            raise EventNotAllowed(event, facts.state, self.allowed_events(facts, role))
        if role not in spec.roles:
            raise RoleNotAllowed(event, role, spec.roles)
        if facts.suspended and not spec.while_suspended:
            raise CaseSuspended(
                event, [e for e in lc.events_from(facts.state) if lc.events[e].while_suspended]
            )
        route = self._route(facts, event)
        if route is None:
            failing = {
                g for r in lc.table[(facts.state, event)] for g in r.guards if not GUARDS[g](facts)
            }
            needs = {g: lc.guards[g].explained() for g in failing if g in lc.guards}
            raise GuardFailed(event, facts.state, failing, needs)
        if not route.allows(role):
            raise RoleNotAllowed(event, role, route.roles, facts.state)
        return Decision(
            event=spec,
            route=route,
            from_state=facts.state,
            to_state=route.target or facts.state,
            effects=spec.effects + route.effects,
        )

    def _route(self, facts: Facts, event: str) -> Route | None:
        """The machine's answer, remembered per (state, event, outcome of its guards).

        Guards are pure functions of the facts and the machine is deterministic, so the
        answer for one key never changes; the machine is triggered once per key (a few
        hundred keys per lifecycle at most) and the rest is a dictionary lookup.
        """
        guards = self._guards_of.get((facts.state, event))
        if guards is None:
            names = {g for r in self.lifecycle.table[(facts.state, event)] for g in r.guards}
            guards = self._guards_of.setdefault((facts.state, event), tuple(sorted(names)))
        key = (facts.state, event, tuple([GUARDS[g](facts) for g in guards]))
        try:
            return self._answers[key]
        except KeyError:
            return self._answers.setdefault(key, self._trigger(facts, event))

    def _trigger(self, facts: Facts, event: str) -> Route | None:
        model = self._model
        with self._lock:
            model.state, model.facts, model.taken = facts.state, facts, None
            try:
                moved = model.trigger(event)
            except MachineError:
                return None
            return model.taken if moved else None

    @staticmethod
    def _guards_hold(route: Route, facts: Facts) -> bool:
        return all(GUARDS[g](facts) for g in route.guards)


def validate_payload(
    spec: EventSpec, reasons: Mapping[str, frozenset[str]], payload: Mapping[str, Any], today: date
) -> dict[str, Any]:
    """Check a command's payload against its event: fields, types, reason codes.

    Unknown fields are refused: the history keeps that a session happened, never what was
    said in it, so nothing beyond the declared fields is stored.
    """
    accepted = dict(spec.payload) | dict(spec.optional)
    if spec.reasons is not None:
        accepted |= {"reason": "reason", "reason_text": "text"}
    for name in payload:
        if name not in accepted:
            names = ", ".join(sorted(accepted)) or "none"
            raise InvalidField(
                f"payload.{name}", f"not accepted by event {spec.name!r}; accepted: {names}"
            )
    required = set(spec.payload) | ({"reason"} if spec.reasons is not None else set())
    for name in sorted(required):
        if payload.get(name) in (None, ""):
            raise InvalidField(f"payload.{name}", f"is required by event {spec.name!r}")
    cleaned: dict[str, Any] = {}
    for name, value in payload.items():
        kind = accepted[name]
        cleaned[name] = _check_field(f"payload.{name}", kind, value, spec, reasons, today)
    return cleaned


def check_reason_giver(lc: Lifecycle, payload: Mapping[str, Any], role: str) -> None:
    """Refuse a reason code that `role` may not give (the lifecycle's `[reason_roles]`):
    a person may not say a term ran out while it still runs; that is the clock's to say."""
    reason = payload.get("reason")
    if isinstance(reason, str) and not lc.may_give(role, reason):
        givers = ", ".join(sorted(lc.reason_roles[reason]))
        raise InvalidField("payload.reason", f"{reason!r} is given only by: {givers}")


def _check_field(
    field: str,
    kind: str,
    value: object,
    spec: EventSpec,
    reasons: Mapping[str, frozenset[str]],
    today: date,
) -> Any:
    if kind == "receipts":
        return _check_receipts(field, value)
    if not isinstance(value, str):
        raise InvalidField(field, f"must be text, got {type(value).__name__}")
    value = value.strip()
    if not value:
        raise InvalidField(field, "must not be empty")
    if len(value) > MAX_TEXT:
        raise InvalidField(field, f"is longer than {MAX_TEXT} characters")
    if kind == "date":
        return _check_date(field, value, today).isoformat()
    if kind == "procedure" and value not in PROCEDURES:
        raise InvalidField(field, f"{value!r} is not one of {', '.join(sorted(PROCEDURES))}")
    if kind == "reason":
        allowed = reasons[spec.reasons or ""]
        if value not in allowed:
            raise InvalidField(field, f"{value!r} is not one of {', '.join(sorted(allowed))}")
    return value


_RECEIPT_KEYS = frozenset({"key", "channel", "status", "reference"})
# The fate of a notice an admin sent again names the retry (workflow/failed_notices.py).
_RETRY_KEYS = frozenset({"retried_by", "retried_at"})
_RECEIPT_SHAPES = (_RECEIPT_KEYS, _RECEIPT_KEYS | _RETRY_KEYS)


def _check_receipts(field: str, value: object) -> list[dict[str, str]]:
    """Delivery receipts: a non-empty list of {key, channel, status, reference} texts,
    with {retried_by, retried_at} after a retry."""
    if not isinstance(value, list) or not value:
        raise InvalidField(field, "must be a non-empty list of receipts")
    receipts = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) not in _RECEIPT_SHAPES:
            raise InvalidField(
                f"{field}[{i}]",
                f"must have exactly {sorted(_RECEIPT_KEYS)}, and {sorted(_RETRY_KEYS)} if retried",
            )
        if not all(isinstance(v, str) and len(v) <= MAX_TEXT for v in item.values()):
            raise InvalidField(f"{field}[{i}]", f"values must be texts of at most {MAX_TEXT}")
        receipts.append({k: str(v) for k, v in item.items()})
    return receipts


def _check_date(field: str, value: str, today: date) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidField(field, f"{value!r} is not a date (YYYY-MM-DD)") from None
    if day > today:
        raise InvalidField(field, f"{value} is in the future")
    if (today - day).days > 366:
        raise InvalidField(field, f"{value} is more than a year ago")
    return day


def facts_of(row: Any, lifecycle: Lifecycle) -> Facts:
    """Facts from a stored case row."""
    state = lifecycle.states.get(row.state)
    term = state.term if state is not None else None
    allowed = term.extension.times if term is not None and term.extension is not None else 0
    return Facts(
        state=row.state,
        origin=row.origin,
        mediator=row.mediator,
        bailiff=row.bailiff,
        extensions_used=row.extensions_used,
        extensions_allowed=allowed,
        suspended=row.suspended_at is not None,
    )
