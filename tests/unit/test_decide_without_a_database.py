"""The engine's decisions, without a database: random commands on a case kept in memory.

`Decider.step` is the pure part of the engine (what `Engine.apply` stores and `audit
verify` replays). Hypothesis draws commands for each lifecycle version — events of the
definition, any role, payloads right and wrong, time passing — and applies each accepted
one to an in-memory case row. After every command: a refusal is one of the engine's
refusals and changes nothing; an accepted event leaves the case in a state of the
definition, closes it exactly when the state is terminal, keeps the term's columns
consistent with the state and the suspension, never lowers a tally, and plans timers
only for the new state's term, in order and after the instant the term started.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import states
from states.vocabulary import PROCEDURES, ROLES
from workflow.calendar import BusinessCalendar
from workflow.engine import Decider
from workflow.errors import TatulasuError
from workflow.projection import CASE_COLUMNS, CaseState
from workflow.rules import facts_of
from workflow.tallies import COUNTS

START = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
CAL = BusinessCalendar()
DECIDER = Decider(CAL)
TODAY = CAL.local_date(START)


def opened(version: int, event: str) -> CaseState:
    """A case just opened by `event` under `version`, as the engine's opening decides it."""
    lc = states.get(version)
    spec = lc.events[event]
    role = sorted(spec.roles)[0]
    origin = spec.opens.origin_for(role) if spec.opens else ""
    decision = DECIDER.decide_opening(lc, event, role, origin)
    values, _timers = DECIDER.opening(lc, decision, START)
    return CaseState(
        {
            **CASE_COLUMNS,
            "id": 1,
            "definition_version": version,
            "state": decision.to_state,
            "version": 1,
            "origin": origin,
            "procedure": spec.opens.procedure if spec.opens else None,
            "opened_at": START,
            "updated_at": START,
            **values,
        }
    )


def value_for(name: str, kind: str, spec: Any, lc: Any, role: str, draw: Any) -> Any:
    """Mostly a value the event accepts (a reason the role may give), sometimes not."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["2031-01-01", "yesterday", "", "x" * 501, "bored"]))
    if kind == "date":
        return TODAY.isoformat()
    if kind == "procedure":
        return draw(st.sampled_from(sorted(PROCEDURES)))
    if kind == "reason":
        codes = sorted(c for c in lc.reasons[spec.reasons or ""] if lc.may_give(role, c))
        return draw(st.sampled_from(codes or ["bored"]))
    if kind == "receipts":
        return [{"key": "k", "channel": "sms", "status": "delivered", "reference": "gw"}]
    return f"{name}-1"


def command(
    data: st.DataObject, lc: Any, case: CaseState
) -> tuple[str, str, dict[str, Any], float]:
    """Mostly an event the case's state allows, by a role its route allows; sometimes any."""
    rules = DECIDER.rules(lc.version)
    allowed = rules.allowed_events(facts_of(case, lc))
    if allowed and data.draw(st.integers(0, 4)) > 0:
        event = data.draw(st.sampled_from(allowed))
        spec = lc.events[event]
        routes = lc.table[(case.state, event)]
        roles = sorted(routes[0].roles or spec.roles)
    else:
        event = data.draw(st.sampled_from(sorted(lc.events)))
        spec = lc.events[event]
        roles = sorted(ROLES)
    role = data.draw(st.sampled_from(roles))
    fields = {**spec.payload, **spec.optional}
    if spec.reasons is not None:
        fields["reason"] = "reason"
    payload = {
        name: value_for(name, kind, spec, lc, role, data.draw)
        for name, kind in fields.items()
        if name in spec.payload or name == "reason" or data.draw(st.booleans())
    }
    hours = data.draw(st.sampled_from([0.0, 1.0, 30.0, 24.0 * 12]))
    return event, role, payload, hours


def check(lc: Any, case: CaseState, started: datetime) -> None:
    spec = lc.states[case.state]
    assert (case.closed_at is not None) == spec.terminal
    if spec.terminal or spec.term is None:
        assert case.term_name is None and case.term_due_at is None
    else:
        assert case.term_name == spec.term.name
        suspended = case.suspended_at is not None
        assert (case.term_due_at is None) == suspended  # a suspended term has no end yet
        assert (case.term_days_left is not None) == suspended  # but the days it had left
    for column in COUNTS:
        assert getattr(case, column) >= 0


@pytest.mark.parametrize("version", states.versions())
@pytest.mark.parametrize("opening", ["refer", "court_refer", "refer_enforcement"])
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@hypothesis.given(data=st.data())
def test_random_commands_keep_the_case_consistent(
    version: int, opening: str, data: st.DataObject
) -> None:
    lc = states.get(version)
    case = opened(version, opening)
    now = START
    check(lc, case, now)
    accepted = 0
    for _ in range(data.draw(st.integers(min_value=1, max_value=25))):
        event, role, payload, hours = command(data, lc, case)
        now += timedelta(hours=hours)
        before = copy.deepcopy(case.__dict__)
        try:
            step = DECIDER.step(case, event, f"{role}-1", role, payload, now)
        except TatulasuError:
            assert case.__dict__ == before  # a refusal changes nothing
            continue
        assert step.decision.event.name == event
        if step.timers is not None:
            assert all(t.due_at > now or t.kind == "expiry" for t in step.timers)
            term = lc.states[step.values.get("state", case.state)].term
            assert all(t.term == (term.name if term else None) for t in step.timers)
        accepted += 1
        tallies = {c: getattr(case, c) for c in COUNTS}
        case.__dict__.update(step.values)
        case.version += 1
        assert all(getattr(case, c) >= tallies[c] for c in COUNTS)
        check(lc, case, now)
    hypothesis.event(f"accepted {min(accepted, 5)}+ events" if accepted >= 5 else "few accepted")


def test_the_same_command_on_the_same_case_decides_the_same_change() -> None:
    lc = states.get(2)
    case = opened(2, "refer")
    first = DECIDER.step(case, "accept", "coord-1", "coordinator", {}, START)
    again = DECIDER.step(case, "accept", "coord-1", "coordinator", {}, START)
    assert first == again and lc.states[first.values["state"]].term is not None
    assert date.fromisoformat(TODAY.isoformat()) == TODAY
