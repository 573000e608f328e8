"""The centres overview: people and cases counted per centre by grouped queries, the
centres nobody accepts referrals for flagged, and each reader's regions as his scope says."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from tests.conftest import Desk
from workflow import centre_overview, users
from workflow.centre_overview import Centre, Region
from workflow.regions import REGIONS
from workflow.users import User

OSKEMEN = "Oskemen Tatulasu centre"
SEMEY = "Semey akimat mediation office"
ZAISAN = "Zaisan mediation room"
KARAGANDA = "Karaganda mediation office"
ADMIN = User("root", "Root", "admin")
SUPERVISOR = User("sup-vko", "Supervisor", "supervisor", region="VKO")


def staff(desk: Desk) -> None:
    """Oskemen fully staffed, Semey with a mediator only, Zaisan with a bailiff only,
    Karaganda with a coordinator; a deactivated coordinator of Semey counts for nothing."""
    for user_id, role, region, centre in (
        ("coord-osk", "coordinator", "VKO", OSKEMEN),
        ("med-osk-1", "mediator", "VKO", OSKEMEN),
        ("med-osk-2", "mediator", "VKO", OSKEMEN),
        ("bailiff-osk", "bailiff", "VKO", OSKEMEN),
        ("med-semey", "mediator", "VKO", SEMEY),
        ("coord-semey-old", "coordinator", "VKO", SEMEY),
        ("bailiff-zaisan", "bailiff", "VKO", ZAISAN),
        ("coord-kar", "coordinator", "KAR", KARAGANDA),
        ("bailiff-vko", "bailiff", "VKO", None),  # no centre: makes none
    ):
        desk.register(user_id, role, region, centre)
    with desk.store.transaction() as conn:
        users.deactivate(conn, "coord-semey-old")


def open_cases(desk: Desk) -> None:
    """Oskemen: 2 open (1 overdue) and 1 closed; Semey: 1 open, accepted late (its new term
    runs, so it is not overdue); Karaganda: 1."""
    late = desk.refer(centre=OSKEMEN).case_id
    semey = desk.refer(centre=SEMEY).case_id
    desk.court_refer(centre=KARAGANDA)
    closed = desk.refer(centre=OSKEMEN).case_id
    desk.fire(closed, "withdraw", "coordinator", reason="claim_withdrawn")
    desk.advance(days=10)  # the referrals' 3 working days to be accepted have run out
    desk.fire(semey, "accept", "coordinator")
    desk.refer(centre=OSKEMEN)
    assert desk.case(late).term_due_at is not None


def read(desk: Desk, user: User, days: float = 0) -> dict[str, Region]:
    now = desk.clock.now() if not days else desk.advance(days=days)
    with desk.store.reading() as conn:
        return {r.code: r for r in centre_overview.overview(conn, user, now)}


def centres_of(region: Region) -> dict[str, Centre]:
    return {c.name: c for c in region.centres}


def test_each_centre_counts_its_active_people_by_role_and_its_open_and_overdue_cases(
    desk: Desk,
) -> None:
    staff(desk)
    open_cases(desk)
    vko = centres_of(read(desk, ADMIN)["VKO"])
    assert vko[OSKEMEN] == Centre(
        OSKEMEN, coordinators=1, mediators=2, bailiffs=1, open_cases=2, overdue=1
    )
    assert vko[ZAISAN] == Centre(ZAISAN, bailiffs=1)
    assert vko[SEMEY] == Centre(SEMEY, mediators=1, open_cases=1)  # its term now running
    assert set(vko) == {OSKEMEN, SEMEY, ZAISAN}  # a bailiff without a centre makes none


def test_a_centre_with_open_cases_and_no_active_coordinator_is_flagged_and_shown_first(
    desk: Desk,
) -> None:
    staff(desk)
    open_cases(desk)
    regions = read(desk, ADMIN)
    assert [c.name for c in regions["VKO"].centres] == [SEMEY, OSKEMEN, ZAISAN]
    assert [c.unattended for c in regions["VKO"].centres] == [True, False, False]
    assert regions["VKO"].unattended == 1 and regions["KAR"].unattended == 0


def test_a_centre_whose_people_all_left_still_shows_while_cases_wait_there(desk: Desk) -> None:
    staff(desk)
    open_cases(desk)
    with desk.store.transaction() as conn:
        users.deactivate(conn, "coord-kar")
    karaganda = read(desk, ADMIN)["KAR"].centres
    assert karaganda == [Centre(KARAGANDA, open_cases=1)]
    assert karaganda[0].unattended and not karaganda[0].registered


def test_an_admin_reads_every_region_in_order_and_a_region_may_have_no_centre(
    desk: Desk,
) -> None:
    staff(desk)
    regions = read(desk, ADMIN)
    assert list(regions) == list(REGIONS)
    assert regions["AST"].centres == [] and len(regions["VKO"].centres) == 3


def test_a_supervisor_reads_his_own_region_and_the_other_roles_none(desk: Desk) -> None:
    staff(desk)
    open_cases(desk)
    assert list(read(desk, SUPERVISOR)) == ["VKO"]
    assert read(desk, User("sup-none", "S", "supervisor")) == {}
    for role in ("coordinator", "mediator", "court", "chamber", "bailiff", "party"):
        assert read(desk, User("u", "U", role, region="VKO", centre=OSKEMEN)) == {}, role


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def test_two_grouped_queries_answer_for_every_centre_however_many(desk: Desk) -> None:
    with desk.store.transaction() as conn:
        for n in range(60):
            person = User(f"coord-{n}", "C", "coordinator", region="VKO", centre=f"Centre {n}")
            users.create(conn, person, desk.clock.now())
    for n in range(0, 60, 6):
        desk.refer(centre=f"Centre {n}")
    with statements(desk.store.engine) as seen:
        regions = read(desk, ADMIN)
    assert len(regions["VKO"].centres) == 60
    assert sum(c.open_cases for c in regions["VKO"].centres) == 10
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 2
