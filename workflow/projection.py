"""Replaying a case's history to what its row, its parties and its open timers must hold.

Supervisors, courts and the report read the case row, not the history; the hash chain
proves only the history. So `audit verify` also replays each case's records, in order,
through the engine's own decisions (`Decider`, the pure part of `Engine`) and the
lifecycle version the case started with: the opening record's payload gives the case
fields and the parties, each later record is decided again at its own instant, and the
result is compared with what is stored — every column of the case row the engine writes
(state, versions, region, centre, officials, enforcement and suspension, term, tallies,
agreement), the parties (role, name, kind, IIN/BIN, contacts, language) and the open
timers (kind, term, event, payload, who is told, when due).

Timers the sweep fired leave the open set when a system record of their event follows
their due time (the sweep marks the timer fired and applies its event in one
transaction). A timer the sweep retired (its event refused, `timers.sweep`) is fired
without a record: an open timer of the replay that is stored as fired counts as retired
when its event is still refused on the replayed case.

The replay is only as faithful as the engine's decisions are stable: the lifecycle
version is kept per case, the `holidays` package is pinned, and the business calendar's
settings (time zone, extra days off and working days) must be those the terms were
planned with. `escalated_due_at` is the tallies' bookkeeping (migration 0004 filled it
by another rule) and is not compared.
"""

from __future__ import annotations

import json
import operator
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import states
from workflow import identifiers, privacy
from workflow.audit import Break, format_instant
from workflow.errors import InvalidInput, NotAllowed, ReplayRefused, TatulasuError
from workflow.schema import cases, timers
from workflow.store import utc
from workflow.tallies import SYSTEM
from workflow.terms import PlannedTimer

if TYPE_CHECKING:
    from workflow.engine import Decider

# The case columns the history determines (all but the id, the head the chain checks,
# and the tallies' bookkeeping `escalated_due_at`), with the value of a new row.
CASE_COLUMNS: dict[str, Any] = {
    "definition_version": None,
    "state": None,
    "version": None,
    "origin": None,
    "procedure": None,
    "region": None,
    "centre": None,
    "language": "kk",
    "subject": "",
    "mediator": None,
    "bailiff": None,
    "court": None,
    "coordinator": None,
    "enforcement_proceeding": None,
    "enforcement_suspended": False,
    "opened_at": None,
    "updated_at": None,
    "closed_at": None,
    "term_name": None,
    "term_due_at": None,
    "term_days_left": None,
    "suspended_at": None,
    "extensions_used": 0,
    "consultations": 0,
    "sessions": 0,
    "reminders": 0,
    "escalations": 0,
    "terms_missed": 0,
    "agreed_at": None,
    "agreement_days": None,
    "escalated_due_at": None,  # carried for the tallies' rule, not compared
}
COMPARED = tuple(c for c in CASE_COLUMNS if c != "escalated_due_at")
# Case columns an opening record's payload may carry (older records carry `mediator`).
_OPENED = frozenset(CASE_COLUMNS) & frozenset(cases.c.keys())
PARTY_COLUMNS = ("role", "name", "kind", "iin_bin", "phone", "email", "language")
TIMER_COLUMNS = ("kind", "term", "event", "payload", "notify", "due_at")

_PARTY_MASKS = {
    "name": privacy.mask_name,
    "iin_bin": privacy.mask_iin,
    "phone": privacy.mask_contact,
    "email": privacy.mask_contact,
}
DAYS_TOLERANCE = 1e-6  # agreement_days: a float, filled by SQL for older cases


# What a payload sealed in the chain but not written by the engine may raise in the replay
# (a consistently rewritten chain): a finding, never a crash of `verify`.
_MALFORMED = (ValueError, KeyError, IndexError, TypeError, AttributeError, TatulasuError)


