"""Who sees personal data (names, IIN/BIN, phone, e-mail) in full, and who asked to.

    coordinator, mediator, court, bailiff   in full: they contact and identify the parties
    supervisor, admin                       masked; in full when they ask (`unmasked=true`)
                                            and say why (`reason`)
    party                                   his own entry in full, the others masked
    chamber                                 masked, and may not ask otherwise

The history (timeline, exports) follows the same rule, except that a party sees it
masked: his own data there is the same as in the case, and the rest is not his. Masked
means every party alike, companies included (legal form kept), and free text (the
subject, a reason's text) scrubbed of IINs, phones, e-mails and the parties' names:
`workflow.privacy`. Every read with `unmasked=true` needs a reason and is appended to
the access log (`workflow.access_log`) before anything is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tatulasu.errors import Forbidden
from tatulasu.wiring import App
from workflow import access_log
from workflow.queries import CaseView, HistoryRecord
from workflow.search import Found
from workflow.users import User

IN_FULL = frozenset({"coordinator", "mediator", "court", "bailiff"})
ON_REQUEST = frozenset({"supervisor", "admin"})
REASON_HELP = "Why the personal data is needed in full (required with unmasked=true; logged)."


def ask(user: User, unmasked: bool, reason: str | None) -> str | None:
    """The reason of an unmasked read, or None for an ordinary one.

    A role without the right is refused (403), an unmasked read without a reason too (422).
    """
    if not unmasked:
        return None
    if user.role not in IN_FULL | ON_REQUEST:
        raise Forbidden(f"the role {user.role!r} may not see unmasked personal data")
    return access_log.require_reason(reason)


def record(
    app: App, user: User, reason: str, channel: str, action: str, scope: str,
    case_id: int | None = None, region: str | None = None,
) -> None:  # fmt: skip
    """Append the unmasked read to the access log, in a transaction of its own."""
    entry = access_log.Access(
        actor=user.id, role=user.role, channel=channel, action=action, scope=scope,
        reason=reason, case_id=case_id, region=region,
    )  # fmt: skip
    with app.store.transaction() as conn:
        access_log.record(conn, entry, app.engine.clock.now())


def export_region(user: User) -> str | None:
    """The region an export of `user` covers: his own, or every one (None) for an admin."""
    if user.role == "admin":
        return None
    if not user.region:
        raise Forbidden(f"{user.role} {user.id!r} has no region to export")
    return user.region


def shows_in_full(user: User, unmasked: bool) -> bool:
    """Whether `user` sees personal data in full; asking without the right is refused."""
    if unmasked and user.role not in IN_FULL | ON_REQUEST:
        raise Forbidden(f"the role {user.role!r} may not see unmasked personal data")
    return user.role in IN_FULL or unmasked


def others(user: User, parties: Iterable[tuple[str, str]]) -> list[str]:
    """The names to scrub from free text for `user`: all but a party's own."""
    return [name for iin_bin, name in parties if iin_bin != user.iin_bin]


def case_for(user: User, case: CaseView, unmasked: bool) -> tuple[CaseView, bool]:
    """The case as `user` may see it, and whether anything was masked."""
    if shows_in_full(user, unmasked):
        return case, False
    return case.masked(keep=user.iin_bin if user.role == "party" else None), True


def history_for(
    user: User, records: list[HistoryRecord], unmasked: bool, names: Sequence[str] = ()
) -> tuple[list[HistoryRecord], bool]:
    """The records as `user` may see them; `names` are the case's parties to scrub."""
    if shows_in_full(user, unmasked):
        return records, False
    return [r.masked(names) for r in records], True


def lines_for(
    user: User, items: list[Found], parties: dict[int, list[tuple[str, str]]]
) -> list[Found]:
    """A list of cases as `user` may see it: subjects scrubbed unless he sees all in full."""
    if user.role in IN_FULL:
        return items
    return [f.masked(others(user, parties.get(f.id, ()))) for f in items]
