"""The centres of each region at a glance: who works there, and what waits there.

A centre exists while an active user belongs to it (`workflow.centres`), so the centres
are read from the people; a centre whose people have all been deactivated still shows
while it has open cases, since those cases wait there all the same. Each centre gets its
active coordinators, mediators and bailiffs, its open cases and those whose running
term is past due. Two grouped queries answer for every centre at once (people by region,
centre and role; open cases by region and centre), however many centres a region has.

A centre with open cases and no active coordinator is flagged: nobody accepts its
referrals, and only an admin can register someone who will.

Who reads it follows `scopes.case_filter`: an admin every region, a supervisor his own
(he reads his region's cases, and the people of its centres are who handle them). The
other roles see at most their own centre, which their work list already shows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow import scopes
from workflow.regions import REGIONS
from workflow.schema import cases, users
from workflow.store import utc
from workflow.users import User

READERS = frozenset({"admin", "supervisor"})
COUNTED = ("coordinator", "mediator", "bailiff")


@dataclass(frozen=True)
class Centre:
    """One centre: its active people by role and its open and overdue cases."""

    name: str
    coordinators: int = 0
    mediators: int = 0
    bailiffs: int = 0
    others: int = 0  # active users of other roles registered with the centre
    open_cases: int = 0
    overdue: int = 0

    @property
    def registered(self) -> bool:
        """Whether a case may be opened here: an active user belongs to it."""
        return self.coordinators + self.mediators + self.bailiffs + self.others > 0

    @property
    def unattended(self) -> bool:
        """Open cases and no active coordinator: nobody accepts its referrals."""
        return self.open_cases > 0 and self.coordinators == 0


@dataclass(frozen=True)
class Region:
    code: str
    centres: list[Centre]  # the unattended first, then by name

    @property
    def unattended(self) -> int:
        return sum(c.unattended for c in self.centres)


def regions_for(user: User) -> list[str]:
    """The regions `user` reads the centres of, in the order of `REGIONS`."""
    if user.role == "admin":
        return list(REGIONS)
    if user.role == "supervisor" and user.region:
        return [user.region]
    return []


def overview(conn: Connection, user: User, now: datetime) -> list[Region]:
    """Every region `user` reads, each with its centres; a region may have none."""
    codes = regions_for(user)
    if not codes:
        return []
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for region, centre, role, number in conn.execute(_people(codes)):
        key = role if role in COUNTED else "others"
        counts[(region, centre)][key] = counts[(region, centre)].get(key, 0) + number
    for region, centre, open_cases, overdue in conn.execute(_cases(user, codes, now)):
        counts[(region, centre)].update(open_cases=open_cases, overdue=int(overdue or 0))
    by_region: dict[str, list[Centre]] = {code: [] for code in codes}
    for (region, centre), found in counts.items():
        by_region[region].append(
            Centre(
                centre,
                coordinators=found.get("coordinator", 0),
                mediators=found.get("mediator", 0),
                bailiffs=found.get("bailiff", 0),
                others=found.get("others", 0),
                open_cases=found.get("open_cases", 0),
                overdue=found.get("overdue", 0),
            )
        )
    return [
        Region(code, sorted(found, key=lambda c: (not c.unattended, c.name.casefold(), c.name)))
        for code, found in by_region.items()
    ]


def _people(codes: list[str]) -> sa.Select[str, str, str, int]:
    u = users.c
    return (
        sa.select(u.region, u.centre, u.role, sa.func.count())
        .where(u.active, u.centre.is_not(None), u.region.in_(codes))
        .group_by(u.region, u.centre, u.role)
    )


def _cases(user: User, codes: list[str], now: datetime) -> sa.Select[str, str, int, int | None]:
    c = cases.c
    overdue = sa.func.sum(sa.case((c.term_due_at <= utc(now), 1), else_=0))
    return (
        sa.select(c.region, c.centre, sa.func.count(), overdue)
        .where(c.closed_at.is_(None), c.region.in_(codes), scopes.case_filter(user))
        .group_by(c.region, c.centre)
    )