class CaseState:
    """A case row as the replay builds it: read by the engine's rules like a stored row."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


class Replayed:
    """What a history says the case row, its parties and its open timers hold."""

    __slots__ = ("case", "parties", "timers")

    def __init__(
        self, case: CaseState, parties: list[dict[str, Any]], open_timers: list[PlannedTimer]
    ) -> None:
        self.case = case
        self.parties = parties
        self.timers = open_timers


def replay(decider: Decider, records: Sequence[Any]) -> Replayed:
    """Replay a verified chain (records in order); raises `ReplayRefused`."""
    first = records[0]
    at = utc(first.at)
    try:
        opening = json.loads(first.payload)
        lc = states.get(int(opening["definition"]))
        decision = decider.decide_opening(lc, first.event, first.role, opening["origin"])
        parties = [_party(p) for p in opening["parties"]]
        fields = {k: v for k, v in opening.items() if k in _OPENED}
    except _MALFORMED as exc:
        raise ReplayRefused(first, f"does not replay: {_said(exc)}") from None
    if (first.from_state, first.to_state) != (lc.initial, decision.to_state):
        raise ReplayRefused(first, _moved(first, lc.initial, decision.to_state))
    values, planned = decider.opening(lc, decision, at)
    case: Any = CaseState(
        {
            **CASE_COLUMNS,
            **fields,
            "definition_version": lc.version,
            "state": decision.to_state,
            "version": 1,
            "opened_at": at,
            "updated_at": at,
            **values,
        }
    )
    open_timers = list(planned)
    step, state_of = decider.step, case.__dict__
    moves = states.migration_events()
    for record in records[1:]:
        at = utc(record.at)
        if record.event in moves:
            open_timers = _moved_to_version(decider, case, record, at, open_timers)
            continue
        if record.actor == SYSTEM and record.role == SYSTEM:
            _fired(open_timers, record, at)
        try:
            done = step(case, record.event, record.actor, record.role, _payload(record), at)
        except _MALFORMED as exc:
            raise ReplayRefused(record, f"does not replay: {_said(exc)}") from None
        if record.from_state != case.state or record.to_state != done.decision.to_state:
            raise ReplayRefused(record, _moved(record, case.state, done.decision.to_state))
        if done.timers is not None:
            if case.term_name is not None:  # what Engine.apply deletes
                open_timers = []
            open_timers.extend(done.timers)
        state_of.update(done.values)
        case.version = record.seq
        case.updated_at = at
    return Replayed(case, parties, open_timers)


def _moved_to_version(
    decider: Decider, case: Any, record: Any, at: datetime, open_timers: list[PlannedTimer]
) -> list[PlannedTimer]:
    """Replay a move to a newer lifecycle (`workflow/moves.py`): the same rule must place
    the case in the same state; its open timers after the move."""
    try:
        said = json.loads(record.payload)
        from_version = int(said["from_version"])
        move = decider.move(case, states.get(int(said["to_version"])), at)
    except _MALFORMED as exc:
        raise ReplayRefused(record, f"does not replay: {_said(exc)}") from None
    if from_version != case.definition_version:
        raise ReplayRefused(record, "does not replay: the case was on another version")
    if record.from_state != case.state or record.to_state != move.rule.target:
        raise ReplayRefused(record, _moved(record, case.state, move.rule.target))
    if said.get("rule") != move.rule.name:
        raise ReplayRefused(
            record, f"does not replay: moved by rule {said.get('rule')!r}, not {move.rule.name!r}"
        )
    case.__dict__.update(move.values)
    case.version = record.seq
    case.updated_at = at
    return open_timers if move.timers is None else list(move.timers)


_NO_PAYLOAD: Mapping[str, Any] = MappingProxyType({})


def _payload(record: Any) -> Mapping[str, Any]:
    """A record's payload (many events have none: no need to parse "{}")."""
    return _NO_PAYLOAD if record.payload == "{}" else json.loads(record.payload)


def _party(given: dict[str, Any]) -> dict[str, Any]:
    return {
        "role": given["role"],
        "name": given["name"],
        "kind": identifiers.kind_of(given["iin_bin"]),
        "iin_bin": given["iin_bin"],
        "phone": given.get("phone"),
        "email": given.get("email"),
        "language": given.get("language", "kk"),
    }


def _fired(open_timers: list[PlannedTimer], record: Any, at: datetime) -> None:
    """Take out the timer the sweep fired for this system record, if one was due.

    The sweep fires a case's due timers in order of due time; a record of the same
    event and payload is preferred (two escalations may differ only in their payload).
    """
    due = [
        (t.payload != record.payload, t.due_at, i)
        for i, t in enumerate(open_timers)
        if t.event == record.event and t.due_at <= at
    ]
    if due:
        del open_timers[min(due)[2]]


def _moved(record: Any, from_state: str, to_state: str) -> str:
    return (
        f"does not replay: the record goes from {record.from_state!r} to {record.to_state!r};"
        f" the rules take the case from {from_state!r} to {to_state!r}"
    )


