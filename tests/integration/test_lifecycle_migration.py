"""Open cases moved from lifecycle version 1 to version 2, each on the record.

Cases are opened under version 1 (as a deployment that held back the new version), in
every open state, then moved: the dry run writes nothing; the move puts each case where
version 2's `[migration]` rules say, keeps, re-plans or restarts its term as they say,
records the move in the case's chain, and `audit verify` replays every case through the
move. Closed cases stay on version 1 and the report on them does not change.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

import states
from tests.conftest import Desk
from workflow import audit, moves
from workflow.clock import SimulatedClock
from workflow.engine import Engine
from workflow.errors import ConcurrentUpdate, InvalidField, NoMoveRule, NotFound
from workflow.schema import audit_events, cases, timers
from workflow.store import Store, utc
from workflow.summary import summary

OPEN_STATES = (
    "referred",
    "pre_trial",
    "in_mediation",
    "court_conciliation",
    "enforcement_reconciliation",
    "agreement",
    "court",  # a pre-trial failure (see `_open_in`), which version 1 leaves before the court
)


@pytest.fixture
def v1(store: Store, clock: Any, calendar: Any) -> Desk:
    """A desk whose engine opens cases under version 1."""
    return Desk(Engine(store, clock=clock, calendar=calendar, opens_version=1), clock)


def _open_timers(store: Store, case_id: int) -> list[tuple[Any, ...]]:
    with store.reading() as conn:
        rows = conn.execute(
            sa.select(timers.c.kind, timers.c.event, timers.c.due_at)
            .where(timers.c.case_id == case_id, timers.c.fired_at.is_(None))
            .order_by(timers.c.due_at, timers.c.id)
        ).all()
    return [(k, e, utc(d)) for k, e, d in rows]


def _open_in(v1: Desk, state: str) -> int:
    """A version 1 case in `state`; in "court" after mediation failed before any court."""
    if state != "court":
        return v1.to_state(state)
    case_id = v1.to_state("in_mediation")
    v1.fire(case_id, "fail", "mediator", reason="no_agreement")
    return case_id


def _a_court_case_from_a_court(v1: Desk) -> int:
    return v1.to_state("court")


def test_new_cases_open_under_the_newest_version_and_v1_cases_live_beside_them(
    engine: Engine, v1: Desk
) -> None:
    assert states.current().version == 2
    new = Desk(engine, v1.clock)
    old_id, new_id = _open_in(v1, "court"), new.refer().case_id
    assert (v1.case(old_id).definition_version, v1.case(new_id).definition_version) == (1, 2)
    # The same events, each by its own version's rules: a pre-trial failure is a court
    # case under version 1 and a closed one under version 2.
    new.fire(new_id, "accept", "coordinator")
    new.fire(new_id, "assign_mediator", "coordinator", mediator=new.register("med-1"))
    new.fire(new_id, "start_mediation", "mediator", contract_signed_on=new.today())
    done = new.fire(new_id, "fail", "mediator", reason="no_agreement")
    assert (v1.case(old_id).state, done.to_state) == ("court", "closed_no_agreement")
    with v1.store.reading() as conn:
        assert audit.verify(conn, decider=engine).ok


def test_the_dry_run_says_what_would_change_and_writes_nothing(v1: Desk) -> None:
    ids = {state: _open_in(v1, state) for state in OPEN_STATES}
    before = {i: (v1.case(i), _open_timers(v1.store, i)) for i in ids.values()}
    report = moves.move_cases(v1.engine, 1, 2, "operator", dry_run=True)
    placed = {m.case_id: m.to_state for m in report.moved}
    assert placed == {
        ids["referred"]: "referred",
        ids["pre_trial"]: "offer_sent",
        ids["in_mediation"]: "in_mediation",
        ids["court_conciliation"]: "court_conciliation",
        ids["enforcement_reconciliation"]: "enforcement_reconciliation",
        ids["agreement"]: "agreement",
        ids["court"]: "closed_no_agreement",  # a pre-trial failure, not a court case
    }
    assert report.unplaced == []
    for case_id, (row, open_timers) in before.items():
        assert v1.case(case_id) == row
        assert _open_timers(v1.store, case_id) == open_timers


def test_the_move_places_each_case_records_it_and_verify_replays_it(
    v1: Desk, calendar: Any
) -> None:
    ids = {state: _open_in(v1, state) for state in OPEN_STATES}
    from_court = _a_court_case_from_a_court(v1)
    closed = v1.to_state("in_mediation")
    v1.fire(closed, "reach_agreement", "mediator", agreement_ref="MA-9")
    kept = {s: (v1.case(ids[s]).term_due_at, _open_timers(v1.store, ids[s])) for s in OPEN_STATES}
    v1.clock.advance(timedelta(hours=3))

    report = moves.move_cases(v1.engine, 1, 2, "operator")
    assert len(report.moved) == len(OPEN_STATES) + 1 and not report.unplaced
    moved_at = v1.clock.now()
    for state in ("referred", "court_conciliation", "enforcement_reconciliation", "agreement"):
        row = v1.case(ids[state])
        assert (row.definition_version, row.state) == (2, state)
        assert (row.term_due_at, _open_timers(v1.store, ids[state])) == kept[state]  # kept

    offer = v1.case(ids["pre_trial"])  # restarted: the fallback term from the move
    assert (offer.state, offer.term_name) == ("offer_sent", "offer_delivery")
    term = states.get(2).states["offer_sent"].term
    assert term is not None
    assert utc(offer.term_due_at) == calendar.end_of_day(
        calendar.add_days(calendar.local_date(moved_at), 5, "working")
    )
    assert [e for _k, e, _d in _open_timers(v1.store, ids["pre_trial"])] == [
        "escalate",
        "escalate",
    ]  # it escalates to the coordinator; it never takes the offer as refused

    mediation = v1.case(ids["in_mediation"])  # replanned: the same or a later day
    assert utc(mediation.term_due_at) >= utc(kept["in_mediation"][0])
    assert calendar.is_working_day(calendar.local_date(utc(mediation.term_due_at)))

    failed = v1.case(ids["court"])
    assert (failed.state, failed.definition_version) == ("closed_no_agreement", 2)
    assert failed.closed_at is not None and _open_timers(v1.store, ids["court"]) == []
    assert v1.case(from_court).state == "court"
    assert v1.case(closed).definition_version == 1  # closed: stays

    last = v1.history(ids["court"])[-1]
    assert (last.event, last.role, last.actor) == ("change_lifecycle", "admin", "operator")
    assert (last.from_state, last.to_state) == ("court", "closed_no_agreement")
    assert '"rule":"court.not_from_court"' in last.payload
    with v1.store.reading() as conn:
        found = audit.verify(conn, decider=v1.engine)
    assert found.ok, found.breaks

    # After the move the case follows version 2: an approval awaits the ruling's effect.
    v1.fire(ids["agreement"], "approve", "court", ruling_ref="R-1", ruling_prepared_on=v1.today())
    assert v1.case(ids["agreement"]).state == "approved"
    with v1.store.reading() as conn:
        assert audit.verify(conn, decider=v1.engine).ok


def test_a_second_run_moves_nothing_and_closed_cases_are_not_touched(v1: Desk) -> None:
    for state in OPEN_STATES:
        _open_in(v1, state)
    done = v1.to_state("in_mediation")
    v1.fire(done, "reach_agreement", "mediator", agreement_ref="MA-1")
    declined = v1.refer().case_id
    v1.fire(declined, "decline", "coordinator", reason="not_competent")
    closed = {i: (v1.case(i), v1.history(i)) for i in (done, declined)}
    with v1.store.reading() as conn:
        before = summary(conn)
    first = moves.move_cases(v1.engine, 1, 2, "operator")
    again = moves.move_cases(v1.engine, 1, 2, "operator")
    assert len(first.moved) == len(OPEN_STATES) and again.moved == []
    assert {i: (v1.case(i), v1.history(i)) for i in closed} == closed
    with v1.store.reading() as conn:
        after = summary(conn)
    # The report's closed outcomes are the same, but for the one pre-trial failure the
    # move closed (a case version 1 left open before the court forever).
    assert after.reconciled == before.reconciled
    assert after.outcomes["settled"] == before.outcomes["settled"]
    closed_failures = after.outcomes["closed_no_agreement"]
    assert closed_failures == before.outcomes.get("closed_no_agreement", 0) + 1
    assert (after.closed, after.open) == (before.closed + 1, before.open - 1)


def test_one_case_by_id_and_refusals_name_what_is_wrong(v1: Desk) -> None:
    one, other = v1.to_state("pre_trial"), v1.to_state("referred")
    report = moves.move_cases(v1.engine, 1, 2, "operator", case_ids=[one])
    assert [m.case_id for m in report.moved] == [one]
    assert v1.case(other).definition_version == 1
    with pytest.raises(InvalidField, match="--case"):
        moves.move_cases(v1.engine, 1, 2, "operator", case_ids=[one])  # on version 2 now
    with pytest.raises(NotFound):
        moves.move_cases(v1.engine, 1, 2, "operator", case_ids=[99999])
    with pytest.raises(InvalidField, match="--from"):
        moves.move_cases(v1.engine, 7, 2, "operator")
    with pytest.raises(InvalidField, match="no move from version 2"):
        moves.move_cases(v1.engine, 2, 2, "operator")


def test_a_case_in_a_state_without_a_rule_is_listed_by_name_and_left_untouched(
    v1: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = states.get(2)
    migration = target.migrations[1]
    without_agreement = dataclasses.replace(
        migration, rules=tuple(r for r in migration.rules if r.source != "agreement")
    )
    narrowed = dataclasses.replace(target, migrations={1: without_agreement})
    stuck, fine = v1.to_state("agreement"), v1.to_state("referred")
    real_get = states.get
    monkeypatch.setattr(moves.states, "get", lambda v: narrowed if v == 2 else real_get(v))
    before = v1.case(stuck)
    report = moves.move_cases(v1.engine, 1, 2, "operator")
    assert [m.case_id for m in report.moved] == [fine]
    (refused,) = report.unplaced
    assert isinstance(refused, NoMoveRule) and refused.case_id == stuck
    assert "'agreement'" in str(refused) and f"case {stuck}" in str(refused)
    assert v1.case(stuck) == before


def test_a_case_changed_during_its_move_is_decided_again(
    v1: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = v1.to_state("referred")
    real = moves.store
    calls = []

    def racing(conn: Any, row: Any, move: Any, event: str, actor: str, now: Any) -> None:
        calls.append(row.version)
        if len(calls) == 1:
            raise ConcurrentUpdate(row.id, row.version)
        real(conn, row, move, event, actor, now)

    monkeypatch.setattr(moves, "store", racing)
    report = moves.move_cases(v1.engine, 1, 2, "operator")
    assert [m.case_id for m in report.moved] == [case_id] and len(calls) == 2
    with v1.store.reading() as conn:
        n = conn.execute(
            sa.select(sa.func.count())
            .select_from(audit_events)
            .where(audit_events.c.case_id == case_id, audit_events.c.event == "change_lifecycle")
        ).scalar_one()
        assert n == 1
        assert (
            conn.execute(
                sa.select(cases.c.definition_version).where(cases.c.id == case_id)
            ).scalar_one()
            == 2
        )


@pytest.mark.slow
def test_a_demo_year_and_its_open_cases_move_with_the_year_s_report_unchanged(
    tmp_path: Any, calendar: Any
) -> None:
    """The demo's year (2025, version 1) plus cases still open in every state: the dry
    run, the move, `audit verify` over all, and the closed cases' report unchanged."""
    from tatulasu.demo.run import run_demo

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    run_demo(url, cases=40, progress=False)
    store = Store(url)
    try:
        clock = SimulatedClock(datetime.now(UTC))
        v1 = Desk(Engine(store, clock=clock, calendar=calendar, opens_version=1), clock)
        opened = [_open_in(v1, state) for state in OPEN_STATES]
        with store.reading() as conn:
            year = summary(conn, until=datetime(2026, 1, 1, tzinfo=UTC))
            closed = conn.execute(
                sa.select(cases).where(cases.c.closed_at.is_not(None)).order_by(cases.c.id)
            ).all()
        dry = moves.move_cases(v1.engine, 1, 2, "operator", dry_run=True)
        assert sorted(m.case_id for m in dry.moved) == opened and not dry.unplaced
        done = moves.move_cases(v1.engine, 1, 2, "operator")
        assert [m.case_id for m in done.moved] == [m.case_id for m in dry.moved]
        with store.reading() as conn:
            found = audit.verify(conn, decider=v1.engine)
            assert found.ok and found.cases == 40 + len(OPEN_STATES), found.breaks[:3]
            assert summary(conn, until=datetime(2026, 1, 1, tzinfo=UTC)) == year
            assert conn.execute(
                sa.select(cases).where(cases.c.closed_at.is_not(None), cases.c.id <= 40)
                .order_by(cases.c.id)
            ).all() == [c for c in closed if c.id <= 40]  # fmt: skip
    finally:
        store.dispose()
