"""Deciding events in memory: the shared machine (`Rules.decide`) vs. a Machine per case.

The mix below is what a centre's day looks like: consultations and sessions recorded,
referrals accepted, mediators assigned, mediation started, extended, agreed, approved,
rejected, failed, reminders and escalations by the system, a suspension and a resume.
The naive way builds a `transitions` Machine for the case from the same definition
(`states.definition.build_machine`) with a fresh model, puts it in the case's state and
triggers the event. Memory is measured with tracemalloc: one naive Machine (kept alive,
as a per-case machine would be) against the one shared Machine of a lifecycle version.

    python -m bench.machine            # full run
    python -m bench.machine --quick    # a few seconds
"""

from __future__ import annotations

import gc
import statistics
import tracemalloc
from collections.abc import Callable
from typing import Any

import states
from bench.common import Row, parser, print_table, rate
from states import Lifecycle
from states.definition import build_machine
from workflow.rules import GUARDS, Facts, Rules

# (weight, state, origin, mediator, extensions_used, suspended, event, role)
MIX: list[tuple[int, str, str, str | None, int, bool, str, str]] = [
    (20, "pre_trial", "party", None, 0, False, "record_consultation", "coordinator"),
    (15, "in_mediation", "party", "m-1", 0, False, "record_session", "mediator"),
    (8, "referred", "party", None, 0, False, "accept", "coordinator"),
    (8, "referred", "party", None, 0, False, "assign_mediator", "coordinator"),
    (6, "pre_trial", "party", "m-1", 0, False, "start_mediation", "mediator"),
    (6, "enforcement_reconciliation", "bailiff", "m-1", 0, False, "record_session", "mediator"),
    (5, "in_mediation", "party", "m-1", 0, False, "reach_agreement", "mediator"),
    (4, "court_conciliation", "court", "m-1", 0, False, "reach_agreement", "mediator"),
    (4, "agreement", "court", "m-1", 0, False, "approve", "court"),
    (2, "agreement", "bailiff", "m-1", 0, False, "reject", "court"),
    (2, "agreement", "court", "m-1", 0, False, "reject", "court"),
    (3, "in_mediation", "party", "m-1", 0, False, "extend", "mediator"),
    (3, "in_mediation", "party", "m-1", 1, False, "fail", "mediator"),
    (3, "enforcement_reconciliation", "bailiff", "m-1", 0, False, "fail", "system"),
    (4, "pre_trial", "party", "m-1", 0, False, "remind", "system"),
    (2, "agreement", "court", "m-1", 0, False, "escalate", "system"),
    (2, "pre_trial", "party", None, 0, False, "no_consent", "system"),
    (1, "in_mediation", "party", "m-1", 0, False, "suspend", "coordinator"),
    (1, "in_mediation", "party", "m-1", 0, True, "resume", "coordinator"),
    (1, "referred", "party", None, 0, False, "withdraw", "party"),
]


def mix(lc: Lifecycle) -> list[tuple[Facts, str, str]]:
    """The weighted mix, interleaved so consecutive calls differ."""
    items: list[tuple[Facts, str, str]] = []
    for weight, state, origin, mediator, used, suspended, event, role in MIX:
        term = lc.states[state].term
        allowed = term.extension.times if term is not None and term.extension else 0
        facts = Facts(state, origin, mediator, None, used, allowed, suspended)
        items.extend([(facts, event, role)] * weight)
    step = 37  # coprime with len(items): a fixed, well-spread order
    return [items[(i * step) % len(items)] for i in range(len(items))]


class NaiveModel:
    """A fresh model per case, with the same guards as the shared one."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        for name, guard in GUARDS.items():
            setattr(self, f"guard_{name}", _bind(guard, facts))


def _bind(guard: Callable[[Facts], bool], facts: Facts) -> Callable[[], bool]:
    return lambda: guard(facts)


def naive_decide(lc: Lifecycle, facts: Facts, event: str) -> Any:
    """Build a Machine for this one case, put it in the case's state, trigger the event."""
    model = NaiveModel(facts)
    machine = build_machine(lc, model=model)
    machine.set_state(facts.state, model)
    model.trigger(event)
    return model.state


class TriggeredEveryTime(Rules):
    """The shared machine without its memory of answers: triggered on every event."""

    def _route(self, facts: Facts, event: str) -> Any:
        return self._trigger(facts, event)


def _cycler(items: list[tuple[Facts, str, str]], call: Callable[..., object]) -> Callable[[], None]:
    position = 0

    def one() -> None:
        nonlocal position
        facts, event, role = items[position % len(items)]
        position += 1
        call(facts, event, role)

    return one


def _allocated_kb(build: Callable[[], object], n: int) -> float:
    """KB that stay allocated per object when `n` of them are kept alive."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    kept = [build() for _ in range(n)]
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    size = sum(s.size_diff for s in after.compare_to(before, "filename"))
    del kept
    return size / n / 1024


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    lc = states.current()
    rules = Rules(lc)
    items = mix(lc)
    n_shared = 20_000 if args.quick else 300_000
    n_naive = 100 if args.quick else 1_500
    rounds = 1 if args.quick else 5
    shared_one = _cycler(items, rules.decide)
    plain_one = _cycler(items, TriggeredEveryTime(lc).decide)
    naive_one = _cycler(items, lambda f, e, _r: naive_decide(lc, f, e))
    rate(len(items) * 10, shared_one)
    rate(len(items) * 10, plain_one)
    rate(20, naive_one)
    shared, plain, naive = [], [], []
    for _ in range(rounds):
        shared.append(rate(n_shared, shared_one))
        plain.append(rate(n_shared // 4, plain_one))
        naive.append(rate(n_naive, naive_one))
    naive_kb = _allocated_kb(lambda: build_machine(lc, model=NaiveModel(items[0][0])), 50)
    shared_kb = _allocated_kb(lambda: Rules(lc), 5)
    ours, trig, ref = (statistics.median(x) for x in (shared, plain, naive))
    cases = 10_000
    print_table(
        f"In-memory decisions, mix of {len(MIX)} (state, event) kinds, {rounds} rounds (median)",
        [
            Row(
                "events/s: Rules.decide vs Machine per case",
                ours,
                ref,
                "events/s",
                ">= 100,000/s and >= 100x",
            ),
            Row(
                "events/s: machine triggered every event",
                trig,
                ref,
                "events/s",
                "(no memo, for reference)",
            ),
            Row("microseconds per event", 1e6 / ours, 1e6 / ref, "us", "", False),
            Row("KB of one machine (shared vs per case)", shared_kb, naive_kb, "KB", "", False),
            Row(
                f"MB held for {cases:,} cases in memory",
                shared_kb / 1024,
                naive_kb * cases / 1024,
                "MB",
                "constant vs linear",
                False,
            ),
        ],
        "machine/case",
    )
    print(
        f"rounds shared: {[round(r) for r in shared]}; triggered: {[round(r) for r in plain]}; "
        f"naive: {[round(r) for r in naive]}"
    )


if __name__ == "__main__":
    main()
