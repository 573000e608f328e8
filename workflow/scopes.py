"""Which cases a user may see and act on: his scope, as one SQL condition.

The same condition filters a list of cases and checks a single case, so a screen can
never show a case that a direct request would refuse, or the reverse. The event route
checks the case row the engine has just read with `may_act_on`, the same rule written in
Python so that no query is spent on it; a test holds the two equal for every role.

    admin        every case
    supervisor   the cases of his region (read-only)
    chamber      the cases of its region
    court        the cases of its region, and the cases it is the court of
    coordinator  the cases of his centre
    mediator     the cases of his centre, and the cases he mediates
    bailiff      the cases he is the bailiff of (his referrals)
    party        the cases that list his IIN/BIN as a party
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow import names
from workflow.centres import Centres
from workflow.regions import REGIONS
from workflow.schema import cases, parties
from workflow.users import User

# Roles that read but never change a case, whatever the lifecycle file says.
READ_ONLY = frozenset({"supervisor"})


def case_filter(user: User) -> sa.ColumnElement[bool]:
    """The cases `user` may read; `false` for a role or scope that reads none."""
    c = cases.c
    condition: sa.ColumnElement[bool] = sa.false()
    if user.role == "admin":
        condition = sa.true()
    elif user.role in ("supervisor", "chamber") and user.region:
        condition = c.region == user.region
    elif user.role == "court" and user.region:
        condition = sa.or_(c.region == user.region, c.court == user.id)
    elif user.role in ("coordinator", "mediator") and user.region and user.centre:
        condition = sa.and_(c.region == user.region, c.centre == user.centre)
        if user.role == "mediator":
            condition = sa.or_(condition, c.mediator == user.id)
    elif user.role == "bailiff":
        condition = c.bailiff == user.id
    elif user.role == "party" and user.iin_bin:
        listed = sa.select(parties.c.case_id).where(parties.c.iin_bin == user.iin_bin)
        condition = c.id.in_(listed)
    return condition


def may_read(conn: Connection, user: User, case_id: int) -> bool | None:
    """Whether `user` may read the case; None when there is no such case (one query)."""
    allowed = sa.case((case_filter(user), True), else_=False)
    row = conn.execute(sa.select(allowed).where(cases.c.id == case_id)).first()
    return None if row is None else bool(row[0])


def may_act_on(conn: Connection, user: User, case: Any) -> bool:
    """`case_filter` evaluated on a case row already read (a party's check still queries)."""
    role = user.role
    if role == "admin":
        return True
    if role in ("supervisor", "chamber") and user.region:
        return bool(case.region == user.region)
    if role == "court" and user.region:
        return bool(case.region == user.region or case.court == user.id)
    if role in ("coordinator", "mediator") and user.region and user.centre:
        ours = case.region == user.region and case.centre == user.centre
        return bool(ours or (role == "mediator" and case.mediator == user.id))
    if role == "bailiff":
        return bool(case.bailiff == user.id)
    if role == "party" and user.iin_bin:
        listed = sa.select(parties.c.id).where(
            parties.c.case_id == case.id, parties.c.iin_bin == user.iin_bin
        )
        return conn.execute(listed).first() is not None
    return False


@dataclass(frozen=True)
class Refusal:
    """Why a user may not open a case there: the field at fault and the reason.

    `forbidden`: the place is outside his scope (the interface answers 403); else the
    value itself is wrong, such as a centre nobody is registered with (422).
    """

    field: str
    reason: str
    forbidden: bool = True


def may_open(
    user: User, region: str, centre: str, party_ids: list[str], centres: Centres
) -> Refusal | None:
    """None when `user` may open a case there; else why not.

    The one rule for every way a case is opened for a user: `POST /cases`, and each row
    of a bailiff's file (API and `tatulasu import`). A case someone opens must be one he
    can see afterwards: a coordinator opens cases of his own centre, a bailiff or a court
    of its region (a bailiff with a centre, of that centre), a party only a case he is
    party to; and the centre must be a registered one of the region (`workflow.centres`).
    """
    if user.role in READ_ONLY:
        return Refusal("role", f"the role {user.role!r} is read-only")
    if user.role == "coordinator" and region != user.region:
        return Refusal("region", f"a coordinator opens cases of his own region ({user.region})")
    if user.role == "coordinator" and centre != user.centre:
        return Refusal("centre", f"a coordinator opens cases of his own centre ({user.centre})")
    if user.role in ("bailiff", "court") and region != user.region:
        return Refusal("region", f"{region!r} is not the {user.role}'s region ({user.region})")
    if user.role == "bailiff" and user.centre and centre != user.centre:
        return Refusal("centre", f"{centre!r} is not the bailiff's centre ({user.centre})")
    if user.role == "party" and user.iin_bin not in party_ids:
        reason = "a party opens only a case that lists his own IIN/BIN among the parties"
        return Refusal("parties", reason)
    if (hidden := names.fault(centre)) is not None:
        return Refusal("centre", hidden, forbidden=False)
    if region in REGIONS:  # an unknown region is refused by the engine, naming it
        refused = centres.refusal(region, centre)
        if refused is not None:
            return Refusal("centre", refused, forbidden=False)
    return None