def _said(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


# ---------------------------------------------------------------------- comparing


def check(
    decider: Decider,
    conn: Connection,
    case: Any,
    records: Sequence[Any],
    stored_parties: Sequence[Any],
    stored_timers: Sequence[Any],
) -> list[Break]:
    """Every difference between the stored case, parties and open timers and the replay."""
    try:
        replayed = replay(decider, records)
    except ReplayRefused as refused:
        r = refused.record
        return [Break(case.id, r.seq, r.id, refused.reason)]
    found = _case_differences(case, replayed.case)
    found += _party_differences(case.id, stored_parties, replayed.parties)
    found += _timer_differences(decider, conn, case.id, stored_timers, replayed)
    return found


_COMPARED_OF = operator.attrgetter(*COMPARED)
_INSTANTS = tuple(i for i, c in enumerate(COMPARED) if c.endswith("_at"))


def _case_differences(stored: Any, replayed: CaseState) -> list[Break]:
    have, want = list(_COMPARED_OF(stored)), list(_COMPARED_OF(replayed))
    for i in _INSTANTS:  # SQLite hands back naive UTC instants
        if have[i] is not None:
            have[i] = utc(have[i])
    if have == want:
        return []
    found = []
    for column in COMPARED:
        have, want = getattr(stored, column), getattr(replayed, column)
        if not _same(have, want):
            found.append(_difference(stored.id, f"cases.{column}", have, want))
    return found


def _same(have: Any, want: Any) -> bool:
    if isinstance(have, datetime) and isinstance(want, datetime):
        return utc(have) == utc(want)
    if isinstance(have, float) and isinstance(want, float):
        return abs(have - want) <= DAYS_TOLERANCE
    return bool(have == want) and (have is None) == (want is None)


def _difference(case_id: int, column: str, have: Any, want: Any) -> Break:
    stored, replayed = _shown(column, have), _shown(column, want)
    return Break(
        case_id,
        None,
        None,
        f"{column} is {stored}; its history says {replayed}",
        column=column,
        stored=stored,
        replayed=replayed,
    )


def _shown(column: str, value: Any) -> str:
    """A value for the report, personal data masked (parties' names, IIN/BIN, contacts)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, float):
        return f"{value:.6f}"
    if not isinstance(value, str):
        return str(value)
    mask = _PARTY_MASKS.get(column.rpartition(".")[2]) if column.startswith("parties") else None
    if mask is not None:
        return f"'{mask(value)}'"
    return f"'{privacy.scrub_text(value)}'"


def _party_differences(
    case_id: int, stored: Sequence[Any], replayed: list[dict[str, Any]]
) -> list[Break]:
    found = []
    if len(stored) != len(replayed):
        found.append(
            Break(
                case_id,
                None,
                None,
                f"the case has {len(stored)} parties; its history names {len(replayed)}",
                column="parties",
                stored=str(len(stored)),
                replayed=str(len(replayed)),
            )
        )
    for i, (have, want) in enumerate(zip(stored, replayed, strict=False)):
        for column in PARTY_COLUMNS:
            if getattr(have, column) != want[column]:
                found.append(
                    _difference(
                        case_id, f"parties[{i}].{column}", getattr(have, column), want[column]
                    )
                )
    return found


def _timer_key(t: Any) -> tuple[Any, ...]:
    return (t.kind, t.term, t.event, t.payload, t.notify, utc(t.due_at))


def _timer_differences(
    decider: Decider, conn: Connection, case_id: int, stored: Sequence[Any], replayed: Replayed
) -> list[Break]:
    have = Counter(_timer_key(t) for t in stored)
    want = Counter(_timer_key(t) for t in replayed.timers)
    if have == want:
        return []
    extra = list((have - want).elements())
    missing = list((want - have).elements())
    if missing:
        missing = _not_retired(decider, conn, case_id, replayed.case, missing)
    found = []
    # A timer changed in place: the same kind, term and event, another field.
    for m in list(missing):
        twin = next((e for e in extra if e[:3] == m[:3]), None)
        if twin is None:
            continue
        missing.remove(m)
        extra.remove(twin)
        for i, column in enumerate(TIMER_COLUMNS):
            if twin[i] != m[i]:
                found.append(_difference(case_id, f"timers.{column}", twin[i], m[i]))
    for m in missing:
        found.append(
            Break(
                case_id,
                None,
                None,
                f"an open timer is missing: {_timer(m)}",
                column="timers",
                stored="none",
                replayed=_timer(m),
            )
        )
    for e in extra:
        found.append(
            Break(
                case_id,
                None,
                None,
                f"an open timer its history does not plan: {_timer(e)}",
                column="timers",
                stored=_timer(e),
                replayed="none",
            )
        )
    return found


def _timer(key: tuple[Any, ...]) -> str:
    kind, term, event, _payload, _notify, due = key
    return f"{kind} {event!r} of term {term!r} due {format_instant(due)}"


def _not_retired(
    decider: Decider,
    conn: Connection,
    case_id: int,
    case: CaseState,
    missing: Iterable[tuple[Any, ...]],
) -> list[tuple[Any, ...]]:
    """The missing timers the sweep did not retire (a query only on this rare path)."""
    fired = Counter(
        _timer_key(t)
        for t in conn.execute(
            sa.select(timers).where(timers.c.case_id == case_id, timers.c.fired_at.is_not(None))
        )
    )
    left = []
    for key in missing:
        if fired[key] > 0 and _refused(decider, case, key):
            fired[key] -= 1
            continue
        left.append(key)
    return left


def _refused(decider: Decider, case: CaseState, key: tuple[Any, ...]) -> bool:
    """Whether the sweep would refuse this timer's event on the replayed case."""
    _kind, _term, event, payload, _notify, due = key
    try:
        decider.step(case, event, SYSTEM, SYSTEM, json.loads(payload), due)
    except (NotAllowed, InvalidInput, ValueError, TypeError, AttributeError):
        return True
    return False
