"""Who sees personal data (names of individuals, IIN, phone, e-mail) in full.

    coordinator, mediator, court, bailiff   in full: they contact and identify the parties
    supervisor, admin                       masked; in full when they ask (`unmasked=true`)
    party                                   his own entry in full, the others masked
    chamber                                 masked, and may not ask otherwise

The history (timeline, exports) follows the same rule, except that a party sees it
masked: his own data there is the same as in the case, and the rest is not his. A legal
entity's name is not personal data and is never masked.
"""

from __future__ import annotations

from dataclasses import replace

from tatulasu.api.problems import Forbidden
from workflow.queries import CaseView, HistoryRecord
from workflow.users import User

IN_FULL = frozenset({"coordinator", "mediator", "court", "bailiff"})
ON_REQUEST = frozenset({"supervisor", "admin"})


def shows_in_full(user: User, unmasked: bool) -> bool:
    """Whether `user` sees personal data in full; asking without the right is refused."""
    if unmasked and user.role not in IN_FULL | ON_REQUEST:
        raise Forbidden(f"the role {user.role!r} may not see unmasked personal data")
    return user.role in IN_FULL or unmasked


def case_for(user: User, case: CaseView, unmasked: bool) -> tuple[CaseView, bool]:
    """The case as `user` may see it, and whether anything was masked."""
    if shows_in_full(user, unmasked):
        return case, False
    if user.role == "party":
        own = tuple(p if p.iin_bin == user.iin_bin else p.masked() for p in case.parties)
        return replace(case, parties=own), True
    return case.masked(), True


def history_for(
    user: User, records: list[HistoryRecord], unmasked: bool
) -> tuple[list[HistoryRecord], bool]:
    if shows_in_full(user, unmasked):
        return records, False
    return [r.masked() for r in records], True
