"""The case list's faster reads give the answers the plain queries give, on both databases.

`search.search` reads an id-sorted page with its scope said to be likely (SQLite then
walks the table in id order instead of sorting a region), and counts a part of a centre's
name per centre. Each is held here to the plain SELECT it replaced: the same rows in the
same order, the same total, for every order, with and without the filters.
"""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from tests.conftest import Desk
from workflow import search
from workflow.schema import cases
from workflow.search import ORDERS, Filters

CENTRES = ("Oskemen Tatulasu centre", "Ridder ТАТУЛАСУ centre", "Semey mediation office")
SCOPES = {
    "everything": sa.true(),
    "a region": cases.c.region == "VKO",
    "a centre": sa.and_(cases.c.region == "VKO", cases.c.centre == CENTRES[1]),
    "nothing": sa.false(),
}
FILTERS = {
    "none": Filters(),
    "part of a name": Filters(centre_part="татуласу"),
    "a wildcard typed": Filters(centre_part="%"),
    "part and state": Filters(centre_part="centre", state="pre_trial"),
    "open only": Filters(open_only=True),
}


@pytest.fixture
def filled(desk: Desk) -> Desk:
    """Nine cases over two regions and three centres, some accepted, one withdrawn."""
    for k in range(9):
        region = "VKO" if k % 3 else "KAR"
        case_id = desk.refer(region=region, centre=CENTRES[k % 3]).case_id
        desk.advance(hours=1)
        if k % 2:
            desk.fire(case_id, "accept", "coordinator")
        if k == 4:
            desk.fire(case_id, "withdraw", "coordinator", reason="claim_withdrawn")
    return desk


def _plain(conn: sa.Connection, scope: sa.ColumnElement[bool], filters: Filters,
           order: str, limit: int, offset: int) -> tuple[int, list[int]]:  # fmt: skip
    """The total and the page's ids as one plain SELECT each would give them."""
    where = [scope, *search.conditions(filters)]
    total = conn.execute(sa.select(sa.func.count()).select_from(cases).where(*where))
    ids = conn.execute(
        sa.select(cases.c.id).where(*where)
        .order_by(*search._order_by(cases.c, order)).limit(limit).offset(offset)
    ).scalars()  # fmt: skip
    return int(total.scalar_one()), list(ids)


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("filters", FILTERS)
def test_every_order_gives_the_plain_querys_rows_and_total(
    filled: Desk, scope: str, filters: str
) -> None:
    with filled.store.reading() as conn:
        for order, (limit, offset) in itertools.product(ORDERS, ((50, 0), (2, 0), (2, 3))):
            page = search.search(conn, SCOPES[scope], FILTERS[filters], limit, offset, order)
            found = (page.total, [item.id for item in page.items])
            assert found == _plain(conn, SCOPES[scope], FILTERS[filters], order, limit, offset)


def test_a_part_of_a_centres_name_is_counted_in_any_letter_case(filled: Desk) -> None:
    with filled.store.reading() as conn:
        assert search.count(conn, sa.true(), Filters(centre_part="татуласу")) == 3
        assert search.count(conn, sa.true(), Filters(centre_part="TATULASU")) == 3
        assert search.count(conn, sa.true(), Filters(centre_part=" centre")) == 6
        assert search.count(conn, SCOPES["a region"], Filters(centre_part="mediation")) == 3
        assert search.count(conn, SCOPES["a region"], Filters(centre_part="oskemen")) == 0
        assert search.count(conn, sa.true(), Filters(centre_part="_")) == 0
