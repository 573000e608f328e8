"""Applying commands: one event is one database transaction.

To fire an event the engine loads the case row, asks the shared machine whether the
event may fire (state, role, guards, suspension), checks the payload, and then, in the
same transaction: updates the case `WHERE id = ? AND version = ?` (a lost race writes
nothing and raises `ConcurrentUpdate`), appends the hash-chained history record,
replaces the case's open timers when its term changes, and writes outbox messages.
A command with an idempotency key is stored with its result; a repeat returns the first
result and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import states
from states import Lifecycle, MoveRule
from workflow import effects, names, openings, standing, unit_of_work
from workflow.audit import canonical_json, format_instant
from workflow.calendar import BusinessCalendar
from workflow.clock import Clock, SystemClock
from workflow.commands import (
    EventApplied,
    FireEvent,
    OpenCase,
)
from workflow.errors import (
    Conflict,
    IdempotencyKeyReused,
    InvalidField,
    NoMoveRule,
    NotFound,
    StaleVersion,
)
from workflow.opening import check_opening, opens, origin_of
from workflow.outbox import write_outbox
from workflow.rules import (
    GUARDS,
    Decision,
    Facts,
    Rules,
    check_reason_giver,
    facts_of,
    validate_payload,
)
from workflow.schema import cases, idempotency_keys
from workflow.store import Store, translate_errors, utc
from workflow.tallies import tally
from workflow.terms import PlannedTimer, plan, term_due, term_end

T = TypeVar("T")

# A case before its opening event, as the effects read it.
_NEW_CASE = SimpleNamespace(term_due_at=None, term_days_left=None, extensions_used=0)

_SELECT_CASE = sa.select(cases).where(cases.c.id == sa.bindparam("case_id"))
_SELECT_KEY = sa.select(idempotency_keys).where(idempotency_keys.c.key == sa.bindparam("key"))


@dataclass(frozen=True, slots=True)
class Step:
    """What one event does to a case, decided without I/O (`Decider.step`).

    `values` are the case columns it changes (the engine adds version, head and
    updated_at); `timers`, when not None, replace the case's open timers.
    """

    decision: Decision
    payload: dict[str, Any]  # validated: what the history stores
    values: dict[str, Any]
    timers: list[PlannedTimer] | None


@dataclass(frozen=True, slots=True)
class Move:
    """What moving an open case to a newer lifecycle does to it (`Decider.move`).

    `values` are the case columns it changes (the engine adds version, head and
    updated_at); `timers`, when not None, replace the case's open timers.
    """

    rule: MoveRule
    values: dict[str, Any]
    timers: list[PlannedTimer] | None

    def payload(self, from_version: int) -> dict[str, Any]:
        """What the history records of the move: the versions and the rule applied."""
        return {
            "from_version": from_version,
            "to_version": self.values["definition_version"],
            "rule": self.rule.name,
            "terms": self.rule.terms or "none",
        }


class Decider:
    """The engine's decisions, without I/O: what an event does to a case row.

    `Engine` stores what these decide; `audit verify` replays each history through the
    same methods to check that the case row, its parties and its open timers are what
    the history says (workflow/projection.py).
    """

    def __init__(self, calendar: BusinessCalendar | None = None) -> None:
        self.calendar = calendar or BusinessCalendar()
        self._rules: dict[int, Rules] = {}

    def rules(self, version: int) -> Rules:
        """The shared machine of one lifecycle version (built once)."""
        rules = self._rules.get(version)
        if rules is None:
            rules = self._rules.setdefault(version, Rules(states.get(version)))
        return rules

    def step(
        self,
        row: Any,
        event: str,
        actor: str,
        role: str,
        payload: Mapping[str, Any],
        now: datetime,
    ) -> Step:
        """Decide `event` fired by `actor` in `role` on the case `row` at `now`.

        Raises the engine's refusals (not allowed, guard failed, invalid payload …);
        the checks that need the database (a party's standing …) are the engine's.
        """
        decision, cleaned = self.admit(row, event, role, payload, now)
        values, planned = self.changes(row, decision, cleaned, actor, role, now)
        return Step(decision, cleaned, values, planned)

    def admit(
        self, row: Any, event: str, role: str, payload: Mapping[str, Any], now: datetime
    ) -> tuple[Decision, dict[str, Any]]:
        """The route `event` takes on the case `row`, and its checked payload."""
        rules = self.rules(row.definition_version)
        lc = rules.lifecycle
        decision = rules.decide(facts_of(row, lc), event, role)
        cleaned = validate_payload(
            decision.event, lc.reasons, payload, self.calendar.local_date(now)
        )
        check_reason_giver(lc, cleaned, role)
        return decision, cleaned

    def changes(
        self,
        row: Any,
        decision: Decision,
        payload: Mapping[str, Any],
        actor: str,
        role: str,
        now: datetime,
    ) -> tuple[dict[str, Any], list[PlannedTimer] | None]:
        """The case columns an admitted event changes (tallies too), and its new timers."""
        lc = self.rules(row.definition_version).lifecycle
        values, planned = self._changes(row, lc, decision, payload, now)
        values.update(tally(lc, row, decision.event.name, actor, role, now))
        return values, planned

    def decide_opening(self, lc: Lifecycle, event: str, role: str, origin: str) -> Decision:
        """The route of an opening event (the case is in the lifecycle's initial state)."""
        facts = Facts(lc.initial, origin, None, None, 0, 0, False)
        return self.rules(lc.version).decide(facts, event, role)

    def opening(
        self, lc: Lifecycle, decision: Decision, now: datetime
    ) -> tuple[dict[str, Any], list[PlannedTimer]]:
        """An opened case's term columns (and enforcement flag), and its timers."""
        values = self._enter_state(lc, decision.to_state, {}, now)
        planned: list[PlannedTimer] = values.pop("_timers")
        before = effects.Before(_NEW_CASE, None, {}, now, self.calendar)
        timers = effects.apply_all(decision.effects, before, values, planned)
        assert timers is not None  # an opening plans its state's term
        return values, timers

    def move(self, row: Any, target: Lifecycle, now: datetime) -> Move:
        """How the open case `row` moves to the lifecycle `target` (`[migration]`).

        The first rule of the case's state whose guards hold (facts read under the case's
        own version) decides the state and the term; raises `NoMoveRule` when none does.
        """
        source = self.rules(row.definition_version).lifecycle
        migration = target.migrations.get(source.version)
        facts = facts_of(row, source)
        rule = next(
            (
                r
                for r in (migration.rules_for(row.state) if migration else ())
                if all(GUARDS[g](facts) for g in r.guards)
            ),
            None,
        )
        if rule is None or row.closed_at is not None:
            raise NoMoveRule(row.id, row.state, source.version, target.version)
        values: dict[str, Any] = {"definition_version": target.version, "state": rule.target}
        timers: list[PlannedTimer] | None = []
        term = target.states[rule.target].term
        suspended = row.suspended_at is not None
        cal = self.calendar
        if target.states[rule.target].terminal:
            values.update(self._enter_state(target, rule.target, {}, now))
            timers = values.pop("_timers")
        elif term is None:
            values.update(term_name=None, term_due_at=None, term_days_left=None)
        elif rule.terms == "kept":
            timers = None
        elif rule.terms == "replanned":
            timers = None
            if not suspended and row.term_due_at is not None:
                last = cal.local_date(utc(row.term_due_at) - timedelta(microseconds=1))
                due = term_end(term, last, cal)
                values["term_due_at"] = due
                timers = plan(term, due, now, cal)
        elif suspended:  # restarted, with the whole term left for when the case resumes
            values.update(term_name=term.name, term_due_at=None, term_days_left=term.days)
        else:
            due = term_due(term, now, cal)
            values.update(term_name=term.name, term_due_at=due, term_days_left=None)
            timers = plan(term, due, now, cal)
        if rule.terms == "restarted":
            values["extensions_used"] = 0
        return Move(rule, values, timers)

    def _changes(
        self,
        row: Any,
        lc: Lifecycle,
        decision: Decision,
        payload: Mapping[str, str],
        now: datetime,
    ) -> tuple[dict[str, Any], list[PlannedTimer] | None]:
        """The case's new column values, and its new timers (None: keep the open ones)."""
        values: dict[str, Any] = {}
        planned: list[PlannedTimer] | None = None
        if decision.moves:
            values["state"] = decision.to_state
            values.update(self._enter_state(lc, decision.to_state, payload, now))
            planned = values.pop("_timers")
        before = effects.Before(row, lc.states[row.state].term, payload, now, self.calendar)
        return values, effects.apply_all(decision.effects, before, values, planned)

    def _enter_state(
        self, lc: Lifecycle, state: str, payload: Mapping[str, str], now: datetime
    ) -> dict[str, Any]:
        spec = lc.states[state]
        values: dict[str, Any] = {
            "term_name": None,
            "term_due_at": None,
            "term_days_left": None,
            "extensions_used": 0,
            "suspended_at": None,
            "_timers": [],
        }
        if spec.terminal:
            values["closed_at"] = now
        term = spec.term
        if term is not None:
            anchor: date | datetime = now
            if term.starts_from and term.starts_from in payload:
                anchor = date.fromisoformat(payload[term.starts_from])
            due = term_due(term, anchor, self.calendar)
            values.update(
                term_name=term.name,
                term_due_at=due,
                _timers=plan(term, due, now, self.calendar),
            )
        return values


class Engine(Decider):
    """The write side of tatulasu: open cases and fire events."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        calendar: BusinessCalendar | None = None,
        opens_version: int | None = None,
    ) -> None:
        super().__init__(calendar)
        self.store = store
        self.clock = clock or SystemClock()
        # The lifecycle new cases open under: the newest, unless a deployment holds back
        # until it moves its open cases (`lifecycle_version` setting).
        self.opens = states.current() if opens_version is None else states.get(opens_version)

    def lock(self, conn: Connection, case_id: int, skip_locked: bool = False) -> Any | None:
        """Lock a case row for the rest of the transaction; the row, or None if another
        transaction holds it (with `skip_locked`) or there is no such case.

        The timer sweep and the dispatcher take this lock before touching a case's timers
        or outbox rows: the same order as an ordinary event (case first), so they never
        deadlock with users. On SQLite the transaction's write lock already covers it.
        The row can be handed to `apply`, which then does not read it again.
        """
        query = _SELECT_CASE.with_for_update(skip_locked=skip_locked)
        return conn.execute(query, {"case_id": case_id}).first()

    # ------------------------------------------------------------------ commands

    def fire(
        self, cmd: FireEvent, authorize: Callable[[Connection, Any], None] | None = None
    ) -> EventApplied:
        """Apply one event to one case, in one transaction.

        `authorize`, when given, is called in that transaction with the case row before
        anything is written (an interface's check that the caller may act on this case)
        and refuses by raising.
        """
        request = {
            "case_id": cmd.case_id,
            "event": cmd.event,
            "actor": cmd.actor,
            "role": cmd.role,
            "payload": dict(cmd.payload),
            "expected_version": cmd.expected_version,
        }
        return self._idempotent(
            cmd.idempotency_key, request, lambda conn: self.apply_authorized(conn, cmd, authorize)
        )

    def apply_authorized(
        self,
        conn: Connection,
        cmd: FireEvent,
        authorize: Callable[[Connection, Any], None] | None,
        row: Any | None = None,
    ) -> EventApplied:
        """`apply`, after `authorize` has seen the case row (`row`, or read here).

        For an interface that reads the case together with its caller in the event's
        transaction; no idempotency key is kept (`fire` keeps them).
        """
        if row is None:
            row = conn.execute(_SELECT_CASE, {"case_id": cmd.case_id}).first()
        if row is None:
            raise NotFound("case", cmd.case_id)
        if authorize is not None:
            authorize(conn, row)
        return self.apply(conn, cmd, row)

    def open_case(self, cmd: OpenCase) -> EventApplied:
        """Open a case with an opening event (refer, court_refer, refer_enforcement)."""
        lc = self.opens
        decision = self._check_opening(cmd, lc)
        request = {k: v for k, v in vars(cmd).items() if k != "idempotency_key"}
        request["parties"] = [vars(p) for p in cmd.parties]
        return self._idempotent(
            cmd.idempotency_key, request, lambda conn: self._open(conn, cmd, lc, decision)
        )

    def open_case_in(self, conn: Connection, cmd: OpenCase) -> EventApplied:
        """Open a case inside the caller's transaction.

        For a batch that must open all of its cases or none (a bailiff's file); the caller
        commits or rolls back. Idempotency keys are not honoured here.
        """
        lc = self.opens
        return self._open(conn, cmd, lc, self._check_opening(cmd, lc))

    # ------------------------------------------------------------------ firing

    def apply(self, conn: Connection, cmd: FireEvent, locked: Any | None = None) -> EventApplied:
        """Apply `cmd` inside the caller's transaction (the timer sweep uses this too).

        `locked` is the case row the caller read in this transaction (with `lock`, or a
        plain read: the version-checked UPDATE refuses a row that changed since).
        """
        now = self.clock.now()
        row = (
            locked
            if locked is not None
            else conn.execute(_SELECT_CASE, {"case_id": cmd.case_id}).first()
        )
        if row is None:
            raise NotFound("case", cmd.case_id)
        if cmd.expected_version is not None and row.version != cmd.expected_version:
            raise StaleVersion(cmd.case_id, cmd.expected_version, row.version)
        names.check("actor", cmd.actor)
        decision, payload = self.admit(row, cmd.event, cmd.role, cmd.payload, now)
        if cmd.role == "party":
            standing.check_party(conn, decision.event, cmd.actor, row.id)
        values, planned = self.changes(row, decision, payload, cmd.actor, cmd.role, now)
        if "mediator" in values:
            standing.check_mediator(conn, "payload.mediator", values["mediator"], row, cmd.role)
        if "bailiff" in values:
            standing.check_bailiff(conn, "payload.bailiff", values["bailiff"], row)
        change = unit_of_work.recorded(
            row, cmd.event, cmd.actor, cmd.role, now, decision.to_state, canonical_json(payload),
            values, planned, had_term=row.term_name is not None,
        )  # fmt: skip
        unit_of_work.write(conn, change)
        recipients = (*decision.event.notify, *cmd.notify)
        context = payload
        if row.enforcement_suspended and change.values.get("enforcement_suspended") is False:
            # Enforcement resumes: the bailiff hears of it, whatever the event's notify says.
            recipients, context = (*recipients, "bailiff"), {**payload, "enforcement": "resumed"}
        if recipients:
            write_outbox(
                conn,
                {**row._mapping, **change.values},
                change.record["seq"],
                cmd.event,
                row.state,
                context,
                recipients,
                now,
            )
        return _applied(change.record, change.values.get("term_due_at", row.term_due_at))

    # ------------------------------------------------------------------ opening

    def _check_opening(self, cmd: OpenCase, lc: Lifecycle) -> Decision:
        if cmd.event not in lc.opening_events():
            raise InvalidField(
                "event", f"{cmd.event!r} does not open a case; use {', '.join(lc.opening_events())}"
            )
        decision = self.decide_opening(lc, cmd.event, cmd.role, origin_of(lc, cmd))
        check_opening(cmd, opens(lc, cmd))
        return decision

    def _open(
        self, conn: Connection, cmd: OpenCase, lc: Lifecycle, decision: Decision
    ) -> EventApplied:
        now = self.clock.now()
        values, planned = self.opening(lc, decision, now)
        opened = openings.write(
            conn, lc, [openings.prepare(cmd, lc, decision, values, planned, now)], now
        )
        return _applied(opened[0].record, values.get("term_due_at"))

    def open_cases_in(self, conn: Connection, cmds: Sequence[OpenCase]) -> list[EventApplied]:
        """Open several cases inside the caller's transaction, a few statements for all.

        Each is checked and stored exactly as `open_case` would (the same `openings`
        code); the caller commits or rolls back. Idempotency keys are not honoured here.
        """
        lc = self.opens
        now = self.clock.now()
        batch = []
        for cmd in cmds:
            decision = self._check_opening(cmd, lc)
            values, planned = self.opening(lc, decision, now)
            batch.append(openings.prepare(cmd, lc, decision, values, planned, now))
        return [
            _applied(d.record, d.opening.case.get("term_due_at"))
            for d in openings.write(conn, lc, batch, now)
        ]

    # ------------------------------------------------------------------ idempotency

    def _idempotent(
        self,
        key: str | None,
        request: Mapping[str, Any],
        action: Callable[[Connection], EventApplied],
    ) -> EventApplied:
        if key is None:
            with self.store.transaction() as conn:
                return action(conn)
        if not key.strip() or len(key) > 200:
            raise InvalidField("idempotency_key", "must be 1 to 200 characters")
        request_hash = hashlib.sha256(canonical_json(request).encode()).hexdigest()
        try:
            with self.store.transaction() as conn:
                prior = conn.execute(_SELECT_KEY, {"key": key}).first()
                if prior is not None:
                    return _replay(prior, key, request_hash)
                result = action(conn)
                conn.execute(
                    idempotency_keys.insert().values(
                        key=key,
                        case_id=result.case_id,
                        request_hash=request_hash,
                        result=canonical_json(result.to_dict()),
                        created_at=self.clock.now(),
                    )
                )
                return result
        except Conflict:  # ConcurrentInsert too: the store translates the key's clash
            # A twin command with the same key may have committed first.
            with self.store.reading() as conn:
                prior = conn.execute(_SELECT_KEY, {"key": key}).first()
            if prior is None:
                raise
            return _replay(prior, key, request_hash)


def _applied(record: Mapping[str, Any], due: datetime | None) -> EventApplied:
    return EventApplied(
        case_id=record["case_id"],
        seq=record["seq"],
        event=record["event"],
        from_state=record["from_state"],
        to_state=record["to_state"],
        at=format_instant(record["at"]),
        hash=record["hash"],
        term_due_at=format_instant(due) if due is not None else None,
    )


def _replay(prior: Any, key: str, request_hash: str) -> EventApplied:
    if prior.request_hash != request_hash:
        raise IdempotencyKeyReused(key)
    return EventApplied(**json.loads(prior.result))


__all__ = ["Engine", "translate_errors"]
