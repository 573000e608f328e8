"""What each simulated dispute is going to do, drawn once from a seeded random generator.

Each dispute's intended outcome is drawn on its own, with odds calibrated on the East
Kazakhstan centre's year (107 of 134 reconciled, 79.9 %), so the share the summary
reports varies with the seed as a real year would. The route is a set of flags the
policy reads (`tatulasu.demo.policy`); deadlines that run out are not scripted as events
but left to the timers, which the sweep fires.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from tatulasu.demo.people import Centre, company, person, pick_centre
from workflow.calendar import BusinessCalendar
from workflow.commands import OpenCase

SETTLED_SHARE = 107 / 134


@dataclass
class Plan:
    """One dispute: who opens it, how it should end, and its progress so far."""

    index: int
    origin: str
    outcome: str
    arrival: date
    centre: Centre
    flags: frozenset[str]
    consultations: int
    sessions: int
    mediator: str
    court: str
    bailiff: str
    withdraw_on: date | None = None
    case_id: int | None = None
    next_on: date | None = None
    state: str = "new"
    since: date | None = None
    done: dict[str, int] = field(default_factory=dict)
    finished: bool = False

    def count(self, what: str) -> int:
        return self.done.get(what, 0)

    def mark(self, what: str) -> None:
        self.done[what] = self.done.get(what, 0) + 1


# Odds of each intended outcome: reconciled as in the seed article; the rest split
# between returns to the bailiff, judgments, withdrawals and declined referrals.
OUTCOME_WEIGHTS = {
    "settled": SETTLED_SHARE,
    "returned_to_bailiff": (1 - SETTLED_SHARE) * 0.42,
    "judgment": (1 - SETTLED_SHARE) * 0.42,
    "withdrawn": (1 - SETTLED_SHARE) * 0.08,
    "closed_no_agreement": (1 - SETTLED_SHARE) * 0.08,
}


def draw_outcomes(n: int, rng: random.Random) -> list[str]:
    """The intended outcome of each of `n` disputes, drawn independently."""
    names = list(OUTCOME_WEIGHTS)
    return rng.choices(names, weights=list(OUTCOME_WEIGHTS.values()), k=n)


def _origin(outcome: str, rng: random.Random) -> str:
    if outcome == "returned_to_bailiff":
        return "bailiff"
    if outcome == "closed_no_agreement":
        return "party"
    if outcome == "judgment":
        return rng.choices(("party", "court"), weights=(6, 4))[0]
    if outcome == "withdrawn":
        return rng.choice(("party", "bailiff"))
    return rng.choices(("party", "court", "bailiff"), weights=(5, 2, 3))[0]


def _flags(origin: str, outcome: str, rng: random.Random) -> set[str]:
    flags: set[str] = set()

    def maybe(name: str, p: float) -> None:
        if rng.random() < p:
            flags.add(name)

    if origin == "party":
        maybe("slow_accept", 0.12)
        maybe("by_centre", 0.4)
    if outcome == "settled":
        if origin == "party":
            maybe("via_court", 0.18)
            maybe("extend", 0.15)
            maybe("reassign", 0.06)
        if origin in ("court", "bailiff"):
            maybe("reject_once", 0.08)
        if origin == "court":
            maybe("via_court", 0.1)
        maybe("slow_approval", 0.1)
    elif outcome == "judgment":
        choices = ("no_consent", "fail", "expire") if origin == "party" else ("fail", "expire")
        flags.add(rng.choice(choices))
    elif outcome == "returned_to_bailiff":
        flags.add(rng.choice(("fail", "expire")))
    if "via_court" in flags:
        flags.add(rng.choice(("no_consent", "fail")) if origin == "party" else "fail")
    return flags


def arrival_days(n: int, first: date, cal: BusinessCalendar, rng: random.Random) -> list[date]:
    """Working days over the first ten months, so that every dispute can end within the year."""
    days = [first + timedelta(days=i) for i in range(0, 295)]
    working = [d for d in days if cal.is_working_day(d)]
    return sorted(rng.choice(working) for _ in range(n))


def make_plans(n: int, first: date, cal: BusinessCalendar, rng: random.Random) -> list[Plan]:
    outcomes = draw_outcomes(n, rng)
    arrivals = arrival_days(n, first, cal, rng)
    plans = []
    for i, (outcome, arrival) in enumerate(zip(outcomes, arrivals, strict=True)):
        origin = _origin(outcome, rng)
        centre = pick_centre(rng)
        plan = Plan(
            index=i,
            origin=origin,
            outcome=outcome,
            arrival=arrival,
            centre=centre,
            flags=frozenset(_flags(origin, outcome, rng)),
            consultations=rng.choices((1, 2, 3, 4), weights=(2, 3, 3, 2))[0],
            sessions=rng.choices((1, 2, 3), weights=(4, 4, 2))[0],
            mediator=rng.choice(centre.mediators),
            court=rng.choice(centre.courts),
            bailiff=rng.choice(centre.bailiffs),
        )
        if outcome == "withdrawn":
            plan.withdraw_on = arrival + timedelta(days=rng.randint(4, 20))
        plans.append(plan)
    _suspend_a_couple(plans, rng)
    return plans


def _suspend_a_couple(plans: list[Plan], rng: random.Random) -> None:
    """A couple of settled mediations pause for illness and resume (at least two a year)."""
    candidates = [p for p in plans if p.outcome == "settled" and p.origin != "court"]
    for plan in rng.sample(candidates, min(len(candidates), max(2, len(plans) // 60))):
        plan.flags = plan.flags | {"suspend"}


_SUBJECTS = {
    "party": (
        "Wage arrears after dismissal",
        "Unpaid overtime",
        "Reinstatement at work",
        "Neighbours' land boundary",
        "Consumer claim: faulty appliance",
        "Flat rent arrears",
        "Alimony amount",
        "Division of family property",
    ),
    "court": (
        "Loan repayment claim",
        "Compensation for flooding of a flat",
        "Supply contract penalty",
        "Labour dispute: disciplinary penalty",
    ),
    "bailiff": (
        "Enforcement of a loan judgment",
        "Enforcement of alimony arrears",
        "Enforcement of utility debt",
        "Enforcement of wage arrears judgment",
    ),
}


def opening(plan: Plan, rng: random.Random) -> OpenCase:
    """The referral that opens the plan's case."""
    subject = rng.choice(_SUBJECTS[plan.origin])
    centre = plan.centre
    if plan.origin == "bailiff":
        creditor = company(rng, "creditor") if rng.random() < 0.6 else person(rng, "creditor")
        return OpenCase(
            event="refer_enforcement",
            actor=plan.bailiff,
            role="bailiff",
            region=centre.region,
            centre=centre.name,
            parties=(person(rng, "debtor"), creditor),
            subject=subject,
            language=creditor.language,
            enforcement_proceeding=f"EP-{plan.arrival:%y%m}-{centre.region}-{plan.index + 1:05d}",
        )
    respondent = company(rng, "respondent") if rng.random() < 0.4 else person(rng, "respondent")
    claimant = person(rng, "claimant")
    if plan.origin == "court":
        return OpenCase(
            event="court_refer",
            actor=plan.court,
            role="court",
            region=centre.region,
            centre=centre.name,
            parties=(claimant, respondent),
            subject=subject,
            language=claimant.language,
            procedure=rng.choice(("court_conciliation", "mediation_professional", "participatory")),
        )
    by_centre = "by_centre" in plan.flags
    return OpenCase(
        event="refer",
        actor=centre.coordinator if by_centre else claimant.name,
        role="coordinator" if by_centre else "party",
        region=centre.region,
        centre=centre.name,
        parties=(claimant, respondent),
        subject=subject,
        language=claimant.language,
    )
