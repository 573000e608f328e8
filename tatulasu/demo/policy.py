"""What the people around a simulated dispute do next, given the state the case is in.

The policy reads the case's *current* state, not a fixed script: when a term runs out
and the sweep moves the case (a refusal by silence, a failed mediation), the next look
simply finds the case somewhere else and carries on from there, as a clerk would.
A `Wait` is how a plan lets a deadline run out: nobody acts, the timer does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from tatulasu.demo.plans import Plan


@dataclass(frozen=True)
class Snapshot:
    state: str
    mediator: str | None
    suspended: bool


@dataclass(frozen=True)
class Step:
    """Fire `event`; look at the case again `wait` days later; count `mark` as done."""

    event: str
    role: str
    actor: str
    payload: dict[str, str] = field(default_factory=dict)
    wait: int = 1
    mark: str | None = None


@dataclass(frozen=True)
class Wait:
    days: int
    mark: str | None = None


Action = Step | Wait

_FAILURES = ("no_agreement", "mediator_found_futile", "party_refused_mediation", "party_withdrew")
_ENDINGS = frozenset({"fail", "reach_agreement", "judge", "decline", "approve"})
_WITHDRAWALS = ("claim_withdrawn", "debt_paid", "settled_outside", "party_request")


def decide(plan: Plan, case: Snapshot, today: date, rng: random.Random) -> Action:
    """The next action on the plan's case."""
    if plan.withdraw_on is not None and today >= plan.withdraw_on:
        return Step(
            "withdraw",
            "coordinator",
            plan.centre.coordinator,
            {"reason": rng.choice(_WITHDRAWALS)},
        )
    handler = _BY_STATE.get(case.state)
    action = handler(plan, case, today, rng) if handler else Wait(3)
    if plan.outcome == "withdrawn" and isinstance(action, Step) and action.event in _ENDINGS:
        return Wait(2)  # this dispute will be withdrawn before it comes to an end
    return action


def _days_in_state(plan: Plan, today: date) -> int:
    return (today - plan.since).days if plan.since else 0


def _referred(plan: Plan, case: Snapshot, today: date, rng: random.Random) -> Action:
    coordinator = plan.centre.coordinator
    if plan.outcome == "closed_no_agreement":
        reason = rng.choice(("not_competent", "duplicate_referral", "party_refused"))
        return Step("decline", "coordinator", coordinator, {"reason": reason})
    if "slow_accept" in plan.flags and not plan.count("slow_accept"):
        return Wait(rng.randint(5, 7), mark="slow_accept")
    return Step("accept", "coordinator", coordinator, wait=rng.randint(0, 1))


def _assign(plan: Plan, role: str, actor: str) -> Step:
    return Step("assign_mediator", role, actor, {"mediator": plan.mediator}, wait=1)


def _consult(plan: Plan, today: date, rng: random.Random) -> Step:
    return Step(
        "record_consultation",
        "mediator",
        plan.mediator,
        {"held_on": today.isoformat()},
        wait=rng.randint(1, 2),
        mark="consultation",
    )


def _session(plan: Plan, today: date, rng: random.Random, wait: int) -> Step:
    return Step(
        "record_session",
        "mediator",
        plan.mediator,
        {"held_on": today.isoformat()},
        wait=wait,
        mark="session",
    )


def _agree(plan: Plan, rng: random.Random) -> Step:
    ref = f"MA-{plan.index + 1:04d}/{plan.count('agreement') + 1}"
    return Step(
        "reach_agreement", "mediator", plan.mediator, {"agreement_ref": ref}, 2, "agreement"
    )


def _fail(plan: Plan, rng: random.Random, reasons: tuple[str, ...] = _FAILURES) -> Step:
    return Step("fail", "mediator", plan.mediator, {"reason": rng.choice(reasons)}, wait=2)


def _pre_trial(plan: Plan, case: Snapshot, today: date, rng: random.Random) -> Action:
    if case.mediator is None:
        return _assign(plan, "coordinator", plan.centre.coordinator)
    if plan.count("consultation") < min(plan.consultations, 2):
        return _consult(plan, today, rng)  # the rest are held once mediation has started
    if "no_consent" in plan.flags and not plan.count("in_court"):
        return Wait(3)  # the other side stays silent; the 10-day term will run out
    procedure = "mediation_public" if "Public" in plan.mediator else "mediation_professional"
    payload = {"contract_signed_on": today.isoformat(), "procedure": procedure}
    return Step("start_mediation", "mediator", plan.mediator, payload, wait=rng.randint(2, 5))


