"""Who a case may be given, and which party may fire a party's event: checked on the case.

The lifecycle says which roles fire an event; these rules look at the people. A mediator
is assigned only if he is a registered, active mediator of the case's centre (of its
region, when the court assigns one for a conciliation in court); a bailiff the Chamber
puts on a case only if he is a registered, active bailiff of the case's region (private
bailiffs practise in a region, not in a centre): a typed name, someone of another
region, or markup is refused. A party's event may be limited to what the
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
from workflow.users import User, by_id


def _register(role: str) -> str:
    return f"register him first (`tatulasu users create --role {role} --region … --centre …`)"


def _official(conn: Connection, field: str, user_id: str, role: str, case: Any) -> User:
    """The registered, active `role` of the case's region named `user_id`; else refused."""
    found = by_id(conn, user_id)
    if found is None:
        raise InvalidField(field, f"{user_id!r} is not a registered user: {_register(role)}")
    if not found.active:
        raise InvalidField(field, f"{user_id!r} is deactivated")
    if found.role != role:
        raise InvalidField(field, f"{user_id!r} is a {found.role}, not a {role}")
    if found.region != case.region:
        raise InvalidField(
            field, f"{user_id!r} is a {role} of {found.region}, not of {case.region}"
        )
    return found


def check_mediator(conn: Connection, field: str, mediator: str, case: Any, role: str) -> None:
    """Refuse, naming `field`, a mediator this case may not be given by `role`."""
    found = _official(conn, field, mediator, "mediator", case)
    if role != "court" and found.centre != case.centre:
        raise InvalidField(
            field,
            f"{mediator!r} is a mediator of {found.centre!r}, not of the case's centre"
            f" {case.centre!r}",
        )


def check_bailiff(conn: Connection, field: str, bailiff: str, case: Any) -> None:
    """Refuse, naming `field`, a bailiff who is not a registered one of the case's region."""
    _official(conn, field, bailiff, "bailiff", case)


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
