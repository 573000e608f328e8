"""The reconciliation centres that exist: those an active registered user belongs to.

There is no list of centres to keep apart from the people who work in them: a centre of
a region exists when at least one active user of that region (a coordinator, a mediator,
a bailiff) is registered with it. A case is opened only in a centre that exists, so no
case sits in a centre nobody belongs to, whatever name a court or a party types.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.schema import users

_SHOWN = 10  # centres named in a refusal; a region may have hundreds


class Centres:
    """The registered centres of each region, read once per region (a file has many rows)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._of: dict[str, list[str]] = {}

    def of(self, region: str) -> list[str]:
        """The centres of `region`, sorted."""
        found = self._of.get(region)
        if found is None:
            query = (
                sa.select(users.c.centre)
                .where(users.c.region == region, users.c.centre.is_not(None), users.c.active)
                .distinct()
                .order_by(users.c.centre)
            )
            found = self._of.setdefault(region, [str(c) for c in self._conn.scalars(query)])
        return found

    def refusal(self, region: str, centre: str) -> str | None:
        """Why `centre` is not a centre of `region` (None: it is one)."""
        known = self.of(region)
        if centre.strip() in known:
            return None
        if not known:
            return f"{centre!r} is not a registered centre: region {region} has none yet"
        listed = ", ".join(known[:_SHOWN]) + (
            f" and {len(known) - _SHOWN} more" if len(known) > _SHOWN else ""
        )
        return f"{centre!r} is not a registered centre of {region}; its centres: {listed}"
