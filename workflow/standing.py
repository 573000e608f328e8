"""Who a case may be given, and which party may fire a party's event: checked on the case.

The lifecycle says which roles fire an event; these rules look at the people. A mediator
is assigned only if he is a registered, active mediator of the case's centre (of its
region, when the court assigns one for a conciliation in court): a typed name, someone
of another region, or markup is refused. A party's event may be limited to what the
party is on the case (`parties` of the event: the claimant withdraws, the respondent
refuses); a party is the registered user whose IIN/BIN is on the case's parties rows.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from states import EventSpec
from workflow.errors import InvalidField, PartyRoleNotAllowed
from workflow.schema import parties, users
from workflow.users import by_id

REGISTER = "register him first (`tatulasu users create --role mediator --region … --centre …`)"


def check_mediator(conn: Connection, field: str, mediator: str, case: Any, role: str) -> None:
    """Refuse, naming `field`, a mediator this case may not be given by `role`."""
    found = by_id(conn, mediator)
    if found is None:
        raise InvalidField(field, f"{mediator!r} is not a registered user: {REGISTER}")
    if not found.active:
        raise InvalidField(field, f"{mediator!r} is deactivated")
    if found.role != "mediator":
        raise InvalidField(field, f"{mediator!r} is a {found.role}, not a mediator")
    if found.region != case.region:
        raise InvalidField(
            field, f"{mediator!r} is a mediator of {found.region}, not of {case.region}"
        )
    if role != "court" and found.centre != case.centre:
        raise InvalidField(
            field,
            f"{mediator!r} is a mediator of {found.centre!r}, not of the case's centre"
            f" {case.centre!r}",
        )


def _party_roles_query() -> sa.Select[tuple[str]]:
    joined = parties.join(users, users.c.iin_bin == parties.c.iin_bin)
    return (
        sa.select(parties.c.role)
        .select_from(joined)
        .where(
            parties.c.case_id == sa.bindparam("case_id"),
            users.c.id == sa.bindparam("actor"),
            users.c.active,
        )
    )


_PARTY_ROLES = _party_roles_query()


def check_party(conn: Connection, event: EventSpec, actor: str, case_id: int) -> None:
    """Refuse a party's event when he is not what the event needs him to be on the case."""
    if not event.parties:
        return
    his = {str(r) for r in conn.scalars(_PARTY_ROLES, {"case_id": case_id, "actor": actor})}
    if not his & event.parties:
        raise PartyRoleNotAllowed(event.name, actor, his, event.parties)
