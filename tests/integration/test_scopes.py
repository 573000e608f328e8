"""The two writings of a user's scope agree: the SQL filter and the check on a read row.

`case_filter` narrows every listing; `may_act_on` guards the event route on the row the
engine has just read. For every role, with scopes that match, miss or are missing, and
for cases that name the user as their mediator, bailiff or court or list him as a party,
both must give the same answer.
"""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from tests.conftest import BIN_A, IIN, Desk, make_iin
from workflow import scopes
from workflow.commands import PartyInput
from workflow.schema import cases
from workflow.users import User

REGIONS = ("VKO", "KAR", None)
CENTRES = ("Oskemen Tatulasu centre", "Karaganda mediation office", None)
ROLES = ("admin", "supervisor", "chamber", "court", "coordinator", "mediator", "bailiff",
         "party", "stranger")  # fmt: skip


def open_cases(desk: Desk) -> None:
    desk.refer()
    mediated = desk.refer(region="KAR", centre="Karaganda mediation office").case_id
    mediator = desk.register("user-1", region="KAR", centre="Karaganda mediation office")
    desk.fire(mediated, "assign_mediator", "coordinator", mediator=mediator)
    desk.court_refer(actor="user-1", court="user-1")
    desk.court_refer(region="VKO", court="judge-9")
    desk.refer_enforcement("EP-1", actor="user-1")
    desk.refer_enforcement(
        "EP-2",
        actor="bailiff-2",
        parties=(
            PartyInput("debtor", "Dana M.", make_iin(5)),
            PartyInput("creditor", "Altai LLP", BIN_A),
        ),
    )


def users() -> list[User]:
    found = []
    for role, region, centre, iin in itertools.product(
        ROLES, REGIONS, CENTRES, (IIN, make_iin(5), None)
    ):
        found.append(User("user-1", "U", role, region, centre, iin_bin=iin))
    return found


def test_the_row_check_agrees_with_the_sql_filter_for_every_role(desk: Desk) -> None:
    open_cases(desk)
    with desk.store.reading() as conn:
        rows = conn.execute(sa.select(cases).order_by(cases.c.id)).all()
        checked, allowed = 0, set()
        for user in users():
            listed = set(
                conn.execute(sa.select(cases.c.id).where(scopes.case_filter(user))).scalars()
            )
            for row in rows:
                assert scopes.may_act_on(conn, user, row) == (row.id in listed), (user, row.id)
                checked += 1
                if row.id in listed:
                    allowed.add(user.role)
            assert scopes.may_read(conn, user, rows[0].id) == (rows[0].id in listed)
        assert scopes.may_read(conn, users()[0], 10**9) is None
    assert checked == len(users()) * len(rows) > 1000
    # Every role but the unknown one reads some case and is refused others.
    assert allowed == set(ROLES) - {"stranger"}
