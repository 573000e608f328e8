"""Random event sequences (hypothesis, rule-based) keep the engine's invariants.

Each example gets a fresh SQLite file, opens one case and fires events drawn from the
definition: mostly events the state allows, with roles and payloads that are sometimes
right and sometimes wrong, and lets time pass so timers fire. After every step: the state
is one of the definition's, the version moved by one per accepted event and not at all
on a refused one (nothing else in the database changed either), the history has exactly
`version` records, and the chain verifies.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import states
from states.vocabulary import PROCEDURES, ROLES
from workflow import audit, timers, users
from workflow.clock import SimulatedClock
from workflow.commands import FireEvent, OpenCase, PartyInput
from workflow.engine import Engine
from workflow.errors import TatulasuError
from workflow.rules import facts_of
from workflow.schema import audit_events, cases, idempotency_keys, outbox, parties
from workflow.schema import timers as timer_table
from workflow.store import Store
from workflow.users import User

LC = states.current()
EVENTS = sorted(LC.events)
CLOSING = {"withdraw", "decline"}
START = datetime(2024, 4, 22, 4, 0, tzinfo=UTC)
TABLES = (cases, parties, audit_events, timer_table, outbox, idempotency_keys)
RECEIPT = {"key": "k", "channel": "sms", "status": "delivered", "reference": "gw"}

OPENINGS = {
    "refer": dict(
        role="party",
        parties=(
            PartyInput("claimant", "A", "061211600012", email="a@example.kz"),
            PartyInput("respondent", "B", "940140000385"),
        ),
    ),
    "court_refer": dict(
        role="court",
        parties=(
            PartyInput("claimant", "A", "061211600012"),
            PartyInput("respondent", "B", "990140004654", phone="+77011234567"),
        ),
    ),
    "refer_enforcement": dict(
        role="bailiff",
        enforcement_proceeding="EP-1",
        parties=(
            PartyInput("debtor", "A", "061211600012"),
            PartyInput("creditor", "B", "940140000385"),
        ),
    ),
}


def field_values(kind: str, reasons: frozenset[str], today: str) -> st.SearchStrategy[Any]:
    """Mostly good values of a field type, sometimes bad ones."""
    good: dict[str, st.SearchStrategy[Any]] = {
        "text": st.sampled_from(["med-2", "ref-1", "bailiff-2"]),
        "date": st.just(today),
        "procedure": st.sampled_from(sorted(PROCEDURES)),
        "reason": st.sampled_from(sorted(reasons)) if reasons else st.just("other"),
        "receipts": st.just([RECEIPT]),
    }
    bad = st.sampled_from(["", "2999-01-01", "not-a-code", 7])
    return st.one_of(*[good[kind]] * 7, bad)


class CaseLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="tatulasu-hyp-"))
        self.store = Store(f"sqlite:///{self.dir / 'db.sqlite'}")
        self.store.migrate()
        self.clock = SimulatedClock(START)
        self.engine = Engine(self.store, clock=self.clock)
        self.case_id = 0
        self.version = 0
        self.state = ""

    def teardown(self) -> None:
        self.store.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -------------------------------------------------------------- helpers

    def row(self) -> Any:
        with self.store.reading() as conn:
            return conn.execute(sa.select(cases).where(cases.c.id == self.case_id)).one()

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.store.reading() as conn:
            return {
                t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key))]
                for t in TABLES
            }

    def today(self) -> str:
        return self.engine.calendar.local_date(self.clock.now()).isoformat()

    # -------------------------------------------------------------- rules

    @initialize(kind=st.sampled_from(sorted(OPENINGS)))
    def open_case(self, kind: str) -> None:
        spec = OPENINGS[kind]
        with self.store.transaction() as conn:  # the mediator and bailiff the payloads name
            users.create(conn, User("med-2", "M", "mediator", "VKO", "Centre"), START)
            users.create(conn, User("bailiff-2", "B", "bailiff", "VKO", None), START)
        opened = self.engine.open_case(
            OpenCase(event=kind, actor="opener", region="VKO", centre="Centre", **spec)
        )
        self.case_id, self.version, self.state = opened.case_id, 1, opened.to_state

    @precondition(lambda self: self.case_id)
    @rule(data=st.data())
    def fire_an_event(self, data: st.DataObject) -> None:
        row = self.row()
        rules = self.engine.rules(row.definition_version)
        allowed = rules.allowed_events(facts_of(row, LC))
        if allowed and data.draw(st.integers(0, 3), "pick allowed"):
            # Events that close the case are drawn less often, to explore deeper.
            pool = [e for e in allowed for _ in range(1 if e in CLOSING else 4)]
        else:
            pool = [*EVENTS, "teleport"]
        event = data.draw(st.sampled_from(pool), "event")
        spec = LC.events.get(event)
        right_role = data.draw(st.integers(0, 4), "right role") != 0
        roles = sorted(spec.roles) if spec and right_role else ROLES
        role = data.draw(st.sampled_from(sorted(roles)), "role")
        payload: dict[str, Any] = {}
        if spec is not None:
            fields = dict(spec.payload) | dict(spec.optional)
            if spec.reasons:
                fields["reason"] = "reason"
            reasons = LC.reasons.get(spec.reasons or "", frozenset())
            for name, kind in fields.items():
                required = name in spec.payload or name == "reason"
                send = required or data.draw(st.booleans(), f"send {name}")
                if send and data.draw(st.integers(0, 15), f"omit {name}") != 0:
                    payload[name] = data.draw(field_values(kind, reasons, self.today()), name)
            if data.draw(st.integers(0, 10), "extra field") == 0:
                payload["what_was_said"] = "confidential"
        expected = data.draw(st.sampled_from([None, None, None, self.version, self.version - 1]))

        before = self.snapshot()
        try:
            result = self.engine.fire(
                FireEvent(self.case_id, event, "actor", role, payload, expected_version=expected)
            )
        except TatulasuError:
            assert self.snapshot() == before, "a refused event changed the database"
            assert self.row().version == self.version
            return
        assert expected in (None, self.version)
        assert result.seq == self.version + 1
        assert result.from_state == self.state
        self.version, self.state = result.seq, result.to_state
        hypothesis.event(f"reached {self.state}")

    @precondition(lambda self: self.case_id)
    @rule(days=st.sampled_from([0.5, 1, 3, 9, 11, 29, 31, 45]))
    def time_passes(self, days: float) -> None:
        self.clock.advance(timedelta(days=days))
        fired = 0
        while True:
            result = timers.sweep(self.engine)
            assert result.refused == []
            if not result.fired:
                break
            fired += result.fired
        row = self.row()
        assert row.version == self.version + fired
        self.version, self.state = row.version, row.state

    # -------------------------------------------------------------- invariants

    @invariant()
    def the_case_is_consistent(self) -> None:
        if not self.case_id:
            return
        row = self.row()
        assert row.state in LC.states
        assert row.state != LC.initial
        assert (row.version, row.state) == (self.version, self.state)
        spec = LC.states[row.state]
        if spec.terminal:
            assert row.closed_at is not None and row.term_due_at is None
        with self.store.reading() as conn:
            records = conn.execute(
                sa.select(sa.func.count())
                .select_from(audit_events)
                .where(audit_events.c.case_id == self.case_id)
            ).scalar_one()
            report = audit.verify(conn)
            open_terms = {
                r.term
                for r in conn.execute(
                    sa.select(timer_table.c.term).where(
                        timer_table.c.case_id == self.case_id, timer_table.c.fired_at.is_(None)
                    )
                )
            }
        assert records == row.version
        assert report.ok, report.breaks
        # Open timers belong to the current state's running term, and only while it runs.
        if row.suspended_at is not None or spec.term is None:
            assert open_terms == set()
        else:
            assert open_terms <= {spec.term.name}


def test_random_event_sequences_keep_the_invariants() -> None:
    run_state_machine_as_test(
        CaseLifecycle,
        settings=settings(
            max_examples=50,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