def _suspension(plan: Plan, case: Snapshot, rng: random.Random) -> Action | None:
    if case.suspended:
        return Step("resume", "coordinator", plan.centre.coordinator, wait=rng.randint(1, 3))
    if "suspend" in plan.flags and not plan.count("suspend"):
        reason = rng.choice(("illness", "court_stay", "party_request"))
        return Step(
            "suspend",
            "coordinator",
            plan.centre.coordinator,
            {"reason": reason},
            wait=rng.randint(7, 18),
            mark="suspend",
        )
    return None


def _in_mediation(plan: Plan, case: Snapshot, today: date, rng: random.Random) -> Action:
    paused = _suspension(plan, case, rng)
    if paused is not None:
        return paused
    if "reassign" in plan.flags and not plan.count("reassign"):
        others = [m for m in plan.centre.mediators if m != plan.mediator]
        plan.mediator = rng.choice(others)
        payload = {"mediator": plan.mediator, "reason": "mediator_unavailable"}
        coordinator = plan.centre.coordinator
        return Step("reassign_mediator", "coordinator", coordinator, payload, 2, "reassign")
    if plan.count("consultation") < plan.consultations:
        return _consult(plan, today, rng)
    if plan.count("session") < plan.sessions:
        return _session(plan, today, rng, wait=rng.randint(2, 5))
    if "extend" in plan.flags and not plan.count("extend"):
        if _days_in_state(plan, today) < 24:
            return Wait(24 - _days_in_state(plan, today))
        return Step("extend", "mediator", plan.mediator, wait=rng.randint(5, 12), mark="extend")
    if "expire" in plan.flags:
        return Wait(5)  # nobody acts; the mediation term runs out and the sweep fails it
    if plan.outcome == "settled" and ("via_court" not in plan.flags or plan.count("in_court")):
        return _agree(plan, rng)
    return _fail(plan, rng)


def _court(plan: Plan, case: Snapshot, today: date, rng: random.Random) -> Action:
    court = plan.court
    if plan.outcome == "settled" and plan.count("in_court") < 2:
        procedure = rng.choice(("court_conciliation", "mediation_professional"))
        return Step(
            "refer_to_mediation",
            "court",
            court,
            {"procedure": procedure},
            wait=rng.randint(1, 2),
            mark="in_court",
        )
    if _days_in_state(plan, today) < 5:
        return Wait(rng.randint(5, 15))
    return Step("judge", "court", court, {"ruling_ref": f"2-{plan.index + 1:04d}/25"}, wait=1)


def _court_conciliation(plan: Plan, case: Snapshot, today: date, rng: random.Random) -> Action:
    if case.mediator is None:
        return _assign(plan, "court", plan.court)
    if plan.count("session") < 1 or (plan.count("court_session") < 1 and plan.sessions > 1):
        step = _session(plan, today, rng, wait=rng.randint(1, 3))
        plan.mark("court_session")
        return step
    if "expire" in plan.flags:
        return Wait(4)
    wants_agreement = plan.outcome == "settled" and (
        "via_court" not in plan.flags or plan.count("in_court")
    )
    return _agree(plan, rng) if wants_agreement else _fail(plan, rng)


def _enforcement(plan: Plan, case: Snapshot, today: date, rng: random.Random) -> Action:
    paused = _suspension(plan, case, rng)
    if paused is not None:
        return paused
    if case.mediator is None:
        return _assign(plan, "coordinator", plan.centre.coordinator)
    if plan.count("consultation") < plan.consultations:
        return _consult(plan, today, rng)
    if plan.count("session") < min(plan.sessions, 2):
        return _session(plan, today, rng, wait=rng.randint(3, 5))
    if "expire" in plan.flags:
        return Wait(5)  # the debtor stops answering; the term returns the case to the bailiff
    if plan.outcome == "settled":
        return _agree(plan, rng)
    return _fail(plan, rng, ("no_agreement", "party_not_contactable", "party_withdrew"))


def _agreement(plan: Plan, case: Snapshot, today: date, rng: random.Random) -> Action:
    court = plan.court
    if "reject_once" in plan.flags and not plan.count("reject"):
        reason = rng.choice(("terms_unlawful", "rights_of_others", "incomplete"))
        return Step("reject", "court", court, {"reason": reason}, wait=1, mark="reject")
    if "slow_approval" in plan.flags and not plan.count("slow_approval"):
        return Wait(rng.randint(16, 20), mark="slow_approval")  # past the 10 working days
    if _days_in_state(plan, today) < 2:
        return Wait(rng.randint(2, 6))
    ruling = f"2-{plan.index + 1:04d}/25-A"
    return Step("approve", "court", court, {"ruling_ref": ruling}, wait=1)


_BY_STATE = {
    "referred": _referred,
    "pre_trial": _pre_trial,
    "in_mediation": _in_mediation,
    "court": _court,
    "court_conciliation": _court_conciliation,
    "enforcement_reconciliation": _enforcement,
    "agreement": _agreement,
}
